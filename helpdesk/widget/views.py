from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from helpdesk.tenants.models import Inbox


@require_GET
def visitor_page(request: HttpRequest) -> HttpResponse:
    """A demo shop page that embeds the widget of the first active inbox."""
    inbox = Inbox.objects.filter(is_active=True).order_by("pk").first()
    return render(request, "widget/visitor_page.html", {"inbox": inbox})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
