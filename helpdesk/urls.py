from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("console/", include("helpdesk.console.urls")),
    path("console/", include("helpdesk.console.urls_reports")),
    path("", include("helpdesk.widget.urls")),
]
