"""What a plugin is: a class with an id, a configuration structure and optional hooks.

The framework builds one instance per (tenant, plugin, configuration version) in each process,
hands it everything it may use (``PluginContext``) and calls ``setup()`` once; ``teardown()``
runs when the configuration changes or the process stops. Hooks are the methods below that a
plugin overrides; the runner calls only those a plugin overrides. Chaining hooks take the
previous value and return the next one (Saleor's ``previous_value``), so plugins compose.

Plugins never import settings or module-level state: all they need is on ``self``.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from django.utils.functional import Promise

from helpdesk.plugins.config import ConfigField

if TYPE_CHECKING:
    from helpdesk.conversations.attachments import AttachmentInfo
    from helpdesk.conversations.models import Conversation, Message
    from helpdesk.plugins.runtime import PluginCache
    from helpdesk.plugins.safe_http import SafeHttpClient
    from helpdesk.tenants.models import Tenant


@runtime_checkable
class StreamFilter(Protocol):
    """Filters one bot reply while it streams. A fresh object per reply.

    ``feed`` takes newly generated text and returns the text that is safe to show now; it may
    hold back a tail (e.g. what could still become a banned word). ``finish`` returns the
    held-back rest, filtered, at the end of the reply. The concatenation of every ``feed``
    result and ``finish`` is the filtered reply.
    """

    def feed(self, text: str) -> str: ...

    def finish(self) -> str: ...


@dataclass(frozen=True)
class PluginContext:
    """Everything the framework hands a plugin instance."""

    tenant: "Tenant"
    config: Mapping[str, Any]  # validated, defaults filled in, secrets decrypted
    version: int  # the configuration version this instance was built for
    http: "SafeHttpClient"  # SSRF-safe; hosts from ``http_allow_hosts(config)``
    cache: "PluginCache"  # namespaced per tenant, plugin and configuration version
    logger: logging.LoggerAdapter


class BasePlugin:
    """Subclass this, set ``id`` and ``name``, declare ``config_fields``, override hooks.

    ``name``, ``description`` and the config fields' labels and help are read by admins: mark
    them with ``gettext_lazy`` (never ``gettext``, which would translate once, at import).
    """

    id: ClassVar[str]  # stable, lower_snake_case; stored in PluginConfig.plugin_id
    name: ClassVar[str | Promise]
    description: ClassVar[str | Promise] = ""
    version: ClassVar[str] = "1.0"
    config_fields: ClassVar[tuple[ConfigField, ...]] = ()

    def __init__(self, context: PluginContext):
        self.context = context
        self.tenant = context.tenant
        self.config = context.config
        self.http = context.http
        self.cache = context.cache
        self.logger = context.logger

    # --- configuration ---------------------------------------------------------------------

    @classmethod
    def clean_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Check the configuration as a whole after each field is clean; return it.

        Raise ``ValidationError({"field": "message"})`` to put an error on a field.
        """
        return config

    @classmethod
    def http_allow_hosts(cls, config: Mapping[str, Any]) -> list[str]:
        """Hosts the injected HTTP client may reach (``*.example.com`` for sub-domains).

        None by default: a plugin that fetches says where from.
        """
        return []

    # --- lifecycle -------------------------------------------------------------------------

    def setup(self) -> None:
        """Once per process and configuration version, before any hook (build indexes here)."""

    def teardown(self) -> None:
        """When the configuration changes or the process stops. Release what setup made."""

    # --- hooks (override the ones you need) --------------------------------------------------

    async def on_customer_message(self, message: "Message", metadata: dict) -> dict:
        """A stored customer message: return its metadata, changed or not (e.g. add cards)."""
        return metadata

    async def before_ai(self, conversation: "Conversation", context: list[str]) -> list[str]:
        """Before the bot answers: return the context lines, with any of yours added."""
        return context

    def on_bot_stream(self) -> StreamFilter | None:
        """A fresh filter for one bot reply, or None. Cheap: called once per reply."""
        return None

    async def after_bot_reply(self, message: "Message") -> None:
        """The bot's reply is stored (text already filtered)."""

    def on_agent_message(self, text: str) -> str:
        """An agent's text before it is stored. Synchronous and pure: no database, no I/O."""
        return text

    def on_attachment(self, attachment: "AttachmentInfo") -> str | None:
        """A file a customer or an agent uploads, before it is stored: ``attachment.name``,
        ``content_type`` (from its content), ``size``, ``width``/``height`` (images) and
        ``read()`` for its bytes. Return a reason (shown to the uploader) to refuse it, or
        None. Synchronous, within a small time budget."""
        return None

    # --------------------------------------------------------------------------------------

    @classmethod
    def implements(cls, hook: str) -> bool:
        return getattr(cls, hook) is not getattr(BasePlugin, hook)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} tenant={self.tenant.pk} v{self.context.version}>"
