"""Terms for lexical search, in English and Chinese, and a BM25 index over them.

English is lower-cased, split into words, lightly stemmed (plural, -ing, -ed) and stripped of
stop words. Chinese has no spaces: each run of CJK characters becomes its characters (function
characters such as 的 and 吗 left out) plus every pair of neighbouring characters, which carry
most of the meaning ("退货" is "return goods"; "退" alone is "back"). Pairs need no dictionary,
load in no time and match product names no dictionary knows; on the bilingual set in
tests/ai/knowledge/test_lexical.py they retrieve at least as well as jieba's segmentation,
which costs every process about 1.5 s and 80 MiB on first use.

The index stores, for each term, the chunks that contain it with the term's whole BM25
contribution precomputed (an "impact"), so a query is a handful of vectorised additions.
"""

import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

# Standard BM25 constants (Robertson et al.; Lucene's defaults).
K1 = 1.2
B = 0.75

CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# A run of CJK characters, or a word of letters and digits.
TOKEN = re.compile(rf"([{CJK_RANGES}]+)|([^\W_{CJK_RANGES}]+)")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS = _words(
    """
    a about above after again all also am an and any are aren as at be because been before
    being below between both but by can cannot could couldn did didn do does doesn doing don
    down during each either else ever every few for from further get gets got had hadn has
    hasn have haven having he her here hers herself him himself his how however i if in into
    is isn it its itself just know let like ll me might more most much must mustn my myself
    need no nor not now of off on once only or other ought our ours ourselves out over own
    please re same shall she should shouldn so some such tell than that the their theirs them
    themselves then there these they this those through to too under until up us ve very want
    was wasn way we were weren what when where whether which while who whom whose why will
    with won would wouldn yet you your yours yourself yourselves hi hello hey dear thanks
    thank ok okay yes
    """
)
# Function characters of Chinese: particles, pronouns, question words. Alone they say nothing
# about a topic; a pair with one of them ("么退" in "怎么退货") says nothing either.
STOP_CHARS = frozenset(
    "的了吗呢吧啊呀嘛哦哈么是我你您他她它们这那哪个怎什请问想要能可以会就都也还很把被给让和与及或在有好"
)
STOP_PAIRS = _words(
    "什么 怎么 怎样 如何 为何 为什 哪里 哪儿 哪些 可以 能否 是否 请问 一下 我们 你们 这个 那个 "
    "时候 多少 多久 知道 需要 你好 您好 谢谢"
)


def normalise(text: str) -> str:
    # NFKC folds full-width letters, digits and punctuation (common in Chinese input) to ASCII.
    return unicodedata.normalize("NFKC", text).lower()


def stem(word: str) -> str:
    """A light English stemmer: plurals, -ing, -ed, a final e. The same rules on both sides
    (documents and questions) is what matters, not linguistic accuracy."""
    if len(word) <= 3 or not word.isalpha():
        return word
    result = word
    if result.endswith(("ies", "ied")) and len(result) > 4:
        result = result[:-3] + "y"
    elif result.endswith("sses"):
        result = result[:-2]
    elif result.endswith("s") and not result.endswith(("ss", "us", "is")):
        result = result[:-1]
    elif result.endswith("ing") and _has_vowel(result[:-3]) and len(result) >= 6:
        result = _undouble(result[:-3])
    elif _strips_ed(result):
        result = _undouble(result[:-2])
    if result.endswith("e") and len(result) > 3:
        result = result[:-1]
    return result


def _strips_ed(word: str) -> bool:
    # Five letters or more: "used" and "need" stay whole rather than become "us" and "ne".
    return (
        len(word) >= 5
        and word.endswith("ed")
        and not word.endswith("eed")
        and _has_vowel(word[:-2])
    )


def _has_vowel(text: str) -> bool:
    return any(ch in "aeiouy" for ch in text)


def _undouble(word: str) -> str:
    # shipping -> shipp -> ship; but call, pass and buzz keep their double letter.
    if len(word) >= 3 and word[-1] == word[-2] and word[-1] not in "aeiouylsz":
        return word[:-1]
    return word


def tokenise(text: str, *, keep_stop_words: bool = False) -> list[str]:
    """The search terms of ``text``, in order, as often as they occur.

    Documents and queries go through the same function. A CJK pair is written as it is, a
    single character with a leading "#" so that the character 退 and a word "退" from another
    script can never be confused with a pair.

    ``keep_stop_words`` keeps the words, characters and pairs that are otherwise left out: a
    message of small talk alone ("hi", "谢谢", "在吗") is searched with them, against the
    titles and keywords of sources, which are indexed with them (retrieval.py), so that a
    greeting or thank-you article can answer it.
    """
    terms: list[str] = []
    for run, word in TOKEN.findall(normalise(text)):
        if word:
            if len(word) < 2 and not word.isdigit():
                continue
            if keep_stop_words or word not in STOP_WORDS:
                terms.append(stem(word))
            continue
        terms.extend("#" + char for char in run if keep_stop_words or char not in STOP_CHARS)
        for i in range(len(run) - 1):
            pair = run[i : i + 2]
            if keep_stop_words or (
                pair[0] not in STOP_CHARS and pair[1] not in STOP_CHARS and pair not in STOP_PAIRS
            ):
                terms.append(pair)
    return terms


