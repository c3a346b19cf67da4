"""The pre-chat form's answers: checked when a message opens a conversation, stored on the
conversation and the contact (helpdesk/conversations/prechat.py)."""

import pytest

from helpdesk.conversations import announcements
from helpdesk.conversations.announcements import Change, listen_to_changes
from helpdesk.conversations.models import Contact, Conversation, Message
from helpdesk.conversations.prechat import (
    Answers,
    Question,
    contact_fill,
    phone_plausible,
    prechat_clean,
)
from helpdesk.conversations.services import customer_message_send
from helpdesk.core.errors import PrechatInvalid, PrechatRequired
from helpdesk.widget.models import PrechatField
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)

FORM = [
    Question("name", "name", "Your name", required=True),
    Question("email", "email", "E-mail", required=True),
    Question("phone", "phone", "Phone"),
    Question("topic", "choice", "Topic", required=True, choices=("Billing", "Shipping")),
    Question("order", "text", "Order number"),
]
GOOD = {"name": "Ada Lovelace", "email": "ada@example.com", "topic": "Billing"}


def test_valid_answers_are_kept_by_key_and_fill_the_contact_fields():
    answers = prechat_clean(FORM, {**GOOD, "phone": "+44 20-7946 0958", "order": " A-17 "})

    assert answers.details == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20-7946 0958",
        "topic": "Billing",
        "order": "A-17",
    }
    assert answers.contact == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20-7946 0958",
    }


@pytest.mark.parametrize("missing", ["name", "email", "topic"])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_a_required_answer_missing_or_blank_is_prechat_required_naming_the_field(missing, empty):
    answers = {**GOOD}
    if empty is None:
        del answers[missing]
    else:
        answers[missing] = empty

    with pytest.raises(PrechatRequired) as raised:
        prechat_clean(FORM, answers)

    assert raised.value.code == "prechat_required"
    assert raised.value.details["field"] == missing


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("phone", "call me"),
        ("phone", "123"),
        ("phone", "+1 (555) 12x4567"),
        ("phone", "1" * 41),
        ("topic", "Refunds"),
        ("topic", "billing"),
        ("name", "x" * 201),
        ("order", "y" * 501),
        ("name", 42),
        ("name", "nul\x00byte"),
        ("surprise", "an unknown key"),
    ],
)
def test_an_invalid_answer_is_prechat_invalid_naming_the_field(field, value):
    with pytest.raises(PrechatInvalid) as raised:
        prechat_clean(FORM, {**GOOD, field: value})

    assert raised.value.code == "prechat_invalid"
    assert raised.value.details["field"] == field


def test_answers_must_be_an_object():
    with pytest.raises(PrechatInvalid):
        prechat_clean(FORM, ["Ada"])


def test_without_questions_answers_are_ignored():
    assert prechat_clean([], {"name": "Ada"}) == Answers(details={}, contact={})


@pytest.mark.parametrize(
    ("phone", "plausible"),
    [
        ("+86 138 0013 8000", True),
        ("030-1234567", True),
        ("(555) 123-4567", True),
        ("12345", True),
        ("1234", False),
        ("+", False),
        ("++12345", False),
        ("١٢٣٤٥٦", False),
        ("12345 ext", False),
    ],
)
def test_phone_plausibility(phone, plausible):
    assert phone_plausible(phone) is plausible


def test_a_verified_contact_keeps_its_name_and_email_but_gets_a_phone(tenant):
    contact = ContactFactory(
        tenant=tenant, external_id="u-1", name="Verified Name", email="v@example.com"
    )
    answers = Answers(
        details={}, contact={"name": "Typed", "email": "t@example.com", "phone": "12345"}
    )

    changed = contact_fill(contact, answers)

    assert changed == ["phone"]
    assert (contact.name, contact.email, contact.phone) == (
        "Verified Name",
        "v@example.com",
        "12345",
    )


