import pytest
from channels.db import database_sync_to_async

from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender
from helpdesk.tenants.models import Membership
from helpdesk.tenants.services import membership_changed, tenant_changed, user_changed
from tests.factories import ConversationFactory, MembershipFactory, UserFactory, post_message
from tests.realtime.clients import message_send, start_conversation

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def connected(connect_agent, user):
    console = await connect_agent(user)
    assert console.connected, console.close_code
    await console.recv_type("welcome")
    # Every agent connection announces itself to the tenant, this one included.
    own = await console.recv_type("presence")
    assert own["data"]["id"] == user.pk
    return console


async def subscribed(console, conversation):
    await console.send({"type": "subscribe", "conversation": conversation.pk})
    return await console.recv_type("subscribed")


async def test_agent_is_welcomed_and_sees_new_conversations_live(
    connect_agent, agent, tenant, inbox, contact
):
    console = await connect_agent(agent)
    welcome = await console.recv()

    assert welcome["type"] == "welcome"
    assert welcome["data"]["agent"]["id"] == agent.pk
    conversation = await db(ConversationFactory)(tenant=tenant, inbox=inbox, contact=contact)
    await db(post_message)(conversation, "new customer", Sender.contact())
    update = await console.recv_type("conversation.updated")
    assert update["conversation"] == conversation.pk
    assert update["data"]["last_message"]["preview"] == "new customer"


async def test_subscribe_answers_with_the_conversation_and_streams_its_events(
    connect_agent, agent, conversation
):
    console = await connected(connect_agent, agent)

    answer = await subscribed(console, conversation)
    await db(post_message)(conversation, "hi", Sender.contact())

    assert answer["conversation"] == conversation.pk
    assert answer["seq"] == 0
    created = await console.recv_type("message.created")
    assert created["data"]["text"] == "hi"


async def test_agent_sends_messages_and_notes_and_sees_both(connect_agent, agent, conversation):
    console = await connected(connect_agent, agent)
    await subscribed(console, conversation)

    await console.send(message_send("reply", "a-1", conversation.pk))
    await console.send(message_send("internal", "a-2", conversation.pk, kind="note"))

    acks, created = [], []
    while len(acks) < 2 or len(created) < 2:
        frame = await console.recv()
        if frame["type"] == "ack":
            acks.append(frame["seq"])
        elif frame["type"] == "message.created":
            created.append((frame["data"]["text"], frame["data"]["kind"]))
    assert sorted(acks) == [1, 2]
    assert sorted(created) == [("internal", "note"), ("reply", "text")]


async def test_resume_for_agents_includes_notes(connect_agent, agent, conversation):
    def history():
        for text, sender, kind in [
            ("q", Sender.contact(), "text"),
            ("note", Sender.agent(agent), "note"),
        ]:
            post_message(conversation, text, sender, kind)

    await db(history)()
    console = await connected(connect_agent, agent)

    await console.send({"type": "resume", "conversation": conversation.pk, "seq": 0})

    replayed = [await console.recv_type("message.created") for _ in range(2)]
    assert [f["data"]["kind"] for f in replayed] == ["text", "note"]
    assert (await console.recv_type("resumed"))["seq"] == 2


async def test_notes_never_reach_the_customer(
    connect_agent, connect_customer, agent, inbox, issue_token
):
    issued = await db(issue_token)()
    customer = await connect_customer(inbox, issued.token)
    await customer.recv_type("welcome")
    conversation_id = await start_conversation(customer)
    console = await connected(connect_agent, agent)

    await console.send(message_send("secret", "n-1", conversation_id, kind="note"))
    await console.send(message_send("public", "a-1", conversation_id))

    created = await customer.recv_type("message.created")
    assert created["data"]["text"] == "public"
    await customer.send({"type": "resume", "conversation": conversation_id, "seq": 0})
    replayed = [await customer.recv_type("message.created") for _ in range(2)]
    assert [f["data"]["text"] for f in replayed] == ["hi", "public"]


async def test_agent_typing_reaches_the_customer(
    connect_agent, connect_customer, agent, inbox, issue_token
):
    issued = await db(issue_token)()
    customer = await connect_customer(inbox, issued.token)
    await customer.recv_type("welcome")
    conversation_id = await start_conversation(customer)
    console = await connected(connect_agent, agent)

    await console.send(
        {"type": "typing", "conversation": conversation_id, "data": {"typing": True}}
    )

    typing = await customer.recv_type("typing")
    assert typing["data"]["sender"] == "agent"
    assert typing["data"]["name"] == agent.username


# --- Bad input and access --------------------------------------------------------------------


async def test_another_tenants_conversation_is_answered_like_a_missing_one(
    connect_agent, agent, other_tenant
):
    foreign = await db(ConversationFactory)(tenant=other_tenant)
    console = await connected(connect_agent, agent)

    answers = []
    for conversation_id in (foreign.pk, foreign.pk + 1000):
        for frame in (
            {"type": "subscribe", "conversation": conversation_id},
            {"type": "resume", "conversation": conversation_id, "seq": 0},
            {"type": "typing", "conversation": conversation_id, "data": {"typing": True}},
            {"type": "read", "conversation": conversation_id, "seq": 0},
            message_send("x", f"x{conversation_id}", conversation_id),
        ):
            await console.send(frame)
            error = await console.recv_type("error")
            answers.append((error["data"]["code"], error["data"]["message"]))

    assert set(answers) == {("not_found", "Conversation not found.")}
    assert await db(Message.objects.count)() == 0


