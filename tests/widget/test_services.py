from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpdesk.conversations.models import Contact
from helpdesk.widget.services import (
    LAST_SEEN_RESOLUTION,
    visitor_authenticate,
    visitor_token_issue,
)
from tests.realtime.conftest import ORIGIN

pytestmark = pytest.mark.django_db


def authenticate(inbox, token):
    return visitor_authenticate(inbox_key=inbox.public_key, token=token, origin=ORIGIN)


def test_authentication_keeps_last_seen_fresh_without_a_write_per_request(inbox):
    issued = visitor_token_issue(inbox_key=inbox.public_key, origin=ORIGIN, client_ip="192.0.2.1")
    authenticate(inbox, issued.token)
    first_seen = Contact.objects.get(pk=issued.visitor.contact.pk).last_seen_at
    assert first_seen is not None

    with CaptureQueriesContext(connection) as queries:
        authenticate(inbox, issued.token)
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]

    Contact.objects.filter(pk=issued.visitor.contact.pk).update(
        last_seen_at=timezone.now() - LAST_SEEN_RESOLUTION - timedelta(seconds=1)
    )
    authenticate(inbox, issued.token)
    assert Contact.objects.get(pk=issued.visitor.contact.pk).last_seen_at > first_seen
