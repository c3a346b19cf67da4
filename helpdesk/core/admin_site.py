from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from helpdesk.core.login_throttle import LoginThrottleMixin, throttled
from helpdesk.tenants.access import admin_tenant, administered_tenant


class HelpdeskAuthenticationForm(LoginThrottleMixin, AdminAuthenticationForm):
    """Lets in only the users ``HelpdeskAdminSite.has_permission`` admits.

    Django's form checks the staff flag alone, so a staff user whose admin membership is gone,
    disabled or in an inactive tenant would get a session and then only ever see "not
    authorized". They get the same answer as a wrong password instead.
    """

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not (user.is_superuser or administered_tenant(user) is not None):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class HelpdeskAdminSite(admin.AdminSite):
    site_header = _("Helpdesk administration")
    site_title = _("Helpdesk admin")
    index_title = _("Configuration")
    login_form = HelpdeskAuthenticationForm

    def has_permission(self, request):
        """Superusers, and staff users who administer an active tenant. Agents use the console."""
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_superuser or admin_tenant(request) is not None

    def login(self, request, extra_context=None):
        return throttled(request, super().login(request, extra_context))
