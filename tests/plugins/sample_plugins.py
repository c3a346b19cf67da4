"""Small plugins the framework tests install (never registered outside a test)."""

import asyncio
import time
from typing import ClassVar

from helpdesk.plugins.base import BasePlugin
from helpdesk.plugins.config import ConfigField, FieldType


class TaggingPlugin(BasePlugin):
    """Leaves its tag in every value it is passed, so a test can read the order of calls."""

    id = "tagging"
    name = "Tagging"
    config_fields = (ConfigField("tag", FieldType.STR, default="t"),)
    journal: ClassVar[list] = []

    async def on_customer_message(self, message, metadata):
        metadata.setdefault("trail", []).append(self.config["tag"])
        return metadata

    async def before_ai(self, conversation, context):
        return [*context, f"{self.config['tag']} saw conversation {conversation.pk}"]

    def on_bot_stream(self):
        return SuffixFilter(self.config["tag"])

    async def after_bot_reply(self, message):
        self.journal.append((self.config["tag"], message.pk))

    def on_agent_message(self, text):
        return f"{text} [{self.config['tag']}]"


def tagging(plugin_id: str) -> type[TaggingPlugin]:
    """Another TaggingPlugin under its own id."""
    return type(f"Tagging_{plugin_id}", (TaggingPlugin,), {"id": plugin_id, "name": plugin_id})


class SuffixFilter:
    """Passes text through and adds ``[tag]`` when the reply ends."""

    def __init__(self, tag):
        self.tag = tag

    def feed(self, text):
        return text

    def finish(self):
        return f"[{self.tag}]"


class RaisingPlugin(BasePlugin):
    id = "raising"
    name = "Raising"

    async def on_customer_message(self, message, metadata):
        metadata["poisoned"] = True  # changes its copy, then fails: no trace may remain
        raise RuntimeError("boom")

    async def before_ai(self, conversation, context):
        raise RuntimeError("boom")

    def on_bot_stream(self):
        raise RuntimeError("boom")

    async def after_bot_reply(self, message):
        raise RuntimeError("boom")

    def on_agent_message(self, text):
        raise RuntimeError("boom")


class SlowPlugin(BasePlugin):
    id = "slow"
    name = "Slow"

    async def on_customer_message(self, message, metadata):
        await asyncio.sleep(30)
        metadata["slow"] = True
        return metadata

    async def before_ai(self, conversation, context):
        await asyncio.sleep(30)
        return [*context, "too late"]


class WrongTypePlugin(BasePlugin):
    id = "wrong_type"
    name = "Wrong type"

    async def on_customer_message(self, message, metadata):
        return ["not", "a", "dict"]

    async def before_ai(self, conversation, context):
        return "not a list"

    def on_bot_stream(self):
        return "not a filter"

    def on_agent_message(self, text):
        return None


class HugeMetadataPlugin(BasePlugin):
    id = "huge_metadata"
    name = "Huge metadata"

    async def on_customer_message(self, message, metadata):
        return {**metadata, "blob": "x" * 100_000}


class BrokenSetupPlugin(BasePlugin):
    id = "broken_setup"
    name = "Broken set-up"
    setups: ClassVar[int] = 0

    def setup(self):
        type(self).setups += 1
        raise RuntimeError("cannot set up")

    async def on_customer_message(self, message, metadata):  # pragma: no cover - never runs
        return {**metadata, "broken": True}


class LifecyclePlugin(BasePlugin):
    """Counts set-ups and tear-downs, with a configurable value to change versions with."""

    id = "lifecycle"
    name = "Lifecycle"
    config_fields = (
        ConfigField("value", FieldType.INT, default=1, min_value=0, max_value=100),
        ConfigField("api_key", FieldType.SECRET, default="", help="A secret."),
    )
    events: ClassVar[list] = []

    def setup(self):
        self.events.append(("setup", self.tenant.pk, self.context.version, self.config["value"]))

    def teardown(self):
        self.events.append(("teardown", self.tenant.pk, self.context.version, self.config["value"]))

    async def before_ai(self, conversation, context):
        return [*context, f"value={self.config['value']} key={self.config['api_key']}"]


class ExplodingFilter:
    def __init__(self, *, fail_on: int):
        self.calls = 0
        self.fail_on = fail_on

    def feed(self, text):
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("filter broke")
        return text.upper()

    def finish(self):
        return ""


class ExplodingFilterPlugin(BasePlugin):
    id = "exploding_filter"
    name = "Exploding filter"

    def on_bot_stream(self):
        return ExplodingFilter(fail_on=2)


class SlowFilter:
    """Holds everything back; the second feed is slow. finish() releases what it held."""

    def __init__(self):
        self.held = ""
        self.calls = 0

    def feed(self, text):
        self.calls += 1
        self.held += text
        if self.calls == 2:
            time.sleep(0.3)
        return ""

    def finish(self):
        held, self.held = self.held, ""
        return held.lower()


class SlowFilterPlugin(BasePlugin):
    id = "slow_filter"
    name = "Slow filter"

    def on_bot_stream(self):
        return SlowFilter()


def _valid_regexes(patterns):
    import re

    from django.core.exceptions import ValidationError

    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValidationError(f"{pattern!r} is not a valid regular expression: {exc}") from None


class FormPlugin(BasePlugin):
    """One field of every type, for the generated admin form."""

    id = "form_plugin"
    name = "Form plugin"
    description = "Has one setting of each kind."
    config_fields = (
        ConfigField("title", FieldType.STR, default="Hello", required=True, max_length=20),
        ConfigField("limit", FieldType.INT, default=3, min_value=1, max_value=10),
        ConfigField("active", FieldType.BOOL, default=True),
        ConfigField(
            "patterns", FieldType.LIST, default=[r"\d+"], validators=[_valid_regexes], max_items=5
        ),
        ConfigField("token", FieldType.SECRET, default="", help="API token."),
        ConfigField(
            "mode", FieldType.CHOICE, default="fast", choices=[("fast", "Fast"), ("safe", "Safe")]
        ),
    )

    @classmethod
    def clean_config(cls, config):
        from django.core.exceptions import ValidationError

        if config["mode"] == "safe" and not config["token"]:
            raise ValidationError({"token": "Safe mode needs a token."})
        return config
