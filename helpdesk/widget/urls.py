from django.urls import path

from helpdesk.widget import views

app_name = "widget"

urlpatterns = [
    path("", views.visitor_page, name="visitor_page"),
    path("healthz", views.healthz, name="healthz"),
]
