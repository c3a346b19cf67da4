"""The FAQ provider: answers from the tenant's knowledge articles, with no API at all.

The customer's question (the trailing run of user messages) is matched against every active
article with a BM25F-style score: keywords count most, then the article's question, then its
answer. English is lower-cased, split into words, lightly stemmed (plural, -ing, -ed) and
stripped of stop words. Chinese (and other CJK text) has no spaces, so it is indexed as single
characters plus overlapping character pairs; pairs carry most of the meaning ("退货" is
"return goods", "退" alone is "back"). No dictionary is downloaded or needed.

The raw score is divided by the most a query of those terms could score, so it lies in 0..1 and
``min_score`` reads as "how much of the question an article covers": words the knowledge base has
never seen lower it, which is what sends "what's the weather on Mars" to a human.
"""

import asyncio
import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.db.models import Count, Max

from helpdesk.ai.knowledge.lexical import (
    CJK_RANGES,
    STOP_CHARS,
    STOP_PAIRS,
    STOP_WORDS,
    TOKEN,
    normalise,
    stem,
)
from helpdesk.ai.models import BotConfig, KnowledgeArticle
from helpdesk.ai.providers.base import (
    Capabilities,
    HandoffRequested,
    ReplyRequest,
    StreamEvent,
    TextDelta,
    Usage,
)
from helpdesk.ai.tokens import count_tokens

NO_ANSWER_REASON = "no FAQ answer"
# Calibrated on the demo knowledge base and the questions in tests/ai/test_faq.py: a paraphrase
# that shares one distinctive word with an article clears it; a question about something the
# knowledge base never mentions stays well below.
DEFAULT_MIN_SCORE = 0.3
# A short pause between chunks, so the widget shows the answer being typed rather than all at
# once (the relay coalesces deltas every ~50 ms). A 300-character answer takes about half a second.
CHUNK_DELAY_SECONDS = 0.02
CHUNK_WIDTH = 12  # roughly three English words or four Chinese characters per delta

# BM25F: a field's weight multiplies a term's frequency in it; b is its length normalisation.
FIELD_WEIGHTS = {"keywords": 3.0, "question": 2.0, "answer": 1.0}
FIELD_B = {"keywords": 0.3, "question": 0.5, "answer": 0.75}
K1 = 1.2
# A term found once in both the question and the keywords counts as a full match (1.0).
_FULL_MATCH_TF = FIELD_WEIGHTS["question"] + FIELD_WEIGHTS["keywords"]
_FULL_MATCH = _FULL_MATCH_TF / (K1 + _FULL_MATCH_TF)

# How much each kind of query term weighs. A single Chinese character says less than a pair.
WORD, CJK_CHAR, CJK_PAIR, NUMBER = "word", "char", "pair", "number"
KIND_WEIGHTS = {WORD: 1.0, CJK_CHAR: 0.5, CJK_PAIR: 1.0, NUMBER: 1.0}
# Kinds that only ever add to a score: character pairs straddling two words ("候开" in
# "什么时候开门") and numbers (order numbers, dates) are mostly not in any article, and must not
# count against the question when they are not.
BONUS_ONLY_KINDS = {CJK_PAIR, NUMBER}
# A word no article contains counts against the question at this fraction of a rare word's weight.
UNKNOWN_TERM_WEIGHT = 0.5
# A Chinese character that an article has, but never next to the character it has in the question
# ("明" of "明天" against "明白"), is weak evidence: it earns this fraction of its weight.
LONE_CHAR_CREDIT = 0.5

_PIECE = re.compile(rf"[{CJK_RANGES}]\s*|[^\s{CJK_RANGES}]+\s*|\s+")
_CJK_CHAR = re.compile(rf"[{CJK_RANGES}]")


class ArticleLike(Protocol):
    question: str
    answer: str
    keywords: str


@dataclass(frozen=True)
class Term:
    text: str
    kind: str


