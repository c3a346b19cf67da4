from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "helpdesk.realtime"
    label = "realtime"

    def ready(self) -> None:
        from helpdesk.core.outage import count_as_outage
        from helpdesk.realtime.layers import LayerUnavailable

        count_as_outage(LayerUnavailable)
