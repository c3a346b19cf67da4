"""The one generic runner, and the calls the message job and the AI pipeline make.

``arun_hook`` / ``run_hook`` call a hook on a tenant's enabled plugins in their configured order
(``PluginConfig.order``). How each hook combines its results is data (``HOOKS``), not a method
per hook:

* ``chain``   — each plugin gets the previous value and returns the next (metadata, context
  lines, agent text);
* ``collect`` — each plugin may return one thing (a stream filter) or None;
* ``notify``  — return values are ignored.

Isolation: a plugin that is not installed, fails to set up, raises, returns the wrong type or
overruns its time is logged, counted (``helpdesk.plugins.metrics``) and skipped — the value
passes on as if it were not configured, so the message still flows and the customer still gets
an answer. Async hooks are cancelled at their timeout. Sync hooks (stream filters, agent text)
cannot be pre-empted: a call that overruns its budget is counted as a timeout, its result is
kept, and a stream filter is dropped for the rest of that reply.
"""

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db import transaction

from helpdesk.core.asyncdb import db_call
from helpdesk.plugins import metrics
from helpdesk.plugins.base import BasePlugin, StreamFilter
from helpdesk.plugins.models import PluginConfig
from helpdesk.plugins.runtime import runtime

if TYPE_CHECKING:
    from helpdesk.conversations.attachments import AttachmentInfo
    from helpdesk.conversations.models import Conversation, Message
    from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)

# Time limits of the hooks on the bot's path (seconds). Customer-message and after-reply hooks
# use settings.PLUGIN_HOOK_TIMEOUT; the bot waits for before_ai, so it gets less.
BEFORE_AI_TIMEOUT = 2.0
# Budgets of the synchronous hooks, which run for every streamed delta or inside a request.
STREAM_FILTER_BUDGET = 0.2
AGENT_TEXT_BUDGET = 0.2
# Looking at an uploaded file may mean reading it: a little more.
ATTACHMENT_BUDGET = 2.0

# Largest metadata a plugin may leave on a message (the same bound as posted metadata).
METADATA_MAX_BYTES = 16_384


def _hook_timeout() -> float:
    return settings.PLUGIN_HOOK_TIMEOUT


