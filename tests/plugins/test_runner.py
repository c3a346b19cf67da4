"""The generic runner: order, values passed along, isolation, lifecycle, the public calls."""

import time

import pytest
from asgiref.sync import async_to_sync

from helpdesk.conversations.services import Sender, message_post
from helpdesk.plugins import metrics, runner
from helpdesk.plugins.runner import (
    apply_filters,
    collect_ai_context,
    filter_agent_text,
    finish_filters,
    run_after_bot_reply,
    run_customer_message_hooks,
    stream_filters,
)
from helpdesk.plugins.runtime import runtime
from tests.plugins.sample_plugins import (
    BrokenSetupPlugin,
    ExplodingFilterPlugin,
    HugeMetadataPlugin,
    LifecyclePlugin,
    RaisingPlugin,
    SlowFilterPlugin,
    SlowPlugin,
    TaggingPlugin,
    WrongTypePlugin,
    tagging,
)

# The runner's async hooks reach the database from pool threads (helpdesk.core.asyncdb), which
# only see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def customer_message(conversation):
    def post(text="hello", **metadata):
        return message_post(
            tenant=conversation.tenant,
            conversation_id=conversation.pk,
            sender=Sender.contact(),
            text=text,
            metadata=metadata or None,
        ).message

    return post


@pytest.fixture
def three_taggers(install, configure):
    """Plugins a, b, c configured in the order c, a, b."""
    install(tagging("tag_a"), tagging("tag_b"), tagging("tag_c"))
    configure("tag_a", order=2, tag="a")
    configure("tag_b", order=3, tag="b")
    configure("tag_c", order=1, tag="c")


customer_hooks = async_to_sync(run_customer_message_hooks)
ai_context = async_to_sync(collect_ai_context)
after_reply = async_to_sync(run_after_bot_reply)


def run_stream(tenant, deltas):
    filters = stream_filters(tenant=tenant)
    shown = [apply_filters(filters, delta) for delta in deltas]
    return shown, "".join(shown) + finish_filters(filters)


# --- order and values passed along ---------------------------------------------------------------


def test_customer_message_hooks_run_in_configured_order_each_getting_the_previous_value(
    tenant, three_taggers, customer_message
):
    message = customer_message(trail=["posted"])

    changed = customer_hooks(tenant=tenant, message=message)

    assert changed is True
    message.refresh_from_db()
    assert message.metadata == {"trail": ["posted", "c", "a", "b"]}


def test_ai_context_is_chained_in_order(tenant, conversation, three_taggers):
    context = ai_context(tenant=tenant, conversation=conversation, context=["system line"])

    assert context == [
        "system line",
        f"c saw conversation {conversation.pk}",
        f"a saw conversation {conversation.pk}",
        f"b saw conversation {conversation.pk}",
    ]


def test_agent_text_is_chained_in_order(tenant, three_taggers):
    assert filter_agent_text(tenant=tenant, text="Hi") == "Hi [c] [a] [b]"


def test_stream_filters_are_fresh_per_reply_and_applied_in_order(tenant, three_taggers):
    first, second = stream_filters(tenant=tenant), stream_filters(tenant=tenant)

    assert len(first) == 3
    assert {id(f.inner) for f in first}.isdisjoint({id(f.inner) for f in second})
    shown, stored = run_stream(tenant, ["Hel", "lo"])
    assert shown == ["Hel", "lo"]
    # Each filter's tail goes through the filters after it: c's "[c]" then gets a's and b's.
    assert stored == "Hello[c][a][b]"


def test_after_bot_reply_reaches_every_plugin(tenant, conversation, three_taggers):
    TaggingPlugin.journal.clear()
    reply = message_post(
        tenant=tenant, conversation_id=conversation.pk, sender=Sender.bot(), text="Answer"
    ).message

    after_reply(tenant=tenant, message=reply)

    assert TaggingPlugin.journal == [("c", reply.pk), ("a", reply.pk), ("b", reply.pk)]


