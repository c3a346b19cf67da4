"""Config structures: defaults, validation by field, secrets, and the write service."""

import pytest
from django.core.exceptions import ValidationError

from helpdesk.plugins.config import ConfigField, FieldType, defaults, split_secrets, validate_config
from helpdesk.plugins.models import PluginConfig
from helpdesk.plugins.services import plugin_config_set
from tests.plugins.sample_plugins import FormPlugin


def errors_of(excinfo) -> dict[str, list[str]]:
    return {field: list(messages) for field, messages in excinfo.value.message_dict.items()}


def test_defaults_fill_missing_values_and_unknown_keys_are_dropped():
    config = validate_config(FormPlugin, {"limit": 5, "unknown": "x"}, {"token": ""})

    assert config == {
        "title": "Hello",
        "limit": 5,
        "active": True,
        "patterns": [r"\d+"],
        "token": "",
        "mode": "fast",
    }
    assert defaults(FormPlugin.config_fields)["patterns"] == [r"\d+"]
    # Defaults are copies: changing one config's list never changes the class's default.
    config["patterns"].append("y")
    assert FormPlugin.config_fields[3].default == [r"\d+"]


def test_every_invalid_field_is_reported_on_its_own_name():
    with pytest.raises(ValidationError) as excinfo:
        validate_config(
            FormPlugin,
            {"title": "", "limit": 99, "patterns": ["ok", "(broken"], "mode": "warp"},
        )

    errors = errors_of(excinfo)
    assert set(errors) == {"title", "limit", "patterns", "mode"}
    assert errors["title"] == ["This field is required."]
    assert errors["limit"] == ["Ensure this value is less than or equal to 10."]
    assert "'(broken' is not a valid regular expression" in errors["patterns"][0]


def test_the_plugin_checks_the_whole_config_after_the_fields():
    with pytest.raises(ValidationError) as excinfo:
        validate_config(FormPlugin, {"mode": "safe"})

    assert errors_of(excinfo) == {"token": ["Safe mode needs a token."]}
    assert validate_config(FormPlugin, {"mode": "safe"}, {"token": "t"})["token"] == "t"


def test_list_values_come_one_per_line_trimmed_without_blanks_or_duplicates():
    config = validate_config(FormPlugin, {"patterns": " a \n\nb\r\na\n  \n"})
    assert config["patterns"] == ["a", "b"]

    with pytest.raises(ValidationError) as excinfo:
        validate_config(FormPlugin, {"patterns": [str(n) for n in range(6)]})
    assert errors_of(excinfo) == {"patterns": ["At most 5 entries (got 6)."]}


def test_secrets_are_split_from_plain_values():
    config = validate_config(FormPlugin, {"token": "abc"})

    plain, secrets = split_secrets(FormPlugin, config)

    assert secrets == {"token": "abc"}
    assert "token" not in plain


def test_field_definitions_are_checked():
    with pytest.raises(ValueError, match="needs choices"):
        ConfigField("mode", FieldType.CHOICE)
    with pytest.raises(ValueError, match="identifier"):
        ConfigField("not a name")
    with pytest.raises(ValueError, match="float"):
        ConfigField("x", "float")


@pytest.mark.django_db
def test_plugin_config_set_validates_merges_encrypts_and_moves_the_version(tenant, install):
    install(FormPlugin)

    row = plugin_config_set(tenant=tenant, plugin_id="form_plugin", config={"token": "abc"})
    assert row.version == 1
    assert row.secrets == {"token": "abc"}
    assert "abc" not in row.secrets_encrypted

    row = plugin_config_set(tenant=tenant, plugin_id="form_plugin", config={"limit": 7}, order=4)
    assert (row.version, row.order, row.config["limit"], row.secrets) == (2, 4, 7, {"token": "abc"})

    row = plugin_config_set(tenant=tenant, plugin_id="form_plugin", config={"token": ""})
    assert row.secrets == {}
    assert row.secrets_encrypted == ""
    assert PluginConfig.objects.get(pk=row.pk).version == 3

    with pytest.raises(ValidationError) as excinfo:
        plugin_config_set(tenant=tenant, plugin_id="form_plugin", config={"limit": 0})
    assert set(excinfo.value.message_dict) == {"limit"}
    with pytest.raises(ValidationError) as excinfo:
        plugin_config_set(tenant=tenant, plugin_id="nope")
    assert set(excinfo.value.message_dict) == {"plugin_id"}


@pytest.mark.django_db
def test_every_save_moves_the_version_even_outside_the_service(tenant):
    row = PluginConfig.objects.create(tenant=tenant, plugin_id="anything")
    assert row.version == 1

    row.enabled = False
    row.save(update_fields=["enabled"])

    assert row.version == 2
    assert PluginConfig.objects.get(pk=row.pk).version == 2
