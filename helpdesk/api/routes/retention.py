"""/api/v1/retention-policy: how long resolved conversations are kept, and what then."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from helpdesk.api.auth import need
from helpdesk.conversations.models import RetentionPolicy
from helpdesk.conversations.retention import retention_policy_set

router = Router(tags=["data lifecycle"])


class PolicyOut(Schema):
    resolved_for_days: int | None = Field(description="null: kept forever")
    action: Literal["delete", "anonymise"] | None
    last_applied_at: datetime | None


class PolicyIn(Schema):
    resolved_for_days: int | None = Field(ge=1, le=3650, description="null: keep forever")
    action: Literal["delete", "anonymise"] = "delete"


def _out(policy: RetentionPolicy | None) -> dict:
    if policy is None:
        return {"resolved_for_days": None, "action": None, "last_applied_at": None}
    return {
        "resolved_for_days": policy.resolved_for_days,
        "action": policy.action,
        "last_applied_at": policy.last_applied_at,
    }


@router.get("/retention-policy", response=PolicyOut, summary="Read the retention policy")
def read(request: HttpRequest):
    key = need(request, "read")
    return _out(RetentionPolicy.objects.filter(tenant=key.tenant).first())


@router.put("/retention-policy", response=PolicyOut, summary="Set the retention policy")
def put(request: HttpRequest, body: PolicyIn):
    """The periodic sweep applies it (within RETENTION_SWEEP_SECONDS)."""
    key = need(request, "admin")
    return _out(
        retention_policy_set(
            tenant=key.tenant, resolved_for_days=body.resolved_for_days, action=body.action
        )
    )
