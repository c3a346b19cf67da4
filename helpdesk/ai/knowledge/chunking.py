"""Splitting a source's text into chunks of about ``max_tokens`` tokens, in English and Chinese.

A chunk never spans two sections: a Markdown heading (``#`` to ``######``) closes the chunk
before it, and every chunk carries the path of headings it sits under ("Shipping › Berlin"),
so a chunk read alone (in a prompt, in a citation) still says what it is about. Paragraphs stay
whole while they fit; a longer one is cut between sentences, which in Chinese end with 。！？
and no space; a sentence longer than a chunk (a run of Chinese with no punctuation, a table
row) is cut where it must. File and web sources are expected to arrive as Markdown-ish text
(their headings as ``#`` lines), so one splitter serves every kind of source.
"""

import re
from dataclasses import dataclass

from helpdesk.ai.tokens import count_tokens

# Small enough that five chunks fit a modest prompt budget next to the conversation; large
# enough that an answer and its conditions usually share a chunk.
DEFAULT_CHUNK_TOKENS = 300
HEADING_SEPARATOR = " › "

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
# A sentence with the space after it: CJK sentence ends need no space, Latin ones need one.
_SENTENCE = re.compile(r".+?(?:[。！？；!?;]+[”’」』)]*|[.!?]+[\"')\]]*(?=\s)|$)\s*", re.S)
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it is stored: where it sits in its source and what it says."""

    position: int
    heading: str
    text: str
    token_count: int
    # The page the passage was read from, for a source of many pages (a sitemap's); empty when
    # the source itself is where it can be read.
    url: str = ""


@dataclass(frozen=True)
class _Piece:
    text: str
    tokens: int
    starts_paragraph: bool


def split_text(text: str, *, max_tokens: int = DEFAULT_CHUNK_TOKENS) -> list[ChunkDraft]:
    """``text`` as chunks in reading order, each at most about ``max_tokens`` tokens."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    chunks: list[ChunkDraft] = []
    headings: list[tuple[int, str]] = []
    pieces: list[_Piece] = []

    def flush() -> None:
        body = "".join(
            ("\n\n" if piece.starts_paragraph and i else "") + piece.text
            for i, piece in enumerate(pieces)
        ).strip()
        pieces.clear()
        if body:
            heading = HEADING_SEPARATOR.join(title for _, title in headings)
            chunks.append(ChunkDraft(len(chunks), heading, body, count_tokens(body)))

    for block in _blocks(text):
        heading = _HEADING.match(block)
        if heading:
            flush()
            level = len(heading.group(1))
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, heading.group(2).strip()))
            continue
        for piece in _pieces(block, max_tokens):
            # +1: the blank line or space that joins it to the piece before.
            if pieces and sum(p.tokens + 1 for p in pieces) + piece.tokens > max_tokens:
                flush()
            pieces.append(piece)
    flush()
    return chunks


def _blocks(text: str) -> list[str]:
    """Paragraphs and heading lines, in order. A heading needs no blank line around it."""
    blocks: list[str] = []
    for paragraph in _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            if _HEADING.match(line.strip()):
                blocks.append("\n".join(lines))
                blocks.append(line.strip())
                lines = []
            else:
                lines.append(line)
        blocks.append("\n".join(lines))
    return [block.strip() for block in blocks if block.strip()]


def _pieces(paragraph: str, max_tokens: int) -> list[_Piece]:
    """A paragraph whole, or cut between sentences (and inside them, if it must) to fit."""
    tokens = count_tokens(paragraph)
    if tokens <= max_tokens:
        return [_Piece(paragraph, tokens, True)]
    pieces: list[_Piece] = []
    for sentence in _SENTENCE.findall(paragraph):
        for part in _fit(sentence, max_tokens):
            pieces.append(_Piece(part, count_tokens(part), not pieces))
    return pieces


def _fit(sentence: str, max_tokens: int) -> list[str]:
    """``sentence`` cut into parts of at most ``max_tokens`` tokens, at a space where there is
    one, else between characters (Chinese has no spaces)."""
    parts: list[str] = []
    rest = sentence
    # The rest is counted once a round: it can be a whole unpunctuated page.
    while (tokens := count_tokens(rest)) > max_tokens:
        width = max(1, len(rest) * max_tokens // tokens)
        while width > 1 and count_tokens(rest[:width]) > max_tokens:
            width = width * 4 // 5
        spaces = [m.start() for m in _WHITESPACE.finditer(rest, 0, width)]
        cut = spaces[-1] + 1 if spaces and spaces[-1] > width // 2 else width
        parts.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        parts.append(rest)
    return parts
