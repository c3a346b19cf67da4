"""Find and mask banned words with one Aho-Corasick automaton, also in a streamed reply.

Matching is case-insensitive for cased scripts (English) and exact for the rest (Chinese).
Masking replaces every character of every occurrence with ``*`` (same length), overlapping
occurrences included.

Streaming: a banned word may arrive split across deltas ("敏" then "感词"). The filter holds
back exactly the longest tail of the text so far that is a proper prefix of some banned word —
the only text that could still turn out to be part of one — and releases everything before it,
masked. Nothing is delayed that cannot change, and nothing that could be part of a banned
word is shown before it is known.
"""

from collections.abc import Iterable
from itertools import islice

import ahocorasick

MASK = "*"


def fold(text: str) -> str:
    """Lower-case ``text`` one character for one, so positions in it are positions in text."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered  # no character changed length, so each maps to exactly one
    # Rare characters lower-case to two (e.g. "İ"); keep those as they are.
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


class WordMatcher:
    """An automaton over a word list, built once (per configuration version)."""

    def __init__(self, words: Iterable[str]):
        folded = dict.fromkeys(fold(word.strip()) for word in words if word and word.strip())
        self.words = tuple(folded)
        self.max_length = max(map(len, self.words), default=0)
        self._automaton = ahocorasick.Automaton()
        for word in self.words:
            self._automaton.add_word(word, len(word))
        if self.words:
            self._automaton.make_automaton()

    def __bool__(self) -> bool:
        return bool(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def spans(self, folded: str) -> Iterable[tuple[int, int]]:
        """(start, end) of every occurrence in already folded text, overlaps included."""
        if not self.words:
            return
        for end, length in self._automaton.iter(folded):
            yield end + 1 - length, end + 1

    def mask(self, text: str) -> str:
        """``text`` with every character of every banned word replaced by ``*``."""
        return self.mask_range(text, fold(text), 0, len(text))

    def mask_range(self, text: str, folded: str, start: int, stop: int) -> str:
        """``text[start:stop]`` masked, with matches found in all of ``text``."""
        chars = None
        for span_start, span_end in self.spans(folded):
            low, high = max(span_start, start), min(span_end, stop)
            if low < high:
                if chars is None:
                    chars = list(text[start:stop])
                chars[low - start : high - start] = MASK * (high - low)
        return text[start:stop] if chars is None else "".join(chars)

    def is_proper_prefix(self, folded: str) -> bool:
        """Whether some banned word starts with ``folded`` and is longer."""
        if not self._automaton.match(folded):
            return False  # no word starts with it
        if not self._automaton.exists(folded):
            return True  # words start with it, and it is not one itself
        # It is a word; is it also the start of a longer one? (keys() is lazy.)
        return len(list(islice(self._automaton.keys(folded), 2))) > 1

    def hold_length(self, folded: str, limit: int) -> int:
        """Length of the longest tail of ``folded`` (at most ``limit``) that could still grow
        into a banned word."""
        for length in range(min(limit, self.max_length - 1), 0, -1):
            if self.is_proper_prefix(folded[-length:]):
                return length
        return 0


class MaskingFilter:
    """A StreamFilter for one reply: masks banned words, even split across deltas."""

    def __init__(self, matcher: WordMatcher):
        self.matcher = matcher
        # Released text is kept as context (a word can start in it and end later), up to
        # one character short of the longest word; _pending is received, not yet released.
        self._context = ""
        self._pending = ""

    def feed(self, text: str) -> str:
        if not text:
            return ""
        self._pending += text
        scan = self._context + self._pending
        folded = fold(scan)
        hold = self.matcher.hold_length(folded, limit=len(self._pending))
        start, stop = len(self._context), len(scan) - hold
        released = self.matcher.mask_range(scan, folded, start, stop)
        keep = self.matcher.max_length - 1
        self._context = scan[:stop][-keep:] if keep > 0 else ""
        self._pending = scan[stop:]
        return released

    def finish(self) -> str:
        scan = self._context + self._pending
        released = self.matcher.mask_range(scan, fold(scan), len(self._context), len(scan))
        self._context = self._pending = ""
        return released

    @property
    def held(self) -> str:
        return self._pending
