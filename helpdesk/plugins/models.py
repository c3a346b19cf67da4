import json

from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import Combinable
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.core.crypto import decrypt, encrypt
from helpdesk.tenants.models import TenantOwned


class PluginConfig(TenantOwned):
    """One tenant's configuration of one plugin (Saleor's ``PluginConfiguration``)."""

    plugin_id = models.CharField(_("plugin"), max_length=64)
    enabled = models.BooleanField(_("enabled"), default=True)
    order = models.IntegerField(
        _("order"),
        default=0,
        help_text=_("Plugins run in ascending order; the output of one is the input of the next."),
    )
    # Plain values, validated by the plugin's config_fields. Secrets live in secrets_encrypted.
    config = models.JSONField(_("settings"), default=dict, blank=True)
    secrets_encrypted = models.TextField(_("encrypted secrets"), blank=True, editable=False)
    # Every write moves the version; each process sets a plugin up again when it sees a new one.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("plugin")
        verbose_name_plural = _("plugins")
        ordering = ["order", "plugin_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plugin_id"], name="pluginconfig_unique"),
            models.CheckConstraint(condition=~Q(plugin_id=""), name="pluginconfig_id_not_empty"),
        ]
        indexes = [models.Index(fields=["tenant", "enabled", "order"])]

    def __str__(self) -> str:
        from helpdesk.plugins.registry import registry

        plugin_class = registry.get(self.plugin_id)
        if plugin_class is None:
            return gettext("%(plugin)s (not installed)") % {"plugin": self.plugin_id}
        return str(plugin_class.name)

    def save(self, *args, **kwargs):
        # Running plugin instances are cached per (tenant, plugin, version) in every web and
        # worker process, so every write — admin, service or shell — must move the version.
        # F() makes two concurrent writes end on two different versions.
        if not self._state.adding:
            self.version = F("version") + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)
        if isinstance(self.version, Combinable):
            self.refresh_from_db(fields=["version"])

    @property
    def secrets(self) -> dict[str, str]:
        """The decrypted secret values ({} when unset or undecryptable)."""
        plaintext = decrypt(self.secrets_encrypted)
        try:
            value = json.loads(plaintext) if plaintext else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @secrets.setter
    def secrets(self, value: dict[str, str]) -> None:
        value = {k: v for k, v in value.items() if v}
        self.secrets_encrypted = encrypt(json.dumps(value, sort_keys=True)) if value else ""
