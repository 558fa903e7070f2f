"""Linformer (Wang et al. 2020, arXiv 2006.04768): project keys and values **along the sequence**.

    out = softmax(Q (E K)ᵀ · scale) (F V),   E, F: (k_proj, n)

E K and F V have k_proj "summary" rows instead of n keys, so the score matrix is n × k_proj: O(n·k_proj)
time and memory. In the paper E and F are learned and need a fixed n; each summary row mixes tokens
from the whole sequence (the future included), so the method cannot be causal as it stands.
With E = F = I (k_proj = n) it is exactly softmax attention.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tutor_lib._validate import check_int
from tutor_lib.limits import guard_bytes
from tutor_lib.torch_ops import as_qkv_tensors, check_float_dtype, check_tensor, default_scale

__all__ = ["linformer_attention", "linformer_projection"]


def _check_projection(p, name: str, n_k: int, dtype) -> torch.Tensor:
    check_tensor(p, name)
    if p.ndim != 2 or p.shape[1] != n_k or p.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape (k_proj, n_k) = (k_proj, {n_k}), got {tuple(p.shape)}"
        )
    if p.dtype != dtype:
        raise TypeError(f"{name} must have the dtype of q, k, v ({dtype}), got {p.dtype}")
    return p


def linformer_attention(q, k, v, e, f, *, scale: float | None = None) -> torch.Tensor:
    """softmax(Q (E K)ᵀ · scale) (F V).

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v), e and f: (k_proj, n_k) (shared by
    all leading dims) → (..., n_q, d_v). Default scale 1/√d_k.
    """
    q, k, v = as_qkv_tensors(q, k, v)
    n_k = k.shape[-2]
    e = _check_projection(e, "e", n_k, q.dtype)
    f = _check_projection(f, "f", n_k, q.dtype)
    if e.shape[0] != f.shape[0]:
        raise ValueError(
            f"e and f must project to the same k_proj, got {e.shape[0]} and {f.shape[0]}"
        )
    *lead, n_q, _ = q.shape
    guard_bytes(  # the n_q × k_proj scores (and their softmax)
        2 * math.prod(lead) * n_q * e.shape[0] * q.element_size(),
        f"linformer_attention(n_q={n_q}, k_proj={e.shape[0]})",
        hint="use a smaller k_proj",
    )
    k_proj = e @ k  # E K: k_proj summary keys     (..., k_proj, d_k)
    v_proj = f @ v  # F V: k_proj summary values   (..., k_proj, d_v)
    return F.scaled_dot_product_attention(
        q, k_proj, v_proj, scale=default_scale(scale, q.shape[-1])
    )


def linformer_projection(
    k_proj: int, n: int, *, seed: int, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """A random (k_proj, n) projection with N(0, 1/k_proj) entries (Johnson–Lindenstrauss style), a
    stand-in for Linformer's learned E and F. Same seed → same matrix."""
    k_proj = check_int(k_proj, "k_proj", minimum=1)
    n = check_int(n, "n", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    check_float_dtype(dtype, "dtype")
    guard_bytes(k_proj * n * 8, f"linformer_projection(k_proj={k_proj}, n={n})")
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(k_proj, n, generator=g, dtype=torch.float64) / k_proj**0.5).to(dtype)
