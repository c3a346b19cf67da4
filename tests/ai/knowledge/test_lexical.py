"""Search terms in English and Chinese, BM25 ranking, and why CJK text is cut into pairs."""

import logging

import pytest

from helpdesk.ai.knowledge.lexical import (
    STOP_CHARS,
    STOP_PAIRS,
    STOP_WORDS,
    TOKEN,
    BM25Index,
    normalise,
    query_terms,
    stem,
    tokenise,
)
from tests.ai.knowledge.bilingual_set import DOCUMENTS, QUESTIONS

# --- Tokenising ----------------------------------------------------------------------------------


def test_english_is_lowercased_stemmed_and_stripped_of_stop_words():
    assert tokenise("How do I track my Shipping? Shipped parcels, 2 boxes") == [
        "track",
        "ship",
        "ship",
        "parcel",
        "2",
        "box",
    ]


def test_chinese_becomes_characters_and_neighbouring_pairs():
    assert tokenise("退货政策") == ["#退", "#货", "#政", "#策", "退货", "货政", "政策"]


def test_chinese_function_characters_and_pairs_with_them_are_left_out():
    # 怎, 么, 的 are function characters: neither they nor pairs holding them are terms.
    assert tokenise("怎么退货的") == ["#退", "#货", "退货"]


def test_full_width_letters_and_digits_count_as_ordinary_ones():
    assert tokenise("ＰａｙＰａｌ　３０天") == tokenise("PayPal 30天")


def test_mixed_text_keeps_both_languages_in_order():
    # The stemmer drops a final e on both sides alike ("iphone" and "iPhones" meet at "iphon").
    assert tokenise("iPhone 15 保修") == ["iphon", "15", "#保", "#修", "保修"]


def test_a_single_character_never_equals_a_pair_or_a_word():
    # "#" marks single CJK characters, so the pair 退货 and the character 退 stay distinct.
    assert set(tokenise("退")) == {"#退"}


# --- BM25 ----------------------------------------------------------------------------------------


def test_a_rare_term_outranks_a_common_one():
    index = BM25Index(
        [
            ["order", "ship"],
            ["order", "refund"],
            ["order", "invoice"],
        ]
    )

    assert index.search(["order", "refund"], k=3)[0][0] == 1


def test_more_occurrences_rank_higher_and_saturate():
    index = BM25Index([["ship", "other"], ["ship", "ship", "other"], ["ship"] * 20 + ["other"]])

    scores = dict(index.search(["ship"], k=3))

    assert scores[2] > scores[1] > scores[0]
    # k1 saturation: twenty occurrences are worth less than twice what two are.
    assert scores[2] < 2 * scores[1]


def test_longer_documents_are_normalised_down():
    index = BM25Index([["refund", *["filler"] * 50], ["refund", "policy"], ["other"]])

    assert [doc for doc, _ in index.search(["refund"], k=3)] == [1, 0]


def test_only_matching_documents_come_back_at_most_k_ties_in_document_order():
    index = BM25Index([["a1"], ["b1"], ["a1"], ["a1"], ["c1"]])

    assert [doc for doc, _ in index.search(["a1"], k=2)] == [0, 2]
    assert index.search(["zz"], k=5) == []
    assert index.search([], k=5) == []


def test_an_empty_index_finds_nothing():
    index = BM25Index([])

    assert len(index) == 0
    assert index.search(["anything"], k=5) == []


def test_the_index_takes_a_generator():
    index = BM25Index(terms for terms in (["a1"], ["b1"]))

    assert len(index) == 2
    assert index.search(["b1"], k=1)[0][0] == 1


# --- The bilingual set: which CJK tokeniser retrieves better --------------------------------------


def evaluate(tokeniser) -> dict[str, tuple[float, float]]:
    """hit@1 and mean reciprocal rank, per language, of ``tokeniser`` on the bilingual set."""
    names = list(DOCUMENTS)
    index = BM25Index([tokeniser(DOCUMENTS[name]) for name in names])
    results: dict[str, list[tuple[int, float]]] = {"en": [], "zh": []}
    for question, expected in QUESTIONS:
        ranked = [names[doc] for doc, _ in index.search(tokeniser(question), k=len(names))]
        rank = ranked.index(expected) + 1 if expected in ranked else None
        language = "zh" if expected.startswith("zh_") else "en"
        results[language].append((int(rank == 1), 1 / rank if rank else 0.0))
    return {
        language: (
            sum(hit for hit, _ in rows) / len(rows),
            sum(reciprocal for _, reciprocal in rows) / len(rows),
        )
        for language, rows in results.items()
    }


def jieba_tokenise(text: str) -> list[str]:
    """``tokenise`` with jieba's search-mode words instead of character pairs for CJK runs."""
    jieba = pytest.importorskip("jieba")
    jieba.setLogLevel(logging.WARNING)
    terms: list[str] = []
    for run, word in TOKEN.findall(normalise(text)):
        if word:
            if word not in STOP_WORDS and (len(word) >= 2 or word.isdigit()):
                terms.append(stem(word))
            continue
        terms.extend(
            w for w in jieba.cut_for_search(run) if w not in STOP_PAIRS and w not in STOP_CHARS
        )
    return terms


def test_the_bilingual_set_is_mostly_answered_first():
    scores = evaluate(tokenise)

    # Measured: English 14/16 first (0.94 MRR), Chinese 15/16 first (0.97 MRR).
    assert scores["en"][0] >= 0.85
    assert scores["en"][1] >= 0.9
    assert scores["zh"][0] >= 0.9
    assert scores["zh"][1] >= 0.95


def test_character_pairs_retrieve_chinese_at_least_as_well_as_jieba():
    """Why tokenise() uses pairs: on this set jieba's words do no better (measured: hit@1
    14/16 against 15/16, MRR 0.88 against 0.97) and cost every process about 1.5 s and
    80 MiB when its dictionary first loads. If a change to either side turns that around,
    this test says so."""
    pairs = evaluate(tokenise)
    words = evaluate(jieba_tokenise)

    assert pairs["zh"][0] >= words["zh"][0]
    assert pairs["zh"][1] >= words["zh"][1]
    assert pairs["en"] == words["en"]  # English goes the same way through both


def test_coverage_is_the_share_of_the_questions_weight_a_document_holds():
    index = BM25Index(
        [tokenise("Delivery to Berlin takes two days"), tokenise("Returns within 30 days")]
    )
    question = tokenise("Delivery to Berlin, days?")
    assert index.coverage(question, 0) > 0.9
    assert 0.0 < index.coverage(question, 1) < 0.3  # only "days", which both documents have
    # Rare words nobody wrote about outweigh a shared common one.
    assert index.coverage(tokenise("weather on Mars in two days"), 0) < 0.5
    assert index.coverage([], 0) == 0.0


def test_small_talk_is_searched_with_its_stop_words_and_nothing_else_is():
    assert tokenise("hi, thanks") == []
    assert query_terms("hi, thanks") == ["hi", "thank"]
    assert query_terms("在吗") == ["#在", "#吗", "在吗"]
    assert query_terms("Hi, do you ship to Berlin?") == ["ship", "berlin"]


def test_an_unseen_pair_of_known_characters_does_not_lower_coverage_but_an_unknown_one_does():
    index = BM25Index([tokenise("下单后今天发货"), tokenise("退货政策")])

    # 天下 straddles 今天 and 下单: no document has it, both its characters are known.
    assert index.coverage(tokenise("今天下单"), 0) == 1.0
    # 股 is in no document: 股市 weighs as an unseen word.
    assert index.coverage(tokenise("今天股市"), 0) < 0.5
