from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "helpdesk.tenants"
    label = "tenants"
    verbose_name = _("Tenants")

    def ready(self):
        from helpdesk.tenants import languages  # noqa: F401 - connects the sign-in receiver
