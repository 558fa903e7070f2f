"""The harness every ``check_<name>(fn)`` uses: seeded cases, one friendly line of feedback, True/False.

A check never shows a traceback and never hangs. It prints exactly one of:
* ``✓ passed N cases``;
* ``not attempted yet`` (the learner's stub still raises ``NotImplementedError``);
* ``✗ case i of N (what the case is): what went wrong`` followed by a ``hint:`` line: whatever the
  learner's function does (raises anything, returns None, a bf16 tensor, complex numbers, the wrong
  shape, calls ``exit()``) becomes this line, and the check returns False;
* ``✗ took more than N s on case i of N (…)`` when one case runs longer than :data:`CASE_SECONDS`
  (an endless loop): the case is interrupted and the kernel stays usable.

**How a case is interrupted.** A timer (``signal.setitimer``) sends SIGALRM, whose handler raises
an exception inside the learner's function. A Jupyter kernel (ipykernel) runs cells in the main
thread, where Python delivers signals, so this works in a notebook as in a script. Limits: Python
runs the handler between bytecodes, so one long call into C (a single giant matmul) finishes before
the interruption (the cases here are small, so only Python loops can take long); on platforms
without SIGALRM (Windows) or when a check runs outside the main thread, cases run without a time
limit (use the kernel's interrupt button). A timer that was already running (e.g. a test's own
limit) is restored afterwards with its remaining time.

The comparisons (``compare_arrays``, ``compare_count``), ``with_peak_bytes`` and ``with_flops`` are
shared by the exercise modules, one per concept module (``exercises/ffn.py`` checks against
``tutor_lib/ffn.py``).
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from tutor_lib.measure import count_flops, peak_bytes

CASE_SECONDS = 5.0  # wall-clock limit for one case (the reference answers take milliseconds)
_MAX_MESSAGE = 300  # characters of a learner's exception message that are shown


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
    if arr.size <= 12:  # one line: feedback is a single ✗ line
        text = np.array2string(arr, precision=4, suppress_small=True, separator=", ")
        return " ".join(text.split())
    return f"array of shape {arr.shape}, dtype {arr.dtype}"


def _as_numpy(got) -> tuple[np.ndarray | None, str]:
    """(got as a numpy array or None, the dtype name to talk about). Torch tensors of any dtype
    (bf16 and fp8 have no numpy twin) are converted; what cannot be converted gives None."""
    if hasattr(got, "detach") and hasattr(got, "dtype"):  # a torch tensor is fine too
        dtype = str(got.dtype).replace("torch.", "")
        t = got.detach().cpu()
        if t.is_floating_point() and dtype not in ("float16", "float32", "float64"):
            t = t.double()  # bfloat16, float8_*: numpy has no such dtype
        elif t.dtype == torch.complex32:
            t = t.to(torch.complex64)  # complex32 has no numpy twin
        return t.numpy(), dtype
    try:
        arr = np.asarray(got)
    except Exception:  # noqa: BLE001 - anything unconvertible is a wrong answer
        return None, type(got).__name__
    return arr, str(arr.dtype)


def compare_arrays(got, expected, *, rtol: float = 1e-6, atol: float = 1e-9) -> str | None:
    """None if ``got`` matches ``expected`` (shape, dtype kind and values), else what differs."""
    if got is None:
        return "returned None (is a return statement missing?)"
    kind = type(got).__name__
    got, dtype = _as_numpy(got)
    if got is None:
        return f"returned a {kind} that is not array-like"
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    if expected.dtype == bool:
        if got.dtype != bool:
            return f"dtype {dtype}, expected a boolean array"
        if not np.array_equal(got, expected):
            wrong = np.argwhere(got != expected)[0]
            return f"wrong entry at index {tuple(int(i) for i in wrong)}: got {_short(got)}"
        return None
    if got.dtype == bool or not np.issubdtype(got.dtype, np.number):
        return f"dtype {dtype}, expected numbers"
    if np.issubdtype(got.dtype, np.complexfloating):
        return f"dtype {dtype}: complex numbers, expected real ones (a sqrt or log of a negative?)"
    if np.isnan(got).any() and not np.isnan(expected).any():
        return "the result contains NaN"
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        err = float(np.max(np.abs(got.astype(float) - expected.astype(float))))
        low = " (a low-precision dtype: compute in float64)" if dtype in _LOW_PRECISION else ""
        return (
            f"values differ by up to {err:.3g}{low}; got {_short(got)}, expected {_short(expected)}"
        )
    return None


_LOW_PRECISION = ("float16", "bfloat16", "float8_e4m3fn", "float8_e5m2")


def compare_count(got, expected) -> str | None:
    """Byte and FLOP counts must be exact (a float is fine if it is the right whole number)."""
    if got is None:
        return "returned None (is a return statement missing?)"
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        return f"returned a {type(got).__name__}, expected a number (an int or a float)"
    if got != expected:
        try:
            ratio = f" ({float(got) / float(expected):.3g}× the expected value)" if got else ""
        except (OverflowError, ZeroDivisionError):  # a huge int, or an expected 0
            ratio = ""
        return f"got {got:,}, expected {expected:,}{ratio}"
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


def with_flops(fn: Callable) -> Callable:
    """fn → a function returning (fn's output, the FLOPs torch counted during the call).

    Counted by :func:`tutor_lib.measure.count_flops`. A check that uses it calls
    :func:`warm_up_flop_counter` first: the counter's first use imports a large part of torch
    (seconds), which must not count against the learner's time limit.
    """

    def wrapped(*args, **kwargs):
        box = {}

        def call():
            box["out"] = fn(*args, **kwargs)

        flops = count_flops(call)
        return box["out"], flops

    return wrapped


@functools.cache
def warm_up_flop_counter() -> None:
    """Run the FLOP counter once on a tiny matmul (its first use costs seconds of imports)."""
    count_flops(torch.matmul, torch.ones(2, 2), torch.ones(2, 2))


class _OutOfTime(BaseException):
    """Raised inside the learner's function when its case runs out of time. A BaseException, so a
    learner's ``except Exception:`` cannot swallow it."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_OutOfTime` inside the block after ``seconds`` of wall-clock time (SIGALRM).

    Without SIGALRM, or outside the main thread, the block runs without a limit (module docstring).
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    armed = [True]

    def on_alarm(signum, frame):
        if armed[0]:  # raise once; a late alarm during the clean-up below is ignored
            armed[0] = False
            raise _OutOfTime

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        try:
            yield
        finally:
            armed[0] = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:  # give an outer timer (a test's own limit) back what is left of it
            left = previous_delay - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), previous_interval)


