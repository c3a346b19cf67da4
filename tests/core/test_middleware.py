"""Input PostgreSQL cannot store (NUL, lone surrogates) is a 400 ``invalid_characters`` for every
HTTP request, whatever part of it carries the characters, before anything reaches the database.

The widget's endpoints answer in their own shape (``{"events": [error frame]}``, with CORS
headers so the widget can read it), the console API in its own (``{"error": {...}}``), pages
with a short HTML page.
"""

import json
import urllib.error
import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient, Client

from helpdesk.conversations.models import Contact, Message
from helpdesk.widget.services import visitor_token_issue
from tests.realtime.clients import message_send
from tests.support.sessions import session_cookie

pytestmark = pytest.mark.django_db
# The long-poll views reach the database from other threads (and asyncpg): committed rows only.
committed = pytest.mark.django_db(transaction=True)

ORIGIN = "https://shop.example.com"
VISITOR = "/widget/api/visitor"
POLL_SEND = "/widget/api/poll/send"
POLL_WAIT = "/widget/api/poll"
CANNED = "/console/api/canned"


def widget_code(response) -> str:
    return response.json()["events"][0]["data"]["code"]


def post_visitor(body: str):
    return Client().post(
        VISITOR, data=body, content_type="application/json", headers={"Origin": ORIGIN}
    )


async def post_frame(inbox, token, frame: str, content_type="application/json", **headers):
    return await AsyncClient().post(
        POLL_SEND,
        data=frame,
        content_type=content_type,
        headers={**poll_headers(inbox, token), **headers},
    )


@pytest.fixture
def visitor(inbox):
    return visitor_token_issue(
        inbox_key=inbox.public_key, origin=ORIGIN, previous_token=None, client_ip="198.51.100.7"
    )


def poll_headers(inbox, token) -> dict[str, str]:
    return {"X-Inbox-Key": inbox.public_key, "Authorization": f"Bearer {token}", "Origin": ORIGIN}


# --- JSON bodies ---------------------------------------------------------------------------------


@committed
@pytest.mark.parametrize(
    "body",
    [
        '{"inbox": "KEY\\u0000"}',  # the escaped form: valid JSON, a NUL once decoded
        '{"inbox": "KEY\\u0000", "token": null}',
        '{"inbox": "KEY", "extra": {"deep": ["\\u0000"]}}',
        '{"inbox": "KEY\x00"}',  # a raw NUL byte
        '{"inbox": "KEY\\ud800"}',  # a lone high surrogate
        '{"inbox": "KEY", "\\udc00": 1}',  # a lone low surrogate, in a key
        '{"inbox": "KEY\\uD83D"}',  # upper-case hex, cut before its low half
    ],
)
def test_a_widget_json_body_with_unstorable_characters_is_a_400(inbox, body):
    response = post_visitor(body.replace("KEY", inbox.public_key))

    assert response.status_code == 400
    assert widget_code(response) == "invalid_characters"
    # The widget must be able to read the answer: it says nothing about the inbox.
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert not Contact.objects.exists()


@committed
@pytest.mark.parametrize(
    "extra",
    [
        '"\\ud83d\\ude00"',  # an escaped surrogate pair is one ordinary character
        '"\\\\u0000"',  # an escaped backslash: the text "\u0000", no NUL
        '"\\\\\\ud83d\\ude00"',
    ],
)
def test_storable_escapes_pass(inbox, extra):
    response = post_visitor(f'{{"inbox": "{inbox.public_key}", "extra": {extra}}}')

    assert response.status_code == 200
    assert Contact.objects.count() == 1


@committed
async def test_a_long_poll_message_with_a_nul_is_refused_and_not_stored(inbox, visitor):
    frame = json.dumps(message_send("hello\x00world", "c-1"))
    assert "\\u0000" in frame

    response = await post_frame(inbox, visitor.token, frame)

    assert response.status_code == 400
    assert widget_code(response) == "invalid_characters"
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert not await Message.objects.aexists()


@committed
async def test_a_long_poll_message_with_a_lone_surrogate_is_refused(inbox, visitor):
    frame = json.dumps(message_send("cut \ud83d", "c-1"))

    response = await post_frame(inbox, visitor.token, frame, content_type="text/plain")

    assert response.status_code == 400
    assert widget_code(response) == "invalid_characters"
    assert not await Message.objects.aexists()


