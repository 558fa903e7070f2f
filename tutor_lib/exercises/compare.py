"""Checks against ``tutor_lib.compare`` (lesson 10): the Pareto front, the longest sequence a memory
budget allows, and a decision rule that picks a method."""

from __future__ import annotations

import math

import numpy as np

from tutor_lib.compare import cheapest_fitting, fit_table, longest_fitting_n, pareto_front
from tutor_lib.costs import GIB, MIB
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_count, run_check

__all__ = ["check_pareto_front", "check_longest_n", "check_pick_method"]


# -- the Pareto front -------------------------------------------------------------------------------


def _front_cases() -> list[Case]:
    rng = np.random.default_rng(1010)
    hint = (
        "a point is dropped only if ANOTHER point is no worse in every column and strictly better "
        "in at least one; two equal points both stay"
    )
    cases = [
        Case("one point", ([[3.0, 1.0]],), [0], hint),
        Case(
            "memory vs error: a trade-off, all kept", ([[1, 9], [4, 4], [9, 1]],), [0, 1, 2], hint
        ),
        Case("one point beats another", ([[1, 1], [2, 2], [0, 5]],), [0, 2], hint),
        Case("equal in one column, better in the other", ([[1, 5], [1, 3]],), [1], hint),
        Case("two identical points", ([[2, 2], [2, 2], [3, 3]],), [0, 1], hint),
    ]
    for size, columns in [(12, 2), (15, 3)]:
        points = rng.integers(0, 5, size=(size, columns)).astype(float)  # many ties
        text = f"{size} random points, {columns} objectives (with ties)"
        cases.append(Case(text, (points.tolist(),), pareto_front(points), hint))
    return cases


def _compare_indices(got, expected) -> str | None:
    """Indices in any order: a list or 1-D array of distinct ints (a tensor too)."""
    if hasattr(got, "detach"):  # a torch tensor
        got = got.detach().cpu().numpy() if not got.is_floating_point() else got.detach().double()
    if isinstance(got, (str, bytes, dict)) or got is None or not hasattr(got, "__len__"):
        return f"returned a {type(got).__name__}, expected a list of indices"
    arr = np.asarray(got)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        return f"expected a 1-D list of integer indices, got shape {arr.shape}, dtype {arr.dtype}"
    if len(set(arr.tolist())) != arr.size:
        return f"an index appears twice: {arr.tolist()}"
    expected = sorted(int(i) for i in expected)
    if sorted(arr.tolist()) != expected:
        return f"got indices {sorted(arr.tolist())}, expected {expected}"
    return None


def check_pareto_front(fn) -> bool:
    """Check ``fn(points)`` → the indices (any order) of the points no other point dominates;
    points: a list of rows, every column an objective to minimise."""
    return run_check(fn, _front_cases(), compare=_compare_indices)


def _front_strictly_better_everywhere(points):
    pts = np.asarray(points, dtype=float)
    beaten = [any((pts[a] < pts[b]).all() for a in range(len(pts))) for b in range(len(pts))]
    return [i for i, out in enumerate(beaten) if not out]  # keeps dominated ties


register_answers(
    check_pareto_front,
    reference=pareto_front,
    wrong=_front_strictly_better_everywhere,
    mistake="dominance must be strict in every column: a point equal in one column survives",
)


# -- the longest sequence that fits ---------------------------------------------------------------


def _dense_scores(n):  # three n × n float64 arrays, 4 heads
    return 3 * 4 * n * n * 8


def _fused(n):  # output + logsumexp, 4 heads of 64, float32
    return 4 * n * 65 * 4


def _chunked(n):  # one chunk's scores + the output
    return 3 * 256 * 256 * 8 + n * 64 * 8


def _steps(n):  # grows in steps of 1000 tokens
    return 1000 * math.ceil(n / 1000)


def _longest_cases() -> list[Case]:
    hint = (
        "memory(n) never decreases: double n while it fits, then bisect between the last length "
        "that fits and the first that does not; check memory(1) first (nothing may fit)"
    )
    cases = []
    for memory, budget, n_max, text in [
        (_dense_scores, 1 * GIB, 1 << 20, "dense scores, 1 GiB"),
        (_fused, 1 * GIB, 1 << 24, "a fused kernel (linear in n), 1 GiB"),
        (_chunked, 64 * MIB, 1 << 24, "chunked: constant + the output, 64 MiB"),
        (_dense_scores, 10, 1 << 20, "budget below memory(1): nothing fits"),
        (_fused, 1e30, 12_345, "everything fits: n_max itself"),
        (_steps, 5000, 10**6, "steps of 1000: the last length of a step"),
        (_fused, 1024 * GIB, 1 << 40, "1 TiB: 10⁹ lengths fit, too many to try one by one"),
    ]:
        expected = longest_fitting_n(memory, budget, n_max=n_max)
        cases.append(Case(text, (memory, budget), expected, hint, {"n_max": n_max}))
    return cases


