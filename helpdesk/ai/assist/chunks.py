"""The knowledge a bot reply cited, as an agent's console shows it beside the reply."""

from typing import Any

from django.utils.translation import gettext

from helpdesk.ai.knowledge.models import KnowledgeChunk
from helpdesk.core.errors import InvalidInput
from helpdesk.tenants.models import Tenant

CHUNKS_MAX = 20


def knowledge_chunks_cited(*, tenant: Tenant, chunk_ids: list[int]) -> list[dict[str, Any]]:
    """The tenant's chunks among ``chunk_ids`` (what a bot reply cited), in the order asked.

    Another tenant's chunk, or one deleted since, is simply not there."""
    if not 1 <= len(chunk_ids) <= CHUNKS_MAX:
        raise InvalidInput(
            gettext("Ask for 1 to %(max)d chunks at a time.") % {"max": CHUNKS_MAX}, field="ids"
        )
    rows = {
        chunk.pk: chunk
        for chunk in KnowledgeChunk.objects.filter(
            tenant=tenant, source__tenant=tenant, pk__in=chunk_ids
        ).select_related("source")
    }
    return [
        {
            "id": chunk.pk,
            "source_id": chunk.source_id,
            "title": chunk.source.title,
            "heading": chunk.heading,
            "text": chunk.text,
            "url": chunk.url or chunk.source.url,
        }
        for chunk_id in dict.fromkeys(chunk_ids)
        if (chunk := rows.get(chunk_id)) is not None
    ]
