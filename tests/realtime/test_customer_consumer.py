import pytest
from channels.db import database_sync_to_async

from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.conversations.services import Sender, message_post
from tests.conftest import fresh_rate_window
from tests.factories import ContactFactory, ConversationFactory, InboxFactory
from tests.realtime.clients import message_send, start_conversation

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def count_messages() -> int:
    return await db(Message.objects.count)()


async def test_hello_welcomes_a_new_visitor_without_a_conversation(
    inbox, issue_token, connect_customer
):
    issued = await db(issue_token)()

    client = await connect_customer(inbox, issued.token)
    welcome = await client.recv()

    assert welcome["type"] == "welcome"
    assert welcome["conversation"] is None
    assert welcome["data"]["visitor"] == str(issued.visitor.contact.visitor_id)
    assert "greeting" not in welcome["data"]  # the token's answer carries it, in its language
    assert welcome["data"]["token"]


async def test_first_message_starts_a_conversation_and_is_acked_and_broadcast(
    inbox, issue_token, connect_customer
):
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv_type("welcome")

    await client.send(message_send("Where is my order?", "c-1"))
    ack = await client.recv_type("ack")
    created = await client.recv_type("message.created")

    conversation = await db(Conversation.objects.get)()
    assert ack["conversation"] == conversation.pk
    assert ack["seq"] == 1
    assert ack["data"]["client_id"] == "c-1"
    assert created["seq"] == 1
    assert created["data"]["text"] == "Where is my order?"
    assert created["data"]["sender"] == "contact"


async def test_resend_after_reconnect_is_stored_and_broadcast_once(
    inbox, issue_token, connect_customer
):
    issued = await db(issue_token)()
    first = await connect_customer(inbox, issued.token)
    await first.recv_type("welcome")
    await first.send(message_send("hello", "same-id"))
    ack = await first.recv_type("ack")
    await first.recv_type("message.created")
    await first.close()

    again = await connect_customer(inbox, issued.token)
    welcome = await again.recv_type("welcome")
    await again.send(message_send("hello", "same-id", conversation=welcome["conversation"]))
    second_ack = await again.recv_type("ack")

    assert second_ack["seq"] == ack["seq"]
    assert second_ack["data"]["id"] == ack["data"]["id"]
    assert await again.nothing(), "a resend must not be broadcast again"
    assert await count_messages() == 1


async def test_resume_replays_missed_messages_in_order_without_notes(
    inbox, issue_token, connect_customer, agent
):
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv_type("welcome")
    await client.send(message_send("hi", "c-1"))
    ack = await client.recv_type("ack")
    await client.close()
    conversation_id = ack["conversation"]

    def agent_posts():
        tenant = inbox.tenant
        for text, kind in [("reply 1", "text"), ("secret", "note"), ("reply 2", "text")]:
            message_post(
                tenant=tenant,
                conversation_id=conversation_id,
                sender=Sender.agent(agent),
                text=text,
                kind=kind,
            )

    await db(agent_posts)()

    client = await connect_customer(inbox, issued.token)
    welcome = await client.recv_type("welcome")
    assert welcome["conversation"] == conversation_id
    assert welcome["seq"] == 4
    await client.send({"type": "resume", "conversation": conversation_id, "seq": 1})
    replayed = [await client.recv_type("message.created") for _ in range(2)]
    resumed = await client.recv_type("resumed")

    assert [(f["seq"], f["data"]["text"]) for f in replayed] == [(2, "reply 1"), (4, "reply 2")]
    assert resumed["seq"] == 4
    assert await client.nothing()


