"""``manage.py demo --no-serve``: the demo's set-up, run twice as a user would run it."""

import re
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from helpdesk.ai.demo_knowledge import DEMO_ARTICLES
from helpdesk.ai.grounding import aground
from helpdesk.ai.knowledge.models import KnowledgeSource
from helpdesk.ai.knowledge.retrieval import retrieve
from helpdesk.ai.management.commands.demo import BOT_NAME
from helpdesk.ai.models import BotConfig, KnowledgeArticle
from helpdesk.ai.providers.base import ChatMessage, ReplyRequest, TextDelta
from helpdesk.ai.providers.registry import provider_for
from helpdesk.tenants.models import Inbox, Membership, Tenant, parse_origins

pytestmark = pytest.mark.django_db(transaction=True)

USERNAMES = ["admin", "alice", "bob", "root"]


@pytest.fixture(autouse=True)
def _isolated_var_dir(settings, tmp_path):
    """Passwords and collected static files go to a temporary VAR_DIR, not the developer's."""
    settings.VAR_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    # Compressing every file (the production storage) costs seconds and is not under test.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The machine's environment must not choose the demo bot's provider.
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--no-serve", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def printed_passwords(output: str) -> dict[str, str]:
    rows = re.findall(r"^  (admin|alice|bob|root) +(\S+) ", output, flags=re.MULTILINE)
    return dict(rows)


def snapshot() -> dict:
    users = get_user_model().objects.order_by("username")
    return {
        "tenants": list(Tenant.objects.values_list("pk", "slug", "name")),
        "users": list(users.values_list("pk", "username", "password", "is_staff", "is_superuser")),
        "memberships": list(Membership.objects.values_list("pk", "tenant", "user", "role")),
        "inboxes": list(
            Inbox.objects.values_list("pk", "tenant", "public_key", "allowed_origins", "bot")
        ),
        "bots": list(BotConfig.objects.values()),
        "articles": list(KnowledgeArticle.objects.values()),
    }


def test_demo_sets_up_once_and_a_second_run_changes_nothing(client):
    first = run_demo()
    state = snapshot()
    second = run_demo()

    assert snapshot() == state
    assert "Demo already set up; nothing to change." in second
    passwords = printed_passwords(first)
    assert sorted(passwords) == USERNAMES
    assert printed_passwords(second) == passwords

    tenant = Tenant.objects.get()
    assert (tenant.slug, tenant.name) == ("demo", "Demo Shop")
    users = {user.username: user for user in get_user_model().objects.all()}
    assert sorted(users) == USERNAMES
    roles = dict(Membership.objects.filter(tenant=tenant).values_list("user__username", "role"))
    assert roles == {"admin": "admin", "alice": "agent", "bob": "agent"}
    assert users["admin"].is_staff
    assert not users["alice"].is_staff
    assert not users["bob"].is_staff
    assert users["root"].is_superuser
    assert not Membership.objects.filter(user=users["root"]).exists()
    inbox = Inbox.objects.get()
    assert (inbox.tenant, inbox.name) == (tenant, "Website")
    assert {"http://127.0.0.1:8000", "http://localhost:8000"} <= set(
        parse_origins(inbox.allowed_origins)
    )
    for url in ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/admin/"):
        assert url in first


def test_admin_logs_in_with_the_printed_password_and_agents_cannot(client):
    passwords = printed_passwords(run_demo())

    refused = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": passwords["alice"]}
    )
    assert refused.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": passwords["admin"], "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_visitor_page_embeds_the_demo_inbox_widget(client):
    run_demo()
    inbox = Inbox.objects.get()

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    script = re.search(r"<script [^>]*widget\.js[^>]*>", html)
    assert script, html
    assert f'data-inbox="{inbox.public_key}"' in script[0]


def test_another_port_adds_its_origins_and_nothing_else(client):
    run_demo()
    before = snapshot()

    output = run_demo("--addrport", "127.0.0.1:8123")

    inbox = Inbox.objects.get()
    assert parse_origins(inbox.allowed_origins) == [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://127.0.0.1:8123",
        "http://localhost:8123",
    ]
    assert {key: value for key, value in snapshot().items() if key != "inboxes"} == {
        key: value for key, value in before.items() if key != "inboxes"
    }
    assert "http://127.0.0.1:8123/admin/" in output


def test_a_bad_addrport_is_refused_before_anything_runs():
    with pytest.raises(CommandError, match="--addrport"):
        run_demo("--addrport", "localhost:99999")
    with pytest.raises(CommandError, match="--addrport"):
        run_demo("--addrport", "not an address")
    assert not Tenant.objects.exists()


# --- The demo bot ---------------------------------------------------------------------------------


