"""Built-in texts: ours in each language, a tenant's own wording per language in the admin."""

import pytest

from helpdesk.tenants.models import BuiltInText
from helpdesk.tenants.texts import built_in_text, default_text, is_a_default
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db

Key = BuiltInText.Key


def test_every_built_in_text_has_a_chinese_and_an_english_wording():
    for key in Key:
        english, chinese = default_text(key, "en"), default_text(key, "zh-hans")
        assert english, key
        assert chinese not in ("", english), key


def test_a_language_we_do_not_speak_gets_the_sites():
    assert built_in_text(tenant_id=1, key=Key.GREETING, language="fr") == "Hi! How can we help?"
    assert built_in_text(tenant_id=1, key=Key.GREETING, language="zh-CN") == default_text(
        Key.GREETING, "zh-hans"
    )


def test_is_a_default_knows_our_wordings_in_every_language():
    assert is_a_default(Key.GREETING, default_text(Key.GREETING, "zh-hans"))
    assert is_a_default(Key.GREETING, " Hi! How can we help? ")
    assert not is_a_default(Key.GREETING, "Welcome to Acme!")


def test_a_tenant_admin_adds_a_wording_and_sees_ours_beside_it(tenant_admin_client, tenant):
    response = tenant_admin_client.post(
        admin_url(BuiltInText, "add"),
        {"key": "greeting", "language": "zh-hans", "text": "欢迎光临！"},
    )

    assert response.status_code == 302
    row = BuiltInText.objects.get()
    assert (row.tenant, row.text) == (tenant, "欢迎光临！")
    page = tenant_admin_client.get(admin_url(BuiltInText)).content.decode()
    assert default_text(Key.GREETING, "zh-hans") in page


def test_a_second_wording_for_the_same_language_is_a_form_error_not_a_crash(
    tenant_admin_client, tenant
):
    BuiltInText.objects.create(tenant=tenant, key="greeting", language="en", text="Hello!")

    response = tenant_admin_client.post(
        admin_url(BuiltInText, "add"),
        {"key": "greeting", "language": "en", "text": "Hi there!"},
    )

    assert response.status_code == 200
    assert "already has a wording in this language" in response.content.decode()
    assert BuiltInText.objects.count() == 1


def test_another_tenants_wording_is_not_found(tenant_admin_client, other_tenant):
    theirs = BuiltInText.objects.create(
        tenant=other_tenant, key="greeting", language="en", text="Theirs"
    )

    assert tenant_admin_client.get(admin_url(BuiltInText, "change", theirs.pk)).status_code == 404
    assert "Theirs" not in tenant_admin_client.get(admin_url(BuiltInText)).content.decode()
