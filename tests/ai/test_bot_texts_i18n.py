"""The bot's built-in texts in both languages: a new bot starts with its fallback and
no-knowledge texts in the language of the admin who makes it, and the texts the system itself
says (the handoff notice, the fallback of an inbox without a bot) follow the active language."""

import pytest
from django.utils import translation

from helpdesk.ai.fallback import fallback_post
from helpdesk.ai.forms import BotConfigForm
from helpdesk.ai.models import BotConfig
from helpdesk.conversations.lifecycle import conversation_handoff
from helpdesk.conversations.models import Conversation, Message
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db

ZH_FALLBACK = "抱歉，这个问题我暂时无法回答。正在为您转接人工客服，稍后会在这里回复您。"
EN_FALLBACK = (
    "Sorry, I can't answer that right now. I'm passing you to a member of our team, "
    "who will reply here shortly."
)
ZH_NO_KNOWLEDGE = "在帮助文章中没有找到相关内容，正在为您转接人工客服，稍后会在这里回复您。"
ZH_HANDOFF = "正在为您转接人工客服，请稍候，客服会在这里回复您。"


def test_a_new_bot_form_offers_the_default_texts_in_chinese():
    with translation.override("zh-hans"):
        form = BotConfigForm()

    assert form.initial["fallback_message"] == ZH_FALLBACK
    assert form.initial["no_knowledge_message"] == ZH_NO_KNOWLEDGE


def test_a_new_bot_form_offers_the_default_texts_in_english():
    with translation.override("en"):
        form = BotConfigForm()

    assert form.initial["fallback_message"] == EN_FALLBACK
    assert form.initial["no_knowledge_message"] == BotConfig().no_knowledge_message


def test_an_existing_bot_keeps_its_own_texts_in_any_language(tenant):
    bot = BotConfig.objects.create(tenant=tenant, fallback_message="Un moment, s'il vous plaît.")

    with translation.override("zh-hans"):
        form = BotConfigForm(instance=bot)

    assert form["fallback_message"].value() == "Un moment, s'il vous plaît."


def test_the_admin_add_page_of_a_chinese_admin_shows_chinese_defaults(tenant_admin_client):
    page = tenant_admin_client.get(
        admin_url(BotConfig, "add"), HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()

    assert ZH_FALLBACK in page
    assert "服务商与接口地址" in page  # a fieldset title
    assert "转人工与兜底回复" in page


def test_the_handoff_notice_follows_the_active_language(tenant, conversation):
    with translation.override("zh-hans"):
        conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason="keyword")

    notice = Message.objects.get(conversation=conversation, kind=Message.Kind.EVENT)
    assert notice.text == ZH_HANDOFF


def test_an_inbox_without_a_bot_falls_back_in_the_active_language(tenant, conversation):
    with translation.override("zh-hans"):
        fallback_post(
            tenant=tenant, conversation_id=conversation.pk, client_id="fb-1", reason="test"
        )

    reply = Message.objects.get(conversation=conversation, sender_type=Message.SenderType.BOT)
    assert reply.text == ZH_FALLBACK
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.QUEUED
