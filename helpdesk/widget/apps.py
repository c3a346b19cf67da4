from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "helpdesk.widget"
    label = "widget"
