"""/api/v1/conversations?follow_up=true: the conversations a customer asked to be answered by
e-mail (the widget's offline form)."""

import pytest

from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def test_the_list_filters_follow_ups_and_says_which_are(api, tenant):
    followed = ConversationFactory(tenant=tenant, status="queued", follow_up=True)
    plain = ConversationFactory(tenant=tenant, status="queued")

    only = api.get("/conversations", follow_up="true").json()["conversations"]
    others = api.get("/conversations", follow_up="false").json()["conversations"]
    every = api.get("/conversations").json()["conversations"]

    assert [c["id"] for c in only] == [followed.pk]
    assert only[0]["follow_up"] is True
    assert [c["id"] for c in others] == [plain.pk]
    assert {c["id"]: c["follow_up"] for c in every} == {followed.pk: True, plain.pk: False}


def test_a_bad_follow_up_filter_is_400(api):
    response = api.get("/conversations", follow_up="maybe")

    assert response.status_code == 400
    assert response.json()["error"]["field"]