def check_longest_n(fn) -> bool:
    """Check ``fn(memory, budget, n_max)`` → the largest n in [1, n_max] with memory(n) ≤ budget
    (0 if none), for a function ``memory(n)`` that never decreases with n."""
    return run_check(fn, _longest_cases(), compare=compare_count)


def _largest_power_of_two(memory, budget, *, n_max):
    n = 0
    while 2 * max(n, 1) <= n_max and memory(2 * max(n, 1)) <= budget:
        n = 2 * max(n, 1)
    return n if n or memory(1) > budget else 1


register_answers(
    check_longest_n,
    reference=longest_fitting_n,
    wrong=_largest_power_of_two,
    mistake="stops at the largest power of two that fits (no bisection)",
)


# -- a decision rule --------------------------------------------------------------------------------

# (n, d, budget, heads, exact, causal, what the learner is deciding)
SCENARIOS = [
    (1024, 64, 64 * MIB, 4, False, False, "an encoder at 1k tokens, 64 MiB"),
    (1024, 64, 64 * MIB, 4, True, False, "the same, exact"),
    (32768, 64, 1 * GIB, 8, True, True, "training a decoder at 32k tokens, exact, 1 GiB"),
    (32768, 64, 1 * GIB, 8, False, True, "a decoder at 32k tokens that may change the model"),
    (131072, 128, 1 * GIB, 8, True, True, "exact at 128k tokens in 1 GiB"),
    (131072, 128, 256 * MIB, 8, True, True, "exact at 128k tokens in 256 MiB"),
    (4096, 64, 64 * MIB, 16, False, False, "an encoder at 4k tokens, 64 MiB, 16 heads"),
    (65536, 64, 1 * MIB, 4, False, False, "1 MiB at 64k tokens"),
]


def _pick_cases() -> list[Case]:
    hint = (
        "fit_table(n, d, budget, heads=heads) gives every method's 'fits', 'exact', 'causal' and "
        "'flops_done': keep those that fit, are exact if asked, and have the causality asked for; "
        "return the name with the fewest flops_done (None if none is left)"
    )
    cases = []
    for n, d, budget, heads, exact, causal, text in SCENARIOS:
        rows = [
            r
            for r in fit_table(n, d, budget, heads=heads)
            if r["fits"] and r["causal"] == causal and (r["exact"] or not exact)
        ]
        best = min((r["flops_done"] for r in rows), default=None)
        accepted = sorted(r["method"] for r in rows if r["flops_done"] == best)  # ties: any
        kwargs = {"heads": heads, "exact": exact, "causal": causal}
        cases.append(Case(text, (n, d, budget), accepted or [None], hint, kwargs))
    return cases


def _compare_pick(got, accepted) -> str | None:
    if got is not None and not isinstance(got, str):
        return f"returned a {type(got).__name__}, expected a method name (str) or None"
    if got not in accepted:
        return f"picked {got!r}, expected {' or '.join(map(repr, accepted))}"
    return None


def check_pick_method(fn) -> bool:
    """Check ``fn(n, d, budget, *, heads, exact, causal)`` → the name of the method of the table
    that fits ``budget`` bytes (predicted memory), is exact if ``exact``, has the causality
    ``causal`` asks for, and computes the fewest FLOPs; None if no method qualifies."""
    return run_check(fn, _pick_cases(), compare=_compare_pick)


def _pick_ignoring_causality(n, d, budget, *, heads, exact, causal):
    rows = [
        r for r in fit_table(n, d, budget, heads=heads) if r["fits"] and (r["exact"] or not exact)
    ]
    return min(rows, key=lambda r: r["flops_done"])["method"] if rows else None


register_answers(
    check_pick_method,
    reference=cheapest_fitting,
    wrong=_pick_ignoring_causality,
    mistake="ignores causality: a decoder gets a bidirectional method",
)
