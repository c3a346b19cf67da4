"""HTTP long-polling: the WebSocket protocol over plain requests, for networks that block
WebSocket. POST sends one client frame; GET waits for the conversation's events after a seq."""

import asyncio
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_lazy

from helpdesk.conversations.models import Conversation
from helpdesk.conversations.selectors import customer_conversation_check, messages_after
from helpdesk.core import prometheus
from helpdesk.core.aio import cancel_and_wait
from helpdesk.core.asyncdb import db_call
from helpdesk.core.errors import InvalidInput, ServiceError
from helpdesk.core.validation import clean_id
from helpdesk.realtime.events import conversation_group
from helpdesk.realtime.frames import parse_frame
from helpdesk.realtime.layers import GAP_TYPE
from helpdesk.realtime.sessions import CustomerSession, NoSubscriptions, replay_frames
from helpdesk.widget.fast_path import avisitor_arrive
from helpdesk.widget.http import (
    cross_origin,
    error_response,
    frames_response,
    request_ip,
    request_origin,
)
from helpdesk.widget.services import Visitor

# After the first event arrives, wait this long for the ones right behind it (a burst of
# deltas), so one answer carries them all instead of one round trip each.
GATHER_SECONDS = 0.05
POLL_PAGE = 200


async def _authenticate(request: HttpRequest) -> tuple[Visitor, Conversation | None]:
    """The visitor a request speaks for, and the conversation they would pick up."""
    authorization = request.headers.get("Authorization", "")
    token = authorization[7:] if authorization.startswith("Bearer ") else None
    return await avisitor_arrive(
        inbox_key=request.headers.get("X-Inbox-Key"),
        token=token,
        origin=request_origin(request),
    )


@cross_origin("POST")
async def poll_send(request: HttpRequest) -> HttpResponse:
    try:
        visitor, conversation = await _authenticate(request)
        frame = parse_frame(request.body)
    except ServiceError as error:
        return error_response(error)
    session = CustomerSession(
        visitor, client_ip=request_ip(request), subscriber=NoSubscriptions(), live=False
    )
    if frame.get("type") == "hello":
        frames = await session.welcome(conversation)
    else:
        frames = await session.handle(frame)
    response = frames_response(frames)
    response.origin_checked = True
    return response


@cross_origin("GET")
async def poll_wait(request: HttpRequest) -> HttpResponse:
    try:
        visitor, _ = await _authenticate(request)
        conversation_id = clean_id(
            request.GET.get("conversation", ""), not_found=gettext_lazy("Conversation not found.")
        )
        after = _seq_param(request.GET.get("seq", "0"))
        await db_call(customer_conversation_check)(
            tenant=visitor.tenant,
            inbox=visitor.inbox,
            contact=visitor.contact,
            conversation_id=conversation_id,
        )
    except ServiceError as error:
        return error_response(error)
    with prometheus.OPEN_CONNECTIONS.labels("longpoll", "customer").track_inprogress():
        frames = await _wait_for_events(visitor, conversation_id, after)
    response = frames_response(frames)
    response.origin_checked = True
    return response


def _seq_param(value: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput(gettext("seq must be a non-negative integer."), field="seq")
    return int(value)


async def _wait_for_events(visitor: Visitor, conversation_id: int, after: int) -> list[Any]:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = conversation_group(visitor.tenant.pk, conversation_id)
    # Subscribe before looking in the database: a message committed in between is then either
    # in the query's result or in the channel, never in neither.
    await layer.group_add(group, channel)
    try:
        missed = await db_call(messages_after)(
            tenant=visitor.tenant,
            conversation_id=conversation_id,
            after_seq=after,
            limit=POLL_PAGE,
        )
        if missed:
            return replay_frames(missed, conversation_id)
        return await _receive_burst(layer, channel, settings.LONGPOLL_TIMEOUT)
    finally:
        await layer.group_discard(group, channel)


async def _receive_burst(layer, channel: str, timeout: float) -> list[Any]:
    events: list[Any] = []
    wait = timeout
    while True:
        # Not asyncio.wait_for(): on Python < 3.12 it waits out a receive that ignored its
        # cancellation (see cancel_and_wait), holding the request far past its timeout.
        receiving = asyncio.ensure_future(layer.receive(channel))
        try:
            await asyncio.wait({receiving}, timeout=wait)
        finally:
            await cancel_and_wait(receiving)
        if receiving.cancelled():
            return events
        message = receiving.result()
        if message["type"] == GAP_TYPE:
            # Events were lost: answer now; the next GET fetches what it lacks by seq.
            return events
        # A message that arrived as the wait ended is kept, not dropped.
        events.append(message["event"])
        wait = GATHER_SECONDS