async def test_two_tabs_of_one_visitor_both_see_each_message(inbox, issue_token, connect_customer):
    issued = await db(issue_token)()
    tab1 = await connect_customer(inbox, issued.token)
    await tab1.recv_type("welcome")
    conversation_id = await start_conversation(tab1, "first")
    tab2 = await connect_customer(inbox, issued.token)
    await tab2.recv_type("welcome")

    await tab2.send(message_send("second", "c-2", conversation=conversation_id))
    ack = await tab2.recv_type("ack")
    assert ack["seq"] == 2
    assert ack["data"]["message"]["text"] == "second"

    assert (await tab1.recv_type("message.created"))["data"]["text"] == "second"
    # The sending tab's copy is its ack: no message.created echo follows it there.
    assert await tab2.nothing(0.3)


async def test_typing_reaches_the_other_side_but_is_not_stored(
    inbox, issue_token, connect_customer, connect_agent, agent
):
    issued = await db(issue_token)()
    customer = await connect_customer(inbox, issued.token)
    await customer.recv_type("welcome")
    conversation_id = await start_conversation(customer)
    console = await connect_agent(agent)
    await console.recv_type("welcome")
    await console.send({"type": "subscribe", "conversation": conversation_id})
    await console.recv_type("subscribed")

    await customer.send(
        {"type": "typing", "conversation": conversation_id, "data": {"typing": True}}
    )
    typing = await console.recv_type("typing")

    assert typing["data"] == {"sender": "contact", "name": typing["data"]["name"], "typing": True}
    assert await count_messages() == 1


async def test_read_marks_are_stored_and_announced(inbox, issue_token, connect_customer):
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv_type("welcome")
    conversation_id = await start_conversation(client)

    await client.send({"type": "read", "conversation": conversation_id, "seq": 99})
    read = await client.recv_type("read")

    assert read["seq"] == 1, "a read mark never passes the newest message"
    assert read["data"]["reader"] == "contact"
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert conversation.contact_last_read_seq == 1


async def test_ping_pong(inbox, issue_token, connect_customer):
    client = await connect_customer(inbox, (await db(issue_token)()).token)
    await client.recv_type("welcome")

    await client.send({"type": "ping"})

    assert (await client.recv())["type"] == "pong"


# --- Bad input: answered with a stable code; nothing stored, nothing broadcast ------------------


async def welcomed(inbox, issue_token, connect_customer):
    client = await connect_customer(inbox, (await db(issue_token)()).token)
    await client.recv_type("welcome")
    return client


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('"text"', "invalid_json"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"data": {}}', "unknown_type"),
        ('{"type": "message.send", "data": "text"}', "invalid"),
        ('{"type": "message.send", "data": {"text": "", "client_id": "a"}}', "text_empty"),
        ('{"type": "message.send", "data": {"text": 5, "client_id": "a"}}', "invalid"),
        ('{"type": "message.send", "data": {"text": "x", "client_id": "bad id"}}', "invalid"),
        ('{"type": "resume", "conversation": 1, "seq": -1}', "invalid"),
        ('{"type": "typing", "conversation": null}', "invalid"),
    ],
)
async def test_malformed_frames_are_answered_with_a_stable_code(
    inbox, issue_token, connect_customer, raw, code
):
    client = await welcomed(inbox, issue_token, connect_customer)

    await client.send(raw)
    error = await client.recv()

    assert error["type"] == "error"
    assert error["data"]["code"] == code
    assert await count_messages() == 0
    await client.send({"type": "ping"})
    assert (await client.recv())["type"] == "pong", "the connection stays usable"


async def test_oversized_frame_is_refused(inbox, issue_token, connect_customer, settings):
    client = await welcomed(inbox, issue_token, connect_customer)

    await client.send(message_send("x" * (settings.WS_MAX_FRAME_BYTES + 1), "c-1"))
    error = await client.recv()

    assert error["data"]["code"] == "frame_too_large"
    assert await count_messages() == 0


async def test_oversized_text_is_refused(inbox, issue_token, connect_customer, settings):
    settings.MESSAGE_MAX_CHARS = 100
    client = await welcomed(inbox, issue_token, connect_customer)

    await client.send(message_send("x" * 101, "c-1"))
    error = await client.recv()

    assert error["data"] == {
        "code": "text_too_long",
        "message": error["data"]["message"],
        "ref": "c-1",
        "field": "text",
        "limit": 100,
    }
    assert await count_messages() == 0


