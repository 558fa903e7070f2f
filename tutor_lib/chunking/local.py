"""Sequence chunking and the patterns that bring long range back (numpy), as attention with a mask.

* :func:`chunked_local_attention` — cut the sequence into chunks of ``chunk`` tokens and run
  attention inside each chunk (Liu et al. 2018, "local attention" in blocks of 256): the outputs,
  concatenated, equal dense attention with :func:`tutor_lib.masks.block_mask`;
* :func:`overlapping_chunk_attention` — each query chunk also sees ``overlap`` keys on either side;
* :func:`transformer_xl_attention` — one segment attends causally to itself and fully to a cached
  memory (Dai et al. 2019): dense bottom-right causal attention over ``[memory; segment]``;
* :func:`chunking_mask` — the one-layer mask of chunks + overlap + global tokens + memory (what
  the explorer draws); :func:`streaming_mask` — StreamingLLM's attention sinks + recent window;
* :func:`txl_earliest_position` — how far back a token's output can depend on, through ``layers``
  Transformer-XL layers.

Shapes: ``q (..., n, d_k)``, ``k (..., n, d_k)``, ``v (..., n, d_v)`` (self-attention: queries and
keys are the same n positions); leading dims broadcast. Default scale ``1/sqrt(d_k)``. ``causal``
keeps key j for query i iff ``j <= i``. A query with no allowed key gets output 0.
"""

from __future__ import annotations

import numpy as np

from tutor_lib import masks
from tutor_lib._validate import (
    as_float_array,
    as_qkv_arrays,
    check_bool,
    check_finite,
    check_int,
    default_scale,
)
from tutor_lib.attention import attention
from tutor_lib.limits import guard_bytes

__all__ = [
    "chunk_bounds",
    "chunked_local_attention",
    "overlapping_chunk_attention",
    "transformer_xl_attention",
    "chunking_mask",
    "streaming_mask",
    "txl_earliest_position",
]


def chunk_bounds(n: int, chunk: int) -> list[tuple[int, int]]:
    """``[(start, stop), …]`` of consecutive chunks of ``chunk`` tokens covering 0 … n − 1 (the
    last one may be short; a chunk longer than n is the whole sequence)."""
    n = check_int(n, "n", minimum=1)
    chunk = check_int(chunk, "chunk", minimum=1)
    return [(s, min(s + chunk, n)) for s in range(0, n, chunk)]


def _self_attention_inputs(q, k, v, scale):
    """Checked (q, k, v, scale, lead, n) for self-attention: q and k have the same length n."""
    q, k, v = as_qkv_arrays(q, k, v)
    if q.shape[-2] != k.shape[-2]:
        raise ValueError(
            f"q and k must cover the same n positions (self-attention over one sequence), got "
            f"n_q = {q.shape[-2]} and n_k = {k.shape[-2]}"
        )
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    return q, k, v, default_scale(scale, q.shape[-1]), lead, q.shape[-2]


def _windowed(q, k, v, chunk, left, right, causal, scale, what):
    """Query chunk [s, e) attends keys [s − left, e + right) ∩ [0, n) (and j <= i if causal)."""
    q, k, v, scale, lead, n = _self_attention_inputs(q, k, v, scale)
    dtype = np.result_type(q, k, v)
    batch = int(np.prod(lead, dtype=np.int64))
    widest = min(n, chunk + left + right)
    guard_bytes(  # the output and the scores of one chunk (attention keeps ~3 copies)
        (batch * n * v.shape[-1] + 3 * batch * min(chunk, n) * widest) * dtype.itemsize,
        f"{what}(n={n}, chunk={chunk})",
        hint="use a smaller chunk",
    )
    out = np.empty((*lead, n, v.shape[-1]), dtype=dtype)
    for s, e in chunk_bounds(n, chunk):
        ks, ke = max(0, s - left), min(n, e + right)  # the keys this chunk may see
        mask = None
        if causal:  # key position ks + b <= query position s + a
            mask = np.arange(ks, ke)[None, :] <= np.arange(s, e)[:, None]  # (e − s, ke − ks)
        # O_c = softmax(Q_c K_cᵀ·scale) V_c, one chunk at a time          (..., e − s, d_v)
        out[..., s:e, :] = attention(
            q[..., s:e, :], k[..., ks:ke, :], v[..., ks:ke, :], mask, scale=scale
        )
    return out


