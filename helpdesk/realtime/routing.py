from channels.auth import AuthMiddlewareStack
from django.urls import path

from helpdesk.realtime.consumers import AgentConsumer, CustomerConsumer

websocket_urlpatterns = [
    # Customers authenticate with their first frame; the session and user lookups that
    # AuthMiddlewareStack makes for every connection are for the console only.
    path("ws/widget/", CustomerConsumer.as_asgi()),
    path("ws/console/", AuthMiddlewareStack(AgentConsumer.as_asgi())),
]
