from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AiConfig(AppConfig):
    name = "helpdesk.ai"
    label = "ai"
    verbose_name = _("AI bot")

    def ready(self):
        # Celery workers learn the app's job names here: autodiscovery imports an app's
        # tasks.py only, and these live beside the code they run.
        from helpdesk.ai import assist_tasks  # noqa: F401
        from helpdesk.ai.knowledge import tasks, tasks_embed  # noqa: F401
        from helpdesk.conversations.announcements import listen_to_changes
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
        # The agent who receives a conversation (handed off by the bot, or transferred) gets a
        # summary of it.
        listen_to_changes("assist summary", _summarize_for_receiver)


async def _answer(message) -> str:
    # Imported when a job runs, not at start: web processes never load the model clients.
    from helpdesk.ai.pipeline import bot_reply

    outcome = await bot_reply(message)
    return f"{outcome.status}: {outcome.detail}".strip(": ")


def _summarize_for_receiver(change) -> None:
    from helpdesk.ai.assist.summary import summary_on_change

    summary_on_change(change)
