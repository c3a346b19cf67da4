from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "helpdesk.widget"
    label = "widget"

    def ready(self):
        from helpdesk.conversations.prechat import prechat_form_provide
        from helpdesk.widget.prechat import prechat_questions_load

        # The domain checks pre-chat answers against the questions this app keeps.
        prechat_form_provide(prechat_questions_load)
