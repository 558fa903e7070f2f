"""Chunked exact attention in numpy (Rabe & Staats 2021), and the naive version that is wrong.

:func:`chunked_attention` cuts the queries into chunks and streams the keys past each chunk in
chunks, keeping only an online-softmax state per query (:mod:`tutor_lib.tiled.online`). It never
holds more than one ``query_chunk × key_chunk`` tile of scores, so its memory beyond the inputs and
the output is O(query_chunk · key_chunk), independent of n, and its result equals dense attention.

:func:`naive_blockwise_attention` is the negative control: a softmax inside each key block, the
block outputs averaged. It skips the rescaling, so it is wrong unless there is a single block.

Shapes: ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)``; leading dims broadcast.
Causal is bottom-right aligned (query i sits at position ``i + n_k − n_q``), as everywhere in the
library. Default scale ``1/sqrt(d_k)``. float32 inputs stay float32.
"""

from __future__ import annotations

import numpy as np

from tutor_lib._validate import as_qkv_arrays, check_bool, check_int, default_scale
from tutor_lib.limits import guard_bytes
from tutor_lib.tiled.online import block_state, finalize, initial_state, merge_partials

__all__ = ["chunked_attention", "naive_blockwise_attention"]


def _broadcast_qkv(q, k, v):
    """(q, k, v) with leading dims broadcast to one shape (read-only views, no copies)."""
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    return tuple(np.broadcast_to(a, (*lead, *a.shape[-2:])) for a in (q, k, v))


def chunked_attention(
    q, k, v, *, query_chunk: int, key_chunk: int, causal: bool = False, scale: float | None = None
) -> np.ndarray:
    """Exact attention computed one ``query_chunk × key_chunk`` tile at a time (numpy).

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → out (..., n_q, d_v), equal to
    ``softmax(q kᵀ·scale) v`` (``causal``: bottom-right mask; a query with no allowed key → 0).
    For each query chunk, an online-softmax state (max, normalizer, accumulator) is updated key
    chunk by key chunk; under ``causal`` tiles entirely in the future are skipped. Peak memory
    beyond inputs and output: a few tiles of ``query_chunk · key_chunk`` scores.
    """
    q, k, v = as_qkv_arrays(q, k, v)
    qc = check_int(query_chunk, "query_chunk", minimum=1)
    kc = check_int(key_chunk, "key_chunk", minimum=1)
    causal = check_bool(causal, "causal")
    q, k, v = _broadcast_qkv(q, k, v)
    *lead, n_q, d_k = q.shape
    n_k, d_v = k.shape[-2], v.shape[-1]
    scale = default_scale(scale, d_k)
    dtype = np.result_type(q, k, v)
    qc, kc = min(qc, n_q), min(kc, n_k)  # a chunk longer than the sequence is the sequence
    batch = int(np.prod(lead, dtype=np.int64))
    guard_bytes(  # the output and ~4 live tiles of scores
        (batch * n_q * d_v + 4 * batch * qc * kc) * dtype.itemsize,
        f"chunked_attention(n_q={n_q}, n_k={n_k}, query_chunk={qc}, key_chunk={kc})",
        hint="use smaller chunks",
    )
    out = np.empty((*lead, n_q, d_v), dtype=dtype)
    offset = n_k - n_q  # causal: query i sees keys j <= i + offset
    for q0 in range(0, n_q, qc):
        q1 = min(q0 + qc, n_q)
        q_tile = q[..., q0:q1, :] * scale  # scale the queries once per chunk   (..., qc, d_k)
        state = initial_state(np.zeros((*lead, q1 - q0), dtype=dtype), d_v)
        last_key = n_k if not causal else min(n_k, q1 - 1 + offset + 1)
        for k0 in range(0, max(last_key, 0), kc):
            k1 = min(k0 + kc, n_k)
            # S = Q_c K_cᵀ · scale                                              (..., qc, kc)
            scores = q_tile @ np.swapaxes(k[..., k0:k1, :], -1, -2)
            if causal and k1 - 1 > q0 + offset:  # the tile crosses the diagonal: mask the future
                future = np.arange(k0, k1)[None, :] > np.arange(q0, q1)[:, None] + offset
                np.copyto(scores, -np.inf, where=future)
            state = merge_partials(state, block_state(scores, v[..., k0:k1, :]))
        out[..., q0:q1, :] = finalize(state)[0]  # O_c = a / ℓ
    return out


def naive_blockwise_attention(q, k, v, *, key_chunk: int, scale: float | None = None) -> np.ndarray:
    """**Wrong on purpose**: a separate softmax in each key block, the block outputs averaged.

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → (..., n_q, d_v). Each block b
    gives O_b = softmax(S_b) V_b; the result is their mean. The exact answer weights block b by
    its share of the softmax mass, ℓ_b·e^{m_b} / Σ_c ℓ_c·e^{m_c} (what the online-softmax
    rescaling computes), not by 1/(number of blocks). It equals attention only when there is a
    single block (key_chunk ≥ n_k) or every block happens to carry the same mass.
    """
    q, k, v = as_qkv_arrays(q, k, v)
    kc = check_int(key_chunk, "key_chunk", minimum=1)
    q, k, v = _broadcast_qkv(q, k, v)
    n_k = k.shape[-2]
    scale = default_scale(scale, q.shape[-1])
    guard_bytes(
        q[..., 0].size * min(kc, n_k) * 3 * q.itemsize,
        f"naive_blockwise_attention(n_q={q.shape[-2]}, key_chunk={kc})",
    )
    outputs = []
    for k0 in range(0, n_k, kc):
        scores = (q @ np.swapaxes(k[..., k0 : k0 + kc, :], -1, -2)) * scale  # (..., n_q, kc)
        state = block_state(scores, v[..., k0 : k0 + kc, :])
        outputs.append(finalize(state)[0])  # softmax(S_b) V_b, normalised inside the block only
    return np.mean(outputs, axis=0)
