"""Writes for plugin configurations. The admin form and code alike go through validation."""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from helpdesk.plugins.config import split_secrets, validate_config
from helpdesk.plugins.models import PluginConfig
from helpdesk.plugins.registry import registry
from helpdesk.tenants.models import Tenant


def plugin_config_set(
    *,
    tenant: Tenant,
    plugin_id: str,
    config: dict[str, Any] | None = None,
    enabled: bool = True,
    order: int | None = None,
) -> PluginConfig:
    """Create or update a tenant's configuration of a plugin; raises ValidationError by field.

    ``config`` may be partial: values not given keep their stored value (or default). A secret
    given as "" is cleared. Every save moves the version, so running instances are replaced.
    """
    plugin_class = registry.get(plugin_id)
    if plugin_class is None:
        raise ValidationError(
            {"plugin_id": gettext("No plugin %(plugin)s is installed.") % {"plugin": plugin_id}}
        )
    row = PluginConfig.objects.filter(tenant=tenant, plugin_id=plugin_id).first()
    if row is None:
        row = PluginConfig(tenant=tenant, plugin_id=plugin_id)
    values = {**row.config, **row.secrets, **(config or {})}
    plain, secrets = split_secrets(plugin_class, validate_config(plugin_class, values))
    row.config = plain
    row.secrets = secrets
    row.enabled = enabled
    if order is not None:
        row.order = order
    row.save()
    return row
