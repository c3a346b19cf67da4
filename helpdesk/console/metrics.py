"""The reports page of the console and the JSON it draws from.

Admins and agents of the tenant may both look (read-only): agents see how the team and the
bot are doing, which is what they are measured by. Nothing here changes anything.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from helpdesk.ai.metrics import metrics_tokens, metrics_tokens_daily
from helpdesk.console.access import console_page
from helpdesk.console.api import console_api, int_param
from helpdesk.conversations.metrics import (
    DEFAULT_DAYS,
    MAX_DAYS,
    MetricsPeriod,
    metrics_period,
    tenant_metrics,
)
from helpdesk.core.javascript_catalog import javascript_catalog
from helpdesk.tenants.access import display_name
from helpdesk.tenants.models import Membership, Tenant

# What the page offers; the API takes any number of days up to MAX_DAYS.
RANGE_CHOICES = (7, 30, 90)


@require_GET
@never_cache
@console_page
def metrics_page(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The page; metrics.js fetches the numbers from ``metrics_api`` and draws the charts."""
    bootstrap = {
        "tenant": {"name": membership.tenant.name},
        "ranges": list(RANGE_CHOICES),
        "defaultDays": DEFAULT_DAYS,
        "urls": {
            "metrics": reverse("console_reports:api_metrics"),
            "console": reverse("console:index"),
            "login": reverse("console:login"),
        },
        # The request's language and the page's translations for it, as on the console.
        "language": translation.get_language(),
        "i18n": javascript_catalog(language=translation.get_language()),
    }
    return render(
        request,
        "console/metrics.html",
        {
            "bootstrap": bootstrap,
            "membership": membership,
            "agent_name": display_name(membership.user),
        },
    )


@console_api
def metrics_api(request: HttpRequest, membership: Membership) -> JsonResponse:
    """``GET /console/api/metrics?days=30``: every number of the reports page."""
    days = int_param(request, "days", default=DEFAULT_DAYS, low=1, high=MAX_DAYS)
    period = metrics_period(days=days)
    return JsonResponse(tenant_report(tenant=membership.tenant, period=period))


def tenant_report(*, tenant: Tenant, period: MetricsPeriod) -> dict:
    """The conversations' figures with what the model cost beside them, each day's tokens in
    that day's row."""
    report = tenant_metrics(tenant=tenant, period=period)
    report["tokens"] = metrics_tokens(tenant=tenant, period=period)
    spent = {row["date"]: row for row in metrics_tokens_daily(tenant=tenant, period=period)}
    for row in report["daily"]:
        tokens = spent[row["date"]]
        row["prompt_tokens"] = tokens["prompt_tokens"]
        row["completion_tokens"] = tokens["completion_tokens"]
    return report
