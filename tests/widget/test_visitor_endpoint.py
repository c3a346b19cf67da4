import json

import pytest
from django.test import Client

from helpdesk.conversations.models import Contact
from tests.conftest import fresh_rate_window
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)


def request_token(inbox_key, origin=ORIGIN, **body):
    headers = {"Origin": origin} if origin else {}
    return Client().post(
        "/widget/api/visitor",
        data=json.dumps({"inbox": inbox_key, **body}),
        content_type="application/json",
        headers=headers,
    )


def test_a_new_visitor_gets_a_token(inbox):
    response = request_token(inbox.public_key)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "visitor", "expires_in", "greeting", "locale", "options"}
    assert (body["greeting"], body["locale"]) == ("Hi! How can we help?", "en")
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert Contact.objects.get().visitor_id.hex == body["visitor"].replace("-", "")


def test_a_valid_previous_token_keeps_the_visitor(inbox):
    first = request_token(inbox.public_key).json()

    again = request_token(inbox.public_key, token=first["token"]).json()

    assert again["visitor"] == first["visitor"]
    assert Contact.objects.count() == 1


def test_an_invalid_previous_token_starts_a_new_visitor(inbox):
    first = request_token(inbox.public_key).json()

    again = request_token(inbox.public_key, token="forged").json()

    assert again["visitor"] != first["visitor"]


def test_unknown_inbox_is_401_and_creates_nothing(inbox):
    response = request_token("nope")

    assert response.status_code == 401
    assert response.json()["events"][0]["data"]["code"] == "unauthenticated"
    assert not Contact.objects.exists()


@pytest.mark.parametrize("origin", [None, "https://evil.example.com"])
def test_foreign_origin_is_403_without_cors(inbox, origin):
    response = request_token(inbox.public_key, origin=origin)

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not Contact.objects.exists()


def test_bad_json_is_400(inbox):
    response = Client().post(
        "/widget/api/visitor", data="{", content_type="application/json", headers={"Origin": ORIGIN}
    )

    assert response.status_code == 400
    assert response.json()["events"][0]["data"]["code"] == "invalid_json"


def test_token_requests_are_rate_limited_per_address(inbox, settings):
    settings.RATE_IP_VISITOR_TOKENS = (2, 60)
    fresh_rate_window(60)
    for _ in range(2):
        assert request_token(inbox.public_key).status_code == 200

    response = request_token(inbox.public_key)

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert Contact.objects.count() == 2


def test_get_is_405(inbox):
    assert Client().get("/widget/api/visitor").status_code == 405
