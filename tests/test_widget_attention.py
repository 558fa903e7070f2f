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
from tutor_lib.widgets.attention import AttentionExplorer, attention_weights_demo, row_stats

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
    assert f"mean max weight {e.weights.max(axis=-1).mean():.2f}" in e.info.value


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


def test_scaling_statistics_over_seeds():
    """With 1/sqrt(d_k) the score std stays ~1 for every d_k; without it, it grows like sqrt(d_k)."""
    seeds = range(8)
    for d_k in (4, 64, 512):
        scaled = [attention_weights_demo(16, d_k, seed=s)[0].std() for s in seeds]
        raw = [attention_weights_demo(16, d_k, sqrt_scaling=False, seed=s)[0].std() for s in seeds]
        assert 0.8 < np.mean(scaled) < 1.2, (d_k, np.mean(scaled))
        assert 0.8 < np.mean(raw) / np.sqrt(d_k) < 1.2, (d_k, np.mean(raw))

    def mean_max_weight(d_k, sqrt_scaling):
        return np.mean(
            [
                row_stats(attention_weights_demo(16, d_k, sqrt_scaling=sqrt_scaling, seed=s)[1])[
                    "max_weight"
                ]
                for s in seeds
            ]
        )

    # scaled: the peakiness does not depend on d_k; unscaled: it climbs towards one-hot
    assert abs(mean_max_weight(4, True) - mean_max_weight(512, True)) < 0.15
    assert mean_max_weight(512, False) > mean_max_weight(4, False) + 0.3


def test_seed_changes_data_and_same_seed_gives_identical_bytes():
    e = attention_explorer(n=8, d_k=32, seed=0)
    first, weights = _png(e), e.weights.copy()
    e.seed_slider.value = 5
    assert not np.allclose(e.weights, weights) and _png(e) != first
    again = attention_explorer(n=8, d_k=32, seed=5)  # a fresh build with the same seed ...
    assert _png(again) == _png(e) and np.array_equal(again.weights, e.weights)  # ... same bytes


def test_row_stats_closed_forms():
    uniform = np.full((4, 4), 0.25)
    stats = row_stats(uniform)
    assert stats["entropy_bits"] == pytest.approx(2.0)
    assert stats["max_entropy_bits"] == pytest.approx(2.0)
    assert stats["max_weight"] == pytest.approx(0.25)
    one_hot = np.eye(3)
    assert row_stats(one_hot)["entropy_bits"] == pytest.approx(0.0)
    assert row_stats(one_hot)["max_weight"] == pytest.approx(1.0)
    causal_uniform = np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None]  # row i: i+1 equal weights
    expected = np.mean(np.log2(np.arange(1, 5)))
    stats = row_stats(causal_uniform, np.tril(np.ones((4, 4), dtype=bool)))
    assert stats["entropy_bits"] == pytest.approx(expected)  # uniform over the allowed keys ...
    assert stats["max_entropy_bits"] == pytest.approx(expected)  # ... is the most possible
    assert row_stats(causal_uniform)["max_entropy_bits"] == pytest.approx(2.0)  # no mask: 4 keys


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
