"""Kernelized linear attention (Katharopoulos et al. 2020, arXiv 2006.16236), in torch.

Softmax attention weighs value j for query i by ``sim(q_i, k_j) = exp(q_iᵀk_j / √d)``. Replace the
similarity by a dot product of features, ``sim(q, k) = φ(q)ᵀφ(k)`` with φ ≥ 0, and the output

    y_i = Σ_j φ(q_i)ᵀφ(k_j) v_j / Σ_j φ(q_i)ᵀφ(k_j) = φ(q_i)ᵀ (φ(K)ᵀV) / φ(q_i)ᵀ (φ(K)ᵀ1)

can be computed right to left: ``S = φ(K)ᵀV`` (d' × d_v) and ``z = φ(K)ᵀ1`` (d') once, then one
small product per query. No n_q × n_k matrix and no softmax: O(n·d'·d_v) time.

* :func:`linear_attention` — non-causal (S and z over all keys) or causal (prefix sums of S and z),
  the causal one **chunked**: quadratic inside chunks of ``chunk`` tokens, a running d'×d_v state
  across them, so nearly all the work is batched matrix products;
* the recurrent form (one token at a time, the RNN view): :mod:`tutor_lib.linear.recurrent`;
* :func:`quadratic_linear_attention` — the readable O(n²) reference: the same model with the
  n_q × n_k matrix φ(Q)φ(K)ᵀ built (and masked) explicitly;
* cost models (FLOPs of the two orders, the decode state's bytes): :mod:`tutor_lib.linear.cost_model`.

Shapes: ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)``; leading dims broadcast.
Causal is bottom-right aligned (query i sits at position ``i + n_k − n_q``); a query that sees no
key (or whose features give a zero normalizer) gets output 0. φ must return non-negative features.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from tutor_lib._validate import check_bool, check_int
from tutor_lib.limits import guard_bytes
from tutor_lib.torch_ops import as_qkv_tensors, check_output

__all__ = [
    "elu_feature_map",
    "apply_feature_map",
    "linear_attention",
    "linear_attention_from_features",
    "quadratic_linear_attention",
    "DEFAULT_CHUNK",
    "PIECE_CHUNKS",
]

# tokens per chunk of the causal form: about d_head (measured fastest for d = 64 on a 2-core CPU)
DEFAULT_CHUNK = 64
PIECE_CHUNKS = 32  # the causal form handles 32 chunks (2048 tokens at C = 64) per pass


def elu_feature_map(x: torch.Tensor) -> torch.Tensor:
    """φ(x) = elu(x) + 1, element-wise: positive, ≈ 1 + x near 0, → 0 for very negative x.

    x: (..., n, d) → (..., n, d). The feature map of Katharopoulos et al. (d' = d).
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor, got {type(x).__name__}")
    return F.elu(x).add_(1)  # elu(x) + 1, the +1 in place


def apply_feature_map(feature_map: Callable, x: torch.Tensor, name: str) -> torch.Tensor:
    """``feature_map(x)`` checked: a floating tensor (..., n, d') with x's leading dims and n, d' ≥ 1,
    finite and ≥ 0 (negative features could make a normalizer 0 or negative)."""
    if not callable(feature_map):
        raise TypeError(f"feature_map must be callable, got {type(feature_map).__name__}")
    phi = feature_map(x)
    if not isinstance(phi, torch.Tensor) or not phi.is_floating_point():
        raise TypeError(
            f"feature_map({name}) must return a floating-point torch.Tensor, got "
            f"{type(phi).__name__}"
        )
    if phi.shape[:-1] != x.shape[:-1] or phi.ndim != x.ndim or phi.shape[-1] == 0:
        raise ValueError(
            f"feature_map({name}) must return shape (..., n, d') with {name}'s leading dims "
            f"{tuple(x.shape[:-1])}, got {tuple(phi.shape)}"
        )
    lo, hi = torch.aminmax(phi.detach())  # one pass: both checks (NaN propagates into both)
    if not bool(torch.isfinite(lo) & torch.isfinite(hi)):
        raise ValueError(f"feature_map({name}) must return finite features, got NaN or inf")
    if bool(lo < 0):
        raise ValueError(f"feature_map({name}) must return non-negative features (φ ≥ 0)")
    return phi


def _with_ones(v: torch.Tensor) -> torch.Tensor:
    """[v, 1]: (..., n, d_v) → (..., n, d_v + 1). The last column of φ(K)ᵀ[V, 1] is z = φ(K)ᵀ1, so
    one product gives numerator and normalizer together."""
    return torch.cat([v, v.new_ones(*v.shape[:-1], 1)], dim=-1)


def _normalise(out: torch.Tensor) -> torch.Tensor:
    """(..., n, d_v + 1) [numerator, normalizer] → numerator / normalizer, 0 where it is 0."""
    den = out[..., -1:]
    return out[..., :-1] / torch.where(den > 0, den, torch.ones_like(den))


def _chunks(pq, pk, v1, chunk: int, state) -> tuple[torch.Tensor, torch.Tensor]:
    """Causal linear attention with n_q = n_k = n (query i sees keys 0…i), in chunks of C tokens.

    pq, pk: (b, n, d'), v1: (b, n, e) = [v, 1]; state: (b, d', e) = φ(K_prefix)ᵀ[V_prefix, 1] from
    keys every query sees (or None). Returns (out (b, n, e) = [numerator, normalizer], the state
    after the last token).
    Inside chunk c: out_c = tril(φQ_c φK_cᵀ) V_c + φQ_c S_{<c}, with S_{<c} = Σ_{c' < c} φK_c'ᵀ V_c'.
    """
    b, n, dp = pq.shape
    e = v1.shape[-1]
    c = min(chunk, n)
    nc = -(-n // c)
    if nc * c != n:  # pad to whole chunks with zero features and values: they add nothing
        pad = nc * c - n
        pq, pk, v1 = (F.pad(t, (0, 0, 0, pad)) for t in (pq, pk, v1))
    qc = pq.reshape(b * nc, c, dp)  # (b·nc, C, d')
    kc = pk.reshape(b * nc, c, dp)
    vc = v1.reshape(b * nc, c, e)  # (b·nc, C, e)
    # S_c = φK_cᵀ [V_c, 1], every chunk's own contribution           (b, nc, d', e)
    kv = torch.bmm(kc.transpose(1, 2), vc).view(b, nc, dp, e)
    # S_{<c} = Σ_{c' < c} S_c' (+ the prefix state): an exclusive prefix sum over the n/C chunks,
    # one add per chunk (faster on CPU than cumsum along a middle dim, and no subtraction)
    running = [kv.new_zeros(b, dp, e) if state is None else state]  # S_{<0}
    for i in range(1, nc):
        running.append(running[-1] + kv[:, i - 1])  # S_{<i} = S_{<i-1} + S_{i-1}
    prev = torch.stack(running, dim=1)  # (b, nc, d', e)
    # A_c = tril(φQ_c φK_cᵀ): the causal C × C scores inside each chunk   (b·nc, C, C)
    scores = torch.bmm(qc, kc.transpose(1, 2)).tril_()
    # out_c = A_c [V_c, 1] + φQ_c S_{<c}                                 (b·nc, C, e)
    out = torch.baddbmm(torch.bmm(scores, vc), qc, prev.view(b * nc, dp, e))
    return out.view(b, nc * c, e)[:, :n], running[-1] + kv[:, -1]


def _causal_chunked(pq, pk, v1, chunk: int, state=None) -> torch.Tensor:
    """:func:`_chunks` over pieces of ``PIECE_CHUNKS`` chunks at a time, the state carried from one
    piece to the next: each piece's temporaries stay in the CPU caches, so the time per token does
    not grow with n. pq, pk: (b, n, d'), v1: (b, n, e) → (b, n, e)."""
    n = pq.shape[1]
    step = PIECE_CHUNKS * chunk
    if n <= step:
        return _chunks(pq, pk, v1, chunk, state)[0]
    outputs = []
    for start in range(0, n, step):
        piece = slice(start, start + step)
        out, state = _chunks(pq[:, piece], pk[:, piece], v1[:, piece], chunk, state)
        outputs.append(out)
    return torch.cat(outputs, dim=1)  # (b, n, e)


def linear_attention_from_features(
    phi_q: torch.Tensor,
    phi_k: torch.Tensor,
    v: torch.Tensor,
    *,
    causal: bool = False,
    chunk: int | None = None,
) -> torch.Tensor:
    """Linear attention from features already computed (φ(Q), φ(K) ≥ 0): the engine behind
    :func:`linear_attention` and :func:`tutor_lib.linear.performer_attention`.

    phi_q: (..., n_q, d'), phi_k: (..., n_k, d'), v: (..., n_k, d_v) → (..., n_q, d_v).
    φ(Q), φ(K) must be ≥ 0 (checked).
    """
    phi_q, phi_k, v = as_qkv_tensors(phi_q, phi_k, v)
    for name, phi in (("phi_q", phi_q), ("phi_k", phi_k)):
        if bool(phi.detach().amin() < 0):
            raise ValueError(f"{name} must be non-negative features (φ ≥ 0)")
    return _linear_core(phi_q, phi_k, v, causal, chunk)


def _check_chunk(chunk) -> int:
    return DEFAULT_CHUNK if chunk is None else check_int(chunk, "chunk", minimum=1)


def _guard_chunks(batch: int, n: int, chunk: int, element_size: int, what: str) -> None:
    """The causal form's largest temporaries: per piece of ≤ PIECE_CHUNKS·C tokens, the C × C
    scores of every chunk, (batch, piece, C) values. A chunk ≥ n is one n × n matrix."""
    c = min(chunk, n)  # a chunk longer than the sequence is the whole sequence
    piece = min(n, PIECE_CHUNKS * c)
    guard_bytes(
        batch * piece * c * element_size,
        f"{what}(causal, n={n}, chunk={chunk})",
        hint=f"use a smaller chunk (default {DEFAULT_CHUNK})",
    )


def _linear_core(phi_q, phi_k, v, causal, chunk) -> torch.Tensor:
    """:func:`linear_attention_from_features` on checked tensors (leading dims already broadcast)."""
    causal = check_bool(causal, "causal")
    chunk = _check_chunk(chunk)
    *lead, n_q, dp = phi_q.shape
    n_k, d_v = v.shape[-2:]
    guard_bytes(  # [numerator, normalizer] and the output: (..., n_q, d_v + 1) and (..., n_q, d_v)
        math.prod(lead) * n_q * (2 * d_v + 1) * v.element_size(),
        f"linear_attention(n_q={n_q}, d_v={d_v})",
    )
    v1 = _with_ones(v)  # (..., n_k, d_v + 1)
    if not causal:
        # S = φ(K)ᵀ[V, 1]: (..., d', d_v + 1), then out = φ(Q) S (..., n_q, d_v + 1)
        return check_output(_normalise(phi_q @ (phi_k.transpose(-1, -2) @ v1)))
    _guard_chunks(math.prod(lead), n_q, chunk, v.element_size(), "linear_attention")
    pq = phi_q.reshape(-1, n_q, dp)  # (b, n_q, d')
    pk = phi_k.reshape(-1, n_k, dp)
    v1 = v1.reshape(-1, n_k, d_v + 1)
    offset = n_k - n_q  # bottom-right: query i sees keys 0 … i + offset
    state = None
    if offset > 0:  # keys 0 … offset − 1 are seen by every query: one state for all of them
        state = pk[:, :offset].transpose(1, 2) @ v1[:, :offset]  # (b, d', d_v + 1)
        pk, v1 = pk[:, offset:], v1[:, offset:]
    start = max(0, -offset)  # queries 0 … −offset − 1 see no key: output 0
    if start == 0:
        out = _causal_chunked(pq, pk, v1, chunk, state)  # (b, n_q, d_v + 1)
    else:
        out = pq.new_zeros(pq.shape[0], n_q, d_v + 1)
        out[:, start:] = _causal_chunked(pq[:, start:], pk, v1, chunk, state)
    return check_output(_normalise(out).reshape(*lead, n_q, d_v))


def linear_attention(
    q,
    k,
    v,
    *,
    causal: bool = False,
    feature_map: Callable = elu_feature_map,
    chunk: int | None = None,
) -> torch.Tensor:
    """y_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j), never forming an n_q × n_k matrix.

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → (..., n_q, d_v).
    Non-causal: S = φ(K)ᵀV and z = φ(K)ᵀ1 first (associativity), O(n·d'·d_v).
    Causal (bottom-right aligned): the prefix sums S_i = Σ_{j ≤ i} φ(k_j)v_jᵀ, computed in chunks of
    ``chunk`` tokens (default :data:`DEFAULT_CHUNK`): C × C causal scores inside a chunk, the
    running state for everything before it; memory O(n·(C + d')), time O(n·(C·d + d'·d_v)).
    No scale: φ sees q and k as they are (Katharopoulos et al.).
    """
    q, k, v = as_qkv_tensors(q, k, v)
    pieces_above = PIECE_CHUNKS * (1 if chunk is None else _check_chunk(chunk))
    if check_bool(causal, "causal") and q.shape[-2] == k.shape[-2] > pieces_above:
        return _causal_in_pieces(q, k, v, feature_map, chunk)
    phi_q = apply_feature_map(feature_map, q, "q")
    phi_k = apply_feature_map(feature_map, k, "k")
    if phi_q.shape[-1] != phi_k.shape[-1]:
        raise ValueError(
            f"feature_map must give q and k the same number of features, got "
            f"{phi_q.shape[-1]} and {phi_k.shape[-1]}"
        )
    return _linear_core(phi_q, phi_k, v, causal, chunk)


def _causal_in_pieces(q, k, v, feature_map, chunk) -> torch.Tensor:
    """Causal self-attention (n_q = n_k = n) piece by piece: features, chunks and normalization of
    ``PIECE_CHUNKS · chunk`` tokens at a time, the state carried across. Every temporary is the
    size of one piece, so it stays in the CPU caches (and is reused by the allocator) whatever n
    is: the time per token does not grow with n. Same result as the whole-sequence path."""
    chunk = _check_chunk(chunk)
    *lead, n, d_k = q.shape
    _guard_chunks(math.prod(lead), n, chunk, v.element_size(), "linear_attention")
    step = PIECE_CHUNKS * chunk
    qb, kb = q.reshape(-1, n, d_k), k.reshape(-1, n, d_k)  # (b, n, d_k)
    vb = v.reshape(-1, n, v.shape[-1])  # (b, n, d_v)
    state, outputs = None, []
    for start in range(0, n, step):
        piece = slice(start, start + step)
        phi_q = apply_feature_map(feature_map, qb[:, piece], "q")  # (b, piece, d')
        phi_k = apply_feature_map(feature_map, kb[:, piece], "k")
        if phi_q.shape[-1] != phi_k.shape[-1]:
            raise ValueError("feature_map must give q and k the same number of features")
        out, state = _chunks(phi_q, phi_k, _with_ones(vb[:, piece]), chunk, state)
        outputs.append(_normalise(out))  # (b, piece, d_v)
    return check_output(torch.cat(outputs, dim=1).view(*lead, n, v.shape[-1]))


def quadratic_linear_attention(
    q, k, v, *, causal: bool = False, feature_map: Callable = elu_feature_map
) -> torch.Tensor:
    """The same model computed left to right: A = φ(Q)φ(K)ᵀ (n_q × n_k, masked if causal), then
    A[V, 1] and divide. O(n²) time and memory: the readable reference the fast forms are tested
    against (and the order the article's recipe uses). Shapes as :func:`linear_attention`."""
    q, k, v = as_qkv_tensors(q, k, v)
    causal = check_bool(causal, "causal")
    n_q, n_k = q.shape[-2], k.shape[-2]
    guard_bytes(
        math.prod(q.shape[:-2]) * n_q * n_k * q.element_size(),
        f"quadratic_linear_attention(n_q={n_q}, n_k={n_k})",
        hint="use linear_attention, which never builds the n_q × n_k matrix",
    )
    phi_q = apply_feature_map(feature_map, q, "q")
    phi_k = apply_feature_map(feature_map, k, "k")
    scores = phi_q @ phi_k.transpose(-1, -2)  # A = φ(Q)φ(K)ᵀ   (..., n_q, n_k)
    if causal:  # bottom-right: key j allowed for query i iff j ≤ i + n_k − n_q
        scores = scores.tril(n_k - n_q)
    return _normalise(scores @ _with_ones(v))  # A[V, 1] → A V / A 1
