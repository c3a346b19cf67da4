"""The inbox in the admin: where its widget may run and everything it offers customers."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from helpdesk.tenants.admin_base import TenantScopedAdmin, TenantScopedInline
from helpdesk.tenants.models import Inbox
from helpdesk.widget.hours import Schedule
from helpdesk.widget.models import Holiday, OpeningHours, PrechatField


class PrechatFieldInline(TenantScopedInline):
    model = PrechatField
    extra = 0
    fields = ["position", "kind", "key", "label", "required", "choices"]


class OpeningHoursFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if not self.instance.hours_enabled:
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk or form.has_changed())
        ]
        if not kept:
            raise ValidationError(
                _(
                    "Business hours are on but no opening hours are set: the inbox would always "
                    "be closed. Add opening hours or turn business hours off."
                ),
                code="hours_without_rows",
            )


class OpeningHoursInline(TenantScopedInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 0
    fields = ["weekday", "opens", "closes"]


class HolidayInline(TenantScopedInline):
    model = Holiday
    extra = 0
    fields = ["date", "name"]


@admin.register(Inbox)
class InboxAdmin(TenantScopedAdmin):
    list_display = ["name", "public_key", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    ordering = ["name", "pk"]  # stable pages in the list and in autocomplete
    readonly_fields = ["public_key", "embed_snippet", "identity_secret_shown", "hours_now"]
    inlines = [PrechatFieldInline, OpeningHoursInline, HolidayInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "tenant",
                    "name",
                    "allowed_origins",
                    "greeting",
                    "language",
                    "bot",
                    "reopen_to",
                    "is_active",
                    "public_key",
                    "embed_snippet",
                ]
            },
        ),
        (
            _("Files"),
            {
                "fields": [
                    "attachments_enabled",
                    "attachment_types",
                    "attachment_max_mb",
                    "attachments_per_message",
                ]
            },
        ),
        (
            _("Pre-chat form and identity"),
            {
                "fields": ["prechat_enabled", "identity_secret_shown"],
                "description": _(
                    "The form's fields are listed below. Your site signs the customers it "
                    "knows with the identity secret (docs/widget.md)."
                ),
            },
        ),
        (
            _("Business hours"),
            {
                "fields": ["hours_enabled", "time_zone", "hours_now"],
                "description": _("The opening hours and holidays are listed below."),
            },
        ),
        (
            _("Widget"),
            {
                "fields": [
                    "rating_scale",
                    "sound_enabled",
                    "title_unread_enabled",
                    "launcher_label",
                    "proactive_message",
                    "proactive_delay_seconds",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # A tenant admin's form has no tenant field (TenantScopedAdmin).
        return [
            (title, {**options, "fields": [f for f in options["fields"] if f != "tenant"]})
            for title, options in fieldsets
        ]

    @admin.display(description=_("Embed code"))
    def embed_snippet(self, obj: Inbox) -> str:
        if obj.pk is None:
            return _("Save the inbox to get its embed code.")
        return format_html(
            "<code>&lt;script src=&quot;https://YOUR-HELPDESK-HOST/static/helpdesk/widget.js"
            "&quot; data-inbox=&quot;{}&quot; async&gt;&lt;/script&gt;</code>",
            obj.public_key,
        )

    @admin.display(description=_("Identity secret"))
    def identity_secret_shown(self, obj: Inbox) -> str:
        if obj.pk is None:
            return _("Save the inbox to get its identity secret.")
        return format_html("<code>{}</code>", obj.identity_secret)

    @admin.display(description=_("Now"))
    def hours_now(self, obj: Inbox) -> str:
        if obj.pk is None:
            return _("Save the inbox to see whether it is open.")
        if not obj.hours_enabled:
            return _("Open (business hours are off: always open).")
        now = timezone.now()
        schedule = Schedule(obj, around=now.date())
        if schedule.is_open(now):
            return _("Open now.")
        opening = schedule.next_opening(now)
        if opening is None:
            return _("Closed, with no opening ahead.")
        wall = opening.replace(tzinfo=None)
        return _("Closed; opens %(day)s %(when)s (%(zone)s).") % {
            "day": formats.date_format(wall, "l"),
            "when": formats.date_format(wall, "DATETIME_FORMAT"),
            "zone": obj.time_zone,
        }
