from django.urls import path

from helpdesk.console import api, attachments, views

app_name = "console"

urlpatterns = [
    path("", views.console, name="index"),
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.ConsoleLogoutView.as_view(), name="logout"),
    path("language/", views.language_switch, name="language"),
    path("api/conversations", api.conversations_list, name="api_conversations"),
    # <str:…> rather than <int:…>: a malformed id must get the API's JSON 404, not Django's
    # HTML one. The selectors treat anything that is not an id as not found.
    path(
        "api/conversations/<str:conversation_id>",
        api.conversation_detail,
        name="api_conversation",
    ),
    path(
        "api/conversations/<str:conversation_id>/messages",
        api.conversation_messages,
        name="api_messages",
    ),
    path(
        "api/conversations/<str:conversation_id>/contact",
        api.conversation_contact,
        name="api_contact",
    ),
    path(
        "api/conversations/<str:conversation_id>/summary",
        api.conversation_summary,
        name="api_summary",
    ),
    path(
        "api/conversations/<str:conversation_id>/assist/suggest",
        api.assist_suggest,
        name="api_assist_suggest",
    ),
    path(
        "api/conversations/<str:conversation_id>/assist/summary",
        api.assist_summary,
        name="api_assist_summary",
    ),
    path("api/knowledge/chunks", api.knowledge_chunks, name="api_knowledge_chunks"),
    path("api/canned", api.canned_responses, name="api_canned"),
    path("api/agents", api.agents, name="api_agents"),
    path("api/attachments", attachments.attachment_upload_console, name="api_attachments"),
]
