"""What the bot sees: system prompt, plugin facts, knowledge passages, and the last N turns,
within a token budget."""

from dataclasses import dataclass
from itertools import groupby

from django.db.models import Q

from helpdesk.ai.grounding import Grounding, reference_block
from helpdesk.ai.models import BotConfig
from helpdesk.ai.providers.base import ChatMessage, ReplyRequest
from helpdesk.ai.tokens import count_chat_tokens, count_tokens
from helpdesk.conversations.attachments import attachments_in
from helpdesk.conversations.models import Conversation, Message
from helpdesk.widget.prechat import prechat_details

ROLE_FOR_SENDER = {
    Message.SenderType.CONTACT: "user",
    Message.SenderType.BOT: "assistant",
    Message.SenderType.AGENT: "assistant",
}


@dataclass(frozen=True)
class Turn:
    sender: str
    text: str


def recent_turns(conversation: Conversation, *, turns: int, up_to_seq: int) -> list[Turn]:
    """Text messages of the last ``turns`` rounds up to ``up_to_seq``, oldest first.

    A round starts with a customer message; the unanswered customer messages at the end (the
    burst being answered) always count in full, whatever ``turns`` says.
    """
    rows = (
        Message.objects.filter(
            tenant_id=conversation.tenant_id,
            conversation=conversation,
            kind=Message.Kind.TEXT,
            seq__lte=up_to_seq,
        )
        .exclude(state=Message.State.STREAMING)
        # A message of files alone has no text, and still counts: the bot is told about them.
        .exclude(Q(text="") & ~Q(metadata__has_key="attachments"))
        .order_by("-seq")
        .values_list("sender_type", "text", "metadata")[: (turns + 1) * 6 + 20]
    )
    collected: list[Turn] = []
    rounds = 0  # round 0 is the trailing burst being answered
    previous_sender = None
    for sender, text, metadata in rows:
        text = _with_files(sender, text, metadata)
        # Walking back in time, an answer that follows a customer message opens an older round.
        is_answer = sender != Message.SenderType.CONTACT
        if is_answer and previous_sender in (Message.SenderType.CONTACT, None):
            rounds += 1
            if rounds > turns:
                break
        collected.append(Turn(sender, text))
        previous_sender = sender
    collected.reverse()
    return collected


def _with_files(sender: str, text: str, metadata: object) -> str:
    """The text with a line naming the files sent with it (names and types, not contents)."""
    files = attachments_in(metadata)
    if not files:
        return text
    listed = ", ".join(f"{file.get('name')} ({file.get('type')})" for file in files)
    who = "The customer" if sender == Message.SenderType.CONTACT else "The agent"
    line = f"[{who} sent {len(files)} file(s): {listed}]"
    return f"{text}\n{line}" if text else line


def customer_question(turns: list[Turn]) -> tuple[str, str]:
    """What the customer is asking: the unanswered customer messages at the end of ``turns``,
    and the customer's messages of the round before them ("" when there are none), each
    joined by newlines."""
    runs = [
        (is_customer, [turn.text for turn in run])
        for is_customer, run in groupby(
            reversed(turns), key=lambda turn: turn.sender == Message.SenderType.CONTACT
        )
    ]
    if not runs or not runs[0][0]:
        return "", ""
    earlier = next((texts for is_customer, texts in runs[1:] if is_customer), [])
    return "\n".join(reversed(runs[0][1])), "\n".join(reversed(earlier))


def customer_details(conversation: Conversation) -> list[str]:
    """What the customer told us about themselves, for the bot: the name, e-mail and phone on
    their contact (from the pre-chat form or the site's verified identity) and the pre-chat
    answers with their questions' labels. Empty for an anonymous customer who said nothing."""
    contact = conversation.contact
    lines = [
        f"{label}: {value}"
        for label, value in (
            ("Name", contact.name),
            ("E-mail", contact.email),
            ("Phone", contact.phone),
        )
        if value
    ]
    known = {contact.name, contact.email, contact.phone}
    for answer in prechat_details(conversation):
        if answer["value"] not in known:
            lines.append(f"{answer['label']}: {answer['value']}")
    return [" ".join(line.split())[:300] for line in lines]


def build_messages(
    *,
    bot: BotConfig,
    turns: list[Turn],
    extra_context: list[str],
    grounding: Grounding | None = None,
    customer: list[str] = (),
) -> list[ChatMessage]:
    """The chat prompt, trimmed from the oldest turn until it fits the bot's token budget.

    ``extra_context`` is what plugins add (before_ai), e.g. facts about products the customer
    linked to; ``grounding`` the knowledge passages, already within their share of the budget
    (grounding.py), after the tenant's own system prompt and facts."""
    system = bot.system_prompt.strip()
    facts = list(dict.fromkeys(line for line in extra_context if line))
    if facts:
        system += "\n\nFacts for this conversation:\n" + "\n".join(f"- {f}" for f in facts)
    if customer:
        # The customer's own words about themselves: address them by name, use the answers.
        system += "\n\nCustomer details:\n" + "\n".join(f"- {line}" for line in customer)
        system = system.strip()
    knowledge = (
        reference_block(grounding, answer_only=bot.answer_only_from_knowledge)
        if grounding is not None
        else ""
    )
    if knowledge:
        system = f"{system}\n\n{knowledge}" if system else knowledge
    history = [ChatMessage(ROLE_FOR_SENDER[t.sender], t.text) for t in turns]
    budget = bot.context_token_budget

    def size(messages: list[ChatMessage]) -> int:
        return count_chat_tokens([(m.role, m.content) for m in messages])

    head = [ChatMessage("system", system)] if system else []
    while len(history) > 1 and size(head + history) > budget:
        history.pop(0)
    if history and size(head + history) > budget:
        # One message alone is over budget: keep its end, where the question usually is.
        room = max(50, budget - size(head) - 10)
        history[0] = ChatMessage(history[0].role, _last_tokens(history[0].content, room))
    return head + history


def reply_request(
    *,
    bot: BotConfig,
    turns: list[Turn],
    extra_context: list[str],
    grounding: Grounding | None,
    customer: list[str] = (),
) -> ReplyRequest:
    """What the bot's provider is asked for a reply: the prompt and the bot's settings."""
    return ReplyRequest(
        messages=build_messages(
            bot=bot,
            turns=turns,
            extra_context=extra_context,
            grounding=grounding,
            customer=customer,
        ),
        max_tokens=bot.max_tokens,
        temperature=bot.temperature,
        stream=bot.streaming,
        offer_handoff_tool=True,
        knowledge=grounding,
    )


def _last_tokens(text: str, tokens: int) -> str:
    while count_tokens(text) > tokens and len(text) > 1:
        text = text[len(text) // 8 or 1 :]
    return text
