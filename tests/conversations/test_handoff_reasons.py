"""Handoff reasons are stored as codes and worded in the reader's language."""

import pytest
from django.utils import translation

from helpdesk.conversations.handoff_reasons import (
    KEYWORD,
    NO_BOT,
    WORDINGS,
    handoff_reason,
    reason_text,
    reason_wordings,
)


def test_a_reason_keeps_its_detail_on_one_line_and_within_the_column():
    assert handoff_reason(KEYWORD, "人工") == "keyword:人工"
    assert handoff_reason(NO_BOT) == "no_bot"
    assert handoff_reason(KEYWORD, "a\nb\tc") == "keyword:a b c"
    assert len(handoff_reason(KEYWORD, "x" * 500)) == 200


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", 'The customer asked for a human ("人工").'), ("zh-hans", "客户要求转人工（“人工”）。")],
)
def test_a_reason_is_worded_in_the_active_language(language, expected):
    with translation.override(language):
        assert reason_text("keyword:人工") == expected


def test_a_reason_from_before_codes_is_shown_as_written():
    assert reason_text("asked for a human") == "asked for a human"
    assert reason_text("bot unavailable: timeout") == "bot unavailable: timeout"


def test_the_console_gets_every_wording_in_its_language():
    with translation.override("zh-hans"):
        wordings = reason_wordings()

    assert set(wordings) == set(WORDINGS)
    assert all("%(detail)s" in wordings[code] for code in ("keyword", "bot_unavailable"))
    assert wordings["no_bot"] != "This inbox has no bot."
