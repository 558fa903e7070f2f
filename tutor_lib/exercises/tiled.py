"""Checks against ``tutor_lib.tiled`` (lesson 05): the online-softmax update, the backward pass from
the logsumexp, and the largest tile that fits a given on-chip memory."""

from __future__ import annotations

import math

import numpy as np
import torch

from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_arrays, compare_count, run_check
from tutor_lib.tiled import (
    block_state,
    flash_attention,
    flash_attention_backward,
    initial_state,
    largest_square_tile,
    online_softmax_update,
)

__all__ = ["check_attention_backward", "check_largest_square_tile", "check_online_softmax_update"]

STATE_KEYS = ("max", "normalizer", "acc")


# -- the online-softmax update --------------------------------------------------------------------


def _compare_states(got, expected) -> str | None:
    if not isinstance(got, dict) or not set(STATE_KEYS) <= set(got):
        return f"returned a {type(got).__name__}, expected a dict with keys {STATE_KEYS}"
    for key in STATE_KEYS:
        problem = compare_arrays(got[key], expected[key], rtol=1e-9, atol=1e-12)
        if problem is not None:
            return f"{key!r}: {problem}"
    return None


def _update_cases() -> list[Case]:
    rng = np.random.default_rng(505)
    hint = (
        "new max m' = maximum(m, scores.max(-1)); the factor e^(m − m') rescales BOTH the old "
        "normalizer and the old acc; then add e^(s − m') summed (normalizer) and e^(s − m') @ v (acc)"
    )
    start_hint = "from the start state (max = -inf), e^(m − m') = e^(-inf) = 0: use np.exp, no NaN"
    cases = []
    fresh = initial_state(np.zeros(3), 2)
    s, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    cases.append(Case("first block: start state (max = -inf)", (fresh, s, v), None, start_hint))
    for text, scale in [("second block, larger scores", 3.0), ("second block, smaller", 0.2)]:
        state = block_state(rng.standard_normal((3, 5)), rng.standard_normal((5, 2)))
        s = rng.standard_normal((3, 4)) * scale + (1.0 if scale > 1 else -1.0)
        cases.append(Case(text, (state, s, rng.standard_normal((4, 2))), None, hint))
    state = block_state(rng.standard_normal((2, 6)) * 30, rng.standard_normal((6, 3)))
    s = rng.standard_normal((2, 3)) * 30 + 40  # e^(s) overflows float64 without the max
    cases.append(
        Case(
            "scores near 100 (exp overflows)",
            (state, s, rng.standard_normal((3, 3))),
            None,
            "subtract the new max before exponentiating",
        )
    )
    s = np.array([[-np.inf, -np.inf], [0.5, -np.inf]])  # row 0: every key of the block masked
    cases.append(
        Case(
            "a row whose keys are all masked (-inf)",
            (initial_state(np.zeros(2), 2), s, np.ones((2, 2))),
            None,
            "a row that has still seen no key keeps max -inf, normalizer 0, acc 0",
        )
    )
    for case in cases:
        case.expected = online_softmax_update(*case.args)
    return cases


def check_online_softmax_update(fn) -> bool:
    """Check ``fn(state, scores_block, values_block)`` → the new state dict (numpy): ``"max"``
    (n_q,), ``"normalizer"`` (n_q,), ``"acc"`` (n_q, d_v), the sums after also seeing this block."""
    return run_check(fn, _update_cases(), compare=_compare_states)


def _update_without_rescaling(state, scores_block, values_block):
    m_new = np.maximum(state["max"], scores_block.max(-1))
    shift = np.where(np.isfinite(m_new), m_new, 0.0)
    p = np.exp(scores_block - shift[:, None])
    return {
        "max": m_new,
        "normalizer": state["normalizer"] + p.sum(-1),  # old sums still relative to the old max
        "acc": state["acc"] + p @ values_block,
    }


register_answers(
    check_online_softmax_update,
    reference=online_softmax_update,
    wrong=_update_without_rescaling,
    mistake="no rescaling: the old normalizer and acc are not multiplied by e^(m − m')",
)


# -- the backward pass from the logsumexp ---------------------------------------------------------


def _compare_grads(got, expected) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return f"returned a {type(got).__name__}, expected a tuple (dq, dk, dv)"
    for name, g, e in zip(("dq", "dk", "dv"), got, expected, strict=True):
        problem = compare_arrays(g, e, rtol=1e-7, atol=1e-9)
        if problem is not None:
            return f"{name}: {problem}"
    return None