_NOT_ATTEMPTED = object()


def _run_case(fn: Callable, case: Case, compare, seconds: float):
    """None if ``fn`` passes ``case``; else what went wrong (a str) or ``_NOT_ATTEMPTED``."""
    args = tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in case.args)
    try:
        with _time_limit(seconds):
            got = fn(*args, **case.kwargs)
    except NotImplementedError:
        return _NOT_ATTEMPTED
    except _OutOfTime:
        return _OutOfTime
    except KeyboardInterrupt:
        return "interrupted (the kernel's stop button) before it returned"
    except SystemExit:
        return "called exit() (return a value instead)"
    except Exception as err:  # noqa: BLE001 - a learner's bug becomes feedback
        text = str(err)
        text = text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + " …"
        return f"raised {type(err).__name__}: {text}"
    try:
        return compare(got, case.expected)
    except Exception as err:  # noqa: BLE001 - an answer of an unexpected kind is a wrong answer
        return f"returned a {type(got).__name__} that cannot be compared ({type(err).__name__})"


def run_check(
    fn: Callable,
    cases: Sequence[Case],
    *,
    compare: Callable[[Any, Any], str | None] = compare_arrays,
    seconds: float | None = None,
) -> bool:
    """Run ``fn`` on every case; print one line of feedback (see module docstring); return success.

    Each case may take at most ``seconds`` (default :data:`CASE_SECONDS`).
    """
    if not callable(fn):
        print(f"✗ expected a function, got {type(fn).__name__}")
        return False
    seconds = CASE_SECONDS if seconds is None else seconds
    total = len(cases)
    for i, case in enumerate(cases, start=1):
        problem = _run_case(fn, case, compare, seconds)
        if problem is _NOT_ATTEMPTED:
            print("not attempted yet")
            return False
        if problem is _OutOfTime:
            print(f"✗ took more than {seconds:g} s on case {i} of {total} ({case.description})")
            print("  hint: a loop that never ends? (or one that is far too slow)")
            return False
        if problem is not None:
            print(f"✗ case {i} of {total} ({case.description}): {problem}")
            if case.hint:
                print(f"  hint: {case.hint}")
            return False
    print(f"✓ passed {total} cases")
    return True