def _metadata_ok(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    try:
        return len(json.dumps(value)) <= METADATA_MAX_BYTES
    except (TypeError, ValueError):
        return False


def _lines_ok(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(line, str) for line in value)


def _filter_ok(value: Any) -> bool:
    return value is None or isinstance(value, StreamFilter)


@dataclass(frozen=True)
class HookSpec:
    name: str
    mode: Literal["chain", "collect", "notify"]
    is_async: bool
    timeout: Callable[[], float]
    valid: Callable[[Any], bool] = lambda value: True
    value_arg: str | None = None  # the keyword a chain hook gets the previous value as


HOOKS: dict[str, HookSpec] = {
    spec.name: spec
    for spec in (
        HookSpec(
            "on_customer_message",
            "chain",
            True,
            _hook_timeout,
            _metadata_ok,
            value_arg="metadata",
        ),
        HookSpec(
            "before_ai",
            "chain",
            True,
            lambda: min(_hook_timeout(), BEFORE_AI_TIMEOUT),
            _lines_ok,
            value_arg="context",
        ),
        HookSpec("on_bot_stream", "collect", False, lambda: STREAM_FILTER_BUDGET, _filter_ok),
        HookSpec("after_bot_reply", "notify", True, _hook_timeout),
        HookSpec(
            "on_agent_message",
            "chain",
            False,
            lambda: AGENT_TEXT_BUDGET,
            lambda value: isinstance(value, str),
            value_arg="text",
        ),
        HookSpec(
            "on_attachment",
            "collect",
            False,
            lambda: ATTACHMENT_BUDGET,
            lambda value: value is None or isinstance(value, str),
        ),
    )
}


# --- the generic runner ------------------------------------------------------------------------


def active_plugins(*, tenant: "Tenant") -> list[BasePlugin]:
    """The tenant's enabled plugins, set up, in their configured order (database access)."""
    # The configuration itself (a word list may be large) is read only to build an instance.
    rows = list(
        PluginConfig.objects.filter(tenant=tenant, enabled=True)
        .defer("config", "secrets_encrypted")
        .order_by("order", "plugin_id")
    )
    runtime.prune(tenant.pk, keep={row.plugin_id for row in rows})
    plugins = []
    for row in rows:
        instance = runtime.instance(tenant, row)
        if instance is not None:
            plugins.append(instance)
    return plugins


class _Fold:
    """Combines the results of one hook call over the plugins, per the hook's mode."""

    def __init__(self, spec: HookSpec, value: Any):
        self.spec = spec
        self.value = value
        self.collected: list[Any] = []

    def arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.spec.mode != "chain":
            return kwargs
        # A copy: a plugin that changes the value and then fails must leave no trace.
        return {**kwargs, self.spec.value_arg: copy.deepcopy(self.value)}

    def accept(self, plugin: BasePlugin, result: Any) -> None:
        if not self.spec.valid(result):
            _failed(plugin, self.spec.name, "invalid_result", f"returned {type(result).__name__}")
            return
        if self.spec.mode == "chain":
            self.value = result
        elif self.spec.mode == "collect" and result is not None:
            self.collected.append((plugin, result))

    @property
    def result(self) -> Any:
        return self.collected if self.spec.mode == "collect" else self.value


async def arun_hook(hook: str, *, tenant: "Tenant", value: Any = None, **kwargs: Any) -> Any:
    """Run an async hook over the tenant's plugins; the chained value (or collected results)."""
    spec = HOOKS[hook]
    assert spec.is_async, f"{hook} is synchronous: use run_hook"
    plugins = await db_call(active_plugins)(tenant=tenant)
    fold = _Fold(spec, value)
    for plugin in plugins:
        if not plugin.implements(hook):
            continue
        try:
            async with asyncio.timeout(spec.timeout()):
                result = await getattr(plugin, hook)(**fold.arguments(kwargs))
        except TimeoutError:
            _failed(plugin, hook, "timeout", f"no answer within {spec.timeout()}s")
            continue
        except Exception:
            _failed(plugin, hook, "error", exc_info=True)
            continue
        fold.accept(plugin, result)
    return fold.result


def run_hook(hook: str, *, tenant: "Tenant", value: Any = None, **kwargs: Any) -> Any:
    """Run a sync hook over the tenant's plugins (database access: call from sync code)."""
    spec = HOOKS[hook]
    assert not spec.is_async, f"{hook} is asynchronous: use arun_hook"
    fold = _Fold(spec, value)
    for plugin in active_plugins(tenant=tenant):
        if not plugin.implements(hook):
            continue
        started = time.monotonic()
        try:
            result = getattr(plugin, hook)(**fold.arguments(kwargs))
        except Exception:
            _failed(plugin, hook, "error", exc_info=True)
            continue
        elapsed = time.monotonic() - started
        if elapsed > spec.timeout():
            # Too late to pre-empt; the result is good, so it is kept. Counted and logged.
            _failed(plugin, hook, "timeout", f"took {elapsed:.3f}s (budget {spec.timeout()}s)")
        fold.accept(plugin, result)
    return fold.result


def _failed(
    plugin: BasePlugin, hook: str, reason: str, detail: str = "", *, exc_info: bool = False
) -> None:
    metrics.record_failure(plugin.id, hook, reason)
    plugin.logger.error(
        "Plugin %r hook %s failed (%s)%s; skipped.",
        plugin.id,
        hook,
        reason,
        f": {detail}" if detail else "",
        exc_info=exc_info,
    )


# --- stream filters ----------------------------------------------------------------------------


class GuardedFilter:
    """A plugin's StreamFilter with the runner's isolation around every call.

    A filter that raises or returns something other than text is dropped, and the text passes
    through unfiltered from then on (what it held back is lost: its state cannot be trusted).
    A call that overruns the budget is kept, then the filter is finished and dropped, so one
    slow filter delays one delta, not the reply.
    """

    def __init__(self, plugin: BasePlugin, inner: StreamFilter):
        self.plugin = plugin
        self.inner: StreamFilter | None = inner

    def feed(self, text: str) -> str:
        if self.inner is None:
            return text
        started = time.monotonic()
        try:
            out = self.inner.feed(text)
        except Exception:
            self.inner = None
            _failed(self.plugin, "on_bot_stream", "error", "in feed()", exc_info=True)
            return text
        if not isinstance(out, str):
            self.inner = None
            _failed(self.plugin, "on_bot_stream", "invalid_result", "feed() returned no text")
            return text
        elapsed = time.monotonic() - started
        if elapsed > STREAM_FILTER_BUDGET:
            detail = f"feed() took {elapsed:.3f}s (budget {STREAM_FILTER_BUDGET}s)"
            _failed(self.plugin, "on_bot_stream", "timeout", detail)
            return out + self.finish()
        return out

    def finish(self) -> str:
        if self.inner is None:
            return ""
        inner, self.inner = self.inner, None
        try:
            out = inner.finish()
        except Exception:
            _failed(self.plugin, "on_bot_stream", "error", "in finish()", exc_info=True)
            return ""
        if not isinstance(out, str):
            _failed(self.plugin, "on_bot_stream", "invalid_result", "finish() returned no text")
            return ""
        return out


# --- the calls the message job and the AI pipeline make ------------------------------------------


async def run_customer_message_hooks(*, tenant: "Tenant", message: "Message") -> bool:
    """Run ``on_customer_message`` on a stored customer message; True if its metadata changed.

    Each plugin gets the metadata the previous one returned. A change is saved and announced
    (``message.updated`` to the conversation, after commit). Call it where jobs run.
    """
    _check_tenant(tenant, message)
    before = copy.deepcopy(message.metadata or {})
    after = await arun_hook("on_customer_message", tenant=tenant, value=before, message=message)
    if after == (message.metadata or {}):
        return False
    await db_call(_save_metadata)(tenant=tenant, message=message, metadata=after)
    return True


def _save_metadata(*, tenant: "Tenant", message: "Message", metadata: dict) -> None:
    from helpdesk.conversations.serializers import message_payload
    from helpdesk.realtime.events import (
        conversation_group,
        conversation_staff_group,
        envelope,
        publish_on_commit,
    )

    with transaction.atomic():
        message.metadata = metadata
        message.save(update_fields=["metadata", "updated_at"])
        group = (
            conversation_staff_group(tenant.pk, message.conversation_id)
            if message.is_private
            else conversation_group(tenant.pk, message.conversation_id)
        )
        publish_on_commit(
            group,
            envelope(
                "message.updated",
                conversation_id=message.conversation_id,
                seq=message.seq,
                data=message_payload(message),
            ),
        )


async def collect_ai_context(
    *, tenant: "Tenant", conversation: "Conversation", context: list[str]
) -> list[str]:
    """The ``before_ai`` chain: context lines for the bot, each plugin adding its own."""
    _check_tenant(tenant, conversation)
    return await arun_hook(
        "before_ai", tenant=tenant, value=list(context), conversation=conversation
    )


def stream_filters(*, tenant: "Tenant") -> list[StreamFilter]:
    """Fresh filters for one bot reply, in plugin order (database access: sync code only).

    Apply them in order to every delta before it is sent, and ``finish()`` them in order at
    the end; what comes out is also the text to store.
    """
    collected = run_hook("on_bot_stream", tenant=tenant)
    return [GuardedFilter(plugin, inner) for plugin, inner in collected]


async def astream_filters(*, tenant: "Tenant") -> list[StreamFilter]:
    """``stream_filters`` for async callers."""
    return await db_call(stream_filters)(tenant=tenant)


def apply_filters(filters: list[StreamFilter], text: str) -> str:
    """Pass one delta through ``filters`` in order."""
    for stream_filter in filters:
        text = stream_filter.feed(text)
    return text


def finish_filters(filters: list[StreamFilter]) -> str:
    """The end of a reply: each filter's held-back rest, passed through the filters after it."""
    tail = ""
    for stream_filter in filters:
        tail = stream_filter.feed(tail) if tail else ""
        tail += stream_filter.finish()
    return tail


async def run_after_bot_reply(*, tenant: "Tenant", message: "Message") -> None:
    """``after_bot_reply``: the bot's reply is stored; plugins may react (notify only)."""
    _check_tenant(tenant, message)
    await arun_hook("after_bot_reply", tenant=tenant, message=message)


def filter_agent_text(*, tenant: "Tenant", text: str) -> str:
    """The ``on_agent_message`` chain over an agent's text before it is stored."""
    return run_hook("on_agent_message", tenant=tenant, value=text)


def check_attachment(*, tenant: "Tenant", attachment: "AttachmentInfo") -> str | None:
    """The ``on_attachment`` hook over an upload: the first plugin's reason to refuse it, or
    None (registered with helpdesk.conversations.attachments.check_attachments_with)."""
    refusals = run_hook("on_attachment", tenant=tenant, attachment=attachment)
    for _plugin, reason in refusals:
        if reason:
            return reason
    return None


def _check_tenant(tenant: "Tenant", obj) -> None:
    if obj.tenant_id != tenant.pk:
        raise ValueError(f"{type(obj).__name__} {obj.pk} belongs to another tenant")
