"""A reply drafted for an agent: the request (``suggest_reply``) and its job
(``suggestion_write``), which streams the draft to the asking agent's screens alone."""

import copy
import logging
import uuid

from django.contrib.auth.models import AbstractBaseUser

from helpdesk.ai.assist.access import AssistNoMessages, assisted_conversation, has_messages
from helpdesk.ai.assist.job import Work, failure_send, first_run, usage_count, work_load
from helpdesk.ai.assist.streaming import Stream, model_write
from helpdesk.ai.context import build_messages, customer_question
from helpdesk.ai.grounding import Grounding, aground, citations
from helpdesk.ai.models import BotConfig, TokenUsage
from helpdesk.ai.providers.base import ChatMessage
from helpdesk.core import jobs
from helpdesk.core.asyncdb import db_call
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.realtime.events import agent_user_group, envelope, send_now
from helpdesk.tenants.models import Tenant

logger = logging.getLogger(__name__)

# Per agent: a suggestion costs the tenant a model call, and a stuck key must not run up a bill.
SUGGESTION_RATE = (10, 60)
# The rounds a suggestion sees at least, whatever few the bot is set to see: the agent is
# answering the whole conversation, not only its last question.
SUGGESTION_MIN_ROUNDS = 3

SUGGESTION_PROMPT = (
    "You draft replies for a human customer-service agent, who checks and edits your draft "
    "before sending it to the customer. Write only the reply itself, ready to send: no notes "
    "to the agent, no subject line. Answer in the language the customer writes in. Take facts "
    "from the knowledge passages and the conversation; never invent prices, dates, order "
    "details or policies that they do not state. The passages ask for their numbers in "
    "brackets: leave them out of a draft, which goes out in the agent's name, and the agent "
    "sees its sources beside it."
)


def suggest_reply(*, tenant: Tenant, conversation_id: int, user: AbstractBaseUser) -> str:
    """Have the model draft the agent's next reply in the conversation; the request's id.

    The draft streams to this agent's screens alone and is never posted: the agent edits it and
    sends it as their own, or not at all."""
    from helpdesk.ai.assist_tasks import assist_suggest

    conversation = assisted_conversation(tenant=tenant, conversation_id=conversation_id, user=user)
    if not has_messages(conversation, at_least=1):
        raise AssistNoMessages()
    rate_limit_hit("assist.suggest", f"t{tenant.pk}:u{user.pk}", SUGGESTION_RATE)
    request_id = uuid.uuid4().hex
    jobs.enqueue(assist_suggest, tenant.pk, conversation.pk, user.pk, request_id)
    return request_id


async def suggestion_write(
    *, tenant_id: int, conversation_id: int, user_id: int, request_id: str
) -> str:
    """The job of ``suggest_reply``: draft, stream and count the suggestion; a short report."""
    group = agent_user_group(tenant_id, user_id)
    stream = Stream(
        group=group,
        event_type="assist.delta",
        conversation_id=conversation_id,
        request_id=request_id,
    )
    try:
        if not await first_run(tenant_id, request_id):
            return "already done"
        work = await db_call(work_load)(tenant_id, conversation_id, rounds=_suggestion_rounds)
        grounding = await _ground(work)
        messages = _suggestion_messages(work, grounding)
        text, usage, model = await model_write(
            work,
            messages,
            stream,
            max_tokens=work.bot.max_tokens,
            temperature=work.bot.temperature,
        )
        await db_call(usage_count)(
            work, TokenUsage.Purpose.SUGGESTION, user_id=user_id, usage=usage, model=model
        )
        await send_now(
            group,
            envelope(
                "assist.done",
                conversation_id=conversation_id,
                data={
                    "request_id": request_id,
                    "text": text,
                    "citations": citations(grounding, text) if grounding else [],
                },
            ),
        )
        return f"suggested {len(text)} characters"
    except Exception as error:
        await failure_send(group, conversation_id, request_id, "suggestion", error)
        return f"failed: {error}"
    finally:
        await stream.stop()


def _suggestion_rounds(bot: BotConfig) -> int:
    return max(bot.context_turns, SUGGESTION_MIN_ROUNDS)


async def _ground(work: Work) -> Grounding | None:
    """The knowledge for what the customer is asking, as the bot would read it; None when the
    search failed (the draft is written without it)."""
    question, earlier = customer_question(work.turns)
    try:
        return await aground(
            tenant=work.conversation.tenant, bot=work.bot, question=question, earlier=earlier
        )
    except Exception:
        logger.exception("Knowledge search failed in conversation %s", work.conversation.pk)
        return None


def _suggestion_messages(work: Work, grounding: Grounding | None) -> list[ChatMessage]:
    system = SUGGESTION_PROMPT
    if work.bot.system_prompt.strip():
        system += (
            "\n\nThe company's instructions to its assistant, for tone and facts:\n"
            + work.bot.system_prompt.strip()
        )
    # The conversation and the knowledge as the bot would see them, under the assist's
    # instructions rather than the bot's: build_messages trims them to the bot's budget alike.
    # An agent may answer beyond the knowledge, whatever the bot is held to.
    drafting = copy.copy(work.bot)
    drafting.system_prompt = system
    drafting.answer_only_from_knowledge = False
    return build_messages(bot=drafting, turns=work.turns, extra_context=[], grounding=grounding)
