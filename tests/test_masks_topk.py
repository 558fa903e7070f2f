"""tutor_lib.masks.topk_mask: against a brute-force sort with explicit tie-breaking, limits, and the
tile sparsity lesson 04 claims for it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import dense_reference

from tutor_lib.masks import keys_per_query, local_mask, tile_sparsity, topk_mask

SETTINGS = settings(max_examples=60, deadline=None)


def topk_brute_force(scores: np.ndarray, k: int) -> np.ndarray:
    """Row by row: sort (−score, index) pairs in Python and keep the first k."""
    flat = scores.reshape(-1, scores.shape[-1])
    out = np.zeros(flat.shape, dtype=bool)
    for r, row in enumerate(flat):
        ranked = sorted(range(row.size), key=lambda j: (-row[j], j))
        out[r, ranked[:k]] = True
    return out.reshape(scores.shape)


@SETTINGS
@given(
    n_q=st.integers(1, 7),
    n_k=st.integers(1, 9),
    k=st.integers(0, 11),
    levels=st.integers(1, 4),  # few distinct values: many ties
    seed=st.integers(0, 2**16),
)
def test_topk_matches_a_brute_force_sort_with_ties_to_the_lower_index(n_q, n_k, k, levels, seed):
    scores = np.random.default_rng(seed).integers(0, levels, (n_q, n_k)).astype(np.float64)
    mask = topk_mask(scores, k)
    np.testing.assert_array_equal(mask, topk_brute_force(scores, k))
    assert mask.dtype == bool and mask.shape == scores.shape
    assert (keys_per_query(mask) == min(k, n_k)).all()


def test_ties_go_to_the_lower_index():
    scores = np.array([[1.0, 3.0, 3.0, 3.0, 0.0]])
    np.testing.assert_array_equal(topk_mask(scores, 2), [[False, True, True, False, False]])
    np.testing.assert_array_equal(topk_mask(np.zeros((1, 4)), 1), [[True, False, False, False]])


def test_k_at_least_n_k_keeps_all_and_k_zero_keeps_none():
    scores = np.random.default_rng(0).standard_normal((3, 5))
    assert topk_mask(scores, 5).all() and topk_mask(scores, 99).all()
    assert not topk_mask(scores, 0).any()


def test_leading_dimensions_are_independent_rows():
    scores = np.random.default_rng(1).standard_normal((2, 3, 4, 6))  # (batch, heads, n_q, n_k)
    mask = topk_mask(scores, 2)
    for b in range(2):
        for h in range(3):
            np.testing.assert_array_equal(mask[b, h], topk_mask(scores[b, h], 2))


def test_infinite_scores_are_ranked_and_nan_is_an_error():
    scores = np.array([[-np.inf, 0.0, np.inf, -np.inf]])
    np.testing.assert_array_equal(topk_mask(scores, 2), [[False, True, True, False]])
    np.testing.assert_array_equal(topk_mask(scores, 3), [[True, True, True, False]])
    with pytest.raises(ValueError, match="scores"):
        topk_mask(np.array([[0.0, np.nan]]), 1)


def test_attention_with_topk_keeps_exactly_the_k_best_keys():
    """Dense attention with the top-k mask == attention over the k gathered keys of each query."""
    rng = np.random.default_rng(2)
    n, d, k = 12, 4, 3
    q, kk, v = (rng.standard_normal((n, d)) for _ in range(3))
    scores = q @ kk.T
    out = dense_reference(q, kk, v, topk_mask(scores, k))
    for i in range(n):
        keep = np.argsort(-scores[i], kind="stable")[:k]
        w = np.exp(scores[i, keep] / np.sqrt(d) - (scores[i, keep] / np.sqrt(d)).max())
        np.testing.assert_allclose(out[i], (w / w.sum()) @ v[keep], rtol=0, atol=1e-12)


def test_topk_of_random_scores_has_almost_no_tile_sparsity():
    """Lesson 04's claim: an eighth of the keys per query, yet no 32 × 32 tile is empty."""
    n, block = 256, 32
    scores = np.random.default_rng(3).standard_normal((n, n))
    mask = topk_mask(scores, n // 8)
    assert abs(mask.mean() - 1 / 8) < 1e-12
    assert tile_sparsity(mask, block) < 0.02
    # negative control: scores that favour nearby keys give a band, and most tiles are empty
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    band = topk_mask(-np.abs(i - j).astype(float), 9)
    assert (band <= local_mask(n, 8, 8)).all() and tile_sparsity(band, block) > 0.6


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="scores"):
        topk_mask(np.zeros(4), 1)  # one row is not a (n_q, n_k) matrix
    with pytest.raises(TypeError, match="k"):
        topk_mask(np.zeros((2, 2)), 1.5)
    with pytest.raises(ValueError, match="k"):
        topk_mask(np.zeros((2, 2)), -1)
    with pytest.raises(TypeError, match="scores"):
        topk_mask(np.zeros((2, 2), dtype=bool), 1)
