"""Client frames: decoding, error answers, and which errors end a connection."""

from typing import Any

from django.conf import settings

from helpdesk.core import fastjson
from helpdesk.core.errors import (
    AuthenticationFailed,
    FrameTooLarge,
    InvalidJSON,
    OriginNotAllowed,
    RetryLater,
    Revoked,
    ServiceError,
    ServiceUnavailable,
    TokenExpired,
    TokenInvalid,
)
from helpdesk.realtime.events import envelope

Frame = dict[str, Any]

# Errors after which the connection must authenticate again, and the WebSocket close codes.
CLOSE_CODES = {
    AuthenticationFailed.code: 4401,
    TokenInvalid.code: 4401,
    TokenExpired.code: 4401,
    OriginNotAllowed.code: 4403,
    Revoked.code: 4403,
    # "Try again later" (1013 in the WebSocket standard, which daphne's autobahn may not send):
    # the widget reconnects with backoff and resumes what it missed.
    ServiceUnavailable.code: 4503,
}


def parse_frame(raw: str | bytes | None) -> Frame:
    """Decode one client frame, refusing oversized and non-object input."""
    if raw is None:
        raise InvalidJSON()
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > settings.WS_MAX_FRAME_BYTES:
        raise FrameTooLarge(limit=settings.WS_MAX_FRAME_BYTES)
    try:
        frame = fastjson.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidJSON() from None
    if not isinstance(frame, dict):
        raise InvalidJSON()
    return frame


def error_frame(
    error: ServiceError, *, ref: Any = None, conversation_id: int | None = None
) -> Frame:
    data: dict[str, Any] = {"code": error.code, "message": error.message}
    if ref is not None:
        data["ref"] = ref
    for detail in ("field", "limit"):
        if detail in error.details:
            data[detail] = error.details[detail]
    if isinstance(error, RetryLater):
        data["retry_after"] = error.retry_after
    return envelope("error", conversation_id=conversation_id, data=data)


def resync_frame(reason: str) -> Frame:
    """Tells a client that events meant for it were lost, so it resumes from its last seq."""
    return envelope("resync", conversation_id=None, data={"reason": reason})


def close_code(frames: list[Frame]) -> int | None:
    """The WebSocket close code if one of ``frames`` is an error that ends the connection."""
    for frame in frames:
        if frame["type"] == "error" and frame["data"]["code"] in CLOSE_CODES:
            return CLOSE_CODES[frame["data"]["code"]]
    return None
