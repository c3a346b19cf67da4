from django.urls import path

from helpdesk.realtime import longpoll
from helpdesk.widget import attachment_views, hours_views, views

app_name = "widget"

urlpatterns = [
    path("", views.visitor_page, name="visitor_page"),
    path("widget/api/visitor", views.visitor_token, name="visitor_token"),
    path("widget/api/i18n", views.i18n_catalog, name="i18n_catalog"),
    path("widget/api/availability", hours_views.availability, name="availability"),
    path("widget/api/poll", longpoll.poll_wait, name="poll_wait"),
    path("widget/api/poll/send", longpoll.poll_send, name="poll_send"),
    path(
        "widget/api/attachments",
        attachment_views.attachment_upload_widget,
        name="attachment_upload",
    ),
]
