"""A plugin's configuration structure: a short declarative list of fields.

A plugin declares ``config_fields = (ConfigField(...), ...)``. From that one list the framework
fills in defaults, validates a stored configuration (the same Django form fields the admin
shows, so the admin and the runtime can never disagree), and builds the admin form. Values are
plain JSON types; ``secret`` fields are kept apart and stored encrypted.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from helpdesk.plugins.base import BasePlugin


class FieldType(StrEnum):
    STR = "str"
    INT = "int"
    BOOL = "bool"
    LIST = "list[str]"  # a textarea, one entry per line
    SECRET = "secret"  # write-only in the admin, encrypted at rest
    CHOICE = "choice"


Validator = Callable[[Any], None]


@dataclass(frozen=True)
class ConfigField:
    """One configuration value. ``validators`` get the cleaned value and raise ValidationError.

    ``label`` and ``help`` are what the admin shows: mark them for translation with
    ``gettext_lazy`` so that every admin reads them in their own language.
    """

    name: str
    type: FieldType | str = FieldType.STR
    default: Any = None
    help: str | Promise = ""
    label: str | Promise = ""
    required: bool = False
    validators: Sequence[Validator] = ()
    choices: Sequence[tuple[str, str]] = ()  # for CHOICE
    min_value: int | None = None  # for INT
    max_value: int | None = None  # for INT
    max_length: int | None = None  # for STR / SECRET, and per entry for LIST
    max_items: int | None = None  # for LIST
    multiline: bool = False  # for STR: a textarea

    def __post_init__(self):
        object.__setattr__(self, "type", FieldType(self.type))
        if not self.name.isidentifier():
            raise ValueError(f"config field name must be an identifier: {self.name!r}")
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError(f"choice field {self.name!r} needs choices")

    @property
    def is_secret(self) -> bool:
        return self.type is FieldType.SECRET

    @property
    def initial(self) -> Any:
        """The default as a fresh value (lists are copied, never shared between configs)."""
        if self.default is None:
            return _EMPTY[self.type]()
        return list(self.default) if self.type is FieldType.LIST else self.default

    def formfield(self) -> forms.Field:
        """The Django form field that cleans this value, for the admin and the runtime alike."""
        common = {
            "label": self.label or self.name.replace("_", " ").capitalize(),
            "help_text": self.help,
            "required": self.required,
            "validators": list(self.validators),
        }
        match self.type:
            case FieldType.STR:
                widget = forms.Textarea(attrs={"rows": 4}) if self.multiline else None
                return forms.CharField(
                    max_length=self.max_length, strip=True, widget=widget, **common
                )
            case FieldType.SECRET:
                return forms.CharField(
                    max_length=self.max_length,
                    strip=True,
                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                    **common,
                )
            case FieldType.INT:
                return forms.IntegerField(
                    min_value=self.min_value, max_value=self.max_value, **common
                )
            case FieldType.BOOL:
                return forms.BooleanField(**common)
            case FieldType.LIST:
                return LinesField(
                    max_items=self.max_items, max_item_length=self.max_length, **common
                )
            case FieldType.CHOICE:
                return forms.ChoiceField(choices=list(self.choices), **common)
        raise AssertionError(self.type)  # pragma: no cover


_EMPTY: dict[FieldType, Callable[[], Any]] = {
    FieldType.STR: str,
    FieldType.SECRET: str,
    FieldType.INT: lambda: None,
    FieldType.BOOL: bool,
    FieldType.LIST: list,
    FieldType.CHOICE: str,
}


class LinesField(forms.CharField):
    """A list of strings edited as one entry per line; blank lines and duplicates dropped."""

    def __init__(self, *, max_items: int | None = None, max_item_length: int | None = None, **kw):
        kw.setdefault("widget", forms.Textarea(attrs={"rows": 8}))
        super().__init__(strip=False, **kw)
        self.max_items = max_items
        self.max_item_length = max_item_length

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value) -> list[str]:
        if value in self.empty_values:
            return []
        if isinstance(value, str):
            value = value.splitlines()
        if not isinstance(value, list | tuple):
            raise ValidationError(_("Enter one entry per line."), code="invalid")
        items = [str(item).strip() for item in value]
        return list(dict.fromkeys(item for item in items if item))

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        if self.max_items is not None and len(value) > self.max_items:
            raise ValidationError(
                _("At most %(limit)d entries (got %(count)d)."),
                code="max_items",
                params={"limit": self.max_items, "count": len(value)},
            )
        if self.max_item_length is not None:
            long = [item for item in value if len(item) > self.max_item_length]
            if long:
                raise ValidationError(
                    _("Entries are at most %(limit)d characters: %(first)s"),
                    code="max_item_length",
                    params={"limit": self.max_item_length, "first": long[0][:60]},
                )

    def run_validators(self, value):
        # Field.run_validators skips "empty" values, and [] is one; validators of a list field
        # (e.g. "each line is a regex") get the whole list, empty or not.
        errors = []
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)


def defaults(fields: Iterable[ConfigField]) -> dict[str, Any]:
    return {f.name: f.initial for f in fields}


def validate_config(
    plugin_class: "type[BasePlugin]",
    values: Mapping[str, Any] | None,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The complete, cleaned configuration (secrets included) or a ValidationError by field.

    Missing values take their defaults; unknown keys are dropped. After the fields, the
    plugin's ``clean_config`` checks the whole (e.g. values that depend on each other).
    """
    values = dict(values or {})
    values.update({k: v for k, v in (secrets or {}).items() if v})
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[ValidationError]] = {}
    for config_field in plugin_class.config_fields:
        raw = values.get(config_field.name, config_field.initial)
        try:
            cleaned[config_field.name] = config_field.formfield().clean(raw)
        except ValidationError as exc:
            errors[config_field.name] = exc.error_list
    if errors:
        raise ValidationError(errors)
    return plugin_class.clean_config(cleaned)


def split_secrets(
    plugin_class: "type[BasePlugin]", config: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(plain values, secret values) of a cleaned configuration."""
    secret_names = {f.name for f in plugin_class.config_fields if f.is_secret}
    plain = {k: v for k, v in config.items() if k not in secret_names}
    secret = {k: v for k, v in config.items() if k in secret_names and v}
    return plain, secret
