import json

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from helpdesk.realtime.routing import websocket_urlpatterns
from helpdesk.widget.services import visitor_token_issue
from tests.support.sessions import session_cookie

ORIGIN = "https://shop.example.com"


application = URLRouter(websocket_urlpatterns)


class Client:
    """A WebSocket client speaking the protocol, with exact expectations."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.ws = communicator

    async def send(self, frame) -> None:
        await self.ws.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 3) -> dict:
        return json.loads(await self.ws.receive_from(timeout=timeout))

    async def recv_type(self, frame_type: str, timeout: float = 3) -> dict:
        """The next frame of ``frame_type``, skipping ephemeral ones (presence, typing)."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == frame_type:
                return frame
            assert frame["type"] in {"presence", "typing", "conversation.updated", "read"}, frame

    async def nothing(self, timeout: float = 0.2) -> bool:
        return await self.ws.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.ws.disconnect()


@pytest.fixture
def issue_token(inbox):
    def issue(for_inbox=None, previous=None):
        target = for_inbox or inbox
        return visitor_token_issue(
            inbox_key=target.public_key,
            origin=ORIGIN,
            previous_token=previous,
            client_ip="198.51.100.7",
        )

    return issue


@pytest.fixture
async def connect_customer():
    clients = []

    async def connect(inbox=None, token=None, origin=ORIGIN, hello=True):
        headers = [(b"origin", origin.encode())] if origin else []
        communicator = WebsocketCommunicator(application, "/ws/widget/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        client = Client(communicator)
        clients.append(client)
        if hello:
            await client.send(
                {"type": "hello", "data": {"inbox": inbox.public_key, "token": token}}
            )
        return client

    yield connect
    for client in clients:
        await client.ws.disconnect()


@pytest.fixture
async def connect_agent():
    clients = []

    async def connect(user, origin="http://testserver", host="testserver"):
        headers = [(b"host", host.encode())]
        if origin:
            headers.append((b"origin", origin.encode()))
        if user is not None:
            cookie = await database_sync_to_async(session_cookie)(user)
            headers.append((b"cookie", cookie.encode()))
        communicator = WebsocketCommunicator(application, "/ws/console/", headers=headers)
        connected, code = await communicator.connect()
        client = Client(communicator)
        client.connected, client.close_code = connected, code
        clients.append(client)
        return client

    yield connect
    for client in clients:
        await client.ws.disconnect()
