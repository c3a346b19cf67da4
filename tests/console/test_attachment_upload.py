"""POST /console/api/attachments: an agent's upload, then sending it over the service."""

import json
import re

import pytest
from django.test import Client

from helpdesk.conversations.models import Attachment
from helpdesk.conversations.serializers import message_payload
from helpdesk.conversations.services import agent_message_send
from tests.support import files

pytestmark = pytest.mark.django_db

URL = "/console/api/attachments"


@pytest.fixture
def browser(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    page = client.get("/console/").content.decode()
    client.csrf_token = json.loads(
        re.search(r'<script id="console-bootstrap" type="application/json">(.*?)</script>', page)[1]
    )["csrfToken"]
    return client


def test_an_agent_uploads_with_the_csrf_token_and_sends(browser, agent, tenant, conversation):
    response = browser.post(
        URL,
        {
            "file": files.upload("guide.zip", files.zip_bytes("a.txt")),
            "conversation": conversation.pk,
        },
        HTTP_X_CSRFTOKEN=browser.csrf_token,
    )

    assert response.status_code == 201
    body = response.json()["attachment"]
    assert (body["name"], body["type"], body["thumbnail_url"]) == (
        "guide.zip",
        "application/zip",
        None,
    )
    assert Attachment.objects.get().uploaded_by == agent

    result = agent_message_send(
        tenant=tenant,
        user=agent,
        conversation_id=conversation.pk,
        text="",
        client_id="a-1",
        attachments=[body["id"]],
    )
    assert [a["id"] for a in message_payload(result.message)["attachments"]] == [body["id"]]


def test_without_the_csrf_token_it_is_refused(browser):
    response = browser.post(URL, {"file": files.upload("a.txt", b"hi")})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert not Attachment.objects.exists()


def test_signed_out_it_is_refused(conversation):
    response = Client().post(URL, {"file": files.upload("a.txt", b"hi")})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "unauthenticated"


def test_another_tenants_conversation_is_not_found(browser, other_tenant):
    from tests.factories import ConversationFactory, InboxFactory

    theirs = ConversationFactory(tenant=other_tenant, inbox=InboxFactory(tenant=other_tenant))
    response = browser.post(
        URL,
        {"file": files.upload("a.txt", b"hi"), "conversation": theirs.pk},
        HTTP_X_CSRFTOKEN=browser.csrf_token,
    )
    assert response.status_code == 404
    assert not Attachment.objects.exists()


def test_over_the_agent_limit_is_413(browser, settings):
    settings.ATTACHMENT_AGENT_MAX_MB = 1
    response = browser.post(
        URL,
        {"file": files.upload("big.txt", b"a" * (1024 * 1024 + 100 * 1024))},
        HTTP_X_CSRFTOKEN=browser.csrf_token,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "attachment_too_large"
