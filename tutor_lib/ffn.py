"""The position-wise feed-forward network (numpy): plain, SwiGLU, and chunked over the sequence.

FFN(x) = act(x W1 + b1) W2 + b2 is applied to every token on its own: row i of the output depends
only on row i of the input. That is why it can be computed a chunk of tokens at a time
(:func:`chunked_ffn`) with the same result and a smaller peak memory: the (n, m) hidden layer never
exists at once. :func:`moe_ffn` is a Mixture of Experts: E such FFNs and a router that sends each
token to k of them. numpy is used so that ``tutor_lib.measure.peak_bytes`` (tracemalloc) sees every
allocation.

Shapes: x (..., n, d); w1 (d, m); b1 (m,); w2 (m, d); b2 (d,) → (..., n, d). Weights are applied as
``x @ w`` (torch's nn.Linear stores the transpose).
"""

from __future__ import annotations

import math

import numpy as np

from tutor_lib._validate import as_float_array, check_finite, check_int
from tutor_lib.limits import guard_bytes

__all__ = ["ACTIVATIONS", "relu", "gelu", "silu", "ffn", "swiglu", "chunked_ffn", "moe_ffn"]

ACTIVATIONS = ("relu", "gelu")

_erf = np.vectorize(math.erf, otypes=[np.float64])  # numpy has no erf; math.erf is exact to 1 ulp


def _activation_input(x) -> np.ndarray:
    """x as a floating array (ints → float64, so ``gelu([1, 2, -1])`` is not rounded to ints)."""
    return as_float_array(x, "x", min_ndim=0, allow_empty=True)


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), element-wise (floating output; integer input becomes float64)."""
    return np.maximum(_activation_input(x), 0)


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU in its exact erf form: x · Φ(x) = x · ½ (1 + erf(x / √2)), torch's default.

    (Not the tanh approximation.) Computed element-wise through Python's ``math.erf``, so it is slow
    on big arrays, about 0.1 µs per value.
    """
    x = _activation_input(x)
    return (x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))).astype(x.dtype, copy=False)


def silu(x: np.ndarray) -> np.ndarray:
    """SiLU (swish): x · sigmoid(x), with sigmoid(x) = exp(-log(1 + e^-x)) so it never overflows."""
    x = _activation_input(x)
    return x * np.exp(-np.logaddexp(0, -x))


def _check_ffn_weights(x, w1, b1, w2, b2, activation: str):
    x = as_float_array(x, "x")
    w1, w2 = as_float_array(w1, "w1", min_ndim=2), as_float_array(w2, "w2", min_ndim=2)
    b1, b2 = as_float_array(b1, "b1"), as_float_array(b2, "b2")
    d = x.shape[-1]
    if w1.ndim != 2 or w1.shape[0] != d:
        raise ValueError(f"w1 must have shape (d, m) with d = x.shape[-1] = {d}, got {w1.shape}")
    m = w1.shape[1]
    expected = {"b1": (b1, (m,)), "w2": (w2, (m, d)), "b2": (b2, (d,))}
    for name, (arr, shape) in expected.items():
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (d={d}, m={m}), got {arr.shape}")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    for name, arr in (("x", x), ("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)):
        check_finite(arr, name)
    dtype = np.result_type(x, w1, b1, w2, b2)
    return tuple(a.astype(dtype, copy=False) for a in (x, w1, b1, w2, b2))


def _guard_hidden(tokens: int, m: int, d: int, itemsize: int, activation: str, what: str) -> None:
    """The (tokens, m) hidden layer (gelu makes ~3 more temporaries of it) and the output."""
    copies = 1 if activation == "relu" else 4
    guard_bytes(
        (copies * tokens * m + tokens * d) * itemsize,
        what,
        hint="use chunked_ffn, which computes the hidden layer chunk_size tokens at a time",
    )


def _finite_output(y: np.ndarray, what: str) -> np.ndarray:
    """``y`` if finite; else a ValueError: finite inputs so large that the matmuls overflowed."""
    if y.size and not (np.isfinite(y.min()) and np.isfinite(y.max())):
        raise ValueError(
            f"{what}: x and the weights are so large that the result overflows {y.dtype}; "
            "scale them down"
        )
    return y


