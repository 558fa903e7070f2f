"""Memory compression: quantization (weights, activations, KV cache) and memory-compressed attention.

numpy throughout (the readable reference), except :func:`weight_only_matvec` (torch, timed in lesson 08).

* :func:`quantize` / :func:`dequantize`: a real number x is stored as a small integer q with a float
  ``scale`` (and an integer ``zero_point``): x̂ = scale · (q − zero_point). Symmetric (absmax) keeps
  zero_point = 0 and q ∈ [−(2^(b−1) − 1), 2^(b−1) − 1]; asymmetric (zero-point) maps [min x, max x]
  onto q ∈ [0, 2^b − 1] with an integer zero_point (the q that stands for x = 0).
  Either way |x − x̂| ≤ scale / 2 for every element (up to float rounding).
* :func:`int8_matmul`: integer matmul with int32 accumulation (exact).
* :func:`llm_int8_matmul`: LLM.int8() (Dettmers et al. 2022): outlier feature columns of x in float,
  the rest vector-wise int8 (a scale per row of x and per column of w).
* :func:`quantize_kv`: KIVI (Liu et al. 2024): keys per channel, values per token.
* :func:`compress_kv`: memory-compressed attention (Liu et al. 2018): K and V shortened along the
  sequence; a different idea from quantization (fewer vectors, not fewer bits per number).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from tutor_lib._validate import as_float_array, check_bool, check_finite, check_int
from tutor_lib.costs import ModelShape, as_model_shape, kv_cache_bytes
from tutor_lib.limits import guard_bytes

__all__ = [
    "SCHEMES",
    "outlier_activations",
    "quantize",
    "dequantize",
    "fake_quantize",
    "int8_matmul",
    "outlier_columns",
    "llm_int8_matmul",
    "quantized_matmul",
    "relative_error",
    "quantize_kv",
    "kv_cache_quant_bytes",
    "compress_kv",
    "compressed_causal_mask",
    "weight_only_matvec",
]

# int32 accumulation of int8 products cannot overflow while k · 128² < 2³¹.
MAX_INNER = (2**31 - 1) // (128 * 128)


def outlier_activations(
    n: int, d: int, magnitude: float, *, channels: int = 1, seed: int = 0
) -> np.ndarray:
    """Synthetic activations (n tokens, d channels) with systematic outlier features.

    Standard normal entries, plus ±``magnitude`` (one sign per channel) added to every token of
    ``channels`` randomly chosen channels: large in the same feature dimensions for every token, as
    Dettmers et al. (2022) found in LLM activations and KIVI (Liu et al. 2024) in keys.
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=1)
    channels = check_int(channels, "channels", minimum=0, maximum=d)
    if isinstance(magnitude, bool) or not isinstance(magnitude, numbers.Real):
        raise TypeError(f"magnitude must be a number, got {type(magnitude).__name__}")
    if not (math.isfinite(magnitude) and magnitude >= 0):
        raise ValueError(f"magnitude must be finite and >= 0, got {magnitude}")
    guard_bytes(8 * n * d, f"outlier_activations(n={n}, d={d})")
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    x = rng.standard_normal((n, d))
    where = rng.choice(d, size=channels, replace=False)
    x[:, where] += magnitude * rng.choice([-1.0, 1.0], size=channels)  # same sign for all tokens
    return x


def _as_data(x, name: str) -> np.ndarray:
    arr = as_float_array(x, name, min_ndim=0)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    check_finite(arr, name)
    return arr.astype(np.promote_types(arr.dtype, np.float32), copy=False)


