"""Webhooks in the tenant-scoped admin: endpoints with their events and secret, and the
deliveries with their outcome, a resend action and re-enabling."""

import httpx
from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.core.netguard import AddressRefused, check_addresses, resolve_sync
from helpdesk.tenants.admin_base import TenantConsistentForm, TenantScopedAdmin, ids_by_tenant
from helpdesk.webhooks.delivery import address_policy, deliveries_resend, webhooks_enable
from helpdesk.webhooks.events import EVENT_CHOICES
from helpdesk.webhooks.models import Webhook, WebhookDelivery

RECENT_DELIVERIES_SHOWN = 10


class WebhookForm(TenantConsistentForm):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The events sent to this URL."),
    )

    class Meta:
        model = Webhook
        fields = ["url", "events", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, UnicodeError):
            raise forms.ValidationError(_("This is not a valid URL.")) from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise forms.ValidationError(_("The URL must start with http:// or https://."))
        if parsed.userinfo:
            raise forms.ValidationError(_("The URL must not contain a user name or password."))
        # A first line only: every delivery's connection is checked again as it opens.
        host = parsed.raw_host.decode("ascii")
        try:
            addresses = resolve_sync(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        except (OSError, UnicodeError):
            return url
        try:
            check_addresses(host, addresses, address_policy())
        except AddressRefused:
            raise forms.ValidationError(
                _("%(host)s is on an internal network; webhooks only reach public addresses."),
                params={"host": host},
            ) from None
        return url


@admin.register(Webhook)
class WebhookAdmin(TenantScopedAdmin):
    form = WebhookForm
    list_display = ["url", "event_list", "is_active", "consecutive_failures", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["url"]
    readonly_fields = [
        "signing_secret",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "recent_deliveries",
    ]
    actions = ["enable"]

    @admin.display(description=_("signing secret"))
    def signing_secret(self, obj: Webhook) -> str:
        # Shown to the tenant's admins, who put it in their receiver; verify before trusting.
        return obj.secret

    def get_fields(self, request, obj=None):
        fields = ["tenant"] if request.user.is_superuser else []
        fields += ["url", "events", "is_active"]
        if obj is not None:
            fields += self.readonly_fields
        return fields

    @admin.display(description=_("Events"))
    def event_list(self, obj: Webhook) -> str:
        return obj.event_labels

    @admin.display(description=_("Recent deliveries"))
    def recent_deliveries(self, obj: Webhook):
        deliveries = obj.deliveries.order_by("-occurred_at", "-id")[:RECENT_DELIVERIES_SHOWN]
        rows = format_html_join(
            "",
            "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            (
                (
                    reverse("admin:webhooks_webhookdelivery_change", args=[d.pk]),
                    d.event,
                    d.get_status_display(),
                    d.attempts,
                    d.last_status_code or "",
                    d.response_ms if d.response_ms is not None else "",
                    d.last_error,
                )
                for d in deliveries
            ),
        )
        if not deliveries:
            return _("No deliveries yet.")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>"
            "<p><a href='{}?webhook__id__exact={}'>{}</a></p>",
            _("Event"),
            _("Status"),
            _("Attempts"),
            _("HTTP status"),
            _("Response time (ms)"),
            _("Error"),
            rows,
            reverse("admin:webhooks_webhookdelivery_changelist"),
            obj.pk,
            _("All deliveries"),
        )

    @admin.action(description=_("Enable the selected webhooks again and send what waited"))
    def enable(self, request, queryset):
        count = sum(
            webhooks_enable(tenant=tenant, webhook_ids=ids)
            for tenant, ids in ids_by_tenant(queryset).items()
        )
        self.message_user(
            request,
            ngettext("%(count)d webhook enabled.", "%(count)d webhooks enabled.", count)
            % {"count": count},
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantScopedAdmin):
    list_display = [
        "occurred_at",
        "event",
        "webhook",
        "conversation_id",
        "status",
        "attempts",
        "last_status_code",
        "response_ms",
        "last_error",
    ]
    list_filter = ["status", "event", ("webhook", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["webhook"]
    search_fields = ["event_id"]
    actions = ["resend"]
    fields = [
        "webhook",
        "event",
        "event_id",
        "conversation_id",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "response_ms",
        "last_error",
        "occurred_at",
        "created_at",
        "delivered_at",
        "payload",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False  # deliveries come from events

    @admin.action(description=_("Send the selected deliveries again"))
    def resend(self, request, queryset):
        count = sum(
            deliveries_resend(tenant=tenant, delivery_ids=ids)
            for tenant, ids in ids_by_tenant(queryset).items()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                count,
            )
            % {"count": count},
        )