def test_without_openai_settings_the_demo_bot_answers_from_the_faq():
    output = run_demo()

    tenant = Tenant.objects.get()
    bot = BotConfig.objects.get()
    assert (bot.tenant, bot.name, bot.provider, bot.is_active) == (tenant, BOT_NAME, "faq", True)
    assert Inbox.objects.get().bot == bot
    articles = KnowledgeArticle.objects.filter(tenant=tenant, is_active=True)
    assert articles.count() == len(DEMO_ARTICLES) >= 8
    # Bilingual: every article asks and answers in English and in Chinese.
    for article in articles:
        for text in (article.question, article.answer, article.keywords):
            assert any("a" <= ch.lower() <= "z" for ch in text)
            assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert f"bot {BOT_NAME!r} (answers from the FAQ)" in output
    assert f"{len(DEMO_ARTICLES)} knowledge articles" in output
    assert "set OPENAI_API_KEY or OPENAI_BASE_URL" in output

    for question, expected in [
        ("怎么退货", "退货"),
        ("when do you open", "Monday to Friday 9:00"),
        ("how much is shipping", "free on orders over"),
        ("我的订单到哪了", "快递单号"),
        ("does the warranty cover water damage", "12-month warranty"),
    ]:
        assert expected in faq_answer(bot, question), question
    assert faq_answer(bot, "what's the weather on Mars") == ""


def faq_answer(bot, question: str) -> str:
    """What the demo's FAQ bot answers, as the reply pipeline asks it ("": a handoff)."""

    async def ask() -> str:
        grounding = await aground(tenant=bot.tenant, bot=bot, question=question)
        request = ReplyRequest(
            messages=[ChatMessage("user", question)],
            max_tokens=bot.max_tokens,
            temperature=bot.temperature,
            knowledge=grounding,
        )
        events = [event async for event in provider_for(bot).stream(request)]
        return "".join(event.text for event in events if isinstance(event, TextDelta))

    return async_to_sync(ask)()


def test_with_openai_settings_the_demo_bot_uses_the_api(settings):
    settings.OPENAI_API_KEY = "sk-demo-environment-key-123"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"

    output = run_demo()

    bot = BotConfig.objects.get()
    assert (bot.provider, bot.base_url) == ("openai", "http://127.0.0.1:11434/v1")
    assert bot.api_key == "sk-demo-environment-key-123"
    assert "sk-demo-environment-key-123" not in bot.api_key_encrypted
    assert "sk-demo-environment-key-123" not in output
    assert Inbox.objects.get().bot == bot
    assert "answers with the model 'gpt-4o-mini' at http://127.0.0.1:11434/v1" in output
    # The articles are there too, for when the variables go away.
    assert KnowledgeArticle.objects.count() == len(DEMO_ARTICLES)

    state = snapshot()
    assert "Demo already set up; nothing to change." in run_demo()
    assert snapshot() == state


def test_the_demo_bot_follows_the_variables_from_run_to_run(settings):
    run_demo()
    settings.OPENAI_API_KEY = "sk-demo-environment-key-123"

    switched = run_demo()

    bot = BotConfig.objects.get()
    assert (bot.provider, bot.base_url, bot.api_key) == (
        "openai",
        "",
        "sk-demo-environment-key-123",
    )
    assert "provider, API key of bot" in switched

    settings.OPENAI_API_KEY = ""
    back = run_demo()

    bot.refresh_from_db()
    assert bot.provider == "faq"
    assert bot.api_key == "sk-demo-environment-key-123"  # kept, not used by the FAQ
    assert "provider of bot" in back
    assert KnowledgeArticle.objects.count() == len(DEMO_ARTICLES)


def test_the_demo_keeps_what_the_admin_changed():
    run_demo()
    tenant = Tenant.objects.get()
    other = BotConfig.objects.create(tenant=tenant, name="Admin's own bot")
    inbox = Inbox.objects.get()
    inbox.bot = other
    inbox.save()
    KnowledgeArticle.objects.filter(question__startswith="Thank you").delete()
    edited = KnowledgeArticle.objects.get(question__startswith="What are your opening hours")
    edited.answer = "We never close."
    edited.save()
    state = snapshot()

    output = run_demo()

    assert snapshot() == state
    assert "another bot" in output


def test_the_demo_articles_are_chunked_and_retrievable_in_both_languages():
    output = run_demo()
    tenant = Tenant.objects.get()

    assert KnowledgeSource.objects.filter(tenant=tenant).count() == len(DEMO_ARTICLES)
    assert re.search(r"\d+ knowledge chunks", output)
    english = retrieve(tenant=tenant, query="How long does shipping take?", k=1)
    chinese = retrieve(tenant=tenant, query="怎么退货", k=1)
    assert "ship" in english[0].title.lower()
    assert "退" in chinese[0].title


def test_a_demo_set_up_before_chunks_existed_gets_them_on_the_next_run():
    run_demo()
    KnowledgeSource.objects.all().delete()  # as a database from before this version

    output = run_demo()

    assert KnowledgeSource.objects.count() == len(DEMO_ARTICLES)
    assert "knowledge chunks" in output
