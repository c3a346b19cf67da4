"""Arbitrary JSON thrown at every transport's frame parser (property-based, with hypothesis).

Whatever a client sends, the answer is either a normal frame or an error frame with one of the
stable codes of helpdesk/core/errors.py, never a 1011 close, a 500 or a server error, and the
connection answers a ping afterwards. Frames are built to look like the protocol's (its types
and field names with values of any JSON type, NUL and lone surrogates included), since random
JSON alone rarely gets past the first check.
"""

import json

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.conversations.models import Message
from helpdesk.core.errors import ServerError, ServiceError, error_codes
from helpdesk.realtime import schemas
from tests.realtime.clients import SocketIOCustomer
from tests.realtime.test_longpoll import auth_headers

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async

STABLE_CODES = error_codes() - {ServerError.code}
FRAME_TYPES = sorted({*schemas.CUSTOMER_FRAMES, *schemas.AGENT_FRAMES, "hello", "shout"})
FIELDS = ["text", "client_id", "typing", "to", "note", "kind", "availability", "inbox", "token"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["\x00", "a\x00b", "", "c-1", "online"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
frame_like = st.fixed_dictionaries(
    {"type": st.sampled_from(FRAME_TYPES) | json_values},
    optional={
        "conversation": st.integers(min_value=-3, max_value=3) | json_values,
        "seq": st.integers(min_value=-3, max_value=2**64) | json_values,
        "data": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4) | json_values,
    },
)
# JSON text as a client could send it, including what no JSON encoder of ours would produce.
raw_frames = (
    st.one_of(json_values, frame_like).map(json.dumps)
    | st.text(min_size=1, max_size=30)
    | st.sampled_from(
        [
            '{"type": "message.send", "data": {"text": "\\ud800", "client_id": "c"}}',
            '{"type": "typing", "conversation": 1, "data": {"typing": "\\udfff"}}',
            '{"type": "ping", "data": {"\\u0000": 1}}',
            '{"type": {"x": 1}}',
            '{"type": [1]}',
        ]
    )
)
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_stable(frame: dict) -> None:
    assert isinstance(frame, dict), frame
    assert isinstance(frame.get("type"), str), frame
    if frame["type"] == "error":
        assert frame["data"]["code"] in STABLE_CODES, frame


@PROPERTY
@given(frame=st.one_of(json_values, frame_like))
def test_every_frame_validates_or_is_refused_with_a_stable_code(frame):
    if not isinstance(frame, dict):
        return  # parse_frame refuses non-objects before any schema (invalid_json)
    for frame_schemas in (schemas.CUSTOMER_FRAMES, schemas.AGENT_FRAMES, schemas.HELLO_FRAMES):
        assert validation_outcome(frame, frame_schemas) in {*frame_schemas, *STABLE_CODES}


def validation_outcome(frame: dict, frame_schemas: dict) -> str:
    """The frame's type when it passes, else the code it is refused with."""
    try:
        return schemas.validate(frame, frame_schemas).type
    except ServiceError as error:
        return error.code


@pytest.mark.parametrize(
    ("frame", "code", "field"),
    [
        ({"type": {"x": 1}}, "unknown_type", None),
        ({"type": [1]}, "unknown_type", None),
        ({"type": "read", "conversation": True, "seq": 1}, "invalid", "conversation"),
        ({"type": "read", "conversation": "5", "seq": 1}, "invalid", "conversation"),
        ({"type": "read", "conversation": 2**63, "seq": 1}, "invalid", "conversation"),
        ({"type": "read", "conversation": 5, "seq": 1.0}, "invalid", "seq"),
        ({"type": "typing", "conversation": 5, "data": {"typing": 1}}, "invalid", "data.typing"),
        ({"type": "message.send", "data": {"text": "a\x00"}}, "invalid_characters", "data.text"),
        (
            {"type": "message.send", "data": {"text": "a", "client_id": "\ud800"}},
            "invalid_characters",
            "data.client_id",
        ),
        ({"type": "message.send", "data": []}, "invalid", "data"),
    ],
)
def test_refusals_name_the_field(frame, code, field):
    with pytest.raises(ServiceError) as refused:
        schemas.validate(frame, schemas.CUSTOMER_FRAMES)
    assert refused.value.code == code
    assert refused.value.details.get("field") == field


@pytest.fixture
async def customer_socket(inbox, issue_token, connect_customer):
    client = await connect_customer(inbox, (await db(issue_token)()).token)
    await client.recv_type("welcome")
    return client


@pytest.fixture
async def agent_socket(agent, connect_agent):
    client = await connect_agent(agent)
    await client.recv_type("welcome")
    return client


@pytest.fixture
async def visitor_token(issue_token):
    return (await db(issue_token)()).token


@pytest.fixture
async def socketio_customer(live_server_url, inbox, issue_token):
    customer = SocketIOCustomer()
    await customer.connect(live_server_url, inbox, (await db(issue_token)()).token)
    await customer.next("welcome")
    yield customer
    await customer.client.disconnect()


async def answers_then_pongs(client, raw: str) -> None:
    await client.send(raw)
    await client.send({"type": "ping"})
    while (frame := await client.recv()) and frame["type"] != "pong":
        assert_stable(frame)


@PROPERTY
@given(raw=raw_frames)
async def test_customer_websocket_survives_any_frame(customer_socket, raw):
    await answers_then_pongs(customer_socket, raw)


@PROPERTY
@given(raw=raw_frames)
async def test_agent_websocket_survives_any_frame(agent_socket, raw):
    await answers_then_pongs(agent_socket, raw)


@PROPERTY
@given(raw=raw_frames)
async def test_hello_frames_never_crash_the_socket(inbox, connect_customer, raw):
    client = await connect_customer(inbox, hello=False)
    await client.send(raw)
    assert_stable(await client.recv())
    if not await client.nothing(0.02):
        # Refused hellos close with the protocol's codes (4401/4403), never 1011.
        output = await client.ws.receive_output(timeout=1)
        assert output["type"] == "websocket.close", output
        assert output["code"] in {4401, 4403}, output
    await client.close()


@PROPERTY
@given(raw=raw_frames)
async def test_long_poll_answers_any_body_without_a_500(inbox, visitor_token, raw):
    response = await AsyncClient().post(
        "/widget/api/poll/send",
        data=raw.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        headers=auth_headers(inbox, visitor_token),
    )
    assert response.status_code < 500, response.content
    for frame in response.json()["events"]:
        assert_stable(frame)


@pytest.mark.services
@PROPERTY
@given(event=st.sampled_from(FRAME_TYPES) | st.text(min_size=1, max_size=10), data=frame_like)
async def test_socketio_survives_any_event(socketio_customer, event, data):
    if event in {"connect", "connect_error", "disconnect", "message"}:
        return  # reserved by Socket.IO itself: its client refuses to emit them
    await socketio_customer.client.emit(event, data)
    await socketio_customer.client.emit("ping", {})
    while (frame := await socketio_customer.receive()) and frame["type"] != "pong":
        assert_stable(frame)
    assert socketio_customer.client.connected


NUL_MESSAGE = {"type": "message.send", "data": {"text": "a\x00b", "client_id": "nul"}}


async def test_nul_in_a_message_is_refused_on_the_websocket(customer_socket):
    await customer_socket.send(NUL_MESSAGE)
    error = await customer_socket.recv_type("error")
    assert error["data"]["code"] == "invalid_characters"
    assert error["data"]["field"] == "data.text"
    assert not await db(Message.objects.exists)()


async def test_nul_in_a_message_is_refused_over_long_polling(inbox, visitor_token):
    response = await AsyncClient().post(
        "/widget/api/poll/send",
        data=json.dumps(NUL_MESSAGE),
        content_type="application/json",
        headers=auth_headers(inbox, visitor_token),
    )
    assert response.status_code == 400
    assert response.json()["events"][0]["data"]["code"] == "invalid_characters"
    assert not await db(Message.objects.exists)()


@pytest.mark.services
async def test_nul_in_a_message_is_refused_over_socketio(socketio_customer):
    await socketio_customer.emit(NUL_MESSAGE)
    assert (await socketio_customer.next("error"))["data"]["code"] == "invalid_characters"
    assert not await db(Message.objects.exists)()
