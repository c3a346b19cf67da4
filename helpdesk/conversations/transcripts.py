"""Full transcripts of conversations: every message, private note and event, in seq order.

Read-only (selectors). The same dict feeds the console's JSON export, the plain-text export and
the admin's transcript, so all three tell the same story of who did what when.

Times are UTC: a tenant has no time zone of its own, and an export that is read elsewhere must
not depend on the server's setting. The text export says so in its header.
"""

import unicodedata
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.conversations.attachments import message_attachments
from helpdesk.conversations.handoff_reasons import reason_text
from helpdesk.conversations.models import Conversation, Message
from helpdesk.core.errors import InvalidInput, NotFound
from helpdesk.core.validation import clean_id
from helpdesk.tenants.access import display_name
from helpdesk.tenants.models import Tenant

TRANSCRIPT_FORMAT = "helpdesk.transcript/1"
# The admin's bulk export answers in one response; past this many it must be done in parts.
TRANSCRIPTS_EXPORT_MAX = 100

# What a transcript keeps of a message's metadata. The rest (plugin context lines, internal
# flags) is working data of the bot and plugins, not part of the record.
_METADATA_KEYS = ("event", "by", "by_name", "to", "to_name", "reason", "cards", "fallback")


def conversation_transcript(*, tenant: Tenant, conversation_id: int | str) -> dict[str, Any]:
    """The conversation's facts and every message in seq order, notes and events included.

    Another tenant's conversation is NotFound, exactly like one that does not exist.
    """
    pk = clean_id(conversation_id, not_found=_("Conversation not found."))
    transcripts = conversations_transcripts(tenant=tenant, conversation_ids=[pk])
    if not transcripts:
        raise NotFound(gettext("Conversation not found."))
    return transcripts[0]


def conversations_transcripts(
    *, tenant: Tenant, conversation_ids: list[int]
) -> list[dict[str, Any]]:
    """Transcripts of the tenant's conversations among ``conversation_ids``, oldest first.

    Ids of other tenants' conversations (and unknown ids) are left out. Three queries whatever
    the number: conversations, their messages, and the users named by events.
    """
    if len(conversation_ids) > TRANSCRIPTS_EXPORT_MAX:
        raise InvalidInput(
            gettext("At most %(limit)d transcripts can be exported at once.")
            % {"limit": TRANSCRIPTS_EXPORT_MAX},
            field="conversations",
        )
    messages = (
        Message.objects.filter(tenant=tenant)
        .select_related("sender_user", "token_usage")
        .order_by("seq")
    )
    conversations = list(
        Conversation.objects.filter(tenant=tenant, pk__in=conversation_ids)
        .select_related("tenant", "contact", "inbox", "assignee")
        .prefetch_related(Prefetch("messages", queryset=messages, to_attr="transcript_messages"))
        .order_by("created_at", "pk")
    )
    names = _event_user_names(message for c in conversations for message in c.transcript_messages)
    return [_transcript(c, names) for c in conversations]


def _event_user_names(messages) -> dict[int, str]:
    """Names of the users that events point at by id (``by``, ``to``) without naming them."""
    wanted: set[int] = set()
    for message in messages:
        metadata = message.metadata if isinstance(message.metadata, dict) else {}
        for key in ("by", "to"):
            value = metadata.get(key)
            if _is_id(value) and not metadata.get(f"{key}_name"):
                wanted.add(value)
    if not wanted:
        return {}
    users = get_user_model().objects.filter(pk__in=wanted)
    return {user.pk: display_name(user) for user in users}


