"""Service-layer errors. Each carries a stable ``code`` that every transport maps to its answer.

Transports never invent codes of their own: they translate these. ``docs/protocol.md`` lists the
codes; changing one is a breaking change for clients.
"""


class ServiceError(Exception):
    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, **details):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class InvalidInput(ServiceError):
    code = "invalid"
    default_message = "The input is not valid."


class TextEmpty(InvalidInput):
    code = "text_empty"
    default_message = "The message text is empty."


class TextTooLong(InvalidInput):
    code = "text_too_long"
    default_message = "The message text is too long."


class NotFound(ServiceError):
    """Also raised for another tenant's objects: the two must be indistinguishable."""

    code = "not_found"
    default_message = "Not found."


class ConversationClosed(ServiceError):
    code = "conversation_closed"
    default_message = "The conversation is resolved; no new messages can be posted."


class PermissionDenied(ServiceError):
    code = "forbidden"
    default_message = "You are not allowed to do this."
