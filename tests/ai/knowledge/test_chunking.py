"""Splitting text into chunks: English, Chinese without spaces, headings, limits."""

import pytest

from helpdesk.ai.knowledge.chunking import split_text
from helpdesk.ai.tokens import count_tokens


def test_short_text_is_one_chunk_with_its_exact_token_count():
    text = "Orders ship within one business day.\n\nDelivery to Berlin takes 1-2 days."

    chunks = split_text(text, max_tokens=300)

    assert [(c.position, c.heading, c.text) for c in chunks] == [(0, "", text)]
    assert chunks[0].token_count == count_tokens(text)


def test_paragraphs_stay_whole_and_chunks_stay_within_the_limit():
    paragraphs = [f"Paragraph {i} says something about shipping rule {i}. " * 3 for i in range(12)]
    text = "\n\n".join(p.strip() for p in paragraphs)

    chunks = split_text(text, max_tokens=60)

    assert len(chunks) > 1
    assert all(c.token_count <= 60 for c in chunks)
    # Every paragraph is found whole in exactly one chunk, and in reading order.
    located = [next(c.position for c in chunks if p.strip() in c.text) for p in paragraphs]
    assert located == sorted(located)
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_headings_start_a_chunk_and_give_every_chunk_its_path():
    text = (
        "Welcome to the help centre.\n"
        "# Shipping\n"
        "We ship from Hamburg.\n\n"
        "## Berlin\n"
        "Delivery to Berlin takes 1-2 days.\n"
        "## Munich ##\n"
        "Delivery to Munich takes 2 days.\n"
        "# Returns\n\n"
        "Send items back within 30 days."
    )

    chunks = split_text(text, max_tokens=300)

    assert [(c.heading, c.text) for c in chunks] == [
        ("", "Welcome to the help centre."),
        ("Shipping", "We ship from Hamburg."),
        ("Shipping › Berlin", "Delivery to Berlin takes 1-2 days."),
        ("Shipping › Munich", "Delivery to Munich takes 2 days."),
        ("Returns", "Send items back within 30 days."),
    ]


def test_chinese_is_cut_after_sentence_ends_without_spaces():
    sentences = [f"第{i}条：签收后七天内可以无理由退货，商品需保持完好。" for i in range(30)]
    text = "".join(sentences)  # one paragraph, no whitespace at all

    chunks = split_text(text, max_tokens=80)

    assert len(chunks) > 2
    assert all(c.token_count <= 80 for c in chunks)
    assert all(c.text.endswith("。") for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_chinese_without_punctuation_is_cut_between_characters():
    text = "无标点的长句子" * 200

    chunks = split_text(text, max_tokens=50)

    assert all(0 < c.token_count <= 50 for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_a_long_english_sentence_is_cut_at_spaces():
    words = [f"word{i}" for i in range(400)]
    text = " ".join(words)

    chunks = split_text(text, max_tokens=40)

    assert all(c.token_count <= 40 for c in chunks)
    assert [w for c in chunks for w in c.text.split()] == words


def test_mixed_english_and_chinese_under_one_heading():
    text = "## 退货 Returns\nReturns within 30 days. 签收后七天内可以无理由退货。"

    (chunk,) = split_text(text)

    assert chunk.heading == "退货 Returns"
    assert chunk.text == "Returns within 30 days. 签收后七天内可以无理由退货。"


@pytest.mark.parametrize("text", ["", "   \n\n  ", "# Only a heading"])
def test_text_without_content_has_no_chunks(text):
    assert split_text(text) == []


def test_the_limit_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        split_text("text", max_tokens=0)
