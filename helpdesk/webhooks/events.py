"""The events a webhook can subscribe to, and the domain changes they come from."""

from django.utils.translation import gettext_lazy as _

from helpdesk.conversations.announcements import Change

CONVERSATION_CREATED = "conversation.created"
CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
CONVERSATION_ASSIGNED = "conversation.assigned"
MESSAGE_CREATED = "message.created"
CONVERSATION_HANDOFF = "conversation.handoff"
# The customer rated a resolved conversation (helpdesk/conversations/ratings.py).
CONVERSATION_RATED = "conversation.rated"
CONTACT_CHANGED = "contact.changed"

EVENT_CHOICES = [
    (CONVERSATION_CREATED, _("Conversation created")),
    (CONVERSATION_STATUS_CHANGED, _("Conversation status changed")),
    (CONVERSATION_ASSIGNED, _("Conversation assigned")),
    (MESSAGE_CREATED, _("Message created")),
    (CONVERSATION_HANDOFF, _("Conversation handed off to a human")),
    (CONVERSATION_RATED, _("Conversation rated")),
    (CONTACT_CHANGED, _("Contact changed")),
]
EVENTS = frozenset(name for name, _label in EVENT_CHOICES)

# Which announced change (helpdesk/conversations/announcements.py) makes which event. A transfer
# is announced as ASSIGNED too, so TRANSFER itself is not listened to.
EVENT_FOR_CHANGE: dict[Change, str] = {
    Change.CREATED: CONVERSATION_CREATED,
    Change.STATUS_CHANGED: CONVERSATION_STATUS_CHANGED,
    Change.ASSIGNED: CONVERSATION_ASSIGNED,
    Change.MESSAGE_CREATED: MESSAGE_CREATED,
    Change.HANDOFF: CONVERSATION_HANDOFF,
    Change.CONTACT_CHANGED: CONTACT_CHANGED,
    Change.RATED: CONVERSATION_RATED,
}
