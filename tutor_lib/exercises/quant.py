"""Checks for lesson 08 (compression): absmax quantization with its granularity, the LLM.int8()
decomposition, and the causal mask of memory-compressed attention (a design question)."""

from __future__ import annotations

import numpy as np

from tutor_lib import quant
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_arrays, run_check

__all__ = ["check_compressed_causal_mask", "check_llm_int8_matmul", "check_quantize"]


def _compare_quantized(got, expected) -> str | None:
    """(q, scale, zero_point) against the reference; a zero point of 0 may be a plain 0."""
    if not isinstance(got, tuple) or len(got) != 3:
        return f"returned {type(got).__name__}, expected a tuple (q, scale, zero_point)"
    q, scale, zero_point = (np.asarray(part) for part in got)
    if not np.issubdtype(q.dtype, np.integer):
        return f"q has dtype {q.dtype}: the quantized values must be integers (np.int8)"
    for name, mine, ref in (("scale", scale, expected[1]), ("q", q, expected[0])):
        if mine.shape != ref.shape:
            return f"{name} has shape {mine.shape}, expected {ref.shape} (keepdims=True)"
        problem = compare_arrays(mine, ref, rtol=1e-9, atol=0)
        if problem is not None:
            return f"{name}: {problem}"
    if not np.all(zero_point == 0):
        return "a symmetric scheme has zero_point 0"
    return None


def _quantize_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    hint = (
        "scale = max|x| / (2**(bits - 1) - 1), taken over every axis EXCEPT the kept ones "
        "(np.abs(x).max(axis=..., keepdims=True)); q = np.clip(np.rint(x / scale), -q_max, q_max)"
    )
    x = rng.standard_normal((6, 5)) * np.array([1, 10, 0.1, 3, 50])
    params = [
        ("per tensor, 8 bits", np.array([-1.0, 0.0, 0.5, 1.0]), 8, None),
        ("per tensor, 4 bits", x, 4, None),
        ("per channel (axis=1) of a (tokens, channels) matrix", x, 8, 1),
        ("per token (axis=0)", x, 8, 0),
        ("per channel, 3 bits, axis=-1", x, 3, -1),
        ("a (2, 3, 4) tensor, axis=(0, 2)", rng.standard_normal((2, 3, 4)), 6, (0, 2)),
        ("a column of zeros (scale 1)", np.array([[0.0, 1.0], [0.0, -2.0]]), 8, 1),
    ]
    return [
        Case(text, (arr, bits), quant.quantize(arr, bits, axis=axis), hint, {"axis": axis})
        for text, arr, bits, axis in params
    ]


def check_quantize(fn) -> bool:
    """Check ``fn(x, bits, axis=None)`` → (q, scale, zero_point): symmetric absmax quantization
    where ``axis`` (an int, a tuple or None) keeps its own scale."""
    return run_check(fn, _quantize_cases(), compare=_compare_quantized)


def _quantize_reducing_axis(x, bits, axis=None):
    q_max = 2 ** (bits - 1) - 1
    scale = np.abs(x).max(axis=axis, keepdims=True) / q_max  # reduces the axis it should keep
    scale = np.where(scale > 0, scale, 1.0)
    return np.clip(np.rint(x / scale), -q_max, q_max).astype(np.int8), scale, 0


register_answers(
    check_quantize,
    reference=quant.quantize,
    wrong=_quantize_reducing_axis,
    mistake="axis is reduced over instead of kept (per token instead of per channel)",
)


def _llm_int8_cases() -> list[Case]:
    hint = (
        "outliers = columns j of x with any |x[:, j]| >= threshold (quant.outlier_columns); "
        "y = x[:, out] @ w[out] in float + the rest: quantize(x[:, rest], 8, axis=0) and "
        "quantize(w[rest], 8, axis=1), int8_matmul, times the outer product of the two scales"
    )
    cases = []
    for i, (magnitude, channels, threshold) in enumerate(
        [(60.0, 1, 6.0), (20.0, 3, 6.0), (0.0, 0, 6.0), (8.0, 2, 10.0), (60.0, 2, 0.5)]
    ):
        x = quant.outlier_activations(16, 32, magnitude, channels=channels, seed=i)
        w = np.random.default_rng(i).standard_normal((32, 8)) / 6
        text = f"{channels} outlier channel(s) of magnitude {magnitude}, threshold {threshold}"
        cases.append(Case(text, (x, w, threshold), quant.llm_int8_matmul(x, w, threshold), hint))
    return cases


def check_llm_int8_matmul(fn) -> bool:
    """Check ``fn(x, w, threshold)`` ≈ x @ w by the LLM.int8() decomposition."""
    return run_check(fn, _llm_int8_cases(), compare=lambda g, e: compare_arrays(g, e, rtol=1e-9))


def _vectorwise_without_outliers(x, w, threshold):
    return quant.quantized_matmul(x, w, scheme="token")  # the outliers are quantized too


register_answers(
    check_llm_int8_matmul,
    reference=quant.llm_int8_matmul,
    wrong=_vectorwise_without_outliers,
    mistake="no decomposition: the outlier columns are quantized with everything else",
)


def _causal_cases() -> list[Case]:
    hint = (
        "slot j averages the tokens j*stride ... min((j+1)*stride, n) - 1; reading the slot reads "
        "all of them, so which of them must already be in query i's past?"
    )
    params = [(6, 2), (7, 3), (9, 3), (10, 4), (5, 1), (4, 8), (1, 1)]
    return [
        Case(f"n={n}, stride={s}", (n, s), quant.compressed_causal_mask(n, s), hint)
        for n, s in params
    ]


def check_compressed_causal_mask(fn) -> bool:
    """Check ``fn(n, stride)``: the (n, ⌈n/stride⌉) boolean mask of the compressed slots that a
    causal query may read."""
    return run_check(fn, _causal_cases())


def _slot_visible_from_its_first_token(n, stride):
    first = np.arange(-(-n // stride)) * stride  # the first token of each slot
    return first[None, :] <= np.arange(n)[:, None]  # leaks the rest of the slot: the future


register_answers(
    check_compressed_causal_mask,
    reference=quant.compressed_causal_mask,
    wrong=_slot_visible_from_its_first_token,
    mistake="a slot is readable once its first token is past: it leaks the slot's later tokens",
)
