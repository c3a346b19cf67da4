from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "helpdesk.ai"
    label = "ai"
    verbose_name = "AI bot"

    def ready(self):
        from helpdesk.conversations.followers import follow_customer_messages
        from helpdesk.conversations.models import Conversation

        # The bot answers while a conversation is with it (and hands off when it cannot).
        follow_customer_messages("bot", f"conversation.status = '{Conversation.Status.BOT}'")
