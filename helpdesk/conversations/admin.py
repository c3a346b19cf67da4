from django.contrib import admin
from django.utils.html import format_html, format_html_join

from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.tenants.admin_base import TenantScopedAdmin


@admin.register(Contact)
class ContactAdmin(TenantScopedAdmin):
    list_display = ["__str__", "email", "created_at", "last_seen_at"]
    search_fields = ["name", "email"]
    readonly_fields = ["visitor_id", "created_at", "last_seen_at"]
    fields = ["tenant", "name", "email", "metadata", "visitor_id", "created_at", "last_seen_at"]


@admin.register(Conversation)
class ConversationAdmin(TenantScopedAdmin):
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
    fields = [
        "tenant",
        "inbox",
        "contact",
        "status",
        "assignee",
        "handoff_reason",
        "created_at",
        "first_response_at",
        "resolved_at",
        "transcript",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Transcript")
    def transcript(self, obj: Conversation) -> str:
        messages = obj.messages.select_related("sender_user").order_by("seq")
        rows = format_html_join(
            "",
            '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            '<td style="white-space:pre-wrap">{}</td></tr>',
            (
                (
                    f"kind-{m.kind}",
                    m.seq,
                    m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    _sender_label(m),
                    m.get_kind_display() if m.kind != Message.Kind.TEXT else "",
                    m.text,
                )
                for m in messages
            ),
        )
        return format_html(
            "<table><thead><tr><th>#</th><th>When</th><th>Who</th><th>Kind</th><th>Text</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            rows,
        )


def _sender_label(message: Message) -> str:
    if message.sender_user is not None:
        return f"{message.get_sender_type_display()} ({message.sender_user.get_username()})"
    return message.get_sender_type_display()
