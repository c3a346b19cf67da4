"""The one admin base class that keeps a tenant admin inside their own tenant.

Superusers see every tenant's rows, with the tenant field shown. A tenant admin (a staff user
with an active admin membership) gets querysets filtered to their tenant, foreign-key choices
limited to it, the tenant set on save and never shown, and a 404 for any other tenant's id —
the same answer as for an id that does not exist.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from helpdesk.core.forms import StorableJSONField
from helpdesk.tenants.access import admin_tenant
from helpdesk.tenants.models import Tenant


def ids_by_tenant(queryset) -> dict[Tenant, list[int]]:
    """The selected rows' ids grouped by their tenant: a superuser's selection can span
    tenants, and each tenant's rows go to the services on their own."""
    ids: dict[int, list[int]] = {}
    for pk, tenant_id in queryset.values_list("pk", "tenant_id"):
        ids.setdefault(tenant_id, []).append(pk)
    return {tenant: ids[tenant.pk] for tenant in Tenant.objects.filter(pk__in=ids)}


def _is_tenant_owned(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("tenant")
    except Exception:
        return False
    return field.is_relation and field.related_model is Tenant


def scope_to_tenant(queryset: models.QuerySet, tenant: Tenant) -> models.QuerySet:
    """Limit a queryset of tenant rows or of users to one tenant; other models to nothing."""
    model = queryset.model
    if _is_tenant_owned(model):
        return queryset.filter(tenant=tenant)
    if model is get_user_model():
        return queryset.filter(membership__tenant=tenant)
    if model is Tenant:
        return queryset.filter(pk=tenant.pk)
    return queryset.none()


class TenantConsistentForm(forms.ModelForm):
    """Rejects a row that points at another tenant's rows, even for superusers."""

    def clean(self):
        cleaned = super().clean()
        tenant = cleaned.get("tenant") or getattr(self.instance, "tenant", None)
        if tenant is None and self.instance.tenant_id:
            tenant = self.instance.tenant
        if tenant is None:
            return cleaned
        # A copy: add_error() drops the field from cleaned_data while we walk it.
        for name, value in list(cleaned.items()):
            foreign = (
                isinstance(value, models.Model)
                and _is_tenant_owned(type(value))
                and value.tenant_id != tenant.pk
            )
            if foreign:
                self.add_error(name, _("Choose a row of the same tenant."))
        return cleaned


class _TenantScopedMixin:
    def _tenant(self, request) -> Tenant | None:
        return admin_tenant(request)

    def _allowed(self, request, obj=None) -> bool:
        tenant = self._tenant(request)
        if tenant is None:
            return False
        return obj is None or obj.tenant_id == tenant.pk

    def has_module_permission(self, request):
        return request.user.is_superuser or self._tenant(request) is not None

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_view_permission(request, obj)
        return self._allowed(request, obj)

    def has_add_permission(self, request, *args):
        if request.user.is_superuser:
            return super().has_add_permission(request, *args)
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_change_permission(request, obj)
        return self._allowed(request, obj)

    def has_delete_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_delete_permission(request, obj)
        return self._allowed(request, obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        tenant = self._tenant(request)
        return queryset.none() if tenant is None else queryset.filter(tenant=tenant)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser:
            exclude.append("tenant")
        return exclude

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser and "tenant" in readonly:
            readonly.remove("tenant")
        return readonly

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if not request.user.is_superuser and "tenant" in fields:
            fields.remove("tenant")
        return fields

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("form_class", StorableJSONField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        return self._scope_formfield(formfield, request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        return self._scope_formfield(formfield, request)

    def _scope_formfield(self, formfield, request):
        tenant = self._tenant(request)
        if formfield is not None and tenant is not None and not request.user.is_superuser:
            # Limiting the choices is also what rejects a crafted POST with a foreign id:
            # the form reports "Select a valid choice" and saves nothing.
            formfield.queryset = scope_to_tenant(formfield.queryset, tenant)
        return formfield


class TenantScopedAdmin(_TenantScopedMixin, admin.ModelAdmin):
    form = TenantConsistentForm

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if request.user.is_superuser and "tenant" not in display:
            display.append("tenant")
        return display

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser:
            filters.append("tenant")
        return filters

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        tenant = self._tenant(request)
        if request.user.is_superuser or tenant is None:
            return form

        class TenantForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                # Known before validation, so clean() (TenantConsistentForm) and model
                # validation see the tenant. Django still leaves "tenant" out of unique and
                # constraint checks because it is not a form field.
                if self.instance.tenant_id is None:
                    self.instance.tenant = tenant

        return TenantForm

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Django's default is a redirect that says the object does not exist; a plain
            # 404 answers a foreign id and a missing id alike.
            raise Http404(_("Not found."))
        return obj

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.tenant = self._tenant(request)
        super().save_model(request, obj, form, change)


class TenantScopedInline(_TenantScopedMixin, admin.TabularInline):
    def has_add_permission(self, request, obj=None):
        if request.user.is_superuser:
            return super().has_add_permission(request, obj)
        return self._allowed(request)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class TenantFormSet(formset):
            def save_new(self, form, commit=True):
                # The parent (self.instance) is saved by now, with its tenant set. On an add
                # page obj is None, and a superuser has no tenant of their own to fall back on.
                form.instance.tenant_id = self.instance.tenant_id
                return super().save_new(form, commit)

        return TenantFormSet
