"""tutor_lib.chunking: every pattern equals dense attention with its mask; ring attention is exact.

Masks are built here from index rules (``oracles.arange_mask``), not with tutor_lib.masks, and the
dense reference is the torch oracle (``oracles.dense_reference``), float64, ≤ 1e-10. Limits: chunk = n
is full attention, overlap ≥ n is full attention, one device is dense. Negative controls: chunked
attention differs from full attention when chunk < n, and the retrieval head fails where the needle is
masked.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import arange_mask, assert_close_f64, dense_masked_torch, dense_reference, numpy_qkv

from tutor_lib import masks
from tutor_lib.chunking import (
    RETRIEVAL_METHODS,
    block_bounds,
    chunk_bounds,
    chunked_local_attention,
    chunking_mask,
    overlapping_chunk_attention,
    retrieval_correct,
    retrieval_task,
    ring_attention,
    ring_block_update,
    ring_memory_bytes,
    ring_schedule,
    segment_recurrence,
    streaming_mask,
    transformer_xl_attention,
    txl_earliest_position,
)
from tutor_lib.tiled import finalize, initial_state

SETTINGS = settings(max_examples=25, deadline=None)
shapes = st.fixed_dictionaries(
    {
        "lead": st.sampled_from([(), (2,), (2, 3)]),
        "n": st.integers(1, 33),
        "d_k": st.integers(1, 5),
        "d_v": st.integers(1, 5),
        "chunk": st.integers(1, 40),
        "overlap": st.integers(0, 12),
        "causal": st.booleans(),
        "seed": st.integers(0, 999),
    }
)


def _window_rule(chunk, left, right, causal):
    """Query i in chunk [s, e) sees keys [s − left, e + right), and j <= i when causal."""

    def rule(i, j):
        start = (i // chunk) * chunk
        ok = (j >= start - left) & (j < start + chunk + right)
        return ok & (j <= i) if causal else ok

    return rule


@SETTINGS
@given(shapes)
def test_chunked_equals_dense_with_a_block_diagonal_mask(s):
    q, k, v = numpy_qkv(s["lead"], s["n"], s["n"], s["d_k"], s["d_v"], s["seed"])
    mask = arange_mask(s["n"], s["n"], _window_rule(s["chunk"], 0, 0, s["causal"]))
    got = chunked_local_attention(q, k, v, s["chunk"], causal=s["causal"])
    assert_close_f64(got, dense_reference(q, k, v, mask))
    if not s["causal"]:  # the library's own block mask agrees with the rule
        np.testing.assert_array_equal(masks.block_mask(s["n"], s["chunk"]), mask)


@SETTINGS
@given(shapes)
def test_overlapping_chunks_equal_dense_with_their_mask(s):
    n, chunk, overlap, causal = s["n"], s["chunk"], s["overlap"], s["causal"]
    q, k, v = numpy_qkv(s["lead"], n, n, s["d_k"], s["d_v"], s["seed"])
    mask = arange_mask(n, n, _window_rule(chunk, overlap, overlap, causal))
    got = overlapping_chunk_attention(q, k, v, chunk, overlap, causal=causal)
    assert_close_f64(got, dense_reference(q, k, v, mask))
    np.testing.assert_array_equal(chunking_mask(n, chunk, overlap=overlap, causal=causal), mask)


@pytest.mark.parametrize("causal", [False, True])
def test_the_limits_are_full_attention(causal):
    q, k, v = numpy_qkv((2,), 20, 20, 4, 3, seed=1)
    full = dense_reference(q, k, v, causal=causal)
    assert_close_f64(chunked_local_attention(q, k, v, 20, causal=causal), full)
    assert_close_f64(chunked_local_attention(q, k, v, 99, causal=causal), full)
    assert_close_f64(overlapping_chunk_attention(q, k, v, 3, 20, causal=causal), full)
    assert_close_f64(
        overlapping_chunk_attention(q, k, v, 5, 0, causal=causal),
        (chunked_local_attention(q, k, v, 5, causal=causal)),
    )


def test_chunked_differs_from_full_attention_when_chunk_is_shorter():
    """Negative control: the equivalence tests above would catch a chunked == full bug."""
    q, k, v = numpy_qkv((), 64, 64, 8, 8, seed=2)
    diff = np.abs(chunked_local_attention(q, k, v, 16) - dense_reference(q, k, v)).max()
    assert diff > 0.1
    # and a token's output does not move when another chunk changes (no path between chunks)
    k2, v2 = k.copy(), v.copy()
    k2[:16], v2[:16] = 5.0, -3.0
    moved = chunked_local_attention(q, k2, v2, 16) - chunked_local_attention(q, k, v, 16)
    assert np.abs(moved[16:]).max() == 0.0 and np.abs(moved[:16]).max() > 0.1


@SETTINGS
@given(shapes, st.integers(0, 12))
def test_transformer_xl_equals_dense_causal_over_memory_and_segment(s, m):
    n, d_k, d_v = s["n"], s["d_k"], s["d_v"]
    q, k, v = numpy_qkv(s["lead"], n, n, d_k, d_v, s["seed"])
    _, mem_k, mem_v = numpy_qkv(s["lead"], n, m, d_k, d_v, s["seed"] + 1)
    keys, values = np.concatenate([mem_k, k], -2), np.concatenate([mem_v, v], -2)
    mask = arange_mask(n, m + n, lambda i, j: j <= i + m)  # memory fully, segment causally
    got = transformer_xl_attention(q, k, v, mem_k, mem_v)
    assert_close_f64(got, dense_reference(q, keys, values, mask))


def test_transformer_xl_without_memory_is_causal_attention():
    q, k, v = numpy_qkv((3,), 7, 7, 4, 2, seed=3)
    empty_k, empty_v = np.zeros((3, 0, 4)), np.zeros((3, 0, 2))
    got = transformer_xl_attention(q, k, v, empty_k, empty_v)
    assert_close_f64(got, dense_reference(q, k, v, causal=True))


@SETTINGS
@given(
    st.integers(1, 30),
    st.integers(1, 9),
    st.integers(0, 9),
    st.integers(0, 9),
    st.integers(0, 4),
    st.booleans(),
)
def test_chunking_mask_follows_its_rule(n, chunk, overlap, memory, global_tokens, causal):
    def rule(i, j):
        start = (i // chunk) * chunk
        ok = (j >= start - overlap - memory) & (j < start + chunk + overlap)
        ok = ok | (i < global_tokens) | (j < global_tokens)
        return ok & (j <= i) if causal else ok

    got = chunking_mask(
        n, chunk, overlap=overlap, global_tokens=global_tokens, memory=memory, causal=causal
    )
    np.testing.assert_array_equal(got, arange_mask(n, n, rule))


def test_streaming_mask_keeps_sinks_and_the_recent_window():
    got = streaming_mask(12, 2, 3)
    np.testing.assert_array_equal(
        got, arange_mask(12, 12, lambda i, j: (j <= i) & ((j < 2) | (j > i - 3)))
    )
    assert got.sum(1).max() == 2 + 3  # the cache never holds more than sinks + window keys
    np.testing.assert_array_equal(streaming_mask(9, 0, 4), masks.local_mask(9, 3, 0))


@pytest.mark.parametrize("segment, memory, layers", [(4, 4, 3), (5, 2, 4), (3, 7, 2), (6, 0, 3)])
def test_txl_earliest_position_equals_the_receptive_field(segment, memory, layers):
    n = 40
    mask = arange_mask(n, n, lambda i, j: (j <= i) & (j >= (i // segment) * segment - memory))
    reach = masks.receptive_field(mask, layers)
    for position in range(n):
        expected = int(np.flatnonzero(reach[position])[0])
        assert txl_earliest_position(position, segment, memory, layers) == expected
    assert txl_earliest_position(17, segment, memory, 0) == 17


def _recurrence_weights(d, layers, seed):
    g = torch.Generator().manual_seed(seed)
    return [
        tuple(torch.randn(d, d, generator=g, dtype=torch.float64) / d**0.5 for _ in range(3))
        for _ in range(layers)
    ]


@pytest.mark.parametrize("n, segment, memory, layers", [(13, 4, 4, 2), (16, 4, 6, 3), (9, 9, 3, 2)])
def test_segment_recurrence_equals_one_dense_masked_pass(n, segment, memory, layers):
    d = 5
    x = torch.randn(2, n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
    weights = _recurrence_weights(d, layers, seed=segment)
    mask = arange_mask(n, n, lambda i, j: (j <= i) & (j >= (i // segment) * segment - memory))
    h = x
    for w_q, w_k, w_v in weights:  # h ← h + masked attention, the whole sequence at once
        h = h + dense_masked_torch(h @ w_q, h @ w_k, h @ w_v, mask)
    got = segment_recurrence(x, weights, segment=segment, memory=memory)
    assert_close_f64(got.detach().numpy(), h.detach().numpy())


def test_stop_gradient_keeps_the_gradient_inside_the_segment():
    n, segment, d = 12, 4, 3
    weights = _recurrence_weights(d, 2, seed=0)
    grads = {}
    for stop in (True, False):
        x = torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
        x.requires_grad_(True)
        out = segment_recurrence(x, weights, segment=segment, memory=4, stop_gradient=stop)
        out[-segment:].sum().backward()  # a loss on the last segment only
        grads[stop] = x.grad
    assert grads[True][:-segment].abs().max() == 0.0  # no gradient reaches the memory
    assert grads[True][-segment:].abs().max() > 0
    assert grads[False][:-segment].abs().max() > 1e-3  # without SG it flows back (BPTT)


def test_block_bounds_and_chunk_bounds():
    assert block_bounds(10, 4) == [(0, 3), (3, 6), (6, 8), (8, 10)]
    assert block_bounds(5, 5) == [(i, i + 1) for i in range(5)]
    assert chunk_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunk_bounds(3, 8) == [(0, 3)]


def test_ring_schedule_every_device_sees_every_block_once():
    table = ring_schedule(5)
    for row in (*table, *table.T):
        assert sorted(row) == list(range(5))
    assert list(table[1]) == [4, 0, 1, 2, 3]  # device p received block p − 1 from device p − 1


@SETTINGS
@given(
    st.sampled_from([(), (2,)]),
    st.integers(1, 30),
    st.integers(1, 30),
    st.integers(1, 6),
    st.booleans(),
    st.integers(0, 999),
)
def test_ring_attention_is_exact(lead, n_q, n_k, devices, causal, seed):
    devices = min(devices, n_q, n_k)
    q, k, v = numpy_qkv(lead, n_q, n_k, 3, 2, seed)
    got = ring_attention(q, k, v, devices, causal=causal)
    assert_close_f64(got, dense_reference(q, k, v, causal=causal))


@pytest.mark.parametrize("devices", [1, 3, 4])
@pytest.mark.parametrize("causal", [False, True])
def test_ring_attention_with_1_3_4_devices_and_an_uneven_last_block(devices, causal):
    q, k, v = numpy_qkv((2,), 23, 23, 5, 4, seed=devices, scale=4.0)  # large logits too
    got = ring_attention(q, k, v, devices, causal=causal)
    assert_close_f64(got, dense_reference(q, k, v, causal=causal))


def test_a_ring_without_rescaling_would_be_wrong():
    """Negative control: averaging per-block softmax outputs (no online rescaling) is not exact."""
    q, k, v = numpy_qkv((), 24, 24, 4, 4, seed=7, scale=2.0)
    blocks = [dense_reference(q, k[s:e], v[s:e]) for s, e in block_bounds(24, 3)]
    assert np.abs(np.mean(blocks, axis=0) - dense_reference(q, k, v)).max() > 0.05


def test_ring_block_update_on_torch_matches_numpy():
    q, k, v = numpy_qkv((), 6, 5, 3, 2, seed=9)
    kwargs = {"q_start": 4, "k_start": 6, "offset": 0, "causal": True, "scale": 0.5}
    state_np = ring_block_update(initial_state(np.zeros(6), 2), q, k, v, **kwargs)
    tq, tk, tv = (torch.tensor(a) for a in (q, k, v))
    state_t = ring_block_update(
        initial_state(torch.zeros(6, dtype=torch.float64), 2), tq, tk, tv, **kwargs
    )
    assert_close_f64(finalize(state_t)[0].numpy(), finalize(state_np)[0])
    mask = arange_mask(6, 5, lambda i, j: j + 6 <= i + 4)
    assert_close_f64(finalize(state_np)[0], dense_reference(q, k, v, mask, scale=0.5))
    skipped = ring_block_update(initial_state(np.zeros(6), 2), q, k, v, **{**kwargs, "k_start": 20})
    assert np.isneginf(skipped["max"]).all()  # a block in the future adds nothing


def test_ring_memory_shrinks_as_one_over_p():
    one = ring_memory_bytes(4096, 64, 64, 1)
    four = ring_memory_bytes(4096, 64, 64, 4)
    assert one["kv_full"] == four["kv_full"] == 4096 * 128 * 4
    assert four["kv"] == 2 * 1024 * 128 * 4 and one["kv"] == one["kv_full"]  # P = 1: no ring
    eight = ring_memory_bytes(4096, 64, 64, 8)
    assert four["total"] == 2 * eight["total"] and one["q"] == 4 * four["q"]


def test_retrieval_head_retrieves_exactly_what_each_pattern_can_see():
    n = 256
    task = retrieval_task(n, np.arange(1, n), seed=3)
    assert retrieval_correct(task, "full attention").all()
    correct = retrieval_correct(task, "chunked", chunk=32)
    # the query at position 255 sits in the last chunk [224, 256): distances 1 … 31 are visible
    assert correct[:31].all()
    assert correct[31:].mean() < 0.2  # elsewhere: chance, 1/16
    window = retrieval_correct(task, "sliding window", window=40)
    assert window[:39].all() and window[39:].mean() < 0.2
    sinks = retrieval_correct(task, "window + sinks", window=40, sinks=4)
    assert sinks[-4:].all()  # the needle at positions 0 … 3 sits in a sink
    txl = retrieval_correct(task, "Transformer-XL", segment=32, memory=32)
    assert txl[:63].all() and txl[63:].mean() < 0.2
    for method in RETRIEVAL_METHODS:
        assert retrieval_correct(task, method).shape == (n - 1,)
