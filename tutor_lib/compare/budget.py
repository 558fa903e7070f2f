"""Which methods fit a memory budget, what they cost, and which are worth considering at all.

* :func:`fit_table`: for a length n, head size d and a byte budget, every method of the table with
  its predicted memory (:func:`~tutor_lib.compare.memory.predicted_memory`), whether it fits, the
  FLOPs it must do and does, the time those FLOPs take at this machine's matmul rate (a lower
  bound), and what :func:`measure_methods` measured at that n, when it did;
* :func:`longest_fitting_n`: the longest sequence a memory model allows within a budget;
* :func:`cheapest_fitting`: the method a decision rule picks (fits, exact if asked, causal if the
  model is, fewest FLOPs);
* :func:`pareto_front`: the points no other point beats on every objective at once.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from tutor_lib._validate import check_bool, check_int
from tutor_lib.compare.memory import default_itemsize, predicted_memory
from tutor_lib.compare.methods import Method
from tutor_lib.compare.table import METHODS, get_method

__all__ = ["pareto_front", "longest_fitting_n", "fit_table", "cheapest_fitting"]


def pareto_front(points) -> np.ndarray:
    """Indices (ascending, an int array) of the points that no other point dominates, every column
    an objective to minimise. Point a dominates b if a ≤ b in every column and a < b in at least one; equal
    points do not dominate each other, so both stay. points: (N, k) finite numbers."""
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[0] == 0 or pts.shape[1] == 0:
        raise ValueError(f"points must be a non-empty (N, k) table, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("points must be finite (no NaN or inf)")
    no_worse = (pts[:, None, :] <= pts[None, :, :]).all(-1)  # [a, b]: a ≤ b everywhere
    better = (pts[:, None, :] < pts[None, :, :]).any(-1)  # [a, b]: a < b somewhere
    dominated = (no_worse & better).any(0)  # b is dominated by some a
    return np.flatnonzero(~dominated)


def longest_fitting_n(memory: Callable[[int], float], budget: float, *, n_max: int = 2**24) -> int:
    """The largest n in [1, n_max] with ``memory(n) <= budget`` (0 if not even n = 1 fits), for a
    memory model that never decreases with n: doubling finds a length that does not fit, then
    bisection the boundary (about 2·log2(n) calls). For a model that dips now and then (queries
    padded to whole blocks), the n returned still fits, near the boundary."""
    if not callable(memory):
        raise TypeError(f"memory must be a function of n, got {type(memory).__name__}")
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real) or math.isnan(budget):
        raise TypeError(f"budget must be a number of bytes, got {budget!r}")
    n_max = check_int(n_max, "n_max", minimum=1)
    if memory(1) > budget:
        return 0
    good, bad = 1, 2
    while bad <= n_max and memory(bad) <= budget:  # memory(good) ≤ budget < memory(bad)
        good, bad = bad, 2 * bad
    if bad > n_max:
        if memory(n_max) <= budget:
            return n_max
        bad = n_max
    while bad - good > 1:
        mid = (good + bad) // 2
        good, bad = (mid, bad) if memory(mid) <= budget else (good, mid)
    return good


def _methods(methods) -> list[Method]:
    if methods is None:
        return list(METHODS)
    if isinstance(methods, (str, Method)) or not isinstance(methods, Sequence):
        raise TypeError("methods must be a list of Method entries or names")
    return [get_method(m) if isinstance(m, str) else m for m in methods]


def _measured_rows(measured, heads: int, d: int) -> dict:
    """(method, n) → row of a :func:`measure_methods` result taken with the same heads and d."""
    if measured is None:
        return {}
    if not isinstance(measured, dict) or not {"rows", "heads", "d", "ns"} <= set(measured):
        raise TypeError("measured must be the dict measure_methods returns")
    if measured.get("heads") != heads or measured.get("d") != d:
        return {}
    return {(row["method"], row["n"]): row for row in measured["rows"]}


def fit_table(
    n: int,
    d: int,
    budget: float,
    *,
    heads: int = 1,
    methods: Sequence[Method | str] | None = None,
    measured: dict | None = None,
) -> list[dict]:
    """One dict per method at length n (batch 1, ``heads`` heads, d_k = d_v = d), table order:
    ``method, lesson, exact, causal, backend, memory_kind`` ("peak" or "saved"), ``memory``
    (predicted bytes), ``fits`` (memory ≤ budget), ``flops`` (what the method must do),
    ``flops_done`` (what its implementation computes), ``seconds_at_peak`` (flops_done ÷ the
    matmul rate in ``measured``, else None) and ``measured`` (the :func:`measure_methods` row at
    this n, same heads and d, else None)."""
    n, d = check_int(n, "n", minimum=1), check_int(d, "d", minimum=1)
    heads = check_int(heads, "heads", minimum=1)
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real) or not budget >= 0:
        raise ValueError(f"budget must be a number of bytes >= 0, got {budget!r}")
    found = _measured_rows(measured, heads, d)
    rates = measured.get("matmul_rate", {}) if found else {}
    table = []
    for method in _methods(methods):
        memory = predicted_memory(method, n, d, heads=heads)
        done = heads * method.computed_flops(n, d, d)
        rate = rates.get("float64" if method.backend == "numpy" else "float32")
        table.append(
            {
                "method": method.name,
                "lesson": method.lesson,
                "exact": method.exact,
                "causal": method.causal,
                "backend": method.backend,
                "memory_kind": "peak" if method.backend == "numpy" else "saved",
                "itemsize": default_itemsize(method),
                "memory": memory,
                "fits": memory <= budget,
                "flops": heads * method.flops(n, d, d),
                "flops_done": done,
                "seconds_at_peak": None if rate is None else done / rate,
                "measured": found.get((method.name, n)),
            }
        )
    return table


def cheapest_fitting(
    n: int,
    d: int,
    budget: float,
    *,
    heads: int = 1,
    exact: bool = False,
    causal: bool = False,
    methods: Sequence[Method | str] | None = None,
) -> str | None:
    """The method a simple decision rule picks: among those whose predicted memory fits
    ``budget``, that are exact when ``exact`` is asked, and whose causality matches ``causal`` (a
    decoder needs a causal method, an encoder a bidirectional one), the one whose implementation
    computes the fewest FLOPs (first in table order on a tie). None if nothing qualifies."""
    exact, causal = check_bool(exact, "exact"), check_bool(causal, "causal")
    rows = [
        row
        for row in fit_table(n, d, budget, heads=heads, methods=methods)
        if row["fits"] and row["causal"] == causal and (row["exact"] or not exact)
    ]
    return min(rows, key=lambda row: row["flops_done"])["method"] if rows else None
