"""``flop_share_explorer()`` (lesson 02): where a layer's FLOPs go as n, d and the FFN width change."""

from __future__ import annotations

import ipywidgets as widgets

from tutor_lib.costs import crossover_length, layer_flops
from tutor_lib.plots.costs import plot_flop_shares
from tutor_lib.widgets._base import (
    connect,
    guarded,
    image_widget,
    nearest_choice,
    new_figure,
    note_html,
    png_bytes,
    slider_style,
)

__all__ = ["FlopShareExplorer", "flop_share_explorer", "D_MODEL_CHOICES", "N_CHOICES"]

D_MODEL_CHOICES = (64, 128, 256, 512, 768, 1024, 2048, 4096, 8192, 12288)
N_CHOICES = tuple(2**k for k in range(6, 20))  # 64 … 524288
FFN_RATIOS = (1.0, 2.0, 8 / 3, 4.0, 8.0)


class FlopShareExplorer(widgets.VBox):
    """Sliders d_model, m/d and n → FLOP shares vs n with the crossover marked, and the shares at n.

    Current data: ``.flops`` (dict of :func:`tutor_lib.costs.layer_flops` at the chosen n),
    ``.crossover`` (2d + m) and ``.d_ff``.
    """

    def __init__(self, d_model: int = 768, ffn_ratio: float = 4.0, n: int = 1024):
        notes: list[str] = []
        d_model = nearest_choice(d_model, "d_model", D_MODEL_CHOICES, notes)
        ffn_ratio = nearest_choice(ffn_ratio, "ffn_ratio", FFN_RATIOS, notes)
        n = nearest_choice(n, "n", N_CHOICES, notes)
        self.pending_notes = notes  # shown under the first drawing
        style = slider_style()
        self.d_slider = widgets.SelectionSlider(
            options=D_MODEL_CHOICES, value=d_model, description="d_model", style=style
        )
        self.ratio_slider = widgets.SelectionSlider(
            options=[(f"{r:.3g}", r) for r in FFN_RATIOS],
            value=ffn_ratio,
            description="m / d_model",
            style=style,
        )
        self.n_slider = widgets.SelectionSlider(
            options=N_CHOICES, value=n, description="length n", style=style
        )
        self.image, self.info = image_widget(), widgets.HTML()
        controls = [self.d_slider, self.ratio_slider, self.n_slider]
        super().__init__([widgets.HBox([widgets.VBox(controls), self.image]), self.info])
        connect(self, controls)
        self._update()

    @guarded
    def _update(self, _change=None) -> None:
        d, n = self.d_slider.value, self.n_slider.value
        self.d_ff = round(self.ratio_slider.value * d)
        self.crossover = crossover_length(d, self.d_ff)
        self.flops = layer_flops(n, d, self.d_ff)
        fig = new_figure(4.6, 2.9)
        plot_flop_shares(d, self.d_ff, n_marker=n, ax=fig.add_subplot())
        self.image.value = png_bytes(fig)
        share = {
            k: 100 * self.flops[k] / self.flops["total"] for k in ("scores", "projections", "ffn")
        }
        self.info.value = note_html(
            f"n = {n:,}: scores {share['scores']:.1f} % · "
            f"projections {share['projections']:.1f} % · "
            f"FFN {share['ffn']:.1f} % of {self.flops['total']:.3g} FLOPs · "
            f"crossover n = 2d + m = {self.crossover:,}"
        )


def flop_share_explorer(**kwargs) -> FlopShareExplorer:
    """Build the explorer (keywords: d_model, ffn_ratio, n)."""
    return FlopShareExplorer(**kwargs)
