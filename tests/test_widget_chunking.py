"""chunking_explorer() driven like a learner would (set a control's .value), and the chunking plots.

The explorer's mask is checked against an index rule, its reach against
``txl_earliest_position`` and the boolean power of the mask computed here, and the PNG must change
with what is drawn.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from oracles import arange_mask, reach_brute_force

from tutor_lib.chunking import ring_schedule, txl_earliest_position
from tutor_lib.plots import plot_query_reach, plot_retrieval, plot_ring_schedule
from tutor_lib.widgets import chunking_explorer
from tutor_lib.widgets.chunking import ChunkingExplorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(w) -> bytes:
    data = bytes(w.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def test_default_view_is_causal_chunks():
    w = chunking_explorer()
    assert isinstance(w, ChunkingExplorer) and w.error is None
    expected = arange_mask(64, 64, lambda i, j: (i // 16 == j // 16) & (j <= i))
    np.testing.assert_array_equal(w.mask, expected)
    # chunks never connect, whatever the depth: query 63 reaches only its own chunk
    assert w.stats["query_first_key"] == [48, 48]
    assert "1: 15 back · 2: 15 back" in w.info.value


def test_chunk_equal_to_n_is_full_causal_attention():
    w = chunking_explorer(n=32, chunk=32, query=31)
    np.testing.assert_array_equal(w.mask, arange_mask(32, 32, lambda i, j: j <= i))
    assert w.stats["query_coverage"] == 1.0


def test_memory_reach_grows_with_depth_as_transformer_xl():
    w = chunking_explorer(n=64, chunk=8, memory=8, layers=4, query=60)
    expected = [txl_earliest_position(60, 8, 8, layers) for layers in range(1, 5)]
    assert w.stats["query_first_key"] == expected == [48, 40, 32, 24]
    np.testing.assert_array_equal(w.receptive, reach_brute_force(w.mask, 4))


def test_global_tokens_connect_every_pair_in_two_layers():
    w = chunking_explorer(n=48, chunk=8, causal=False, layers=1, query=40)
    assert w.stats["query_coverage"] < 0.2
    before = _png(w)
    with_global = w.controls["global_tokens"]
    with_global.value = 1
    assert w.stats["query_coverage"] < 1.0  # one layer: the query sees its chunk + token 0
    w.controls["layers"].value = 2
    assert w.receptive.all() and w.stats["coverage"] == 1.0
    assert _png(w) != before


def test_overlap_widens_each_chunk_on_both_sides():
    w = chunking_explorer(n=32, chunk=8, overlap=2, causal=False, query=10)
    rule = arange_mask(32, 32, lambda i, j: (j >= (i // 8) * 8 - 2) & (j < (i // 8) * 8 + 10))
    np.testing.assert_array_equal(w.mask, rule)


def test_query_past_the_end_is_clamped_with_a_note():
    w = chunking_explorer(n=64, query=63)
    w.controls["n"].value = 20
    assert w.query == 19 and "past the end" in w.info.value and w.error is None
    w.controls["global_tokens"].value = 16
    w.controls["n"].value = 8
    assert "all tokens global" in w.info.value
    np.testing.assert_array_equal(w.mask, np.tril(np.ones((8, 8), dtype=bool)))  # global, causal


def test_builder_clamps_with_a_note_and_rejects_wrong_types():
    w = chunking_explorer(chunk=1000)
    assert w.controls["chunk"].value == 64 and "⚠" in w.info.value
    with pytest.raises(TypeError, match="memory"):
        chunking_explorer(memory=2.5)
    with pytest.raises(TypeError, match="causal"):
        chunking_explorer(causal="yes")


def test_plot_retrieval_bins_and_limits():
    distance = np.arange(1, 65)
    correct = distance <= 16
    ax = plot_retrieval(distance, correct, bin_width=16, chance=0.1, ax=Figure().add_subplot())
    steps = ax.patches[0]
    np.testing.assert_allclose(steps.get_data().values, [15 / 15, 1 / 16, 0, 0])
    assert ax.get_ylim() == (0, 1.05) and ax.get_xlabel().startswith("distance")
    with pytest.raises(TypeError, match="correct"):
        plot_retrieval(distance, distance)
    with pytest.raises(ValueError, match="bin_width"):
        plot_retrieval(distance, correct, bin_width=0)


def test_plot_query_reach_rows_are_layers():
    reach = np.zeros((3, 10), dtype=bool)
    reach[0, 8:] = reach[1, 5:] = reach[2, 2:] = True
    ax = plot_query_reach(reach, 9, ax=Figure().add_subplot())
    image = ax.get_images()[0].get_array()
    assert image.shape == (3, 10) and image[0, 7] == 0 and image[2, 2] == 1
    with pytest.raises(ValueError, match="query"):
        plot_query_reach(reach, 10)


def test_plot_ring_schedule_labels_blocks_and_greys_skipped_cells():
    table = ring_schedule(3)
    computed = table <= np.arange(3)[None, :]  # causal: device p needs blocks 0 … p
    ax = plot_ring_schedule(table, computed, ax=Figure().add_subplot())
    texts = [t.get_text() for t in ax.texts]
    assert texts[:3] == ["K/V 0", "K/V 1", "K/V 2"] and len(texts) == 9
    image = ax.get_images()[0].get_array()
    np.testing.assert_array_equal(image, computed.astype(int))
    with pytest.raises(ValueError, match="computed"):
        plot_ring_schedule(table, np.ones((2, 2), dtype=bool))
