"""``performer_explorer()``: how many random features does Performer need?

Move m (the number of random features), the seed, and the size of q and k; see the exact softmax
attention weights next to Performer's estimate of them, and where this draw sits on the error-vs-m
curve (the mean over 5 seeds falls like 1/√m). Larger ‖q‖, ‖k‖ make the estimate much noisier: the
variance of the positive features grows like exp(‖q + k‖²/√d).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from tutor_lib import linear
from tutor_lib._validate import check_bool
from tutor_lib.plots.linear import plot_feature_error, plot_weights
from tutor_lib.widgets._base import (
    clamp_int,
    connect,
    guarded,
    image_widget,
    nearest_choice,
    note_html,
    png_bytes,
    slider_style,
)

__all__ = ["PerformerExplorer", "performer_explorer", "FEATURE_COUNTS", "SIGMAS"]

FEATURE_COUNTS = tuple(2**i for i in range(2, 12))  # 4 … 2048
SIGMAS = (0.25, 0.5, 0.75, 1.0)  # q and k entries ~ N(0, σ²)
CURVE_SEEDS = tuple(range(5))
MAX_SEED = 20
N, D = 32, 16  # tokens, head dim of the example


class PerformerExplorer(widgets.VBox):
    """Sliders m, seed, σ and an orthogonal toggle → exact weights | estimated weights | error curve.

    Current data: ``.exact`` and ``.estimate`` (N, N) attention weights, ``.output_error`` (relative
    error of this draw's output), ``.curve`` ((len(FEATURE_COUNTS), 5) errors over seeds),
    ``.controls``; ``.error`` is the guard's (the exception of a failed redraw, else None).
    Starting values off the sliders are moved to the nearest one, with a note.
    """

    def __init__(
        self, num_features: int = 64, seed: int = 0, sigma: float = 0.5, orthogonal: bool = True
    ):
        notes: list[str] = []
        num_features = nearest_choice(num_features, "num_features", FEATURE_COUNTS, notes)
        seed = clamp_int(seed, "seed", 0, MAX_SEED, notes)
        sigma = nearest_choice(sigma, "sigma", SIGMAS, notes)
        orthogonal = check_bool(orthogonal, "orthogonal")
        self.pending_notes = notes  # shown under the first drawing
        style = slider_style()
        self.controls = {
            "num_features": widgets.SelectionSlider(
                options=FEATURE_COUNTS,
                value=num_features,
                description="features m",
                style=style,
                continuous_update=False,
            ),
            "seed": widgets.IntSlider(
                value=seed,
                min=0,
                max=MAX_SEED,
                description="seed",
                style=style,
                continuous_update=False,
            ),
            "sigma": widgets.SelectionSlider(
                options=SIGMAS,
                value=sigma,
                description="σ of q, k",
                style=style,
                continuous_update=False,
            ),
            "orthogonal": widgets.Checkbox(value=orthogonal, description="orthogonal features"),
        }
        self.image = image_widget()
        self.info = widgets.HTML()
        self._curves: dict[tuple, np.ndarray] = {}
        super().__init__([widgets.VBox(list(self.controls.values())), self.image, self.info])
        connect(self, self.controls.values())
        self._update()

    def _inputs(self, sigma: float):
        g = torch.Generator().manual_seed(0)
        q, k, v = (torch.randn(N, D, generator=g, dtype=torch.float64) for _ in range(3))
        return q * sigma, k * sigma, v

    def _curve(self, sigma: float, orthogonal: bool) -> np.ndarray:
        key = (sigma, orthogonal)
        if key not in self._curves:  # 10 m × 5 seeds, cached per (σ, orthogonal)
            q, k, v = self._inputs(sigma)
            self._curves[key] = np.stack(
                [
                    linear.performer_error(
                        q, k, v, num_features=m, seeds=CURVE_SEEDS, orthogonal=orthogonal
                    )
                    for m in FEATURE_COUNTS
                ]
            )
        return self._curves[key]

    @guarded
    def _update(self, _change=None) -> None:
        p = {name: control.value for name, control in self.controls.items()}
        m, seed, sigma, orthogonal = p["num_features"], p["seed"], p["sigma"], p["orthogonal"]
        q, k, v = self._inputs(sigma)
        eye = torch.eye(N, dtype=torch.float64)  # attention applied to V = I gives its weights
        self.exact = F.scaled_dot_product_attention(q, k, eye).numpy()
        self.estimate = linear.performer_attention(
            q, k, eye, num_features=m, seed=seed, orthogonal=orthogonal
        ).numpy()
        self.output_error = float(
            linear.performer_error(q, k, v, num_features=m, seeds=[seed], orthogonal=orthogonal)[0]
        )
        self.curve = self._curve(sigma, orthogonal)
        self._draw(m, seed, sigma, orthogonal)

    def _draw(self, m: int, seed: int, sigma: float, orthogonal: bool) -> None:
        fig = Figure(figsize=(10.2, 3.3), dpi=80)
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.15, top=0.9, wspace=0.3)
        axes = fig.subplots(1, 3)
        top = float(max(self.exact.max(), self.estimate.max()))
        plot_weights(self.exact, ax=axes[0], vmax=top, title="exact softmax weights")
        plot_weights(self.estimate, ax=axes[1], vmax=top, title=f"Performer, m = {m}")
        plot_feature_error(
            FEATURE_COUNTS,
            self.curve,
            ax=axes[2],
            highlight=(m, self.output_error),
            title=f"σ = {sigma}",
        )
        self.image.value = png_bytes(fig)
        mean = float(self.curve[FEATURE_COUNTS.index(m)].mean())
        self.info.value = note_html(
            f"m = {m} {'orthogonal' if orthogonal else 'i.i.d.'} features, seed {seed}: relative "
            f"error of the output {self.output_error:.3f} (mean over 5 seeds {mean:.3f}) · largest "
            f"weight error {np.abs(self.estimate - self.exact).max():.3f} · 4× the features ≈ half "
            "the error (1/√m)",
            warning=(
                "σ ≥ 0.75: the positive features' variance grows like exp(‖q + k‖²/√d): "
                "many more features are needed"
                if sigma >= 0.75
                else None
            ),
        )


def performer_explorer(**kwargs) -> PerformerExplorer:
    """Build the explorer (keywords set the start: num_features, seed, sigma, orthogonal)."""
    return PerformerExplorer(**kwargs)
