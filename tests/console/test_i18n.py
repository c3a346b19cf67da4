"""The console's pages and API speak the language the browser asks for: Simplified Chinese for
zh-CN, English for en and for languages the helpdesk does not speak."""

import json
import re

import pytest

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def bootstrap(response) -> dict:
    match = re.search(
        r'<script id="console-bootstrap" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page carries its bootstrap data"
    return json.loads(match[1])


def test_the_login_page_is_chinese_for_a_chinese_browser(client):
    page = client.get("/console/login/", **ZH).content.decode()

    assert '<html lang="zh-hans">' in page
    assert "<h1>登录客服工作台</h1>" in page
    assert ">用户名</label>" in page
    assert "Sign in" not in page


def test_the_login_page_is_english_for_an_english_browser(client):
    page = client.get("/console/login/", **EN).content.decode()

    assert '<html lang="en">' in page
    assert "<h1>Sign in to the agent console</h1>" in page
    assert "登录" not in page


def test_a_language_the_helpdesk_does_not_speak_gets_english(client):
    page = client.get("/console/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr").content.decode()

    assert "<h1>Sign in to the agent console</h1>" in page


def test_a_failed_sign_in_is_told_in_chinese(client, agent):
    response = client.post(
        "/console/login/", {"username": agent.username, "password": "wrong"}, **ZH
    )

    assert "请输入一个正确的" in response.content.decode()  # Django's own message, translated


def test_the_console_page_and_its_catalog_are_chinese(agent_client):
    response = agent_client.get("/console/", **ZH)

    page = response.content.decode()
    assert "<h2>选择一个会话</h2>" in page
    assert 'placeholder="输入回复…"' in page
    data = bootstrap(response)
    assert data["language"] == "zh-hans"
    assert data["i18n"]["catalog"]["Take over"] == "接管"
    assert data["i18n"]["catalog"]["%(open)s chat"] == ["%(open)s 个会话"]
    assert data["i18n"]["plural"] == "0"
    assert set(data["i18n"]) == {"catalog", "plural", "formats"}


def test_the_console_page_is_english_with_an_empty_catalog(agent_client):
    response = agent_client.get("/console/", **EN)

    page = response.content.decode()
    assert "<h2>Pick a conversation</h2>" in page
    data = bootstrap(response)
    assert data["language"] == "en"
    assert data["i18n"]["catalog"] == {}


def test_the_reports_page_is_chinese(agent_client):
    page = agent_client.get("/console/metrics/", **ZH).content.decode()

    assert "<h1>报表</h1>" in page
    assert "转人工率" in page


def test_an_api_error_message_follows_the_browser(agent_client):
    zh = agent_client.get("/console/api/conversations/999999", **ZH)
    en = agent_client.get("/console/api/conversations/999999", **EN)

    assert zh.status_code == en.status_code == 404
    assert zh.json()["error"] == {"code": "not_found", "message": "找不到该会话。"}
    assert en.json()["error"] == {"code": "not_found", "message": "Conversation not found."}
