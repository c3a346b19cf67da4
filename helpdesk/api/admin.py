from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from helpdesk.api.keys import api_key_create, api_key_owner_check, api_key_revoke
from helpdesk.api.models import ApiKey
from helpdesk.core.errors import ServiceError
from helpdesk.tenants.admin_base import TenantScopedAdmin, ids_by_tenant


class ApiKeyForm(forms.ModelForm):
    acting_user = None  # set by the admin: the key acts as the admin who makes it

    class Meta:
        model = ApiKey
        fields = ["tenant", "name", "scope"]

    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant") or getattr(self.instance, "tenant", None)
        if self.instance.pk is None and tenant is not None:
            try:
                api_key_owner_check(tenant=tenant, user=self.acting_user)
            except ServiceError as error:
                raise forms.ValidationError(error.message) from None
        return cleaned


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    """Keys are made here and shown once; afterwards only their prefix, scope and use."""

    form = ApiKeyForm
    list_display = ["name", "prefix", "scope", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.acting_user = request.user
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return ["name", "prefix", "scope", "user", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["prefix", "scope", "user", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        tenant = form.cleaned_data.get("tenant") or self._tenant(request)
        key, raw = api_key_create(
            tenant=tenant,
            user=request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
        )
        form.instance = key
        obj.pk = key.pk
        self.message_user(
            request,
            gettext(
                "The new key is %(key)s — copy it now: it is not stored and cannot be shown again."
            )
            % {"key": raw},
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's history stays readable

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        count = 0
        for tenant, ids in ids_by_tenant(queryset).items():
            for key in ApiKey.objects.filter(tenant=tenant, pk__in=ids, revoked_at__isnull=True):
                api_key_revoke(key)
                count += 1
        self.message_user(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", count) % {"count": count},
        )
