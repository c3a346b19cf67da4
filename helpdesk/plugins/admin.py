from django.contrib import admin
from django.utils.html import escape
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.plugins.base import BasePlugin
from helpdesk.plugins.forms import PluginConfigForm, config_field_names, plugin_config_form
from helpdesk.plugins.models import PluginConfig
from helpdesk.plugins.registry import registry
from helpdesk.tenants.admin_base import TenantScopedAdmin


@admin.register(PluginConfig)
class PluginConfigAdmin(TenantScopedAdmin):
    """Pick an installed plugin, switch it on, order it, and fill in its generated settings."""

    form = PluginConfigForm
    list_display = ["__str__", "plugin_id", "enabled", "order", "version", "updated_at"]
    list_filter = ["enabled"]
    ordering = ["order", "plugin_id"]
    readonly_fields = ["version", "updated_at"]

    def _plugin_class(self, request, obj=None) -> type[BasePlugin] | None:
        if obj is not None:
            return registry.get(obj.plugin_id)
        source = request.POST if request.method == "POST" else request.GET
        plugin_id = source.get("plugin_id")
        return registry.get(plugin_id) if plugin_id else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs.setdefault("form", plugin_config_form(self._plugin_class(request, obj)))
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        main = ["plugin_id", "enabled", "order"]
        if request.user.is_superuser:
            main.insert(0, "tenant")
        fieldsets = [(None, {"fields": main})]
        plugin_class = self._plugin_class(request, obj)
        if plugin_class is not None:
            fields = [*config_field_names(plugin_class), "config_for"]
            # Django renders fieldset descriptions as HTML; a plugin's description is text.
            about = escape(
                gettext("%(description)s (version %(version)s)")
                % {"description": plugin_class.description, "version": plugin_class.version}
            ).strip()
            fieldsets.append(
                (
                    gettext("%(plugin)s settings") % {"plugin": plugin_class.name},
                    {"fields": fields, "description": about},
                )
            )
        elif obj is not None:
            fieldsets.append(
                (
                    _("Not installed"),
                    {
                        "fields": [],
                        "description": _(
                            "This plugin is not installed here; its configuration is kept, but "
                            "it does not run."
                        ),
                    },
                )
            )
        if obj is not None:
            fieldsets.append((_("Status"), {"fields": ["version", "updated_at"]}))
        return fieldsets