def _ffn(x, w1, b1, w2, b2, activation: str) -> np.ndarray:
    # h = x W1 + b1                                            (..., n, m)   the big temporary
    h = x @ w1
    h += b1
    # a = act(h), in place for relu
    h = np.maximum(h, 0, out=h) if activation == "relu" else gelu(h)
    # y = a W2 + b2                                            (..., n, d)
    y = h @ w2
    y += b2
    return y


def ffn(x, w1, b1, w2, b2, activation: str = "relu") -> np.ndarray:
    """FFN(x) = act(x W1 + b1) W2 + b2, for every token independently.

    x: (..., n, d) or one token (d,); w1: (d, m); b1: (m,); w2: (m, d); b2: (d,) → (..., n, d).
    ``activation``: "relu" or "gelu" (exact erf form). Peak memory ≈ the (..., n, m) hidden layer
    plus the output.
    """
    x, w1, b1, w2, b2 = _check_ffn_weights(x, w1, b1, w2, b2, activation)
    tokens, (d, m) = x.size // x.shape[-1], w1.shape
    _guard_hidden(tokens, m, d, x.itemsize, activation, f"ffn with {tokens} tokens and m={m}")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, named
        return _finite_output(_ffn(x, w1, b1, w2, b2, activation), "ffn")


def chunked_ffn(x, w1, b1, w2, b2, *, chunk_size: int, activation: str = "relu") -> np.ndarray:
    """:func:`ffn` computed ``chunk_size`` tokens at a time along the sequence axis (-2).

    Same result as :func:`ffn`.

    x: (..., n, d) → (..., n, d). The last chunk may be shorter (chunk_size need not divide n).
    The hidden layer is only ever (..., chunk_size, m), so the peak memory falls from ≈ n·m to
    ≈ n·d (the output) + chunk_size·(m + d) values.
    """
    x, w1, b1, w2, b2 = _check_ffn_weights(x, w1, b1, w2, b2, activation)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (..., n, d) with a sequence axis, got {x.shape}")
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    n, (d, m) = x.shape[-2], w1.shape
    rows = x.size // (n * d) * min(chunk_size, n)  # tokens in one chunk, over the leading dims
    _guard_hidden(rows, m, d, x.itemsize, activation, f"chunked_ffn with chunk_size={chunk_size}")
    out = np.empty(x.shape, dtype=x.dtype)  # (..., n, d) the only full-size allocation
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, named
        for start in range(0, n, chunk_size):
            rows = slice(start, min(start + chunk_size, n))
            out[..., rows, :] = _ffn(x[..., rows, :], w1, b1, w2, b2, activation)  # (..., chunk, d)
    return _finite_output(out, "chunked_ffn")


def swiglu(x, w_gate, w_up, w_down) -> np.ndarray:
    """SwiGLU FFN (Shazeer 2020; LLaMA, Mistral): (SiLU(x W_gate) ⊙ (x W_up)) W_down, no biases.

    x: (..., n, d); w_gate, w_up: (d, m); w_down: (m, d) → (..., n, d). Three matrices, so 6·n·d·m
    FLOPs; models pick m ≈ 8d/3 to keep the parameter count of a 4d two-matrix FFN.
    """
    x = as_float_array(x, "x")
    w_gate, w_up, w_down = (
        as_float_array(w, name, min_ndim=2)
        for w, name in ((w_gate, "w_gate"), (w_up, "w_up"), (w_down, "w_down"))
    )
    d = x.shape[-1]
    if w_gate.ndim != 2 or w_gate.shape[0] != d:
        raise ValueError(
            f"w_gate must have shape (d, m) with d = x.shape[-1] = {d}, got {w_gate.shape}"
        )
    m = w_gate.shape[1]
    if w_up.shape != (d, m):
        raise ValueError(f"w_up must have shape {(d, m)} like w_gate, got {w_up.shape}")
    if w_down.shape != (m, d):
        raise ValueError(f"w_down must have shape {(m, d)}, got {w_down.shape}")
    for name, arr in (("x", x), ("w_gate", w_gate), ("w_up", w_up), ("w_down", w_down)):
        check_finite(arr, name)
    tokens = x.size // d
    guard_bytes(  # x W_gate, x W_up, SiLU's temporaries and g, each (tokens, m)
        4 * tokens * m * np.result_type(x, w_gate).itemsize, f"swiglu with {tokens} tokens, m={m}"
    )
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, named
        # g = SiLU(x W_gate) ⊙ (x W_up)                             (..., n, m)
        g = silu(x @ w_gate) * (x @ w_up)
        # y = g W_down                                              (..., n, d)
        return _finite_output(g @ w_down, "swiglu")


