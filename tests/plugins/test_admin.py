"""Plugin configurations in the tenant-scoped admin, with forms generated from the schema.

The client is logged in as the admin of ``tenant``; ``other_tenant`` has its own rows.
"""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from helpdesk.plugins.models import PluginConfig
from helpdesk.plugins.services import plugin_config_set
from tests.plugins.sample_plugins import FormPlugin, LifecyclePlugin

pytestmark = pytest.mark.django_db

ADD = reverse("admin:plugins_pluginconfig_add")
CHANGELIST = reverse("admin:plugins_pluginconfig_changelist")


def change_url(row):
    return reverse("admin:plugins_pluginconfig_change", args=[row.pk])


@pytest.fixture(autouse=True)
def _installed(install):
    install(FormPlugin, LifecyclePlugin)


def form_data(**overrides):
    """A complete add/change POST for FormPlugin, as its page would submit it."""
    data = {
        "plugin_id": "form_plugin",
        "enabled": "on",
        "order": "1",
        "config_for": "form_plugin",
        "cfg_title": "Welcome",
        "cfg_limit": "4",
        "cfg_active": "on",
        "cfg_patterns": "\\d+\nSKU-\\w+",
        "cfg_token": "",
        "cfg_mode": "fast",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_errors(response) -> dict[str, list[str]]:
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


# --- choosing a plugin, the generated form -------------------------------------------------------


def test_the_add_page_offers_the_installed_plugins(tenant_admin_client):
    response = tenant_admin_client.get(ADD)

    assert response.status_code == 200
    choices = dict(response.context["adminform"].form.fields["plugin_id"].choices)
    assert choices["form_plugin"] == "Form plugin (form_plugin)"
    assert "sensitive_words" in choices  # shipped in plugins/
    assert not any(name.startswith("cfg_") for name in response.context["adminform"].form.fields)


def test_choosing_a_plugin_shows_its_settings_with_defaults(tenant_admin_client):
    response = tenant_admin_client.get(ADD, {"plugin_id": "form_plugin"})

    form = response.context["adminform"].form
    assert response.status_code == 200
    assert form["cfg_title"].value() == "Hello"
    assert form["cfg_limit"].value() == 3
    assert form["cfg_patterns"].value() == r"\d+"
    assert form["cfg_mode"].value() == "fast"
    content = response.content.decode()
    assert 'name="cfg_token"' in content
    assert 'type="password"' in content
    assert "Has one setting of each kind." in content


def test_adding_a_configuration_stores_clean_values_and_an_encrypted_secret(
    tenant_admin_client, tenant
):
    response = tenant_admin_client.post(ADD, form_data(cfg_token="tok-123"))

    assert response.status_code == 302, field_errors(response)
    row = PluginConfig.objects.get()
    assert row.tenant == tenant
    assert (row.plugin_id, row.enabled, row.order) == ("form_plugin", True, 1)
    assert row.config == {
        "title": "Welcome",
        "limit": 4,
        "active": True,
        "patterns": [r"\d+", r"SKU-\w+"],
        "mode": "fast",
    }
    assert row.secrets == {"token": "tok-123"}
    assert "tok-123" not in row.secrets_encrypted


def test_a_page_shown_before_the_plugin_was_chosen_stores_the_defaults(tenant_admin_client):
    response = tenant_admin_client.post(ADD, {"plugin_id": "form_plugin", "order": "0"})

    assert response.status_code == 302, field_errors(response)
    row = PluginConfig.objects.get()
    assert row.enabled is False  # an unticked box
    assert row.config == {
        "title": "Hello",
        "limit": 3,
        "active": True,
        "patterns": [r"\d+"],
        "mode": "fast",
    }


# --- validation ----------------------------------------------------------------------------------


def test_invalid_settings_are_errors_on_their_own_fields(tenant_admin_client):
    response = tenant_admin_client.post(
        ADD, form_data(cfg_title="", cfg_limit="11", cfg_patterns="ok\n(broken")
    )

    assert response.status_code == 200
    errors = field_errors(response)
    assert set(errors) == {"cfg_title", "cfg_limit", "cfg_patterns"}
    assert "'(broken' is not a valid regular expression" in errors["cfg_patterns"][0]
    assert PluginConfig.objects.count() == 0


def test_the_plugins_whole_config_check_puts_its_error_on_the_field(tenant_admin_client):
    response = tenant_admin_client.post(ADD, form_data(cfg_mode="safe"))

    assert response.status_code == 200
    assert field_errors(response) == {"cfg_token": ["Safe mode needs a token."]}


def test_a_plugin_configured_twice_is_a_form_error_not_a_server_error(tenant_admin_client, tenant):
    plugin_config_set(tenant=tenant, plugin_id="form_plugin")

    response = tenant_admin_client.post(ADD, form_data())

    assert response.status_code == 200
    assert list(field_errors(response)) == ["plugin_id"]
    assert "already configured" in field_errors(response)["plugin_id"][0]
    assert PluginConfig.objects.count() == 1


def test_another_tenant_may_configure_the_same_plugin(tenant_admin_client, other_tenant):
    plugin_config_set(tenant=other_tenant, plugin_id="form_plugin")

    response = tenant_admin_client.post(ADD, form_data())

    assert response.status_code == 302, field_errors(response)
    assert PluginConfig.objects.count() == 2


def test_an_unknown_plugin_cannot_be_chosen(tenant_admin_client):
    response = tenant_admin_client.post(ADD, form_data(plugin_id="nope"))

    assert response.status_code == 200
    assert "plugin_id" in field_errors(response)


# --- secrets -------------------------------------------------------------------------------------


def test_secrets_are_never_shown_blank_keeps_them_and_the_box_clears_them(
    tenant_admin_client, tenant
):
    row = plugin_config_set(tenant=tenant, plugin_id="form_plugin", config={"token": "tok-123"})

    page = tenant_admin_client.get(change_url(row))
    assert page.status_code == 200
    assert "tok-123" not in page.content.decode()
    assert "A value is stored; leave blank to keep it." in page.content.decode()

    response = tenant_admin_client.post(change_url(row), form_data(cfg_title="Renamed"))
    assert response.status_code == 302, field_errors(response)
    row.refresh_from_db()
    assert (row.config["title"], row.secrets) == ("Renamed", {"token": "tok-123"})

    response = tenant_admin_client.post(change_url(row), form_data(cfg_token="new-tok"))
    row.refresh_from_db()
    assert row.secrets == {"token": "new-tok"}

    response = tenant_admin_client.post(change_url(row), form_data(cfg_token__clear="on"))
    assert response.status_code == 302, field_errors(response)
    row.refresh_from_db()
    assert row.secrets == {}


def test_a_saved_change_moves_the_version(tenant_admin_client, tenant):
    row = plugin_config_set(tenant=tenant, plugin_id="form_plugin")

    tenant_admin_client.post(change_url(row), form_data(cfg_limit="9"))

    row.refresh_from_db()
    assert (row.version, row.config["limit"]) == (2, 9)


def test_the_plugin_of_a_configuration_cannot_be_switched(tenant_admin_client, tenant):
    row = plugin_config_set(tenant=tenant, plugin_id="form_plugin")

    response = tenant_admin_client.post(change_url(row), form_data(plugin_id="lifecycle"))

    assert response.status_code == 302, field_errors(response)
    row.refresh_from_db()
    assert row.plugin_id == "form_plugin"


# --- tenant isolation ----------------------------------------------------------------------------


def test_tenant_admins_see_and_open_only_their_own_configurations(
    tenant_admin_client, tenant, other_tenant
):
    own = plugin_config_set(tenant=tenant, plugin_id="form_plugin")
    foreign = plugin_config_set(tenant=other_tenant, plugin_id="lifecycle")

    changelist = tenant_admin_client.get(CHANGELIST)
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [own]
    assert "tenant" not in tenant_admin_client.get(ADD).context["adminform"].form.fields

    assert tenant_admin_client.get(change_url(foreign)).status_code == 404
    assert tenant_admin_client.post(change_url(foreign), form_data()).status_code == 404
    delete = reverse("admin:plugins_pluginconfig_delete", args=[foreign.pk])
    assert tenant_admin_client.post(delete, {"post": "yes"}).status_code == 404
    assert PluginConfig.objects.filter(pk=foreign.pk).exists()


def test_a_superuser_chooses_the_tenant_and_duplicates_are_still_refused(
    client, tenant, other_tenant
):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(superuser)
    plugin_config_set(tenant=tenant, plugin_id="form_plugin")

    duplicate = client.post(ADD, form_data(tenant=str(tenant.pk)))
    created = client.post(ADD, form_data(tenant=str(other_tenant.pk)))

    assert duplicate.status_code == 200
    assert duplicate.context["adminform"].form.errors
    assert created.status_code == 302, field_errors(created)
    assert PluginConfig.objects.filter(tenant=other_tenant, plugin_id="form_plugin").exists()
