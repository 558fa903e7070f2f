"""Checks against ``tutor_lib.ffn`` (lesson 02): the chunked FFN, right values at a lower peak memory."""

from __future__ import annotations

import numpy as np

from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_arrays, run_check, with_peak_bytes
from tutor_lib.ffn import chunked_ffn, ffn
from tutor_lib.measure import peak_bytes

__all__ = ["check_chunked_ffn"]


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
    return run_check(with_peak_bytes(fn), cases, compare=_compare_output_and_peak)


def _chunked_ffn_not_chunked(x, w1, b1, w2, b2, *, chunk_size):
    return ffn(x, w1, b1, w2, b2)


register_answers(
    check_chunked_ffn,
    reference=chunked_ffn,
    wrong=_chunked_ffn_not_chunked,
    mistake="right values, but the whole hidden layer at once (peak memory too high)",
)
