"""``manage.py reembed_knowledge``: one tenant, several, or all, against the fake model server;
unknown slugs are refused, a failing endpoint is reported and the command fails."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from helpdesk.ai.knowledge.chunking import ChunkDraft
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSettings, KnowledgeSource
from helpdesk.ai.knowledge.services import source_chunks_replace

pytestmark = pytest.mark.django_db

MODEL = "text-embedding-3-small"


def reembed(*args: str) -> str:
    out = StringIO()
    call_command("reembed_knowledge", *args, stdout=out, stderr=out)
    return out.getvalue()


def knowledge(tenant, server, *texts, model=MODEL):
    source = KnowledgeSource.objects.create(
        tenant=tenant, kind=KnowledgeSource.Kind.FILE, title="Help"
    )
    drafts = [ChunkDraft(i, "", text, len(text.split())) for i, text in enumerate(texts)]
    source_chunks_replace(tenant=tenant, source=source, drafts=drafts)
    KnowledgeSettings.objects.create(
        tenant=tenant, embeddings_base_url=server.base_url, embeddings_model=model
    )


def embedded(tenant) -> list[str]:
    return list(
        KnowledgeChunk.objects.filter(tenant=tenant, embedding__isnull=False).values_list(
            "embedding_model", flat=True
        )
    )


def test_one_tenant(tenant, other_tenant, fake_llm):
    knowledge(tenant, fake_llm, "Deliveries arrive.", "We accept Visa.")
    knowledge(other_tenant, fake_llm, "Returns are free.")

    assert reembed("--tenant", tenant.slug) == f"{tenant.slug}: 2 chunks embedded\n"
    assert embedded(tenant) == [MODEL, MODEL]
    assert embedded(other_tenant) == []
    assert reembed("--tenant", tenant.slug) == f"{tenant.slug}: 0 chunks embedded\n"


def test_all_tenants_and_force(tenant, other_tenant, fake_llm):
    knowledge(tenant, fake_llm, "Deliveries arrive.")
    knowledge(other_tenant, fake_llm, "Returns are free.", model="other-model")
    reembed("--all")

    output = reembed("--all", "--force")

    assert f"{tenant.slug}: 1 chunk embedded" in output
    assert f"{other_tenant.slug}: 1 chunk embedded" in output
    # Each tenant's chunk went with its own model, twice: once missing, once forced.
    assert sorted(r.body["model"] for r in fake_llm.embedding_requests) == [
        "other-model",
        "other-model",
        MODEL,
        MODEL,
    ]


def test_a_failing_endpoint_is_reported_and_fails_the_command(tenant, other_tenant, fake_llm):
    knowledge(tenant, fake_llm, "Deliveries arrive.")
    knowledge(other_tenant, fake_llm, "Returns are free.", model="other-model")
    fake_llm.on("Deliveries", fail=401)

    out = StringIO()
    with pytest.raises(CommandError, match=tenant.slug):
        call_command("reembed_knowledge", "--all", stdout=out, stderr=out)

    assert f"{tenant.slug}: the endpoint failed with HTTP 401" in out.getvalue()
    assert f"{other_tenant.slug}: 1 chunk embedded" in out.getvalue()  # the others still are
    assert embedded(tenant) == []


def test_an_unknown_slug_is_an_error_and_changes_nothing(tenant, fake_llm):
    knowledge(tenant, fake_llm, "Deliveries arrive.")

    with pytest.raises(CommandError, match="no-such-shop"):
        reembed("--tenant", tenant.slug, "--tenant", "no-such-shop")

    assert embedded(tenant) == []
    assert fake_llm.requests == []
