"""Checks for lessons 00, 02 and 03: cost formulas, the chunked FFN and log-log slopes."""

from __future__ import annotations

import numpy as np

from tutor_lib.costs import (
    GPT2_SMALL,
    GPT3_175B,
    MISTRAL_7B_LIKE,
    ModelShape,
    attention_params,
    crossover_length,
    kv_cache_bytes,
    score_matrix_bytes,
)
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_arrays, run_check
from tutor_lib.ffn import chunked_ffn, ffn
from tutor_lib.measure import loglog_slope, peak_bytes

__all__ = [
    "check_kv_cache_bytes",
    "check_attention_params",
    "check_crossover_length",
    "check_chunked_ffn",
    "check_score_matrix_bytes",
    "check_loglog_slope",
]


def _compare_count(got, expected) -> str | None:
    """Byte and FLOP counts must be exact (a float is fine if it is the right whole number)."""
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        return f"returned a {type(got).__name__}, expected a number"
    if got != expected:
        return f"got {got:,}, expected {expected:,}" + (
            f" ({got / expected:.3g}× the expected value)" if expected and got else ""
        )
    return None


# -- lesson 00 -----------------------------------------------------------------------------------


def check_kv_cache_bytes(fn) -> bool:
    """Check ``fn(shape, tokens, bytes_per_value, batch)``: the KV-cache size in bytes."""
    tiny = ModelShape(n_layers=2, d_model=8, n_heads=4, d_ff=16, vocab_size=10, n_kv_heads=2)
    hint_kv = (
        "d_head = d_model // n_heads, and the cache stores n_kv_heads heads "
        "(shape.n_kv_heads, or n_heads when it is None: shape.kv_heads does this)"
    )
    cases = []
    for shape, tokens, bpv, batch, hint in [
        (tiny, 1, 1, 1, "K and V: 2 vectors of n_kv·d_head numbers per layer per token"),
        (GPT2_SMALL, 1024, 2, 1, hint_kv),
        (MISTRAL_7B_LIKE, 1, 2, 1, hint_kv),
        (MISTRAL_7B_LIKE, 32768, 2, 4, "multiply by the batch size too"),
        (GPT3_175B, 2048, 0.5, 1, "int4 is half a byte per value"),
    ]:
        expected = kv_cache_bytes(shape, tokens, bpv, batch)
        label = shape.name or "a tiny GQA model"
        desc = f"{label}, tokens={tokens}, bytes={bpv:g}, batch={batch}"
        cases.append(Case(desc, (shape, tokens, bpv, batch), expected, hint))
    return run_check(fn, cases, compare=_compare_count)


def check_attention_params(fn) -> bool:
    """Check ``fn(d_model, n_heads, n_kv_heads)``: weights of one attention layer, no biases."""
    hint = (
        "W_Q and W_O are (d_model, d_model); W_K and W_V map d_model to n_kv_heads · d_head "
        "numbers, with d_head = d_model // n_heads"
    )
    cases = [
        Case(
            f"d_model={d}, n_heads={h}, n_kv_heads={kv}",
            (d, h, kv),
            attention_params(d, h, kv),
            hint,
        )
        for d, h, kv in [(8, 2, 2), (768, 12, 12), (4096, 32, 8), (4096, 32, 1), (64, 8, 4)]
    ]
    return run_check(fn, cases, compare=_compare_count)


# -- lesson 02 -----------------------------------------------------------------------------------


def check_crossover_length(fn) -> bool:
    """Check ``fn(d_model, d_ff)``: the n at which 4n²d = 8nd² + 4n·d·d_ff."""
    hint = "set 4·n²·d = 8·n·d² + 4·n·d·m and divide both sides by 4·n·d"
    cases = [
        Case(f"d_model={d}, d_ff={m}", (d, m), crossover_length(d, m), hint)
        for d, m in [(64, 256), (768, 3072), (4096, 14336), (12288, 49152), (100, 7)]
    ]
    return run_check(fn, cases, compare=_compare_count)


def _measured(fn):
    """fn → a function returning (fn's output, the peak bytes tracemalloc saw during the call)."""

    def wrapped(*args, **kwargs):
        box = {}

        def call():
            box["out"] = fn(*args, **kwargs)

        peak = peak_bytes(call)
        return box["out"], peak

    return wrapped


def _compare_output_and_peak(got, expected) -> str | None:
    (out, peak), (reference, limit) = got, expected
    problem = compare_arrays(out, reference, rtol=1e-9, atol=1e-12)
    if problem is None and limit is not None and peak > limit:
        return (
            f"the output is right, but the peak memory was {peak / 1024:,.0f} KiB, more than "
            f"{limit / 1024:,.0f} KiB: the full (n, m) hidden layer seems to exist at once"
        )
    return problem


def _ffn_args(rng, shape, m):
    """x of ``shape`` (..., n, d) and random ReLU-FFN weights w1, b1, w2, b2 of hidden width m."""
    d = shape[-1]
    return (
        rng.standard_normal(shape),
        rng.standard_normal((d, m)),
        rng.standard_normal(m),
        rng.standard_normal((m, d)),
        rng.standard_normal(d),
    )


