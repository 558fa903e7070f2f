"""Ring attention simulated in one process (numpy): exact attention with the sequence split over
P "devices" (Liu, Zaharia, Abbeel 2023, arXiv 2310.01889).

Device p holds one block of queries Q_p and, at first, the matching block of keys and values
(K_p, V_p). In each of P steps every device computes the scores of its queries against the K/V
block it holds, folds them into its online-softmax state (:mod:`tutor_lib.tiled.online`: running
max, normalizer, accumulator), and passes the block to the next device on the ring. After P steps
every device has seen every block and holds the exact output for its queries. A device never holds
more than its own Q block, two K/V blocks (the one it computes on and the one arriving) and its
state: O((n/P)·d) memory, O(n²d/P) work.

:func:`ring_block_update` is the step every device runs; it works on numpy arrays and torch
tensors, and :mod:`tutor_lib.distributed` runs it in real processes.
"""

from __future__ import annotations

import numpy as np
import torch

from tutor_lib._validate import as_qkv_arrays, check_bool, check_int, default_scale
from tutor_lib.limits import guard_bytes
from tutor_lib.tiled.online import block_state, finalize, initial_state, merge_partials

__all__ = [
    "block_bounds",
    "ring_schedule",
    "ring_block_update",
    "ring_attention",
    "ring_memory_bytes",
]


