"""Transcript downloads and the reports page, included next to the console's own URLs:

    path("console/", include("helpdesk.console.urls_reports")),

Their own namespace (``console_reports``), so the console's ``console`` namespace stays unique.
"""

from django.urls import path

from helpdesk.console import metrics, transcripts

app_name = "console_reports"

urlpatterns = [
    path("metrics/", metrics.metrics_page, name="metrics"),
    path("api/metrics", metrics.metrics_api, name="api_metrics"),
    # <str:…> as in the console's API: a malformed id gets the JSON 404, not Django's HTML one.
    path(
        "api/conversations/<str:conversation_id>/transcript.json",
        transcripts.transcript_json,
        name="transcript_json",
    ),
    path(
        "api/conversations/<str:conversation_id>/transcript.txt",
        transcripts.transcript_text,
        name="transcript_text",
    ),
]
