from django.contrib import admin
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.console.forms import CannedResponseForm
from helpdesk.console.models import CannedResponse
from helpdesk.tenants.admin_base import TenantScopedAdmin


@admin.register(CannedResponse)
class CannedResponseAdmin(TenantScopedAdmin):
    form = CannedResponseForm
    list_display = ["slash_shortcut", "title", "preview", "is_active", "updated_at"]
    list_display_links = ["slash_shortcut", "title"]
    list_filter = ["is_active"]
    search_fields = ["shortcut", "title", "text"]
    ordering = ["shortcut"]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["tenant", "shortcut", "title", "text", "is_active", "created_at", "updated_at"]
    actions = ["activate", "deactivate"]

    @admin.display(description=_("Shortcut"), ordering="shortcut")
    def slash_shortcut(self, obj: CannedResponse) -> str:
        return f"/{obj.shortcut}"

    @admin.display(description=_("Text"))
    def preview(self, obj: CannedResponse) -> str:
        return Truncator(obj.text).chars(80)

    @admin.action(description=_("Offer the selected responses to agents"))
    def activate(self, request, queryset):
        # update() skips auto_now: the time is set by hand, so the list shows the change.
        count = queryset.update(is_active=True, updated_at=timezone.now())
        self.message_user(
            request,
            ngettext(
                "%(count)d canned response active.", "%(count)d canned responses active.", count
            )
            % {"count": count},
        )

    @admin.action(description=_("Stop offering the selected responses"))
    def deactivate(self, request, queryset):
        count = queryset.update(is_active=False, updated_at=timezone.now())
        self.message_user(
            request,
            ngettext(
                "%(count)d canned response inactive.",
                "%(count)d canned responses inactive.",
                count,
            )
            % {"count": count},
        )
