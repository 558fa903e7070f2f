"""Sweeps over n and the exponent they show.

* :func:`sweep` runs a measurement for every n and returns the columns as arrays.
* :func:`loglog_slope` fits log y = p · log x + c: p is the exponent of a power law y ∝ x^p.

Nothing here prints or imports ipywidgets: a progress bar is passed in by the caller
(see :func:`sweep`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from tutor_lib._validate import as_float_array, check_int

__all__ = ["loglog_slope", "sweep"]


def loglog_slope(xs, ys) -> float:
    """Least-squares slope p of log y = p · log x + c: the exponent if y ∝ x^p.

    xs, ys: 1-D, same length ≥ 2, every value > 0, at least two distinct xs.
    """
    x = as_float_array(xs, "xs")
    y = as_float_array(ys, "ys")
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(
            f"xs and ys must be 1-D of the same length >= 2, got {x.shape} and {y.shape}"
        )
    if not (np.all(x > 0) and np.all(y > 0)) or not np.all(np.isfinite(x) & np.isfinite(y)):
        raise ValueError("xs and ys must be finite and > 0 (logarithms are taken)")
    lx, ly = np.log(x), np.log(y)
    lx_c = lx - lx.mean()
    if not np.any(lx_c != 0):
        raise ValueError("xs must contain at least two distinct values")
    # p = Σ (lx - mean)(ly - mean) / Σ (lx - mean)²
    return float(np.dot(lx_c, ly - ly.mean()) / np.dot(lx_c, lx_c))


def sweep(
    fn: Callable, ns: Sequence[int], *, progress: Callable[[Iterable], Iterable] | None = None
) -> dict[str, np.ndarray]:
    """Call ``fn(n)`` for every n in ``ns`` and collect the results as columns.

    ``fn(n)`` returns a number (column ``"value"``) or a dict of numbers (one column per key, the
    same keys every time). Returns ``{"n": array(ns), <column>: array, ...}``, ready for
    :func:`loglog_slope` and plotting.

    ``progress`` wraps the iteration, e.g. ``tutor_lib.widgets.progress`` (an ipywidgets bar in a
    notebook, silent elsewhere). It is a parameter rather than built in because concept modules
    never import ipywidgets: this module stays usable (and testable) without a front end, and the
    lesson decides how to show progress. Default: no progress display.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable (e.g. widgets.progress), got {progress!r}")
    if isinstance(ns, (str, bytes)) or not isinstance(ns, Iterable):
        raise TypeError(f"ns must be a list of ints, got {type(ns).__name__}")
    ns = [check_int(n, "ns[i]") for n in ns]
    if not ns:
        raise ValueError("ns must contain at least one value")
    rows = []
    for n in ns if progress is None else progress(ns):
        result = fn(n)
        rows.append(dict(result) if isinstance(result, dict) else {"value": result})
    keys = list(rows[0])
    if "n" in keys:
        raise ValueError("fn(n) must not return a key named 'n' (that column holds ns)")
    if any(list(row) != keys for row in rows):
        raise ValueError(f"fn(n) must return the same keys for every n, first returned {keys}")
    columns = {"n": np.array(ns)}
    columns.update({key: np.array([row[key] for row in rows]) for key in keys})
    return columns
