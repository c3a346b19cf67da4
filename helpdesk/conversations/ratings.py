"""Customer satisfaction: one rating per resolved conversation (issue 17, part 5).

Rules (every door — the widget's three transports today — goes through ``rating_submit``):

- The conversation must be the customer's own, in the tenant (another's is ``not_found``, the
  same answer as one that does not exist), and resolved (``conversation_not_resolved``).
- Its inbox must ask for ratings (``rating_scale`` not ``off``: else ``ratings_disabled``), and
  the score must fit the inbox's scale: 1-5 stars, or thumbs stored as 1 (down) or 5 (up), so
  that one CSAT (4 or 5 is satisfied) covers both scales.
- The comment is optional, at most 1000 characters, and storable (no NUL).
- Once per conversation (``already_rated``): the database's one-to-one constraint decides when
  two submissions race, not only the check before the insert.
- Who is rated: the conversation's assignee, else the last agent who answered in it; when no
  agent ever answered, the inbox's bot.

A reopened conversation keeps its rating: the rating belongs to the conversation, whose first
resolution it judged. When the customer writes again and the conversation is resolved a second
time, the widget does not ask again (the conversation payload's ``rating`` is not null) and a
second submission is ``already_rated``. Ratings are announced (``conversation.updated`` to the
agents, the ``conversation.rated`` webhook) once the transaction commits.
"""

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from helpdesk.conversations.announcements import Change, ConversationChange, change_announce
from helpdesk.conversations.models import Contact, Conversation, Message, Rating
from helpdesk.conversations.serializers import conversation_payload, rating_payload
from helpdesk.core.errors import (
    AlreadyRated,
    ConversationNotResolved,
    InvalidInput,
    NotFound,
    RatingsDisabled,
)
from helpdesk.core.ratelimit import rate_limit_hit
from helpdesk.core.validation import clean_id, storable_text
from helpdesk.realtime.events import (
    agents_group,
    conversation_staff_group,
    envelope,
    publish_on_commit,
)
from helpdesk.tenants.models import Inbox, Tenant

COMMENT_MAX_CHARS = 1000
THUMBS_SCORES = (1, 5)
# (limit, seconds) per contact: a person rates a handful of conversations, never dozens a minute.
DEFAULT_RATE = (10, 60)


def rating_submit(
    *, tenant: Tenant, contact: Contact, conversation_id: int, score: int, comment: str
) -> Rating:
    """Store the customer's rating of their resolved conversation and announce it."""
    rate_limit_hit(
        "rating",
        f"t{tenant.pk}:c{contact.pk}",
        getattr(settings, "RATE_CUSTOMER_RATINGS", DEFAULT_RATE),
    )
    not_found = gettext("Conversation not found.")
    conversation = (
        Conversation.objects.select_related("contact", "inbox", "assignee")
        .filter(tenant=tenant, contact=contact, pk=clean_id(conversation_id, not_found=not_found))
        .first()
    )
    if conversation is None:
        raise NotFound(not_found)
    scale = conversation.inbox.rating_scale
    if scale == Inbox.RatingScale.OFF:
        raise RatingsDisabled()
    score = _clean_score(score, scale)
    comment = _clean_comment(comment)
    if conversation.status != Conversation.Status.RESOLVED:
        raise ConversationNotResolved()
    if Rating.objects.filter(tenant=tenant, conversation=conversation).exists():
        raise AlreadyRated()
    agent = _rated_agent(conversation)
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                tenant=tenant,
                conversation=conversation,
                score=score,
                scale=scale,
                comment=comment,
                agent=agent,
                bot_id=None if agent is not None else conversation.inbox.bot_id,
            )
            conversation.rating = rating
            _announce(conversation, rating)
    except IntegrityError:
        # Another submission for this conversation committed between our check and insert.
        raise AlreadyRated() from None
    return rating


__all__ = ["rating_payload", "rating_submit", "rated"]


def rated(rating: Rating) -> ConversationChange:
    """The change announced to the apps above the domain (webhooks: ``conversation.rated``)."""
    return ConversationChange(
        Change.RATED,
        rating.tenant_id,
        rating.conversation_id,
        status=Conversation.Status.RESOLVED,
        contact_id=rating.conversation.contact_id,
    )


# --- Helpers -----------------------------------------------------------------------------------


def _clean_score(score: Any, scale: str) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput(gettext("The score must be a whole number from 1 to 5."), field="score")
    if scale == Inbox.RatingScale.THUMBS and score not in THUMBS_SCORES:
        raise InvalidInput(gettext("This inbox asks for thumbs up (5) or down (1)."), field="score")
    return score


def _clean_comment(comment: Any) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise InvalidInput(gettext("The comment must be text."), field="comment")
    comment = storable_text(comment, field="comment").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise InvalidInput(
            gettext("The comment is too long (at most %(max)d characters).")
            % {"max": COMMENT_MAX_CHARS},
            field="comment",
        )
    return comment


def _rated_agent(conversation: Conversation):
    """The assignee, else the last agent who answered; None when no agent answered."""
    if conversation.assignee is not None:
        return conversation.assignee
    last = (
        Message.objects.filter(
            tenant_id=conversation.tenant_id,
            conversation=conversation,
            sender_type=Message.SenderType.AGENT,
            kind=Message.Kind.TEXT,
            sender_user__isnull=False,
        )
        .select_related("sender_user")
        .order_by("-seq")
        .first()
    )
    return last.sender_user if last is not None else None


def _announce(conversation: Conversation, rating: Rating) -> None:
    """After commit: the agents' consoles (the conversation's staff group, the tenant's agents)
    get the conversation with its rating; the apps above hear ``Change.RATED``."""
    event = envelope(
        "conversation.updated",
        conversation_id=conversation.pk,
        data=conversation_payload(conversation),
    )
    publish_on_commit(conversation_staff_group(conversation.tenant_id, conversation.pk), event)
    publish_on_commit(agents_group(conversation.tenant_id), event)
    change_announce(rated(rating))
