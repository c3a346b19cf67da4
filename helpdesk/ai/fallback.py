"""The bot's last word when it does not answer: a text, and the conversation handed to the human
queue. The fallback when the bot cannot answer (the reply pipeline, and the sweep of replies
whose worker died, helpdesk/ai/reply_leases.py); the no-knowledge message when an answer-only
bot found nothing to answer from."""

from django.db import transaction
from django.utils.translation import gettext

from helpdesk.ai.grounding import NO_KNOWLEDGE
from helpdesk.ai.models import DEFAULT_FALLBACK, DEFAULT_NO_KNOWLEDGE
from helpdesk.conversations.lifecycle import conversation_handoff
from helpdesk.conversations.models import Conversation
from helpdesk.conversations.services import Sender, message_post
from helpdesk.tenants.models import Tenant


def fallback_post(*, tenant: Tenant, conversation_id: int, client_id: str, reason: str) -> bool:
    """The fallback message and the handoff (see ``_last_word``)."""
    return _last_word(
        tenant=tenant,
        conversation_id=conversation_id,
        client_id=client_id,
        text_of=lambda bot: bot.fallback_message if bot else gettext(DEFAULT_FALLBACK),
        metadata={"fallback": True},
        reason=f"bot unavailable: {reason}"[:200],
    )


def no_knowledge_post(*, tenant: Tenant, conversation_id: int, client_id: str) -> bool:
    """The bot's no-knowledge message and the handoff with reason ``no_knowledge``."""
    return _last_word(
        tenant=tenant,
        conversation_id=conversation_id,
        client_id=client_id,
        text_of=lambda bot: bot.no_knowledge_message if bot else gettext(DEFAULT_NO_KNOWLEDGE),
        metadata={"no_knowledge": True},
        reason=NO_KNOWLEDGE,
    )


def _last_word(*, tenant, conversation_id, client_id, text_of, metadata, reason) -> bool:
    """The message and the handoff, in one transaction — unless the conversation left the bot
    meanwhile (an agent has it, and the bot must not speak there): then False. Idempotent on
    ``client_id``: a second call finds the conversation queued and posts nothing."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("inbox__bot")
            .filter(tenant=tenant, pk=conversation_id)
            .first()
        )
        if conversation is None or conversation.status != Conversation.Status.BOT:
            return False
        message_post(
            tenant=tenant,
            conversation_id=conversation.pk,
            sender=Sender.bot(),
            text=text_of(conversation.inbox.bot),
            client_id=client_id,
            metadata=metadata,
        )
        conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason=reason)
    return True