async def test_another_tenants_events_never_arrive(connect_agent, agent, other_tenant):
    console = await connected(connect_agent, agent)
    foreign = await db(ConversationFactory)(tenant=other_tenant)

    await db(post_message)(foreign, "not for you", Sender.contact())

    assert await console.nothing(0.3)


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message.send", "data": {"text": "x", "client_id": "a"}},
        {"type": "message.send", "conversation": "abc", "data": {"text": "x", "client_id": "a"}},
        {
            "type": "message.send",
            "conversation": 1,
            "data": {"text": "x", "client_id": "a", "kind": "event"},
        },
        {"type": "subscribe"},
        {"type": "hello"},
    ],
)
async def test_malformed_agent_frames_are_answered(connect_agent, agent, frame):
    console = await connected(connect_agent, agent)

    await console.send(frame)
    error = await console.recv_type("error")

    assert error["data"]["code"] in {"invalid", "not_found", "unknown_type"}
    assert await db(Message.objects.count)() == 0


async def test_anonymous_socket_is_refused(connect_agent):
    console = await connect_agent(None)

    assert console.connected is False


async def test_user_without_membership_is_refused(connect_agent):
    stranger = await db(UserFactory)()

    console = await connect_agent(stranger)

    assert console.connected is False


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (None, "testserver"),
        ("https://evil.example.com", "testserver"),
        ("http://testserver.evil.com", "testserver"),
        ("http://evil.example.com", "evil.example.com"),
    ],
)
async def test_foreign_or_missing_origin_is_refused(connect_agent, agent, origin, host, settings):
    settings.ALLOWED_HOSTS = ["testserver"]

    console = await connect_agent(agent, origin=origin, host=host)

    assert console.connected is False


async def test_csrf_trusted_origin_is_accepted(connect_agent, agent, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://console.example.com"]

    console = await connect_agent(agent, origin="https://console.example.com")

    assert console.connected is True


@pytest.mark.parametrize("disable", ["membership", "user", "tenant"])
async def test_disabled_agent_is_disconnected_promptly(connect_agent, agent, tenant, disable):
    console = await connected(connect_agent, agent)

    def revoke():
        membership = Membership.objects.get(user=agent)
        if disable == "membership":
            membership.is_active = False
            membership.save()
            membership_changed(membership)
        elif disable == "user":
            agent.is_active = False
            agent.save()
            user_changed(agent)
        else:
            tenant.is_active = False
            tenant.save()
            tenant_changed(tenant)

    await db(revoke)()

    error = await console.recv_type("error")
    assert error["data"]["code"] == "revoked"
    assert await console.ws.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}


async def test_access_is_rechecked_even_without_a_notice(connect_agent, agent, monkeypatch):
    monkeypatch.setattr("helpdesk.realtime.consumers.AGENT_RECHECK_SECONDS", 0.2)
    console = await connected(connect_agent, agent)

    await db(Membership.objects.filter(user=agent).update)(is_active=False)

    error = await console.recv_type("error", timeout=3)
    assert error["data"]["code"] == "revoked"


async def test_a_revoked_agent_cannot_send_even_before_the_notice(
    connect_agent, agent, conversation
):
    console = await connected(connect_agent, agent)
    await db(Membership.objects.filter(user=agent).update)(is_active=False)

    await console.send(message_send("x", "a", conversation.pk))

    assert (await console.recv_type("error"))["data"]["code"] == "revoked"
    assert await db(Message.objects.count)() == 0


async def test_agent_presence_is_announced_to_the_tenant(connect_agent, agent, tenant):
    watcher = await connected(
        connect_agent, await db(lambda: MembershipFactory(tenant=tenant).user)()
    )

    console = await connected(connect_agent, agent)
    online = await watcher.recv_type("presence")
    await console.close()
    offline = await watcher.recv_type("presence")

    assert (online["data"]["who"], online["data"]["id"], online["data"]["online"]) == (
        "agent",
        agent.pk,
        True,
    )
    assert offline["data"]["online"] is False


async def test_typing_is_not_echoed_to_its_sender(connect_agent, agent, conversation, tenant):
    console = await connected(connect_agent, agent)
    colleague_user = await db(lambda: MembershipFactory(tenant=tenant).user)()
    colleague = await connected(connect_agent, colleague_user)
    assert (await console.recv_type("presence"))["data"]["id"] == colleague_user.pk
    for client in (console, colleague):
        await subscribed(client, conversation)

    await console.send(
        {"type": "typing", "conversation": conversation.pk, "data": {"typing": True}}
    )

    assert (await colleague.recv_type("typing"))["data"]["name"] == agent.username
    await console.send({"type": "ping"})
    assert (await console.recv())["type"] == "pong", "no typing echo may come first"
    assert await console.nothing(0.2)


async def test_a_customers_presence_reaches_only_the_agents_watching_the_conversation(
    connect_agent, connect_customer, agent, tenant, inbox, issue_token
):
    customer = await connect_customer(inbox, (await db(issue_token)()).token)
    await customer.recv_type("welcome")
    conversation_id = await start_conversation(customer)
    conversation = await db(Conversation.objects.get)(pk=conversation_id)
    watching = await connected(connect_agent, agent)
    await subscribed(watching, conversation)
    elsewhere = await connected(
        connect_agent, await db(lambda: MembershipFactory(tenant=tenant).user)()
    )

    await customer.close()

    offline = await watching.recv_type("presence")
    while offline["data"]["who"] != "contact":  # the colleague's own arrival came first
        offline = await watching.recv_type("presence")
    assert (offline["conversation"], offline["data"]["online"]) == (conversation_id, False)
    assert await elsewhere.nothing(0.5)
