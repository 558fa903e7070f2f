"""The table-driven bad-input suite: every public function of tutor_lib, fed bad or extreme inputs,
gives a named error or a correct (clamped) result, within a time limit.

* Concept modules, ``plots`` and ``widgets``: rows in ``tests/bad_input_rows/rows_<module>.py`` (see
  its ``__init__``). A contributor who adds a public function gets a failing
  ``test_every_public_function_has_rows`` until it has rows.
* ``exercises``: every ``check_<name>`` exported by ``tutor_lib.exercises`` gets the same battery
  of broken learner answers automatically (an endless loop, exceptions, ``exit()``, None, bf16,
  complex, wrong shapes…): one ✗ line, no traceback, False. A check that is not exported there is
  reported as uncovered.
* Explorers: every ``…_explorer`` and ``…_stepper`` builder is built and each of its controls is
  pushed to its extremes (and NaN for float sliders): no exception, no "could not draw" for a value
  the slider itself offers; a failing redraw from any control becomes a note and ``.error``.

Random bad shapes and values (hypothesis) are in ``tests/test_fuzz_bad_inputs.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import signal
import sys
import time
from contextlib import contextmanager

import ipywidgets
import numpy as np
import pytest
import torch
from bad_input_rows import Row

import tutor_lib
import tutor_lib.exercises._core as exercise_core
import tutor_lib.widgets as tutor_widgets
from tutor_lib import exercises
from tutor_lib.exercises._answers import answers_for

SECONDS = 10  # a row that takes longer is a hang, not an error message


def _row_modules() -> list:
    import bad_input_rows

    names = [
        m.name for m in pkgutil.iter_modules(bad_input_rows.__path__) if m.name.startswith("rows_")
    ]
    return [importlib.import_module(f"bad_input_rows.{name}") for name in sorted(names)]


ROWS: list[Row] = [row for module in _row_modules() for row in module.ROWS]


def _public_functions() -> dict[str, object]:
    """``module.qualname`` → object for every callable in a public module's ``__all__``
    (re-exports count once, under the module that defines them)."""
    found = {}
    for info in pkgutil.walk_packages(tutor_lib.__path__, "tutor_lib."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts[1:]):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if callable(obj) and getattr(obj, "__module__", "").startswith("tutor_lib"):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _key(func) -> str:
    return f"{func.__module__}.{func.__qualname__}"


@contextmanager
def _time_limit(seconds: int):
    def on_alarm(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_every_public_function_has_rows():
    covered = {_key(row.func) for row in ROWS} | {_key(check) for check in CHECKS}
    missing = sorted(set(_public_functions()) - covered)
    assert not missing, (
        "these public functions have no bad-input rows: add them to "
        "tests/bad_input_rows/rows_<module>.py (a check_<name>: export it from "
        "tutor_lib.exercises): " + ", ".join(missing)
    )


def test_the_coverage_scan_sees_every_layer():
    """A guard against a scan that silently finds nothing: concept, plot, widget and exercise
    functions are all in it."""
    keys = set(_public_functions())
    for expected in (
        "tutor_lib.attention.attention",
        "tutor_lib.masks.patterns.local_mask",
        "tutor_lib.plots.attention.plot_mask",
        "tutor_lib.widgets.attention.attention_explorer",
        "tutor_lib.exercises.attention.check_softmax",
    ):
        assert expected in keys


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.func.__name__}: {row.why}" for row in ROWS])
def test_row(row: Row):
    with _time_limit(SECONDS):
        if row.raises is not None:
            with pytest.raises(row.raises, match=re.escape(row.name)):
                row.func(*row.args, **row.kwargs)
        else:
            value = row.func(*row.args, **row.kwargs)
            assert row.check(value), f"{row.func.__name__}({row.why}) returned {value!r}"


def test_the_table_is_not_empty_and_rows_are_well_formed():
    assert len(ROWS) >= 5
    assert all(inspect.isroutine(row.func) or inspect.isclass(row.func) for row in ROWS)


def test_a_row_that_should_fail_does_fail():
    """Negative control: a wrong expectation (wrong argument name, or a bad result) fails."""
    from bad_input_rows import error, result

    from tutor_lib.masks import local_mask

    with pytest.raises(AssertionError, match="did not match"):
        test_row(error(local_mask, 8, -1, 0, name="right", why="names left, not right"))
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        test_row(error(local_mask, 8, 1, 0, name="left", why="a fine call"))
    with pytest.raises(AssertionError):
        test_row(result(local_mask, 4, 1, 1, check=lambda m: m.all(), why="not all True"))


# -- exercise checks: a battery of broken learner answers -----------------------------------------

CHECKS = [getattr(exercises, name) for name in exercises.__all__ if name.startswith("check_")]
LIMIT = 0.5  # seconds per case in these tests (the checks default to _core.CASE_SECONDS)


def _reference(check):
    return answers_for(check.__name__).reference


def _endless(*args, **kwargs):
    while True:
        try:
            pass
        except Exception:  # noqa: BLE001 - a learner's catch-all must not swallow the time limit
            pass


def _raises(*args, **kwargs):
    raise ValueError("my bug")


def _exits(*args, **kwargs):
    sys.exit(1)


def _recurses(*args, **kwargs):
    return _recurses(*args, **kwargs)


def _convert(value, how):
    """Apply ``how`` to every array in the reference answer (tuples and dicts kept). A torch tensor
    goes through numpy and comes back a tensor, so the checks of torch exercises get the bad answers
    too (not the untouched reference)."""
    if isinstance(value, tuple):
        return tuple(_convert(v, how) for v in value)
    if isinstance(value, dict):
        return {key: _convert(v, how) for key, v in value.items()}
    if isinstance(value, torch.Tensor):
        out = how(value.detach().numpy())
        return torch.from_numpy(out) if isinstance(out, np.ndarray) else out
    if isinstance(value, np.ndarray) or np.isscalar(value):
        return how(np.asarray(value))
    return value


def _answer(check, how):
    reference = _reference(check)
    return lambda *args, **kwargs: _convert(reference(*args, **kwargs), how)


def _bf16(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64)).to(torch.bfloat16)


BAD_ANSWERS = {
    "endless loop": lambda check: _endless,
    "raises ValueError": lambda check: _raises,
    "calls exit()": lambda check: _exits,
    "infinite recursion": lambda check: _recurses,
    "returns None": lambda check: lambda *a, **k: None,
    "returns a string": lambda check: lambda *a, **k: "42",
    "wrong signature": lambda check: lambda: 0,
    "bf16 tensor of the answer": lambda check: _answer(check, _bf16),
    "complex answer": lambda check: _answer(check, lambda a: a + 0.5j),
    "wrong shape": lambda check: _answer(check, lambda a: np.stack([a, a])),
    "NaN answer": lambda check: _answer(check, lambda a: np.full(a.shape, np.nan)),
    "a generator": lambda check: lambda *a, **k: (x for x in range(3)),
    "a grad-requiring tensor": lambda check: _answer(
        check, lambda a: torch.ones(a.shape, dtype=torch.float64, requires_grad=True) * 7
    ),
}


@pytest.fixture
def short_cases(monkeypatch):
    monkeypatch.setattr(exercise_core, "CASE_SECONDS", LIMIT)
    # a FLOP-counting check pays seconds of torch imports once, before its first case (outside
    # the cases' time limit): not part of what the elapsed-time assertions below measure
    exercise_core.warm_up_flop_counter()


@pytest.mark.parametrize("kind", list(BAD_ANSWERS))
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_a_broken_answer_gives_one_cross_line_and_false(check, kind, capsys, short_cases):
    fn = BAD_ANSWERS[kind](check)
    started = time.monotonic()
    with _time_limit(SECONDS):
        passed = check(fn)
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert passed is False, out
    assert err == "" and "Traceback" not in out
    assert lines and lines[0].startswith("✗ ") and len(lines) <= 2, out
    assert all(line.startswith("  hint: ") for line in lines[1:]), out
    if kind == "endless loop":
        assert lines[0].startswith(f"✗ took more than {LIMIT:g} s on case 1 of "), out
        assert elapsed < LIMIT + 2
    else:
        assert "took more than" not in out


def test_the_time_limit_restores_an_outer_timer_and_handler(short_cases, capsys):
    """A check run under someone else's SIGALRM timer (pytest's per-row limit, a learner's own
    alarm) gives it back: same handler, the remaining time minus what the check used."""
    fired = []

    def outer(signum, frame):
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, outer)
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        assert exercises.check_softmax(_endless) is False
        handler = signal.getsignal(signal.SIGALRM)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert handler is outer and not fired
    assert 25 < left <= 30 - LIMIT
    assert capsys.readouterr().out.startswith("✗ took more than")


# -- explorers: every control pushed to its extremes ----------------------------------------------

EXPLORERS = [
    getattr(tutor_widgets, name)
    for name in tutor_widgets.__all__
    if name.endswith(("_explorer", "_stepper"))
]


def _controls(widget) -> list:
    """Every value-carrying control inside ``widget`` (sliders, dropdowns, checkboxes)."""
    found = []
    for child in getattr(widget, "children", ()):
        if isinstance(child, (ipywidgets.Box,)):
            found += _controls(child)
        elif isinstance(child, ipywidgets.ValueWidget) and not isinstance(
            child, (ipywidgets.HTML, ipywidgets.Image)
        ):
            found.append(child)
    return found


def _extremes(control) -> list:
    if isinstance(control, (ipywidgets.Dropdown, ipywidgets.SelectionSlider)):
        options = list(control.options)
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        return [values[-1], values[0]]
    if isinstance(control, ipywidgets.Checkbox):
        return [not control.value, control.value]
    if isinstance(control, (ipywidgets.FloatSlider, ipywidgets.FloatLogSlider)):
        return [float("nan"), float("inf"), 1e300, -1e300, control.value]
    # out of range first: ipywidgets clamps them (one redraw each); the limits then change nothing
    return [control.max + 10**6, control.max, control.min - 10**6, control.min]


def _patch_png_bytes(monkeypatch, replacement) -> None:
    """Replace ``png_bytes`` in every widget module that imported it from widgets._base."""
    for info in pkgutil.iter_modules(tutor_widgets.__path__, "tutor_lib.widgets."):
        module = importlib.import_module(info.name)
        if hasattr(module, "png_bytes") and not info.name.endswith("._base"):
            monkeypatch.setattr(module, "png_bytes", replacement)


def _skip_rasterising(monkeypatch) -> None:
    """Figures are still built (every plot call runs), only the PNG rasterising is skipped."""
    _patch_png_bytes(monkeypatch, lambda fig: b"")


@pytest.mark.parametrize("builder", EXPLORERS, ids=lambda b: b.__name__)
def test_explorers_survive_extreme_and_nan_control_values(builder, monkeypatch):
    explorer = builder()
    controls = _controls(explorer)
    assert len(controls) >= 3, "the scan must see the explorer's controls"
    _skip_rasterising(monkeypatch)
    with _time_limit(120):
        for control in controls:
            for value in _extremes(control):
                control.value = value  # a traceback here would reach the learner
                assert explorer.error is None, (control.description, value, explorer.info.value)
                assert "could not draw" not in explorer.info.value
            if isinstance(control, (ipywidgets.FloatSlider, ipywidgets.FloatLogSlider)):
                control.value = float("nan")
                assert control.value == control.value, "NaN must be put back"
                assert "not a finite number" in explorer.info.value


@pytest.mark.parametrize("builder", EXPLORERS, ids=lambda b: b.__name__)
def test_an_explorer_error_becomes_a_note_not_a_traceback(builder, monkeypatch):
    """The guard: whatever fails inside a redraw is shown as a note and kept as ``.error``."""
    explorer = builder()
    broken = RuntimeError("something broke")

    def fail(*args, **kwargs):
        raise broken

    _patch_png_bytes(monkeypatch, fail)
    for control in _controls(explorer):  # every control, a preset dropdown's chained redraw too
        explorer.error, before = None, control.value
        for value in _extremes(control):  # the first one that moves the control (not clamped)
            control.value = value
            if control.value != before:
                break
        assert explorer.error is broken, control.description
        assert "could not draw this: something broke" in explorer.info.value