def test_disabled_plugins_and_other_tenants_plugins_do_not_run(
    tenant, other_tenant, install, configure
):
    install(tagging("tag_a"), tagging("tag_b"))
    configure("tag_a", tag="a", enabled=False)
    configure("tag_b", tag="b", tenant=other_tenant)

    assert filter_agent_text(tenant=tenant, text="Hi") == "Hi"
    assert filter_agent_text(tenant=other_tenant, text="Hi") == "Hi [b]"


def test_unchanged_metadata_is_not_saved_or_announced(
    tenant, customer_message, django_capture_on_commit_callbacks
):
    message = customer_message(existing=1)
    updated_at = message.updated_at

    with django_capture_on_commit_callbacks() as callbacks:
        changed = customer_hooks(tenant=tenant, message=message)

    assert changed is False
    assert callbacks == []
    message.refresh_from_db()
    assert message.updated_at == updated_at


def test_another_tenants_message_is_refused(other_tenant, customer_message):
    with pytest.raises(ValueError, match="another tenant"):
        customer_hooks(tenant=other_tenant, message=customer_message())


# --- isolation -----------------------------------------------------------------------------------


def test_a_raising_plugin_is_skipped_counted_and_leaves_no_trace(
    tenant, conversation, install, configure, customer_message
):
    install(RaisingPlugin, tagging("tag_a"), tagging("tag_b"))
    configure("tag_a", order=1, tag="a")
    configure("raising", order=2)
    configure("tag_b", order=3, tag="b")
    message = customer_message()

    assert customer_hooks(tenant=tenant, message=message) is True
    message.refresh_from_db()
    assert message.metadata == {"trail": ["a", "b"]}
    assert ai_context(tenant=tenant, conversation=conversation, context=[]) == [
        f"a saw conversation {conversation.pk}",
        f"b saw conversation {conversation.pk}",
    ]
    assert filter_agent_text(tenant=tenant, text="Hi") == "Hi [a] [b]"
    assert run_stream(tenant, ["x"])[1] == "x[a][b]"
    after_reply(tenant=tenant, message=message)
    for hook in ("on_customer_message", "before_ai", "on_agent_message", "on_bot_stream"):
        assert metrics.failure_count("raising", hook, "error") == 1, hook
    assert metrics.failure_count("raising", "after_bot_reply", "error") == 1


def test_a_slow_plugin_is_cancelled_at_the_timeout_and_the_message_flows(
    tenant, conversation, install, configure, customer_message, settings
):
    settings.PLUGIN_HOOK_TIMEOUT = 0.2
    install(SlowPlugin, tagging("tag_a"))
    configure("slow", order=1)
    configure("tag_a", order=2, tag="a")
    message = customer_message()

    started = time.monotonic()
    assert customer_hooks(tenant=tenant, message=message) is True
    context = ai_context(tenant=tenant, conversation=conversation, context=[])
    elapsed = time.monotonic() - started

    assert elapsed < 2
    message.refresh_from_db()
    assert message.metadata == {"trail": ["a"]}
    assert context == [f"a saw conversation {conversation.pk}"]
    assert metrics.failure_count("slow", reason="timeout") == 2


def test_results_of_the_wrong_type_are_skipped(
    tenant, conversation, install, configure, customer_message
):
    install(WrongTypePlugin, HugeMetadataPlugin, tagging("tag_a"))
    configure("wrong_type", order=1)
    configure("huge_metadata", order=2)
    configure("tag_a", order=3, tag="a")
    message = customer_message()

    customer_hooks(tenant=tenant, message=message)
    message.refresh_from_db()

    assert message.metadata == {"trail": ["a"]}
    assert ai_context(tenant=tenant, conversation=conversation, context=["x"]) == [
        "x",
        f"a saw conversation {conversation.pk}",
    ]
    assert filter_agent_text(tenant=tenant, text="Hi") == "Hi [a]"
    assert len(stream_filters(tenant=tenant)) == 1
    assert metrics.failure_count("wrong_type", reason="invalid_result") == 4
    assert metrics.failure_count("huge_metadata", reason="invalid_result") == 1


