"""The provider interface: stream a reply for a context, and say what the endpoint supports.

Kept small on purpose (the seed's ``AIHandler.HandleMessage``): a provider turns a list of chat
messages into a stream of events. Everything around it — context, batching, relaying, filters,
the breaker, handoff — is the pipeline's job, the same for every provider.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    # Only named in an annotation: the interface stays importable without the ORM.
    from helpdesk.ai.grounding import Grounding


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class ReplyRequest:
    messages: list[ChatMessage]
    max_tokens: int
    temperature: float
    stream: bool = True
    # Offer the model a handoff_to_human tool (only where the endpoint supports tools).
    offer_handoff_tool: bool = True
    # The knowledge passages the reply is grounded in. A model reads them in ``messages``
    # already; a provider without a model (the FAQ's) answers from them directly. None: no
    # knowledge was looked up (the bot reads none, or the search failed).
    knowledge: "Grounding | None" = None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    counted: bool = False  # True: counted with tiktoken here, not reported by an API


@dataclass(frozen=True)
class HandoffRequested:
    """The provider decided a human should answer (a tool call, or nothing in the knowledge)."""

    reason: str


StreamEvent = TextDelta | Usage | HandoffRequested


@dataclass(frozen=True)
class Capabilities:
    tools: bool = False
    usage_in_stream: bool = False
    extra: dict = field(default_factory=dict)


class ProviderError(Exception):
    """A failure the pipeline answers with retries, the breaker and the fallback message."""


class EndpointRefused(ProviderError):
    """The endpoint resolved to an address this server may not connect to; nothing was sent.

    The message starts with the stable ``code``: it ends up in the log and in the handoff
    reason agents see.
    """

    code = "endpoint_refused"

    def __init__(self, detail: str):
        super().__init__(f"{self.code}: {detail}")


class Provider(Protocol):
    name: str
    model: str  # what token usage is recorded against

    @property
    def capabilities(self) -> Capabilities: ...

    def stream(self, request: ReplyRequest) -> AsyncIterator[StreamEvent]:
        """Yield TextDelta as text arrives, Usage when known, HandoffRequested to hand off.

        Raises ProviderError on failure — also when the stream breaks off midway.
        """
        ...
