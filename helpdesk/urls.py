from django.contrib import admin
from django.urls import include, path

from helpdesk.api import site as api_site
from helpdesk.conversations.attachment_views import attachment_file
from helpdesk.core import health, prometheus

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", prometheus.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", api_site.urls),
    path("files/<str:signed>", attachment_file, name="attachment_file"),
    path("console/", include("helpdesk.console.urls")),
    path("console/", include("helpdesk.console.urls_reports")),
    path("", include("helpdesk.widget.urls")),
]
