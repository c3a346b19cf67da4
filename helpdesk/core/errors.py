"""Service-layer errors. Each carries a stable ``code`` that every transport maps to its answer,
and the HTTP status the HTTP transports answer it with.

Transports never invent codes of their own: they translate these. ``docs/protocol.md`` lists the
codes; changing one is a breaking change for clients. The messages are for people: each is
translated into the language active when it is raised.
"""

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    code = "error"
    http_status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message: str | None = None, **details):
        # str(): in the language of the request that raised it, and JSON-ready for frames.
        message = str(message or self.default_message)
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(ServiceError):
    code = "invalid"
    default_message = _("The input is not valid.")


class TextEmpty(InvalidInput):
    code = "text_empty"
    default_message = _("The message text is empty.")


class TextTooLong(InvalidInput):
    code = "text_too_long"
    default_message = _("The message text is too long.")


class InvalidCharacters(InvalidInput):
    """NUL and lone surrogates: PostgreSQL can neither store nor compare them."""

    code = "invalid_characters"
    default_message = _("The input contains characters that cannot be stored (such as NUL).")


class NotFound(ServiceError):
    """Also raised for another tenant's objects: the two must be indistinguishable."""

    code = "not_found"
    http_status = 404
    default_message = _("Not found.")


class ConversationClosed(ServiceError):
    code = "conversation_closed"
    http_status = 409
    default_message = _("The conversation is resolved; no new messages can be posted.")


class ConversationNotResolved(ServiceError):
    code = "conversation_not_resolved"
    http_status = 409
    default_message = _("The conversation can be rated once it is resolved.")


class RatingsDisabled(ServiceError):
    code = "ratings_disabled"
    http_status = 403
    default_message = _("This inbox does not ask for ratings.")


class AlreadyRated(ServiceError):
    code = "already_rated"
    http_status = 409
    default_message = _("This conversation has already been rated.")


class PrechatRequired(InvalidInput):
    """A required pre-chat field was left empty (``field`` names it)."""

    code = "prechat_required"
    default_message = _("Please fill in this field.")


class PrechatInvalid(InvalidInput):
    """A pre-chat answer is not valid for its field, or names no field (``field``)."""

    code = "prechat_invalid"
    default_message = _("This answer is not valid.")


class IdentityInvalid(ServiceError):
    """A widget identity (HelpdeskWidget.identify) that is unsigned, wrongly signed or
    malformed: refused, never merged into a contact."""

    code = "identity_invalid"
    http_status = 403
    default_message = _("The identity could not be verified.")


class EmailRequired(InvalidInput):
    """A follow-up request without an e-mail address (``field`` = email)."""

    code = "email_required"
    default_message = _("Please enter your e-mail address.")


class EmailInvalid(InvalidInput):
    """A follow-up request whose e-mail address is not valid (``field`` = email)."""

    code = "email_invalid"
    default_message = _("Please enter a valid e-mail address.")


class PermissionDenied(ServiceError):
    code = "forbidden"
    http_status = 403
    default_message = _("You are not allowed to do this.")


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"
    default_message = _("The page's security token is missing or out of date; reload the page.")


class RetryLater(ServiceError):
    """Refused for now: the client may try again after ``retry_after`` seconds."""

    def __init__(self, message: str | None = None, *, retry_after: int, **details):
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    code = "rate_limited"
    http_status = 429
    default_message = _("Too many requests; slow down.")


class ServiceUnavailable(RetryLater):
    """A service the request needs (the database, Redis, the broker) does not answer."""

    code = "unavailable"
    http_status = 503
    default_message = _("The service is briefly unavailable; try again shortly.")


class AuthenticationFailed(ServiceError):
    """Base of the errors that end a connection: the client must authenticate again."""

    code = "unauthenticated"
    http_status = 401
    default_message = _("Authenticate first.")


class TokenInvalid(AuthenticationFailed):
    code = "token_invalid"
    default_message = _("The visitor token is not valid.")


class TokenExpired(AuthenticationFailed):
    code = "token_expired"
    default_message = _("The visitor token has expired.")


class OriginNotAllowed(ServiceError):
    code = "origin_not_allowed"
    http_status = 403
    default_message = _("This page is not allowed to use this inbox.")


class Revoked(ServiceError):
    code = "revoked"
    http_status = 403
    default_message = _("Your access has been removed.")


class InvalidJSON(ServiceError):
    code = "invalid_json"
    default_message = _("The frame is not a JSON object.")


class UnknownType(ServiceError):
    code = "unknown_type"
    default_message = _("Unknown frame type.")


class FrameTooLarge(ServiceError):
    code = "frame_too_large"
    http_status = 413
    default_message = _("The frame is too large.")


class AttachmentsDisabled(ServiceError):
    code = "attachments_disabled"
    http_status = 403
    default_message = _("Files cannot be sent in this chat.")


class AttachmentTooLarge(ServiceError):
    code = "attachment_too_large"
    http_status = 413
    default_message = _("The file is too large.")


class AttachmentTypeNotAllowed(ServiceError):
    code = "attachment_type_not_allowed"
    http_status = 415
    default_message = _("This type of file cannot be sent here.")


class AttachmentInvalid(InvalidInput):
    """An empty file, or an image that cannot be decoded (corrupt, or too many pixels)."""

    code = "attachment_invalid"
    default_message = _("The file cannot be read.")


class AttachmentRefused(ServiceError):
    """A plugin refused the file (its reason is the message)."""

    code = "attachment_refused"
    http_status = 422
    default_message = _("The file was refused.")


class AttachmentNotFound(ServiceError):
    """On send: an attachment id that is unknown, another sender's, or already sent."""

    code = "attachment_not_found"
    http_status = 404
    default_message = _("An attached file was not found; upload it again.")


class TooManyAttachments(InvalidInput):
    code = "too_many_attachments"
    default_message = _("Too many files in one message.")


class LinkExpired(ServiceError):
    code = "link_expired"
    http_status = 403
    default_message = _("This link has expired; reload the conversation to get a new one.")


class ServerError(ServiceError):
    code = "server_error"
    http_status = 500
    default_message = _("Something went wrong on our side; nothing was stored.")


def http_status_for_code(code: str) -> int:
    """The HTTP status of the error with ``code``, for answers built from error frames."""
    for error_class in _subclasses(ServiceError):
        if error_class.code == code:
            return error_class.http_status
    return ServiceError.http_status


def error_codes() -> set[str]:
    """Every stable code a client can be answered with."""
    return {error_class.code for error_class in _subclasses(ServiceError)}


def _subclasses(cls: type[ServiceError]) -> list[type[ServiceError]]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]