def _transcript(conversation: Conversation, names: dict[int, str]) -> dict[str, Any]:
    contact = conversation.contact
    assignee = conversation.assignee
    return {
        "format": TRANSCRIPT_FORMAT,
        "conversation": {
            "id": conversation.pk,
            "tenant": conversation.tenant.slug,
            "status": conversation.status,
            "inbox": {"id": conversation.inbox_id, "name": conversation.inbox.name},
            "contact": {"id": contact.pk, "name": str(contact), "email": contact.email},
            "assignee": ({"id": assignee.pk, "name": display_name(assignee)} if assignee else None),
            "handoff_reason": conversation.handoff_reason,
            "created_at": _iso(conversation.created_at),
            "queued_at": _iso(conversation.queued_at),
            "first_response_at": _iso(conversation.first_response_at),
            "resolved_at": _iso(conversation.resolved_at),
            "last_seq": conversation.last_seq,
        },
        "messages": [_message(m, names) for m in conversation.transcript_messages],
    }


def _message(message: Message, names: dict[int, str]) -> dict[str, Any]:
    raw = message.metadata if isinstance(message.metadata, dict) else {}
    metadata = {key: raw[key] for key in _METADATA_KEYS if key in raw}
    for key in ("by", "to"):
        if _is_id(raw.get(key)) and not raw.get(f"{key}_name") and raw[key] in names:
            metadata[f"{key}_name"] = names[raw[key]]
    entry: dict[str, Any] = {
        "seq": message.seq,
        "sender": message.sender_type,
        "sender_name": _sender_name(message),
        "kind": message.kind,
        "text": message.text,
        "state": message.state,
        "created_at": _iso(message.created_at),
        "metadata": metadata,
    }
    files = message_attachments(message)
    if files:
        # The record of what was sent; the files themselves are served from the console.
        entry["attachments"] = [
            {"name": f["name"], "type": f["type"], "size": f["size"]} for f in files
        ]
    usage = getattr(message, "token_usage", None) if message.sender_type == "bot" else None
    if usage is not None:
        entry["tokens"] = {
            "model": usage.model,
            "prompt": usage.prompt_tokens,
            "completion": usage.completion_tokens,
        }
    return entry


def _sender_name(message: Message) -> str:
    if message.sender_type == Message.SenderType.AGENT:
        # A deleted agent's messages stay (sender_user is SET_NULL); they lose only the name.
        return display_name(message.sender_user) if message.sender_user else _sender_label("agent")
    return _sender_label(message.sender_type)


def _sender_label(sender_type: str) -> str:
    """What a sender is called (Customer, Bot…), in the active language."""
    if sender_type in Message.SenderType.values:
        return str(Message.SenderType(sender_type).label)
    return sender_type


def event_description(entry: dict[str, Any]) -> str:
    """What an event message of a transcript says happened, naming who did it.

    Built from the event's metadata where the event is known, so a transcript reads the same
    whatever wording the customer was shown; the stored text otherwise.
    """
    metadata = entry.get("metadata") or {}
    event = metadata.get("event")
    by = metadata.get("by_name") or ""
    to = metadata.get("to_name") or (
        gettext("user #%(id)s") % {"id": metadata["to"]} if _is_id(metadata.get("to")) else ""
    )
    text = entry.get("text") or ""
    if event == "handoff":
        reason = metadata.get("reason")
        if reason:
            return gettext("Handed to the team (reason: %(reason)s)") % {"reason": reason}
        return gettext("Handed to the team")
    if event == "assign":
        # Automatic assignment names the agent who got it as "by"; a manual one has "to".
        if by and to:
            return gettext("%(by)s assigned the conversation to %(to)s") % {"by": by, "to": to}
        if to or by:
            return gettext("Assigned to %(name)s") % {"name": to or by}
    if event == "reopen" and not by:
        if to:
            return gettext("Conversation reopened, back with %(name)s") % {"name": to}
        if metadata.get("reason"):
            return gettext("Conversation reopened and queued (reason: %(reason)s)") % {
                "reason": metadata["reason"]
            }
        return gettext("Conversation reopened")
    if by and event in _BY_EVENTS:
        return str(_BY_EVENTS[event]) % {"by": by, "to": to or gettext("another agent")}
    if event == "resolve":
        return gettext("Conversation resolved")
    if text:
        return text
    return event.replace("_", " ").capitalize() if event else gettext("Event")


