from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "helpdesk.conversations"
    label = "conversations"
