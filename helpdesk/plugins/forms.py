"""The admin form of a plugin configuration, generated from the plugin's config fields.

Schema fields are named ``cfg_<name>`` so they can never collide with the model's own fields.
Secrets are write-only: never rendered, blank keeps the stored value, a checkbox clears it.
"""

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.plugins.base import BasePlugin
from helpdesk.plugins.config import FieldType, split_secrets, validate_config
from helpdesk.plugins.models import PluginConfig
from helpdesk.plugins.registry import registry
from helpdesk.tenants.admin_base import TenantConsistentForm

CONFIG_PREFIX = "cfg_"
CLEAR_SUFFIX = "__clear"
# On the add page, choosing a plugin reloads the page with that plugin's settings on it.
_RELOAD_ON_CHANGE = (
    "if (this.value) { window.location.search = 'plugin_id=' + encodeURIComponent(this.value); }"
)


def config_field_names(plugin_class: type[BasePlugin] | None) -> list[str]:
    """The form's schema fields in declaration order (secrets followed by their clear box)."""
    if plugin_class is None:
        return []
    names = []
    for config_field in plugin_class.config_fields:
        names.append(CONFIG_PREFIX + config_field.name)
        if config_field.is_secret:
            names.append(CONFIG_PREFIX + config_field.name + CLEAR_SUFFIX)
    return names


class PluginConfigForm(TenantConsistentForm):
    """Base form; ``plugin_config_form(plugin_class)`` adds the plugin's schema fields."""

    plugin_class: ClassVar[type[BasePlugin] | None] = None

    plugin_id = forms.ChoiceField(label=gettext_lazy("Plugin"))
    # Which plugin's settings the submitted page showed; see _fill_defaults_if_not_shown.
    config_for = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = PluginConfig
        fields = ["tenant", "plugin_id", "enabled", "order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._config: dict[str, Any] | None = None
        self._secrets: dict[str, str] | None = None
        self._set_up_plugin_choice()
        plugin_class = self.plugin_class
        if plugin_class is None:
            return
        self.fields["config_for"].initial = plugin_class.id
        stored = {**self.instance.config} if self.instance.pk else {}
        stored_secrets = self.instance.secrets if self.instance.pk else {}
        for config_field in plugin_class.config_fields:
            name = CONFIG_PREFIX + config_field.name
            if config_field.is_secret:
                is_set = bool(stored_secrets.get(config_field.name))
                state = _("A value is stored; leave blank to keep it.") if is_set else _("Not set.")
                help_text = [str(text) for text in (config_field.help, state) if text]
                self.fields[name].help_text = " ".join(help_text)
            else:
                self.initial.setdefault(name, stored.get(config_field.name, config_field.initial))
        if self.is_bound and self.data.get("config_for") != plugin_class.id:
            self._fill_defaults_if_not_shown(plugin_class)

    def _set_up_plugin_choice(self) -> None:
        field = self.fields["plugin_id"]
        choices = registry.choices()
        current = self.instance.plugin_id
        if current and current not in dict(choices):
            choices.append((current, _("%(plugin)s (not installed)") % {"plugin": current}))
        if self.instance.pk:
            field.choices = choices
            field.disabled = True
            field.help_text = _("To use another plugin, add a configuration for it.")
        else:
            field.choices = [("", "---------"), *choices]
            field.widget.attrs["onchange"] = _RELOAD_ON_CHANGE
            field.help_text = _("Choosing a plugin shows its settings.")

    def _fill_defaults_if_not_shown(self, plugin_class: type[BasePlugin]) -> None:
        # The page was shown before a plugin was chosen (without JavaScript nothing reloads
        # it), so it had no settings fields: store the defaults, not empty values.
        data = self.data.copy()
        for config_field in plugin_class.config_fields:
            name = CONFIG_PREFIX + config_field.name
            initial = config_field.initial
            if config_field.type is FieldType.BOOL:
                if initial:
                    data[name] = "on"
                else:
                    data.pop(name, None)
            elif config_field.type is FieldType.LIST:
                data[name] = "\n".join(initial)
            elif not config_field.is_secret:
                data[name] = "" if initial is None else str(initial)
        self.data = data

    def clean(self):
        cleaned = super().clean()
        plugin_id = cleaned.get("plugin_id")
        self._check_not_configured_twice(plugin_id, cleaned)
        plugin_class = self.plugin_class
        if plugin_class is None or plugin_id != plugin_class.id:
            if plugin_id and not self.instance.pk and registry.get(plugin_id) is not None:
                # Chosen now, with another plugin's settings on the page: start from defaults.
                self._config, self._secrets = split_secrets(
                    registry.get(plugin_id), validate_config(registry.get(plugin_id), {})
                )
            return cleaned
        names = {f.name for f in plugin_class.config_fields}
        if any(CONFIG_PREFIX + name in self.errors for name in names):
            return cleaned  # each field reported its own error; the whole cannot be checked
        stored_secrets = self.instance.secrets if self.instance.pk else {}
        values = {}
        for config_field in plugin_class.config_fields:
            name = CONFIG_PREFIX + config_field.name
            value = cleaned.get(name)
            if config_field.is_secret:
                if cleaned.get(name + CLEAR_SUFFIX):
                    value = ""
                elif not value:
                    value = stored_secrets.get(config_field.name, "")
            values[config_field.name] = value
        try:
            config = validate_config(plugin_class, values)
        except ValidationError as exc:
            errors = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
            for name, field_errors in errors.items():
                target = CONFIG_PREFIX + name if name in names else None
                self.add_error(target, field_errors)
            return cleaned
        self._config, self._secrets = split_secrets(plugin_class, config)
        return cleaned

    def _check_not_configured_twice(self, plugin_id: str | None, cleaned: dict) -> None:
        # Tenant admins' forms have no tenant field, so Django skips the (tenant, plugin_id)
        # unique constraint; without this check a duplicate would fail in the database (500).
        if not plugin_id or "tenant" in self.fields:
            return
        tenant_id = self.instance.tenant_id
        if tenant_id is None:
            return
        duplicate = (
            PluginConfig.objects.filter(tenant_id=tenant_id, plugin_id=plugin_id)
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if duplicate:
            self.add_error(
                "plugin_id",
                ValidationError(
                    _(
                        "This plugin is already configured for your organisation; edit that "
                        "configuration instead."
                    ),
                    code="duplicate_plugin",
                ),
            )

    def save(self, commit=True):
        instance = super().save(commit=False)
        if self._config is not None:
            instance.config = self._config
            instance.secrets = self._secrets or {}
        if commit:
            instance.save()
            self._save_m2m()
        return instance


def plugin_config_form(plugin_class: type[BasePlugin] | None) -> type[PluginConfigForm]:
    """The admin form class for one plugin (or the bare form before a plugin is chosen)."""
    if plugin_class is None:
        return PluginConfigForm
    attrs: dict[str, Any] = {"plugin_class": plugin_class}
    for config_field in plugin_class.config_fields:
        formfield = config_field.formfield()
        if config_field.is_secret:
            # Blank keeps the stored value; "required" is checked against the stored value too.
            formfield.required = False
            attrs[CONFIG_PREFIX + config_field.name + CLEAR_SUFFIX] = forms.BooleanField(
                required=False, label=_("Clear %(field)s") % {"field": formfield.label.lower()}
            )
        attrs[CONFIG_PREFIX + config_field.name] = formfield
    return type(f"{plugin_class.__name__}ConfigForm", (PluginConfigForm,), attrs)
