"""Quantized matrix products: per-tensor, vector-wise, LLM.int8() (Dettmers et al. 2022, arXiv
2208.07339), and weight-only int8 decoding (torch)."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from tutor_lib._validate import check_int
from tutor_lib.limits import guard_bytes
from tutor_lib.quant.core import as_finite_array, fake_quantize, int8_matmul, quantize
from tutor_lib.torch_ops import check_tensor

__all__ = [
    "SCHEMES",
    "outlier_activations",
    "outlier_columns",
    "llm_int8_matmul",
    "quantized_matmul",
    "activation_scales",
    "quantized_bytes",
    "weight_only_matvec",
]


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


def _as_matrices(x, w, what: str) -> tuple[np.ndarray, np.ndarray]:
    x, w = as_finite_array(x, "x"), as_finite_array(w, "w")
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x (n, d_in) and w (d_in, d_out) must be 2-D, got {x.shape}, {w.shape}")
    (n, d_in), d_out = x.shape, w.shape[1]
    # quantized (or fake-quantized) copies of x and w, and the float64 output y
    guard_bytes(8 * (n * d_in + d_in * d_out + n * d_out), f"{what}({x.shape} @ {w.shape})")
    return x, w


def _check_scheme(scheme) -> str:
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    return scheme


def _threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    if not threshold > 0:  # also rejects NaN; inf means "no outliers"
        raise ValueError(f"threshold must be > 0 (inf: no outliers), got {threshold}")
    return float(threshold)


def outlier_columns(x, threshold: float = 6.0) -> np.ndarray:
    """Indices of the feature columns of x (n, d) holding any |x| ≥ threshold (LLM.int8's rule)."""
    x = as_finite_array(x, "x")
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
    x, w = _as_matrices(x, w, "llm_int8_matmul")
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
    x, w = _as_matrices(x, w, "quantized_matmul")
    bits = check_int(bits, "bits", minimum=2, maximum=8)
    scheme = _check_scheme(scheme)
    if scheme == "tensor":
        (x_q, s_x, _), (w_q, s_w, _) = quantize(x, bits), quantize(w, bits)
        return s_x * s_w * int8_matmul(x_q, w_q)
    if scheme == "token":
        return _vectorwise(x, w, bits)
    if scheme == "channel":
        return fake_quantize(x, bits, axis=1) @ fake_quantize(w, bits, axis=1)
    return _decomposed(x, w, bits, _threshold(threshold))  # "llm.int8"


def activation_scales(x, bits: int = 8, *, scheme: str = "token", threshold: float = 6.0):
    """The step (scale) each entry of x (n, d) is rounded with under ``scheme`` (:data:`SCHEMES`),
    as an (n, d) array; 0 where LLM.int8() keeps the entry in float (no rounding at all)."""
    x = as_finite_array(x, "x")
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (tokens, channels), got shape {x.shape}")
    bits = check_int(bits, "bits", minimum=2, maximum=8)
    axis = {"tensor": None, "token": 0, "channel": 1, "llm.int8": 0}[_check_scheme(scheme)]
    if scheme != "llm.int8":
        return np.broadcast_to(quantize(x, bits, axis=axis)[1], x.shape).copy()
    scales = np.zeros_like(x)
    rest = np.setdiff1d(np.arange(x.shape[1]), outlier_columns(x, threshold))
    if rest.size:
        scales[:, rest] = quantize(x[:, rest], bits, axis=0)[1]  # (n, 1) broadcast over rest
    return scales


def quantized_bytes(
    n: int, d: int, bits: int, *, scheme: str = "token", outliers: int = 0, scale_bytes: int = 2
) -> dict[str, int]:
    """Bytes of an (n, d) matrix stored as ``bits``-bit integers under ``scheme``, with one
    ``scale_bytes`` scale per tensor / token / channel; for ``"llm.int8"`` the ``outliers``
    columns are kept in 16-bit floats and the rest per token. Keys ``values``, ``scales``,
    ``outliers``, ``total`` (compare with 2·n·d for fp16)."""
    n, d = check_int(n, "n", minimum=1), check_int(d, "d", minimum=1)
    bits = check_int(bits, "bits", minimum=2, maximum=8)
    outliers = check_int(outliers, "outliers", minimum=0, maximum=d)
    scale_bytes = check_int(scale_bytes, "scale_bytes", minimum=1)
    counts = {"tensor": 1, "token": n, "channel": d, "llm.int8": n}
    kept = outliers if _check_scheme(scheme) == "llm.int8" else 0
    parts = {
        "values": -(-n * (d - kept) * bits // 8),  # whole bytes, exact for any n: ⌈n·d·b / 8⌉
        "scales": counts[scheme] * scale_bytes,
        "outliers": 2 * n * kept,
    }
    return {**parts, "total": sum(parts.values())}


def weight_only_matvec(w_q, scale, x, *, block_rows: int = 256) -> torch.Tensor:
    """Weight-only int8 decoding: y = x @ (scale · w_q)ᵀ, dequantizing ``block_rows`` rows at a time.

    w_q (d_out, d_in) torch.int8 (rows = output features, as ``nn.Linear.weight``), scale (d_out,)
    float, x (..., d_in) float → (..., d_out) in x's dtype. Only a block of float weights exists at
    any time (it stays in cache), so the matrix is read from memory as int8: 1 byte per weight.
    """
    if not isinstance(w_q, torch.Tensor) or w_q.dtype != torch.int8 or w_q.ndim != 2:
        what = f"{w_q.dtype}, {w_q.ndim}-D" if isinstance(w_q, torch.Tensor) else type(w_q).__name__
        raise TypeError(f"w_q must be a 2-D torch.int8 tensor, got {what}")
    for name, t in (("scale", scale), ("x", x)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor")
    if scale.shape != (w_q.shape[0],) or x.shape[-1:] != (w_q.shape[1],):
        raise ValueError(
            f"need w_q (d_out, d_in), scale (d_out,), x (..., d_in); got "
            f"{tuple(w_q.shape)}, {tuple(scale.shape)}, {tuple(x.shape)}"
        )
    check_tensor(scale, "scale")
    check_tensor(x, "x")
    block_rows = check_int(block_rows, "block_rows", minimum=1)
    d_out, d_in = w_q.shape
    guard_bytes(  # the output, and one block of float weights
        (x[..., 0].numel() * d_out + min(block_rows, d_out) * d_in) * x.element_size(),
        f"weight_only_matvec(w_q {tuple(w_q.shape)}, x {tuple(x.shape)})",
    )
    y = torch.empty(*x.shape[:-1], w_q.shape[0], dtype=x.dtype)
    for start in range(0, w_q.shape[0], block_rows):
        rows = slice(start, start + block_rows)
        # y[:, rows] = (x @ W_q[rows]ᵀ) · scale[rows]: the float copy is (block_rows, d_in)
        y[..., rows] = torch.matmul(x, w_q[rows].to(x.dtype).T) * scale[rows].to(x.dtype)
    return y
