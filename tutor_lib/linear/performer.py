"""Performer / FAVOR+ (Choromanski et al., ICLR 2021, arXiv 2009.14794): random features whose dot
product estimates the softmax kernel without bias, plugged into linear attention.

Positive random features (the paper's φ⁺): for ω_1 … ω_m ~ N(0, I_d),

    φ(x) = exp(−‖x‖²/2) / √m · [exp(ω_1ᵀx), …, exp(ω_mᵀx)]     ⇒     E[φ(x)ᵀφ(y)] = exp(xᵀy).

**Scaling convention.** :func:`performer_features` estimates exp(xᵀy) for the x, y it is given (no
scale inside). Softmax attention uses exp(qᵀk/√d), so :func:`performer_attention` first multiplies
q and k by d^(−1/4) each (``scale ** 0.5`` for another ``scale``). The 1/√m makes φ(x)ᵀφ(y) an
average over the m features; it cancels in attention's normalized ratio.

**Orthogonal features** (``orthogonal=True``): the ω come in blocks of d mutually orthogonal
directions, each rescaled to the length of an independent Gaussian vector (χ_d distributed), so each
ω_i is still N(0, I) on its own (the estimate stays unbiased) and the variance is lower.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F

from tutor_lib._validate import check_bool, check_int, default_scale
from tutor_lib.limits import guard_bytes
from tutor_lib.linear.kernel import linear_attention_from_features
from tutor_lib.torch_ops import as_qkv_tensors, check_float_dtype, check_tensor

__all__ = ["random_projection", "performer_features", "performer_attention", "performer_error"]

_MAX_SEED = 2**63 - 1


def random_projection(
    num_features: int,
    dim: int,
    *,
    seed: int,
    orthogonal: bool = True,
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """ω_1 … ω_m as the rows of an (num_features, dim) tensor, each marginally N(0, I_dim).

    ``orthogonal=True``: rows in blocks of ``dim`` orthogonal directions (QR of a Gaussian matrix,
    signs fixed so the directions are uniform), each scaled to the norm of a fresh Gaussian vector.
    Same ``seed`` → same projection (a private torch.Generator; the global RNG is untouched).
    """
    m = check_int(num_features, "num_features", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    seed = check_int(seed, "seed", minimum=0, maximum=_MAX_SEED)
    orthogonal = check_bool(orthogonal, "orthogonal")
    check_float_dtype(dtype, "dtype")
    guard_bytes(2 * m * dim * 8, f"random_projection(num_features={m}, dim={dim})")
    g = torch.Generator().manual_seed(seed)
    if not orthogonal:
        return torch.randn(m, dim, generator=g, dtype=torch.float64).to(dtype)
    num_blocks = -(-m // dim)
    gauss = torch.randn(num_blocks, dim, dim, generator=g, dtype=torch.float64).numpy()
    # QR of each Gaussian block (numpy's LAPACK: torch's threads slow tiny QRs on a busy CPU);
    # fixing the signs by diag(R) makes the orthonormal columns uniformly distributed (Haar)
    q, r = np.linalg.qr(gauss)  # (blocks, dim, dim) each
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))  # (blocks, dim)
    q = q * np.where(signs == 0, 1.0, signs)[:, None, :]
    blocks = torch.from_numpy(np.ascontiguousarray(q.transpose(0, 2, 1)))  # orthonormal rows
    directions = blocks.reshape(num_blocks * dim, dim)[:m]  # (m, dim)
    norms = torch.randn(m, dim, generator=g, dtype=torch.float64).norm(dim=1, keepdim=True)
    return (directions * norms).to(dtype)  # row i: a uniform direction × a χ_dim length


def _feature_logits(x: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """ωᵢᵀx − ‖x‖²/2 for every feature i: x (..., n, d) → (..., n, m)."""
    return x @ projection.transpose(0, 1) - 0.5 * (x * x).sum(-1, keepdim=True)


def _check_projection(projection, dim: int, dtype) -> torch.Tensor:
    check_tensor(projection, "projection")
    if projection.ndim != 2 or projection.shape[1] != dim or projection.shape[0] == 0:
        raise ValueError(
            f"projection must be (num_features, {dim}) for inputs with {dim} dims, "
            f"got {tuple(projection.shape)}"
        )
    return projection.to(dtype)


def performer_features(x, projection) -> torch.Tensor:
    """φ(x) = exp(ωᵢᵀx − ‖x‖²/2)/√m for the m rows ωᵢ of ``projection``: x (..., n, d) → (..., n, m).

    E[φ(x)ᵀφ(y)] = exp(xᵀy) when the rows are N(0, I) (see :func:`random_projection`). No scale is
    applied (see the module docstring); large ‖x‖ can overflow exp, which
    :func:`performer_attention` avoids by subtracting maxima that cancel.
    """
    x = check_tensor(x, "x")
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ValueError(f"x must have shape (..., d >= 1), got {tuple(x.shape)}")
    projection = _check_projection(projection, x.shape[-1], x.dtype)
    m = projection.shape[0]
    guard_bytes(
        x[..., 0].numel() * m * x.element_size(),
        f"performer_features(n={x[..., 0].numel()}, num_features={m})",
        hint="use fewer features",
    )
    return torch.exp(_feature_logits(x, projection)) / math.sqrt(m)


def performer_attention(
    q,
    k,
    v,
    *,
    num_features: int,
    seed: int,
    causal: bool = False,
    orthogonal: bool = True,
    scale: float | None = None,
) -> torch.Tensor:
    """FAVOR+ estimate of softmax(q kᵀ · scale) v with ``num_features`` positive random features.

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → (..., n_q, d_v); causal is
    bottom-right aligned (prefix sums, chunked, as :func:`tutor_lib.linear.linear_attention`).
    q and k are multiplied by √scale each (d_k^(−1/4) by default). For stability each query's
    feature logits lose their row maximum and the keys' logits their overall maximum: constants
    that cancel in the normalized ratio. Time O(n·m·(d_k + d_v)), no n_q × n_k matrix.
    """
    q, k, v = as_qkv_tensors(q, k, v)
    m = check_int(num_features, "num_features", minimum=1)
    *lead, n_q, d_k = q.shape
    n_k = k.shape[-2]
    guard_bytes(
        math.prod(lead) * (n_q + n_k) * m * q.element_size(),
        f"performer_attention(num_features={m}, n_q={n_q}, n_k={n_k})",
        hint="use fewer features",
    )
    root = default_scale(scale, d_k) ** 0.5  # q·root and k·root: (q·root)ᵀ(k·root) = qᵀk·scale
    w = random_projection(m, d_k, seed=seed, orthogonal=orthogonal, dtype=q.dtype)
    logits_q = _feature_logits(q * root, w)  # (..., n_q, m)
    logits_k = _feature_logits(k * root, w)  # (..., n_k, m)
    phi_q = torch.exp(logits_q - logits_q.amax(-1, keepdim=True))  # per-query constant
    phi_k = torch.exp(logits_k - logits_k.amax((-2, -1), keepdim=True))  # one constant
    return linear_attention_from_features(phi_q, phi_k, v, causal=causal)


def performer_error(
    q,
    k,
    v,
    *,
    num_features: int,
    seeds,
    causal: bool = False,
    orthogonal: bool = True,
) -> np.ndarray:
    """Relative error ‖performer − exact‖_F / ‖exact‖_F of :func:`performer_attention` against
    exact softmax attention (torch SDPA), one value per seed in ``seeds``: shape (len(seeds),)."""
    q, k, v = as_qkv_tensors(q, k, v)
    causal = check_bool(causal, "causal")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a sequence of ints (e.g. range(5)), got {seeds!r}")
    seeds = [check_int(s, "seeds[i]", minimum=0, maximum=_MAX_SEED) for s in seeds]
    if not seeds:
        raise ValueError("seeds must contain at least one seed")
    n_q, n_k = q.shape[-2], k.shape[-2]
    # the exact reference: SDPA on CPU builds the (..., n_q, n_k) scores and their softmax (and the
    # causal mask): O(n²), unlike the estimate it checks
    guard_bytes(
        2 * math.prod(q.shape[:-2]) * n_q * n_k * q.element_size() + causal * n_q * n_k,
        f"performer_error(n_q={n_q}, n_k={n_k})",
        hint="the exact softmax reference is O(n²): compare on a shorter sequence",
    )
    mask = None
    if causal:  # bottom-right: key j allowed for query i iff j ≤ i + n_k − n_q
        mask = torch.ones(n_q, n_k, dtype=torch.bool).tril(n_k - n_q)
    exact = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    norm = exact.norm()
    errors = []
    for seed in seeds:
        approx = performer_attention(
            q, k, v, num_features=num_features, seed=seed, causal=causal, orthogonal=orthogonal
        )
        errors.append(float((approx - exact).norm() / torch.where(norm > 0, norm, 1.0)))
    return np.array(errors)
