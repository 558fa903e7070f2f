"""online_softmax_stepper() and hbm_traffic_explorer(), driven like a learner would (set a
control's .value), no kernel needed.

The running state on the widget is checked against sums computed directly over the keys seen so far
(an independent oracle), the visited tiles against a causal mask, and the PNG must change with what
is drawn. The plot helpers are checked for orientation and colours.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure
from oracles import arange_mask

from tutor_lib.plots import plot_online_softmax_step, plot_tile_schedule
from tutor_lib.tiled import flash_hbm_accesses, standard_hbm_accesses, tile_working_set_bytes
from tutor_lib.widgets import hbm_traffic_explorer, online_softmax_stepper
from tutor_lib.widgets.tiled import N_KEYS, HbmTrafficExplorer, OnlineSoftmaxStepper

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(w) -> bytes:
    data = bytes(w.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def _prefix_state(scores, values, stop):
    """Max, normalizer and un-normalised output over keys [0, stop), straight from the definition."""
    seen = scores[:stop]
    m = seen.max()
    e = np.exp(seen - m)
    return m, e.sum(), e @ values[:stop]


def test_default_view_and_every_step_match_the_prefix_sums():
    w = online_softmax_stepper()
    assert isinstance(w, OnlineSoftmaxStepper) and w.block_slider.value == 4
    for control in (w.block_slider, w.step_slider, w.seed_slider):
        assert isinstance(control, widgets.IntSlider)
    images = set()
    for step in range(1, 5):
        w.step_slider.value = step
        stop = min(4 * step, N_KEYS)
        m, norm, acc = _prefix_state(w.scores, w.values, stop)
        assert w.state["block"] == (4 * step - 4, stop)
        assert float(w.state["max"]) == pytest.approx(m, abs=1e-12)
        assert float(w.state["normalizer"]) == pytest.approx(norm, rel=1e-12)
        np.testing.assert_allclose(w.state["acc"], acc, rtol=1e-12)
        np.testing.assert_allclose(w.state["output"], acc / norm, rtol=1e-12)
        images.add(_png(w))
        assert ("equals softmax: True" in w.info.value) == (step == 4)
    assert len(images) == 4
    assert w.equals_softmax is True


def test_rescale_is_shown_before_and_after():
    w = online_softmax_stepper(block=3, step=2, seed=5)
    m_before, l_before, _ = _prefix_state(w.scores, w.values, 3)
    m_after, _, _ = _prefix_state(w.scores, w.values, 6)
    assert float(w.state["max_before"]) == pytest.approx(m_before)
    assert float(w.state["rescale"]) == pytest.approx(np.exp(m_before - m_after))
    assert f"{m_before:+.3f} → {m_after:+.3f}" in w.info.value
    assert f"{l_before:.3f} ×" in w.info.value


def test_block_slider_clamps_the_step_with_a_note_and_block_n_is_one_step():
    w = online_softmax_stepper(block=2, step=8)
    w.block_slider.value = 5  # 4 key blocks now
    assert w.state["block"] == (15, 16) and w.notes and "⚠" in w.info.value
    assert w.equals_softmax is True
    w.block_slider.value = N_KEYS
    assert len(w.states) == 1 and float(w.state["rescale"]) == 0.0  # nothing to rescale
    assert w.equals_softmax is True


def test_tile_grid_shows_visited_columns_and_causal_skips():
    w = online_softmax_stepper(block=4, step=2)
    expected = np.zeros((4, 4), dtype=bool)
    expected[:, :2] = True
    np.testing.assert_array_equal(w.visited, expected)
    assert not w.skipped.any()
    before = _png(w)
    w.causal_toggle.value = True
    # a tile is skipped when every (i, j) in it has j > i: none of its pairs is allowed
    allowed = arange_mask(N_KEYS, N_KEYS, lambda i, j: j <= i)
    tiles_allowed = allowed.reshape(4, 4, 4, 4).any(axis=(1, 3))
    np.testing.assert_array_equal(w.skipped, ~tiles_allowed)
    np.testing.assert_array_equal(w.visited, expected & tiles_allowed)
    assert _png(w) != before


def test_working_set_follows_the_block_size():
    w = online_softmax_stepper(block=4)
    small = w.working_set
    w.block_slider.value = 8
    assert w.working_set == tile_working_set_bytes(8, 8, 64, 64, 4) > small
    assert "working set of one tile step" in w.info.value


def test_seed_changes_the_scores_and_the_picture():
    w = online_softmax_stepper(seed=0)
    before, scores = _png(w), w.scores.copy()
    w.seed_slider.value = 3
    assert not np.array_equal(w.scores, scores) and _png(w) != before


def test_plot_helpers_orientation_and_colours():
    ax = plot_tile_schedule(np.array([[True, False], [True, True]]), 1, ax=Figure().add_subplot())
    image = ax.get_images()[0].get_array()
    assert image.shape == (2, 2) and image[0, 1] == 0 and image[1, 1] == 2  # rows = query blocks
    assert ax.get_xlabel() == "key block" and ax.get_ylabel() == "query block"
    ax = plot_online_softmax_step(
        np.array([0.0, 1.0, -np.inf, 2.0]), (2, 4), 1.0, 2.0, ax=Figure().add_subplot()
    )
    heights = [bar.get_height() for bar in ax.patches[:4]]
    assert heights == [0.0, 1.0, 0.0, 2.0]  # a masked key is drawn at 0, not -inf
    assert [line.get_ydata()[0] for line in ax.get_lines()] == [1.0, 2.0]
    with pytest.raises(ValueError, match="scores"):
        plot_online_softmax_step(np.zeros((2, 2)), (0, 1), 0.0, 0.0)
    with pytest.raises(ValueError, match="visited"):
        plot_tile_schedule(np.zeros(3, dtype=bool))


def test_hbm_explorer_follows_the_io_model():
    w = hbm_traffic_explorer()
    assert isinstance(w, HbmTrafficExplorer)
    assert w.sram == 100 * 1024 // 2 and w.blocks == (64, 200)
    # Algorithm 0 by hand: read Q, K, write S, read S, write P, read P, V, write O
    assert w.standard == 2 * 4096 * 64 + 4096**2 + 2 * 4096**2 + 4096**2 + 2 * 4096 * 64
    passes = -(-4096 // 200)
    assert w.flash == 4096 * 64 + 2 * 4096 + 2 * 4096 * 64 + passes * (3 * 4096 * 64 + 4 * 4096)
    assert "3.9× less" in w.info.value
    before = _png(w)
    w.sram_slider.value = 1024  # more SRAM: fewer passes, less traffic
    assert w.flash < flash_hbm_accesses(4096, 64, 100 * 1024 // 2) and _png(w) != before
    w.sram_slider.value, w.d_slider.value = 16, 256  # 8 × 8 tiles: worse than standard
    assert w.flash > w.standard and "MORE" in w.info.value
    w.n_slider.value = 512
    assert w.standard == standard_hbm_accesses(512, 256)
