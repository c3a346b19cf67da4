"""/api/v1/conversations: list, read, assign, change status, transfer; their messages."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from helpdesk.api.auth import need
from helpdesk.conversations import lifecycle
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.selectors import (
    MESSAGES_PAGE_MAX,
    conversation_cursor,
    conversation_get,
    conversations_last_messages,
    conversations_page,
    cursor_from_token,
    cursor_token,
    messages_after,
)
from helpdesk.conversations.serializers import conversation_payload, message_payload
from helpdesk.conversations.services import Sender, agent_message_send, message_post
from helpdesk.core.validation import MAX_ID

router = Router(tags=["conversations"])

ConversationStatus = Literal["bot", "queued", "assigned", "resolved"]
PAGE_MAX = 200


class ContactRef(Schema):
    id: int
    name: str = Field(description='What the customer said they are called; "" while anonymous.')
    visitor: str


class LastMessage(Schema):
    seq: int
    sender: str
    kind: str
    preview: str


class RatingOut(Schema):
    score: int = Field(description="1-5; thumbs are 1 (down) or 5 (up).")
    scale: Literal["five", "thumbs"]
    comment: str
    created_at: datetime | None


class ConversationOut(Schema):
    id: int
    status: ConversationStatus
    inbox: int
    contact: ContactRef
    assignee: int | None
    assignee_name: str | None
    has_bot: bool
    last_seq: int
    handoff_reason: str = Field(description="A code, or code:detail (docs/api.md).")
    follow_up: bool = Field(
        False, description="The customer left an e-mail to be answered by (offline form)."
    )
    last_message_at: datetime | None
    created_at: datetime | None
    last_message: LastMessage | None = None
    rating: RatingOut | None = Field(
        None, description="The customer's satisfaction rating; null unless resolved and rated."
    )


class ConversationPage(Schema):
    conversations: list[ConversationOut]
    next: str | None = Field(description="Pass as ?cursor= for the next page; null at the end.")


class ConversationFilters(Schema):
    status: ConversationStatus | None = None
    inbox: int | None = Field(None, ge=1, le=MAX_ID)
    assignee: int | None = Field(None, ge=1, le=MAX_ID)
    follow_up: bool | None = Field(None, description="true: only conversations to follow up")
    limit: int = Field(50, ge=1, le=PAGE_MAX)
    cursor: str | None = Field(None, max_length=64)


class AssignIn(Schema):
    agent_id: int = Field(ge=1, le=MAX_ID)


class StatusIn(Schema):
    status: Literal["resolved", "open", "queued"] = Field(
        description="resolved; open (a resolved conversation, to the key's user); "
        "queued (from the bot to the human queue)."
    )


class TransferIn(Schema):
    agent_id: int = Field(ge=1, le=MAX_ID)
    note: str = Field("", max_length=4000)


class AttachmentOut(Schema):
    id: int
    name: str
    type: str = Field(description="MIME type, recognised by the file's content")
    size: int = Field(description="bytes")
    width: int | None = Field(None, description="images only")
    height: int | None = Field(None, description="images only")
    url: str = Field(description="signed path of the file, valid ATTACHMENT_URL_MAX_AGE seconds")
    thumbnail_url: str | None = Field(None, description="signed path of a thumbnail (images)")


class MessageOut(Schema):
    id: int
    seq: int
    client_id: str
    sender: Literal["contact", "bot", "agent", "system"]
    sender_name: str
    kind: Literal["text", "note", "event"]
    text: str
    metadata: dict
    attachments: list[AttachmentOut] = Field(
        default_factory=list, description="files sent with the message"
    )
    state: str
    created_at: datetime


class MessagePage(Schema):
    messages: list[MessageOut]
    has_more: bool


class MessageIn(Schema):
    text: str = Field(max_length=20000)
    kind: Literal["text", "note"] = "text"
    sender: Literal["agent", "bot"] = Field(
        "agent", description="agent: as the key's user; bot: as an integration bot (text only)."
    )
    client_id: str | None = Field(
        None, max_length=64, description="Idempotency: the same id again returns the same message."
    )


class MessagesQuery(Schema):
    after: int = Field(0, ge=0, le=MAX_ID)
    limit: int = Field(50, ge=1, le=MESSAGES_PAGE_MAX)


def _detail(tenant, conversation: Conversation) -> dict:
    last = conversations_last_messages(tenant=tenant, conversations=[conversation])
    return conversation_payload(conversation, last_message=last.get(conversation.pk))


@router.get("", response=ConversationPage, summary="List conversations")
def list_conversations(request: HttpRequest, filters: Query[ConversationFilters]):
    key = need(request, "read")
    conversations = conversations_page(
        tenant=key.tenant,
        status=filters.status,
        inbox_id=filters.inbox,
        assignee_id=filters.assignee,
        follow_up=filters.follow_up,
        limit=filters.limit,
        before=cursor_from_token(filters.cursor, field="cursor"),
    )
    last = conversations_last_messages(tenant=key.tenant, conversations=conversations)
    full = len(conversations) == filters.limit
    return {
        "conversations": [
            conversation_payload(c, last_message=last.get(c.pk)) for c in conversations
        ],
        "next": cursor_token(conversation_cursor(conversations[-1])) if full else None,
    }


@router.get("/{conversation_id}", response=ConversationOut, summary="Read a conversation")
def read_conversation(request: HttpRequest, conversation_id: str):
    key = need(request, "read")
    return _detail(key.tenant, conversation_get(tenant=key.tenant, conversation_id=conversation_id))


@router.post("/{conversation_id}/assign", response=ConversationOut, summary="Assign to an agent")
def assign(request: HttpRequest, conversation_id: str, body: AssignIn):
    key = need(request, "write")
    conversation = lifecycle.conversation_assign(
        tenant=key.tenant, conversation_id=conversation_id, agent=key.user, to_user_id=body.agent_id
    )
    return _detail(key.tenant, conversation)


@router.post("/{conversation_id}/status", response=ConversationOut, summary="Change status")
def change_status(request: HttpRequest, conversation_id: str, body: StatusIn):
    key = need(request, "write")
    pk = conversation_get(tenant=key.tenant, conversation_id=conversation_id).pk
    if body.status == "resolved":
        conversation = lifecycle.conversation_resolve(
            tenant=key.tenant, conversation_id=pk, agent=key.user
        )
    elif body.status == "open":
        conversation = lifecycle.conversation_reopen(
            tenant=key.tenant, conversation_id=pk, agent=key.user
        )
    else:
        conversation = lifecycle.conversation_handoff(
            tenant=key.tenant, conversation_id=pk, reason=f"api:{key.name}"
        )
    return _detail(key.tenant, conversation)


@router.post("/{conversation_id}/transfer", response=ConversationOut, summary="Transfer")
def transfer(request: HttpRequest, conversation_id: str, body: TransferIn):
    key = need(request, "write")
    pk = conversation_get(tenant=key.tenant, conversation_id=conversation_id).pk
    conversation = lifecycle.conversation_transfer(
        tenant=key.tenant,
        conversation_id=pk,
        agent=key.user,
        to_user_id=body.agent_id,
        note=body.note,
    )
    return _detail(key.tenant, conversation)


@router.get("/{conversation_id}/messages", response=MessagePage, summary="List messages")
def list_messages(request: HttpRequest, conversation_id: str, query: Query[MessagesQuery]):
    key = need(request, "read")
    messages = messages_after(
        tenant=key.tenant,
        conversation_id=conversation_id,
        after_seq=query.after,
        include_private=True,
        limit=query.limit,
    )
    return {
        "messages": [message_payload(m) for m in messages],
        "has_more": len(messages) == query.limit,
    }


@router.post(
    "/{conversation_id}/messages",
    response={200: MessageOut, 201: MessageOut},
    summary="Post a message",
)
def post_message(request: HttpRequest, conversation_id: str, body: MessageIn):
    key = need(request, "write")
    pk = conversation_get(tenant=key.tenant, conversation_id=conversation_id).pk
    if body.sender == "bot":
        result = message_post(
            tenant=key.tenant,
            conversation_id=pk,
            sender=Sender.bot(),
            text=body.text,
            client_id=body.client_id,
            kind=Message.Kind.TEXT if body.kind == "text" else Message.Kind.NOTE,
            metadata={"integration": key.name},
        )
    else:
        result = agent_message_send(
            tenant=key.tenant,
            user=key.user,
            conversation_id=pk,
            text=body.text,
            client_id=body.client_id,
            kind=Message.Kind(body.kind),
        )
    return Status(201 if result.created else 200, message_payload(result.message))