def block_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` consecutive blocks covering 0 … n − 1, as ``[(start, stop), …]``: sizes differ by
    at most one, the first ``n mod parts`` blocks one longer (as ``numpy.array_split``)."""
    n = check_int(n, "n", minimum=1)
    parts = check_int(parts, "parts", minimum=1, maximum=n)
    size, extra = divmod(n, parts)
    stops = np.cumsum([size + (p < extra) for p in range(parts)])
    return [(int(stop - size - (p < extra)), int(stop)) for p, stop in enumerate(stops)]


def ring_schedule(num_devices: int) -> np.ndarray:
    """``(steps, devices)`` table: entry ``[s, p]`` = the K/V block device p holds at step s.

    Device p starts with its own block and receives from device p − 1 each step, so it holds
    block ``(p − s) mod P``; every row and every column is a permutation of 0 … P − 1.
    """
    num_devices = check_int(num_devices, "num_devices", minimum=1)
    guard_bytes(8 * num_devices**2, f"ring_schedule(num_devices={num_devices})")
    steps, devices = np.arange(num_devices)[:, None], np.arange(num_devices)[None, :]
    return (devices - steps) % num_devices


def ring_block_update(
    state: dict,
    q_block,
    k_block,
    v_block,
    *,
    q_start: int,
    k_start: int,
    offset: int = 0,
    causal: bool = False,
    scale: float,
) -> dict:
    """One ring step on one device: fold the scores of ``q_block`` against ``k_block`` into
    ``state`` (numpy arrays or torch tensors, as the state).

    q_block: (..., b_q, d_k) at global positions ``q_start …``; k_block: (..., b_k, d_k) and
    v_block: (..., b_k, d_v) at ``k_start …``. ``causal`` (bottom-right): key position j is allowed
    for query position i iff ``j <= i + offset`` (offset = n_k − n_q). A block entirely in the
    future is skipped (the state is returned unchanged). The state comes from
    :func:`tutor_lib.tiled.initial_state` or a previous update.
    """
    q_start = check_int(q_start, "q_start", minimum=0)
    k_start = check_int(k_start, "k_start", minimum=0)
    offset = check_int(offset, "offset")
    causal = check_bool(causal, "causal")
    b_q, b_k = q_block.shape[-2], k_block.shape[-2]
    if causal and k_start > q_start + b_q - 1 + offset:
        return state  # every key of this block is after every query: nothing to add
    # S = Q_p K_bᵀ · scale                                                   (..., b_q, b_k)
    scores = (q_block * scale) @ k_block.swapaxes(-1, -2)
    if causal and k_start + b_k - 1 > q_start + offset:  # the block crosses the diagonal
        if isinstance(scores, torch.Tensor):
            keys, queries = (
                torch.arange(k_start, k_start + b_k),
                torch.arange(q_start, q_start + b_q),
            )
            scores = scores.masked_fill(keys[None, :] > queries[:, None] + offset, -float("inf"))
        else:
            future = np.arange(k_start, k_start + b_k)[None, :] > (
                np.arange(q_start, q_start + b_q)[:, None] + offset
            )
            scores = np.where(future, -np.inf, scores)
    # (m, ℓ, a) ← merge((m, ℓ, a), state of this block): the online-softmax rescaling
    return merge_partials(state, block_state(scores, v_block))


def ring_attention(
    q, k, v, num_devices: int, *, causal: bool = False, scale: float | None = None
) -> np.ndarray:
    """Exact attention computed as P devices on a ring would (simulated, numpy).

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → (..., n_q, d_v), equal to dense
    attention (``causal``: bottom-right). Queries and keys are each split into ``num_devices``
    blocks (:func:`block_bounds`, the last ones may be one shorter); in step s device p combines its
    queries with K/V block ``(p − s) mod P`` (:func:`ring_schedule`) by :func:`ring_block_update`.
    """
    q, k, v = as_qkv_arrays(q, k, v)
    causal = check_bool(causal, "causal")
    n_q, n_k = q.shape[-2], k.shape[-2]
    p_count = check_int(num_devices, "num_devices", minimum=1, maximum=min(n_q, n_k))
    scale = default_scale(scale, q.shape[-1])
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    dtype = np.result_type(q, k, v)
    batch = int(np.prod(lead, dtype=np.int64))
    b_q, b_k = -(-n_q // p_count), -(-n_k // p_count)
    guard_bytes(  # the output and, on the device at work, ~3 blocks of scores
        (batch * n_q * v.shape[-1] + 3 * batch * b_q * b_k) * dtype.itemsize,
        f"ring_attention(n_q={n_q}, n_k={n_k}, num_devices={p_count})",
        hint="use more devices",
    )
    q_blocks, kv_blocks = block_bounds(n_q, p_count), block_bounds(n_k, p_count)
    schedule = ring_schedule(p_count)
    out = np.empty((*lead, n_q, v.shape[-1]), dtype=dtype)
    for p, (q0, q1) in enumerate(q_blocks):  # each device in turn (they would run in parallel)
        q_p = np.broadcast_to(q[..., q0:q1, :], (*lead, q1 - q0, q.shape[-1]))
        state = initial_state(np.zeros((*lead, q1 - q0), dtype=dtype), v.shape[-1])
        for step in range(p_count):
            k0, k1 = kv_blocks[schedule[step, p]]  # the block that reached device p at this step
            state = ring_block_update(
                state,
                q_p,
                k[..., k0:k1, :],
                v[..., k0:k1, :],
                q_start=q0,
                k_start=k0,
                offset=n_k - n_q,
                causal=causal,
                scale=scale,
            )
        out[..., q0:q1, :] = finalize(state)[0]  # O_p = a / ℓ
    return out


def ring_memory_bytes(
    n: int, d_k: int, d_v: int, num_devices: int, *, bytes_per_value: int = 4
) -> dict[str, int]:
    """What the busiest device of a ring holds for self-attention over n tokens (one head).

    ``"q"``: its query block; ``"kv"``: two K/V blocks (the one it computes on and the one
    arriving; one block when P = 1, nothing travels); ``"out"``: accumulator, max and normalizer
    of its queries; ``"total"``; and ``"kv_full"``: all of K and V, what one device would hold
    without the ring. Blocks are ``ceil(n / P)`` tokens: from P = 2 on, everything but
    ``kv_full`` shrinks as 1/P.
    """
    n = check_int(n, "n", minimum=1)
    d_k = check_int(d_k, "d_k", minimum=1)
    d_v = check_int(d_v, "d_v", minimum=1)
    p_count = check_int(num_devices, "num_devices", minimum=1, maximum=n)
    itemsize = check_int(bytes_per_value, "bytes_per_value", minimum=1)
    block = -(-n // p_count)  # ceil(n / P): the largest block
    parts = {
        "q": block * d_k * itemsize,
        "kv": (2 if p_count > 1 else 1) * block * (d_k + d_v) * itemsize,
        "out": block * (d_v + 2) * itemsize,
    }
    parts["total"] = sum(parts.values())
    parts["kv_full"] = n * (d_k + d_v) * itemsize
    return parts
