"""The widget's language, chosen by the server when the widget asks for its token: the page's
data-locale, then the inbox's language, then the browser's languages, then English. The visitor's
contact remembers it, and the greeting comes in it."""

import json

import pytest
from django.test import Client

from helpdesk.conversations.models import Contact
from helpdesk.tenants.models import BuiltInText
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

ZH_GREETING = "您好！请问有什么可以帮您？"
EN_GREETING = "Hi! How can we help?"


def token(inbox, accept_language=None, **body):
    headers = {"Origin": ORIGIN}
    if accept_language:
        headers["Accept-Language"] = accept_language
    response = Client().post(
        "/widget/api/visitor",
        data=json.dumps({"inbox": inbox.public_key, **body}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_nothing_said_is_english(inbox):
    body = token(inbox)

    assert (body["locale"], body["greeting"]) == ("en", EN_GREETING)
    assert Contact.objects.get().language == "en"


@pytest.mark.parametrize("languages", [["zh-CN", "en"], ["zh"], ["fr-FR", "zh-Hans-CN"]])
def test_the_first_browser_language_we_speak_wins(inbox, languages):
    body = token(inbox, languages=languages)

    assert (body["locale"], body["greeting"]) == ("zh-hans", ZH_GREETING)
    assert Contact.objects.get().language == "zh-hans"


def test_without_the_widgets_list_the_accept_language_header_is_read(inbox):
    assert token(inbox, accept_language="zh-CN,zh;q=0.9,en;q=0.8")["locale"] == "zh-hans"


def test_the_inboxs_language_beats_the_browsers(inbox):
    inbox.language = "zh-hans"
    inbox.save(update_fields=["language"])

    assert token(inbox, languages=["en-US"])["locale"] == "zh-hans"


def test_data_locale_beats_the_inbox_and_the_browser(inbox):
    inbox.language = "zh-hans"
    inbox.save(update_fields=["language"])

    body = token(inbox, locale="en", languages=["zh-CN"])

    assert (body["locale"], body["greeting"]) == ("en", EN_GREETING)


def test_a_locale_we_do_not_speak_is_passed_over(inbox):
    assert token(inbox, locale="fr", languages=["zh-TW"])["locale"] == "zh-hans"


@pytest.mark.parametrize(
    "body",
    [
        {"locale": 12, "languages": "zh-CN"},
        {"locale": ["zh"], "languages": [None, 3, {"a": 1}]},
        {"locale": "x" * 5000, "languages": ["y" * 60] * 100},
    ],
)
def test_malformed_hints_are_ignored_not_errors(inbox, body):
    assert token(inbox, **body)["locale"] == "en"


def test_the_inboxs_own_greeting_is_said_in_every_language(inbox):
    inbox.greeting = "Welcome to Acme!"
    inbox.save(update_fields=["greeting"])

    assert token(inbox, languages=["zh-CN"])["greeting"] == "Welcome to Acme!"


def test_a_tenants_greeting_for_the_language_is_used(inbox):
    BuiltInText.objects.create(
        tenant=inbox.tenant, key="greeting", language="zh-hans", text="欢迎光临！"
    )

    assert token(inbox, languages=["zh-CN"])["greeting"] == "欢迎光临！"
    assert token(inbox, languages=["en"])["greeting"] == EN_GREETING


def test_a_returning_visitor_who_switches_language_is_remembered_in_the_new_one(inbox):
    first = token(inbox, languages=["en"])

    token(inbox, token=first["token"], languages=["zh-CN"])

    assert Contact.objects.get().language == "zh-hans"
