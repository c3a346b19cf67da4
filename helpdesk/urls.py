from django.contrib import admin
from django.urls import include, path

from helpdesk.core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("console/", include("helpdesk.console.urls")),
    path("console/", include("helpdesk.console.urls_reports")),
    path("", include("helpdesk.widget.urls")),
]
