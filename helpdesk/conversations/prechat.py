"""The pre-chat form's answers: checked when a customer's message opens a new conversation, then
stored on the conversation (``details``) and, for name, e-mail and phone, on the contact.

Which questions an inbox asks is the widget's business (its PrechatField rows,
helpdesk/widget/prechat.py), and the domain never imports the widget: the widget app gives a
loader here at start (``prechat_form_provide`` in its ``AppConfig.ready()``), the way the AI
fills the followers registry. The rules for the answers live here, so every transport and
every caller checks them alike, at the one moment a conversation is really created (the
second message of an open conversation needs no answers).
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext

from helpdesk.conversations.models import Contact
from helpdesk.core.errors import PrechatInvalid, PrechatRequired
from helpdesk.core.validation import storable_problem
from helpdesk.tenants.models import Inbox

KINDS = ("name", "email", "phone", "choice", "text")
# The longest answer kept per kind (the contact's own columns cap name and phone).
MAX_LENGTH = {"name": 200, "email": 254, "phone": 40, "choice": 200, "text": 500}
MAX_QUESTIONS = 20
PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ()./-]*[0-9]$")
PHONE_DIGITS = (5, 20)
PHONE_LENGTH = (5, 40)
# The contact's columns the kinds fill.
CONTACT_KINDS = ("name", "email", "phone")


@dataclass(frozen=True)
class Question:
    key: str
    kind: str
    label: str
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answers:
    # What the conversation keeps, by question key (only questions answered).
    details: dict[str, str]
    # What the contact gets: {"name": …, "email": …, "phone": …} for the kinds answered.
    contact: dict[str, str]


_loader: Callable[[Inbox], list[Question]] | None = None


def prechat_form_provide(loader: Callable[[Inbox], list[Question]]) -> None:
    """Say how an inbox's questions are found (the widget app, at start)."""
    global _loader
    _loader = loader


def prechat_questions(inbox: Inbox) -> list[Question]:
    """The questions ``inbox`` asks before a conversation; none when its form is off."""
    if not inbox.prechat_enabled or _loader is None:
        return []
    return list(_loader(inbox))[:MAX_QUESTIONS]


def prechat_clean(questions: list[Question], answers: Any) -> Answers:
    """``answers`` ({key: text}) checked against ``questions``: every required one answered,
    each answer valid for its kind, no key that is not a question. Raises PrechatRequired or
    PrechatInvalid naming the ``field`` (the question's key). Without questions (the form
    is off) there is nothing to answer, and answers a page kept from before are ignored."""
    if not questions:
        return Answers(details={}, contact={})
    if answers is None:
        answers = {}
    if not isinstance(answers, Mapping):
        raise PrechatInvalid(gettext("The pre-chat answers must be an object."), field="prechat")
    by_key = {q.key: q for q in questions}
    for key in answers:
        if key not in by_key:
            raise PrechatInvalid(
                gettext("%(field)s is not a question of this form.") % {"field": str(key)[:40]},
                field=str(key)[:40],
            )
    details: dict[str, str] = {}
    contact: dict[str, str] = {}
    for question in questions:
        value = _answer(question, answers.get(question.key))
        if not value:
            continue
        details[question.key] = value
        if question.kind in CONTACT_KINDS and question.kind not in contact:
            contact[question.kind] = value
    return Answers(details=details, contact=contact)


def _answer(question: Question, value: Any) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PrechatInvalid(
            gettext("%(label)s must be text.") % {"label": question.label}, field=question.key
        )
    value = " ".join(value.split()) if question.kind != "text" else value.strip()
    if not value:
        if question.required:
            raise PrechatRequired(
                gettext("%(label)s is required.") % {"label": question.label}, field=question.key
            )
        return ""
    limit = MAX_LENGTH.get(question.kind, 200)
    if len(value) > limit:
        raise PrechatInvalid(
            gettext("%(label)s is longer than %(limit)d characters.")
            % {"label": question.label, "limit": limit},
            field=question.key,
            limit=limit,
        )
    if storable_problem(value):
        raise PrechatInvalid(
            gettext("%(label)s contains characters that cannot be stored.")
            % {"label": question.label},
            field=question.key,
        )
    if question.kind == "email":
        try:
            EmailValidator()(value)
        except ValidationError:
            raise PrechatInvalid(
                gettext("Please enter a valid e-mail address."), field=question.key
            ) from None
    elif question.kind == "phone" and not phone_plausible(value):
        raise PrechatInvalid(gettext("Please enter a valid phone number."), field=question.key)
    elif question.kind == "choice" and value not in question.choices:
        raise PrechatInvalid(gettext("Please choose one of the options."), field=question.key)
    return value


def phone_plausible(value: str) -> bool:
    """Digits with an optional leading +, spaces, dashes, dots or brackets: 5-40 characters
    with 5-20 digits. Not a proof it rings, only that it could."""
    digits = sum(ch.isdigit() for ch in value)
    return (
        value.isascii()
        and PHONE_LENGTH[0] <= len(value) <= PHONE_LENGTH[1]
        and PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
        and PHONE_RE.fullmatch(value) is not None
    )


def contact_fill(contact: Contact, answers: Answers) -> list[str]:
    """Put the answers' name, e-mail and phone on ``contact`` (the instance, not saved); the
    fields changed. An empty answer never blanks what the contact has (a verified identity's
    name, say), and a verified contact keeps the name and e-mail its site vouched for."""
    changed = []
    verified = bool(contact.external_id)
    for field, value in answers.contact.items():
        if not value or getattr(contact, field) == value:
            continue
        if verified and field in ("name", "email") and getattr(contact, field):
            continue
        setattr(contact, field, value)
        changed.append(field)
    return changed
