"""/api/v1/reports and /api/v1/canned-responses: what the console's reports page and canned
responses show, for other programs."""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from helpdesk.api.auth import need
from helpdesk.console.metrics import tenant_report
from helpdesk.console.selectors import CANNED_PAGE_MAX, canned_responses_search
from helpdesk.conversations.metrics import DEFAULT_DAYS, MAX_DAYS, metrics_period

router = Router(tags=["reports"])


class ReportQuery(Schema):
    days: int = Field(DEFAULT_DAYS, ge=1, le=MAX_DAYS)


class CannedQuery(Schema):
    q: str = Field("", max_length=200)
    limit: int = Field(50, ge=1, le=CANNED_PAGE_MAX)


class CannedOut(Schema):
    id: int
    shortcut: str
    title: str
    text: str


class CannedList(Schema):
    canned_responses: list[CannedOut]


@router.get("/reports", response=dict, summary="The reports page's figures")
def report(request: HttpRequest, query: Query[ReportQuery]):
    """Conversations, first response and resolution times, bot resolution, handoffs by reason,
    tokens: the same figures as the console's reports page, for the last ``days`` (UTC)."""
    key = need(request, "read")
    return tenant_report(tenant=key.tenant, period=metrics_period(days=query.days))


@router.get("/canned-responses", response=CannedList, summary="List canned responses")
def canned(request: HttpRequest, query: Query[CannedQuery]):
    key = need(request, "read")
    found = canned_responses_search(tenant=key.tenant, query=query.q, limit=query.limit)
    return {
        "canned_responses": [
            {"id": c.pk, "shortcut": c.shortcut, "title": c.title, "text": c.text} for c in found
        ]
    }
