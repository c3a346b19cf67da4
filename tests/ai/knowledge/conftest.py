"""Fixtures of the knowledge tests: a tenant's embeddings settings pointing at the fake model
server, jobs run in this process, and no question vectors cached from an earlier test."""

import pytest

from helpdesk.ai.knowledge.embeddings import query_vectors
from helpdesk.ai.knowledge.models import KnowledgeSettings
from helpdesk.core import jobs
from tests.ai.knowledge.embedding_support import MODEL


@pytest.fixture(autouse=True)
def _no_question_vectors_cached():
    """The question-vector cache lives as long as the process; each test starts without it."""
    query_vectors.clear()
    yield
    query_vectors.clear()


@pytest.fixture
def embeddings_for(fake_llm):
    """``embeddings_for(tenant, model=MODEL, base_url=<the fake>, api_key="")``: the tenant's
    knowledge settings, saved."""

    def configure(tenant, *, model: str = MODEL, base_url: str | None = None, api_key: str = ""):
        row = KnowledgeSettings.objects.filter(tenant=tenant).first() or KnowledgeSettings(
            tenant=tenant
        )
        row.embeddings_base_url = fake_llm.base_url if base_url is None else base_url
        row.embeddings_model = model
        row.embeddings_api_key = api_key
        row.save()
        return row

    return configure


@pytest.fixture
def in_process(settings):
    """Jobs run on this process's job pool, whatever mode the suite runs in, and are finished
    before the test ends."""
    settings.CELERY_BROKER_URL = None
    yield
    assert jobs.wait_for_in_process_jobs(timeout=20)
