"""/api/v1/knowledge/sources: the tenant's knowledge sources, web pages added and re-synced."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from helpdesk.ai.knowledge.models import KnowledgeSource
from helpdesk.ai.knowledge.sources import source_create_url, source_resync, sources_delete
from helpdesk.api.auth import need
from helpdesk.core.errors import NotFound
from helpdesk.core.validation import clean_id

router = Router(tags=["knowledge"])
LIST_MAX = 500


class SourceOut(Schema):
    id: int
    kind: Literal["article", "file", "url", "sitemap"]
    title: str
    url: str
    state: Literal["queued", "running", "ready", "failed"]
    progress: int
    chunk_count: int
    error: str
    created_at: datetime
    updated_at: datetime


class SourceList(Schema):
    sources: list[SourceOut]


class UrlSourceIn(Schema):
    url: str = Field(max_length=2000)
    sitemap: bool = False
    title: str = Field("", max_length=300)


def _out(source: KnowledgeSource) -> dict:
    return {
        field: getattr(source, field)
        for field in (
            "id", "kind", "title", "url", "state", "progress", "chunk_count", "error",
            "created_at", "updated_at",
        )
    }  # fmt: skip


@router.get("/sources", response=SourceList, summary="List knowledge sources")
def list_sources(request: HttpRequest):
    key = need(request, "read")
    sources = KnowledgeSource.objects.filter(tenant=key.tenant).order_by("-created_at")
    return {"sources": [_out(s) for s in sources[:LIST_MAX]]}


@router.post("/sources", response={201: SourceOut}, summary="Add a web page or a sitemap")
def add_source(request: HttpRequest, body: UrlSourceIn):
    key = need(request, "write")
    source = source_create_url(
        tenant=key.tenant, url=body.url, sitemap=body.sitemap, title=body.title
    )
    return Status(201, _out(source))


@router.post("/sources/{source_id}/resync", response=SourceOut, summary="Read a source again")
def resync(request: HttpRequest, source_id: str):
    key = need(request, "write")
    return _out(source_resync(tenant=key.tenant, source_id=source_id))


@router.delete("/sources/{source_id}", response={204: None}, summary="Delete a source")
def delete(request: HttpRequest, source_id: str):
    key = need(request, "admin")
    if not sources_delete(tenant=key.tenant, source_ids=[clean_id(source_id)]):
        raise NotFound()
    return Status(204, None)
