"""The knowledge settings admin, driven through the test client as ``tenant``'s admin: the
endpoint is tested on save against the fake model server, the key is write-only, a tenant has
one row and sees no other tenant's."""

import pytest

from helpdesk.ai.knowledge.chunking import ChunkDraft
from helpdesk.ai.knowledge.models import KnowledgeChunk, KnowledgeSettings, KnowledgeSource
from helpdesk.ai.knowledge.retrieval import IndexCache, knowledge_version
from helpdesk.ai.knowledge.services import source_chunks_replace
from tests.ai.knowledge.embedding_support import MODEL
from tests.conftest import wait_until
from tests.fakes.llm_server import unused_url
from tests.support.admin_urls import admin_url

pytestmark = pytest.mark.django_db

KEY = "sk-embeddings-5b6c7d8e9f0a1b2c"


def settings_post(**overrides) -> dict:
    data = {"embeddings_base_url": "", "api_key": "", "embeddings_model": MODEL}
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def form_errors(response) -> dict:
    return dict(response.context["adminform"].form.errors)


@pytest.fixture
def saved(tenant, fake_llm):
    row = KnowledgeSettings(tenant=tenant, embeddings_base_url=fake_llm.base_url)
    row.embeddings_model = MODEL
    row.embeddings_api_key = KEY
    row.save()
    return row


def test_a_tenant_admin_sets_an_endpoint_that_is_tested_on_save(
    tenant_admin_client, tenant, fake_llm
):
    response = tenant_admin_client.post(
        admin_url(KnowledgeSettings, "add"),
        settings_post(embeddings_base_url=fake_llm.base_url + "/embeddings/", api_key=KEY),
        follow=True,
    )

    row = KnowledgeSettings.objects.get()
    assert (row.tenant, row.embeddings_base_url, row.embeddings_model) == (
        tenant,
        fake_llm.base_url,  # the pasted /embeddings trimmed
        MODEL,
    )
    assert row.embeddings_api_key == KEY
    assert KEY not in row.embeddings_api_key_encrypted
    [request] = fake_llm.embedding_requests
    assert (request.authorization, request.body["model"]) == (f"Bearer {KEY}", MODEL)
    assert "makes vectors of 256 numbers" in response.content.decode()


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        ({"fail": 401}, "HTTP 401: Incorrect API key provided."),
        ({"fail": 404}, "HTTP 404: The model does not exist."),
        ({"garbage": "html"}, "something other than embeddings"),
    ],
)
def test_an_endpoint_that_refuses_the_test_is_an_error_and_nothing_is_saved(
    tenant_admin_client, fake_llm, behaviour, words
):
    fake_llm.script(**behaviour)

    response = tenant_admin_client.post(
        admin_url(KnowledgeSettings, "add"),
        settings_post(embeddings_base_url=fake_llm.base_url, api_key=KEY),
    )

    assert response.status_code == 200
    [error] = form_errors(response)["__all__"]
    assert f"did not answer a test with model “{MODEL}”" in error
    assert words in error
    assert KEY not in response.content.decode()
    assert not KnowledgeSettings.objects.exists()


def test_nothing_listening_is_an_error_too(tenant_admin_client):
    response = tenant_admin_client.post(
        admin_url(KnowledgeSettings, "add"),
        settings_post(embeddings_base_url=unused_url() + "/v1"),
    )

    assert "could not be reached" in form_errors(response)["__all__"][0]


def test_without_a_model_search_stays_lexical_and_nothing_is_called(tenant_admin_client, fake_llm):
    tenant_admin_client.post(
        admin_url(KnowledgeSettings, "add"),
        settings_post(embeddings_base_url=fake_llm.base_url, embeddings_model=" "),
    )

    assert KnowledgeSettings.objects.get().embeddings_model == ""
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    "url",
    ["ftp://models.example.com/v1", "not a url", "https://user:secret@models.example.com/v1"],
)
def test_a_malformed_endpoint_is_refused(tenant_admin_client, fake_llm, url):
    response = tenant_admin_client.post(
        admin_url(KnowledgeSettings, "add"), settings_post(embeddings_base_url=url)
    )

    assert list(form_errors(response)) == ["embeddings_base_url"]
    assert fake_llm.requests == []


def test_an_internal_address_is_refused_unless_the_operator_allows_it(
    tenant_admin_client, fake_llm, settings
):
    settings.AI_ALLOWED_INTERNAL_HOSTS = []

    response = tenant_admin_client.post(
        admin_url(KnowledgeSettings, "add"),
        settings_post(embeddings_base_url=fake_llm.base_url),
    )

    assert "internal network" in form_errors(response)["embeddings_base_url"][0]
    assert fake_llm.requests == []


