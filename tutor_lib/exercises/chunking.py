"""Checks against ``tutor_lib.chunking`` (lesson 09): chunked local attention, ring attention
simulated over P devices, and how far back Transformer-XL reaches through L layers."""

from __future__ import annotations

import numpy as np

from tutor_lib.attention import attention
from tutor_lib.chunking import (
    block_bounds,
    chunked_local_attention,
    ring_attention,
    txl_earliest_position,
)
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_arrays, compare_count, run_check

__all__ = ["check_chunked_local_attention", "check_ring_attention", "check_txl_earliest_position"]


def _qkv(rng, n, d_k, d_v, scale=1.0):
    return (
        rng.standard_normal((n, d_k)) * scale,
        rng.standard_normal((n, d_k)) * scale,
        rng.standard_normal((n, d_v)),
    )


# -- chunked local attention ----------------------------------------------------------------------


def _chunk_cases() -> list[Case]:
    rng = np.random.default_rng(909)
    hint = (
        "for start in range(0, n, chunk): attention over q[start:stop], k[start:stop], "
        "v[start:stop]; put each chunk's output in its own rows (concatenate, never add)"
    )
    cases = []
    for n, chunk, d_k, d_v, text in [
        (12, 4, 3, 3, "n = 12, chunk = 4"),
        (10, 4, 3, 2, "n = 10, chunk = 4: the last chunk has 2 tokens"),
        (7, 1, 2, 2, "chunk = 1: each token sees only itself"),
        (6, 50, 4, 3, "chunk > n: one chunk, full attention"),
        (9, 3, 5, 1, "d_k = 5, d_v = 1"),
    ]:
        args = (*_qkv(rng, n, d_k, d_v), chunk)
        cases.append(Case(text, args, chunked_local_attention(*args), hint))
    return cases


def check_chunked_local_attention(fn) -> bool:
    """Check ``fn(q, k, v, chunk)`` → (n, d_v): attention inside consecutive chunks of ``chunk``
    tokens (q, k: (n, d_k), v: (n, d_v), numpy), the last chunk possibly shorter."""
    return run_check(fn, _chunk_cases(), compare=compare_arrays)


def _chunked_dropping_the_tail(q, k, v, chunk):
    n = q.shape[0]
    out = np.zeros((n, v.shape[1]))
    for c in range(n // chunk):  # forgets the short last chunk
        s = slice(c * chunk, (c + 1) * chunk)
        out[s] = attention(q[s], k[s], v[s])
    return out


register_answers(
    check_chunked_local_attention,
    reference=chunked_local_attention,
    wrong=_chunked_dropping_the_tail,
    mistake="n // chunk chunks: the short last chunk is never computed",
)


# -- ring attention, simulated --------------------------------------------------------------------


def _ring_cases() -> list[Case]:
    rng = np.random.default_rng(919)
    hint = (
        "device p keeps a state (initial_state) for its query block; at step s it holds K/V block "
        "(p − s) mod P and merges block_state(scores, v_block) into its state with merge_partials; "
        "finalize at the end. Causal: key position j is allowed iff j <= query position i"
    )
    cases = []
    for n, devices, causal, scale, text in [
        (12, 3, False, 1.0, "n = 12 over 3 devices"),
        (10, 4, False, 1.0, "n = 10 over 4 devices: uneven blocks"),
        (9, 3, True, 1.0, "causal, 3 devices"),
        (11, 4, True, 1.0, "causal, 4 devices, uneven blocks"),
        (8, 1, False, 1.0, "one device: plain attention"),
        (12, 3, False, 20.0, "large scores (exp overflows without the max)"),
    ]:
        q, k, v = _qkv(rng, n, 4, 3, scale)
        cases.append(
            Case(
                text,
                (q, k, v, devices),
                ring_attention(q, k, v, devices, causal=causal),
                hint,
                {"causal": causal},
            )
        )
    return cases


def check_ring_attention(fn) -> bool:
    """Check ``fn(q, k, v, num_devices, *, causal)`` → (n, d_v): exact attention computed block by
    block as ``num_devices`` devices on a ring would (numpy; blocks as ``block_bounds``)."""
    return run_check(fn, _ring_cases(), compare=compare_arrays)


def _ring_without_rescaling(q, k, v, num_devices, *, causal=False):
    n = q.shape[0]
    allowed = np.tril(np.ones((n, n), dtype=bool)) if causal else np.ones((n, n), dtype=bool)
    parts = [  # each block's own softmax, then a plain average: no online rescaling
        attention(q, k[s:e], v[s:e], allowed[:, s:e]) for s, e in block_bounds(n, num_devices)
    ]
    return np.mean(parts, axis=0)


register_answers(
    check_ring_attention,
    reference=ring_attention,
    wrong=_ring_without_rescaling,
    mistake="block outputs averaged: no online-softmax rescaling between devices",
)


# -- how far back Transformer-XL reaches ------------------------------------------------------------


def _txl_cases() -> list[Case]:
    hint = (
        "follow the EARLIEST key one layer down at a time: a query in the segment that starts at s "
        "sees keys from s − memory on; that key sits in another segment, with its own start"
    )
    cases = []
    for position, segment, memory, layers, text in [
        (63, 16, 16, 1, "one layer: its segment plus the memory"),
        (63, 16, 16, 3, "three layers, memory = segment"),
        (60, 8, 4, 3, "memory shorter than a segment"),
        (50, 4, 10, 2, "memory longer than a segment"),
        (40, 8, 0, 5, "no memory: chunks never connect"),
        (30, 8, 8, 20, "many layers: the start of the sequence"),
        (17, 5, 3, 0, "zero layers: only itself"),
    ]:
        args = (position, segment, memory, layers)
        cases.append(Case(text, args, txl_earliest_position(*args), hint))
    return cases


def check_txl_earliest_position(fn) -> bool:
    """Check ``fn(position, segment, memory, layers)`` → the earliest position whose input can
    influence the output at ``position`` after ``layers`` Transformer-XL layers."""
    return run_check(fn, _txl_cases(), compare=compare_count)


def _txl_reach_of_the_memory_only(position, segment, memory, layers):
    return max(0, position - layers * memory)  # forgets the segment: the query's own offset


register_answers(
    check_txl_earliest_position,
    reference=txl_earliest_position,
    wrong=_txl_reach_of_the_memory_only,
    mistake="position − layers·memory: the segment each key sits in is ignored",
)
