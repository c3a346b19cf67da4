"""Jobs that ingest knowledge sources. They take ids and the source's ingest token, and are safe
to run twice: a job whose token is no longer the source's writes nothing."""

from celery import shared_task


# The name outlives any rename of the function: jobs already queued carry it.
@shared_task(name="helpdesk.knowledge_source_ingest", acks_late=True)
def source_ingest(tenant_id: int, source_id: int, token: str) -> str:
    """Read, split and store a file or web source (``sources.source_index``)."""
    # Imported here: sources.py enqueues this task.
    from helpdesk.ai.knowledge.sources import source_index

    return source_index(tenant_id=tenant_id, source_id=source_id, token=token)