# --- The key -------------------------------------------------------------------------------------


def test_the_key_is_never_shown_and_a_blank_field_keeps_and_tests_it(
    tenant_admin_client, saved, fake_llm
):
    page = tenant_admin_client.get(admin_url(KnowledgeSettings, "change", saved.pk))
    tenant_admin_client.post(
        admin_url(KnowledgeSettings, "change", saved.pk),
        settings_post(embeddings_base_url=fake_llm.base_url, embeddings_model="other-model"),
    )

    html = page.content.decode()
    assert KEY not in html
    assert 'type="password" name="api_key"' in html
    assert "A key is set" in html
    saved.refresh_from_db()
    assert (saved.embeddings_model, saved.embeddings_api_key) == ("other-model", KEY)
    # The stored key is what the test used.
    assert fake_llm.embedding_requests[0].authorization == f"Bearer {KEY}"


def test_clearing_the_key_falls_back_to_the_operators(tenant_admin_client, saved, fake_llm):
    tenant_admin_client.post(
        admin_url(KnowledgeSettings, "change", saved.pk),
        settings_post(embeddings_base_url=fake_llm.base_url, clear_api_key="on"),
    )

    saved.refresh_from_db()
    assert saved.embeddings_api_key_encrypted == ""
    assert fake_llm.embedding_requests[0].authorization == "Bearer not-needed"


def test_typing_a_key_and_clearing_it_at_once_is_an_error(tenant_admin_client, saved, fake_llm):
    response = tenant_admin_client.post(
        admin_url(KnowledgeSettings, "change", saved.pk),
        settings_post(embeddings_base_url=fake_llm.base_url, api_key="sk-new", clear_api_key="on"),
    )

    assert list(form_errors(response)) == ["clear_api_key"]
    saved.refresh_from_db()
    assert saved.embeddings_api_key == KEY


def test_the_key_is_a_sensitive_post_parameter(tenant_admin_client, saved, fake_llm):
    response = tenant_admin_client.post(
        admin_url(KnowledgeSettings, "change", saved.pk),
        settings_post(embeddings_base_url=fake_llm.base_url, api_key="sk-rotated"),
    )

    assert list(response.wsgi_request.sensitive_post_parameters) == ["api_key"]


# --- Tenants -------------------------------------------------------------------------------------


def test_a_tenant_sees_only_its_own_row_and_has_one_at_most(
    tenant_admin_client, saved, other_tenant, fake_llm
):
    theirs = KnowledgeSettings.objects.create(tenant=other_tenant, embeddings_model="their-model")

    changelist = tenant_admin_client.get(admin_url(KnowledgeSettings))
    foreign = tenant_admin_client.get(admin_url(KnowledgeSettings, "change", theirs.pk))
    second = tenant_admin_client.post(admin_url(KnowledgeSettings, "add"), settings_post())

    assert list(changelist.context["cl"].result_list) == [saved]
    assert "their-model" not in changelist.content.decode()
    assert foreign.status_code == 404
    assert second.status_code == 403
    assert KnowledgeSettings.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_saving_embeds_the_knowledge_and_deleting_goes_back_to_lexical(
    tenant_admin_client, tenant, fake_llm, in_process
):
    source = KnowledgeSource.objects.create(
        tenant=tenant, kind=KnowledgeSource.Kind.FILE, title="Shipping"
    )
    drafts = [ChunkDraft(0, "", "Deliveries arrive within two days.", 5)]
    source_chunks_replace(tenant=tenant, source=source, drafts=drafts)
    indexes = IndexCache()
    assert not indexes.get(tenant.pk).hybrid

    tenant_admin_client.post(
        admin_url(KnowledgeSettings, "add"), settings_post(embeddings_base_url=fake_llm.base_url)
    )

    wait_until(lambda: KnowledgeChunk.objects.filter(embedding_model=MODEL).exists())
    wait_until(lambda: indexes.get(tenant.pk).hybrid)
    version = knowledge_version(tenant.pk)

    row = KnowledgeSettings.objects.get()
    tenant_admin_client.post(admin_url(KnowledgeSettings, "delete", row.pk), {"post": "yes"})

    assert not KnowledgeSettings.objects.exists()
    assert knowledge_version(tenant.pk) != version
    assert not indexes.get(tenant.pk).hybrid