def chunked_local_attention(
    q, k, v, chunk: int, *, causal: bool = False, scale: float | None = None
) -> np.ndarray:
    """Attention inside independent chunks of ``chunk`` tokens, outputs concatenated.

    q: (..., n, d_k), k: (..., n, d_k), v: (..., n, d_v) → (..., n, d_v). Equal to dense
    attention with ``masks.block_mask(n, chunk)`` (``& causal_mask`` if ``causal``); the last chunk
    may be short. Work O(n·chunk·d) instead of O(n²·d); a token never sees another chunk.
    """
    chunk = check_int(chunk, "chunk", minimum=1)
    causal = check_bool(causal, "causal")
    return _windowed(q, k, v, chunk, 0, 0, causal, scale, "chunked_local_attention")


def overlapping_chunk_attention(
    q, k, v, chunk: int, overlap: int, *, causal: bool = False, scale: float | None = None
) -> np.ndarray:
    """Chunked attention where query chunk ``[s, e)`` also sees ``overlap`` keys on each side:
    keys ``[s − overlap, e + overlap)`` clipped to the sequence (and ``j <= i`` if ``causal``).

    q: (..., n, d_k), k: (..., n, d_k), v: (..., n, d_v) → (..., n, d_v). ``overlap = 0`` is
    :func:`chunked_local_attention`; ``overlap >= n`` is full attention. Equal to dense attention
    with ``chunking_mask(n, chunk, overlap=overlap, causal=causal)``.
    """
    chunk = check_int(chunk, "chunk", minimum=1)
    overlap = check_int(overlap, "overlap", minimum=0)
    causal = check_bool(causal, "causal")
    return _windowed(q, k, v, chunk, overlap, overlap, causal, scale, "overlapping_chunk_attention")


def _memory_arrays(mem_k, mem_v, q, v):
    mem_k = as_float_array(mem_k, "mem_k", min_ndim=2, allow_empty=True)
    mem_v = as_float_array(mem_v, "mem_v", min_ndim=2, allow_empty=True)
    if mem_k.shape[-1] != q.shape[-1]:
        raise ValueError(f"mem_k must have d_k = {q.shape[-1]} columns, got shape {mem_k.shape}")
    if mem_v.shape[-1] != v.shape[-1]:
        raise ValueError(f"mem_v must have d_v = {v.shape[-1]} columns, got shape {mem_v.shape}")
    if mem_k.shape[-2] != mem_v.shape[-2]:
        raise ValueError(
            f"mem_k and mem_v must hold the same number of cached positions, got {mem_k.shape} "
            f"and {mem_v.shape}"
        )
    check_finite(mem_k, "mem_k")
    check_finite(mem_v, "mem_v")
    return mem_k, mem_v


def transformer_xl_attention(q, k, v, mem_k, mem_v, *, scale: float | None = None) -> np.ndarray:
    """One Transformer-XL attention step (Dai et al. 2019): the segment attends causally to itself
    and fully to the cached memory of earlier positions.

    q, k: (..., n, d_k) and v: (..., n, d_v) of the current segment; mem_k: (..., m, d_k) and
    mem_v: (..., m, d_v) cached from earlier segments (m = 0 allowed: the first segment) →
    (..., n, d_v). Equal to dense attention over the keys ``[mem; segment]`` with the bottom-right
    causal mask (query i sees memory and segment keys ``j <= i``). In training the memory is
    treated as a constant (stop-gradient; see :func:`tutor_lib.chunking.segment_recurrence`).
    """
    q, k, v, scale, lead, _ = _self_attention_inputs(q, k, v, scale)
    mem_k, mem_v = _memory_arrays(mem_k, mem_v, q, v)
    try:
        lead = np.broadcast_shapes(lead, mem_k.shape[:-2], mem_v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"leading dims of mem_k {mem_k.shape} and mem_v {mem_v.shape} must match q {q.shape}"
        ) from None

    def widen(a):  # (..., rows, d) broadcast to the common leading dims
        return np.broadcast_to(a, (*lead, *a.shape[-2:]))

    keys = np.concatenate([widen(mem_k), widen(k)], axis=-2)  # (..., m + n, d_k)
    values = np.concatenate([widen(mem_v), widen(v)], axis=-2)  # (..., m + n, d_v)
    # bottom-right causal: query i sits at position m + i of [mem; segment]
    return attention(q, keys, values, causal=True, scale=scale)


