from django.urls import path

from helpdesk.realtime.consumers import AgentConsumer, CustomerConsumer

websocket_urlpatterns = [
    path("ws/widget/", CustomerConsumer.as_asgi()),
    path("ws/console/", AgentConsumer.as_asgi()),
]