def test_a_plugin_that_fails_to_set_up_is_skipped_and_not_retried_for_every_message(
    tenant, install, configure
):
    BrokenSetupPlugin.setups = 0
    install(BrokenSetupPlugin, tagging("tag_a"))
    configure("broken_setup", order=1)
    configure("tag_a", order=2, tag="a")

    for _ in range(3):
        assert filter_agent_text(tenant=tenant, text="Hi") == "Hi [a]"

    assert BrokenSetupPlugin.setups == 1
    assert metrics.failure_count("broken_setup", "setup", "setup") == 1


def test_a_configured_plugin_that_is_not_installed_is_skipped(tenant, install, configure):
    install(tagging("tag_a"), tagging("gone"))
    configure("gone", order=1, tag="gone")
    configure("tag_a", order=2, tag="a")
    from helpdesk.plugins.registry import registry

    registry.remove("gone")

    assert filter_agent_text(tenant=tenant, text="Hi") == "Hi [a]"
    assert metrics.failure_count("gone", "setup", "missing") == 1


def test_a_stored_config_that_no_longer_validates_fails_set_up_not_the_message(
    tenant, install, configure
):
    install(LifecyclePlugin, tagging("tag_a"))
    row = configure("lifecycle", order=1, value=5)
    configure("tag_a", order=2, tag="a")
    # e.g. a plugin upgrade narrowed the range; the row was written before.
    row.config = {"value": 1000}
    row.save()

    assert filter_agent_text(tenant=tenant, text="Hi") == "Hi [a]"
    assert metrics.failure_count("lifecycle", "setup", "setup") == 1


def test_a_stream_filter_that_raises_is_dropped_and_the_text_still_flows(
    tenant, install, configure
):
    install(ExplodingFilterPlugin)
    configure("exploding_filter")

    shown, stored = run_stream(tenant, ["ab", "cd", "ef"])

    assert shown == ["AB", "cd", "ef"]
    assert stored == "ABcdef"
    assert metrics.failure_count("exploding_filter", "on_bot_stream", "error") == 1


def test_a_slow_stream_filter_is_finished_and_dropped_after_one_slow_delta(
    tenant, install, configure, monkeypatch
):
    monkeypatch.setattr(runner, "STREAM_FILTER_BUDGET", 0.1)
    install(SlowFilterPlugin)
    configure("slow_filter")

    started = time.monotonic()
    shown, stored = run_stream(tenant, ["AB", "CD", "EF", "GH"])
    elapsed = time.monotonic() - started

    # The slow call's own result is kept and what it held is released (finished) with it.
    assert shown == ["", "abcd", "EF", "GH"]
    assert stored == "abcdEFGH"
    assert elapsed < 0.6
    assert metrics.failure_count("slow_filter", "on_bot_stream", "timeout") == 1


# --- lifecycle -----------------------------------------------------------------------------------


def test_set_up_runs_once_per_configuration_version_and_tear_down_on_change(
    tenant, conversation, install, configure
):
    LifecyclePlugin.events.clear()
    install(LifecyclePlugin)
    row = configure("lifecycle", value=1)
    version = row.version

    for _ in range(3):
        ai_context(tenant=tenant, conversation=conversation, context=[])
    assert LifecyclePlugin.events == [("setup", tenant.pk, version, 1)]

    row = configure("lifecycle", value=2)
    assert row.version == version + 1
    assert ai_context(tenant=tenant, conversation=conversation, context=[]) == ["value=2 key="]
    ai_context(tenant=tenant, conversation=conversation, context=[])

    assert LifecyclePlugin.events == [
        ("setup", tenant.pk, version, 1),
        ("teardown", tenant.pk, version, 1),
        ("setup", tenant.pk, version + 1, 2),
    ]


