"""GET /widget/api/i18n: the widget's translations, Django's JSON catalog for a locale."""

import pytest
from django.test import Client

from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db


def get_catalog(query: str = "", **headers):
    return Client().get(f"/widget/api/i18n{query}", headers=headers)


def test_a_chinese_locale_gets_the_chinese_catalog():
    response = get_catalog("?locale=zh-CN", Origin=ORIGIN)

    assert response.status_code == 200
    body = response.json()
    assert body["locale"] == "zh-hans"
    assert body["catalog"]["Chat with us"] == "在线咨询"
    assert body["catalog"]["Write a message…"] == "请输入消息…"
    assert body["plural"] == "0"
    assert body["formats"]["DATE_INPUT_FORMATS"]
    # The same for every page: any origin reads it, and one cached copy serves them all.
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Origin" not in response.get("Vary", "")
    assert response["Content-Language"] == "zh-hans"


@pytest.mark.parametrize("locale", ["zh-hans", "zh-Hans", "zh", "ZH-cn"])
def test_every_spelling_of_simplified_chinese_is_served(locale):
    assert get_catalog(f"?locale={locale}").json()["locale"] == "zh-hans"


@pytest.mark.parametrize(
    "query", ["?locale=en", "?locale=fr", "?locale=", "", "?locale=" + "x" * 300]
)
def test_english_and_unsupported_locales_get_the_empty_english_catalog(query):
    body = get_catalog(query).json()

    assert body["locale"] == "en"
    assert body["catalog"] == {}


def test_the_catalog_is_cacheable_by_anyone():
    cache_control = get_catalog("?locale=zh-CN")["Cache-Control"]

    assert "public" in cache_control
    assert "max-age=3600" in cache_control


def test_a_preflight_is_answered_and_other_methods_are_refused():
    preflight = Client().options("/widget/api/i18n", headers={"Origin": ORIGIN})
    post = Client().post("/widget/api/i18n")

    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    assert post.status_code == 405
