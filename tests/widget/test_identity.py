"""Verified identity (HelpdeskWidget.identify): a signed user id makes the visitor the tenant's
contact of that user; anything else is refused and merges into nobody (the attacks below)."""

import json

import pytest
from django.test import Client

from helpdesk.conversations.models import Contact, Conversation
from helpdesk.widget.identity import identity_signature
from tests.factories import ContactFactory, ConversationFactory, InboxFactory
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

# hex HMAC-SHA256 of "user-42" with the secret "s3cret" (Python's hmac and Node's crypto agree).
SIGNED_EXAMPLE = "1136c48073bd2ba64f2a18895ff27ecfa11e24ccd2d86972ace148983668a992"


def request_token(inbox_key, **body):
    return Client().post(
        "/widget/api/visitor",
        data=json.dumps({"inbox": inbox_key, **body}),
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )


def identity(inbox, user_id, secret=None, **fields):
    return {
        "id": user_id,
        "signature": identity_signature(secret or inbox.identity_secret, user_id),
        **fields,
    }


def contact_of(body, tenant) -> Contact:
    return Contact.objects.get(tenant=tenant, visitor_id=body["visitor"])


def refused(response) -> str:
    assert response.status_code == 403, response.content
    events = response.json()["events"]
    assert "token" not in response.json()
    return events[0]["data"]["code"]


def test_the_signature_is_the_hex_hmac_sha256_of_the_user_id():
    # What docs/widget.md's Python and Node snippets print for this secret and id.
    assert identity_signature("s3cret", "user-42") == SIGNED_EXAMPLE


def test_a_valid_identity_creates_the_users_contact_with_name_and_email(inbox, tenant):
    body = request_token(
        inbox.public_key, identity=identity(inbox, "u-1", name="Ada", email="ada@example.com")
    ).json()

    contact = contact_of(body, tenant)
    assert (contact.external_id, contact.name, contact.email) == ("u-1", "Ada", "ada@example.com")
    assert body["options"]["identity"] == {"verified": True}


def test_an_anonymous_visitor_is_upgraded_in_place_and_keeps_their_conversation(inbox, tenant):
    anonymous = request_token(inbox.public_key).json()
    assert anonymous["options"]["identity"] == {"verified": False}
    contact = contact_of(anonymous, tenant)
    conversation = ConversationFactory(tenant=tenant, inbox=inbox, contact=contact)

    body = request_token(
        inbox.public_key, token=anonymous["token"], identity=identity(inbox, "u-1", name="Ada")
    ).json()

    assert body["visitor"] == anonymous["visitor"]
    contact.refresh_from_db()
    assert (contact.external_id, contact.name) == ("u-1", "Ada")
    assert Conversation.objects.get().contact_id == contact.pk == conversation.contact_id
    assert Contact.objects.count() == 1


def test_the_same_user_on_another_device_gets_the_same_contact(inbox, tenant):
    first = request_token(inbox.public_key, identity=identity(inbox, "u-1")).json()
    other_device = request_token(inbox.public_key).json()  # anonymous first, like a new page

    second = request_token(
        inbox.public_key, token=other_device["token"], identity=identity(inbox, "u-1")
    ).json()

    assert second["visitor"] == first["visitor"]
    assert contact_of(second, tenant).external_id == "u-1"
    # The other device's anonymous contact is left as it was: nothing merged into it.
    assert Contact.objects.get(visitor_id=other_device["visitor"]).external_id == ""


def test_a_renewed_token_stays_the_identified_contact(inbox, tenant):
    first = request_token(inbox.public_key, identity=identity(inbox, "u-1")).json()

    again = request_token(inbox.public_key, token=first["token"]).json()

    assert again["visitor"] == first["visitor"]


def test_an_identity_never_blanks_a_known_name(inbox, tenant):
    ContactFactory(tenant=tenant, external_id="u-1", name="Ada", email="ada@example.com")

    body = request_token(inbox.public_key, identity=identity(inbox, "u-1", name="", email=None))

    contact = contact_of(body.json(), tenant)
    assert (contact.name, contact.email) == ("Ada", "ada@example.com")


def test_an_integer_user_id_is_its_decimal_text(inbox, tenant):
    signed = identity(inbox, "42")
    signed["id"] = 42

    body = request_token(inbox.public_key, identity=signed).json()

    assert contact_of(body, tenant).external_id == "42"


# The attacks: each is refused with identity_invalid and changes no contact.


