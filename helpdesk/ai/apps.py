from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "helpdesk.ai"
    label = "ai"
    verbose_name = "AI bot"

    def ready(self):
        from helpdesk.conversations.followers import Stage, follow_customer_messages
        from helpdesk.conversations.models import Conversation

        # The bot answers while a conversation is with it (and hands off when it cannot), once
        # the plugins have enriched the message.
        follow_customer_messages(
            "bot",
            condition=f"conversation.status = '{Conversation.Status.BOT}'",
            handler=_answer,
            stage=Stage.ANSWER,
        )


async def _answer(message) -> str:
    # Imported when a job runs, not at start: web processes never load the model clients.
    from helpdesk.ai.pipeline import bot_reply

    outcome = await bot_reply(message)
    return f"{outcome.status}: {outcome.detail}".strip(": ")
