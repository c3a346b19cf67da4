"""The console's language switch: saved for the agent, followed by the console and the admin
before the browser's language, remembered by the sign-in page."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def switch(client, language, **extra):
    return client.post("/console/language/", {"language": language, **extra}, **EN)


def test_choosing_chinese_saves_it_and_the_console_speaks_it_over_an_english_browser(
    agent_client, agent
):
    response = switch(agent_client, "zh-hans", next="/console/reports/")

    assert response.status_code == 302
    assert response["Location"] == "/console/reports/"
    agent.membership.refresh_from_db()
    assert agent.membership.language == "zh-hans"
    page = agent_client.get("/console/", **EN).content.decode()
    assert '"language": "zh-hans"' in page
    assert "退出登录" in page  # "Sign out"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


def test_the_choice_follows_the_agent_to_a_new_sign_in(client, agent):
    agent.membership.language = "zh-hans"
    agent.membership.save(update_fields=["language"])

    client.force_login(agent)

    assert "退出登录" in client.get("/console/", **EN).content.decode()


def test_the_browsers_language_again_when_the_choice_is_cleared(agent_client, agent):
    switch(agent_client, "zh-hans")

    response = switch(agent_client, "")

    agent.membership.refresh_from_db()
    assert agent.membership.language == ""
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted
    assert "Sign out" in agent_client.get("/console/", **EN).content.decode()
    assert "退出登录" in agent_client.get("/console/", **ZH).content.decode()


def test_the_sign_in_page_speaks_the_last_choice_of_this_browser(agent_client):
    switch(agent_client, "zh-hans")
    agent_client.post("/console/logout/")

    page = agent_client.get("/console/login/", **EN).content.decode()

    assert "登录" in page


@pytest.mark.parametrize("language", ["fr", "zh-CN", "x" * 500])
def test_a_language_not_offered_is_a_400_and_changes_nothing(agent_client, agent, language):
    response = switch(agent_client, language)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    agent.membership.refresh_from_db()
    assert agent.membership.language == ""


def test_a_nul_byte_is_refused_before_anything_is_saved(agent_client, agent):
    assert switch(agent_client, "en\x00").status_code == 400
    agent.membership.refresh_from_db()
    assert agent.membership.language == ""


def test_a_next_on_another_site_goes_to_the_console_instead(agent_client):
    response = switch(agent_client, "en", next="https://evil.example/")

    assert response["Location"] == "/console/"


def test_get_is_refused_and_anonymous_users_are_sent_to_sign_in(client, agent_client):
    assert agent_client.get("/console/language/").status_code == 405
    anonymous = client.__class__().post("/console/language/", {"language": "en"})
    assert anonymous.status_code == 302
    assert "/console/login/" in anonymous["Location"]


def test_the_switch_is_on_the_console_and_the_reports_page(agent_client):
    for path in ("/console/", "/console/metrics/"):
        page = agent_client.get(path, **EN).content.decode()
        assert 'data-testid="language-select"' in page, path
        assert ">简体中文</option>" in page
