"""Every client frame's shape, as one typed schema per frame type: the single source of what a
client may send (docs/protocol.md's frame tables are generated from here).

A frame is checked against its type's schema before any of its fields is used, on all three
transports (they all go through ``validate``). Types are strict: ``"5"`` is not a number and
``true`` is not 1. Fields a schema does not name are ignored, so clients may add their own.
Rules about values (text length, which transitions are allowed, who may see what) stay in the
services; a schema only guarantees each field has the type the service expects.
"""

from typing import Annotated, Any, Literal

from django.utils.translation import gettext_lazy as _
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from helpdesk.core.errors import InvalidCharacters, InvalidInput, ServiceError, UnknownType
from helpdesk.core.validation import MAX_ID, storable_problem


def _storable(value: str) -> str:
    problem = storable_problem(value)
    if problem:
        raise PydanticCustomError("invalid_characters", problem)
    return value


Text = Annotated[StrictStr, AfterValidator(_storable)]
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Seq = Annotated[StrictInt, Field(ge=0, le=MAX_ID)]


class Schema(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class Frame(Schema):
    """A frame with no fields beyond its type."""

    type: str


class ConversationFrame(Frame):
    conversation: Id = Field(description="the conversation id")


class SeqFrame(ConversationFrame):
    seq: Seq = Field(0, description="a message seq of this conversation; 0 for none")


class HelloData(Schema):
    inbox: Text | None = Field(None, max_length=100, description="the inbox's public key")
    token: Text | None = Field(None, max_length=2000, description="the visitor token, if any")


class Hello(Frame):
    type: Literal["hello"]
    data: HelloData


class Ping(Frame):
    type: Literal["ping"]


class TypingData(Schema):
    typing: StrictBool = Field(True, description="false when the sender stopped typing")


class Typing(ConversationFrame):
    type: Literal["typing"]
    data: TypingData = TypingData()


class Read(SeqFrame):
    type: Literal["read"]


class Resume(SeqFrame):
    type: Literal["resume"]


class MessageData(Schema):
    text: Text = Field(
        "", description="the message; MESSAGE_MAX_CHARS at most once trimmed; empty with files"
    )
    client_id: Text | None = Field(
        None, description="1-64 of A-Za-z0-9._:-, unique per message: a resend is acked again"
    )
    attachments: list[Id] = Field(
        [], max_length=10, description="ids of files uploaded first (docs/protocol.md)"
    )


class CustomerMessageData(MessageData):
    prechat: dict[str, Annotated[Text, Field(max_length=500)]] | None = Field(
        None,
        max_length=20,
        description="the pre-chat form's answers by field key, with a new conversation's first "
        "message",
    )


class CustomerMessageSend(Frame):
    type: Literal["message.send"]
    conversation: Id | None = Field(None, description="null starts a new conversation")
    data: CustomerMessageData


class RatingData(Schema):
    score: Annotated[StrictInt, Field(ge=1, le=5)] = Field(description="1-5; thumbs: 1 down, 5 up")
    comment: Text = Field("", max_length=1000, description="optional")


class RatingSend(ConversationFrame):
    type: Literal["rating.send"]
    data: RatingData


class FollowUpData(Schema):
    email: Text = Field(max_length=254, description="where an agent answers")
    text: Text = Field("", description="the question; needed when conversation is null")
    name: Text = Field("", max_length=200, description="optional")


class FollowUpRequest(Frame):
    type: Literal["follow_up.request"]
    conversation: Id | None = Field(
        None, description="the conversation to follow up; null leaves a new one (offline form)"
    )
    data: FollowUpData


class AgentMessageData(MessageData):
    kind: Text = Field("text", description="text, or note for a private note")


class AgentMessageSend(ConversationFrame):
    type: Literal["message.send"]
    data: AgentMessageData


class Subscribe(ConversationFrame):
    type: Literal["subscribe"]


class Unsubscribe(ConversationFrame):
    type: Literal["unsubscribe"]


class Takeover(ConversationFrame):
    type: Literal["conversation.takeover"]


class Accept(ConversationFrame):
    type: Literal["conversation.accept"]


class Handback(ConversationFrame):
    type: Literal["conversation.handback"]


class TransferData(Schema):
    to: Id = Field(description="the user id of the agent who takes over")
    note: Text = Field("", description="kept as a private note")


class Transfer(ConversationFrame):
    type: Literal["conversation.transfer"]
    data: TransferData


class Resolve(ConversationFrame):
    type: Literal["conversation.resolve"]


class Reopen(ConversationFrame):
    type: Literal["conversation.reopen"]


class AvailabilityData(Schema):
    availability: Text = Field(description="online, busy or offline")


class AvailabilitySet(Frame):
    type: Literal["availability.set"]
    data: AvailabilityData


def _by_type(*schemas: type[Frame]) -> dict[str, type[Frame]]:
    return {schema.model_fields["type"].annotation.__args__[0]: schema for schema in schemas}


HELLO_FRAMES = _by_type(Hello)
CUSTOMER_FRAMES = _by_type(
    CustomerMessageSend, Typing, Read, Resume, Ping, RatingSend, FollowUpRequest
)
AGENT_FRAMES = _by_type(
    Subscribe,
    Unsubscribe,
    AgentMessageSend,
    Typing,
    Read,
    Resume,
    Ping,
    Takeover,
    Accept,
    Handback,
    Transfer,
    Resolve,
    Reopen,
    AvailabilitySet,
)

# What a client reads when a field is wrong, by pydantic's error type.
_PROBLEMS = {
    "missing": _("%(field)s is required."),
    "string_type": _("%(field)s must be a string."),
    "int_type": _("%(field)s must be an integer."),
    "greater_than_equal": _("%(field)s is out of range."),
    "less_than_equal": _("%(field)s is out of range."),
    "bool_type": _("%(field)s must be true or false."),
    "model_type": _("%(field)s must be an object."),
    "model_attributes_type": _("%(field)s must be an object."),
    "string_too_long": _("%(field)s is too long."),
    "too_long": _("%(field)s has too many items."),
    "list_type": _("%(field)s must be a list."),
    "dict_type": _("%(field)s must be an object."),
}
_INVALID = _("%(field)s is not valid.")


def validate(frame: dict[str, Any], schemas: dict[str, type[Frame]]) -> Frame:
    """``frame`` as its type's schema, or the ServiceError that answers it."""
    frame_type = frame.get("type")
    if not isinstance(frame_type, str) or frame_type not in schemas:
        raise UnknownType()
    try:
        return schemas[frame_type].model_validate(frame)
    except ValidationError as error:
        raise _service_error(error) from None


def _service_error(error: ValidationError) -> ServiceError:
    first = error.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "frame"
    if first["type"] == "invalid_characters":
        return InvalidCharacters(field=field)
    template = _PROBLEMS.get(first["type"], _INVALID)
    return InvalidInput(str(template) % {"field": field}, field=field)
