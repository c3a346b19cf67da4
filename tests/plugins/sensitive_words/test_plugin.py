"""The sensitive-words plugin through the runner and the admin, as the pipeline uses it."""

import pytest
from django.urls import reverse

from helpdesk.plugins.models import PluginConfig
from helpdesk.plugins.runner import apply_filters, filter_agent_text, finish_filters, stream_filters
from helpdesk.plugins.runtime import runtime

pytestmark = pytest.mark.django_db

WORDS = ["敏感词", "Bad Word", "shit"]


def reply(tenant, deltas):
    filters = stream_filters(tenant=tenant)
    shown = [apply_filters(filters, delta) for delta in deltas]
    return shown, "".join(shown) + finish_filters(filters)


def test_the_bots_reply_is_masked_while_it_streams_and_in_the_stored_text(tenant, configure):
    configure("sensitive_words", words=WORDS)

    shown, stored = reply(tenant, ["This 敏", "感词 is a BAD W", "ORD, sh", "it happens", "."])

    # "s" is held back at the end: it could still become "shit".
    assert shown == ["This ", "*** is a ", "********, ", "**** happen", "s."]
    assert stored == "This *** is a ********, **** happens."


def test_no_words_no_filter_and_other_tenants_are_unaffected(tenant, other_tenant, configure):
    configure("sensitive_words", words=[])
    configure("sensitive_words", words=WORDS, tenant=other_tenant)

    assert stream_filters(tenant=tenant) == []
    assert reply(other_tenant, ["shit"])[1] == "****"


def test_agent_messages_are_masked_only_when_switched_on(tenant, configure):
    configure("sensitive_words", words=WORDS)
    assert filter_agent_text(tenant=tenant, text="Oh SHIT, 敏感词") == "Oh SHIT, 敏感词"

    configure("sensitive_words", words=WORDS, mask_agent_messages=True)
    assert filter_agent_text(tenant=tenant, text="Oh SHIT, 敏感词") == "Oh ****, ***"


def test_the_automaton_is_built_once_per_configuration_version(tenant, configure):
    configure("sensitive_words", words=WORDS)
    reply(tenant, ["a"])
    matcher = runtime.instances()[(tenant.pk, "sensitive_words")].matcher
    reply(tenant, ["b"])
    filter_agent_text(tenant=tenant, text="c")
    assert runtime.instances()[(tenant.pk, "sensitive_words")].matcher is matcher

    configure("sensitive_words", words=[*WORDS, "new"])
    assert reply(tenant, ["new"])[1] == "***"
    assert runtime.instances()[(tenant.pk, "sensitive_words")].matcher is not matcher


def test_thousands_of_words_are_managed_in_the_admin_textarea(tenant_admin_client, tenant):
    words = [f"word{n}" for n in range(5000)] + ["敏感词", "Word1", "", "  spaced  "]
    response = tenant_admin_client.post(
        reverse("admin:plugins_pluginconfig_add"),
        {
            "plugin_id": "sensitive_words",
            "enabled": "on",
            "order": "10",
            "config_for": "sensitive_words",
            "cfg_words": "\n".join(words),
        },
    )

    assert response.status_code == 302
    row = PluginConfig.objects.get(tenant=tenant)
    # Trimmed, blanks dropped; "Word1" is kept as typed (matching ignores case anyway).
    assert len(row.config["words"]) == 5003
    assert row.config["words"][-1] == "spaced"
    assert row.config["mask_agent_messages"] is False
    assert reply(tenant, ["say WORD4999 or 敏感词"])[1] == "say ******** or ***"
