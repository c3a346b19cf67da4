from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from helpdesk.tenants.access import active_membership


class ConsoleAuthenticationForm(AuthenticationForm):
    """Admits only users with an active membership of an active tenant.

    Without this check a superuser or a former agent would get a session and then only ever
    see the 403 page; they are told at the door instead, and get no session.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "no_console_access": (
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
