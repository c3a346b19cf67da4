"""The knowledge settings admin: a tenant's embeddings endpoint, model and write-only key.

Saving with a model tests the endpoint there and then (one short text embedded): a URL, key or
model the endpoint refuses is an error on the form, in the admin's words, not a silent
fallback to lexical search later. Once saved, every process searches with the new settings and
a job embeds the chunks the model has no vector for (services.knowledge_settings_changed).
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from helpdesk.ai.forms import WriteOnlyKeyForm
from helpdesk.ai.knowledge.embeddings import EmbeddingsError, endpoint_check, endpoint_for
from helpdesk.ai.knowledge.models import KnowledgeSettings
from helpdesk.ai.knowledge.services import knowledge_settings_changed
from helpdesk.ai.validators import (
    normalise_endpoint,
    validate_endpoint,
    validate_endpoint_address,
)
from helpdesk.tenants.admin_base import TenantScopedAdmin
from helpdesk.tenants.models import Tenant

EMBEDDINGS_SUFFIX = "/embeddings"


class KnowledgeSettingsForm(WriteOnlyKeyForm):
    key_attribute = "embeddings_api_key"

    class Meta:
        model = KnowledgeSettings
        fields = ["tenant", "embeddings_base_url", "embeddings_model"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The vectors' length, once the endpoint answered the test.
        self.tested_dimensions: int | None = None

    def clean_embeddings_base_url(self) -> str:
        url = normalise_endpoint(self.cleaned_data.get("embeddings_base_url") or "")
        # A pasted …/embeddings is trimmed, as a pasted …/chat/completions is: the SDK adds it.
        if url.lower().endswith(EMBEDDINGS_SUFFIX):
            url = url[: -len(EMBEDDINGS_SUFFIX)].rstrip("/")
        if url:
            validate_endpoint(url)
            validate_endpoint_address(url)
        return url

    def clean_embeddings_model(self) -> str:
        return (self.cleaned_data.get("embeddings_model") or "").strip()

    def clean(self):
        cleaned = super().clean()
        model = cleaned.get("embeddings_model")
        if self.errors or not model:
            return cleaned
        endpoint = endpoint_for(
            base_url=cleaned.get("embeddings_base_url", ""),
            api_key=self.effective_key(),
            model=model,
        )
        try:
            self.tested_dimensions = endpoint_check(endpoint)
        except EmbeddingsError as error:
            raise ValidationError(
                _(
                    "The embeddings endpoint did not answer a test with model “%(model)s”: "
                    "%(error)s. Check the URL, the key and the model's name."
                ),
                code="endpoint_failed",
                params={"model": model, "error": error},
            ) from None
        return cleaned


@admin.register(KnowledgeSettings)
class KnowledgeSettingsAdmin(TenantScopedAdmin):
    form = KnowledgeSettingsForm
    list_display = ["__str__", "endpoint", "key_status", "updated_at"]
    fields = [
        "tenant",
        "embeddings_base_url",
        "api_key",
        "clear_api_key",
        "embeddings_model",
        "updated_at",
    ]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request, *args):
        if not super().has_add_permission(request, *args):
            return False
        # One row per tenant. A superuser picks the tenant, and the form says if it has one.
        return request.user.is_superuser or not (
            KnowledgeSettings.objects.filter(tenant=self._tenant(request)).exists()
        )

    # The key must not reach an error report or a debug page with the rest of the POST.
    @method_decorator(sensitive_post_parameters("api_key"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        knowledge_settings_changed(tenant=obj.tenant)
        if form.tested_dimensions:
            self.message_user(
                request,
                _(
                    "The endpoint answered: “%(model)s” makes vectors of %(dimensions)d numbers. "
                    "The knowledge is being embedded in the background."
                )
                % {"model": obj.embeddings_model, "dimensions": form.tested_dimensions},
            )

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        knowledge_settings_changed(tenant=obj.tenant)

    def delete_queryset(self, request, queryset):
        tenant_ids = set(queryset.values_list("tenant_id", flat=True))
        super().delete_queryset(request, queryset)
        for tenant in Tenant.objects.filter(pk__in=tenant_ids):
            knowledge_settings_changed(tenant=tenant)

    @admin.display(description=_("Endpoint"))
    def endpoint(self, obj: KnowledgeSettings) -> str:
        return obj.embeddings_base_url or _("(default)")

    @admin.display(description=_("API key"))
    def key_status(self, obj: KnowledgeSettings) -> str:
        return _("set") if obj.embeddings_api_key_encrypted else "—"
