from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    default = True
    name = "helpdesk.core"
    label = "core"


class HelpdeskAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "helpdesk.core.admin_site.HelpdeskAdminSite"


class SignInProtectionConfig(axes_apps.AppConfig):
    """django-axes, under the name tenant admins see on the admin's index."""

    default = False
    verbose_name = _("Sign-in protection")