async def test_another_tenants_conversation_is_answered_like_a_nonexistent_one(
    inbox, issue_token, connect_customer, other_tenant
):
    foreign = await db(ConversationFactory)(tenant=other_tenant)
    await db(message_post)(
        tenant=other_tenant, conversation_id=foreign.pk, sender=Sender.contact(), text="private"
    )
    client = await welcomed(inbox, issue_token, connect_customer)

    answers = []
    for conversation_id in (foreign.pk, foreign.pk + 1000):
        for frame in (
            message_send("hi", f"c-{conversation_id}", conversation=conversation_id),
            {"type": "resume", "conversation": conversation_id, "seq": 0},
            {"type": "typing", "conversation": conversation_id, "data": {"typing": True}},
            {"type": "read", "conversation": conversation_id, "seq": 1},
        ):
            await client.send(frame)
            error = await client.recv()
            answers.append((error["data"]["code"], error["data"]["message"]))

    assert set(answers) == {("not_found", "Conversation not found.")}
    assert await count_messages() == 1


async def test_another_visitors_conversation_of_the_same_inbox_is_not_found(
    inbox, issue_token, connect_customer
):
    someone_else = await db(ConversationFactory)(tenant=inbox.tenant, inbox=inbox)
    client = await welcomed(inbox, issue_token, connect_customer)

    await client.send({"type": "resume", "conversation": someone_else.pk, "seq": 0})

    assert (await client.recv())["data"]["code"] == "not_found"


async def test_writing_in_a_resolved_conversation_reopens_it(inbox, issue_token, connect_customer):
    issued = await db(issue_token)()
    client = await connect_customer(inbox, issued.token)
    await client.recv_type("welcome")
    conversation_id = await start_conversation(client)
    await db(Conversation.objects.filter(pk=conversation_id).update)(status="resolved")

    await client.send(message_send("again", "c-2", conversation=conversation_id))
    ack = await client.recv_type("ack")

    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    assert conversation.status == "queued", "no bot in this inbox: back to the human queue"
    assert ack["data"]["message"]["text"] == "again"
    texts = await db(list)(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("seq")
        .values_list("kind", "text")
    )
    assert [kind for kind, _ in texts] == ["text", "event", "text"]


async def test_rate_limit_answers_with_retry_after_and_stores_nothing_more(
    inbox, issue_token, connect_customer, settings
):
    settings.RATE_CUSTOMER_MESSAGES = (3, 60)
    fresh_rate_window(60)
    client = await welcomed(inbox, issue_token, connect_customer)
    conversation_id = await start_conversation(client)
    for n in range(2):
        await client.send(message_send(f"m{n}", f"m-{n}", conversation=conversation_id))
        await client.recv_type("ack")

    await client.send(message_send("one too many", "c-4"))
    error = await client.recv_type("error")

    assert error["data"]["code"] == "rate_limited"
    assert 1 <= error["data"]["retry_after"] <= 60
    assert error["data"]["ref"] == "c-4"
    assert await count_messages() == 3


async def test_per_ip_rate_limit_spans_visitors(inbox, issue_token, connect_customer, settings):
    settings.RATE_IP_MESSAGES = (2, 60)
    fresh_rate_window(60)
    clients = [await welcomed(inbox, issue_token, connect_customer) for _ in range(3)]
    for n, client in enumerate(clients[:2]):
        await start_conversation(client, client_id=f"c-{n}")

    await clients[2].send(message_send("hi", "c-2"))

    assert (await clients[2].recv_type("error"))["data"]["code"] == "rate_limited"
    assert await count_messages() == 2


# --- Authentication ---------------------------------------------------------------------------


async def assert_refused(client, code, close_code=4401):
    error = await client.recv()
    assert error["type"] == "error"
    assert error["data"]["code"] == code
    closed = await client.ws.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": close_code}


