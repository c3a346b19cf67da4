from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UsernameField
from django.contrib.auth.password_validation import validate_password
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.tenants.access import admin_tenant
from helpdesk.tenants.admin_base import TenantConsistentForm, TenantScopedAdmin
from helpdesk.tenants.lockouts import lockout_minutes_left, login_failures
from helpdesk.tenants.models import AuditEntry, BuiltInText, Membership, Tenant
from helpdesk.tenants.services import (
    membership_changed,
    membership_create,
    membership_delete,
    tenant_changed,
    user_changed,
)
from helpdesk.tenants.texts import default_text


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    """Superusers only: a tenant admin has no permission on Tenant rows."""

    list_display = ["name", "slug", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    # Checked against is_superuser rather than Django permissions: a tenant admin who was
    # granted tenants.view_tenant by mistake would otherwise see every tenant in the system.
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        tenant_changed(obj)


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class HelpdeskUserAdmin(UserAdmin):
    """Django's user admin (superusers only), plus closing a disabled user's connections."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        user_changed(obj)


class MembershipChangeForm(TenantConsistentForm):
    class Meta:
        model = Membership
        fields = ["role", "availability", "max_concurrent_chats", "is_active"]

    def clean(self):
        cleaned = super().clean()
        acting_user = getattr(self, "acting_user", None)
        demotes = cleaned.get("role") != Membership.Role.ADMIN or not cleaned.get("is_active")
        # An admin who demotes or disables themselves would lock the tenant out.
        if acting_user is not None and self.instance.user_id == acting_user.pk and demotes:
            raise forms.ValidationError(_("You cannot remove your own admin access."))
        return cleaned


class MembershipCreationForm(TenantConsistentForm):
    """Adds an agent or admin by creating their user account."""

    # UsernameField applies the NFKC normalisation create_user() applies, so the uniqueness
    # check below sees the username that will be stored.
    username = UsernameField(max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput, strip=False)

    class Meta:
        model = Membership
        fields = ["tenant", "role", "max_concurrent_chats"]

    def clean_username(self):
        username = self.cleaned_data["username"]
        user_model = get_user_model()
        # create_user() does not run the model field's validators (allowed characters).
        user_model._meta.get_field(user_model.USERNAME_FIELD).run_validators(username)
        if user_model.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That username is taken."))
        return username

    def clean_password(self):
        password = self.cleaned_data["password"]
        # An unsaved user lets the similarity validator compare with the username and e-mail.
        candidate = get_user_model()(
            username=self.cleaned_data.get("username", ""),
            email=self.cleaned_data.get("email", ""),
        )
        validate_password(password, candidate)
        return password


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ["user", "role", "availability", "max_concurrent_chats", "is_active"]
    list_filter = ["role", "availability", "is_active"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MembershipChangeForm if obj is not None else MembershipCreationForm
        form = super().get_form(request, obj, change, **kwargs)
        form.acting_user = request.user
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            fields = ["tenant", "username", "email", "password", "role", "max_concurrent_chats"]
            return fields if request.user.is_superuser else fields[1:]
        return ["user", "role", "availability", "max_concurrent_chats", "language", "is_active"]

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        return membership_create(
            tenant=data.get("tenant") or self._tenant(request),
            username=data["username"],
            email=data.get("email", ""),
            password=data["password"],
            role=data["role"],
            max_concurrent_chats=data["max_concurrent_chats"],
        )

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            membership_changed(obj, form.changed_data)

    def delete_model(self, request, obj):
        membership_delete(obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            membership_delete(membership)

    def save_related(self, request, form, formsets, change):
        # On add, membership_create() saved everything instead of form.save(commit=False), so
        # the form has no save_m2m() to call; a membership has no many-to-many fields anyway.
        if change:
            super().save_related(request, form, formsets, change)

    def has_delete_permission(self, request, obj=None):
        # Deleting one's own membership locks one out just as demoting oneself would.
        if obj is not None and obj.user_id == request.user.pk:
            return False
        return super().has_delete_permission(request, obj)


class BuiltInTextForm(TenantConsistentForm):
    class Meta:
        model = BuiltInText
        fields = "__all__"
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        cleaned = super().clean()
        # The unique constraint names the tenant, which a tenant admin's form leaves out, so
        # Django would not check it: a second wording would be a database error, not this.
        tenant_id = self.instance.tenant_id or getattr(cleaned.get("tenant"), "pk", None)
        duplicate = (
            BuiltInText.objects.filter(
                tenant_id=tenant_id, key=cleaned.get("key"), language=cleaned.get("language")
            )
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if tenant_id and duplicate:
            self.add_error("language", _("This text already has a wording in this language."))
        return cleaned


@admin.register(BuiltInText)
class BuiltInTextAdmin(TenantScopedAdmin):
    """The tenant's wording of what the helpdesk says by itself, per language; a text with no
    row here is said in ours (helpdesk/tenants/texts.py)."""

    form = BuiltInTextForm
    list_display = ["key", "language", "text", "built_in_wording"]
    list_filter = ["key", "language"]
    fields = ["tenant", "key", "language", "text", "built_in_wording"]
    readonly_fields = ["built_in_wording"]

    @admin.display(description=_("Built-in wording"))
    def built_in_wording(self, obj: BuiltInText) -> str:
        if not obj.key or not obj.language:
            return _("Save to see the built-in wording this text replaces.")
        return default_text(obj.key, obj.language)


@admin.register(AccessAttempt)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed sign-ins that still count, to see who is locked out and to clear a lockout
    (delete the row). A tenant admin gets only their own users' (helpdesk/tenants/lockouts.py)
    and a 404 for any other, like TenantScopedAdmin; rows are never added or edited."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time", "status"]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    fields = ["username", "ip_address", "user_agent", "path_info", "failures_since_start"]
    readonly_fields = fields

    # Checked against is_superuser rather than Django permissions, as in TenantAdmin: axes'
    # permissions granted by mistake must not show a tenant admin every tenant's users.
    def _tenant_or_superuser(self, request) -> bool:
        return request.user.is_superuser or admin_tenant(request) is not None

    def has_module_permission(self, request):
        return self._tenant_or_superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._tenant_or_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return self._tenant_or_superuser(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        if request.user.is_superuser:
            return login_failures(tenant=None)
        tenant = admin_tenant(request)
        if tenant is None:
            return AccessAttempt.objects.none()
        return login_failures(tenant=tenant)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("Not found."))
        return obj

    @admin.display(description=_("Status"))
    def status(self, obj: AccessAttempt) -> str:
        minutes = lockout_minutes_left(obj)
        if minutes is None:
            left = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
            return ngettext("%(count)d attempt left", "%(count)d attempts left", left) % {
                "count": left
            }
        return ngettext(
            "Locked out, %(minutes)d minute left", "Locked out, %(minutes)d minutes left", minutes
        ) % {"minutes": minutes}


@admin.register(AuditEntry)
class AuditEntryAdmin(TenantScopedAdmin):
    """Read only: an audit log nobody can edit or prune from the admin."""

    list_display = ["created_at", "action", "subject", "actor_label"]
    list_filter = ["action"]
    search_fields = ["subject", "actor_label"]
    fields = ["created_at", "action", "subject", "actor_label", "details"]
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
