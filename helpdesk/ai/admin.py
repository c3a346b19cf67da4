from django.contrib import admin
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from helpdesk.ai.forms import BotConfigForm
from helpdesk.ai.knowledge.services import articles_delete, articles_index, articles_set_active
from helpdesk.ai.models import BotConfig, KnowledgeArticle, TokenUsage
from helpdesk.tenants.admin_base import TenantScopedAdmin, ids_by_tenant


@admin.register(BotConfig)
class BotConfigAdmin(TenantScopedAdmin):
    form = BotConfigForm
    list_display = ["name", "provider", "model", "endpoint", "key_status", "is_active"]
    list_filter = ["provider", "is_active"]
    search_fields = ["name", "model", "base_url"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["tenant", "name", "is_active"]}),
        (
            _("Provider & endpoint"),
            {
                "fields": ["provider", "base_url", "api_key", "clear_api_key", "model"],
                "description": _(
                    "“OpenAI-compatible” is OpenAI itself or any server that speaks its "
                    "chat-completions API (vLLM, llama.cpp, Ollama, …). “FAQ” answers from this "
                    "tenant's knowledge articles, with no API, and passes what it cannot answer "
                    "to a human; it ignores the endpoint, key, model and prompt."
                ),
            },
        ),
        (
            _("Prompt & context"),
            {
                "fields": [
                    "system_prompt",
                    "context_turns",
                    "context_token_budget",
                    "max_tokens",
                    "temperature",
                ]
            },
        ),
        (
            _("Knowledge"),
            {"fields": ["knowledge_chunks", "answer_only_from_knowledge", "no_knowledge_message"]},
        ),
        (
            _("Streaming & batching"),
            {"fields": ["streaming", "batch_window_ms", "delta_interval_ms"]},
        ),
        (_("Handoff & fallback"), {"fields": ["handoff_keywords", "fallback_message"]}),
        (
            _("Reliability"),
            {
                "fields": [
                    "request_timeout_seconds",
                    "max_retries",
                    "breaker_failure_threshold",
                    "breaker_cooldown_seconds",
                ]
            },
        ),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # TenantScopedAdmin drops "tenant" from `fields`; fieldsets are ours to trim.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "tenant"]})
            for name, options in fieldsets
        ]

    # The key must not reach an error report or a debug page with the rest of the POST.
    @method_decorator(sensitive_post_parameters("api_key"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("Endpoint"))
    def endpoint(self, obj: BotConfig) -> str:
        if obj.provider == BotConfig.Provider.FAQ:
            return "—"
        return obj.base_url or gettext("(default)")

    @admin.display(description=_("API key"))
    def key_status(self, obj: BotConfig) -> str:
        return gettext("set") if obj.api_key_encrypted else "—"


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(TenantScopedAdmin):
    list_display = ["question", "keywords", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["question", "answer", "keywords"]
    readonly_fields = ["updated_at"]
    fields = ["tenant", "question", "answer", "keywords", "is_active", "updated_at"]
    actions = ["activate", "deactivate"]

    @admin.action(description=_("Let the FAQ bot use the selected articles"))
    def activate(self, request, queryset):
        count = _set_active(queryset, active=True)
        self.message_user(
            request,
            ngettext("%(count)d article active.", "%(count)d articles active.", count)
            % {"count": count},
        )

    @admin.action(description=_("Stop the FAQ bot from using the selected articles"))
    def deactivate(self, request, queryset):
        count = _set_active(queryset, active=False)
        self.message_user(
            request,
            ngettext("%(count)d article inactive.", "%(count)d articles inactive.", count)
            % {"count": count},
        )

    # Each runs in a transaction (the admin view's, or the service's own), so an article and
    # its chunks are saved or deleted together.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        articles_index(tenant=obj.tenant, article_ids=[obj.pk])

    def delete_model(self, request, obj):
        articles_delete(tenant=obj.tenant, article_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        for tenant, ids in ids_by_tenant(queryset).items():
            articles_delete(tenant=tenant, article_ids=ids)


def _set_active(queryset, *, active: bool) -> int:
    return sum(
        articles_set_active(tenant=tenant, article_ids=ids, active=active)
        for tenant, ids in ids_by_tenant(queryset).items()
    )


@admin.register(TokenUsage)
class TokenUsageAdmin(TenantScopedAdmin):
    """What bot replies cost, read-only: the rows are written by the reply pipeline."""

    # Never deleted here, but along with their conversation (helpdesk/conversations/admin.py).
    deleted_with_conversation = True
    change_list_template = "admin/ai/tokenusage/change_list.html"
    list_display = [
        "created_at",
        "conversation_link",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "source",
    ]
    list_filter = ["source", "model"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    fields = [
        "tenant",
        "created_at",
        "conversation",
        "message",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "source",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Conversation"), ordering="conversation")
    def conversation_link(self, obj: TokenUsage) -> str:
        url = reverse("admin:conversations_conversation_change", args=[obj.conversation_id])
        return format_html('<a href="{}">#{}</a>', url, obj.conversation_id)

    @admin.display(description=_("Total"))
    def total_tokens(self, obj: TokenUsage) -> int:
        return obj.total_tokens

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            # Totals of what the filters and the date selection show, over every page.
            totals = changelist.queryset.aggregate(
                replies=Count("id"),
                prompt=Sum("prompt_tokens", default=0),
                completion=Sum("completion_tokens", default=0),
            )
            totals["total"] = totals["prompt"] + totals["completion"]
            response.context_data["totals"] = totals
        return response


from helpdesk.ai.knowledge import admin as knowledge_admin  # noqa: E402,F401
from helpdesk.ai.knowledge import settings_admin  # noqa: E402,F401
