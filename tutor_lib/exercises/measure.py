"""Checks against ``tutor_lib.measure`` (lesson 03): the least-squares log-log slope."""

from __future__ import annotations

import numpy as np

from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_arrays, run_check
from tutor_lib.measure import loglog_slope

__all__ = ["check_loglog_slope"]


def check_loglog_slope(fn) -> bool:
    """Check ``fn(xs, ys)``: the least-squares slope of log(ys) against log(xs)."""
    rng = np.random.default_rng(404)
    hint = (
        "take logarithms of y ≈ c·x^p: what shape does the relation between log x and log y "
        "have, and which of its numbers is p? (the base of the logarithm does not matter)"
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
            "use ALL the points in a least-squares fit, not just the first and last: " + hint,
        )
    )
    return run_check(fn, cases, compare=lambda got, exp: compare_arrays(got, exp, rtol=1e-9))


def _slope_from_end_points(xs, ys):
    return float(np.log(ys[-1] / ys[0]) / np.log(xs[-1] / xs[0]))


register_answers(
    check_loglog_slope,
    reference=loglog_slope,
    wrong=_slope_from_end_points,
    mistake="slope from the first and last points only (not least squares)",
)