def chunking_mask(
    n: int,
    chunk: int,
    *,
    overlap: int = 0,
    global_tokens: int = 0,
    memory: int = 0,
    causal: bool = False,
) -> np.ndarray:
    """The one-layer mask ``(n, n)`` of chunks plus what brings long range back.

    Query i in chunk ``[s, e)`` may see keys ``[s − overlap − memory, e + overlap)`` (memory only
    looks back), every key sees and is seen by the first ``global_tokens`` tokens, and ``causal``
    keeps ``j <= i``. ``chunk`` alone is ``masks.block_mask``; ``memory = M`` with ``causal`` is
    Transformer-XL with segments of ``chunk`` and M cached positions, run segment by segment.
    """
    n = check_int(n, "n", minimum=1)
    chunk = check_int(chunk, "chunk", minimum=1)
    overlap = check_int(overlap, "overlap", minimum=0)
    global_tokens = check_int(global_tokens, "global_tokens", minimum=0)
    memory = check_int(memory, "memory", minimum=0)
    causal = check_bool(causal, "causal")
    guard_bytes(3 * n * n, f"chunking_mask(n={n})", hint="a smaller n shows the same pattern")
    # each chunk = a block of `chunk` tokens; widen its key range by overlap (+ memory on the left)
    start = (np.arange(n) // chunk) * chunk  # (n,) first position of each query's chunk
    stop = np.minimum(start + chunk, n)
    j = np.arange(n)[None, :]  # (1, n) key index
    mask = (j >= (start - overlap - memory)[:, None]) & (j < (stop + overlap)[:, None])  # (n, n)
    if global_tokens:
        mask |= masks.global_mask(n, min(global_tokens, n))
    if causal:
        mask &= masks.causal_mask(n)
    return mask


def streaming_mask(n: int, sinks: int, window: int) -> np.ndarray:
    """StreamingLLM's cache as a mask ``(n, n)`` (Xiao et al. 2023): query i sees the first
    ``sinks`` tokens (the attention sinks) and its ``window`` most recent tokens, itself included
    (``i − window < j <= i``), so a decoder keeps at most ``sinks + window`` keys in its cache.

    ``sinks = 0`` is the causal sliding window ``masks.local_mask(n, window − 1, 0)``.
    """
    n = check_int(n, "n", minimum=1)
    sinks = check_int(sinks, "sinks", minimum=0)
    window = check_int(window, "window", minimum=1)
    recent = masks.local_mask(n, min(window - 1, n - 1), 0)  # i − window < j <= i
    sink_columns = np.arange(n)[None, :] < min(sinks, n)  # (1, n)
    return recent | (sink_columns & masks.causal_mask(n))


def txl_earliest_position(position: int, segment: int, memory: int, layers: int) -> int:
    """The earliest position whose input can influence the output of ``position`` after
    ``layers`` Transformer-XL layers (segments of ``segment`` tokens, ``memory`` cached states).

    One layer: a query in the segment starting at s sees keys from ``s − memory`` on; those keys are
    themselves outputs of the layer below, so the reach compounds: follow the earliest key down,
    ``x ← max(0, s(x) − memory)``, ``layers`` times. Equal to the first True of row ``position`` of
    ``masks.receptive_field(chunking_mask(n, segment, memory=memory, causal=True), layers)``.
    """
    position = check_int(position, "position", minimum=0)
    segment = check_int(segment, "segment", minimum=1)
    memory = check_int(memory, "memory", minimum=0)
    layers = check_int(layers, "layers", minimum=0)
    x = position
    for _ in range(layers):
        earlier = max(0, (x // segment) * segment - memory)  # s(x) − M, clipped at the start
        if earlier == x:
            break
        x = earlier
    return x