def _kept_axes(axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints) as sorted non-negative axes of an ndim array."""
    if axis is None:
        return ()
    items = axis if isinstance(axis, tuple) else (axis,)
    if ndim == 0 or not items:
        raise ValueError(f"axis must be None for a 0-d x, or name at least one axis, got {axis}")
    kept = [check_int(a, "axis", minimum=-ndim, maximum=ndim - 1) % ndim for a in items]
    if len(set(kept)) != len(kept):
        raise ValueError(f"axis must not repeat an axis, got {axis}")
    return tuple(sorted(kept))


def quantize(x, bits: int = 8, *, axis=None, symmetric: bool = True):
    """x → ``(q, scale, zero_point)`` with x ≈ scale · (q − zero_point).

    ``axis``: the axis (or tuple of axes) whose entries each keep their own scale; None = one scale
    for the whole tensor. For a (tokens, channels) matrix ``axis=1`` is per channel (each column its
    own scale, computed over the tokens) and ``axis=0`` per token. ``scale`` and ``zero_point`` keep
    the reduced dims as size 1, so they broadcast against x. ``bits`` ∈ [2, 8].

    Symmetric (absmax): scale = max|x| / (2^(b−1) − 1), q ∈ [−(2^(b−1) − 1), 2^(b−1) − 1] (int8),
    zero_point = 0. Asymmetric: scale = (max x − min x) / (2^b − 1), zero_point = round(−min x /
    scale) (int32), q ∈ [0, 2^b − 1] (uint8); a constant slice (or one whose zero point would
    not fit an int32) uses [min(x, 0), max(x, 0)]. |x − x̂| ≤ scale/2 holds for every element.
    """
    x = _as_data(x, "x")
    bits = check_int(bits, "bits", minimum=2, maximum=8)
    symmetric = check_bool(symmetric, "symmetric")
    reduce = tuple(i for i in range(x.ndim) if i not in _kept_axes(axis, x.ndim))
    hi = np.max(x, axis=reduce, keepdims=True)
    lo = np.min(x, axis=reduce, keepdims=True)
    if symmetric:
        q_max = 2 ** (bits - 1) - 1
        # scale = absmax / (2^(b-1) - 1); an all-zero slice gets scale 1 (any scale is exact)
        absmax = np.maximum(hi, -lo)
        scale = np.where(absmax > 0, absmax / q_max, 1).astype(x.dtype)
        q = np.clip(np.rint(x / scale), -q_max, q_max).astype(np.int8)
        return q, scale, np.zeros(scale.shape, np.int32)
    q_max = 2**bits - 1
    # scale = (max - min) / (2^b - 1)  (each divided first: max - min may overflow)
    scale = hi / q_max - lo / q_max
    # a constant slice, or one so far from 0 that its zero point would not fit an int32,
    # gets the range [min(x, 0), max(x, 0)] instead (then 0 <= zero_point <= 2^b - 1)
    widen = (scale == 0) | (np.abs(lo) > 2**30 * scale)
    lo, hi = np.where(widen, np.minimum(lo, 0), lo), np.where(widen, np.maximum(hi, 0), hi)
    scale = np.where(hi > lo, hi / q_max - lo / q_max, 1).astype(x.dtype)
    # zero_point = round(-min / scale): the integer that stands for x = 0
    zero_point = np.rint(-lo / scale).astype(np.int32)
    q = np.clip(np.rint(x / scale) + zero_point, 0, q_max).astype(np.uint8)
    return q, scale, zero_point


def dequantize(q, scale, zero_point) -> np.ndarray:
    """x̂ = scale · (q − zero_point), in scale's float dtype (q and zero_point are integers)."""
    q, zero_point = np.asarray(q), np.asarray(zero_point)
    for name, arr in (("q", q), ("zero_point", zero_point)):
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    scale = _as_data(scale, "scale")
    try:
        np.broadcast_shapes(q.shape, scale.shape, zero_point.shape)
    except ValueError:
        raise ValueError(
            f"q {q.shape}, scale {scale.shape} and zero_point {zero_point.shape} must broadcast"
        ) from None
    # subtract in int64: uint8 - int32 must not wrap around
    return scale * (q.astype(np.int64) - zero_point.astype(np.int64)).astype(scale.dtype)