def test_a_forged_signature_for_an_existing_user_is_refused(inbox, tenant):
    victim = ContactFactory(tenant=tenant, external_id="victim", name="Victim")
    attacker = request_token(inbox.public_key).json()
    forged = {"id": "victim", "signature": "0" * 64, "name": "Attacker"}

    response = request_token(inbox.public_key, token=attacker["token"], identity=forged)

    assert refused(response) == "identity_invalid"
    victim.refresh_from_db()
    assert victim.name == "Victim"
    assert Contact.objects.get(visitor_id=attacker["visitor"]).external_id == ""


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "victim"},  # unsigned
        {"id": "victim", "signature": ""},
        {"id": "victim", "signature": None},
        {"id": "victim", "signature": "zz" * 32},
        {"id": "victim", "signature": "a" * 129},
        {"id": "victim", "signature": "é" * 64},
        {"id": "", "signature": "0" * 64},
        {"id": " victim", "signature": "0" * 64},
        {"id": None, "signature": "0" * 64},
        {"id": True, "signature": "0" * 64},
        {"id": "x" * 201, "signature": "0" * 64},
        "victim",
        ["victim"],
    ],
)
def test_malformed_or_unsigned_identities_are_refused(inbox, tenant, bad):
    ContactFactory(tenant=tenant, external_id="victim")

    response = request_token(inbox.public_key, identity=bad)

    assert refused(response) == "identity_invalid"
    assert Contact.objects.count() == 1


def test_a_signature_for_another_user_is_refused(inbox, tenant):
    signed_for_me = identity(inbox, "me")

    response = request_token(inbox.public_key, identity={**signed_for_me, "id": "victim"})

    assert refused(response) == "identity_invalid"
    assert not Contact.objects.filter(external_id__in=["me", "victim"]).exists()


def test_another_inboxs_secret_is_refused(inbox, tenant):
    sibling = InboxFactory(tenant=tenant)

    response = request_token(
        inbox.public_key, identity=identity(inbox, "u-1", sibling.identity_secret)
    )

    assert refused(response) == "identity_invalid"


def test_another_tenants_secret_is_refused(inbox, other_tenant):
    foreign = InboxFactory(tenant=other_tenant)

    response = request_token(
        inbox.public_key, identity=identity(inbox, "u-1", foreign.identity_secret)
    )

    assert refused(response) == "identity_invalid"


def test_a_valid_identity_for_a_while_holding_bs_token_switches_to_a_without_merging(inbox, tenant):
    user_b = request_token(inbox.public_key, identity=identity(inbox, "b", name="Bea")).json()
    b_conversation = ConversationFactory(
        tenant=tenant, inbox=inbox, contact=contact_of(user_b, tenant)
    )

    as_a = request_token(
        inbox.public_key, token=user_b["token"], identity=identity(inbox, "a", name="Al")
    ).json()

    assert as_a["visitor"] != user_b["visitor"]
    a, b = contact_of(as_a, tenant), contact_of(user_b, tenant)
    assert (a.external_id, a.name) == ("a", "Al")
    assert (b.external_id, b.name) == ("b", "Bea")  # B's contact is untouched
    assert Conversation.objects.get(pk=b_conversation.pk).contact_id == b.pk


def test_an_anonymous_token_cannot_claim_an_identified_contact(inbox, tenant):
    identified = request_token(inbox.public_key, identity=identity(inbox, "u-1")).json()
    anonymous = request_token(inbox.public_key).json()

    # Neither a forged identity nor a bare claim of the identified visitor's id works.
    forged = request_token(
        inbox.public_key,
        token=anonymous["token"],
        identity={"id": "u-1", "signature": identity(inbox, "u-2")["signature"]},
    )
    assert refused(forged) == "identity_invalid"
    claimed = request_token(inbox.public_key, token=identified["visitor"]).json()
    assert claimed["visitor"] not in (identified["visitor"], anonymous["visitor"])
    assert Contact.objects.filter(external_id="u-1").count() == 1


def test_a_refused_identity_issues_no_token_even_with_a_valid_previous_one(inbox, tenant):
    anonymous = request_token(inbox.public_key).json()

    response = request_token(
        inbox.public_key, token=anonymous["token"], identity={"id": "x", "signature": "0" * 64}
    )

    assert refused(response) == "identity_invalid"
    assert response.json()["events"][0]["data"]["field"] == "signature"


def test_an_invalid_email_in_a_valid_identity_is_refused(inbox):
    response = request_token(
        inbox.public_key, identity=identity(inbox, "u-1", email="not an address")
    )

    assert refused(response) == "identity_invalid"
    assert not Contact.objects.exists()


def test_an_identified_contact_announces_its_new_name_to_the_agents_list(inbox, tenant, listen):
    from helpdesk.realtime.events import agents_group

    anonymous = request_token(inbox.public_key).json()
    contact = contact_of(anonymous, tenant)
    conversation = ConversationFactory(tenant=tenant, inbox=inbox, contact=contact)
    agents = listen(agents_group(tenant.pk))

    request_token(
        inbox.public_key, token=anonymous["token"], identity=identity(inbox, "u-1", name="Ada")
    )

    updated = [e for e in agents.events() if e["type"] == "conversation.updated"]
    assert [(e["conversation"], e["data"]["contact"]["name"]) for e in updated] == [
        (conversation.pk, "Ada")
    ]
