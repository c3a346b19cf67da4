"""Whether assist can work on a conversation, and the checks a request passes before any job
exists: the agent's membership, the conversation (in the tenant), its bot, enough messages."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.ai.models import BotConfig
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.selectors import conversation_get
from helpdesk.conversations.services import agent_membership_check
from helpdesk.core.errors import ServiceError
from helpdesk.tenants.models import Tenant


class AssistUnavailable(ServiceError):
    code = "assist_unavailable"
    http_status = 409
    default_message = _("Assist needs a bot with a language model for this conversation's inbox.")


class AssistNoMessages(ServiceError):
    code = "assist_no_messages"
    http_status = 409
    default_message = _("The conversation has no messages to work from yet.")


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason}


def assist_availability(bot: BotConfig | None) -> Availability:
    """Whether ``bot`` (a conversation's inbox's) can write for agents, and why not."""
    if bot is None or not bot.is_active:
        return Availability(False, gettext("This inbox has no active bot."))
    if bot.provider != BotConfig.Provider.OPENAI:
        return Availability(
            False, gettext("This inbox's bot answers from the FAQ, without a language model.")
        )
    if not bot.model.strip():
        return Availability(False, gettext("This inbox's bot has no model set."))
    return Availability(True)


def conversation_assist_availability(conversation: Conversation) -> Availability:
    return assist_availability(conversation.inbox.bot)


def assisted_conversation(
    *, tenant: Tenant, conversation_id: int, user: AbstractBaseUser | None
) -> Conversation:
    """The tenant's conversation, once ``user`` (when an agent asks) is found a member and the
    conversation's bot can assist; NotFound, Revoked or AssistUnavailable otherwise."""
    if user is not None:
        agent_membership_check(tenant=tenant, user=user)
    conversation = conversation_get(tenant=tenant, conversation_id=conversation_id)
    availability = conversation_assist_availability(conversation)
    if not availability.available:
        raise AssistUnavailable(availability.reason)
    return conversation


def text_messages(conversation: Conversation) -> QuerySet[Message]:
    """The conversation's finished text messages: what assist reads."""
    return (
        Message.objects.filter(
            tenant_id=conversation.tenant_id, conversation=conversation, kind=Message.Kind.TEXT
        )
        .exclude(state=Message.State.STREAMING)
        .exclude(text="")
    )


def has_messages(conversation: Conversation, *, at_least: int) -> bool:
    return text_messages(conversation)[:at_least].count() >= at_least