def analyse(text: str, *, drop_stop_words: bool) -> list[Term]:
    """The terms of ``text``, in order, repeated as often as they occur."""
    terms: list[Term] = []
    for match in TOKEN.finditer(normalise(text)):
        run, word = match.groups()
        if word is not None:
            if word.isdigit():
                if len(word) >= 2:
                    terms.append(Term(word, NUMBER))
                continue
            if len(word) < 2 or (drop_stop_words and word in STOP_WORDS):
                continue
            terms.append(Term(stem(word), WORD))
            continue
        for i, char in enumerate(run):
            if not (drop_stop_words and char in STOP_CHARS):
                terms.append(Term(char, CJK_CHAR))
            if i + 1 < len(run):
                pair = run[i : i + 2]
                stop = pair in STOP_PAIRS or pair[0] in STOP_CHARS or pair[1] in STOP_CHARS
                if not (drop_stop_words and stop):
                    terms.append(Term(pair, CJK_PAIR))
    return terms


def query_terms(text: str) -> list[Term]:
    """The distinct terms a question is matched on.

    Stop words are left out; a question made only of them ("hi", "你好", "what can you do")
    is matched with them, so a greeting article can answer it.
    """
    terms = analyse(text, drop_stop_words=True) or analyse(text, drop_stop_words=False)
    return list(dict.fromkeys(terms))


def char_neighbours(text: str) -> dict[Term, set[Term]]:
    """For each CJK character of ``text``: the character pairs it is part of there."""
    neighbours: dict[Term, set[Term]] = {}
    for match in TOKEN.finditer(normalise(text)):
        run = match.group(1)
        if run is None:
            continue
        for i, char in enumerate(run):
            pairs = neighbours.setdefault(Term(char, CJK_CHAR), set())
            if i > 0:
                pairs.add(Term(run[i - 1 : i + 1], CJK_PAIR))
            if i + 1 < len(run):
                pairs.add(Term(run[i : i + 2], CJK_PAIR))
    return neighbours


@dataclass(frozen=True)
class Match:
    article: ArticleLike
    position: int  # the article's place in the list the index was built from
    score: float  # 0..1


class FAQIndex:
    """An immutable BM25F index over a list of articles, safe to share between threads."""

    def __init__(self, articles: Sequence[ArticleLike]):
        self.articles = list(articles)
        # Per article and field: term -> frequency; the field's length in terms; every term.
        self._fields: list[dict[str, Counter]] = []
        self._lengths: list[dict[str, int]] = []
        self._terms: list[frozenset[Term]] = []
        document_frequency: Counter = Counter()
        for article in self.articles:
            # Articles keep their stop words: a greeting article must match "hi" and "你好".
            fields = {
                name: Counter(analyse(getattr(article, name) or "", drop_stop_words=False))
                for name in FIELD_WEIGHTS
            }
            self._fields.append(fields)
            self._lengths.append({name: counts.total() for name, counts in fields.items()})
            terms = frozenset().union(*fields.values())
            self._terms.append(terms)
            document_frequency.update(terms)
        count = len(self._lengths) or 1
        self._average_length = {
            name: sum(lengths[name] for lengths in self._lengths) / count or 1.0
            for name in FIELD_WEIGHTS
        }
        self._document_frequency = document_frequency

    def __len__(self) -> int:
        return len(self.articles)

    def _idf(self, term: Term) -> float:
        n = len(self.articles)
        df = self._document_frequency.get(term, 0)
        if df == 0:
            # As informative as the rarest known term, discounted: an unknown word may be a
            # typo or chatter as much as a topic the knowledge base lacks.
            df = 1
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _saturation(self, term: Term, position: int) -> float:
        """How fully one article matches one term, 0..1 (1: in its question and keywords)."""
        tf = 0.0
        for name, counts in self._fields[position].items():
            frequency = counts.get(term, 0)
            if frequency:
                b = FIELD_B[name]
                norm = 1 - b + b * self._lengths[position][name] / self._average_length[name]
                tf += FIELD_WEIGHTS[name] * frequency / norm
        return min(1.0, tf / (K1 + tf) / _FULL_MATCH)

    def search(self, text: str) -> list[Match]:
        """Every article with a score above zero, best first; ties keep the articles' order."""
        if not self.articles:
            return []
        terms = query_terms(text)
        weights: list[tuple[Term, float]] = []
        most = 0.0
        for term in terms:
            weight = KIND_WEIGHTS[term.kind] * self._idf(term)
            known = term in self._document_frequency
            if known:
                most += weight
            elif term.kind not in BONUS_ONLY_KINDS:
                most += weight * UNKNOWN_TERM_WEIGHT
            if known:
                weights.append((term, weight))
        if most <= 0 or not weights:
            return []
        neighbours = char_neighbours(text)
        matches = []
        for position, article in enumerate(self.articles):
            raw = 0.0
            for term, weight in weights:
                credit = self._saturation(term, position)
                pairs = neighbours.get(term)
                if credit and pairs and not pairs & self._terms[position]:
                    credit *= LONE_CHAR_CREDIT
                raw += weight * credit
            if raw > 0:
                # Rounded so that float noise from summation order never reorders a tie.
                matches.append(Match(article, position, round(min(1.0, raw / most), 6)))
        matches.sort(key=lambda match: (-match.score, match.position))
        return matches

    def best(self, text: str, *, min_score: float) -> Match | None:
        matches = self.search(text)
        if matches and matches[0].score >= min_score:
            return matches[0]
        return None


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
    """Answers with the best-matching knowledge article, or asks for a human."""

    name = "faq"
    model = "faq"  # no API is called: its usage is counted, and recorded as the FAQ's
    capabilities = Capabilities(tools=False, usage_in_stream=False)

    def __init__(
        self,
        *,
        articles: Sequence[ArticleLike] = (),
        min_score: float = DEFAULT_MIN_SCORE,
        chunk_delay: float = CHUNK_DELAY_SECONDS,
        index: FAQIndex | None = None,
    ):
        self.index = index if index is not None else FAQIndex(articles)
        self.min_score = min_score
        self.chunk_delay = chunk_delay

    def match(self, question: str) -> Match | None:
        return self.index.best(question, min_score=self.min_score)

    async def stream(self, request: ReplyRequest) -> AsyncIterator[StreamEvent]:
        question = question_of(request)
        match = self.match(question) if question else None
        if match is None:
            yield HandoffRequested(reason=NO_ANSWER_REASON)
            return
        answer = match.article.answer
        if not request.stream:
            yield TextDelta(answer)
        else:
            for i, chunk in enumerate(chunk_text(answer)):
                if i and self.chunk_delay > 0:
                    await asyncio.sleep(self.chunk_delay)
                yield TextDelta(chunk)
        yield Usage(
            prompt_tokens=count_tokens(question),
            completion_tokens=count_tokens(answer),
            counted=True,
        )


