"""Password guessing on the console's sign-in page is throttled by username and by address.

Every test runs against the real configuration (django-axes with the limits of
helpdesk/settings.py); time passing is simulated by moving the stored failures into the past.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models import F
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory
LOGIN = "/console/login/"
WRONG_LOGIN = (
    "Please enter a correct username and password. Note that both fields may be case-sensitive."
)


def locked_message(minutes: int) -> str:
    return f"Too many failed sign-in attempts. Try again in {minutes} minutes."


def sign_in(client: Client, username: str, password: str, ip: str = "198.51.100.1", **headers):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


def errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def fail(client: Client, username: str, times: int, **kwargs):
    """``times`` wrong passwords in a row; the last answer."""
    for _ in range(times):
        response = sign_in(client, username, "wrong", **kwargs)
    return response


def cool_off_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def let_time_pass(delta: timedelta) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)


def test_the_right_password_is_refused_after_too_many_wrong_ones(client, agent):
    limit = settings.AXES_FAILURE_LIMIT

    before = fail(client, agent.username, limit - 1)
    last = sign_in(client, agent.username, "wrong")
    right = sign_in(client, agent.username, PASSWORD)

    assert before.status_code == 200
    assert errors(before) == [WRONG_LOGIN]
    assert last.status_code == 429
    assert errors(last) == [locked_message(cool_off_minutes())]
    assert right.status_code == 429
    assert errors(right) == [locked_message(cool_off_minutes())]
    assert cool_off_minutes() * 60 - 60 < int(right["Retry-After"]) <= cool_off_minutes() * 60
    assert 'data-testid="login-error"' in right.content.decode()
    assert locked_message(cool_off_minutes()) in right.content.decode()
    assert SESSION_KEY not in client.session


def test_the_message_counts_down_and_the_lock_ends_after_the_cool_off(client, agent):
    fail(client, agent.username, settings.AXES_FAILURE_LIMIT)

    let_time_pass(timedelta(minutes=cool_off_minutes() - 4))
    later = sign_in(client, agent.username, PASSWORD)
    let_time_pass(timedelta(minutes=4))
    after = sign_in(client, agent.username, PASSWORD)

    assert later.status_code == 429
    assert errors(later) == [locked_message(4)]
    assert after.status_code == 302
    assert client.session[SESSION_KEY] == str(agent.pk)


def test_one_minute_left_is_said_in_the_singular(client, agent):
    fail(client, agent.username, settings.AXES_FAILURE_LIMIT)
    let_time_pass(timedelta(minutes=cool_off_minutes() - 1))

    response = sign_in(client, agent.username, PASSWORD)

    assert errors(response) == ["Too many failed sign-in attempts. Try again in 1 minute."]


def test_an_unknown_username_gets_exactly_the_same_answers(client, agent):
    limit = settings.AXES_FAILURE_LIMIT
    known = [sign_in(client, agent.username, "wrong", ip="198.51.100.1") for _ in range(limit)]
    unknown = [sign_in(client, "no-such-user", "wrong", ip="198.51.100.2") for _ in range(limit)]

    assert [(r.status_code, errors(r)) for r in known] == [
        (r.status_code, errors(r)) for r in unknown
    ]
    assert known[-1].status_code == 429


def test_one_address_is_locked_out_across_many_usernames(client, agent):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess-{n}", "wrong", ip="203.0.113.9")

    from_there = sign_in(client, agent.username, PASSWORD, ip="203.0.113.9")
    elsewhere = sign_in(Client(), agent.username, PASSWORD, ip="203.0.113.10")

    assert from_there.status_code == 429
    assert errors(from_there) == [locked_message(cool_off_minutes())]
    assert elsewhere.status_code == 302


def test_one_username_is_locked_out_across_many_addresses(client, agent):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, agent.username, "wrong", ip=f"203.0.113.{n + 1}")

    response = sign_in(client, agent.username, PASSWORD, ip="198.51.100.77")

    assert response.status_code == 429


def test_a_forged_forwarded_for_does_not_dodge_the_address_limit(client, agent):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}")

    response = sign_in(client, agent.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200")

    assert response.status_code == 429


def test_a_successful_sign_in_forgives_that_accounts_own_failures(client, agent):
    limit = settings.AXES_FAILURE_LIMIT
    fail(client, agent.username, limit - 1)
    assert sign_in(client, agent.username, PASSWORD).status_code == 302
    client.logout()

    again = fail(client, agent.username, limit - 1)
    locked = sign_in(client, agent.username, "wrong")

    assert again.status_code == 200
    assert errors(again) == [WRONG_LOGIN]
    assert locked.status_code == 429


def test_a_successful_sign_in_does_not_forgive_guesses_at_other_accounts(client, agent):
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        sign_in(client, f"guess-{n}", "wrong")
    assert sign_in(client, agent.username, PASSWORD).status_code == 302
    client.logout()

    response = sign_in(client, "guess-last", "wrong")

    assert response.status_code == 429


def test_a_locked_out_page_still_offers_the_form(client, agent):
    fail(client, agent.username, settings.AXES_FAILURE_LIMIT)

    response = client.get(LOGIN)

    assert response.status_code == 200
    assert 'data-testid="login-username"' in response.content.decode()