_BY_EVENTS = {
    "takeover": _("%(by)s took over"),
    "accept": _("%(by)s accepted the conversation"),
    "handback": _("%(by)s handed the conversation back to the bot"),
    "transfer": _("%(by)s transferred the conversation to %(to)s"),
    "resolve": _("%(by)s resolved the conversation"),
    "reopen": _("%(by)s reopened the conversation"),
}


def transcript_as_text(transcript: dict[str, Any]) -> str:
    """A plain-text transcript a person can read: a header, then one line per message.

    In the active language, apart from what people wrote. Continuation lines of a multi-line
    message are indented under it; private notes and events are marked so a reader never
    mistakes them for something the customer was told.
    """
    c = transcript["conversation"]
    contact = c["contact"]
    contact_line = contact["name"] + (f" <{contact['email']}>" if contact["email"] else "")
    fields = [
        (gettext("Contact:"), contact_line),
        (gettext("Inbox:"), c["inbox"]["name"]),
        (gettext("Status:"), _status_label(c["status"])),
        (gettext("Assignee:"), c["assignee"]["name"] if c["assignee"] else "-"),
        (gettext("Created:"), _text_time(c["created_at"])),
        (gettext("Resolved:"), _text_time(c["resolved_at"]) if c["resolved_at"] else "-"),
    ]
    if c["handoff_reason"]:
        fields.append((gettext("Handoff:"), reason_text(c["handoff_reason"])))
    # The values start in one column, two spaces after the widest label.
    column = max(_width(label) for label, _value in fields) + 2
    header = [gettext("Conversation #%(id)s") % {"id": c["id"]}]
    header += [label + " " * (column - _width(label)) + value for label, value in fields]
    header.append(gettext("Times are UTC."))
    lines = [*header, ""]
    card_mark = gettext("[card]")
    file_mark = gettext("[file]")
    for entry in transcript["messages"]:
        stamp = f"[{_text_time(entry['created_at'])}]"
        if entry["kind"] == Message.Kind.EVENT:
            lines.append(f"{stamp} — {event_description(entry)} —")
            continue
        who = entry["sender_name"]
        if entry["kind"] == Message.Kind.NOTE:
            who = gettext("%(name)s (private note)") % {"name": who}
        if entry["state"] == Message.State.INTERRUPTED:
            who = gettext("%(name)s (interrupted)") % {"name": who}
        elif entry["state"] == Message.State.STREAMING:
            who = gettext("%(name)s (still writing)") % {"name": who}
        body = entry["text"].splitlines() or [""]
        lines.append(f"{stamp} {who}: {body[0]}")
        indent = " " * (len(stamp) + 1)
        lines.extend(f"{indent}{line}" for line in body[1:])
        for card in entry["metadata"].get("cards") or []:
            if isinstance(card, dict):
                lines.append(f"{indent}{card_mark} {_card_line(card)}")
        for file in entry.get("attachments") or []:
            lines.append(f"{indent}{file_mark} {_file_line(file)}")
    return "\n".join(lines) + "\n"


def _status_label(status: str) -> str:
    if status in Conversation.Status.values:
        return str(Conversation.Status(status).label)
    return status


def _width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _card_line(card: dict[str, Any]) -> str:
    parts = [str(card.get("title") or gettext("Product"))]
    if card.get("price") not in (None, ""):
        parts.append(f"{card.get('price')} {card.get('currency') or ''}".strip())
    if card.get("url"):
        parts.append(str(card["url"]))
    return " · ".join(parts)


def _file_line(file: dict[str, Any]) -> str:
    return f"{file['name']} ({file['type']}, {filesizeformat(file['size'])})"


def _text_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def transcript_filename(transcript: dict, extension: str) -> str:
    conversation = transcript["conversation"]
    day = (conversation["created_at"] or "")[:10]
    return f"conversation-{conversation['id']}-{day}.{extension}"
