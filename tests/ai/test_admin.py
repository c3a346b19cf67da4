"""The AI admins (bots, knowledge articles, token usage), driven through the test client.

The client is logged in as the admin of ``tenant``; ``other_tenant``'s rows must be invisible,
unreachable and untouchable. The bot's API key is write-only and encrypted at rest.
"""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from helpdesk.ai.forms import MAX_HANDOFF_KEYWORDS
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSource
from helpdesk.ai.knowledge.services import articles_index
from helpdesk.ai.models import BotConfig, KnowledgeArticle, TokenUsage
from helpdesk.conversations.models import Message
from helpdesk.tenants.models import Inbox
from tests.factories import ConversationFactory, InboxFactory
from tests.support.admin_urls import admin_url, inbox_form_data

pytestmark = pytest.mark.django_db

KEY = "sk-test-6f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f"
MISSING_ID = 999_999
_client_ids = itertools.count(1)


def make_bot(tenant, name="Support bot", key="", **fields) -> BotConfig:
    bot = BotConfig(tenant=tenant, name=name, **fields)
    bot.api_key = key
    bot.save()
    return bot


def bot_post(bot: BotConfig | None = None, **overrides) -> dict:
    """What the bot form posts: the bot's values (or the defaults), then ``overrides``."""
    bot = bot or BotConfig(name="New bot")
    data = {
        "name": bot.name,
        "is_active": "on" if bot.is_active else "",
        "provider": bot.provider,
        "base_url": bot.base_url,
        "api_key": "",
        "model": bot.model,
        "system_prompt": bot.system_prompt,
        "context_turns": bot.context_turns,
        "context_token_budget": bot.context_token_budget,
        "max_tokens": bot.max_tokens,
        "temperature": bot.temperature,
        "streaming": "on" if bot.streaming else "",
        "batch_window_ms": bot.batch_window_ms,
        "delta_interval_ms": bot.delta_interval_ms,
        "handoff_keywords": bot.handoff_keywords,
        "fallback_message": bot.fallback_message,
        "knowledge_chunks": bot.knowledge_chunks,
        "answer_only_from_knowledge": "on" if bot.answer_only_from_knowledge else "",
        "no_knowledge_message": bot.no_knowledge_message,
        "request_timeout_seconds": bot.request_timeout_seconds,
        "max_retries": bot.max_retries,
        "breaker_failure_threshold": bot.breaker_failure_threshold,
        "breaker_cooldown_seconds": bot.breaker_cooldown_seconds,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def form_errors(response) -> dict:
    return dict(response.context["adminform"].form.errors)


def stored_key_column(bot: BotConfig) -> str:
    """The raw database value, read past the ORM."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key_encrypted FROM ai_botconfig WHERE id = %s", [bot.pk])
        return cursor.fetchone()[0]


def token_usage(tenant, conversation, *, prompt, completion, model="gpt-4o-mini", **fields):
    message = Message.objects.create(
        tenant=tenant,
        conversation=conversation,
        seq=next(_client_ids),
        client_id=f"bot-{next(_client_ids)}",
        sender_type=Message.SenderType.BOT,
        text="An answer.",
    )
    return TokenUsage.objects.create(
        tenant=tenant,
        conversation=conversation,
        message=message,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        source=TokenUsage.Source.API,
        **fields,
    )


@pytest.fixture
def bot(tenant):
    return make_bot(tenant, key=KEY)


@pytest.fixture
def foreign_bot(other_tenant):
    return make_bot(other_tenant, name="Globex bot", key="sk-globex-secret-key-000")


# --- Bots: tenant isolation ----------------------------------------------------------------------


def test_bot_changelist_lists_only_the_own_tenants_bots(tenant_admin_client, bot, foreign_bot):
    response = tenant_admin_client.get(admin_url(BotConfig))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [bot]
    html = response.content.decode()
    assert bot.name in html
    assert foreign_bot.name not in html


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_tenants_bot_answers_404_like_a_missing_one(tenant_admin_client, foreign_bot, view):
    foreign = tenant_admin_client.get(admin_url(BotConfig, view, foreign_bot.pk))
    missing = tenant_admin_client.get(admin_url(BotConfig, view, MISSING_ID))

    assert foreign.status_code == 404
    assert missing.status_code == 404


def test_changing_another_tenants_bot_by_post_answers_404(tenant_admin_client, foreign_bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", foreign_bot.pk),
        bot_post(foreign_bot, name="Hijacked", api_key="sk-attacker-key"),
    )

    assert response.status_code == 404
    foreign_bot.refresh_from_db()
    assert foreign_bot.name == "Globex bot"
    assert foreign_bot.api_key == "sk-globex-secret-key-000"


def test_a_tenant_admin_adds_a_bot_in_their_tenant(tenant_admin_client, tenant, other_tenant):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "add"),
        bot_post(provider="openai", api_key=KEY, tenant=other_tenant.pk),
    )

    assert response.status_code == 302, form_errors(response)
    created = BotConfig.objects.get(name="New bot")
    assert created.tenant == tenant
    assert created.api_key == KEY


@pytest.mark.parametrize(
    ("provider", "answer_only", "refused"),
    [("faq", False, True), ("openai", True, True), ("openai", False, False)],
)
def test_a_bot_that_answers_from_knowledge_must_read_some(
    tenant_admin_client, provider, answer_only, refused
):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "add"),
        bot_post(
            provider=provider,
            knowledge_chunks=0,
            answer_only_from_knowledge="on" if answer_only else "",
        ),
    )

    if refused:
        assert "must read at least one passage" in str(form_errors(response)["knowledge_chunks"])
    else:
        assert response.status_code == 302, form_errors(response)


def test_the_bot_form_groups_every_knob_and_hides_the_tenant(tenant_admin_client, bot):
    response = tenant_admin_client.get(admin_url(BotConfig, "change", bot.pk))

    assert response.status_code == 200
    fieldsets = {
        name: list(options["fields"]) for name, options in response.context["adminform"].fieldsets
    }
    assert list(fieldsets) == [
        None,
        "Provider & endpoint",
        "Prompt & context",
        "Knowledge",
        "Streaming & batching",
        "Handoff & fallback",
        "Reliability",
        "Record",
    ]
    shown = {field for fields in fieldsets.values() for field in fields}
    editable = {
        f.name
        for f in BotConfig._meta.concrete_fields
        if f.editable and f.name not in {"id", "tenant"}
    }
    assert editable <= shown  # a new knob on the model must be placed in a fieldset
    assert "tenant" not in shown
    assert 'name="tenant"' not in response.content.decode()


def test_a_superuser_sees_and_picks_the_tenant(admin_client, bot, foreign_bot, other_tenant):
    changelist = admin_client.get(admin_url(BotConfig))
    assert set(changelist.context["cl"].result_list) == {bot, foreign_bot}

    add = admin_client.get(admin_url(BotConfig, "add"))
    assert "tenant" in add.context["adminform"].form.fields

    response = admin_client.post(
        admin_url(BotConfig, "add"), bot_post(name="Root-made", tenant=other_tenant.pk)
    )
    assert response.status_code == 302, form_errors(response)
    assert BotConfig.objects.get(name="Root-made").tenant == other_tenant


# --- Bots: the API key ---------------------------------------------------------------------------


def test_the_api_key_is_encrypted_at_rest(tenant_admin_client, bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, api_key="sk-brand-new-key-42")
    )

    assert response.status_code == 302, form_errors(response)
    column = stored_key_column(bot)
    assert column
    assert "sk-brand-new-key-42" not in column
    bot.refresh_from_db()
    assert bot.api_key == "sk-brand-new-key-42"


def test_the_api_key_never_appears_in_the_change_page(tenant_admin_client, bot):
    response = tenant_admin_client.get(admin_url(BotConfig, "change", bot.pk))

    html = response.content.decode()
    assert KEY not in html
    assert stored_key_column(bot) not in html
    assert 'type="password" name="api_key"' in html
    assert "A key is set" in html
    assert 'name="clear_api_key"' in html


def test_the_api_key_is_not_echoed_when_the_form_has_errors(tenant_admin_client, bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk),
        bot_post(bot, api_key="sk-typed-but-not-saved", temperature=9),
    )

    assert response.status_code == 200
    assert "sk-typed-but-not-saved" not in response.content.decode()


def test_without_a_key_the_form_says_so(tenant_admin_client, tenant):
    keyless = make_bot(tenant, name="Keyless")
    response = tenant_admin_client.get(admin_url(BotConfig, "change", keyless.pk))

    html = response.content.decode()
    assert "No key is set" in html
    assert response.context["adminform"].form.fields["clear_api_key"].disabled


def test_a_blank_key_keeps_the_stored_key(tenant_admin_client, bot):
    column = stored_key_column(bot)

    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, name="Renamed bot")
    )

    assert response.status_code == 302, form_errors(response)
    bot.refresh_from_db()
    assert bot.name == "Renamed bot"
    assert bot.api_key == KEY
    assert stored_key_column(bot) == column


def test_clear_removes_the_stored_key(tenant_admin_client, bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, clear_api_key="on")
    )

    assert response.status_code == 302, form_errors(response)
    bot.refresh_from_db()
    assert bot.api_key_encrypted == ""
    assert bot.api_key == ""


def test_a_new_key_and_clear_together_is_an_error(tenant_admin_client, bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk),
        bot_post(bot, api_key="sk-other", clear_api_key="on"),
    )

    assert response.status_code == 200
    assert list(form_errors(response)) == ["clear_api_key"]
    bot.refresh_from_db()
    assert bot.api_key == KEY


def test_the_change_history_names_the_key_but_never_holds_it(tenant_admin_client, bot):
    from django.contrib.admin.models import LogEntry

    tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, api_key="sk-rotated-key-77")
    )

    entry = LogEntry.objects.get(object_id=str(bot.pk))
    assert "API key" in entry.get_change_message()
    assert "sk-rotated-key-77" not in entry.change_message
    history = tenant_admin_client.get(admin_url(BotConfig, "history", bot.pk))
    assert "sk-rotated-key-77" not in history.content.decode()


def test_the_change_view_marks_the_key_as_sensitive(tenant_admin_client, bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, api_key="sk-rotated-key-77")
    )

    # Django's error reports then print the POSTed key as stars.
    assert list(response.wsgi_request.sensitive_post_parameters) == ["api_key"]


# --- Bots: validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_url": "ftp://models.example.com/v1"}, "base_url"),
        ({"base_url": "not a url"}, "base_url"),
        ({"base_url": "https://user:secret@api.example.com/v1"}, "base_url"),
        ({"provider": "openai", "model": ""}, "model"),
        ({"temperature": "2.5"}, "temperature"),
        ({"context_turns": "51"}, "context_turns"),
        ({"context_token_budget": "100"}, "context_token_budget"),
        ({"max_tokens": "0"}, "max_tokens"),
        ({"delta_interval_ms": "5"}, "delta_interval_ms"),
        ({"batch_window_ms": "60000"}, "batch_window_ms"),
        ({"max_retries": "6"}, "max_retries"),
        ({"request_timeout_seconds": "0.5"}, "request_timeout_seconds"),
        ({"breaker_failure_threshold": "0"}, "breaker_failure_threshold"),
        ({"breaker_cooldown_seconds": "4000"}, "breaker_cooldown_seconds"),
        ({"api_key": "sk-with a space"}, "api_key"),
        ({"handoff_keywords": "\n".join(f"word{i}" for i in range(MAX_HANDOFF_KEYWORDS + 1))},
         "handoff_keywords"),
        ({"handoff_keywords": "x" * 51}, "handoff_keywords"),
    ],
)  # fmt: skip
def test_bad_values_are_field_errors(tenant_admin_client, bot, overrides, field):
    before = BotConfig.objects.values().get(pk=bot.pk)

    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, **overrides)
    )

    assert response.status_code == 200
    assert field in form_errors(response)
    assert BotConfig.objects.values().get(pk=bot.pk) == before


def test_the_faq_provider_needs_no_model(tenant_admin_client, bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk), bot_post(bot, provider="faq", model="")
    )
    assert response.status_code == 302, form_errors(response)


def test_a_pasted_chat_completions_url_is_trimmed_to_the_base_url(tenant_admin_client, bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk),
        bot_post(bot, base_url="http://localhost:8080/v1/chat/completions/"),
    )

    assert response.status_code == 302, form_errors(response)
    bot.refresh_from_db()
    assert bot.base_url == "http://localhost:8080/v1"


def test_handoff_keywords_are_one_per_line_without_blanks_or_repeats(tenant_admin_client, bot):
    response = tenant_admin_client.post(
        admin_url(BotConfig, "change", bot.pk),
        bot_post(bot, handoff_keywords="  人工 \n\nHuman\nhuman\n refund now \n"),
    )

    assert response.status_code == 302, form_errors(response)
    bot.refresh_from_db()
    assert bot.handoff_keywords == "人工\nHuman\nrefund now"


# --- Inboxes choose among the tenant's bots ------------------------------------------------------


def test_the_inbox_form_offers_only_the_own_tenants_bots(
    tenant_admin_client, inbox, bot, foreign_bot
):
    response = tenant_admin_client.get(admin_url(Inbox, "change", inbox.pk))

    choices = response.context["adminform"].form.fields["bot"].queryset
    assert list(choices) == [bot]
    assert foreign_bot.name not in response.content.decode()


def test_a_tenant_admin_picks_a_bot_for_an_inbox(tenant_admin_client, inbox, bot):
    response = tenant_admin_client.post(
        admin_url(Inbox, "change", inbox.pk), inbox_post(inbox, bot=bot.pk)
    )

    assert response.status_code == 302
    inbox.refresh_from_db()
    assert inbox.bot == bot


def test_a_crafted_post_with_another_tenants_bot_is_refused(
    tenant_admin_client, inbox, foreign_bot
):
    response = tenant_admin_client.post(
        admin_url(Inbox, "change", inbox.pk), inbox_post(inbox, bot=foreign_bot.pk)
    )

    assert response.status_code == 200
    assert list(form_errors(response)) == ["bot"]
    inbox.refresh_from_db()
    assert inbox.bot is None


def inbox_post(inbox: Inbox, **overrides) -> dict:
    return inbox_form_data(
        **{
            "name": inbox.name,
            "allowed_origins": inbox.allowed_origins,
            "greeting": inbox.greeting,
            "reopen_to": inbox.reopen_to,
            **overrides,
        }
    )


# --- Knowledge articles --------------------------------------------------------------------------


@pytest.fixture
def articles(tenant, other_tenant):
    ours = KnowledgeArticle.objects.create(
        tenant=tenant, question="How do I return an item?", answer="Within 30 days.",
        keywords="return, 退货",
    )  # fmt: skip
    theirs = KnowledgeArticle.objects.create(
        tenant=other_tenant, question="Globex return policy", answer="Never.", keywords="return"
    )
    return ours, theirs


def test_article_changelist_and_search_show_only_the_own_tenants(tenant_admin_client, articles):
    ours, theirs = articles

    listed = tenant_admin_client.get(admin_url(KnowledgeArticle))
    searched = tenant_admin_client.get(admin_url(KnowledgeArticle), {"q": "return"})

    assert list(listed.context["cl"].result_list) == [ours]
    assert list(searched.context["cl"].result_list) == [ours]
    assert theirs.question not in searched.content.decode()


def test_articles_filter_by_active(tenant_admin_client, tenant, articles):
    ours, _ = articles
    hidden = KnowledgeArticle.objects.create(
        tenant=tenant, question="Old", answer="Gone.", is_active=False
    )

    active = tenant_admin_client.get(admin_url(KnowledgeArticle), {"is_active__exact": "1"})
    inactive = tenant_admin_client.get(admin_url(KnowledgeArticle), {"is_active__exact": "0"})

    assert list(active.context["cl"].result_list) == [ours]
    assert list(inactive.context["cl"].result_list) == [hidden]


@pytest.mark.parametrize("view", ["change", "delete"])
def test_another_tenants_article_answers_404(tenant_admin_client, articles, view):
    _, theirs = articles
    assert tenant_admin_client.get(admin_url(KnowledgeArticle, view, theirs.pk)).status_code == 404
    response = tenant_admin_client.post(
        admin_url(KnowledgeArticle, view, theirs.pk),
        {"question": "Hijacked", "answer": "x", "is_active": "on", "post": "yes"},
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.question == "Globex return policy"


def test_a_tenant_admin_adds_an_article(tenant_admin_client, tenant, other_tenant):
    response = tenant_admin_client.post(
        admin_url(KnowledgeArticle, "add"),
        {
            "question": "Do you ship abroad? / 可以寄到国外吗？",
            "answer": "Yes, to 40 countries.",
            "keywords": "international, 国际",
            "is_active": "on",
            "tenant": other_tenant.pk,
        },
    )

    assert response.status_code == 302
    assert KnowledgeArticle.objects.get(answer="Yes, to 40 countries.").tenant == tenant


def test_the_deactivate_action_ignores_other_tenants_articles(tenant_admin_client, articles):
    ours, theirs = articles
    response = tenant_admin_client.post(
        admin_url(KnowledgeArticle),
        {"action": "deactivate", "_selected_action": [ours.pk, theirs.pk]},
    )

    assert response.status_code == 302
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.is_active, theirs.is_active) == (False, True)


def chunk_texts(tenant) -> list[str]:
    return list(
        KnowledgeChunk.objects.filter(tenant=tenant).order_by("pk").values_list("text", flat=True)
    )


def test_an_article_added_or_edited_in_the_admin_is_chunked_at_once(tenant_admin_client, tenant):
    fields = {"question": "Do you ship abroad?", "answer": "Yes, to 40 countries."}
    fields["is_active"] = "on"
    tenant_admin_client.post(admin_url(KnowledgeArticle, "add"), fields)
    added = KnowledgeArticle.objects.get()
    assert chunk_texts(tenant) == ["Yes, to 40 countries."]

    tenant_admin_client.post(
        admin_url(KnowledgeArticle, "change", added.pk), {**fields, "answer": "To 50 countries."}
    )

    assert chunk_texts(tenant) == ["To 50 countries."]
    assert KnowledgeSource.objects.get().title == "Do you ship abroad?"


def test_the_activate_and_deactivate_actions_add_and_drop_chunks(
    tenant_admin_client, tenant, articles
):
    ours, _ = articles
    # Filtered on "active", as an admin would: the action's rows then drop out of the filter.
    url = admin_url(KnowledgeArticle) + "?is_active__exact=1"
    tenant_admin_client.post(url, {"action": "activate", "_selected_action": [ours.pk]})
    assert chunk_texts(tenant) == ["Within 30 days."]

    tenant_admin_client.post(url, {"action": "deactivate", "_selected_action": [ours.pk]})

    assert chunk_texts(tenant) == []


def test_deleting_articles_in_the_admin_deletes_their_chunks(tenant_admin_client, tenant, articles):
    ours, _ = articles
    second = KnowledgeArticle.objects.create(tenant=tenant, question="Hours?", answer="9 to 5.")
    articles_index(tenant=tenant, article_ids=[ours.pk, second.pk])

    tenant_admin_client.post(admin_url(KnowledgeArticle, "delete", ours.pk), {"post": "yes"})
    assert chunk_texts(tenant) == ["9 to 5."]
    tenant_admin_client.post(
        admin_url(KnowledgeArticle),
        {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"},
    )

    assert chunk_texts(tenant) == []
    assert not KnowledgeSource.objects.filter(tenant=tenant).exists()


# --- Token usage ---------------------------------------------------------------------------------


@pytest.fixture
def usages(tenant, other_tenant):
    conversation = ConversationFactory(tenant=tenant, inbox=InboxFactory(tenant=tenant))
    foreign = ConversationFactory(tenant=other_tenant, inbox=InboxFactory(tenant=other_tenant))
    ours = [
        token_usage(tenant, conversation, prompt=120, completion=30),
        token_usage(tenant, conversation, prompt=200, completion=50, model="gpt-4o"),
    ]
    theirs = token_usage(other_tenant, foreign, prompt=9000, completion=1000, model="secret-model")
    return conversation, ours, theirs


def test_token_usage_lists_only_the_own_tenants_rows_with_totals(tenant_admin_client, usages):
    conversation, ours, theirs = usages

    response = tenant_admin_client.get(admin_url(TokenUsage))

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == set(ours)
    assert response.context["totals"] == {
        "replies": 2,
        "prompt": 320,
        "completion": 80,
        "total": 400,
    }
    html = response.content.decode()
    assert "<strong>400</strong> tokens in all" in html
    conversation_url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    assert f'href="{conversation_url}"' in html
    # Not even the other tenant's model name reaches the filter.
    assert "secret-model" not in html
    assert "9000" not in html


def test_token_usage_totals_follow_the_filters(tenant_admin_client, usages):
    response = tenant_admin_client.get(admin_url(TokenUsage), {"model": "gpt-4o"})

    assert response.context["totals"] == {
        "replies": 1,
        "prompt": 200,
        "completion": 50,
        "total": 250,
    }


def test_token_usage_by_date(tenant_admin_client, tenant, usages):
    conversation, ours, _ = usages
    old = token_usage(tenant, conversation, prompt=1, completion=1)
    TokenUsage.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))

    this_year = timezone.now().year
    response = tenant_admin_client.get(admin_url(TokenUsage), {"created_at__year": this_year})

    assert set(response.context["cl"].result_list) == set(ours)


def test_token_usage_is_read_only_and_isolated(tenant_admin_client, usages):
    _, ours, theirs = usages

    assert tenant_admin_client.get(admin_url(TokenUsage, "add")).status_code == 403
    view = tenant_admin_client.get(admin_url(TokenUsage, "change", ours[0].pk))
    assert view.status_code == 200
    assert 'name="prompt_tokens"' not in view.content.decode()
    response = tenant_admin_client.post(
        admin_url(TokenUsage, "change", ours[0].pk), {"prompt_tokens": 1}
    )
    assert response.status_code == 403
    assert tenant_admin_client.get(admin_url(TokenUsage, "delete", ours[0].pk)).status_code == 403
    assert tenant_admin_client.get(admin_url(TokenUsage, "change", theirs.pk)).status_code == 404
    ours[0].refresh_from_db()
    assert ours[0].prompt_tokens == 120
