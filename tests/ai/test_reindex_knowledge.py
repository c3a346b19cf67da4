"""``manage.py reindex_knowledge``: one tenant, several, or all; unknown slugs are refused."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from helpdesk.ai.knowledge.models import KnowledgeChunk
from helpdesk.ai.models import KnowledgeArticle

pytestmark = pytest.mark.django_db


def reindex(*args: str) -> str:
    out = StringIO()
    call_command("reindex_knowledge", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def articles(tenant, other_tenant):
    KnowledgeArticle.objects.bulk_create(
        [
            KnowledgeArticle(tenant=tenant, question="Shipping?", answer="Two days."),
            KnowledgeArticle(tenant=other_tenant, question="Returns?", answer="30 days."),
        ]
    )


def test_one_tenant(articles, tenant, other_tenant):
    assert reindex("--tenant", tenant.slug) == f"{tenant.slug}: 1 chunk\n"
    assert list(KnowledgeChunk.objects.values_list("tenant", flat=True)) == [tenant.pk]


def test_all_tenants(articles, tenant, other_tenant):
    output = reindex("--all")

    assert f"{tenant.slug}: 1 chunk" in output
    assert f"{other_tenant.slug}: 1 chunk" in output
    assert KnowledgeChunk.objects.count() == 2


def test_an_unknown_slug_is_an_error_and_changes_nothing(articles, tenant):
    with pytest.raises(CommandError, match="no-such-shop"):
        reindex("--tenant", tenant.slug, "--tenant", "no-such-shop")

    assert not KnowledgeChunk.objects.exists()
