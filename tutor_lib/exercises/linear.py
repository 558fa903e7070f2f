"""Checks for lesson 06 (linear attention): the non-causal form without an n×n matrix, one step of
the recurrent form, and the FLOP crossover of the two multiplication orders."""

from __future__ import annotations

import math

import torch

from tutor_lib import linear
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import (
    Case,
    compare_arrays,
    compare_count,
    run_check,
    warm_up_flop_counter,
    with_flops,
)

__all__ = ["check_linear_attention", "check_linear_attention_step", "check_associativity_crossover"]


def _randn(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _compare_with_budget(got, expected) -> str | None:
    (out, flops), (ref, budget) = got, expected
    problem = compare_arrays(out, ref, rtol=1e-9, atol=1e-12)
    if problem is None and flops > budget:
        return (
            f"right values, but {flops:,} FLOPs: more than {budget:,} (twice the linear order); "
            "the cost grows like n², so an n × n matrix was built"
        )
    return problem


def check_linear_attention(fn) -> bool:
    """Check ``fn(q, k, v)``: non-causal linear attention with φ(x) = elu(x) + 1 on float64 torch
    tensors q (..., n_q, d_k), k (..., n_k, d_k), v (..., n_k, d_v), in O(n) FLOPs."""
    hint = (
        "φ(K)ᵀV is (d_k, d_v) and φ(K) summed over the keys is (d_k,): compute them before "
        "touching Q, then one product per query for the numerator and one for the normalizer"
    )
    shapes = [((), 5, 5, 3, 3), ((2,), 7, 4, 3, 2), ((2, 3), 1, 6, 4, 5), ((), 9, 1, 2, 2)]
    shapes.append(((), 512, 512, 8, 8))  # large enough that n² work is unmistakable
    cases = []
    for i, (lead, n_q, n_k, d_k, d_v) in enumerate(shapes):
        q, k = _randn(i, *lead, n_q, d_k), _randn(10 + i, *lead, n_k, d_k)
        v = _randn(20 + i, *lead, n_k, d_v)
        heads = math.prod(lead)  # the FLOP model counts one (n, d) problem
        budget = 2 * heads * linear.associativity_flops(n_q, n_k, d_k, d_v)["linear"]
        cases.append(
            Case(
                f"q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}",
                (q, k, v),
                (linear.linear_attention(q, k, v), budget),
                hint,
            )
        )
    warm_up_flop_counter()  # seconds of imports on first use: not on the learner's clock
    return run_check(with_flops(fn), cases, compare=_compare_with_budget)


def _linear_attention_left_to_right(q, k, v):
    return linear.quadratic_linear_attention(q, k, v)


register_answers(
    check_linear_attention,
    reference=linear.linear_attention,
    wrong=_linear_attention_left_to_right,
    mistake="(φ(Q)φ(K)ᵀ)V: right values, but the n × n matrix is built (O(n²) FLOPs)",
)


def _compare_step(got, expected) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return f"returned {type(got).__name__}, expected a tuple (out, s_new, z_new)"
    for name, a, b in zip(("out", "s_new", "z_new"), got, expected, strict=True):
        problem = compare_arrays(a, b, rtol=1e-9, atol=1e-12)
        if problem is not None:
            return f"{name}: {problem}"
    return None


def check_linear_attention_step(fn) -> bool:
    """Check ``fn(s, z, q, k, v)`` → ``(out, s_new, z_new)``: one token of causal linear attention
    with φ(x) = elu(x) + 1; s (..., d_k, d_v) and z (..., d_k) sum over the previous tokens."""
    hint = (
        "the token sees itself: add φ(k)vᵀ to s and φ(k) to z first, then read with φ(q); "
        "an outer product is a (d_k, 1) column times a (1, d_v) row"
    )
    cases = []
    for i, (lead, d_k, d_v, empty) in enumerate(
        [((), 3, 2, True), ((), 4, 4, False), ((2,), 3, 5, False), ((2, 2), 1, 1, False)]
    ):
        s = _randn(i, *lead, d_k, d_v).abs() * (0 if empty else 1)
        z = _randn(10 + i, *lead, d_k).abs() * (0 if empty else 1)
        q, k, v = _randn(20 + i, *lead, d_k), _randn(30 + i, *lead, d_k), _randn(40 + i, *lead, d_v)
        what = "first token (s = 0, z = 0)" if empty else f"s {tuple(s.shape)}"
        cases.append(Case(what, (s, z, q, k, v), linear.linear_attention_step(s, z, q, k, v), hint))
    return run_check(fn, cases, compare=_compare_step)


def _step_reading_before_the_update(s, z, q, k, v):
    phi_q, phi_k = linear.elu_feature_map(q), linear.elu_feature_map(k)
    out = (phi_q.unsqueeze(-2) @ s).squeeze(-2) / (phi_q * z).sum(-1, keepdim=True)
    return out, s + phi_k.unsqueeze(-1) * v.unsqueeze(-2), z + phi_k


register_answers(
    check_linear_attention_step,
    reference=linear.linear_attention_step,
    wrong=_step_reading_before_the_update,
    mistake="reads the state before adding the current token (the token cannot see itself)",
)


def check_associativity_crossover(fn) -> bool:
    """Check ``fn(num_features, d_v)``: the smallest n at which φ(Q)(φ(K)ᵀ[V, 1]) needs fewer matmul
    FLOPs than (φ(Q)φ(K)ᵀ)[V, 1] (self-attention, n_q = n_k = n)."""
    hint = (
        "write both FLOP counts for n_q = n_k = n: one is proportional to n, the other to n²; "
        "divide by n and find where they cross; the answer is the next whole number"
    )
    params = [(64, 64), (16, 16), (256, 64), (1, 1), (3, 100), (128, 7), (64, 128)]
    cases = [
        Case(f"num_features={m}, d_v={d}", (m, d), linear.associativity_crossover(m, d), hint)
        for m, d in params
    ]
    return run_check(fn, cases, compare=compare_count)


def _crossover_at_num_features(num_features, d_v):
    return num_features  # the rule of thumb "linear wins once n > d", taken literally


register_answers(
    check_associativity_crossover,
    reference=linear.associativity_crossover,
    wrong=_crossover_at_num_features,
    mistake="n = d' (the rule of thumb) instead of solving 4n·d'(d_v+1) < 2n²(d'+d_v+1)",
)
