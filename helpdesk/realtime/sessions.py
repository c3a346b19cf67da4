"""Client frames in, frames out — the same for WebSocket, long-polling and Socket.IO.

A transport authenticates, turns bytes into frames with ``parse_frame``, hands each frame to its
session's ``handle`` and sends back what it returns. Live events reach the transport through the
groups the session joins via the transport's ``Subscriber``. Rules live in the services; a
session only maps frames to service calls and results to frames (docs/protocol.md).
"""

import logging
import time
from typing import Any, Protocol

from django.utils import translation

from helpdesk.conversations import lifecycle
from helpdesk.conversations.assignment import agent_console_closed, agent_console_opened
from helpdesk.conversations.fast_path import acustomer_message_send
from helpdesk.conversations.follow_up import follow_up_request
from helpdesk.conversations.models import Conversation, Message
from helpdesk.conversations.ratings import rating_payload, rating_submit
from helpdesk.conversations.selectors import (
    conversation_get,
    customer_conversation_check,
    messages_after,
)
from helpdesk.conversations.serializers import conversation_payload, message_payload
from helpdesk.conversations.services import (
    agent_membership_check,
    agent_message_send,
    conversation_mark_read,
)
from helpdesk.core.asyncdb import db_call
from helpdesk.core.errors import (
    Revoked,
    ServerError,
    ServiceError,
)
from helpdesk.core.outage import unavailable
from helpdesk.realtime import schemas
from helpdesk.realtime.events import (
    agent_user_group,
    agents_group,
    conversation_group,
    conversation_staff_group,
    envelope,
    send_now,
)
from helpdesk.realtime.frames import Frame, error_frame
from helpdesk.realtime.presence import apresence_change, contact_presence_key
from helpdesk.tenants.access import display_name
from helpdesk.tenants.services import membership_set_availability
from helpdesk.widget.services import Visitor, visitor_token_renew

logger = logging.getLogger(__name__)


RESUME_PAGE = 200
REF_MAX_CHARS = 64
# Typing events are ephemeral: past this rate per connection they are dropped, not refused.
TYPING_MIN_INTERVAL = 0.3


class Subscriber(Protocol):
    """What a transport offers a session: membership of channel-layer groups."""

    async def join(self, group: str) -> None: ...

    async def leave(self, group: str) -> None: ...


class NoSubscriptions:
    """For request/response transports (long-poll POST) that hold no live subscription."""

    async def join(self, group: str) -> None:
        return None

    async def leave(self, group: str) -> None:
        return None


def _ref(frame: dict[str, Any]) -> Any:
    """What an answer to ``frame`` refers to: its client_id, else its type, if they look sane
    (a hostile frame's fields are never echoed back at any size)."""
    data = frame.get("data")
    client_id = data.get("client_id") if isinstance(data, dict) else None
    for ref in (client_id, frame.get("type")):
        if isinstance(ref, str) and 0 < len(ref) <= REF_MAX_CHARS:
            return ref
    return None


def _conversation_ref(frame: dict[str, Any]) -> int | None:
    conversation_id = frame.get("conversation")
    if isinstance(conversation_id, int) and not isinstance(conversation_id, bool):
        return conversation_id
    return None


