from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "helpdesk.conversations"
    label = "conversations"
    verbose_name = _("Conversations")

    def ready(self):
        # Deleting an attachment's row deletes its files (a post_delete receiver).
        from helpdesk.conversations import attachments  # noqa: F401
