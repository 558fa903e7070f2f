"""Shared plumbing for the explorers: figures rendered to PNG bytes for an ``ipywidgets.Image``,
and the one guard every explorer's callbacks go through.

Pattern (every explorer follows it, so tests and the browser check can drive them the same way):
controls (sliders, dropdowns, toggles) → a pure ``tutor_lib`` function → data kept on the widget
object → a PNG drawn with matplotlib's OO API (no pyplot, no Output widget) + one HTML line.

An explorer never shows a traceback:

* its redraw method is decorated with :func:`guarded` (an error becomes a note under the plot, and
  is kept as ``.error``), and its controls are wired with :func:`connect` (a NaN or ±inf set on a
  float slider is put back to the previous value, with a note);
* builder arguments go through :func:`clamp_int`, :func:`clamp_float` and :func:`nearest_choice`:
  a wrong type is a TypeError naming the argument; a value outside the slider's range is clamped
  (or the nearest choice is used) with a note shown on the first drawing.

ipywidgets itself clamps a value set on a slider (``slider.value = 1000`` gives its maximum) and
refuses a non-int on an IntSlider or an unknown option with a ``TraitError``.
"""

from __future__ import annotations

import functools
import html
import io
import math
import numbers
from collections.abc import Callable, Iterable, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from tutor_lib._validate import check_int

IMAGE_LAYOUT = {"width": "auto", "max_width": "720px"}
# Sequence lengths the memory explorers offer: 512 … 131072.
LENGTHS = tuple(2**k for k in range(9, 18))


def length_label(n: int) -> str:
    """``"32k"`` for 32768, ``"512"`` for 512: a slider label for a sequence length."""
    return f"{n // 1024}k" if n >= 1024 and n % 1024 == 0 else str(n)


def length_options(lengths=LENGTHS) -> list[tuple[str, int]]:
    """(label, length) pairs for a ``SelectionSlider``."""
    return [(length_label(n), n) for n in lengths]


def new_figure(width: float, height: float) -> Figure:
    """A standalone Figure (not registered with pyplot, so it never shows up twice in a notebook)."""
    return Figure(figsize=(width, height), dpi=80, layout="constrained")


def png_bytes(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes, byte-identical for identical input (no timestamp or version)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def note_html(text: str, *, warning: str | None = None) -> str:
    """The one-line summary under a plot, with an optional visible note (e.g. a clamped slider)."""
    body = f"<span style='font-family:monospace'>{text}</span>"
    if warning:
        body += f"<br><span style='color:#b35900'>⚠ {html.escape(warning)}</span>"
    return body


def image_widget() -> widgets.Image:
    return widgets.Image(format="png", layout=widgets.Layout(**IMAGE_LAYOUT))


def slider_style() -> dict:
    return {"description_width": "110px"}


def guarded(update: Callable) -> Callable:
    """Decorate an explorer's redraw method ``update(self, change=None)``: any exception becomes
    a "could not draw this" note in ``self.info`` (kept as ``self.error``, None after a good
    redraw), and notes waiting in ``self.pending_notes`` are shown under the plot, once.

    A guarded method called from another one (a preset dropdown whose callback redraws) lets its
    error through to the outermost guard, which reports it: an inner failure is not overwritten
    by the outer call's success."""

    @functools.wraps(update)
    def redraw(self, change=None) -> None:
        if self.__dict__.get("_in_guard"):
            update(self, change)  # nested: the outer guard catches and reports
            return
        self._in_guard = True
        try:
            update(self, change)
        except Exception as err:  # noqa: BLE001 - never a traceback in front of a learner
            self.error = err
            self.info.value = note_html("nothing drawn", warning=f"could not draw this: {err}")
        else:
            self.error = None
        finally:
            self._in_guard = False
        pending = getattr(self, "pending_notes", [])
        if pending:
            self.info.value += note_html("", warning="; ".join(pending))
            self.pending_notes = []

    return redraw


def connect(explorer, controls: Iterable[widgets.Widget]) -> None:
    """Redraw ``explorer`` (its guarded ``_update``) whenever one of ``controls`` changes value.

    A NaN or ±inf set on a float control is put back to the previous value with a note (that
    reset redraws once more, through this same callback).
    """

    def on_change(change) -> None:
        new, owner = change["new"], change["owner"]
        if isinstance(new, float) and not math.isfinite(new):
            label = owner.description or "a slider"
            notes = explorer.__dict__.setdefault("pending_notes", [])
            notes.append(f"{label} = {new} is not a finite number: kept {change['old']:g}")
            owner.value = change["old"]
            return
        explorer._update(change)

    for control in controls:
        control.observe(on_change, names="value")


def _moved(name: str, value, used, why: str, notes: list[str]):
    if used != value:
        notes.append(f"{name} = {value:g} {why}: using {used:g}")
    return used


def clamp_int(value, name: str, low: int, high: int, notes: list[str]) -> int:
    """A builder's int argument for a slider of range [low, high]: TypeError naming ``name`` if it
    is not an int; clamped into the range with a note otherwise."""
    value = check_int(value, name)
    return _moved(name, value, min(max(value, low), high), f"is outside [{low}, {high}]", notes)


def clamp_float(value, name: str, low: float, high: float, notes: list[str]) -> float:
    """Like :func:`clamp_int` for a float slider; NaN or ±inf is a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    value = float(value)
    return _moved(name, value, min(max(value, low), high), f"is outside [{low:g}, {high:g}]", notes)


def nearest_choice(value, name: str, choices: Sequence[float], notes: list[str]):
    """A builder's argument for a selection slider: ``value`` if it is one of ``choices``, else the
    nearest one on a log scale (the choices are powers of two and the like), with a note."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if value in choices:
        return value
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    used = min(choices, key=lambda c: abs(math.log(c / value)))
    return _moved(name, value, used, "is not one of the slider's choices", notes)
