import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.conversations.contacts import contact_delete
from helpdesk.conversations.handoff_reasons import reason_text
from helpdesk.conversations.models import Contact, Conversation, Message, Rating, RetentionPolicy
from helpdesk.conversations.retention import contact_export
from helpdesk.conversations.transcripts import (
    TRANSCRIPTS_EXPORT_MAX,
    conversation_transcript,
    conversations_transcripts,
    event_description,
    transcript_as_text,
    transcript_filename,
)
from helpdesk.core.http import attachment
from helpdesk.tenants.admin_base import TenantScopedAdmin, ids_by_tenant
from helpdesk.tenants.models import Tenant


class DeletesWhatGoesWithConversations:
    """Deleting contacts or conversations here takes along the rows that exist only with them
    (the token usages of their bot replies, say).

    An admin that never deletes its rows on their own (the token usages are the record of what
    replies cost) says ``deleted_with_conversation = True``. Without that, Django's delete view
    reads its refusal as a missing permission that blocks the whole deletion; but rows that go
    only because their conversation goes are not deleted "on their own": the cascade may take
    them. The flag, not a list of models here, keeps this app ignorant of the apps above it.
    """

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        cascaded = {
            str(model._meta.verbose_name)
            for model, model_admin in self.admin_site._registry.items()
            if getattr(model_admin, "deleted_with_conversation", False)
        }
        return to_delete, model_count, set(perms_needed) - cascaded, protected


