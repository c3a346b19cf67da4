"""Asking a tenant's bot the evaluation's questions and scoring what comes back.

Each question is asked twice over, the way a customer's message would be, but without a
conversation (nothing is stored, no one is notified):

- **retrieval**: the knowledge search alone (``retrieve``, the tenant's own: lexical, or hybrid
  when it has an embeddings model). hit@1 / hit@3: the expected source is the first / among the
  first three sources found.
- **answer** (unless ``retrieval_only``): the bot's grounding and prompt as the pipeline builds
  them, sent to the bot's own provider. The reply is *handed off* when the provider asks for a
  human or the bot answers only from knowledge and found nothing relevant; its *citation is
  correct* when the sources it cites include the expected one (and only those it was given);
  its *phrase is found* when the expected phrase is in its text.

A question with no expected source should be handed off: it counts in ``correct_handoffs``;
a handoff on any other question in ``false_handoffs``.
"""

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from helpdesk.ai.context import Turn, reply_request
from helpdesk.ai.evaluation.questions import EvalQuestion
from helpdesk.ai.grounding import aground, citations
from helpdesk.ai.knowledge.retrieval import aretrieve
from helpdesk.ai.models import BotConfig
from helpdesk.ai.providers.base import (
    HandoffRequested,
    ProviderError,
    TextDelta,
)
from helpdesk.ai.providers.registry import provider_for
from helpdesk.conversations.models import Message
from helpdesk.core.asyncdb import db_call
from helpdesk.tenants.models import Tenant

RETRIEVAL_DEPTH = 3


@dataclass
class QuestionResult:
    question: EvalQuestion
    found: list[str]  # the titles of the first sources retrieval found, best first
    retrieval_ms: float
    answer: str = ""
    cited: list[str] = field(default_factory=list)
    handed_off: bool = False
    error: str = ""
    answer_ms: float | None = None

    @property
    def hit_at_1(self) -> bool:
        return bool(self.found) and self.question.expects(self.found[0])

    @property
    def hit_at_3(self) -> bool:
        return any(self.question.expects(title) for title in self.found[:RETRIEVAL_DEPTH])

    @property
    def citation_correct(self) -> bool:
        return any(self.question.expects(title) for title in self.cited)

    @property
    def phrase_found(self) -> bool:
        phrase = self.question.expected_phrase
        return phrase is not None and phrase.casefold() in self.answer.casefold()


@dataclass
class Report:
    results: list[QuestionResult]
    answered: bool  # whether the bot was asked, or retrieval alone measured

    def summary(self, lang: str | None = None) -> dict:
        rows = [r for r in self.results if lang is None or r.question.lang == lang]
        answerable = [r for r in rows if r.question.expected_source is not None]
        off_topic = [r for r in rows if r.question.expected_source is None]
        figures = {
            "questions": len(rows),
            "hit_at_1": _share(answerable, lambda r: r.hit_at_1),
            "hit_at_3": _share(answerable, lambda r: r.hit_at_3),
            "retrieval_ms_p50": _percentile([r.retrieval_ms for r in rows], 50),
            "retrieval_ms_p99": _percentile([r.retrieval_ms for r in rows], 99),
        }
        if self.answered:
            replied = [r for r in answerable if not r.handed_off and not r.error]
            with_phrase = [r for r in replied if r.question.expected_phrase]
            figures |= {
                "handoff_rate": _share(rows, lambda r: r.handed_off),
                "false_handoffs": sum(r.handed_off for r in answerable),
                "correct_handoffs": _share(off_topic, lambda r: r.handed_off),
                "citation_correct": _share(replied, lambda r: r.citation_correct),
                "phrase_found": _share(with_phrase, lambda r: r.phrase_found),
                "errors": sum(bool(r.error) for r in rows),
                "answer_ms_p50": _percentile(_answer_times(rows), 50),
                "answer_ms_p99": _percentile(_answer_times(rows), 99),
            }
        return figures


def _answer_times(rows: Sequence[QuestionResult]) -> list[float]:
    return [r.answer_ms for r in rows if r.answer_ms is not None]


def _share(rows: Sequence[QuestionResult], test) -> float | None:
    return sum(1 for r in rows if test(r)) / len(rows) if rows else None


def _percentile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


async def evaluate(
    *,
    tenant: Tenant,
    bot: BotConfig,
    questions: Sequence[EvalQuestion],
    retrieval_only: bool = False,
) -> Report:
    """Ask ``bot`` of ``tenant`` every question, one after another (latencies stay honest)."""
    provider = None if retrieval_only else await db_call(provider_for)(bot)
    results = []
    for question in questions:
        started = time.perf_counter()
        hits = await aretrieve(tenant=tenant, query=question.question, k=RETRIEVAL_DEPTH * 3)
        retrieval_ms = (time.perf_counter() - started) * 1000
        result = QuestionResult(question, _distinct_titles(hits), retrieval_ms)
        if provider is not None:
            await _ask(result, tenant=tenant, bot=bot, provider=provider)
        results.append(result)
    return Report(results, answered=provider is not None)


def _distinct_titles(hits) -> list[str]:
    # Several chunks of one source count once: hit@3 is about sources, as citations are.
    return list(dict.fromkeys(hit.title for hit in hits))[:RETRIEVAL_DEPTH]


async def _ask(result: QuestionResult, *, tenant: Tenant, bot: BotConfig, provider) -> None:
    started = time.perf_counter()
    try:
        grounding = await aground(tenant=tenant, bot=bot, question=result.question.question)
        if bot.answer_only_from_knowledge and not grounding.relevant:
            result.handed_off = True
            return
        turns = [Turn(Message.SenderType.CONTACT, result.question.question)]
        request = reply_request(bot=bot, turns=turns, extra_context=[], grounding=grounding)
        parts = []
        async for event in provider.stream(request):
            if isinstance(event, TextDelta):
                parts.append(event.text)
            elif isinstance(event, HandoffRequested):
                result.handed_off = True
        result.answer = "".join(parts)
        result.cited = [cited["title"] for cited in citations(grounding, result.answer)]
    except ProviderError as error:
        result.error = str(error)
    finally:
        result.answer_ms = (time.perf_counter() - started) * 1000
