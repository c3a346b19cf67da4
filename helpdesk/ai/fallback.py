"""The bot's last word when it does not answer: a text, and the conversation handed to the human
queue. The fallback when the bot cannot answer (the reply pipeline, and the sweep of replies
whose worker died, helpdesk/ai/reply_leases.py); the no-knowledge message when an answer-only
bot found nothing to answer from."""

from django.db import transaction

from helpdesk.conversations.handoff_reasons import BOT_UNAVAILABLE, NO_KNOWLEDGE, handoff_reason
from helpdesk.conversations.lifecycle import conversation_handoff
from helpdesk.conversations.models import Conversation
from helpdesk.conversations.services import Sender, message_post
from helpdesk.tenants.models import BuiltInText, Tenant
from helpdesk.tenants.texts import built_in_text


def fallback_post(*, tenant: Tenant, conversation_id: int, client_id: str, reason: str) -> bool:
    """The fallback message and the handoff (see ``_last_word``)."""
    return _last_word(
        tenant=tenant,
        conversation_id=conversation_id,
        client_id=client_id,
        own_text=lambda bot: bot.fallback_message,
        key=BuiltInText.Key.FALLBACK,
        metadata={"fallback": True},
        reason=handoff_reason(BOT_UNAVAILABLE, reason),
    )


def no_knowledge_post(*, tenant: Tenant, conversation_id: int, client_id: str) -> bool:
    """The bot's no-knowledge message and the handoff with reason ``no_knowledge``."""
    return _last_word(
        tenant=tenant,
        conversation_id=conversation_id,
        client_id=client_id,
        own_text=lambda bot: bot.no_knowledge_message,
        key=BuiltInText.Key.NO_KNOWLEDGE,
        metadata={"no_knowledge": True},
        reason=NO_KNOWLEDGE,
    )


def _last_word(*, tenant, conversation_id, client_id, own_text, key, metadata, reason) -> bool:
    """The message (the bot's own text, else the built-in one in the customer's language) and
    the handoff, in one transaction — unless the conversation left the bot
    meanwhile (an agent has it, and the bot must not speak there): then False. Idempotent on
    ``client_id``: a second call finds the conversation queued and posts nothing."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("inbox__bot", "contact")
            .filter(tenant=tenant, pk=conversation_id)
            .first()
        )
        if conversation is None or conversation.status != Conversation.Status.BOT:
            return False
        message_post(
            tenant=tenant,
            conversation_id=conversation.pk,
            sender=Sender.bot(),
            text=_text(conversation, own_text, key),
            client_id=client_id,
            metadata=metadata,
        )
        conversation_handoff(tenant=tenant, conversation_id=conversation.pk, reason=reason)
    return True


def _text(conversation: Conversation, own_text, key: str) -> str:
    bot = conversation.inbox.bot
    return (bot and own_text(bot)) or built_in_text(
        tenant_id=conversation.tenant_id, key=key, language=conversation.customer_language
    )
