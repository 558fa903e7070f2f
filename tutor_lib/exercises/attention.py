"""Checks for lesson 01 (self-attention): softmax, attention, the bottom-right causal mask, and
multi-head attention with grouped-query attention (GQA)."""

from __future__ import annotations

import numpy as np

from tutor_lib.attention import (
    attention,
    causal_mask,
    merge_heads,
    multi_head_attention,
    softmax,
    split_heads,
)
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, run_check

__all__ = ["check_softmax", "check_attention", "check_causal_mask", "check_gqa_attention"]


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
            "a row of all -inf has max -inf, and -inf - (-inf) is NaN: for such a row, what "
            "could you subtract instead, and what should its weights be?",
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
                "compare with the matrix formula of section 2; with leading batch/head "
                "dimensions, .T reverses ALL axes: transpose only the last two",
            )
        )
    q, k, v = (rng.standard_normal((4, 4)) for _ in range(3))
    mask = np.tril(np.ones((4, 4), dtype=bool))
    cases.append(
        Case(
            "with a boolean mask (True = may attend)",
            (q, k, v),
            attention(q, k, v, mask),
            "a masked key must get weight exactly 0 AND the kept weights must still sum to 1: "
            "before or after the softmax?",
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
        "the n_q queries are the LAST n_q positions of the sequence: at which position is "
        "query i, and which keys come at or before it? (draw n_q = 2, n_k = 5)"
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


def _gqa_cases() -> list[Case]:
    rng = np.random.default_rng(404)
    plain = (
        "with as many KV heads as query heads this is ordinary multi-head attention: "
        "split, attend, merge, project"
    )
    shared = (
        "x @ w_k has only num_kv_heads · d_h columns, so it splits into num_kv_heads heads; "
        "each query head must meet the K/V head of its group (consecutive query heads share one)"
    )
    cases = []
    for lead, n, h, kv, d_h, hint in [
        ((), 5, 4, 4, 2, plain),
        ((), 6, 4, 2, 3, shared),
        ((), 4, 4, 1, 2, "num_kv_heads = 1: every query head shares the same K and V"),
        ((), 1, 6, 3, 2, shared),
        ((2,), 5, 6, 2, 2, "keep leading (batch) axes: work on the last two axes only"),
    ]:
        d = h * d_h
        x = rng.standard_normal((*lead, n, d))
        w_q, w_o = (rng.standard_normal((d, d)) / np.sqrt(d) for _ in range(2))
        w_k, w_v = (rng.standard_normal((d, kv * d_h)) / np.sqrt(d) for _ in range(2))
        args = (x, w_q, w_k, w_v, w_o, h)
        expected = multi_head_attention(*args, num_kv_heads=kv)
        desc = f"x {x.shape}, num_heads={h}, num_kv_heads={kv}"
        cases.append(Case(desc, args, expected, hint, kwargs={"num_kv_heads": kv}))
    return cases


def check_gqa_attention(fn) -> bool:
    """Check ``fn(x, w_q, w_k, w_v, w_o, num_heads, num_kv_heads=...)``: multi-head self-attention
    (no mask) whose keys and values have ``num_kv_heads`` heads, each shared by
    num_heads // num_kv_heads consecutive query heads."""
    return run_check(fn, _gqa_cases())


def _gqa_tiled(x, w_q, w_k, w_v, w_o, num_heads, num_kv_heads):
    """Pairs query head i with KV head i % num_kv_heads (np.tile): the classic mix-up."""
    group = num_heads // num_kv_heads
    q = split_heads(x @ w_q, num_heads)  # (..., h, n, d_h)
    k, v = (np.tile(split_heads(x @ w, num_kv_heads), (group, 1, 1)) for w in (w_k, w_v))
    return merge_heads(attention(q, k, v)) @ w_o


register_answers(
    check_gqa_attention,
    reference=multi_head_attention,
    wrong=_gqa_tiled,
    mistake="query head i meets KV head i % num_kv_heads (np.tile) instead of its group's",
)
