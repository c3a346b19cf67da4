"""A tenant's bot endpoint cannot reach internal addresses: the real openai SDK, a real local
model server, and the address check made as each connection opens.

The fake model server listens on 127.0.0.1, which tests/settings.py lets bots reach through
AI_ALLOWED_INTERNAL_HOSTS; the ``production`` fixture takes that away again. Host names are
answered by the fake resolver (``dns``), and ``connects`` fails a test that opens a connection
anywhere but 127.0.0.1, so nothing here sends a packet past this machine.
"""

import logging
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async

from helpdesk.ai.models import BotConfig
from helpdesk.ai.pipeline import bot_reply
from helpdesk.ai.providers import openai_compat
from helpdesk.ai.providers.base import ChatMessage, EndpointRefused, ReplyRequest, TextDelta
from helpdesk.ai.providers.registry import provider_for
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.services import Sender, message_post
from helpdesk.tenants.texts import default_text
from tests.ai.test_admin import bot_post
from tests.factories import BotConfigFactory, ConversationFactory, InboxFactory
from tests.support.admin_urls import admin_url

# The replies run their database work in threads, which must see the test's rows.
pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async

NAME = "models.example.test"
PUBLIC = "203.0.113.10"  # a documentation address: public to the policy, routed nowhere

REFUSED = {
    "loopback": "http://127.0.0.1:{port}/v1",
    "loopback-v6": "http://[::1]:{port}/v1",
    "ipv4-mapped-loopback": "http://[::ffff:127.0.0.1]:{port}/v1",
    "private": "http://10.0.0.1:6379/v1",
    "metadata": "http://169.254.169.254/latest",
    "name-resolving-to-loopback": f"http://{NAME}:{{port}}/v1",
}


@pytest.fixture(autouse=True)
def _fresh_clients():
    """Pooled SDK clients belong to the event loop that made them; each test has its own."""
    openai_compat._clients.clear()
    openai_compat._features.clear()
    yield
    openai_compat._clients.clear()
    openai_compat._features.clear()


@pytest.fixture
def production(settings):
    """As deployed by default: no internal host allowed, no operator endpoint."""
    settings.AI_ALLOWED_INTERNAL_HOSTS = []
    settings.OPENAI_BASE_URL = ""
    return settings


def make_bot(tenant, base_url: str) -> BotConfig:
    return BotConfigFactory(
        tenant=tenant,
        provider="openai",
        base_url=base_url,
        api_key="test-key",
        model="fake-model",
        request_timeout_seconds=2,
        max_retries=3,
    )


def port_of(server) -> int:
    return urlsplit(server.url).port


async def ask(bot: BotConfig) -> str:
    provider = await db(provider_for)(bot)
    request = ReplyRequest(messages=[ChatMessage("user", "hello")], max_tokens=20, temperature=0)
    events = [event async for event in provider.stream(request)]
    return "".join(event.text for event in events if isinstance(event, TextDelta))


# --- Connect time -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
async def test_an_internal_endpoint_is_refused_when_the_connection_opens(
    production, tenant, fake_llm, dns, connects, url
):
    dns.add(NAME, ["127.0.0.1"])
    port = port_of(fake_llm)
    # Stored past the form (an older row, an import): only the connect-time check stands.
    bot = await db(make_bot)(tenant, url.format(port=port))

    with pytest.raises(EndpointRefused) as refused:
        await ask(bot)

    assert refused.value.code == "endpoint_refused"
    assert str(refused.value).startswith("endpoint_refused: ")
    assert connects.hosts == []
    assert fake_llm.total_requests == 0
    # Looked up once and not retried: the same address would only be refused again, later.
    assert len(dns.lookups) == 1


async def test_a_name_that_was_public_when_saved_is_refused_when_it_rebinds_to_loopback(
    production, tenant, fake_llm, dns, connects, tenant_admin_client
):
    dns.add(NAME, [PUBLIC], ["127.0.0.1"])  # first lookup public, every later one loopback
    bot = await db(make_bot)(tenant, "https://api.example.com/v1")
    url = f"http://{NAME}:{port_of(fake_llm)}/v1"

    response = await db(tenant_admin_client.post)(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, base_url=url)
    )
    assert response.status_code == 302, _form_errors(response)
    await db(bot.refresh_from_db)()
    assert bot.base_url == url

    with pytest.raises(EndpointRefused, match="127.0.0.1 is loopback"):
        await ask(bot)

    assert dns.count(NAME) == 2
    assert connects.hosts == []
    assert fake_llm.total_requests == 0


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        (["127.0.0.1"], "127.0.0.1"),
        (["10.0.0.0/8", "127.0.0.0/8"], "127.0.0.1"),
        ([NAME], NAME),
    ],
    ids=["address", "networks", "host-name"],
)
async def test_the_operator_setting_lets_bots_reach_internal_model_hosts(
    production, tenant, fake_llm, dns, connects, allowed, host
):
    production.AI_ALLOWED_INTERNAL_HOSTS = allowed
    dns.add(NAME, ["127.0.0.1"])
    port = port_of(fake_llm)
    bot = await db(make_bot)(tenant, f"http://{host}:{port}/v1")

    assert await ask(bot) == "Echo: hello"

    # The socket went to the address that was checked; the request still names the host.
    assert connects.hosts == ["127.0.0.1"]
    assert fake_llm.last_request.headers["host"] == f"{host}:{port}"