def _check_experts(x: np.ndarray, experts, activation: str) -> list[tuple]:
    """Each expert a (w1, b1, w2, b2) tuple of an FFN of x's width d (widths m may differ)."""
    if not isinstance(experts, (list, tuple)) or len(experts) == 0:
        raise TypeError(
            f"experts must be a non-empty list of (w1, b1, w2, b2) tuples, got {experts!r:.60}"
        )
    checked = []
    for e, weights in enumerate(experts):
        if not isinstance(weights, (list, tuple)) or len(weights) != 4:
            raise TypeError(f"experts[{e}] must be a (w1, b1, w2, b2) tuple")
        try:
            checked.append(_check_ffn_weights(x, *weights, activation)[1:])
        except (TypeError, ValueError) as err:
            raise type(err)(f"experts[{e}]: {err}") from None
    return checked


def moe_ffn(x, w_router, experts, *, top_k: int = 2, activation: str = "relu"):
    """Mixture-of-Experts FFN: each token runs through its ``top_k`` best experts, mixed by gates.

    x: (n, d); w_router: (d, E); experts: E tuples (w1, b1, w2, b2) as for :func:`ffn`.
    Returns ``(out, counts)``: out (n, d) and counts (E,) ints, counts[e] = tokens routed to e.

    For token i with router logits r_i = x_i W_r, let T_i be the ``top_k`` largest (ties go to the
    lower expert index). Its gates are the softmax over those k logits only, so they sum to 1 over
    the chosen experts (Mixtral's renormalised top-2; equal to softmax over all E, then keep the k
    largest and divide by their sum):  out_i = Σ_{e ∈ T_i} g_ie · FFN_e(x_i).
    Each expert computes only the rows routed to it, so a token costs k FFNs, not E. With E
    identical experts the gates sum to 1 and out == ffn(x, ...).
    """
    x = as_float_array(x, "x", min_ndim=2)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n, d), got {x.shape}")
    n, d = x.shape
    experts = _check_experts(x, experts, activation)
    num_experts = len(experts)
    w_router = as_float_array(w_router, "w_router", min_ndim=2)
    if w_router.shape != (d, num_experts):
        raise ValueError(
            f"w_router must have shape (d, E) = {(d, num_experts)} (E = len(experts)), "
            f"got {w_router.shape}"
        )
    top_k = check_int(top_k, "top_k", minimum=1, maximum=num_experts)
    dtype = np.result_type(x, w_router, *(w for ws in experts for w in ws))
    x = x.astype(dtype, copy=False)
    # r = x W_r                                                  (n, E) router logits
    logits = x @ w_router.astype(dtype, copy=False)
    # T_i = the top_k experts of token i; a stable sort of −r puts the lower index first on ties
    chosen = np.argsort(-logits, axis=-1, kind="stable")[:, :top_k]  # (n, k)
    picked = np.take_along_axis(logits, chosen, axis=-1)  # (n, k)
    # g_i = softmax over the k chosen logits (max-subtracted: picked[:, :1] is the row max)
    gates = np.exp(picked - picked[:, :1])
    gates /= gates.sum(axis=-1, keepdims=True)  # (n, k)
    out = np.zeros((n, d), dtype=dtype)
    counts = np.zeros(num_experts, dtype=np.int64)
    for e, (w1, b1, w2, b2) in enumerate(experts):
        rows, slot = np.nonzero(chosen == e)  # tokens routed to e, and where e sits in their top-k
        counts[e] = rows.size
        if rows.size:
            # out_i += g_ie · FFN_e(x_i), only for the rows routed to e   (count_e, d)
            out[rows] += gates[rows, slot, None] * _ffn(x[rows], w1, b1, w2, b2, activation)
    return out, counts