@committed
async def test_a_long_poll_message_with_an_escaped_emoji_is_stored(inbox, visitor):
    frame = json.dumps(message_send("smile \U0001f600", "c-1"))  # ensure_ascii: \ud83d\ude00

    response = await post_frame(inbox, visitor.token, frame)

    assert response.status_code == 200
    assert (await Message.objects.aget()).text == "smile \U0001f600"


# --- query strings, paths, headers, cookies ------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["conversation=%00&seq=0", "conversation=1&seq=%00", "conversation=1&%00=1"]
)
@committed
async def test_a_long_poll_query_with_a_nul_is_a_400(inbox, visitor, query):
    response = await AsyncClient().get(
        f"{POLL_WAIT}?{query}", headers=poll_headers(inbox, visitor.token)
    )

    assert response.status_code == 400
    assert widget_code(response) == "invalid_characters"


@committed
async def test_a_header_with_a_nul_is_a_400(inbox, visitor):
    frame = json.dumps(message_send("hi", "c-1"))

    response = await post_frame(
        inbox, visitor.token, frame, **{"X-Inbox-Key": inbox.public_key + "\x00"}
    )

    assert response.status_code == 400
    # Not the widget's own shape: that would echo the request's Origin header in the answer.
    assert response.json()["error"]["code"] == "invalid_characters"
    assert "Access-Control-Allow-Origin" not in response
    assert not await Message.objects.aexists()


def test_a_session_cookie_with_a_nul_is_a_400(client):
    # The cookie syntax's octal escape: Django's parser turns \000 into a NUL.
    response = client.get(CANNED, headers={"Cookie": 'sessionid="\\000abcdefghij"'})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_characters"


def test_a_path_with_a_nul_is_a_400(client, agent):
    client.force_login(agent)

    response = client.get("/console/api/conversations/1%00")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_characters"


# --- forms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"username": "agent\x00", "password": "x"},
        {"username\x00": "agent", "password": "x"},
    ],
)
def test_a_form_field_or_name_with_a_nul_is_a_400_page(client, data):
    response = client.post("/console/login/", data)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"invalid_characters" in response.content


def test_an_urlencoded_form_with_a_nul_is_a_400(client):
    response = client.post(
        "/console/login/",
        "username=agent%00&password=x",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert b"invalid_characters" in response.content


def test_an_upload_fields_name_with_a_nul_is_a_400(client):
    upload = SimpleUploadedFile("report.txt", b"text")

    response = client.post("/console/login/", {"username": "agent", "file\x00": upload})

    assert response.status_code == 400
    assert b"invalid_characters" in response.content


def test_binary_file_content_and_names_are_not_refused(client):
    # Django's parser drops non-printable characters from uploaded file names itself.
    upload = SimpleUploadedFile("report\x00.bin", b"\x00\x01\x02")

    response = client.post("/console/login/", {"username": "agent", "file": upload})

    assert response.status_code == 200  # the login form, with its "wrong password" error


def test_an_api_client_that_asks_for_json_gets_json(client):
    response = client.post(
        "/console/login/", {"username": "\x00"}, headers={"Accept": "application/json"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid_characters", "message": response.json()["error"]["message"]}
    }
    assert response.json()["error"]["message"]


# --- a real server -------------------------------------------------------------------------------


def _live(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.slow
@committed
def test_a_real_server_answers_400_for_the_console_and_the_widget(live_server_url, inbox, agent):
    """Through daphne: the ASGI handler and the middleware's async path, as production runs."""
    status, body = _live(
        f"{live_server_url}{CANNED}?q=%00", headers={"Cookie": session_cookie(agent)}
    )
    assert (status, json.loads(body)["error"]["code"]) == (400, "invalid_characters")

    status, body = _live(
        f"{live_server_url}{VISITOR}",
        data=f'{{"inbox": "{inbox.public_key}\\u0000"}}'.encode(),
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )
    assert (status, json.loads(body)["events"][0]["data"]["code"]) == (400, "invalid_characters")
    assert not Contact.objects.exists()