async def test_an_allowed_host_name_admits_that_name_only(
    production, tenant, fake_llm, dns, connects
):
    production.AI_ALLOWED_INTERNAL_HOSTS = [NAME]
    dns.add("other.example.test", ["127.0.0.1"])
    bot = await db(make_bot)(tenant, f"http://other.example.test:{port_of(fake_llm)}/v1")

    with pytest.raises(EndpointRefused):
        await ask(bot)
    assert connects.hosts == []


@pytest.mark.parametrize("copied", [False, True], ids=["empty", "copied"])
async def test_the_operators_own_endpoint_is_trusted(
    production, tenant, fake_llm, connects, copied
):
    # OPENAI_BASE_URL comes from the operator's environment, not from a tenant; `make demo`
    # copies it into its bot.
    production.OPENAI_BASE_URL = fake_llm.base_url
    bot = await db(make_bot)(tenant, fake_llm.base_url if copied else "")

    assert await ask(bot) == "Echo: hello"
    assert connects.hosts == ["127.0.0.1"]


async def test_a_refused_endpoint_ends_in_the_fallback_with_the_reason_logged(
    production, tenant, fake_llm, connects, caplog
):
    bot = await db(make_bot)(tenant, "http://169.254.169.254/latest")
    inbox = await db(InboxFactory)(tenant=tenant, bot=bot)
    conversation = await db(ConversationFactory)(tenant=tenant, inbox=inbox)
    result = await db(message_post)(
        tenant=tenant, conversation_id=conversation.pk, sender=Sender.contact(), text="hi"
    )

    with caplog.at_level(logging.WARNING, logger="helpdesk.ai.pipeline"):
        outcome = await bot_reply(result.message)

    assert outcome.status == "fallback"
    assert outcome.detail.startswith("endpoint_refused: ")
    assert "169.254.169.254" in outcome.detail
    conversation = await db(Conversation.objects.get)(pk=conversation.pk)
    assert conversation.status == "queued"
    assert conversation.handoff_reason.startswith("bot_unavailable:endpoint_refused: ")
    [fallback] = await db(list)(
        Message.objects.filter(conversation=conversation, sender_type="bot")
    )
    assert fallback.text == default_text("fallback", "en")
    assert any("endpoint_refused" in record.getMessage() for record in caplog.records)
    assert connects.hosts == []
    assert fake_llm.total_requests == 0


# --- Save time (the admin form) -----------------------------------------------------------------


def _form_errors(response) -> dict:
    return response.context["adminform"].form.errors.as_data()


@pytest.mark.django_db
@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_the_form_refuses_an_internal_endpoint(production, tenant, dns, tenant_admin_client, url):
    dns.add(NAME, ["127.0.0.1"])
    bot = make_bot(tenant, "https://api.example.com/v1")

    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, base_url=url.format(port=8000))
    )

    assert response.status_code == 200
    [error] = _form_errors(response)["base_url"]
    assert error.code == "internal_address"
    assert "internal network" in error.message
    bot.refresh_from_db()
    assert bot.base_url == "https://api.example.com/v1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        (["127.0.0.0/8"], "http://127.0.0.1:11434/v1"),
        ([NAME], f"http://{NAME}:8000/v1"),
        ([], "http://unresolvable.example.test/v1"),  # no early error; connect time decides
        ([], f"http://{PUBLIC}/v1"),
    ],
    ids=["allowed-network", "allowed-name", "unresolvable", "public"],
)
def test_the_form_accepts_public_and_operator_allowed_endpoints(
    production, tenant, dns, tenant_admin_client, allowed, url
):
    production.AI_ALLOWED_INTERNAL_HOSTS = allowed
    dns.add(NAME, ["127.0.0.1"])
    bot = make_bot(tenant, "https://api.example.com/v1")

    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, base_url=url)
    )

    assert response.status_code == 302, _form_errors(response)
    bot.refresh_from_db()
    assert bot.base_url == url


@pytest.mark.django_db
def test_the_form_accepts_the_operators_own_endpoint(production, tenant, tenant_admin_client):
    production.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    bot = make_bot(tenant, "")

    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk),
        bot_post(bot, base_url="http://127.0.0.1:11434/v1/chat/completions"),
    )

    assert response.status_code == 302, _form_errors(response)
