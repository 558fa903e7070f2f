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

import math
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

from tutor_lib import masks as _masks
from tutor_lib._validate import check_int
from tutor_lib.costs import MIB
from tutor_lib.limits import guard_bytes
from tutor_lib.torch_ops import (
    as_mask_array,
    as_qkv_tensors,
    check_output,
    default_scale,
    masked_softmax,
)

__all__ = [
    "sliding_window_attention",
    "block_sparse_attention",
    "default_query_block",
    "cached_bytes",
]


def default_query_block(left: int, right: int, n: int) -> int:
    """Query block size B used by :func:`sliding_window_attention`: a power of two near an eighth
    of the window (each query then scores B + left + right keys, ~1.125× the band), between 16 and
    256 and at most n. Smaller blocks waste less work; larger ones give bigger matmuls.
    """
    left = check_int(left, "left", minimum=0)
    right = check_int(right, "right", minimum=0)
    n = check_int(n, "n", minimum=1)
    width = left + right + 1
    eighth = 1 << max(0, (width // 8).bit_length() - 1)  # largest power of two <= width / 8
    return max(1, min(n, 256, max(16, eighth)))


def _padded_rows(x: torch.Tensor, lead_size: int, rows: int, front: int, back: int) -> torch.Tensor:
    """x (..., n, d) → one buffer (front + lead_size·rows + back, d) holding each sequence at
    ``front + s·rows``, padded with zeros to ``rows`` rows. One allocation and one copy, and only
    the padding is zeroed (fresh memory is expensive; two ``F.pad`` calls would allocate and fill
    twice, and zeroing the whole buffer first writes every byte twice)."""
    n, d = x.shape[-2:]
    buf = x.new_empty(front + lead_size * rows + back, d)
    body = buf[front : front + lead_size * rows].view(lead_size, rows, d)  # (b, rows, d)
    body[:, :n] = x.reshape(lead_size, n, d)
    # zero only what the copy did not write: the margins and each sequence's padding rows
    buf[:front].zero_(), buf[front + lead_size * rows :].zero_(), body[:, n:].zero_()
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


# Recently used band masks, kept while their total stays under _BIAS_CACHE_BYTES: repeated calls
# with one shape (a timing loop) reuse the mask; a sweep over n cannot pile them up.
_BIAS_CACHE: OrderedDict[tuple, torch.Tensor] = OrderedDict()
_BIAS_CACHE_BYTES = 64 * MIB


def _window_bias(n: int, left: int, right: int, size: int, dtype: torch.dtype) -> torch.Tensor:
    """(nb, B, span) additive mask for the key spans: 0 where allowed, -inf elsewhere."""
    key = (n, left, right, size, dtype)
    if key in _BIAS_CACHE:
        _BIAS_CACHE.move_to_end(key)
        return _BIAS_CACHE[key]
    outside = _outside_band(n, left, right, size)
    bias = torch.zeros(outside.shape, dtype=dtype).masked_fill_(outside, -math.inf)
    _BIAS_CACHE[key] = bias
    while sum(t.nbytes for t in _BIAS_CACHE.values()) > _BIAS_CACHE_BYTES:
        _BIAS_CACHE.popitem(last=False)  # the oldest goes first (a too-big new one goes too)
    return bias


def cached_bytes() -> int:
    """Bytes held by the band-mask cache of :func:`sliding_window_attention` (≤ 64 MiB)."""
    return sum(t.nbytes for t in _BIAS_CACHE.values())


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
    q, k, v = as_qkv_tensors(q, k, v)
    *lead, n, d_k = q.shape
    if k.shape[-2] != n:
        raise ValueError(
            f"q and k must have the same length n (self-attention), got {n} and {k.shape[-2]}"
        )
    left = min(check_int(left, "left", minimum=0), n - 1)  # a wider window sees the same keys
    right = min(check_int(right, "right", minimum=0), n - 1)
    size = (  # a block longer than the sequence is the whole sequence
        default_query_block(left, right, n)
        if block is None
        else min(check_int(block, "block", minimum=1), n)
    )
    lead_size, num_blocks, d_v = math.prod(lead), -(-n // size), v.shape[-1]
    span = size + left + right
    guard_bytes(  # key/value spans, the block scores, the band mask, padded queries and output
        q.element_size()
        * num_blocks
        * (lead_size * span * (d_k + d_v + size) + size * span + lead_size * size * (d_k + d_v)),
        f"sliding_window_attention(n={n}, left={left}, right={right}, block={size})",
        hint="use a smaller block or a narrower window",
    )
    scale = default_scale(scale, d_k)
    if n % size:  # pad the queries to whole blocks (the extra rows are dropped at the end)
        q = _padded_rows(q, lead_size, num_blocks * size, 0, 0)
    qb = q.reshape(lead_size, num_blocks, size, d_k)  # (b, nb, B, d_k)
    k_spans = _key_spans(k, lead_size, left, right, size).view(lead_size, num_blocks, span, d_k)
    v_spans = _key_spans(v, lead_size, left, right, size).view(lead_size, num_blocks, span, d_v)
    bias = _window_bias(n, left, right, size, q.dtype)  # (nb, B, span): 0 or -inf; [None]: 4-D
    # O_b = softmax(Q_b K_spanᵀ · scale + bias) V_span for every block at once: PyTorch's fused
    # kernel (the same as dense SDPA), with the blocks as a "heads" dimension  (b, nb, B, d_v)
    out = F.scaled_dot_product_attention(qb, k_spans, v_spans, attn_mask=bias[None], scale=scale)
    return check_output(out.reshape(*lead, num_blocks * size, d_v)[..., :n, :])  # (..., n, d_v)


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
    q, k, v = as_qkv_tensors(q, k, v)
    n_q, n_k = q.shape[-2], k.shape[-2]
    block = min(check_int(block, "block", minimum=1), max(n_q, n_k))  # one tile covers it all
    mask = as_mask_array(mask, n_q, n_k)
    lead_size, d_k, d_v = math.prod(q.shape[:-2]), q.shape[-1], v.shape[-1]
    guard_bytes(  # gathered keys and values, one query block's scores (×4 in the softmax), output
        q.element_size() * lead_size * (n_k * (d_k + d_v + 4 * min(block, n_q)) + 2 * n_q * d_v),
        f"block_sparse_attention(n_q={n_q}, n_k={n_k}, block={block})",
        hint="use a smaller block",
    )
    tiles = _masks.tile_mask(mask, block)  # (tiles along queries, tiles along keys)
    scale = default_scale(scale, q.shape[-1])
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
        weights = masked_softmax(scores, allowed)
        outputs.append(torch.matmul(weights, v.index_select(-2, idx)))  # (..., B, d_v)
    return check_output(torch.cat(outputs, dim=-2))  # (..., n_q, d_v)