class ClientSession:
    """Checks each frame against its type's schema, dispatches it to ``on_<type>`` and turns
    service errors into error frames."""

    frame_schemas: dict[str, type[schemas.Frame]] = {}
    # The language of the error frames' and the events' texts this connection causes: its
    # person's (a socket has no request whose Accept-Language could choose one).
    language = ""

    def __init__(self, subscriber: Subscriber):
        self.subscriber = subscriber
        self.joined: set[str] = set()
        self._last_typing = 0.0

    async def handle(self, frame: dict[str, Any]) -> list[Frame]:
        if not self.language:
            return await self._handle(frame)
        with translation.override(self.language):
            return await self._handle(frame)

    async def _handle(self, frame: dict[str, Any]) -> list[Frame]:
        ref, conversation_id = _ref(frame), _conversation_ref(frame)
        try:
            checked = schemas.validate(frame, self.frame_schemas)
            handler = getattr(self, "on_" + checked.type.replace(".", "_"))
            return await handler(checked)
        except ServiceError as error:
            return [error_frame(error, ref=ref, conversation_id=conversation_id)]
        except Exception as exc:
            error = unavailable(exc)
            if error is None:
                logger.exception("Unexpected failure handling a %s frame", ref)
                error = ServerError()
            return [error_frame(error, ref=ref, conversation_id=conversation_id)]

    async def join(self, group: str) -> None:
        if group not in self.joined:
            await self.subscriber.join(group)
            self.joined.add(group)

    async def leave(self, group: str) -> None:
        if group in self.joined:
            self.joined.discard(group)
            await self.subscriber.leave(group)

    async def leave_all(self) -> None:
        for group in list(self.joined):
            await self.leave(group)

    async def on_ping(self, frame: schemas.Frame) -> list[Frame]:
        return [envelope("pong", conversation_id=None, data={})]

    async def _publish_typing(self, conversation_id: int, data: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self._last_typing < TYPING_MIN_INTERVAL and data["typing"]:
            return
        self._last_typing = now
        await send_now(
            conversation_group(self.tenant_id, conversation_id),
            envelope("typing", conversation_id=conversation_id, data=data),
            # Typing is news for the others only.
            exclude=getattr(self.subscriber, "channel_name", None),
        )

    @property
    def tenant_id(self) -> int:
        raise NotImplementedError


def replay_frames(messages: list[Message], conversation_id: int) -> list[Frame]:
    return [
        envelope(
            "message.created",
            conversation_id=conversation_id,
            seq=message.seq,
            data=message_payload(message),
        )
        for message in messages
    ]


def _ack(conversation_id: int, message: Message) -> Frame:
    return envelope(
        "ack",
        conversation_id=conversation_id,
        seq=message.seq,
        data={
            "client_id": message.client_id,
            "id": message.pk,
            "message": message_payload(message),
        },
    )


class CustomerSession(ClientSession):
    """A widget visitor: may only see and write in their own conversations of one inbox."""

    frame_schemas = schemas.CUSTOMER_FRAMES

    def __init__(
        self,
        visitor: Visitor,
        *,
        client_ip: str,
        subscriber: Subscriber,
        live: bool = True,
    ):
        super().__init__(subscriber)
        self.visitor = visitor
        self.language = visitor.contact.language
        self.client_ip = client_ip
        # A connection that stays (WebSocket, Socket.IO) follows its conversation: its comings
        # and goings are announced, and entering a conversation replays what it missed. A
        # request/response transport (long-poll) is neither present nor following anything:
        # its next GET fetches by seq.
        self.live = live
        self.conversation_id: int | None = None
        self._own: set[int] = set()

    @property
    def tenant_id(self) -> int:
        return self.visitor.tenant.pk

    async def welcome(self, conversation: Conversation | None) -> list[Frame]:
        """Subscribe to the visitor's latest ``conversation`` (if any) and say hello."""
        if conversation is not None:
            await self._enter(conversation.pk)
        return [
            envelope(
                "welcome",
                conversation_id=conversation.pk if conversation else None,
                seq=conversation.last_seq if conversation else 0,
                data={
                    "visitor": str(self.visitor.contact.visitor_id),
                    "token": visitor_token_renew(self.visitor),
                    "conversation": conversation_payload(conversation) if conversation else None,
                },
            )
        ]

    async def _enter(self, conversation_id: int) -> bool:
        """Follow ``conversation_id`` live; True if the connection was not following it yet."""
        self._own.add(conversation_id)
        if self.conversation_id == conversation_id:
            return False
        if self.conversation_id is not None:
            await self._presence(self.conversation_id, online=False)
            await self.leave(conversation_group(self.tenant_id, self.conversation_id))
        self.conversation_id = conversation_id
        await self.join(conversation_group(self.tenant_id, conversation_id))
        await self._presence(conversation_id, online=True)
        return True

    async def close(self) -> None:
        if self.conversation_id is not None:
            try:
                await self._presence(self.conversation_id, online=False)
            except Exception as error:
                # Best effort: a count left behind fades (PRESENCE_TTL). Seen when a whole
                # node's sockets closed at once and Redis' pool ran dry for 10 s.
                logger.warning(
                    "Presence of conversation %s not updated: %s", self.conversation_id, error
                )
        await self.leave_all()

    async def _presence(self, conversation_id: int, *, online: bool) -> None:
        if not self.live:
            return
        if await apresence_change(
            contact_presence_key(self.tenant_id, conversation_id), online=online
        ):
            event = envelope(
                "presence",
                conversation_id=conversation_id,
                data={"who": "contact", "online": online, "name": str(self.visitor.contact)},
            )
            # Only to the agents who have this conversation open (they joined its group): the
            # whole agents group would get every customer's comings and goings, 10,000 events
            # for two agents as 5,000 customers connect, crowding out the messages behind them.
            await send_now(
                conversation_group(self.tenant_id, conversation_id),
                event,
                exclude=getattr(self.subscriber, "channel_name", None),  # news for the others
            )

    async def _own_conversation(self, frame: schemas.ConversationFrame) -> int:
        conversation_id = frame.conversation
        if conversation_id not in self._own:
            await db_call(customer_conversation_check)(
                tenant=self.visitor.tenant,
                inbox=self.visitor.inbox,
                contact=self.visitor.contact,
                conversation_id=conversation_id,
            )
            self._own.add(conversation_id)
        return conversation_id

    async def on_message_send(self, frame: schemas.CustomerMessageSend) -> list[Frame]:
        requested = frame.conversation
        result = await acustomer_message_send(
            tenant=self.visitor.tenant,
            inbox=self.visitor.inbox,
            contact=self.visitor.contact,
            conversation_id=requested,
            text=frame.data.text,
            client_id=frame.data.client_id,
            client_ip=self.client_ip,
            attachments=frame.data.attachments,
            prechat=frame.data.prechat,
        )
        conversation_id = result.message.conversation_id
        frames = [_ack(conversation_id, result.message)]
        entered = await self._enter(conversation_id)
        # A conversation new to this connection had its announcements so far sent to a group
        # it had not joined yet: replay them from the message just sent. A long-poll client
        # needs that only for a conversation it did not know yet; it fetches the rest by seq.
        new_to_client = entered if self.live else requested is None
        if new_to_client:
            frames += await _replay(
                self.visitor.tenant, conversation_id, result.message.seq - 1, include_private=False
            )
        return frames

    async def on_typing(self, frame: schemas.Typing) -> list[Frame]:
        conversation_id = await self._own_conversation(frame)
        await self._publish_typing(
            conversation_id,
            {"sender": "contact", "name": str(self.visitor.contact), "typing": frame.data.typing},
        )
        return []

    async def on_read(self, frame: schemas.Read) -> list[Frame]:
        conversation_id = await self._own_conversation(frame)
        await db_call(conversation_mark_read)(
            tenant=self.visitor.tenant,
            conversation_id=conversation_id,
            reader=Message.SenderType.CONTACT,
            seq=frame.seq,
        )
        return []

    async def on_rating_send(self, frame: schemas.RatingSend) -> list[Frame]:
        conversation_id = await self._own_conversation(frame)
        rating = await db_call(rating_submit)(
            tenant=self.visitor.tenant,
            contact=self.visitor.contact,
            conversation_id=conversation_id,
            score=frame.data.score,
            comment=frame.data.comment,
        )
        return [
            envelope(
                "action.done",
                conversation_id=conversation_id,
                data={"action": "rating", "rating": rating_payload(rating)},
            )
        ]

    async def on_follow_up_request(self, frame: schemas.FollowUpRequest) -> list[Frame]:
        if frame.conversation is not None:
            await self._own_conversation(frame)
        conversation = await db_call(follow_up_request)(
            tenant=self.visitor.tenant,
            inbox=self.visitor.inbox,
            contact=self.visitor.contact,
            conversation_id=frame.conversation,
            email=frame.data.email,
            text=frame.data.text,
            name=frame.data.name,
            client_ip=self.client_ip,
        )
        await self._enter(conversation.pk)
        return [
            envelope(
                "action.done",
                conversation_id=conversation.pk,
                data={"action": "follow_up", "conversation": conversation_payload(conversation)},
            )
        ]

    async def on_resume(self, frame: schemas.Resume) -> list[Frame]:
        conversation_id = await self._own_conversation(frame)
        await self._enter(conversation_id)
        return await _replay(self.visitor.tenant, conversation_id, frame.seq, include_private=False)


async def _replay(
    tenant, conversation_id: int, after: int, *, include_private: bool
) -> list[Frame]:
    """Every message after ``after`` in order, then ``resumed`` with the newest seq."""

    def load() -> tuple[list[Message], int]:
        messages: list[Message] = []
        cursor = after
        while True:
            page = messages_after(
                tenant=tenant,
                conversation_id=conversation_id,
                after_seq=cursor,
                include_private=include_private,
                limit=RESUME_PAGE,
            )
            messages.extend(page)
            if len(page) < RESUME_PAGE:
                break
            cursor = page[-1].seq
        last_seq = (
            Conversation.objects.filter(tenant=tenant, pk=conversation_id)
            .values_list("last_seq", flat=True)
            .get()
        )
        return messages, last_seq

    messages, last_seq = await db_call(load)()
    return [
        *replay_frames(messages, conversation_id),
        envelope("resumed", conversation_id=conversation_id, seq=last_seq, data={}),
    ]


class AgentSession(ClientSession):
    """An agent or tenant admin in the console: any conversation of their own tenant."""

    frame_schemas = schemas.AGENT_FRAMES

    def __init__(self, *, user, tenant, subscriber: Subscriber, language: str = ""):
        super().__init__(subscriber)
        self.user = user
        self.tenant = tenant
        self.language = language
        self.subscribed: set[int] = set()

    @property
    def tenant_id(self) -> int:
        return self.tenant.pk

    @property
    def display_name(self) -> str:
        return display_name(self.user)

    async def welcome(self) -> list[Frame]:
        await self.join(agents_group(self.tenant_id))
        # Revocation notices and personal notifications for this user arrive here.
        await self.join(agent_user_group(self.tenant_id, self.user.pk))
        await db_call(agent_console_opened)(tenant=self.tenant, user=self.user)
        return [
            envelope(
                "welcome",
                conversation_id=None,
                data={"agent": {"id": self.user.pk, "name": self.display_name}},
            )
        ]

    async def close(self) -> None:
        await db_call(agent_console_closed)(tenant=self.tenant, user=self.user)
        await self.leave_all()

    async def still_allowed(self) -> bool:
        try:
            await db_call(agent_membership_check)(tenant=self.tenant, user=self.user)
        except Revoked:
            return False
        return True

    async def _conversation(self, frame: schemas.ConversationFrame) -> Conversation:
        conversation_id = frame.conversation

        def load() -> Conversation:
            agent_membership_check(tenant=self.tenant, user=self.user)
            return conversation_get(tenant=self.tenant, conversation_id=conversation_id)

        return await db_call(load)()

    async def on_subscribe(self, frame: schemas.Subscribe) -> list[Frame]:
        conversation = await self._conversation(frame)
        await self.join(conversation_group(self.tenant_id, conversation.pk))
        await self.join(conversation_staff_group(self.tenant_id, conversation.pk))
        self.subscribed.add(conversation.pk)
        return [
            envelope(
                "subscribed",
                conversation_id=conversation.pk,
                seq=conversation.last_seq,
                data=conversation_payload(conversation),
            )
        ]

    async def on_unsubscribe(self, frame: schemas.Unsubscribe) -> list[Frame]:
        conversation_id = frame.conversation
        self.subscribed.discard(conversation_id)
        await self.leave(conversation_group(self.tenant_id, conversation_id))
        await self.leave(conversation_staff_group(self.tenant_id, conversation_id))
        return [envelope("unsubscribed", conversation_id=conversation_id, data={})]

    async def on_message_send(self, frame: schemas.AgentMessageSend) -> list[Frame]:
        result = await db_call(agent_message_send)(
            tenant=self.tenant,
            user=self.user,
            conversation_id=frame.conversation,
            text=frame.data.text,
            client_id=frame.data.client_id,
            kind=frame.data.kind,
            attachments=frame.data.attachments,
        )
        return [_ack(result.message.conversation_id, result.message)]

    async def on_typing(self, frame: schemas.Typing) -> list[Frame]:
        conversation_id = frame.conversation
        if conversation_id not in self.subscribed:
            conversation_id = (await self._conversation(frame)).pk
        await self._publish_typing(
            conversation_id,
            {"sender": "agent", "name": self.display_name, "typing": frame.data.typing},
        )
        return []

    async def on_read(self, frame: schemas.Read) -> list[Frame]:
        conversation = await self._conversation(frame)
        await db_call(conversation_mark_read)(
            tenant=self.tenant,
            conversation_id=conversation.pk,
            reader=Message.SenderType.AGENT,
            seq=frame.seq,
        )
        return []

    async def on_resume(self, frame: schemas.Resume) -> list[Frame]:
        conversation = await self._conversation(frame)
        return await _replay(self.tenant, conversation.pk, frame.seq, include_private=True)

    async def _act(
        self, action: str, transition, frame: schemas.ConversationFrame, **extra
    ) -> list[Frame]:
        conversation_id = frame.conversation

        def act() -> dict:
            conversation = transition(
                tenant=self.tenant, conversation_id=conversation_id, agent=self.user, **extra
            )
            return conversation_payload(conversation)

        payload = await db_call(act)()
        return [
            envelope(
                "action.done",
                conversation_id=conversation_id,
                data={"action": action, "conversation": payload},
            )
        ]

    async def on_conversation_takeover(self, frame: schemas.Takeover) -> list[Frame]:
        return await self._act("takeover", lifecycle.conversation_takeover, frame)

    async def on_conversation_accept(self, frame: schemas.Accept) -> list[Frame]:
        return await self._act("accept", lifecycle.conversation_accept, frame)

    async def on_conversation_handback(self, frame: schemas.Handback) -> list[Frame]:
        return await self._act("handback", lifecycle.conversation_handback, frame)

    async def on_conversation_transfer(self, frame: schemas.Transfer) -> list[Frame]:
        return await self._act(
            "transfer",
            lifecycle.conversation_transfer,
            frame,
            to_user_id=frame.data.to,
            note=frame.data.note,
        )

    async def on_conversation_resolve(self, frame: schemas.Resolve) -> list[Frame]:
        return await self._act("resolve", lifecycle.conversation_resolve, frame)

    async def on_conversation_reopen(self, frame: schemas.Reopen) -> list[Frame]:
        return await self._act("reopen", lifecycle.conversation_reopen, frame)

    async def on_availability_set(self, frame: schemas.AvailabilitySet) -> list[Frame]:
        availability = frame.data.availability
        await db_call(membership_set_availability)(
            tenant=self.tenant, user=self.user, availability=availability
        )
        return [
            envelope(
                "action.done",
                conversation_id=None,
                data={"action": "availability", "availability": availability},
            )
        ]
