"""The admin speaks the browser's language: Django's own strings and ours (the site's titles,
model names, choices, help texts, actions and messages)."""

import pytest

from helpdesk.ai.models import KnowledgeArticle
from helpdesk.tenants.models import Inbox, Membership
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_the_admin_index_is_chinese_for_a_chinese_browser(tenant_admin_client):
    page = tenant_admin_client.get("/admin/", **ZH).content.decode()

    assert "客服系统管理后台" in page  # our site header
    assert "<title>配置 | 客服系统后台</title>" in page
    assert "收件箱" in page  # our model's plural name


def test_the_admin_index_is_english_for_an_english_browser(tenant_admin_client):
    page = tenant_admin_client.get("/admin/", **EN).content.decode()

    assert "Helpdesk administration" in page
    assert "客服" not in page


def test_our_labels_choices_and_help_texts_are_chinese(tenant_admin_client, tenant):
    membership = Membership.objects.get(tenant=tenant)

    page = tenant_admin_client.get(
        admin_url(Membership, "change", membership.pk), **ZH
    ).content.decode()

    assert "该客服可同时处理的已分配会话数。" in page  # help text
    assert ">管理员</option>" in page  # a choice
    assert ">忙碌</option>" in page


def test_a_new_inbox_is_offered_in_chinese(tenant_admin_client):
    page = tenant_admin_client.get(admin_url(Inbox, "add"), **ZH).content.decode()

    assert "由谁首先回复。没有机器人时，会话直接进入排队。" in page
    assert "保存收件箱后即可获取嵌入代码。" in page
    assert ">简体中文</option>" in page  # the widget's language


def test_the_admin_follows_the_users_saved_language_over_the_browsers(client, tenant_admin):
    tenant_admin.membership.language = "zh-hans"
    tenant_admin.membership.save(update_fields=["language"])
    client.force_login(tenant_admin)  # the choice is read at sign-in

    page = client.get("/admin/", **EN).content.decode()

    assert "客服系统管理后台" in page


def test_an_action_and_its_message_are_chinese(tenant_admin_client, tenant):
    article = KnowledgeArticle.objects.create(tenant=tenant, question="Q?", answer="A.")

    changelist = tenant_admin_client.get(admin_url(KnowledgeArticle), **ZH).content.decode()
    response = tenant_admin_client.post(
        admin_url(KnowledgeArticle),
        {"action": "deactivate", "_selected_action": [article.pk]},
        follow=True,
        **ZH,
    )

    assert "让 FAQ 机器人停止使用所选文章" in changelist
    assert "已停用 1 篇文章。" in [str(m) for m in response.context["messages"]]
