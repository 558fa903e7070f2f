"""Quantization itself: x ≈ scale · (q − zero_point), the round trip, and exact integer matmul."""

from __future__ import annotations

import math

import numpy as np

from tutor_lib._validate import as_float_array, check_bool, check_finite, check_int
from tutor_lib.limits import guard_bytes

__all__ = ["quantize", "dequantize", "fake_quantize", "int8_matmul", "relative_error"]

# int32 accumulation of int8 products cannot overflow while k · 128² < 2³¹.
MAX_INNER = (2**31 - 1) // (128 * 128)
# an asymmetric zero point must fit an int32 (with room for q on top)
ZERO_POINT_LIMIT = np.iinfo(np.int32).max // 2


def as_finite_array(x, name: str) -> np.ndarray:
    """``x`` as a non-empty, finite float array (float16 → float32); the check every quant
    function starts with."""
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
    x = as_finite_array(x, "x")
    bits = check_int(bits, "bits", minimum=2, maximum=8)
    symmetric = check_bool(symmetric, "symmetric")
    reduce = tuple(i for i in range(x.ndim) if i not in _kept_axes(axis, x.ndim))
    hi = np.max(x, axis=reduce, keepdims=True)
    lo = np.min(x, axis=reduce, keepdims=True)
    if symmetric:
        q_max = 2 ** (bits - 1) - 1
        # scale = absmax / (2^(b-1) - 1)
        absmax = np.maximum(hi, -lo)
        # an all-zero slice (or one whose scale underflows) gets scale 1: any scale is exact there
        scale = np.where(absmax / q_max > 0, absmax / q_max, 1).astype(x.dtype)
        q = np.clip(np.rint(x / scale), -q_max, q_max).astype(np.int8)
        return q, scale, np.zeros(scale.shape, np.int32)
    q_max = 2**bits - 1
    # scale = (max - min) / (2^b - 1)  (each divided first: max - min may overflow)
    scale = hi / q_max - lo / q_max
    # a constant slice, or one so far from 0 that its zero point would not fit an int32,
    # gets the range [min(x, 0), max(x, 0)] instead (then 0 <= zero_point <= 2^b - 1)
    widen = (scale == 0) | (np.abs(lo) / ZERO_POINT_LIMIT > scale)
    lo, hi = np.where(widen, np.minimum(lo, 0), lo), np.where(widen, np.maximum(hi, 0), hi)
    scale = hi / q_max - lo / q_max
    scale = np.where(scale > 0, scale, 1).astype(x.dtype)
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
    scale = as_finite_array(scale, "scale")
    try:
        shape = np.broadcast_shapes(q.shape, scale.shape, zero_point.shape)
    except ValueError:
        raise ValueError(
            f"q {q.shape}, scale {scale.shape} and zero_point {zero_point.shape} must broadcast"
        ) from None
    # the int64 difference and the float result, both of the broadcast shape
    guard_bytes(16 * math.prod(shape), f"dequantize(q {q.shape}, scale {scale.shape})")
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


def relative_error(approx, exact) -> float:
    """‖approx − exact‖ / ‖exact‖ (Frobenius norms)."""
    approx, exact = as_finite_array(approx, "approx"), as_finite_array(exact, "exact")
    if approx.shape != exact.shape:
        raise ValueError(f"approx {approx.shape} and exact {exact.shape} must have the same shape")
    norm = float(np.linalg.norm(exact))
    if norm == 0:
        raise ValueError("exact must not be all zeros (the relative error is undefined)")
    return float(np.linalg.norm(approx - exact)) / norm
