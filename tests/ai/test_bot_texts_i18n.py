"""The bot's built-in texts in the customer's language: what the helpdesk says by itself (the
fallback, the no-knowledge message, the handoff notice, the change lines) is written in the
language of the customer's widget, whatever language the agent, the worker or the request
that causes it speaks; a bot's own wording is said as it is."""

import pytest
from django.utils import translation

from helpdesk.ai.fallback import fallback_post, no_knowledge_post
from helpdesk.ai.forms import BotConfigForm
from helpdesk.ai.models import BotConfig
from helpdesk.conversations.lifecycle import conversation_handoff, conversation_takeover
from helpdesk.conversations.models import Conversation, Message
from helpdesk.tenants.models import BuiltInText
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db

ZH_FALLBACK = "抱歉，这个问题我暂时无法回答。正在为您转接人工客服，稍后会在这里回复您。"
EN_FALLBACK = (
    "Sorry, I can't answer that right now. I'm passing you to a member of our team, "
    "who will reply here shortly."
)
ZH_NO_KNOWLEDGE = "在帮助文章中没有找到相关内容，正在为您转接人工客服，稍后会在这里回复您。"
ZH_HANDOFF = "正在为您转接人工客服，请稍候，客服会在这里回复您。"
EN_HANDOFF = "You're being connected to a member of our team. They'll reply here shortly."


def _speaks(conversation, language):
    conversation.contact.language = language
    conversation.contact.save(update_fields=["language"])


def _event_texts(conversation) -> list[str]:
    return list(
        Message.objects.filter(conversation=conversation, kind=Message.Kind.EVENT)
        .order_by("seq")
        .values_list("text", flat=True)
    )


def test_a_new_bot_has_no_wording_of_its_own():
    form = BotConfigForm()

    assert not form.initial.get("fallback_message")
    assert BotConfig().fallback_message == ""
    assert BotConfig().no_knowledge_message == ""


def test_the_admin_add_page_of_a_chinese_admin_explains_the_texts_in_chinese(tenant_admin_client):
    page = tenant_admin_client.get(
        admin_url(BotConfig, "add"), HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()

    assert "服务商与接口地址" in page  # a fieldset title
    assert "转人工与兜底回复" in page
    assert "内置文本" in page  # the help text names where the per-language wording lives


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", ZH_HANDOFF), ("en", EN_HANDOFF)])
def test_the_handoff_notice_is_in_the_customers_language_not_the_requests(
    tenant, conversation, language, expected
):
    _speaks(conversation, language)
    other = "en" if language == "zh-hans" else "zh-hans"

    with translation.override(other):
        conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="keyword")

    assert _event_texts(conversation) == [expected]


def test_without_a_widget_language_the_inboxs_language_is_used(tenant, conversation):
    conversation.inbox.language = "zh-hans"
    conversation.inbox.save(update_fields=["language"])

    conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="keyword")

    assert _event_texts(conversation) == [ZH_HANDOFF]


def test_a_tenants_wording_for_a_language_replaces_ours_for_that_language_only(
    tenant, other_tenant, conversation
):
    BuiltInText.objects.create(
        tenant=tenant, key=BuiltInText.Key.HANDOFF, language="zh-hans", text="马上为您转人工。"
    )
    BuiltInText.objects.create(
        tenant=other_tenant, key=BuiltInText.Key.HANDOFF, language="en", text="Not yours."
    )
    _speaks(conversation, "zh-hans")

    conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="keyword")

    assert _event_texts(conversation) == ["马上为您转人工。"]


def test_another_tenants_wording_is_never_used(tenant, other_tenant, conversation):
    BuiltInText.objects.create(
        tenant=other_tenant, key=BuiltInText.Key.HANDOFF, language="en", text="Not yours."
    )
    _speaks(conversation, "en")

    conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="keyword")

    assert _event_texts(conversation) == [EN_HANDOFF]


def test_an_agents_takeover_line_is_written_in_the_customers_language(tenant, conversation, agent):
    _speaks(conversation, "zh-hans")

    with translation.override("en"):  # the agent's console speaks English
        conversation_takeover(tenant=tenant, conversation_id=conversation.pk, agent=agent)

    [line] = _event_texts(conversation)
    assert "加入了会话" in line
    assert "joined" not in line


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", ZH_FALLBACK), ("en", EN_FALLBACK)])
def test_an_inbox_without_a_bot_falls_back_in_the_customers_language(
    tenant, conversation, language, expected
):
    _speaks(conversation, language)

    fallback_post(tenant=tenant, conversation_id=conversation.pk, client_id="fb-1", reason="test")

    reply = Message.objects.get(conversation=conversation, sender_type=Message.SenderType.BOT)
    assert reply.text == expected
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.QUEUED


def test_a_bot_without_its_own_wording_says_the_built_in_no_knowledge_text(tenant, conversation):
    conversation.inbox.bot = BotConfig.objects.create(tenant=tenant)
    conversation.inbox.save(update_fields=["bot"])
    _speaks(conversation, "zh-hans")

    no_knowledge_post(tenant=tenant, conversation_id=conversation.pk, client_id="nk-1")

    reply = Message.objects.get(conversation=conversation, sender_type=Message.SenderType.BOT)
    assert reply.text == ZH_NO_KNOWLEDGE


def test_a_bots_own_wording_is_said_in_any_language(tenant, conversation):
    conversation.inbox.bot = BotConfig.objects.create(
        tenant=tenant, fallback_message="Un moment, s'il vous plaît."
    )
    conversation.inbox.save(update_fields=["bot"])
    _speaks(conversation, "zh-hans")

    fallback_post(tenant=tenant, conversation_id=conversation.pk, client_id="fb-1", reason="test")

    reply = Message.objects.get(conversation=conversation, sender_type=Message.SenderType.BOT)
    assert reply.text == "Un moment, s'il vous plaît."
