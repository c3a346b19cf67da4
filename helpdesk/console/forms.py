from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from helpdesk.console.models import SHORTCUT_MAX, CannedResponse
from helpdesk.core.login_throttle import LoginThrottleMixin
from helpdesk.tenants.access import active_membership
from helpdesk.tenants.admin_base import TenantConsistentForm


class ConsoleAuthenticationForm(LoginThrottleMixin, AuthenticationForm):
    """Admits only users with an active membership of an active tenant.

    Without this check a superuser or a former agent would get a session and then only ever
    see the 403 page; they are told at the door instead, and get no session.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "no_console_access": _(
            "This account has no access to the agent console. Ask your helpdesk administrator "
            "to add you as an agent."
        ),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if active_membership(user) is None:
            raise ValidationError(
                self.error_messages["no_console_access"], code="no_console_access"
            )


class CannedResponseForm(TenantConsistentForm):
    # A plain CharField, so "/Refund" is tidied to "refund" before the model's validator runs.
    shortcut = forms.CharField(
        max_length=SHORTCUT_MAX + 1,
        help_text=CannedResponse._meta.get_field("shortcut").help_text,
    )

    class Meta:
        model = CannedResponse
        fields = ["tenant", "shortcut", "title", "text", "is_active"]

    def clean_shortcut(self) -> str:
        return self.cleaned_data["shortcut"].strip().removeprefix("/").lower()

    def clean(self):
        cleaned = super().clean()
        shortcut = cleaned.get("shortcut")
        tenant = cleaned.get("tenant")
        if tenant is None and self.instance.tenant_id:
            tenant = self.instance.tenant
        if shortcut and tenant is not None:
            # The tenant-scoped admin leaves "tenant" out of the form for tenant admins, and
            # Django then skips the (tenant, shortcut) constraint when validating: without this
            # check a duplicate would only fail at INSERT, as a server error.
            taken = CannedResponse.objects.filter(tenant=tenant, shortcut=shortcut)
            if self.instance.pk:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                self.add_error(
                    "shortcut",
                    ValidationError(
                        _("There is already a canned response with the shortcut /%(shortcut)s."),
                        code="duplicate_shortcut",
                        params={"shortcut": shortcut},
                    ),
                )
        return cleaned
