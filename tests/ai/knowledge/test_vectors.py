"""The vector index, what a cosine says about relevance, and reciprocal rank fusion."""

import numpy as np
import pytest

from helpdesk.ai.knowledge.vectors import (
    COSINE_FLOOR,
    COSINE_FULL,
    NumpyVectorIndex,
    cosine_relevance,
    reciprocal_rank_fusion,
    vector_bytes,
    vector_from_bytes,
)

# --- Reciprocal rank fusion ----------------------------------------------------------------------


def test_an_item_scores_the_sum_of_one_over_sixty_plus_its_ranks():
    fused = dict(reciprocal_rank_fusion([[10, 20, 30], [30, 40]]))

    assert fused == {
        10: pytest.approx(1 / 61),
        20: pytest.approx(1 / 62),
        30: pytest.approx(1 / 63 + 1 / 61),
        40: pytest.approx(1 / 62),
    }


def test_agreement_beats_one_first_place():
    # 30 is third and first; 10 is first in one ranking only.
    assert [item for item, _ in reciprocal_rank_fusion([[10, 20, 30], [30, 40]])] == [
        30,
        10,
        20,
        40,
    ]


def test_equal_scores_keep_the_order_of_a_walk_down_the_rankings_side_by_side():
    # 1 and 2 both rank first once; 3 and 4 both second.
    assert [item for item, _ in reciprocal_rank_fusion([[1, 3], [2, 4]])] == [1, 2, 3, 4]
    assert [item for item, _ in reciprocal_rank_fusion([[2, 4], [1, 3]])] == [2, 1, 4, 3]


def test_the_constant_changes_how_much_a_lead_counts():
    assert dict(reciprocal_rank_fusion([[7]], k=0)) == {7: 1.0}
    assert reciprocal_rank_fusion([[], []]) == []
    assert [item for item, _ in reciprocal_rank_fusion([[5, 6], []])] == [5, 6]


# --- Cosine as relevance -------------------------------------------------------------------------


def test_cosine_relevance_is_zero_to_the_floor_one_from_full_linear_between():
    assert cosine_relevance(-0.3) == 0.0
    assert cosine_relevance(COSINE_FLOOR) == 0.0
    assert cosine_relevance((COSINE_FLOOR + COSINE_FULL) / 2) == pytest.approx(0.5)
    assert cosine_relevance(0.37) == pytest.approx(0.3)
    assert cosine_relevance(COSINE_FULL) == pytest.approx(1.0)
    assert cosine_relevance(0.99) == 1.0


# --- Storage -------------------------------------------------------------------------------------


def test_a_vector_is_stored_as_float32_little_endian_bytes():
    raw = vector_bytes(np.array([1.0, -2.5, 0.25]))

    assert raw == b"\x00\x00\x80\x3f" + b"\x00\x00\x20\xc0" + b"\x00\x00\x80\x3e"
    assert vector_from_bytes(raw).tolist() == [1.0, -2.5, 0.25]
    assert vector_from_bytes(memoryview(raw)).tolist() == [1.0, -2.5, 0.25]  # PostgreSQL's


# --- The numpy index -----------------------------------------------------------------------------


def index_of(vectors: dict[int, list[float]]) -> NumpyVectorIndex:
    return NumpyVectorIndex.from_rows(
        (chunk_id, vector_bytes(np.array(vector))) for chunk_id, vector in vectors.items()
    )


def test_search_returns_the_nearest_chunks_with_their_cosines_nearest_first():
    index = index_of({11: [1, 0, 0], 12: [0, 3, 0], 13: [1, 1, 0], 14: [0, 0, -2]})

    hits = index.search(np.array([2.0, 0.5, 0.0]), k=3)

    assert [chunk_id for chunk_id, _ in hits] == [11, 13, 12]
    # Rows and the query are normalised: these are cosines.
    assert hits[0][1] == pytest.approx(2 / np.hypot(2, 0.5))
    assert hits[1][1] == pytest.approx(2.5 / (np.hypot(2, 0.5) * np.sqrt(2)))
    assert hits[2][1] == pytest.approx(0.5 / np.hypot(2, 0.5))
    assert len(index) == 4
    assert index.dimensions == 3


def test_equal_cosines_come_in_chunk_order_and_k_is_capped():
    index = index_of({30: [1, 0], 10: [1, 0], 20: [1, 0]})

    assert [chunk_id for chunk_id, _ in index.search(np.array([1.0, 0.0]), k=10)] == [10, 20, 30]


def test_a_query_of_another_length_or_zero_or_k_zero_finds_nothing():
    index = index_of({1: [1, 0, 0]})

    assert index.search(np.array([1.0, 0.0]), k=5) == []
    assert index.search(np.zeros(3), k=5) == []
    assert index.search(np.array([1.0, 0.0, 0.0]), k=0) == []


def test_rows_of_another_length_than_the_first_and_malformed_rows_are_left_out():
    index = NumpyVectorIndex.from_rows(
        [
            (1, b"\x00\x00"),  # not whole float32s
            (2, vector_bytes(np.array([0.0, 1.0]))),
            (3, vector_bytes(np.array([1.0, 0.0, 0.0]))),  # the model's dimensions changed
            (4, vector_bytes(np.array([1.0, 1.0]))),
        ]
    )

    assert index.chunk_ids.tolist() == [2, 4]
    assert [chunk_id for chunk_id, _ in index.search(np.array([1.0, 0.0]), k=2)] == [4, 2]


def test_an_empty_index_finds_nothing():
    index = NumpyVectorIndex.from_rows([])

    assert len(index) == 0
    assert index.search(np.array([1.0]), k=5) == []
