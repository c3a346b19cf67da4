from django.contrib import admin

from helpdesk.tenants.access import admin_tenant


class HelpdeskAdminSite(admin.AdminSite):
    site_header = "Helpdesk administration"
    site_title = "Helpdesk admin"
    index_title = "Configuration"

    def has_permission(self, request):
        """Superusers, and staff users who administer an active tenant. Agents use the console."""
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_superuser or admin_tenant(request) is not None
