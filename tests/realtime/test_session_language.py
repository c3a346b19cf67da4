"""A socket has no request to choose a language: the texts of its error frames follow its
person's, the customer's widget language or the agent's saved choice."""

import pytest
from channels.db import database_sync_to_async
from django.utils import translation
from django.utils.translation import gettext

from helpdesk.conversations.models import Contact
from tests.realtime.clients import message_send

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


def too_long_in(language: str) -> str:
    with translation.override(language):
        return gettext("The message text is longer than %(limit)d characters.") % {"limit": 100}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
async def test_a_customers_error_frames_speak_their_widgets_language(
    inbox, issue_token, connect_customer, settings, language
):
    settings.MESSAGE_MAX_CHARS = 100
    issued = await db(issue_token)()
    await db(Contact.objects.filter(pk=issued.visitor.contact.pk).update)(language=language)
    client = await connect_customer(inbox, issued.token)
    await client.recv_type("welcome")

    await client.send(message_send("x" * 101, "c-1"))
    error = await client.recv()

    assert error["data"]["code"] == "text_too_long"
    assert error["data"]["message"] == too_long_in(language)
    assert too_long_in("zh-hans") != too_long_in("en")
