"""The bot's last word when it cannot answer: its fallback text, and the conversation handed
to the human queue. Used by the reply pipeline and by the sweep of replies whose worker died
(helpdesk/ai/reply_leases.py)."""

from django.db import transaction
from django.utils.translation import gettext

from helpdesk.ai.models import DEFAULT_FALLBACK
from helpdesk.conversations.lifecycle import conversation_handoff
from helpdesk.conversations.models import Conversation
from helpdesk.conversations.services import Sender, message_post
from helpdesk.tenants.models import Tenant


def fallback_post(*, tenant: Tenant, conversation_id: int, client_id: str, reason: str) -> None:
    """The fallback message and the handoff, in one transaction — unless the conversation left
    the bot meanwhile (an agent has it, and the bot must not speak there). Idempotent on
    ``client_id``: a second call finds the conversation queued and posts nothing."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("inbox__bot")
            .filter(tenant=tenant, pk=conversation_id)
            .first()
        )
        if conversation is None or conversation.status != Conversation.Status.BOT:
            return
        bot = conversation.inbox.bot
        message_post(
            tenant=tenant,
            conversation_id=conversation.pk,
            sender=Sender.bot(),
            text=bot.fallback_message if bot else gettext(DEFAULT_FALLBACK),
            client_id=client_id,
            metadata={"fallback": True},
        )
        conversation_handoff(
            tenant=tenant,
            conversation_id=conversation.pk,
            reason=f"bot unavailable: {reason}"[:200],
        )