def fake_quantize(x, bits: int = 8, *, axis=None, symmetric: bool = True) -> np.ndarray:
    """The round trip dequantize(quantize(x)): x on the quantization grid, as floats."""
    return dequantize(*quantize(x, bits, axis=axis, symmetric=symmetric))


def int8_matmul(a_q, b_q) -> np.ndarray:
    """a_q (m, k) @ b_q (k, p) for int8 arrays, accumulated in int32: exact, no rounding at all."""
    for name, arr in (("a_q", a_q), ("b_q", b_q)):
        if not isinstance(arr, np.ndarray) or arr.dtype != np.int8:
            kind = getattr(arr, "dtype", type(arr).__name__)
            raise TypeError(f"{name} must be a numpy int8 array (see quantize), got {kind}")
        if arr.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got shape {arr.shape}")
    (m, k), (k2, p) = a_q.shape, b_q.shape
    if k != k2:
        raise ValueError(f"a_q (m, k) and b_q (k, p) must share k, got {a_q.shape} and {b_q.shape}")
    if k > MAX_INNER:
        raise ValueError(f"a_q: k = {k} > {MAX_INNER} could overflow the int32 accumulator")
    guard_bytes(4 * (m * k + k * p + m * p), f"int8_matmul({a_q.shape} @ {b_q.shape})")
    # C[i, j] = Σ_l a[i, l] · b[l, j], every product and partial sum an exact int32
    return a_q.astype(np.int32) @ b_q.astype(np.int32)


def _as_matrices(x, w) -> tuple[np.ndarray, np.ndarray]:
    x, w = _as_data(x, "x"), _as_data(w, "w")
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x (n, d_in) and w (d_in, d_out) must be 2-D, got {x.shape}, {w.shape}")
    return x, w


def _threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    if not threshold > 0:  # also rejects NaN; inf means "no outliers"
        raise ValueError(f"threshold must be > 0 (inf: no outliers), got {threshold}")
    return float(threshold)


def outlier_columns(x, threshold: float = 6.0) -> np.ndarray:
    """Indices of the feature columns of x (n, d) holding any |x| ≥ threshold (LLM.int8's rule)."""
    x = _as_data(x, "x")
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (tokens, features), got shape {x.shape}")
    return np.flatnonzero((np.abs(x) >= _threshold(threshold)).any(axis=0))


def _vectorwise(x: np.ndarray, w: np.ndarray, bits: int) -> np.ndarray:
    """x (n, k) @ w (k, p) with a scale per row of x and per column of w, int32 accumulation."""
    x_q, s_x, _ = quantize(x, bits, axis=0)  # s_x (n, 1): one scale per token
    w_q, s_w, _ = quantize(w, bits, axis=1)  # s_w (1, p): one scale per output column
    # y ≈ (s_x s_wᵀ) ∘ (X_q W_q): the scales sit outside the sum over k
    return (s_x * s_w) * int8_matmul(x_q, w_q)


def _decomposed(x: np.ndarray, w: np.ndarray, bits: int, threshold: float) -> np.ndarray:
    cols = outlier_columns(x, threshold)
    rest = np.setdiff1d(np.arange(x.shape[1]), cols)
    y = x[:, cols] @ w[cols, :]  # the outlier columns, in float: (n, d_out)
    if rest.size:
        y = y + _vectorwise(x[:, rest], w[rest, :], bits)
    return y


def llm_int8_matmul(x, w, threshold: float = 6.0) -> np.ndarray:
    """y ≈ x @ w by LLM.int8(): the feature columns of x (n, d_in) with any |x| ≥ ``threshold``
    (and the matching rows of w (d_in, d_out)) are multiplied in float; all other columns in
    vector-wise int8. ``threshold=inf`` gives plain vector-wise int8."""
    x, w = _as_matrices(x, w)
    return _decomposed(x, w, 8, _threshold(threshold))


