"""Masking banned words, in whole texts and while a reply streams.

The reference below loops over the words the slow, obvious way; the automaton must agree with
it on every text and every way of cutting that text into deltas.
"""

import itertools
import random
import time

import pytest

from plugins.sensitive_words.matcher import MaskingFilter, WordMatcher, fold

WORDS = [
    "敏感词",
    "敏感",
    "感词汇",
    "毒品",
    "赌博网站",
    "Fuck",
    "bad word",
    "SHIT",
    "ab",
    "abc",
    "bcd",
    "xx",
    "我",
]

TEXTS = [
    "这是一个敏感词汇测试",
    "You are a BAD WORD, ShIt!",
    "abcd ABCD aBc bc",
    "赌博网站和毒品FUCK敏感",
    "nothing to hide here, 你好",
    "敏感敏感词敏",
    "xxx ab",
    "bad wor",
    "我们bad word我",
    "Fuck🙂敏感词🙂",
]


def reference_mask(text: str, words: list[str]) -> str:
    low = fold(text)
    masked = list(text)
    for word in map(fold, words):
        start = low.find(word)
        while start != -1:
            masked[start : start + len(word)] = "*" * len(word)
            start = low.find(word, start + 1)
    return "".join(masked)


def reference_hold(received: str, words: list[str]) -> int:
    """The longest tail of ``received`` that is a proper prefix of some word."""
    low = fold(received)
    return max(
        (k for word in map(fold, words) for k in range(1, len(word)) if low.endswith(word[:k])),
        default=0,
    )


def contains_banned(text: str, words: list[str]) -> bool:
    low = fold(text)
    return any(fold(word) in low for word in words)


def stream(matcher: WordMatcher, deltas: list[str], words: list[str]) -> str:
    """Feed ``deltas``, checking after each one what a client could have seen."""
    masking = MaskingFilter(matcher)
    received = shown = ""
    for delta in deltas:
        received += delta
        shown += masking.feed(delta)
        assert not contains_banned(shown, words), (deltas, shown)
        assert len(shown) == len(received) - reference_hold(received, words), (deltas, shown)
        assert masking.held == received[len(shown) :]
    return shown + masking.finish()


@pytest.fixture(scope="module")
def matcher():
    return WordMatcher(WORDS)


@pytest.mark.parametrize("text", TEXTS)
def test_a_whole_text_is_masked_like_the_reference(matcher, text):
    assert matcher.mask(text) == reference_mask(text, WORDS)


def test_masking_keeps_length_and_covers_overlaps(matcher):
    assert matcher.mask("这是一个敏感词汇测试") == "这是一个****测试"
    assert matcher.mask("You are a BAD WORD, ShIt!") == "You are a ********, ****!"
    assert matcher.mask("abcd") == "****"
    assert matcher.mask("İstanbul shit") == "İstanbul ****"  # a char that lower-cases to two


@pytest.mark.parametrize("text", TEXTS)
def test_every_split_into_two_and_three_deltas_is_safe_minimal_and_exact(matcher, text):
    expected = reference_mask(text, WORDS)
    cuts = range(len(text) + 1)
    for i in cuts:
        assert stream(matcher, [text[:i], text[i:]], WORDS) == expected
    for i, j in itertools.combinations(cuts, 2):
        assert stream(matcher, [text[:i], text[i:j], text[j:]], WORDS) == expected


@pytest.mark.parametrize("text", TEXTS)
def test_character_by_character_is_safe_minimal_and_exact(matcher, text):
    assert stream(matcher, list(text), WORDS) == reference_mask(text, WORDS)


def test_random_texts_and_random_cuts_agree_with_the_reference(matcher):
    rng = random.Random(7)
    alphabet = "abcdxX敏感词汇毒品赌博网站我 FUCKshit"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(1, 6))))
        deltas = [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]
        assert stream(matcher, deltas, WORDS) == reference_mask(text, WORDS), deltas


def test_text_that_cannot_start_a_word_is_released_at_once(matcher):
    masking = MaskingFilter(matcher)

    assert masking.feed("Hello there, ") == "Hello there, "
    assert masking.feed("敏") == ""  # could become 敏感 / 敏感词
    assert masking.feed("捷") == "敏捷"  # it did not
    assert masking.feed("a") == ""
    assert masking.feed("bz") == "**z"
    assert masking.finish() == ""


def test_an_empty_word_list_matches_nothing():
    empty = WordMatcher(["", "  "])

    assert not empty
    assert empty.mask("anything") == "anything"
    assert MaskingFilter(empty).feed("abc") == "abc"


def test_ten_thousand_words_build_in_under_a_second_and_filter_fast():
    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    hanzi = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    words = [
        "".join(rng.choice(letters if n % 2 else hanzi) for _ in range(rng.randint(2, 8)))
        for n in range(10_000)
    ]

    started = time.perf_counter()
    matcher = WordMatcher(words)
    built = time.perf_counter() - started

    reply = "".join(rng.choice(letters + hanzi + " ") for _ in range(2000))
    deltas = [reply[i : i + 40] for i in range(0, 2000, 40)]
    started = time.perf_counter()
    masking = MaskingFilter(matcher)
    shown = "".join(masking.feed(delta) for delta in deltas) + masking.finish()
    filtered = time.perf_counter() - started

    assert len(matcher) == len(set(words))
    assert built < 1.0
    assert filtered < 0.25
    assert len(deltas) == 50
    assert shown == matcher.mask(reply)