async def test_frames_before_hello_are_refused(inbox, connect_customer):
    client = await connect_customer(inbox, hello=False)

    await client.send(message_send("sneaky", "c-1"))

    error = await client.recv()
    assert error["data"]["code"] == "unauthenticated"
    assert await count_messages() == 0


async def test_unknown_inbox_key_is_refused(inbox, connect_customer, issue_token):
    token = (await db(issue_token)()).token
    client = await connect_customer(inbox, hello=False)

    await client.send({"type": "hello", "data": {"inbox": "no-such-key", "token": token}})

    await assert_refused(client, "unauthenticated")


@pytest.mark.parametrize("token", [None, "", "garbage", "x" * 600, 42, ["t"]])
async def test_bad_tokens_are_refused(inbox, connect_customer, token):
    client = await connect_customer(inbox, token=token)

    await assert_refused(client, "token_invalid")


async def test_forged_token_is_refused(inbox, issue_token, connect_customer):
    token = (await db(issue_token)()).token
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    client = await connect_customer(inbox, forged)

    await assert_refused(client, "token_invalid")


async def test_expired_token_is_refused(inbox, issue_token, connect_customer, settings):
    token = (await db(issue_token)()).token
    settings.VISITOR_TOKEN_MAX_AGE = -1

    client = await connect_customer(inbox, token)

    await assert_refused(client, "token_expired")


async def test_token_reused_for_another_tenants_inbox_is_refused(
    inbox, issue_token, connect_customer, other_tenant
):
    token = (await db(issue_token)()).token
    foreign_inbox = await db(InboxFactory)(tenant=other_tenant)

    client = await connect_customer(foreign_inbox, token)

    await assert_refused(client, "token_invalid")


async def test_token_of_a_deleted_visitor_is_refused(inbox, issue_token, connect_customer):
    issued = await db(issue_token)()
    await db(Contact.objects.filter(pk=issued.visitor.contact.pk).delete)()

    client = await connect_customer(inbox, issued.token)

    await assert_refused(client, "token_invalid")


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "https://evil.example.com",
        "http://shop.example.com",
        "https://shop.example.com.evil.com",
        "null",
    ],
)
async def test_foreign_or_missing_origin_is_refused(inbox, issue_token, connect_customer, origin):
    token = (await db(issue_token)()).token

    client = await connect_customer(inbox, token, origin=origin)

    await assert_refused(client, "origin_not_allowed", close_code=4403)


async def test_disabled_inbox_refuses_connections(inbox, issue_token, connect_customer):
    token = (await db(issue_token)()).token
    await db(type(inbox).objects.filter(pk=inbox.pk).update)(is_active=False)

    client = await connect_customer(inbox, token)

    await assert_refused(client, "unauthenticated")


async def test_silent_connection_is_closed_after_the_hello_timeout(
    inbox, connect_customer, monkeypatch
):
    monkeypatch.setattr("helpdesk.realtime.consumers.HELLO_TIMEOUT", 0.1)

    client = await connect_customer(inbox, hello=False)

    assert await client.ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4408}


async def test_a_previous_token_keeps_the_same_visitor(issue_token):
    first = await db(issue_token)()
    renewed = await db(issue_token)(previous=first.token)
    stranger = await db(issue_token)(previous="garbage")

    assert renewed.visitor.contact == first.visitor.contact
    assert stranger.visitor.contact != first.visitor.contact
    assert await db(ContactFactory._meta.model.objects.count)() == 2


async def test_a_customer_is_not_told_of_their_own_presence(inbox, issue_token, connect_customer):
    client = await connect_customer(inbox, (await db(issue_token)()).token)
    await client.send(message_send("hello", "p-1"))
    seen = [(await client.recv())["type"]]
    while seen[-1] != "resumed":  # the conversation has started
        seen.append((await client.recv())["type"])

    assert "presence" not in seen
    assert await client.nothing(0.3)
