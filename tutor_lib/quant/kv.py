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


def quantize_kv(k, v, bits: int = 2, *, symmetric: bool = False):
    """KIVI's KV-cache quantization: ``(k_parts, v_parts)``, each ``(q, scale, zero_point)``.

    k (..., n, d_k) is quantized **per channel** (every (…, channel) its own scale over the n
    tokens: keys have outlier channels); v (..., n, d_v) **per token** (every (…, token) its own
    scale over the channels). Asymmetric by default, as in KIVI.
    """
    k, v = _as_kv(k, v)
    per_channel = tuple(i for i in range(k.ndim) if i != k.ndim - 2)  # all axes but tokens
    per_token = tuple(range(v.ndim - 1))  # all axes but channels
    return (
        quantize(k, bits, axis=per_channel, symmetric=symmetric),
        quantize(v, bits, axis=per_token, symmetric=symmetric),
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
    payload = kv_cache_bytes(s, tokens, bits / 8, batch)
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
    stride = check_int(stride, "stride", minimum=1)
    n = k.shape[-2]
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
