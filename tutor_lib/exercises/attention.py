"""Checks for lesson 01 (self-attention): softmax, attention, the bottom-right causal mask."""

from __future__ import annotations

import numpy as np

from tutor_lib.attention import attention, causal_mask, softmax
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, run_check

__all__ = ["check_softmax", "check_attention", "check_causal_mask"]


def _softmax_cases() -> list[Case]:
    rng = np.random.default_rng(101)
    cases = []
    for shape in [(3,), (1,), (4, 5), (2, 3, 7)]:
        x = rng.standard_normal(shape)
        cases.append(
            Case(
                f"random input of shape {shape}",
                (x,),
                softmax(x),
                "exponentiate, then divide by the sum along the LAST axis (axis=-1, keepdims=True)",
            )
        )
    big = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1003.0]])
    cases.append(
        Case(
            "huge logits ±1000",
            (big,),
            softmax(big),
            "np.exp(1000) overflows to inf: subtract each row's max before exp()",
        )
    )
    masked = np.array([[0.5, -np.inf, 1.5, -np.inf]])
    cases.append(
        Case(
            "masked entries (-inf)",
            (masked,),
            softmax(masked),
            "exp(-inf) is 0, so masked keys should get weight 0",
        )
    )
    empty = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]])
    cases.append(
        Case(
            "a row where every key is masked",
            (empty,),
            softmax(empty),
            "a row of all -inf has max -inf and -inf - (-inf) is NaN: give such a row "
            "all zeros (e.g. replace a non-finite row max by 0)",
        )
    )
    return cases


def check_softmax(fn) -> bool:
    """Check ``fn(x)``: a numerically stable softmax over the last axis of a numpy array."""
    return run_check(fn, _softmax_cases())


def _softmax_without_max(x):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(x)
        return e / e.sum(axis=-1, keepdims=True)


register_answers(
    check_softmax,
    reference=softmax,
    wrong=_softmax_without_max,
    mistake="no max subtraction: exp(1000) overflows",
)


def _attention_cases() -> list[Case]:
    rng = np.random.default_rng(202)
    cases = []
    for n_q, n_k, d_k, d_v, lead in [
        (3, 3, 2, 2, ()),
        (1, 4, 3, 3, ()),
        (4, 6, 5, 2, ()),
        (5, 5, 8, 8, (2, 3)),
    ]:
        q = rng.standard_normal((*lead, n_q, d_k))
        k = rng.standard_normal((*lead, n_k, d_k))
        v = rng.standard_normal((*lead, n_k, d_v))
        cases.append(
            Case(
                f"q {q.shape}, k {k.shape}, v {v.shape}",
                (q, k, v),
                attention(q, k, v),
                "softmax(q @ k.swapaxes(-1, -2) / sqrt(d_k)) @ v, where d_k = q.shape[-1]; "
                "use swapaxes rather than .T so leading batch/head dims work",
            )
        )
    q, k, v = (rng.standard_normal((4, 4)) for _ in range(3))
    mask = np.tril(np.ones((4, 4), dtype=bool))
    cases.append(
        Case(
            "with a boolean mask (True = may attend)",
            (q, k, v),
            attention(q, k, v, mask),
            "set masked scores to -inf BEFORE the softmax",
            kwargs={"mask": mask},
        )
    )
    q, k, v = (30 * rng.standard_normal((3, 16)) for _ in range(3))
    cases.append(
        Case(
            "large logits",
            (q, k, v),
            attention(q, k, v),
            "use a max-subtracted softmax so exp() cannot overflow",
        )
    )
    return cases


def check_attention(fn) -> bool:
    """Check ``fn(q, k, v, mask=None)``: scaled dot-product attention with an optional boolean mask."""
    return run_check(fn, _attention_cases())


def _attention_without_scale(q, k, v, mask=None):
    return attention(q, k, v, mask, scale=1.0)


register_answers(
    check_attention,
    reference=attention,
    wrong=_attention_without_scale,
    mistake="scores not divided by √d_k",
)


def _causal_cases() -> list[Case]:
    hint = (
        "query i sits at position i + n_k - n_q: key j is allowed when j <= i + n_k - n_q "
        "(try np.arange(n_q)[:, None] and np.arange(n_k)[None, :])"
    )
    return [
        Case(f"n_q={n_q}, n_k={n_k}", (n_q, n_k), causal_mask(n_q, n_k), hint)
        for n_q, n_k in [(4, 4), (1, 1), (1, 5), (2, 5), (3, 7), (6, 6)]
    ]


def check_causal_mask(fn) -> bool:
    """Check ``fn(n_q, n_k)``: the bottom-right aligned causal mask, boolean (n_q, n_k)."""
    return run_check(fn, _causal_cases())


def _causal_mask_top_left(n_q, n_k):
    return np.tril(np.ones((n_q, n_k), dtype=bool))


register_answers(
    check_causal_mask,
    reference=causal_mask,
    wrong=_causal_mask_top_left,
    mistake="top-left aligned (SDPA's is_causal) instead of bottom-right",
)