# Through customer_message_send: what every transport calls.


@pytest.fixture
def form_inbox(inbox):
    inbox.prechat_enabled = True
    inbox.save()
    for position, question in enumerate(FORM):
        PrechatField.objects.create(
            tenant=inbox.tenant,
            inbox=inbox,
            position=position,
            key=question.key,
            kind=question.kind,
            label=question.label,
            required=question.required,
            choices="\n".join(question.choices),
        )
    return inbox


def send(inbox, contact, text="Hello", conversation_id=None, prechat=None, client_id=None):
    return customer_message_send(
        tenant=inbox.tenant,
        inbox=inbox,
        contact=contact,
        conversation_id=conversation_id,
        text=text,
        client_id=client_id,
        client_ip="198.51.100.9",
        prechat=prechat,
    )


def test_the_first_message_with_answers_fills_the_contact_and_the_conversation(form_inbox, tenant):
    contact = ContactFactory(tenant=tenant)

    result = send(form_inbox, contact, prechat={**GOOD, "phone": "+1 555 0100"})

    conversation = Conversation.objects.get()
    assert conversation.details == {**GOOD, "phone": "+1 555 0100"}
    assert result.message.conversation_id == conversation.pk
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.name, stored.email, stored.phone) == (
        "Ada Lovelace",
        "ada@example.com",
        "+1 555 0100",
    )
    # The caller's instance is the contact as it now stands (a session names them by it).
    assert str(contact) == "Ada Lovelace"


def test_missing_required_answers_store_nothing(form_inbox, tenant):
    contact = ContactFactory(tenant=tenant)

    with pytest.raises(PrechatRequired) as raised:
        send(form_inbox, contact, prechat={"name": "Ada", "topic": "Billing"})

    assert raised.value.details["field"] == "email"
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert Contact.objects.get(pk=contact.pk).name == ""


def test_no_answers_at_all_is_refused_when_the_form_is_on(form_inbox, tenant):
    with pytest.raises(PrechatRequired):
        send(form_inbox, ContactFactory(tenant=tenant))

    assert not Message.objects.exists()


def test_a_second_message_in_the_open_conversation_needs_no_answers(form_inbox, tenant):
    contact = ContactFactory(tenant=tenant)
    first = send(form_inbox, contact, prechat=GOOD)

    second = send(
        form_inbox, contact, text="Any news?", conversation_id=first.message.conversation_id
    )

    assert second.message.seq == 2
    assert Conversation.objects.get().details == GOOD


def test_a_new_message_without_id_joins_the_open_conversation_without_answers(form_inbox, tenant):
    contact = ContactFactory(tenant=tenant)
    first = send(form_inbox, contact, prechat=GOOD)

    again = send(form_inbox, contact, text="Another tab")

    assert again.message.conversation_id == first.message.conversation_id


def test_the_form_switched_off_asks_nothing(form_inbox, tenant):
    form_inbox.prechat_enabled = False
    form_inbox.save()

    send(form_inbox, ContactFactory(tenant=tenant), prechat={"stale": "answer"})

    assert Conversation.objects.get().details == {}


def test_an_empty_optional_answer_does_not_blank_the_contact(form_inbox, tenant):
    contact = ContactFactory(tenant=tenant, phone="+49 30 123456")

    send(form_inbox, contact, prechat={**GOOD, "phone": ""})

    assert Contact.objects.get(pk=contact.pk).phone == "+49 30 123456"


def test_a_contact_change_is_announced(
    form_inbox, tenant, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(announcements, "_listeners", {})
    heard = []
    listen_to_changes("test", heard.append, changes=[Change.CONTACT_CHANGED])
    contact = ContactFactory(tenant=tenant)

    with django_capture_on_commit_callbacks(execute=True):
        send(form_inbox, contact, prechat=GOOD)

    assert [(c.change, c.contact_id) for c in heard] == [(Change.CONTACT_CHANGED, contact.pk)]
