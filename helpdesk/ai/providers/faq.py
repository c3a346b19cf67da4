"""The FAQ provider: answers from the tenant's knowledge with no API at all.

It searches nothing itself. The reply pipeline grounds every reply in the tenant's knowledge
(helpdesk/ai/grounding.py, the same retrieval a model's prompt is built from) and hands the
grounding over in the request; this provider answers with its best relevant passage — the whole
answer of the article the passage belongs to, or the passage itself for a file or a web page —
which the pipeline then cites like any reply. When nothing relevant was found, or no knowledge
was looked up, it asks for a human.
"""

import asyncio
import re
from collections.abc import AsyncIterator, Iterator

from helpdesk.ai.grounding import best_relevant
from helpdesk.ai.knowledge.lexical import CJK_RANGES
from helpdesk.ai.knowledge.models import KnowledgeSource
from helpdesk.ai.knowledge.retrieval import Hit
from helpdesk.ai.providers.base import (
    Capabilities,
    HandoffRequested,
    ReplyRequest,
    StreamEvent,
    TextDelta,
    Usage,
)
from helpdesk.ai.tokens import count_tokens
from helpdesk.conversations.handoff_reasons import NO_KNOWLEDGE
from helpdesk.core.asyncdb import db_call

# A short pause between chunks, so the widget shows the answer being typed rather than all at
# once (the relay coalesces deltas every ~50 ms). A 300-character answer takes about half a second.
CHUNK_DELAY_SECONDS = 0.02
CHUNK_WIDTH = 12  # roughly three English words or four Chinese characters per delta

_PIECE = re.compile(rf"[{CJK_RANGES}]\s*|[^\s{CJK_RANGES}]+\s*|\s+")
_CJK_CHAR = re.compile(rf"[{CJK_RANGES}]")


def question_of(request: ReplyRequest) -> str:
    """The trailing run of user messages: what the customer has asked since the last answer."""
    parts: list[str] = []
    for message in reversed(request.messages):
        if message.role != "user":
            break
        parts.append(message.content)
    return "\n".join(reversed(parts)).strip()


def chunk_text(text: str, width: int = CHUNK_WIDTH) -> Iterator[str]:
    """Split text into small pieces at word (or CJK character) boundaries; joined, they are
    ``text`` again."""
    chunk: list[str] = []
    size = 0
    for match in _PIECE.finditer(text):
        piece = match.group()
        chunk.append(piece)
        # A CJK character is about as wide, and as much reading, as a short English word.
        size += sum(3 if _CJK_CHAR.match(ch) else 1 for ch in piece.rstrip())
        if size >= width:
            yield "".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk)


class FAQProvider:
    """Answers with the best relevant knowledge passage, or asks for a human."""

    name = "faq"
    model = "faq"  # no API is called: its usage is counted, and recorded as the FAQ's
    capabilities = Capabilities(tools=False, usage_in_stream=False)

    def __init__(self, *, tenant_id: int, chunk_delay: float = CHUNK_DELAY_SECONDS):
        self.tenant_id = tenant_id
        self.chunk_delay = chunk_delay

    def answer_for(self, hit: Hit) -> str:
        """What the FAQ says for ``hit`` (sync ORM): its article's whole answer, or the passage;
        "" when its source went away since it was found."""
        source = (
            KnowledgeSource.objects.filter(
                tenant_id=self.tenant_id, pk=hit.source_id, state=KnowledgeSource.State.READY
            )
            .select_related("article")
            .first()
        )
        if source is None:
            return ""
        if source.kind == KnowledgeSource.Kind.ARTICLE:
            # A passage is a piece of the answer; the customer gets all of it.
            return source.article.answer if source.article.is_active else ""
        return hit.text

    async def stream(self, request: ReplyRequest) -> AsyncIterator[StreamEvent]:
        hit = best_relevant(request.knowledge) if request.knowledge is not None else None
        answer = await db_call(self.answer_for)(hit) if hit is not None else ""
        if not answer.strip():
            yield HandoffRequested(reason=NO_KNOWLEDGE)
            return
        if not request.stream:
            yield TextDelta(answer)
        else:
            for i, chunk in enumerate(chunk_text(answer)):
                if i and self.chunk_delay > 0:
                    await asyncio.sleep(self.chunk_delay)
                yield TextDelta(chunk)
        yield Usage(
            prompt_tokens=count_tokens(question_of(request)),
            completion_tokens=count_tokens(answer),
            counted=True,
        )
