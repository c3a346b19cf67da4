"""The pre-chat form of an inbox: its questions (PrechatField rows), what the widget is told
about them (``options.prechat``) and the answers as people read them (label and value).

The answers are checked by the domain when a message opens a conversation
(helpdesk/conversations/prechat.py); this app tells it which questions an inbox asks
(``WidgetConfig.ready``).
"""

from typing import Any

from helpdesk.conversations.models import Conversation
from helpdesk.conversations.prechat import Question, prechat_questions
from helpdesk.tenants.models import Inbox
from helpdesk.widget.models import PrechatField


def prechat_questions_load(inbox: Inbox) -> list[Question]:
    """``inbox``'s form, in order (the loader the domain is given)."""
    return [
        Question(
            key=field.key,
            kind=field.kind,
            label=field.label,
            required=field.required,
            choices=tuple(field.choice_list()),
        )
        for field in PrechatField.objects.filter(tenant_id=inbox.tenant_id, inbox=inbox)
    ]


def prechat_options(inbox: Inbox) -> dict[str, Any]:
    """``options.prechat`` of the widget: whether to ask, and the fields to show."""
    questions = prechat_questions(inbox)
    return {
        "enabled": bool(questions),
        "fields": [
            {
                "key": q.key,
                "kind": q.kind,
                "label": q.label,
                "required": q.required,
                "choices": list(q.choices),
            }
            for q in questions
        ],
    }


def prechat_details(conversation: Conversation) -> list[dict[str, str]]:
    """The conversation's answers with their questions' labels, in the form's order; answers
    to questions removed since keep their key as label."""
    details = conversation.details if isinstance(conversation.details, dict) else {}
    if not details:
        return []
    labels = dict(
        PrechatField.objects.filter(
            tenant_id=conversation.tenant_id, inbox_id=conversation.inbox_id
        ).values_list("key", "label")
    )
    ordered = [key for key in labels if key in details] + [
        key for key in details if key not in labels
    ]
    return [
        {"key": key, "label": labels.get(key, key), "value": str(details[key])} for key in ordered
    ]
