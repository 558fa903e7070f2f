"""Causal linear attention as an RNN (Katharopoulos et al. 2020, §3.4): a d'×d_v state per head.

Token t updates ``S_t = S_{t−1} + φ(k_t) v_tᵀ`` and ``z_t = z_{t−1} + φ(k_t)``, then answers
``y_t = φ(q_t)ᵀ S_t / φ(q_t)ᵀ z_t``: constant memory per token, however long the context, which is
how a decoder generates. :func:`linear_attention_step` is one token; :func:`linear_attention_recurrent`
loops it over a sequence and equals ``linear_attention(q, k, v, causal=True)``
(:mod:`tutor_lib.linear.kernel`, which computes the same prefix sums in chunks).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from tutor_lib.linear.kernel import apply_feature_map, elu_feature_map
from tutor_lib.torch_ops import as_qkv_tensors, check_output, check_tensor

__all__ = ["linear_attention_step", "linear_attention_recurrent", "MAX_RECURRENT_STEPS"]


def _check_step_shapes(s, z, q, k, v) -> None:
    for name, t in (("s", s), ("z", z), ("q", q), ("k", k), ("v", v)):
        check_tensor(t, name)
    if len({t.dtype for t in (s, z, q, k, v)}) > 1:
        raise TypeError(
            f"s, z, q, k, v must share a dtype, got {s.dtype}, {z.dtype}, {q.dtype}, {k.dtype}, "
            f"{v.dtype}"
        )
    if s.ndim < 2 or z.shape != s.shape[:-1]:
        raise ValueError(
            f"s must be (..., d', d_v) and z (..., d'), got s {tuple(s.shape)}, z {tuple(z.shape)}"
        )
    if bool(z.detach().amin() < 0) if z.numel() else False:
        raise ValueError("z must be >= 0: it is a sum of features φ(k) ≥ 0 (zeros at t = 0)")
    if q.shape != k.shape or v.shape[-1] != s.shape[-1]:
        raise ValueError(
            f"q and k must be (..., d_k) and v (..., d_v) with d_v = s.shape[-1] = {s.shape[-1]}, "
            f"got q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
        )


def linear_attention_step(
    s, z, q, k, v, *, feature_map: Callable = elu_feature_map
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One token of causal linear attention as an RNN: read the new key, then answer the query.

    s: (..., d', d_v) = Σ_{j < t} φ(k_j) v_jᵀ, z: (..., d') = Σ_{j < t} φ(k_j) (zeros at t = 0);
    q, k: (..., d_k), v: (..., d_v) of token t. Returns ``(out (..., d_v), s_new, z_new)`` with
    s_new = s + φ(k) vᵀ, z_new = z + φ(k), out = φ(q)ᵀ s_new / φ(q)ᵀ z_new (0 if that is 0).
    The state has the same size at every t: O(d'·d_v) memory per head, however long the context.
    """
    _check_step_shapes(s, z, q, k, v)
    phi_q = apply_feature_map(feature_map, q.unsqueeze(-2), "q").squeeze(-2)  # (..., d')
    phi_k = apply_feature_map(feature_map, k.unsqueeze(-2), "k").squeeze(-2)
    if phi_k.shape[-1] != s.shape[-2]:
        raise ValueError(f"feature_map gives {phi_k.shape[-1]} features, s has {s.shape[-2]}")
    # S_t = S_{t-1} + φ(k_t) v_tᵀ ;  z_t = z_{t-1} + φ(k_t)
    s_new = s + phi_k.unsqueeze(-1) * v.unsqueeze(-2)
    z_new = z + phi_k
    # y_t = φ(q_t)ᵀ S_t / φ(q_t)ᵀ z_t
    num = (phi_q.unsqueeze(-2) @ s_new).squeeze(-2)  # (..., d_v)
    den = (phi_q * z_new).sum(-1, keepdim=True)  # (..., 1)
    return check_output(num / torch.where(den > 0, den, torch.ones_like(den))), s_new, z_new


MAX_RECURRENT_STEPS = 2**15  # a Python loop of ~0.1 ms per token: more is a typo, not a lesson


def linear_attention_recurrent(q, k, v, *, feature_map: Callable = elu_feature_map) -> torch.Tensor:
    """Causal linear attention token by token (a Python loop over keys, for teaching and decoding).

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v) → (..., n_q, d_v); bottom-right causal
    (query i sees keys 0 … i + n_k − n_q), == ``linear_attention(q, k, v, causal=True)``. Each
    step calls :func:`linear_attention_step`; only the state (s, z) is carried from token to token.
    Keys before the first query's position (a prompt, n_k > n_q) are read in one product first (the
    prefill), so the loop runs min(n_q, n_k) steps, at most :data:`MAX_RECURRENT_STEPS`.
    """
    q, k, v = as_qkv_tensors(q, k, v)
    *lead, n_q, _ = q.shape
    n_k, d_v = v.shape[-2:]
    offset = n_k - n_q  # query i answers right after key i + offset
    steps = min(n_q, n_k)
    if steps > MAX_RECURRENT_STEPS:
        raise ValueError(
            f"linear_attention_recurrent loops in Python over min(n_q, n_k) = {steps} tokens, more "
            f"than MAX_RECURRENT_STEPS = {MAX_RECURRENT_STEPS}; linear_attention(q, k, v, "
            "causal=True) gives the same result with batched matrix products"
        )
    start = max(0, offset)  # keys 0 … offset − 1: the prefill
    phi_k = apply_feature_map(feature_map, k[..., : max(start, 1), :], "k")[..., :start, :]
    # S = φ(K_<)ᵀ V_<, z = φ(K_<)ᵀ 1: the state after the prompt (zeros without one)
    s = phi_k.transpose(-1, -2) @ v[..., :start, :]  # (..., d', d_v)
    z = phi_k.sum(-2)  # (..., d')
    outputs = [q.new_zeros(*lead, d_v)] * max(0, -offset)  # queries that see no key: 0
    for j in range(start, n_k):  # key j is read, then query j − offset answers
        out, s, z = linear_attention_step(
            s, z, q[..., j - offset, :], k[..., j, :], v[..., j, :], feature_map=feature_map
        )
        outputs.append(out)
    return torch.stack(outputs, dim=-2)  # (..., n_q, d_v)
