"""Shared torch helpers for every torch kernel (``sparse``, ``tiled``, ``linear``, ``chunking``, …).

One place for the input checks and the few operations every attention kernel needs, so that no
kernel copies another's private helper:

* :func:`as_qkv_tensors` — checks ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)``
  (tensors, one floating dtype, finite) and broadcasts their leading dims;
* :func:`as_mask_array` — a boolean ``(n_q, n_k)`` mask from numpy or torch;
* :func:`masked_softmax` — softmax with masked entries → 0 and fully masked rows → all 0, no NaN;
* :func:`check_output` — a named error when a kernel's output is not finite (scores overflowed);
* :func:`check_float_dtype` — a ``dtype=`` argument that must be a floating-point torch dtype;
* :func:`tutor_lib._validate.default_scale` is re-exported as :func:`default_scale`.
"""

from __future__ import annotations

import numpy as np
import torch

from tutor_lib._validate import check_finite, check_qkv_shapes, default_scale

__all__ = [
    "as_qkv_tensors",
    "as_mask_array",
    "masked_softmax",
    "default_scale",
    "check_tensor",
    "check_output",
    "check_float_dtype",
]


def check_tensor(t, name: str) -> torch.Tensor:
    """``t`` if it is a finite floating-point torch tensor, else a TypeError/ValueError naming it."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    check_finite(t.detach(), name)
    return t


def check_float_dtype(dtype, name: str = "dtype") -> torch.dtype:
    """``dtype`` if it is a floating-point ``torch.dtype`` (``torch.float64``, …), else a TypeError
    naming ``name`` (a string such as ``"float32"`` or a numpy dtype is not one)."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point torch.dtype, got {dtype!r}")
    return dtype


def as_qkv_tensors(q, k, v) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Checked ``q, k, v`` with leading dims broadcast to one shape (views, no copies).

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v); one floating dtype; finite values.
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(t, name)
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"q, k, v must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    lead = check_qkv_shapes(q.shape, k.shape, v.shape)
    return tuple(t.expand(*lead, *t.shape[-2:]) for t in (q, k, v))


def as_mask_array(mask, n_q: int, n_k: int) -> np.ndarray:
    """``mask`` (numpy or torch, True = may attend) as a boolean numpy array of shape (n_q, n_k)."""
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
    if mask.shape != (n_q, n_k):
        raise ValueError(f"mask must have shape (n_q, n_k) = {(n_q, n_k)}, got {mask.shape}")
    return mask


def check_output(out: torch.Tensor) -> torch.Tensor:
    """``out`` if it is finite, else a ValueError naming q, k and v.

    With finite inputs (:func:`as_qkv_tensors` checks them) a kernel's output can only be non-finite
    when the scores q·kᵀ·scale overflow the dtype (easy in fp16: above 65504) or v's weighted sums
    do. A masked score may overflow freely as long as the kernel masks it before the softmax.
    """
    if out.numel():
        low, high = torch.aminmax(out.detach())
        if not (bool(torch.isfinite(low)) and bool(torch.isfinite(high))):
            raise ValueError(
                f"the attention output is not finite: the scores q·kᵀ·scale overflow {out.dtype} "
                "(or v's values are too large); scale q, k or v down, or use a wider dtype"
            )
    return out


def masked_softmax(scores: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Softmax over the last dim with masked entries → 0 and fully masked rows → all 0 (no NaN).

    scores: (..., n_q, m); allowed: bool, broadcastable to scores, True = may attend.
    """
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
        raise TypeError(
            f"scores must be a floating-point torch.Tensor, got {type(scores).__name__}"
        )
    if not isinstance(allowed, torch.Tensor) or allowed.dtype != torch.bool:
        raise TypeError("allowed must be a boolean torch.Tensor (True = may attend)")
    scores = scores.masked_fill(~allowed, float("-inf"))
    # m = rowmax(S); an all -inf row uses m = 0 so exp(-inf - 0) = 0. Softmax does not depend on m,
    # so m carries no gradient.
    m = scores.amax(dim=-1, keepdim=True).detach()
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    e = torch.exp(scores - m)
    total = e.sum(dim=-1, keepdim=True)
    return e / torch.where(total > 0, total, torch.ones_like(total))