def check_chunked_ffn(fn) -> bool:
    """Check ``fn(x, w1, b1, w2, b2, *, chunk_size)`` == the ReLU ``ffn``, with a lower peak memory."""
    rng = np.random.default_rng(303)
    hint = (
        "loop over start = 0, chunk_size, 2·chunk_size, …; slice x[..., start:start + chunk_size, :] "
        "(the last slice may be shorter) and write ffn(slice) into a preallocated output"
    )
    cases = []
    for shape, m, chunk in [
        ((10, 4), 16, 3),
        ((7, 3), 5, 7),
        ((5, 2), 8, 1),
        ((4, 3), 6, 10),
        ((2, 9, 4), 8, 4),
    ]:
        args = _ffn_args(rng, shape, m)
        desc = f"x {shape}, m={m}, chunk_size={chunk}"
        cases.append(Case(desc, args, (ffn(*args), None), hint, kwargs={"chunk_size": chunk}))
    # the (512, 256) hidden layer is 1 MiB; one chunk of 32 rows of it is 64 KiB
    args = _ffn_args(rng, (512, 16), 256)
    limit = peak_bytes(ffn, *args) // 2
    memory_hint = "only one (chunk_size, m) slice of the hidden layer may exist at a time"
    expected = (chunked_ffn(*args, chunk_size=32), limit)
    desc = "x (512, 16), m=256, chunk_size=32, peak memory measured"
    cases.append(Case(desc, args, expected, memory_hint, kwargs={"chunk_size": 32}))
    return run_check(_measured(fn), cases, compare=_compare_output_and_peak)


# -- lesson 03 -----------------------------------------------------------------------------------


def check_score_matrix_bytes(fn) -> bool:
    """Check ``fn(n, n_heads, bytes_per_value)``: bytes of one layer's (n, n) score matrices."""
    hint = "one n × n matrix per head, bytes_per_value bytes per entry"
    cases = [
        Case(f"n={n}, n_heads={h}, bytes={b:g}", (n, h, b), score_matrix_bytes(n, h, b), hint)
        for n, h, b in [(1, 1, 4), (3, 1, 8), (1024, 12, 4), (32768, 32, 2), (4096, 96, 0.5)]
    ]
    return run_check(fn, cases, compare=_compare_count)


def check_loglog_slope(fn) -> bool:
    """Check ``fn(xs, ys)``: the least-squares slope of log(ys) against log(xs)."""
    rng = np.random.default_rng(404)
    hint = (
        "fit a straight line to (log x, log y), e.g. np.polyfit(np.log(xs), np.log(ys), 1)[0]; "
        "the base of the logarithm does not matter"
    )
    cases = []
    xs = np.array([128.0, 256.0, 512.0, 1024.0])
    for p in (2.0, 1.0, 0.5, -1.0):
        ys = 3.0 * xs**p
        cases.append(Case(f"y = 3·x^{p:g} at x = {xs.astype(int).tolist()}", (xs, ys), p, hint))
    noisy = 1e-9 * xs**2 * np.exp(0.1 * rng.standard_normal(xs.size))
    cases.append(
        Case(
            "measured-looking data (y ≈ x² with noise)",
            (xs, noisy),
            loglog_slope(xs, noisy),
            "least squares over ALL points, not just the first and last: " + hint,
        )
    )
    return run_check(fn, cases, compare=lambda got, exp: compare_arrays(got, exp, rtol=1e-9))


# -- answer key (tools/check_solutions.py): the library passes, a typical mistake fails ----------
def _kv_cache_bytes_all_heads(shape, tokens, bytes_per_value, batch):
    d_head = shape.d_model // shape.n_heads
    return 2 * shape.n_layers * shape.n_heads * d_head * tokens * bytes_per_value * batch


def _attention_params_ignoring_gqa(d_model, n_heads, n_kv_heads):
    return 4 * d_model * d_model


def _crossover_ignoring_projections(d_model, d_ff):
    return d_ff


def _chunked_ffn_not_chunked(x, w1, b1, w2, b2, *, chunk_size):
    return ffn(x, w1, b1, w2, b2)


def _score_bytes_one_head(n, n_heads, bytes_per_value):
    return n * n * bytes_per_value


def _slope_from_end_points(xs, ys):
    return float(np.log(ys[-1] / ys[0]) / np.log(xs[-1] / xs[0]))


register_answers(
    check_kv_cache_bytes,
    reference=kv_cache_bytes,
    wrong=_kv_cache_bytes_all_heads,
    mistake="caches n_heads heads instead of n_kv_heads (ignores GQA)",
)
register_answers(
    check_attention_params,
    reference=attention_params,
    wrong=_attention_params_ignoring_gqa,
    mistake="4·d_model² (ignores the smaller K/V projections of GQA)",
)
register_answers(
    check_crossover_length,
    reference=crossover_length,
    wrong=_crossover_ignoring_projections,
    mistake="forgets the 8nd² projections (n = d_ff)",
)
register_answers(
    check_chunked_ffn,
    reference=chunked_ffn,
    wrong=_chunked_ffn_not_chunked,
    mistake="right values, but the whole hidden layer at once (peak memory too high)",
)
register_answers(
    check_score_matrix_bytes,
    reference=score_matrix_bytes,
    wrong=_score_bytes_one_head,
    mistake="one head only",
)
register_answers(
    check_loglog_slope,
    reference=loglog_slope,
    wrong=_slope_from_end_points,
    mistake="slope from the first and last points only (not least squares)",
)