def _backward_cases() -> list[Case]:
    hint = (
        "P = exp(S − logsumexp[:, None]) with S = q kᵀ·scale; dV = Pᵀ dO; dP = dO Vᵀ; "
        "D = (dO * out).sum(-1); dS = P * (dP − D[:, None]); dQ = scale·dS K; dK = scale·dSᵀ Q"
    )
    g = torch.Generator().manual_seed(55)
    cases = []
    for n_q, n_k, d_k, d_v, causal in [
        (4, 4, 3, 3, False),
        (6, 9, 4, 2, False),
        (8, 8, 5, 5, True),
        (1, 7, 2, 3, False),
        (5, 3, 4, 4, True),
    ]:
        q, k = (
            torch.randn(n_q, d_k, generator=g, dtype=torch.float64),
            torch.randn(n_k, d_k, generator=g, dtype=torch.float64),
        )
        v = torch.randn(n_k, d_v, generator=g, dtype=torch.float64)
        out, lse = flash_attention(q, k, v, causal=causal)
        grad_out = torch.randn(n_q, d_v, generator=g, dtype=torch.float64)
        kwargs = {"block_q": 2, "block_k": 3, "causal": causal}
        args = (q, k, v, out, lse, grad_out)
        text = f"n_q={n_q}, n_k={n_k}, d_k={d_k}, d_v={d_v}" + (", causal" if causal else "")
        extra = (
            (
                " Causal: keys j > i + n_k − n_q get P = 0, and rows with logsumexp = -inf "
                "(no key) too."
            )
            if causal
            else ""
        )
        cases.append(
            Case(text, args, flash_attention_backward(*args, **kwargs), hint + extra, kwargs)
        )
    return cases


def check_attention_backward(fn) -> bool:
    """Check ``fn(q, k, v, out, logsumexp, grad_out, *, block_q, block_k, causal)`` → (dq, dk, dv)
    (torch float64, q (n_q, d_k), k (n_k, d_k), v (n_k, d_v)), recomputing P from the logsumexp.
    The block sizes may be ignored (one tile is fine); ``causal`` is bottom-right aligned."""
    return run_check(fn, _backward_cases(), compare=_compare_grads)


def _backward_without_delta(q, k, v, out, logsumexp, grad_out, *, block_q, block_k, causal):
    scale = q.shape[-1] ** -0.5
    s = q @ k.T * scale
    if causal:
        n_q, n_k = s.shape
        s = s.masked_fill(
            torch.arange(n_k)[None] > torch.arange(n_q)[:, None] + n_k - n_q, -math.inf
        )
    p = torch.exp(s - logsumexp[:, None]).nan_to_num(0.0)
    ds = p * (grad_out @ v.T)  # forgets the − D term of the softmax Jacobian
    return scale * ds @ k, scale * ds.T @ q, p.T @ grad_out


register_answers(
    check_attention_backward,
    reference=flash_attention_backward,
    wrong=_backward_without_delta,
    mistake="dS = P ∘ dP, missing the − D = rowsum(dO ∘ O) term of the softmax Jacobian",
)


# -- the largest tile that fits on chip -----------------------------------------------------------


def _tile_cases() -> list[Case]:
    hint = (
        "write the bytes of one b × b tile step as a function of b (every tile that sits on chip at "
        "once: the Q, K, V and output blocks, the scores, and m and ℓ), then find the largest b "
        "for which it still fits: it only grows with b"
    )
    kib = 1024
    params = [
        (100 * kib, 64, 4, "A100-like 100 KiB per block, d = 64, fp32"),
        (192 * kib, 128, 2, "H100-like 192 KiB, d = 128, fp16"),
        (48 * kib, 64, 2, "48 KiB, d = 64, fp16"),
        (1024 * kib, 64, 4, "a 1 MiB CPU L2 cache, d = 64, fp32"),
        (64 * 4 * 6, 64, 4, "room for a 1 × 1 tile only"),
        (100, 64, 4, "not even one row fits"),
    ]
    return [Case(text, (m, d, b), largest_square_tile(m, d, b), hint) for m, d, b, text in params]


def check_largest_square_tile(fn) -> bool:
    """Check ``fn(sram_bytes, d, bytes_per_value)`` → the largest b whose b × b tile step
    (B_q = B_k = b, d_k = d_v = d) fits in ``sram_bytes`` (0 if none)."""
    return run_check(fn, _tile_cases(), compare=compare_count)


def _largest_tile_without_scores(sram_bytes, d, bytes_per_value):
    b = 0
    while (4 * (b + 1) * d + 2 * (b + 1)) * bytes_per_value <= sram_bytes:  # forgets the b² scores
        b += 1
    return b


register_answers(
    check_largest_square_tile,
    reference=largest_square_tile,
    wrong=_largest_tile_without_scores,
    mistake="the b × b score tile is left out of the on-chip bytes",
)