# scheme → how x (tokens, channels) is scaled; w gets per-tensor ("tensor") or per-column scales
SCHEMES = ("tensor", "token", "channel", "llm.int8")


def quantized_matmul(x, w, bits: int = 8, *, scheme: str = "token", threshold: float = 6.0):
    """y ≈ x (n, d_in) @ w (d_in, d_out) with x quantized per ``scheme`` (see :data:`SCHEMES`).

    * ``"tensor"``: one scale for x and one for w, then :func:`int8_matmul`;
    * ``"token"``: vector-wise, a scale per row of x and per column of w;
    * ``"channel"``: a scale per column of x. It sits *inside* the sum over d_in, so no integer
      kernel can factor it out: simulated here in float (fake quantization) to show its error;
    * ``"llm.int8"``: :func:`llm_int8_matmul`'s decomposition, at ``bits``.
    """
    x, w = _as_matrices(x, w)
    bits = check_int(bits, "bits", minimum=2, maximum=8)
    if scheme == "tensor":
        (x_q, s_x, _), (w_q, s_w, _) = quantize(x, bits), quantize(w, bits)
        return s_x * s_w * int8_matmul(x_q, w_q)
    if scheme == "token":
        return _vectorwise(x, w, bits)
    if scheme == "channel":
        return fake_quantize(x, bits, axis=1) @ fake_quantize(w, bits, axis=1)
    if scheme == "llm.int8":
        return _decomposed(x, w, bits, _threshold(threshold))
    raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")


def relative_error(approx, exact) -> float:
    """‖approx − exact‖ / ‖exact‖ (Frobenius norms)."""
    approx, exact = _as_data(approx, "approx"), _as_data(exact, "exact")
    if approx.shape != exact.shape:
        raise ValueError(f"approx {approx.shape} and exact {exact.shape} must have the same shape")
    norm = float(np.linalg.norm(exact))
    if norm == 0:
        raise ValueError("exact must not be all zeros (the relative error is undefined)")
    return float(np.linalg.norm(approx - exact)) / norm


def _as_kv(k, v) -> tuple[np.ndarray, np.ndarray]:
    k, v = _as_data(k, "k"), _as_data(v, "v")
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


def weight_only_matvec(w_q, scale, x, *, block_rows: int = 256) -> torch.Tensor:
    """Weight-only int8 decoding: y = x @ (scale · w_q)ᵀ, dequantizing ``block_rows`` rows at a time.

    w_q (d_out, d_in) torch.int8 (rows = output features, as ``nn.Linear.weight``), scale (d_out,)
    float, x (..., d_in) float → (..., d_out) in x's dtype. Only a block of float weights exists at
    any time (it stays in cache), so the matrix is read from memory as int8: 1 byte per weight.
    """
    if not isinstance(w_q, torch.Tensor) or w_q.dtype != torch.int8 or w_q.ndim != 2:
        raise TypeError(f"w_q must be a 2-D torch.int8 tensor, got {getattr(w_q, 'dtype', w_q)}")
    for name, t in (("scale", scale), ("x", x)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor")
    if scale.shape != (w_q.shape[0],) or x.shape[-1:] != (w_q.shape[1],):
        raise ValueError(
            f"need w_q (d_out, d_in), scale (d_out,), x (..., d_in); got "
            f"{tuple(w_q.shape)}, {tuple(scale.shape)}, {tuple(x.shape)}"
        )
    block_rows = check_int(block_rows, "block_rows", minimum=1)
    y = torch.empty(*x.shape[:-1], w_q.shape[0], dtype=x.dtype)
    for start in range(0, w_q.shape[0], block_rows):
        rows = slice(start, start + block_rows)
        # y[:, rows] = (x @ W_q[rows]ᵀ) · scale[rows]: the float copy is (block_rows, d_in)
        y[..., rows] = torch.matmul(x, w_q[rows].to(x.dtype).T) * scale[rows].to(x.dtype)
    return y
