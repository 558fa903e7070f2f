"""Rows of the table-driven bad-input suite (``tests/test_bad_inputs.py``), one file per concept module.

A row is one bad (or extreme) input to one public function and what must happen: a named error
(``raises`` + the argument name that the message must contain) or a correct, clamped result
(``check``: a predicate on the return value). Add a ``rows_<module>.py`` with a ``ROWS`` list for a
new module; ``test_every_public_function_has_rows`` fails until every public function has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Row:
    """``func(*args, **kwargs)`` must raise ``raises`` with ``name`` in the message, or return a
    value for which ``check(value)`` is True. ``why`` says what the input is (the test id)."""

    func: Callable
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    raises: type[BaseException] | None = None
    name: str | None = None
    check: Callable[[Any], bool] | None = None
    why: str = ""

    def __post_init__(self):
        if (self.raises is None) == (self.check is None):
            raise ValueError(f"row {self.why!r}: give exactly one of raises= or check=")
        if self.raises is not None and not self.name:
            raise ValueError(f"row {self.why!r}: an error row names the argument (name=...)")


def error(func, *args, raises=ValueError, name, why, **kwargs) -> Row:
    """A row whose call must raise ``raises`` with ``name`` in its message."""
    return Row(func, args, kwargs, raises=raises, name=name, why=why)


def result(func, *args, check, why, **kwargs) -> Row:
    """A row whose call must return a value with ``check(value)`` True (clamped or exact)."""
    return Row(func, args, kwargs, check=check, why=why)


def with_value(a, index, value):
    """A copy of the numpy array or torch tensor ``a`` with ``a[index] = value`` (e.g. one NaN)."""
    b = a.clone() if hasattr(a, "clone") else a.copy()
    b[index] = value
    return b


def noted(text, **values):
    """A check for an explorer built from bad starting values: it drew (no ``.error``), shows a note
    containing ``text``, and its controls hold ``values`` (a control is an attribute of the
    explorer, or an entry of its ``.controls`` dict)."""

    def control(e, name):
        return getattr(e, name) if hasattr(e, name) else e.controls[name]

    def check(e):
        ok = e.error is None and "⚠" in e.info.value and text in e.info.value
        return ok and all(control(e, k).value == v for k, v in values.items())

    return check
