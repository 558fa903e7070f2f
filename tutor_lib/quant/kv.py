"""The KV cache, compressed two ways: fewer bits per number (KIVI, Liu et al. 2024, arXiv
2402.02750) or fewer vectors (memory-compressed attention, Liu et al. 2018, arXiv 1801.10198)."""

from __future__ import annotations

import math

import numpy as np

from tutor_lib._validate import check_int
from tutor_lib.costs import ModelShape, as_model_shape, kv_cache_bytes
from tutor_lib.limits import guard_bytes
from tutor_lib.quant.core import as_finite_array, quantize

__all__ = ["quantize_kv", "kv_cache_quant_bytes", "compress_kv", "compressed_causal_mask"]


def _as_kv(k, v) -> tuple[np.ndarray, np.ndarray]:
    k, v = as_finite_array(k, "k"), as_finite_array(v, "v")
    if k.ndim < 2 or v.ndim < 2 or k.shape[:-1] != v.shape[:-1]:
        raise ValueError(
            f"k (..., n, d_k) and v (..., n, d_v) must match in (..., n), got "
            f"{k.shape} and {v.shape}"
        )
    return k, v


def _grouped(x: np.ndarray, bits: int, along: int, group: int | None, symmetric: bool):
    """quantize(x) with one scale per run of ``group`` entries along axis ``along`` (every other
    axis keeps its own scales); ``group=None``: one run covers the whole axis. The scale and zero
    point are repeated over each run, so they have x's shape (or broadcast to it)."""
    keep = tuple(i for i in range(x.ndim) if i != along)
    size = x.shape[along]
    if group is None or group >= size:
        return quantize(x, bits, axis=keep, symmetric=symmetric)
    runs = -(-size // group)
    pad = [(0, 0)] * x.ndim
    pad[along] = (0, runs * group - size)
    padded = np.pad(x, pad, mode="edge")  # repeats the last entry: min and max are unchanged
    # the axis becomes (runs, group): every run keeps its own scale, the group axis is reduced
    split = padded.shape[:along] + (runs, group) + padded.shape[along + 1 :]
    kept = keep[:along] + (along,) + tuple(a + 1 for a in keep[along:])
    q, scale, zero = quantize(padded.reshape(split), bits, axis=kept, symmetric=symmetric)
    cut = [slice(None)] * x.ndim
    cut[along] = slice(0, size)
    return tuple(
        np.broadcast_to(part, split).reshape(padded.shape)[tuple(cut)].copy()
        for part in (q, scale, zero)
    )


def quantize_kv(k, v, bits: int = 2, *, group: int | None = None, symmetric: bool = False):
    """KIVI's KV-cache quantization: ``(k_parts, v_parts)``, each ``(q, scale, zero_point)``.

    k (..., n, d_k) is quantized **per channel** (every (…, channel) its own scale over the
    tokens: keys have outlier channels); v (..., n, d_v) **per token** (every (…, token) its own
    scale over the channels). Asymmetric by default, as in KIVI. ``group``: one scale per run of
    ``group`` tokens (keys) or channels (values) instead of the whole axis; the scales are then
    repeated over their run (shape of k or v), so ``dequantize(*parts)`` works either way.
    """
    k, v = _as_kv(k, v)
    if group is not None:
        group = check_int(group, "group", minimum=1)
    return (
        _grouped(k, bits, k.ndim - 2, group, symmetric),  # runs along the tokens
        _grouped(v, bits, v.ndim - 1, group, symmetric),  # runs along the channels
    )


def kv_cache_quant_bytes(
    shape: ModelShape,
    tokens: int,
    bits: int,
    *,
    group: int = 128,
    batch: int = 1,
    scale_bytes: int = 2,
) -> dict[str, int]:
    """Bytes of a KV cache quantized to ``bits`` as :func:`quantize_kv` does, with its scales.

    ``payload``: 2·L·n_kv·d_h·tokens·bits/8 (:func:`tutor_lib.costs.kv_cache_bytes`). ``scales``:
    one (scale, zero point) pair of ``scale_bytes`` each per ``group`` numbers: keys per channel
    over groups of ``group`` tokens, values per token over groups of ``group`` channels. ``total``.
    """
    s = as_model_shape(shape)
    tokens = check_int(tokens, "tokens", minimum=0)
    bits = check_int(bits, "bits", minimum=2, maximum=8)
    group = check_int(group, "group", minimum=1)
    batch = check_int(batch, "batch", minimum=1)
    scale_bytes = check_int(scale_bytes, "scale_bytes", minimum=1)
    # ⌈values · bits / 8⌉ whole bytes, exact for any size (bits / 8 may not give whole bytes)
    payload = -(-kv_cache_bytes(s, tokens, 1, batch) * bits // 8)
    pairs_k = s.kv_heads * s.d_head * math.ceil(tokens / group)  # per layer
    pairs_v = s.kv_heads * tokens * math.ceil(s.d_head / group)
    scales = s.n_layers * batch * (pairs_k + pairs_v) * 2 * scale_bytes
    return {"payload": payload, "scales": scales, "total": payload + scales}


def compress_kv(k, v, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Memory-compressed attention's shorter K and V: the mean of every ``stride`` consecutive
    tokens. k (..., n, d_k), v (..., n, d_v) → (..., ⌈n/stride⌉, d); the last slot averages the
    n mod stride leftover tokens. (Liu et al. 2018 learn a strided convolution, kernel = stride = 3;
    the mean is that convolution with fixed, equal weights.)"""
    k, v = _as_kv(k, v)
    n = k.shape[-2]
    stride = min(check_int(stride, "stride", minimum=1), n)  # longer than n: one slot of all n
    slots = -(-n // stride)
    counts = np.minimum(stride, n - stride * np.arange(slots))[
        :, None
    ]  # (slots, 1) tokens per slot

    def shorten(x: np.ndarray) -> np.ndarray:
        pad = [(0, 0)] * (x.ndim - 2) + [(0, slots * stride - n), (0, 0)]
        blocks = np.pad(x, pad).reshape(*x.shape[:-2], slots, stride, x.shape[-1])  # (..., m, s, d)
        return blocks.sum(axis=-2) / counts  # (..., m, d)

    return shorten(k), shorten(v)


def compressed_causal_mask(n: int, stride: int) -> np.ndarray:
    """(n, ⌈n/stride⌉) bool: query i may read compressed slot j iff every token the slot averages
    is in i's past, i.e. the slot's last token min((j+1)·stride, n) − 1 ≤ i."""
    n = check_int(n, "n", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    slots = -(-n // stride)
    guard_bytes(n * slots, f"compressed_causal_mask(n={n}, stride={stride})")
    last = np.minimum((np.arange(slots) + 1) * stride, n) - 1  # (slots,) last token of each slot
    return last[None, :] <= np.arange(n)[:, None]
