"""``quantization_explorer()``: bits, scheme and outlier magnitude → the grid a value is rounded to,
the error of y = xW for every scheme, and the bytes.

The activations x (64 tokens × 64 channels) have one outlier channel of the chosen magnitude
(``tutor_lib.quant.outlier_activations``). Left: the histogram of the ordinary channels' values
with the grid that rounds x[0, c] (an ordinary entry) under the chosen scheme. Right: the relative
error of y = x @ w for all four schemes at these bits. The line below gives the bytes of x stored
that way. Every number comes from :mod:`tutor_lib.quant`; this module only wires and draws.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from tutor_lib import quant
from tutor_lib.plots.quant import plot_grid, plot_scheme_errors
from tutor_lib.widgets._base import (
    clamp_float,
    clamp_int,
    connect,
    guarded,
    image_widget,
    note_html,
    png_bytes,
    slider_style,
)

__all__ = ["QuantizationExplorer", "quantization_explorer", "SCHEME_LABELS"]

# dropdown label → scheme key of tutor_lib.quant.SCHEMES
SCHEME_LABELS = {
    "per tensor (one scale)": "tensor",
    "per token (vector-wise)": "token",
    "per channel (simulated)": "channel",
    "LLM.int8 (outliers in fp16)": "llm.int8",
}
N_TOKENS, N_CHANNELS, D_OUT, THRESHOLD, SPAN = 64, 64, 32, 6.0, 4.5


class QuantizationExplorer(widgets.VBox):
    """Sliders → grid | errors, and a bytes line.

    Current data: ``.x`` (64, 64), ``.outliers`` (outlier column indices), ``.column`` (the
    ordinary channel whose entry x[0, column] the grid belongs to), ``.step`` (its scale),
    ``.levels`` (the grid), ``.errors`` (scheme → relative error of y = xW), ``.output_error`` (the
    chosen scheme's), ``.bytes`` (see :func:`tutor_lib.quant.quantized_bytes`), ``.notes``;
    ``.error`` is the guard's (the exception of a failed redraw, else None). Starting values
    outside the sliders are clamped, with a note.
    """

    def __init__(self, bits: int = 8, scheme: str = "tensor", magnitude: float = 20.0):
        if not isinstance(scheme, str) or scheme not in SCHEME_LABELS.values():
            raise ValueError(
                f"scheme must be one of {list(SCHEME_LABELS.values())}, got {scheme!r}"
            )
        notes: list[str] = []
        bits = clamp_int(bits, "bits", 2, 8, notes)
        magnitude = clamp_float(magnitude, "magnitude", 0.0, 100.0, notes)
        self.pending_notes = notes  # shown under the first drawing
        style = slider_style()
        self.bits = widgets.IntSlider(
            value=bits, min=2, max=8, description="bits", style=style, continuous_update=False
        )
        self.scheme = widgets.Dropdown(
            options=list(SCHEME_LABELS.items()),
            value=scheme,
            description="scheme",
            style=style,
            layout=widgets.Layout(width="360px"),
        )
        self.magnitude = widgets.FloatSlider(
            value=magnitude,
            min=0.0,
            max=100.0,
            step=2.0,
            description="outlier size",
            style=style,
            continuous_update=False,
        )
        self.w = np.random.default_rng(1).standard_normal((N_CHANNELS, D_OUT)) / 8
        self.image = image_widget()
        self.info = widgets.HTML()
        controls = widgets.HBox([widgets.VBox([self.bits, self.magnitude]), self.scheme])
        super().__init__([controls, self.image, self.info])
        connect(self, (self.bits, self.scheme, self.magnitude))
        self._update()

    @guarded
    def _update(self, _change=None) -> None:
        self._compute(self.bits.value, self.scheme.value, float(self.magnitude.value))

    def _compute(self, bits: int, scheme: str, magnitude: float) -> None:
        self.x = quant.outlier_activations(N_TOKENS, N_CHANNELS, magnitude, channels=1, seed=0)
        self.outliers = quant.outlier_columns(self.x, THRESHOLD)
        ordinary = np.setdiff1d(np.arange(N_CHANNELS), self.outliers)
        self.column = int(ordinary[0]) if ordinary.size else 0
        self.step = float(quant.activation_scales(self.x, bits, scheme=scheme)[0, self.column])
        q_max = 2 ** (bits - 1) - 1
        self.levels = self.step * np.arange(-q_max, q_max + 1)  # symmetric grid: scale · q
        exact = self.x @ self.w
        self.errors = {
            s: quant.relative_error(quant.quantized_matmul(self.x, self.w, bits, scheme=s), exact)
            for s in quant.SCHEMES
        }
        self.output_error = self.errors[scheme]
        self.bytes = quant.quantized_bytes(
            N_TOKENS, N_CHANNELS, bits, scheme=scheme, outliers=len(self.outliers)
        )
        self.notes = self._notes(scheme, magnitude)
        self._draw(bits, scheme)

    def _notes(self, scheme: str, magnitude: float) -> list[str]:
        notes = []
        if scheme == "channel":
            notes.append(
                "a scale per channel of x sits inside the sum over channels of y = xW: no integer "
                "kernel can factor it out, so this scheme is simulated in float"
            )
        if scheme == "llm.int8" and not len(self.outliers):
            notes.append(f"no channel reaches |x| ≥ {THRESHOLD:g}: LLM.int8 is plain per token")
        if magnitude == 0:
            notes.append("outlier size 0: no outlier channel at all")
        return notes

    def _draw(self, bits: int, scheme: str) -> None:
        fig = Figure(figsize=(9.6, 3.3), dpi=80)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.17, top=0.88, wspace=0.3)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
        in_view = int(np.sum(np.abs(self.levels) <= SPAN))
        plot_grid(
            np.delete(self.x, self.outliers, axis=1),
            self.levels,
            ax=left,
            span=SPAN,
            title=f"{bits}-bit grid of x[0, {self.column}]: step {self.step:.3g}, "
            f"{in_view} of {self.levels.size} levels in view",
        )
        plot_scheme_errors(
            self.errors, highlight=scheme, ax=right, title=f"{bits} bits: error of y = xW"
        )
        self.image.value = png_bytes(fig)
        b = self.bytes
        fp16 = 2 * N_TOKENS * N_CHANNELS
        self.info.value = note_html(
            f"relative error of y = xW: {self.output_error:.3g} · x stored in {b['total']:,} B = "
            f"{b['values']:,} values + {b['scales']:,} scales + {b['outliers']:,} fp16 outliers "
            f"({b['total'] / fp16:.2f}× fp16's {fp16:,} B) · outlier channels (|x| ≥ "
            f"{THRESHOLD:g}): {len(self.outliers)}",
            warning="; ".join(self.notes) or None,
        )


def quantization_explorer(**kwargs) -> QuantizationExplorer:
    """Build the explorer (keywords set the start: bits, scheme, magnitude)."""
    return QuantizationExplorer(**kwargs)