@admin.register(Contact)
class ContactAdmin(DeletesWhatGoesWithConversations, TenantScopedAdmin):
    list_display = ["__str__", "email", "external_id", "created_at", "last_seen_at"]
    search_fields = ["name", "email", "external_id"]
    ordering = ["-created_at", "-pk"]  # stable pages in the list and in autocomplete
    readonly_fields = ["visitor_id", "language", "created_at", "last_seen_at"]
    fields = [
        "tenant",
        "name",
        "email",
        "external_id",
        "metadata",
        "visitor_id",
        "language",
        "created_at",
        "last_seen_at",
    ]
    actions = ["export_json"]

    @admin.action(description=_("Export everything about the selected contacts (JSON)"))
    def export_json(self, request, queryset):
        exports = [
            contact_export(tenant=tenant, contact_id=pk, actor=request.user)
            for tenant, ids in ids_by_tenant(queryset).items()
            for pk in ids
        ]
        body = json.dumps(exports if len(exports) > 1 else exports[0], ensure_ascii=False, indent=2)
        return attachment(body, "application/json", "contacts.json")

    # Through the service, which records the erasure in the audit log.
    def delete_model(self, request, obj):
        contact_delete(tenant=obj.tenant, contact_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for contact in queryset.select_related("tenant"):
            contact_delete(tenant=contact.tenant, contact_id=contact.pk, actor=request.user)


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(TenantScopedAdmin):
    list_display = ["resolved_for_days", "action", "last_applied_at"]
    readonly_fields = ["last_applied_at"]

    def has_add_permission(self, request, *args):
        # One per tenant: a tenant admin who has one edits it.
        tenant = self._tenant(request)
        if tenant is not None and RetentionPolicy.objects.filter(tenant=tenant).exists():
            return False
        return super().has_add_permission(request, *args)


@admin.register(Conversation)
class ConversationAdmin(DeletesWhatGoesWithConversations, TenantScopedAdmin):
    """Conversations are read-only transcripts here; agents act on them in the console."""

    list_display = ["id", "contact", "inbox", "status", "assignee", "last_message_at"]
    list_filter = [
        "status",
        # RelatedOnly lists only inboxes/agents that occur in the (tenant-filtered) rows;
        # the plain filter would list every tenant's inboxes by name.
        ("inbox", admin.RelatedOnlyFieldListFilter),
        ("assignee", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["contact__name", "contact__email", "messages__text"]
    autocomplete_fields = ["contact"]
    list_select_related = ["contact", "inbox", "assignee"]
    date_hierarchy = "created_at"
    actions = ["export_transcripts_json", "export_transcripts_text"]
    fields = [
        "tenant",
        "inbox",
        "contact",
        "status",
        "assignee",
        "handoff",
        "created_at",
        "first_response_at",
        "resolved_at",
        "rating_given",
        "export",
        "transcript",
    ]
    readonly_fields = fields

    @admin.display(description=_("rating"))
    def rating_given(self, obj: Conversation) -> str:
        try:
            rating = obj.rating
        except Conversation.rating.RelatedObjectDoesNotExist:
            return gettext("Not rated")
        return rating_summary(rating)

    def has_add_permission(self, request, *args):
        return False

    @admin.display(description=_("handoff reason"))
    def handoff(self, obj: Conversation) -> str:
        return reason_text(obj.handoff_reason)

    def has_change_permission(self, request, obj=None):
        return False

    # --- Exports ---------------------------------------------------------------------------------

    def get_urls(self):
        opts = self.model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "<path:object_id>/transcript.json",
                self.admin_site.admin_view(self.transcript_json_view),
                name=f"{prefix}_transcript_json",
            ),
            path(
                "<path:object_id>/transcript.txt",
                self.admin_site.admin_view(self.transcript_text_view),
                name=f"{prefix}_transcript_text",
            ),
            *super().get_urls(),
        ]

    def _one_transcript(self, request: HttpRequest, object_id: str) -> dict:
        # get_object answers 404 for another tenant's id (TenantScopedAdmin), like a missing one.
        conversation = self.get_object(request, object_id)
        if not self.has_view_permission(request, conversation):
            raise PermissionDenied
        tenant = self._export_tenant(request, conversation.tenant)
        return conversation_transcript(tenant=tenant, conversation_id=conversation.pk)

    def transcript_json_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        transcript = self._one_transcript(request, object_id)
        return attachment(
            json.dumps(transcript, ensure_ascii=False, indent=2),
            "application/json",
            transcript_filename(transcript, "json"),
        )

    def transcript_text_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        transcript = self._one_transcript(request, object_id)
        return attachment(
            transcript_as_text(transcript),
            "text/plain",
            transcript_filename(transcript, "txt"),
        )

    def _export_tenant(self, request: HttpRequest, tenant: Tenant) -> Tenant:
        """The tenant an export reads: a tenant admin's own, always; a superuser's, the row's."""
        if request.user.is_superuser:
            return tenant
        own = self._tenant(request)
        if own is None:
            raise PermissionDenied
        return own

    def _selected_transcripts(self, request: HttpRequest, queryset) -> list[dict] | None:
        # The queryset is the change list's, so already limited to the admin's tenant.
        selected = list(queryset.values_list("pk", "tenant_id"))
        if len(selected) > TRANSCRIPTS_EXPORT_MAX:
            self.message_user(
                request,
                gettext(
                    "Select at most %(limit)d conversations to export at once (%(count)d selected)."
                )
                % {"limit": TRANSCRIPTS_EXPORT_MAX, "count": len(selected)},
                messages.ERROR,
            )
            return None
        by_tenant: dict[int, list[int]] = {}
        for pk, tenant_id in selected:
            by_tenant.setdefault(tenant_id, []).append(pk)
        transcripts = []
        for tenant in Tenant.objects.filter(pk__in=by_tenant):
            tenant = self._export_tenant(request, tenant)
            transcripts += conversations_transcripts(
                tenant=tenant, conversation_ids=by_tenant.get(tenant.pk, [])
            )
        transcripts.sort(key=lambda t: (t["conversation"]["created_at"], t["conversation"]["id"]))
        return transcripts

    @admin.action(description=_("Export the selected transcripts as JSON"), permissions=["view"])
    def export_transcripts_json(self, request: HttpRequest, queryset):
        transcripts = self._selected_transcripts(request, queryset)
        if transcripts is None:
            return None
        return attachment(
            json.dumps(transcripts, ensure_ascii=False, indent=2),
            "application/json",
            "transcripts.json",
        )

    @admin.action(description=_("Export the selected transcripts as text"), permissions=["view"])
    def export_transcripts_text(self, request: HttpRequest, queryset):
        transcripts = self._selected_transcripts(request, queryset)
        if transcripts is None:
            return None
        separator = "\n" + "=" * 72 + "\n\n"
        return attachment(
            separator.join(transcript_as_text(t) for t in transcripts),
            "text/plain",
            "transcripts.txt",
        )

    @admin.display(description=_("Export"))
    def export(self, obj: Conversation) -> str:
        opts = self.model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        return format_html(
            '<a class="button" href="{}" download>{}</a> '
            '<a class="button" href="{}" download>{}</a>',
            reverse(f"{prefix}_transcript_json", args=[obj.pk]),
            gettext("Download JSON"),
            reverse(f"{prefix}_transcript_text", args=[obj.pk]),
            gettext("Download text"),
        )

    # --- The transcript --------------------------------------------------------------------------

    @admin.display(description=_("Transcript"))
    def transcript(self, obj: Conversation) -> str:
        # Read with the row's own tenant: the page only opens for a row the admin may see.
        entries = conversation_transcript(tenant=obj.tenant, conversation_id=obj.pk)["messages"]
        rows = format_html_join(
            "",
            '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            '<td style="white-space:pre-wrap">{}</td></tr>',
            (
                (
                    f"kind-{entry['kind']}",
                    entry["seq"],
                    entry["created_at"][:19].replace("T", " "),
                    _who(entry),
                    _kind_label(entry),
                    _what(entry),
                )
                for entry in entries
            ),
        )
        return format_html(
            "<style>.kind-note td{{background:#fff7cf}}"
            ".kind-event td{{color:#687083;font-style:italic}}</style>"
            "<table><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("When (UTC)"),
            gettext("Who"),
            gettext("Kind"),
            gettext("Text"),
            rows,
        )


def _who(entry: dict) -> str:
    if entry["kind"] == Message.Kind.EVENT:
        # An event is written by the system on behalf of whoever acted.
        return entry["metadata"].get("by_name") or gettext("System")
    if entry["sender"] == Message.SenderType.AGENT:
        return gettext("Agent (%(name)s)") % {"name": entry["sender_name"]}
    return entry["sender_name"]


def _kind_label(entry: dict) -> str:
    if entry["kind"] == Message.Kind.NOTE:
        return gettext("Private note")
    if entry["kind"] == Message.Kind.EVENT:
        return gettext("Event")
    if entry["state"] == Message.State.INTERRUPTED:
        return gettext("Interrupted")
    return ""


def _what(entry: dict) -> str:
    if entry["kind"] != Message.Kind.EVENT:
        return entry["text"]
    description = event_description(entry)
    # What the customer was shown, when it says more than the description.
    if entry["text"] and entry["text"] != description:
        return f"{description}\n“{entry['text']}”"
    return description


def rating_summary(rating: Rating) -> str:
    """ "4 / 5 — comment" or "Thumbs up — comment", in the admin's language."""
    if rating.scale == Rating.Scale.THUMBS:
        score = gettext("Thumbs up") if rating.satisfied else gettext("Thumbs down")
    else:
        score = gettext("%(score)d / 5") % {"score": rating.score}
    return f"{score} — {rating.comment}" if rating.comment else score


@admin.register(Rating)
class RatingAdmin(TenantScopedAdmin):
    """Customers' ratings, read-only: they are the customers' words, not the tenant's."""

    list_display = ["conversation", "score", "scale", "agent", "bot", "short_comment", "created_at"]
    list_filter = [
        "score",
        "scale",
        # Only the agents and bots that occur in the (tenant-filtered) rows.
        ("agent", admin.RelatedOnlyFieldListFilter),
        ("bot", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["comment"]
    list_select_related = ["conversation", "agent", "bot"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    fields = ["tenant", "conversation", "score", "scale", "comment", "agent", "bot", "created_at"]
    readonly_fields = fields
    # A rating goes with its conversation: deleting a conversation here takes it along.
    deleted_with_conversation = True

    @admin.display(description=_("comment"))
    def short_comment(self, obj: Rating) -> str:
        return obj.comment if len(obj.comment) <= 80 else obj.comment[:79] + "…"

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