def test_each_tenant_gets_its_own_instance_and_config(
    tenant, other_tenant, conversation, install, configure
):
    install(LifecyclePlugin)
    configure("lifecycle", value=1)
    configure("lifecycle", value=2, tenant=other_tenant)

    assert ai_context(tenant=tenant, conversation=conversation, context=[]) == ["value=1 key="]
    instances = runtime.instances()
    assert instances[(tenant.pk, "lifecycle")].config["value"] == 1
    assert (other_tenant.pk, "lifecycle") not in instances


def test_disabling_or_deleting_a_configuration_tears_the_instance_down(
    tenant, conversation, install, configure
):
    LifecyclePlugin.events.clear()
    install(LifecyclePlugin)
    row = configure("lifecycle", value=1)
    ai_context(tenant=tenant, conversation=conversation, context=[])

    configure("lifecycle", value=1, enabled=False)
    assert ai_context(tenant=tenant, conversation=conversation, context=[]) == []
    assert [event[0] for event in LifecyclePlugin.events] == ["setup", "teardown"]

    configure("lifecycle", value=1, enabled=True)
    ai_context(tenant=tenant, conversation=conversation, context=[])
    row.refresh_from_db()
    row.delete()
    ai_context(tenant=tenant, conversation=conversation, context=[])
    assert [event[0] for event in LifecyclePlugin.events] == [
        "setup",
        "teardown",
        "setup",
        "teardown",
    ]


def test_teardown_all_tears_every_instance_down_at_shutdown(
    tenant, other_tenant, conversation, install, configure
):
    LifecyclePlugin.events.clear()
    install(LifecyclePlugin)
    configure("lifecycle", value=1)
    configure("lifecycle", value=2, tenant=other_tenant)
    ai_context(tenant=tenant, conversation=conversation, context=[])
    filter_agent_text(tenant=other_tenant, text="x")

    runtime.teardown_all()

    assert sorted(e for e in LifecyclePlugin.events if e[0] == "teardown") == sorted(
        [
            ("teardown", tenant.pk, e[2], e[3])
            for e in LifecyclePlugin.events
            if e[0] == "setup" and e[1] == tenant.pk
        ]
        + [
            ("teardown", other_tenant.pk, e[2], e[3])
            for e in LifecyclePlugin.events
            if e[0] == "setup" and e[1] == other_tenant.pk
        ]
    )
    assert runtime.instances() == {}


def test_secrets_reach_the_plugin_decrypted_and_are_stored_encrypted(
    tenant, conversation, install, configure
):
    install(LifecyclePlugin)
    row = configure("lifecycle", value=3, api_key="s3cret-key")

    assert "s3cret-key" not in row.secrets_encrypted
    assert "api_key" not in row.config
    assert ai_context(tenant=tenant, conversation=conversation, context=[]) == [
        "value=3 key=s3cret-key"
    ]


def test_the_injected_cache_is_namespaced_per_tenant_plugin_and_version(
    tenant, other_tenant, install, configure
):
    install(LifecyclePlugin)
    configure("lifecycle", value=1)
    configure("lifecycle", value=1, tenant=other_tenant)
    filter_agent_text(tenant=tenant, text="x")
    filter_agent_text(tenant=other_tenant, text="x")
    mine = runtime.instances()[(tenant.pk, "lifecycle")]
    theirs = runtime.instances()[(other_tenant.pk, "lifecycle")]

    mine.cache.set("facts", "mine")

    assert mine.cache.get("facts") == "mine"
    assert theirs.cache.get("facts") is None
    assert mine.logger.logger.name == "helpdesk.plugins.lifecycle"
    assert mine.http.allow_hosts == []  # nothing reachable unless the plugin says where
