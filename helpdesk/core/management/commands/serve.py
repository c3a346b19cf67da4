"""``manage.py serve``: one web process on uvicorn, set up for many WebSockets.

daphne is the server the project is built around (``manage.py demo`` and the tests use it);
this is the faster option for production, measured side by side in docs/performance.md: the
same ASGI application on uvicorn with uvloop, httptools and the sans-I/O WebSocket protocol
of the ``websockets`` library. Run one process per core, each on its own port or behind one
load balancer, like daphne processes.

Per-message deflate is declined: browsers ask for it, but its zlib state costs about 64 KB per
socket, more than everything else a socket holds, for frames of a few hundred bytes.
"""

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve HTTP and WebSockets with uvicorn (one process; run one per core)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--proxy-headers",
            action="store_true",
            help="trust X-Forwarded-For and X-Forwarded-Proto from --forwarded-allow-ips",
        )
        parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")

    def handle(self, *args, **options):
        import uvicorn

        uvicorn.run(
            "helpdesk.asgi:application",
            host=options["host"],
            port=options["port"],
            loop="uvloop",
            http="httptools",
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            ws_max_size=settings.WS_MAX_FRAME_BYTES,
            ws_ping_interval=settings.WS_PING_SECONDS,
            ws_ping_timeout=settings.WS_PING_SECONDS,
            lifespan="off",
            proxy_headers=options["proxy_headers"],
            forwarded_allow_ips=options["forwarded_allow_ips"],
            access_log=False,
            log_level="warning",
            server_header=False,
        )