def query_terms(text: str) -> list[str]:
    """A question's search terms: without stop words, unless that leaves none (small talk)."""
    return tokenise(text) or tokenise(text, keep_stop_words=True)


_CJK_PAIR = re.compile(rf"[{CJK_RANGES}]{{2}}")


class BM25Index:
    """An immutable BM25 index over documents given as term lists; safe to share between threads.

    Postings are stored compressed-row style: the documents of term ``t`` are
    ``docs[offsets[t]:offsets[t + 1]]`` with their impacts beside them. One array per index,
    not one per term: a tenant's vocabulary of words and character pairs runs to six figures.
    """

    def __init__(self, documents: Iterable[Sequence[str]], *, k1: float = K1, b: float = B):
        # One pass gathers (term, document, frequency) and each document's length, so the
        # documents may be a generator: a large tenant's term lists are never all in memory.
        vocabulary: dict[str, int] = {}
        term_ids: array = array("i")
        doc_ids: array = array("i")
        frequencies: array = array("f")
        lengths: array = array("f")
        for doc, terms in enumerate(documents):
            lengths.append(len(terms))
            for term, frequency in Counter(terms).items():
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
                doc_ids.append(doc)
                frequencies.append(frequency)
        self.size = len(lengths)
        self.vocabulary = vocabulary
        length = np.frombuffer(lengths, dtype=np.float32)
        average = float(length.mean()) if self.size and length.any() else 1.0
        # Sorting by term groups each term's postings together.
        term_array = np.frombuffer(term_ids, dtype=np.int32)
        order = np.argsort(term_array, kind="stable")
        self.docs = np.frombuffer(doc_ids, dtype=np.int32)[order]
        tf = np.frombuffer(frequencies, dtype=np.float32)[order]
        document_frequency = np.bincount(term_array, minlength=len(vocabulary))
        self.offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(document_frequency, out=self.offsets[1:])
        # Lucene's idf, never negative: a term in most documents still counts a little.
        idf = np.log1p((self.size - document_frequency + 0.5) / (document_frequency + 0.5))
        norm = k1 * (1 - b + b * length[self.docs] / average)
        per_posting_idf = np.repeat(idf.astype(np.float32), document_frequency)
        self.impacts = (per_posting_idf * tf * (k1 + 1) / (tf + norm)).astype(np.float32)
        self.idf = idf.astype(np.float32)
        # What a term no document has would weigh: more than any known term.
        self.unseen_idf = float(np.log1p((self.size + 0.5) / 0.5))

    def __len__(self) -> int:
        return self.size

    def search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The ``k`` best documents for a query's terms as (document number, score), best first.

        Only documents that share a term with the query are returned; equal scores keep the
        documents' order, so results never depend on summation noise.
        """
        if not self.size or k <= 0:
            return []
        scores = np.zeros(self.size, dtype=np.float32)
        matched = False
        for term, count in Counter(terms).items():
            term_id = self.vocabulary.get(term)
            if term_id is None:
                continue
            start, end = self.offsets[term_id], self.offsets[term_id + 1]
            # A term's documents are distinct, so a fancy-indexed += adds each impact once.
            scores[self.docs[start:end]] += count * self.impacts[start:end]
            matched = True
        if not matched:
            return []
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            # Everything that scores at least the k-th best, so a tie at the cut is settled by
            # document order below, not by where argpartition happened to put it.
            kth = -np.partition(-scores[candidates], k - 1)[k - 1]
            candidates = candidates[scores[candidates] >= kth]
        ranked = sorted(candidates.tolist(), key=lambda doc: (-scores[doc], doc))
        return [(doc, float(scores[doc])) for doc in ranked[:k]]

    def coverage(self, terms: Sequence[str], doc: int) -> float:
        """How much of a query document ``doc`` covers, 0..1: the idf of the query's distinct
        terms it contains over the idf of them all, terms no document has included.

        Unlike a BM25 score, comparable between queries and tenants: what "is anything
        relevant?" is decided on. "What's the weather on Mars" shares a few common words with
        many chunks, but its rare words with none, and scores low.

        A pair of Chinese characters that no document has, made of two characters that
        documents do have, does not count: most such pairs straddle two words ("今天下单"
        gives 天下), and each of its characters counts on its own. A pair with a character no
        document has (股市 where nothing mentions 股) counts in full, as an unseen word does.
        """
        total = matched = 0.0
        for term in set(terms):
            term_id = self.vocabulary.get(term)
            if term_id is None:
                if not self._straddles(term):
                    total += self.unseen_idf
                continue
            weight = float(self.idf[term_id])
            total += weight
            postings = self.docs[self.offsets[term_id] : self.offsets[term_id + 1]]
            # A term's postings are in document order (the stable sort in __init__).
            at = int(np.searchsorted(postings, doc))
            if at < len(postings) and postings[at] == doc:
                matched += weight
        return matched / total if total else 0.0

    def _straddles(self, term: str) -> bool:
        return _CJK_PAIR.fullmatch(term) is not None and all(
            "#" + char in self.vocabulary for char in term
        )
