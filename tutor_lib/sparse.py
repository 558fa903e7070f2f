"""Sparse attention kernels in torch that skip the work a mask forbids (and support autograd).

A boolean mask given to dense attention (e.g. SDPA's ``attn_mask``) gives the right outputs but
still computes all n_q·n_k scores. These two functions compute only what the pattern needs:

* :func:`sliding_window_attention` — the band ``-left <= j - i <= right`` (Longformer, Mistral) in
  O(n·(left + right + 1)·d) time and memory: queries go in blocks, each block against its own key
  span, so no n×n tensor is ever built; the (block × span) problems all go to PyTorch's fused
  ``scaled_dot_product_attention`` in one call, the same kernel a dense masked baseline uses;
* :func:`block_sparse_attention` — any mask, computed tile by tile: only ``block × block`` tiles
  that :func:`tutor_lib.masks.tile_mask` marks active are computed, and ``mask`` is applied inside.

Both equal ``attention(q, k, v, mask)`` with the same mask (the dense reference in
:mod:`tutor_lib.attention`). Shapes: ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``,
``v (..., n_k, d_v)``; leading dims broadcast. Default scale ``1/sqrt(d_k)``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from tutor_lib import masks as _masks
from tutor_lib._validate import check_int, check_positive_float

__all__ = ["sliding_window_attention", "block_sparse_attention", "default_query_block"]


def _check_qkv(q, k, v) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
        if t.ndim < 2 or 0 in t.shape[-2:]:
            raise ValueError(f"{name} must have shape (..., n >= 1, d >= 1), got {tuple(t.shape)}")
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"q, k, v must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must share d_k, got q {tuple(q.shape)} and k {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same n_k, got {tuple(k.shape)}, {tuple(v.shape)}")
    try:
        lead = torch.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"leading dims of q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} must match"
        ) from None
    return tuple(t.expand(*lead, *t.shape[-2:]) for t in (q, k, v))


def _scale(scale, d_k: int) -> float:
    return 1.0 / math.sqrt(d_k) if scale is None else check_positive_float(scale, "scale")


def _masked_softmax(scores: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dim with masked entries → 0 and fully masked rows → all 0 (no NaN)."""
    scores = scores.masked_fill(~allowed, float("-inf"))
    # m = rowmax(S); an all -inf row uses m = 0 so exp(-inf - 0) = 0. Softmax does not depend on m,
    # so m carries no gradient.
    m = scores.amax(dim=-1, keepdim=True).detach()
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    e = torch.exp(scores - m)
    total = e.sum(dim=-1, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones_like(total))


