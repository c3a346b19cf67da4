"""What both assist jobs share: the run-once guard, the work loaded in one trip to a worker
thread, the tokens counted, and the ``assist.error`` the agents' screens get when a job fails."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import gettext

from helpdesk.ai.assist.access import AssistUnavailable, assist_availability
from helpdesk.ai.context import Turn, recent_turns
from helpdesk.ai.models import BotConfig, TokenUsage
from helpdesk.ai.providers.base import Usage
from helpdesk.conversations.models import Conversation
from helpdesk.core.asyncdb import off_loop
from helpdesk.realtime.events import envelope, send_now

logger = logging.getLogger(__name__)

# A request is worked on once: a redelivered job finds its id taken.
REQUEST_SECONDS = 3600


class AssistFailed(Exception):
    """The model did not write what was asked; ``code`` is what the agents' screens are told."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Work:
    """What a job works on, loaded in one trip to a worker thread."""

    conversation: Conversation
    bot: BotConfig
    turns: list[Turn]


async def first_run(tenant_id: int, request_id: str) -> bool:
    return await off_loop(cache.add)(
        f"t{tenant_id}:assist:{request_id}", 1, timeout=REQUEST_SECONDS
    )


def work_load(tenant_id: int, conversation_id: int, *, rounds: Callable[[BotConfig], int]) -> Work:
    """The conversation, its bot and as many of its last rounds as ``rounds`` says for the bot;
    AssistFailed when assist cannot work on it now."""
    conversation = (
        Conversation.objects.select_related("tenant", "inbox__bot")
        .filter(tenant_id=tenant_id, tenant__is_active=True, pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise AssistFailed("not_found", gettext("Conversation not found."))
    bot = conversation.inbox.bot
    availability = assist_availability(bot)
    if not availability.available:
        # The bot changed between the request and the job.
        raise AssistFailed(AssistUnavailable.code, availability.reason)
    turns = recent_turns(conversation, turns=rounds(bot), up_to_seq=conversation.last_seq)
    return Work(conversation, bot, turns)


def usage_count(
    work: Work, purpose: TokenUsage.Purpose, *, user_id: int | None, usage: Usage, model: str
) -> TokenUsage:
    return TokenUsage.objects.create(
        tenant_id=work.conversation.tenant_id,
        conversation=work.conversation,
        message=None,
        purpose=purpose,
        user_id=user_id,
        model=model[:100],
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        source=TokenUsage.Source.COUNTED if usage.counted else TokenUsage.Source.API,
    )


async def failure_send(
    group: str, conversation_id: int, request_id: str, purpose: str, error: Exception
) -> None:
    """Tell the agents' screens in ``group`` that the job failed, and with which code."""
    if isinstance(error, AssistFailed):
        code, message = error.code, error.message
        logger.warning("Assist %s for conversation %s failed: %s", purpose, conversation_id, error)
    else:
        code, message = "assist_failed", gettext("Something went wrong on our side.")
        logger.error(
            "Assist %s for conversation %s failed", purpose, conversation_id, exc_info=error
        )
    try:
        await send_now(
            group,
            envelope(
                "assist.error",
                conversation_id=conversation_id,
                data={
                    "request_id": request_id,
                    "purpose": purpose,
                    "code": code,
                    "message": message,
                },
            ),
        )
    except Exception:
        # The screens time the request out themselves.
        logger.warning("Could not tell %s that assist failed", group, exc_info=True)
