"""Scaled dot-product attention in plain numpy: the readable reference every other module is tested against.

Conventions (shared by the whole library):

* shapes ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)``; leading dims broadcast;
* masks are boolean, broadcastable to ``(..., n_q, n_k)``, **True = may attend** (as SDPA's ``attn_mask``);
* causal is **bottom-right aligned**: query ``i`` sits at position ``i + n_k - n_q``, so one decoding
  step (``n_q = 1``) sees every key. ``torch.nn.functional.scaled_dot_product_attention(is_causal=True)``
  is top-left aligned instead; the two agree only when ``n_q == n_k``;
* a query with no allowed key gets weights 0 and output 0, never NaN;
* default scale ``1 / sqrt(d_k)``.
"""

from __future__ import annotations

import math

import numpy as np

from tutor_lib._validate import (
    as_bool_mask,
    as_float_array,
    as_qkv_arrays,
    check_bool,
    check_finite,
    check_int,
    check_positive_float,
    default_scale,
)
from tutor_lib.limits import guard_bytes

__all__ = [
    "softmax",
    "causal_mask",
    "attention",
    "split_heads",
    "merge_heads",
    "multi_head_attention",
    "random_attention_weights",
    "row_stats",
]


def softmax(x, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``.

    softmax(x)_j = exp(x_j - max(x)) / sum_l exp(x_l - max(x)).
    Subtracting the row max changes nothing mathematically but keeps every exp() <= 1, so large logits
    cannot overflow. ``-inf`` entries (masked keys) get probability 0; a row that is all ``-inf`` gets
    all zeros instead of NaN.
    """
    x = as_float_array(x, "x")
    axis = check_int(axis, "axis", minimum=-x.ndim, maximum=x.ndim - 1)
    if np.isnan(x.max()) or np.isposinf(x.max()):  # max propagates NaN: no temporary array
        raise ValueError("x must not contain NaN or +inf (use -inf for masked entries)")
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # all -inf row: exp(-inf - 0) = 0 below, no NaN
    e = np.exp(x - m)
    total = e.sum(axis=axis, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def causal_mask(n_q: int, n_k: int | None = None) -> np.ndarray:
    """Bottom-right aligned causal mask ``(n_q, n_k)``: key ``j`` allowed iff ``j <= i + n_k - n_q``.

    With ``n_k = None`` it is the square ``(n_q, n_q)`` lower-triangular mask.
    """
    n_q = check_int(n_q, "n_q", minimum=1)
    n_k = n_q if n_k is None else check_int(n_k, "n_k", minimum=1)
    guard_bytes(n_q * n_k, f"causal_mask(n_q={n_q}, n_k={n_k})")
    i = np.arange(n_q)[:, None]  # (n_q, 1) query index
    j = np.arange(n_k)[None, :]  # (1, n_k) key index
    return j <= i + (n_k - n_q)


def attention(
    q,
    k,
    v,
    mask=None,
    *,
    causal: bool = False,
    scale: float | None = None,
    return_weights: bool = False,
):
    """Attention(Q, K, V) = softmax(Q Kᵀ · scale, masked) V.

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → out (..., n_q, d_v).
    mask: boolean, broadcastable to (..., n_q, n_k), True = may attend. ``causal=True`` adds the
    bottom-right causal mask (combined with ``mask`` by AND). ``scale`` defaults to 1/sqrt(d_k).
    With ``return_weights=True`` also returns the weights (..., n_q, n_k); rows sum to 1, or to 0 when a
    query may attend to no key (its output is then 0).
    """
    q, k, v = as_qkv_arrays(q, k, v)
    causal = check_bool(causal, "causal")
    return_weights = check_bool(return_weights, "return_weights")
    n_q, d_k = q.shape[-2:]
    n_k = k.shape[-2]
    lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    itemsize = np.result_type(q, k, v).itemsize
    guard_bytes(  # the scores, their masked copy and the softmax's exponentials
        3 * math.prod(lead) * n_q * n_k * itemsize,
        f"attention with n_q={n_q}, n_k={n_k} and batch/head dims {lead}",
        hint="use a kernel that never builds the (n_q, n_k) scores (tutor_lib.sparse)",
    )
    # a Python float (not np.float64) so float32 inputs stay float32 under NumPy 2 promotion
    scale = default_scale(scale, d_k)
    # S = Q Kᵀ · scale                                             (..., n_q, n_k)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked by _check_scores
        scores = (q @ np.swapaxes(k, -1, -2)) * scale
    allowed = None
    if mask is not None:
        allowed = as_bool_mask(mask)
        try:
            np.broadcast_shapes(allowed.shape, scores.shape)
        except ValueError:
            raise ValueError(
                f"mask of shape {allowed.shape} does not broadcast to the scores "
                f"(..., n_q, n_k) = {scores.shape}"
            ) from None
    if causal:
        c = causal_mask(n_q, n_k)
        allowed = c if allowed is None else allowed & c
    _check_scores(scores, allowed, q, k, scale)
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    # P = softmax(S) row by row; fully masked rows are all 0
    weights = softmax(scores, axis=-1)
    # O = P V                                                      (..., n_q, d_v)
    out = weights @ v
    if not np.isfinite(_abs_max(out)):
        raise ValueError(f"v's values are too large: their weighted sums overflow {out.dtype}")
    return (out, weights) if return_weights else out


def _check_scores(scores: np.ndarray, allowed, q: np.ndarray, k: np.ndarray, scale: float) -> None:
    """ValueError naming q and k if a score a query may use overflowed to ±inf (or NaN).

    Finite q and k can still overflow q·k (e.g. 1e200 · 1e200). The bound |q·k| ≤ d_k·max|q|·max|k|
    rules that out without looking at the scores; only when it fails are the scores checked. A
    masked score may overflow freely: it is replaced by -inf before the softmax.
    """
    q_max, k_max = _abs_max(q), _abs_max(k)
    # the bound in Python floats: a product too large for them is inf, no error
    if q.shape[-1] * q_max * k_max * scale < np.finfo(scores.dtype).max:
        return
    bad = ~np.isfinite(scores)
    if allowed is not None:
        bad &= allowed
    if bad.any():
        raise ValueError(
            f"q and k are too large for {scores.dtype}: the scores q·kᵀ·scale overflow "
            f"(max |q| = {q_max:.3g}, max |k| = {k_max:.3g}); scale them down"
        )


def _abs_max(x: np.ndarray) -> float:
    """max |x| without a temporary copy of x."""
    return max(-float(x.min()), float(x.max()))


def split_heads(x, num_heads: int) -> np.ndarray:
    """(..., n, d) → (..., num_heads, n, d // num_heads): head h gets columns h·d_h … (h+1)·d_h - 1."""
    x = as_float_array(x, "x", min_ndim=2)
    num_heads = check_int(num_heads, "num_heads", minimum=1)
    *lead, n, d = x.shape
    if d % num_heads:
        raise ValueError(f"the last dim of x ({d}) must be divisible by num_heads ({num_heads})")
    x = x.reshape(*lead, n, num_heads, d // num_heads)  # (..., n, h, d_h)
    return np.swapaxes(x, -3, -2)  # (..., h, n, d_h)


def merge_heads(x) -> np.ndarray:
    """(..., num_heads, n, d_h) → (..., n, num_heads · d_h); the inverse of :func:`split_heads`."""
    x = as_float_array(x, "x", min_ndim=3)
    *lead, h, n, d_h = x.shape
    x = np.swapaxes(x, -3, -2)  # (..., n, h, d_h)
    return x.reshape(*lead, n, h * d_h)  # (..., n, d)


def multi_head_attention(
    x,
    w_q,
    w_k,
    w_v,
    w_o,
    num_heads: int,
    *,
    mask=None,
    causal: bool = False,
    num_kv_heads: int | None = None,
):
    """Multi-head self-attention: concat_h(attention(X W_q^h, X W_k^h, X W_v^h)) W_o.

    x: (..., n, d_model); w_q, w_o: (d_model, d_model), applied as ``x @ w``. ``mask`` is broadcast
    over heads: give (n, n), (..., 1, n, n) or (..., num_heads, n, n).

    ``num_kv_heads`` (grouped-query attention; None = num_heads): w_k, w_v are
    (d_model, num_kv_heads · d_h) and each key/value head serves num_heads / num_kv_heads
    *consecutive* query heads (query head i uses KV head i // group, as PyTorch's SDPA
    ``enable_gqa`` and Mistral do). num_kv_heads = 1 is multi-query attention.
    """
    x = as_float_array(x, "x", min_ndim=2)
    check_finite(x, "x")
    causal = check_bool(causal, "causal")
    num_heads = check_int(num_heads, "num_heads", minimum=1)
    d_model = x.shape[-1]
    if num_kv_heads is None:
        num_kv_heads = num_heads
    num_kv_heads = check_int(num_kv_heads, "num_kv_heads", minimum=1, maximum=num_heads)
    if num_heads % num_kv_heads:
        raise ValueError(
            f"num_heads ({num_heads}) must be divisible by num_kv_heads ({num_kv_heads})"
        )
    if d_model % num_heads:
        raise ValueError(f"d_model ({d_model}) must be divisible by num_heads ({num_heads})")
    d_kv = num_kv_heads * (d_model // num_heads)  # width of K and V
    columns = {"w_q": d_model, "w_k": d_kv, "w_v": d_kv, "w_o": d_model}  # each is (d_model, cols)
    weights = {}
    for (name, cols), w in zip(columns.items(), (w_q, w_k, w_v, w_o), strict=True):
        weights[name] = w = as_float_array(w, name, min_ndim=2)
        if w.shape != (d_model, cols):
            raise ValueError(f"{name} must have shape {(d_model, cols)}, got {w.shape}")
        check_finite(w, name)
    projected = {}
    for name in ("w_q", "w_k", "w_v"):
        with np.errstate(over="ignore", invalid="ignore"):  # checked on the next line
            projected[name] = p = x @ weights[name]  # (..., n, d_model or d_kv)
        check_finite(p, f"x @ {name} (x or {name} is too large)")
    group = num_heads // num_kv_heads  # query heads per KV head
    q = split_heads(projected["w_q"], num_heads)  # (..., h, n, d_h)
    k = split_heads(projected["w_k"], num_kv_heads)  # (..., h_kv, n, d_h)
    v = split_heads(projected["w_v"], num_kv_heads)
    # KV head j serves query heads j·group … (j+1)·group − 1                  (..., h, n, d_h)
    k, v = np.repeat(k, group, axis=-3), np.repeat(v, group, axis=-3)
    heads = attention(q, k, v, mask, causal=causal)  # (..., h, n, d_h)
    return merge_heads(heads) @ weights["w_o"]  # (..., n, d_model)


def random_attention_weights(
    n: int,
    d_k: int,
    *,
    multiplier: float = 1.0,
    sqrt_scaling: bool = True,
    causal: bool = False,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Random q, k ~ N(0, 1) of shape (n, d_k) → (scaled scores, weights), both (n, n).

    ``multiplier`` is an **inverse temperature** β: scale = β / sqrt(d_k) when ``sqrt_scaling``
    else β. β > 1 sharpens the softmax (towards one-hot), β < 1 flattens it (towards uniform);
    a temperature T is β = 1/T. Keys double as values (only the weights, the attention
    probabilities, are of interest). Shows how d_k and the scale set the softmax's sharpness.
    """
    n = check_int(n, "n", minimum=1)
    d_k = check_int(d_k, "d_k", minimum=1)
    multiplier = check_positive_float(multiplier, "multiplier")
    sqrt_scaling = check_bool(sqrt_scaling, "sqrt_scaling")
    causal = check_bool(causal, "causal")
    seed = check_int(seed, "seed", minimum=0)
    guard_bytes(4 * 8 * n * n + 16 * n * d_k, f"random_attention_weights(n={n}, d_k={d_k})")
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n, d_k))
    k = rng.standard_normal((n, d_k))
    scale = multiplier / np.sqrt(d_k) if sqrt_scaling else multiplier
    _, weights = attention(q, k, k, causal=causal, scale=scale, return_weights=True)
    return (q @ k.T) * scale, weights


def row_stats(weights, mask=None) -> dict[str, float]:
    """Mean row entropy (bits), its maximum possible value, and the mean of each row's largest weight.

    The maximum counts the keys ``mask`` allows (default: every key): a weight that underflowed to 0
    in a saturated softmax still belongs to an allowed key.
    """
    weights = as_float_array(weights, "weights")
    check_finite(weights, "weights")
    if weights.min() < 0 or weights.max() > 1 + 1e-9:
        raise ValueError("weights must lie in [0, 1] (softmax output, not scores)")
    if mask is None:
        allowed = np.full(weights.shape[:-1], weights.shape[-1])  # every key allowed
    else:
        mask = as_bool_mask(mask)
        try:
            allowed = np.broadcast_to(mask, weights.shape).sum(-1)
        except ValueError:
            raise ValueError(
                f"mask of shape {mask.shape} does not broadcast to weights {weights.shape}"
            ) from None
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(weights > 0, np.log2(np.where(weights > 0, weights, 1.0)), 0.0)
    entropy = -(weights * logs).sum(axis=-1)
    return {
        "entropy_bits": float(entropy.mean()),
        "max_entropy_bits": float(np.log2(np.maximum(allowed, 1)).mean()),
        "max_weight": float(weights.max(axis=-1).mean()),
    }