def default_query_block(left: int, right: int, n: int) -> int:
    """Query block size B used by :func:`sliding_window_attention`: a power of two near an eighth
    of the window (each query then scores B + left + right keys, ~1.125× the band), between 16 and
    256 and at most n. Smaller blocks waste less work; larger ones give bigger matmuls.
    """
    width = left + right + 1
    eighth = 1 << max(0, (width // 8).bit_length() - 1)  # largest power of two <= width / 8
    return max(1, min(n, 256, max(16, eighth)))


def _padded_rows(x: torch.Tensor, lead_size: int, rows: int, front: int, back: int) -> torch.Tensor:
    """x (..., n, d) → one zero buffer (front + lead_size·rows + back, d) holding each sequence
    at ``front + s·rows``, padded with zeros to ``rows`` rows. One allocation and one copy (fresh
    memory is expensive; two ``F.pad`` calls would allocate and fill twice)."""
    n, d = x.shape[-2:]
    buf = x.new_zeros(front + lead_size * rows + back, d)
    body = buf[front : front + lead_size * rows].view(lead_size, rows, d)  # (b, rows, d)
    body[:, :n] = x.reshape(lead_size, n, d)
    return buf


def _key_spans(x: torch.Tensor, lead_size: int, left: int, right: int, size: int) -> torch.Tensor:
    """x (..., n, d) → the key span of every query block, (lead_size · nb, B + left + right, d).

    All sequences are padded to nb·B, laid end to end in one buffer with ``left`` zeros in front
    and ``right`` behind, and viewed as overlapping windows (``unfold``: a strided view, no copy).
    A span that spills into a neighbouring sequence only picks up positions the caller masks out.
    """
    num_blocks = -(-x.shape[-2] // size)
    flat = _padded_rows(x, lead_size, num_blocks * size, left, right)  # (b·nb·B + l + r, d)
    return flat.unfold(0, size + left + right, size).transpose(-1, -2)  # (b·nb, span, d)


@functools.lru_cache(maxsize=4)
def _outside_band(n: int, left: int, right: int, size: int) -> torch.Tensor:
    """(nb, B, span) bool: True where a (query row, span column) pair of a block is NOT allowed."""
    num_blocks, span = -(-n // size), size + left + right
    r = torch.arange(size)[:, None]  # (B, 1) query row inside its block
    t = torch.arange(span)[None, :]  # (1, span) key column inside the span
    in_band = (t - r >= 0) & (t - r <= left + right)  # j - i = t - r - left ∈ [-left, right]
    start = torch.arange(num_blocks)[:, None, None] * size  # (nb, 1, 1) first query of the block
    in_range = (start - left + t >= 0) & (start - left + t < n)  # key position j in [0, n)
    is_pad = start + r >= n  # padding queries (dropped later) keep their band: no empty rows
    return ~(in_band & (in_range | is_pad))


@functools.lru_cache(maxsize=4)
def _window_bias(n: int, left: int, right: int, size: int, dtype: torch.dtype) -> torch.Tensor:
    """(nb, B, span) additive mask for the key spans: 0 where allowed, -inf elsewhere."""
    outside = _outside_band(n, left, right, size)
    return torch.zeros(outside.shape, dtype=dtype).masked_fill_(outside, -math.inf)


def sliding_window_attention(
    q, k, v, *, left: int, right: int, scale: float | None = None, block: int | None = None
) -> torch.Tensor:
    """Attention with the window ``-left <= j - i <= right`` (== ``attention`` with ``local_mask``).

    q: (..., n, d_k), k: (..., n, d_k), v: (..., n, d_v) → (..., n, d_v). Self-attention, so q and k
    have the same length n. Queries are processed in blocks of ``block`` (default
    :func:`default_query_block`); block b of queries ``[bB, bB + B)`` needs only the keys
    ``[bB - left, bB + B - 1 + right]``, a span of ``B + left + right`` keys, viewed in place
    (``unfold``); positions outside ``[0, n)`` are masked. All blocks go to
    ``F.scaled_dot_product_attention`` at once, as a (batch, blocks, B, d) problem against
    (batch, blocks, span, d) keys with the band as an additive mask. Time and memory
    O(n·(B + left + right)·d): no n×n tensor. Windows wider than the sequence are clipped to it.
    ``right = 0`` is the causal sliding window.
    """
    q, k, v = _check_qkv(q, k, v)
    *lead, n, d_k = q.shape
    if k.shape[-2] != n:
        raise ValueError(
            f"q and k must have the same length n (self-attention), got {n} and {k.shape[-2]}"
        )
    left = min(check_int(left, "left", minimum=0), n - 1)  # a wider window sees the same keys
    right = min(check_int(right, "right", minimum=0), n - 1)
    size = (
        default_query_block(left, right, n)
        if block is None
        else check_int(block, "block", minimum=1)
    )
    lead_size, num_blocks, d_v = math.prod(lead), -(-n // size), v.shape[-1]
    scale = _scale(scale, d_k)
    if n % size:  # pad the queries to whole blocks (the extra rows are dropped at the end)
        q = _padded_rows(q, lead_size, num_blocks * size, 0, 0)
    span = size + left + right
    qb = q.reshape(lead_size, num_blocks, size, d_k)  # (b, nb, B, d_k)
    k_spans = _key_spans(k, lead_size, left, right, size).view(lead_size, num_blocks, span, d_k)
    v_spans = _key_spans(v, lead_size, left, right, size).view(lead_size, num_blocks, span, d_v)
    bias = _window_bias(n, left, right, size, q.dtype)  # (nb, B, span): 0 or -inf; [None]: 4-D
    # O_b = softmax(Q_b K_spanᵀ · scale + bias) V_span for every block at once: PyTorch's fused
    # kernel (the same as dense SDPA), with the blocks as a "heads" dimension  (b, nb, B, d_v)
    out = F.scaled_dot_product_attention(qb, k_spans, v_spans, attn_mask=bias[None], scale=scale)
    return out.reshape(*lead, num_blocks * size, d_v)[..., :n, :]  # (..., n, d_v)


def _as_mask(mask, n_q: int, n_k: int) -> np.ndarray:
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
    if mask.shape != (n_q, n_k):
        raise ValueError(f"mask must have shape (n_q, n_k) = {(n_q, n_k)}, got {mask.shape}")
    return mask


def block_sparse_attention(
    q, k, v, mask, *, block: int, scale: float | None = None
) -> torch.Tensor:
    """Attention with a boolean ``mask`` (n_q, n_k), computing only the active ``block²`` tiles.

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → (..., n_q, d_v); ``mask`` (numpy or
    torch, True = may attend) is shared by all leading dims. For each query block, the key blocks
    whose tile holds at least one True are gathered and concatenated; scores are computed for them
    only, ``mask`` is applied inside, and the softmax runs over the gathered keys. Work is
    proportional to the number of active tiles (see :func:`tutor_lib.masks.tile_savings`). A query
    with no allowed key gets output 0.
    """
    q, k, v = _check_qkv(q, k, v)
    n_q, n_k = q.shape[-2], k.shape[-2]
    block = check_int(block, "block", minimum=1)
    mask = _as_mask(mask, n_q, n_k)
    tiles = _masks.tile_mask(mask, block)  # (tiles along queries, tiles along keys)
    scale = _scale(scale, q.shape[-1])
    outputs = []
    for tq, row in enumerate(tiles):
        rows = slice(tq * block, min((tq + 1) * block, n_q))
        q_blk = q[..., rows, :]  # (..., B, d_k)
        active = np.flatnonzero(row)
        if active.size == 0:  # nothing allowed in this block: output 0 (an empty matmul, so the
            outputs.append(q_blk[..., :0] @ v[..., :0, :])  # result stays in the autograd graph)
            continue
        keys = np.concatenate([np.arange(b * block, min((b + 1) * block, n_k)) for b in active])
        idx = torch.from_numpy(keys)
        # S = Q_b K_activeᵀ · scale                                   (..., B, m)
        scores = torch.matmul(q_blk, k.index_select(-2, idx).transpose(-1, -2)) * scale
        allowed = torch.from_numpy(mask[rows][:, keys])  # (B, m)
        weights = _masked_softmax(scores, allowed)
        outputs.append(torch.matmul(weights, v.index_select(-2, idx)))  # (..., B, d_v)
    return torch.cat(outputs, dim=-2)  # (..., n_q, d_v)
