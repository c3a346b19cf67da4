"""Jobs that give a tenant's knowledge chunks their vectors. They take ids and are safe to run
twice: each embeds only the chunks that still have no vector from the tenant's current model.

An endpoint that fails leaves the rest of the chunks without vectors, where retrieval finds them
lexically; the next job for the tenant (a source saved again, the settings saved, or
``manage.py reembed_knowledge``) picks them up.
"""

from celery import shared_task

from helpdesk.ai.knowledge.embeddings import EmbeddingsError
from helpdesk.tenants.models import Tenant


# The names outlive any rename of the functions: jobs already queued carry them.
@shared_task(name="helpdesk.knowledge_source_embed", acks_late=True)
def source_embed(tenant_id: int, source_id: int) -> str:
    """Embed one source's chunks that lack a vector."""
    return _embed(tenant_id, source_id)


@shared_task(name="helpdesk.knowledge_tenant_embed", acks_late=True)
def tenant_embed(tenant_id: int) -> str:
    """Embed every chunk of the tenant that lacks a vector (a new model, many articles)."""
    return _embed(tenant_id, None)


def _embed(tenant_id: int, source_id: int | None) -> str:
    # Imported here: the services enqueue these jobs, so they cannot be imported at the top.
    from helpdesk.ai.knowledge.services import chunks_embed

    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "gone"
    try:
        stored = chunks_embed(tenant=tenant, source_id=source_id)
    except EmbeddingsError as error:
        # Logged by the service; a retry now would meet the same endpoint.
        return f"failed: {error}"
    return f"{stored} embedded"
