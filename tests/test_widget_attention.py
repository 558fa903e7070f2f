"""attention_explorer(): driven like a learner would (set a control's .value), no kernel needed.

Each test checks the data on the widget (.scores, .weights, .stats) against an independent oracle and
that the PNG bytes of the image change (or stay identical) accordingly. The d_k / scaling claims are
checked statistically over several seeds, not against exact numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracles import assert_close_f64, dense_reference

from tutor_lib.widgets import attention_explorer
from tutor_lib.widgets.attention import AttentionExplorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(explorer) -> bytes:
    data = bytes(explorer.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def _oracle(n, d_k, *, scale, causal, seed):
    """Scores and weights rebuilt from the documented recipe: q, k ~ N(0, 1) from default_rng(seed)."""
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((n, d_k)), rng.standard_normal((n, d_k))
    weights = dense_reference(
        q, k, np.eye(n), causal=causal, scale=scale
    )  # V = I gives the weights
    return (q @ k.T) * scale, weights


def test_builds_without_a_kernel_then_length_slider_changes_shape_and_image():
    e = attention_explorer(n=6, d_k=16, seed=1)
    assert isinstance(e, AttentionExplorer)
    assert e.image.format == "png"
    before = _png(e)
    scores, weights = _oracle(6, 16, scale=16**-0.5, causal=False, seed=1)
    assert_close_f64(e.scores, scores)
    assert_close_f64(e.weights, weights)
    e.n_slider.value = 11
    assert e.weights.shape == (11, 11) and e.scores.shape == (11, 11)
    assert_close_f64(e.weights, _oracle(11, 16, scale=0.25, causal=False, seed=1)[1])
    assert _png(e) != before
    e.n_slider.value = 1  # a single token attends to itself with weight 1
    assert_close_f64(e.weights, np.ones((1, 1)))


def test_causal_toggle_zeroes_the_upper_triangle():
    e = attention_explorer(n=7, d_k=8, seed=2)
    before, dense = _png(e), e.weights
    assert (dense[np.triu_indices(7, k=1)] > 0).all()
    e.causal_toggle.value = True
    assert np.array_equal(e.weights[np.triu_indices(7, k=1)], np.zeros(21))
    assert_close_f64(e.weights.sum(axis=-1), np.ones(7))
    assert_close_f64(e.weights, _oracle(7, 8, scale=8**-0.5, causal=True, seed=2)[1])
    assert _png(e) != before
    visible = e.scores[np.tril_indices(7)]  # the info line: statistics of the allowed scores only
    assert f"std of scaled scores {visible.std():.2f}" in e.info.value
    assert f"mean largest probability {e.weights.max(axis=-1).mean():.2f}" in e.info.value


def test_multiplier_and_sqrt_toggle_rescale_the_scores_exactly():
    e = attention_explorer(n=5, d_k=64, seed=3)
    base, before = e.scores.copy(), _png(e)
    e.multiplier_slider.value = 4.0
    assert_close_f64(e.scores, 4.0 * base)
    assert _png(e) != before
    e.sqrt_toggle.value = False  # scale 4·1 instead of 4/sqrt(64)
    assert_close_f64(e.scores, 32.0 * base)
    assert_close_f64(e.weights, _oracle(5, 64, scale=4.0, causal=False, seed=3)[1])


def test_d_k_without_scaling_saturates_the_softmax():
    e = attention_explorer(n=12, d_k=4, seed=0)
    e.sqrt_toggle.value = False
    max_weight, images = {}, set()
    for d_k in (4, 512):
        e.d_k_slider.value = d_k
        assert e.scores.shape == (12, 12)
        assert_close_f64(e.scores, _oracle(12, d_k, scale=1.0, causal=False, seed=0)[0])
        max_weight[d_k] = e.stats["max_weight"]
        images.add(_png(e))
    assert len(images) == 2
    assert max_weight[4] + 0.3 < max_weight[512]
    assert max_weight[512] > 0.9  # nearly one-hot rows


def test_seed_changes_data_and_same_seed_gives_identical_bytes():
    e = attention_explorer(n=8, d_k=32, seed=0)
    first, weights = _png(e), e.weights.copy()
    e.seed_slider.value = 5
    assert not np.allclose(e.weights, weights) and _png(e) != first
    again = attention_explorer(n=8, d_k=32, seed=5)  # a fresh build with the same seed ...
    assert _png(again) == _png(e) and np.array_equal(again.weights, e.weights)  # ... same bytes


def test_max_entropy_counts_allowed_keys_not_underflowed_weights():
    """Saturated rows have weights that underflow to exactly 0; those keys are still allowed, so the
    most entropy possible stays log2(n) (the info line must not say fewer bits are possible)."""
    e = attention_explorer(n=8, d_k=512, multiplier=16.0, seed=0)
    e.sqrt_toggle.value = False  # scale 16: score gaps of hundreds, exp underflows to 0
    assert (e.weights == 0).any()  # the situation this test is about really happens
    assert e.stats["max_entropy_bits"] == pytest.approx(3.0)
    assert "of 3.00 bits possible" in e.info.value
    e.causal_toggle.value = True  # now the mask really removes keys: row i has i + 1 of them
    assert e.stats["max_entropy_bits"] == pytest.approx(np.mean(np.log2(np.arange(1, 9))))
