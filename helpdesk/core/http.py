"""HTTP responses shared by the admin and the console."""

from django.http import HttpResponse


def attachment(body: str, content_type: str, filename: str) -> HttpResponse:
    """``body`` as a UTF-8 download named ``filename`` (a name made of ids and dates only:
    nothing to quote or escape)."""
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
