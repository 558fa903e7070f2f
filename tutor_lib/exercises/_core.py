"""The harness every ``check_<name>(fn)`` uses: seeded cases, one friendly line of feedback, True/False.

A check never shows a traceback. It prints exactly one of:
* ``✓ passed N cases``;
* ``not attempted yet`` (the learner's stub still raises ``NotImplementedError``);
* ``✗ case i of N (what the case is): what went wrong`` followed by a ``hint:`` line.

The comparisons (``compare_arrays``, ``compare_count``) and ``with_peak_bytes`` are shared by the
exercise modules, one per concept module (``exercises/ffn.py`` checks against ``tutor_lib/ffn.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tutor_lib.measure import peak_bytes


@dataclass
class Case:
    """One input for the learner's function, the expected answer and what to say if it is wrong."""

    description: str
    args: tuple
    expected: Any
    hint: str = ""
    kwargs: dict = field(default_factory=dict)


def _short(x) -> str:
    arr = np.asarray(x)
    if arr.size <= 12:
        return np.array2string(arr, precision=4, suppress_small=True, separator=", ")
    return f"array of shape {arr.shape}, dtype {arr.dtype}"


def compare_arrays(got, expected, *, rtol: float = 1e-6, atol: float = 1e-9) -> str | None:
    """None if ``got`` matches ``expected`` (shape, dtype kind and values), else what differs."""
    if hasattr(got, "detach"):  # a torch tensor is fine too
        got = got.detach().cpu().numpy()
    try:
        got = np.asarray(got)
    except Exception as err:  # noqa: BLE001 - anything unconvertible is a wrong answer
        return f"returned a {type(got).__name__} that is not array-like ({err})"
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    if expected.dtype == bool:
        if got.dtype != bool:
            return f"dtype {got.dtype}, expected a boolean array"
        if not np.array_equal(got, expected):
            wrong = np.argwhere(got != expected)[0]
            return f"wrong entry at index {tuple(int(i) for i in wrong)}: got {_short(got)}"
        return None
    if not np.issubdtype(got.dtype, np.number):
        return f"dtype {got.dtype}, expected numbers"
    if np.isnan(got).any() and not np.isnan(expected).any():
        return "the result contains NaN"
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        err = float(np.max(np.abs(got.astype(float) - expected.astype(float))))
        return f"values differ by up to {err:.3g}; got {_short(got)}, expected {_short(expected)}"
    return None


def compare_count(got, expected) -> str | None:
    """Byte and FLOP counts must be exact (a float is fine if it is the right whole number)."""
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        return f"returned a {type(got).__name__}, expected a number"
    if got != expected:
        return f"got {got:,}, expected {expected:,}" + (
            f" ({got / expected:.3g}× the expected value)" if expected and got else ""
        )
    return None


def with_peak_bytes(fn: Callable) -> Callable:
    """fn → a function returning (fn's output, the peak bytes tracemalloc saw during the call)."""

    def wrapped(*args, **kwargs):
        box = {}

        def call():
            box["out"] = fn(*args, **kwargs)

        peak = peak_bytes(call)
        return box["out"], peak

    return wrapped


def run_check(
    fn: Callable,
    cases: Sequence[Case],
    *,
    compare: Callable[[Any, Any], str | None] = compare_arrays,
) -> bool:
    """Run ``fn`` on every case; print one line of feedback (see module docstring); return success."""
    if not callable(fn):
        print(f"✗ expected a function, got {type(fn).__name__}")
        return False
    total = len(cases)
    for i, case in enumerate(cases, start=1):
        args = tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in case.args)
        try:
            got = fn(*args, **case.kwargs)
        except NotImplementedError:
            print("not attempted yet")
            return False
        except Exception as err:  # noqa: BLE001 - a learner's bug becomes feedback, not a traceback
            problem = f"raised {type(err).__name__}: {err}"
        else:
            problem = compare(got, case.expected)
        if problem is not None:
            print(f"✗ case {i} of {total} ({case.description}): {problem}")
            if case.hint:
                print(f"  hint: {case.hint}")
            return False
    print(f"✓ passed {total} cases")
    return True
