"""The ASGI entry point: HTTP through Django, WebSockets through Channels."""

import asyncio
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

import socketio  # noqa: E402
from channels.routing import URLRouter  # noqa: E402

from helpdesk.ai.reply_leases import start_orphan_sweeper  # noqa: E402
from helpdesk.conversations.retention import start_retention_sweeper  # noqa: E402
from helpdesk.core.aio import mark_long_lived  # noqa: E402
from helpdesk.core.server import tune_garbage_collector  # noqa: E402
from helpdesk.core.startup import verify_services  # noqa: E402
from helpdesk.realtime.routing import websocket_urlpatterns  # noqa: E402
from helpdesk.realtime.socketio import sio  # noqa: E402

verify_services()
# Every web process: customers must not wait on a reply whose worker died, even while no
# worker is up to take its job over.
start_orphan_sweeper()
start_retention_sweeper()

# Origins are checked per inbox (customers) and against ALLOWED_HOSTS (agents) by the
# consumers themselves, so no blanket origin validator sits in front of them.
websockets = URLRouter(websocket_urlpatterns)
# /socket.io/ (HTTP polling and WebSocket) goes to python-socketio.
socket_io_app = socketio.ASGIApp(sio, socketio_path="socket.io")

tune_garbage_collector()


async def application(scope, receive, send):
    # The server's loop lives as long as the process: events published from its database
    # threads may be sent after those calls return (helpdesk.realtime.events.publish).
    mark_long_lived(asyncio.get_running_loop())
    # Routed here rather than through nested routers: every level stays on the stack of each
    # open socket for as long as it is connected.
    if scope["type"] == "websocket" and not scope["path"].startswith("/socket.io/"):
        await websockets(scope, receive, send)
    elif scope["type"] in ("http", "websocket") and scope["path"].startswith("/socket.io/"):
        await socket_io_app(scope, receive, send)
    else:
        await django_asgi_app(scope, receive, send)