# --- Per-tenant indexes -----------------------------------------------------------------------


class _IndexCache:
    """The last index built for each tenant, keyed by what changes when an article does.

    (max(updated_at), count) of the tenant's active articles changes on every edit, addition,
    deactivation or deletion, so a stale index is never used, and a busy tenant's index is
    built once rather than per message. Bounded, least recently used first out.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self.entries: OrderedDict[int, tuple[tuple, FAQIndex]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, tenant_id: int, stamp: tuple) -> FAQIndex | None:
        with self.lock:
            entry = self.entries.get(tenant_id)
            if entry is None or entry[0] != stamp:
                return None
            self.entries.move_to_end(tenant_id)
            return entry[1]

    def put(self, tenant_id: int, stamp: tuple, index: FAQIndex) -> None:
        with self.lock:
            self.entries[tenant_id] = (stamp, index)
            self.entries.move_to_end(tenant_id)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


index_cache = _IndexCache()


def faq_index_for_tenant(tenant_id: int) -> FAQIndex:
    """The index of a tenant's active knowledge articles (sync ORM; cached)."""
    articles = KnowledgeArticle.objects.filter(tenant_id=tenant_id, is_active=True)
    summary = articles.aggregate(latest=Max("updated_at"), count=Count("id"))
    stamp = (summary["latest"], summary["count"])
    index = index_cache.get(tenant_id, stamp)
    if index is None:
        rows = list(articles.order_by("pk").only("question", "answer", "keywords"))
        index = FAQIndex(rows)
        index_cache.put(tenant_id, stamp, index)
    return index


def faq_provider_for(bot: BotConfig, **options) -> FAQProvider:
    """The FAQ provider for ``bot``: its tenant's active articles, never another tenant's.

    Sync ORM: call it from async code through ``sync_to_async``. ``options`` go to FAQProvider
    (``min_score``, ``chunk_delay``).
    """
    return FAQProvider(index=faq_index_for_tenant(bot.tenant_id), **options)
