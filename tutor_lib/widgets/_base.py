"""Shared plumbing for the explorers: figures rendered to PNG bytes for an ``ipywidgets.Image``.

Pattern (every explorer follows it, so tests and the browser check can drive them the same way):
controls (sliders, dropdowns, toggles) → a pure ``tutor_lib`` function → data kept on the widget
object → a PNG drawn with matplotlib's OO API (no pyplot, no Output widget) + one HTML line.
"""

from __future__ import annotations

import html
import io

import ipywidgets as widgets
from matplotlib.figure import Figure

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
