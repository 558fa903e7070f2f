"""Bad inputs for tutor_lib.chunking (chunked, overlapping, Transformer-XL and ring attention, the
masks of these patterns, segment recurrence, the retrieval task)."""

import numpy as np
import torch

from bad_input_rows import error, result, with_value
from tutor_lib.chunking import (
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
from tutor_lib.limits import TooLargeError
from tutor_lib.tiled import initial_state

Q, K, V = np.ones((6, 3)), np.ones((6, 3)), np.ones((6, 2))
MK, MV = np.ones((4, 3)), np.ones((4, 2))
STATE = initial_state(np.zeros(6), 2)
W = [tuple(torch.eye(3, dtype=torch.float64) for _ in range(3))]
X = torch.ones(5, 3, dtype=torch.float64)
TASK = retrieval_task(16, [1, 5, 15])
UPDATE = {"q_start": 0, "k_start": 0, "scale": 1.0}


def _finite(out) -> bool:
    return bool(np.isfinite(np.asarray(out)).all())


ROWS = [
    error(chunk_bounds, 0, 2, name="n", why="n = 0"),
    error(chunk_bounds, 5, 0, name="chunk", why="chunk 0"),
    result(chunk_bounds, 3, 10, check=lambda b: b == [(0, 3)], why="chunk > n: one chunk"),
    error(block_bounds, 3, 4, name="parts", why="more parts than tokens"),
    error(block_bounds, 4, 2.0, raises=TypeError, name="parts", why="float parts"),
    error(chunked_local_attention, Q, K, V, 0, name="chunk", why="chunk 0"),
    error(chunked_local_attention, Q, K, V, 2.5, raises=TypeError, name="chunk", why="float"),
    error(
        chunked_local_attention, Q, np.ones((5, 3)), np.ones((5, 2)), 2, name="n_q", why="n_q≠n_k"
    ),
    error(chunked_local_attention, with_value(Q, (0, 0), np.nan), K, V, 2, name="q", why="NaN q"),
    error(
        chunked_local_attention, Q, K, V, 2, causal=1, raises=TypeError, name="causal", why="int"
    ),
    error(chunked_local_attention, "q", K, V, 2, raises=TypeError, name="q", why="a string"),
    error(
        chunked_local_attention,
        np.ones((2**14, 1, 4, 1)),  # small inputs whose batch dimensions broadcast to 2^28:
        np.ones((1, 4, 1)),  # (2^14, 2^14, 4, 1) outputs, 8 GiB (104 GiB with the scores)
        np.ones((1, 2**14, 4, 1)),
        4,
        raises=TooLargeError,
        name="chunked_local_attention",
        why="an output of 8 GiB from 1 MiB of inputs",
    ),
    result(chunked_local_attention, Q, K, V, 100, check=_finite, why="chunk > n"),
    error(overlapping_chunk_attention, Q, K, V, 2, -1, name="overlap", why="negative overlap"),
    error(overlapping_chunk_attention, Q, K, V, 0, 1, name="chunk", why="chunk 0"),
    result(overlapping_chunk_attention, Q, K, V, 2, 10**6, check=_finite, why="huge overlap"),
    error(
        transformer_xl_attention, Q, K, V, np.ones((4, 2)), MV, name="mem_k", why="mem d_k wrong"
    ),
    error(
        transformer_xl_attention, Q, K, V, MK, np.ones((4, 3)), name="mem_v", why="mem d_v wrong"
    ),
    error(transformer_xl_attention, Q, K, V, MK, np.ones((3, 2)), name="mem_k", why="3 vs 4 rows"),
    error(transformer_xl_attention, Q, K, V, MK, MV * np.inf, name="mem_v", why="inf memory"),
    error(transformer_xl_attention, Q, K, V, None, MV, raises=TypeError, name="mem_k", why="None"),
    error(
        transformer_xl_attention,
        Q,
        K,
        V,
        np.ones((3, 4, 3)),
        np.ones((2, 4, 2)),
        name="leading dims",
        why="memory batch 3 vs 2",
    ),
    result(
        transformer_xl_attention,
        Q,
        K,
        V,
        np.ones((0, 3)),
        np.ones((0, 2)),
        check=_finite,
        why="empty memory",
    ),
    error(chunking_mask, 8, 2, overlap=-1, name="overlap", why="negative overlap"),
    error(chunking_mask, 8, 2, memory=1.5, raises=TypeError, name="memory", why="float"),
    error(chunking_mask, 8, 2, global_tokens=-2, name="global_tokens", why="negative"),
    error(chunking_mask, 8, 2, causal="no", raises=TypeError, name="causal", why="str"),
    error(chunking_mask, 100_000, 2, raises=TooLargeError, name="chunking_mask", why="huge n"),
    result(chunking_mask, 4, 2, global_tokens=99, check=lambda m: m.all(), why="g > n"),
    error(streaming_mask, 8, 1, 0, name="window", why="window 0"),
    error(streaming_mask, 8, -1, 2, name="sinks", why="negative sinks"),
    result(streaming_mask, 4, 10, 10, check=lambda m: m.sum() == 10, why="sinks, window > n"),
    error(txl_earliest_position, -1, 4, 4, 2, name="position", why="negative position"),
    error(txl_earliest_position, 5, 0, 4, 2, name="segment", why="segment 0"),
    error(txl_earliest_position, 5, 4, 4, -1, name="layers", why="negative layers"),
    result(txl_earliest_position, 9, 4, 0, 10**9, check=lambda x: x == 8, why="huge layers"),
    error(ring_schedule, 0, name="num_devices", why="no devices"),
    error(ring_schedule, 10**6, raises=TooLargeError, name="ring_schedule", why="huge table"),
    error(ring_attention, Q, K, V, 0, name="num_devices", why="no devices"),
    error(ring_attention, Q, K, V, 7, name="num_devices", why="more devices than tokens"),
    error(ring_attention, Q, K, V, 2, causal=None, raises=TypeError, name="causal", why="None"),
    error(ring_attention, Q, K * np.nan, V, 2, name="k", why="NaN k"),
    error(ring_attention, Q, K, V, 2, scale=-1.0, name="scale", why="negative scale"),
    result(ring_attention, Q, K, V, 6, check=_finite, why="one token per device"),
    error(
        ring_block_update,
        STATE,
        Q,
        K,
        V,
        q_start=-1,
        k_start=0,
        scale=1.0,
        name="q_start",
        why="<0",
    ),
    error(
        ring_block_update,
        STATE,
        Q,
        K,
        V,
        **UPDATE,
        causal=2,
        raises=TypeError,
        name="causal",
        why="int",
    ),
    error(
        ring_block_update, None, Q, K, V, **UPDATE, raises=TypeError, name="state", why="no state"
    ),
    error(ring_block_update, STATE, Q * np.inf, K, V, **UPDATE, name="scores", why="inf q"),
    error(ring_memory_bytes, 8, 4, 4, 9, name="num_devices", why="more devices than tokens"),
    error(ring_memory_bytes, 8, 0, 4, 2, name="d_k", why="d_k 0"),
    error(ring_memory_bytes, 8, 4, 4, 2, bytes_per_value=0, name="bytes_per_value", why="0 bytes"),
    error(
        segment_recurrence,
        X.numpy(),
        W,
        segment=2,
        memory=2,
        raises=TypeError,
        name="x",
        why="numpy",
    ),
    error(segment_recurrence, X, W, segment=0, memory=2, name="segment", why="segment 0"),
    error(segment_recurrence, X, W, segment=2, memory=-1, name="memory", why="negative memory"),
    error(
        segment_recurrence, X, [], segment=2, memory=2, raises=TypeError, name="weights", why="[]"
    ),
    error(
        segment_recurrence,
        X,
        [tuple(torch.eye(4, dtype=torch.float64) for _ in range(3))],
        segment=2,
        memory=2,
        name="w_q",
        why="weights of the wrong size",
    ),
    error(
        segment_recurrence,
        X,
        W,
        segment=2,
        memory=2,
        stop_gradient=0,
        raises=TypeError,
        name="stop_gradient",
        why="int flag",
    ),
    error(segment_recurrence, X * np.nan, W, segment=2, memory=2, name="x", why="NaN x"),
    result(
        segment_recurrence,
        X,
        W,
        segment=100,
        memory=100,
        check=lambda o: o.shape == (5, 3),
        why="segment > n",
    ),
    error(retrieval_task, 1, [1], name="n", why="n = 1"),
    error(retrieval_task, 16, [0], name="distances", why="distance 0"),
    error(retrieval_task, 16, [16], name="distances", why="distance n"),
    error(retrieval_task, 16, [1.5], raises=TypeError, name="distances", why="float distance"),
    error(retrieval_task, 16, [], raises=TypeError, name="distances", why="no trials"),
    error(retrieval_task, 16, [1], num_values=1, name="num_values", why="one value"),
    error(
        retrieval_task, 10**5, [1] * 10**4, raises=TooLargeError, name="retrieval_task", why="huge"
    ),
    error(retrieval_correct, {}, "chunked", raises=TypeError, name="task", why="not a task"),
    error(retrieval_correct, TASK, "magic", name="method", why="unknown method"),
    error(retrieval_correct, TASK, "chunked", window=4, name="window", why="a param it lacks"),
    error(retrieval_correct, TASK, "chunked", chunk=0, name="chunk", why="chunk 0"),
    result(retrieval_correct, TASK, "chunked", chunk=100, check=lambda c: c.all(), why="chunk > n"),
]

# -- the plots and the explorer ------------------------------------------------------------------
from tutor_lib.plots.chunking import plot_query_reach, plot_retrieval, plot_ring_schedule  # noqa: E402
from tutor_lib.widgets.chunking import ChunkingExplorer, chunking_explorer  # noqa: E402


def _noted(text, **values):
    def check(e):
        ok = e.error is None and "⚠" in e.info.value and text in e.info.value
        return ok and all(e.controls[k].value == v for k, v in values.items())

    return check


D, OK = np.arange(1, 9), np.arange(1, 9) < 4
ROWS += [
    error(plot_retrieval, D, OK[:3], name="distance", why="lengths differ"),
    error(plot_retrieval, D, D, raises=TypeError, name="correct", why="ints, not booleans"),
    error(plot_retrieval, D, OK, bin_width=2.0, name="bin_width", why="float bin"),
    error(plot_query_reach, np.ones((2, 4)), 1, name="reach", why="floats"),
    error(plot_query_reach, np.ones((2, 4), dtype=bool), -1, name="query", why="negative query"),
    error(plot_ring_schedule, np.zeros((2, 3)), name="schedule", why="not square"),
    error(plot_ring_schedule, ring_schedule(2), np.ones(3), name="computed", why="wrong shape"),
    result(chunking_explorer, n=10**6, check=_noted("n = 1e+06", n=128), why="n above max"),
    result(ChunkingExplorer, layers=0, check=_noted("layers", layers=1), why="0 layers"),
    result(chunking_explorer, query=-5, check=_noted("query", query=0), why="negative query"),
    error(chunking_explorer, chunk="8", raises=TypeError, name="chunk", why="a string"),
    error(chunking_explorer, causal=1, raises=TypeError, name="causal", why="int flag"),
]
