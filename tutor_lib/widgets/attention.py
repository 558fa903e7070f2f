"""``attention_explorer()``: how length, d_k, the scale and causality shape the attention
probabilities (the softmax output, which the library calls ``weights``)."""

from __future__ import annotations

import ipywidgets as widgets

from tutor_lib._validate import check_bool
from tutor_lib.attention import causal_mask, random_attention_weights, row_stats
from tutor_lib.plots.attention import plot_attention
from tutor_lib.widgets._base import (
    clamp_float,
    clamp_int,
    connect,
    guarded,
    image_widget,
    nearest_choice,
    new_figure,
    note_html,
    png_bytes,
    slider_style,
)

__all__ = ["AttentionExplorer", "attention_explorer"]

D_K_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class AttentionExplorer(widgets.VBox):
    """Sliders → random q, k → heatmap of the attention probabilities + entropy line.

    The "inverse temperature β" slider is the ``multiplier`` of
    :func:`tutor_lib.attention.random_attention_weights`: scores = β · q·k (/√d_k); β > 1 sharpens
    the softmax, β < 1 flattens it (a temperature T is β = 1/T).

    Current data: ``.scores`` and ``.weights`` (n, n) and ``.stats``
    (see :func:`tutor_lib.attention.row_stats`). Starting values outside the sliders are clamped
    (or the nearest d_k is used) with a note.
    """

    def __init__(
        self,
        n: int = 8,
        d_k: int = 64,
        multiplier: float = 1.0,
        causal: bool = False,
        seed: int = 0,
    ):
        notes: list[str] = []
        n = clamp_int(n, "n", 1, 24, notes)
        d_k = nearest_choice(d_k, "d_k", D_K_CHOICES, notes)
        multiplier = clamp_float(multiplier, "multiplier", 2**-4, 2**4, notes)
        causal = check_bool(causal, "causal")
        seed = clamp_int(seed, "seed", 0, 20, notes)
        self.pending_notes = notes  # shown under the first drawing
        style = slider_style()
        self.n_slider = widgets.IntSlider(
            value=n, min=1, max=24, description="length n", style=style
        )
        self.d_k_slider = widgets.SelectionSlider(
            options=D_K_CHOICES, value=d_k, description="d_k", style=style
        )
        self.multiplier_slider = widgets.FloatLogSlider(
            value=multiplier,
            base=2,
            min=-4,
            max=4,
            step=0.5,
            description="inverse temp. β",
            style=style,
        )
        self.sqrt_toggle = widgets.Checkbox(value=True, description="divide by √d_k")
        self.causal_toggle = widgets.Checkbox(value=causal, description="causal")
        self.seed_slider = widgets.IntSlider(
            value=seed, min=0, max=20, description="seed", style=style
        )
        self.image = image_widget()
        self.info = widgets.HTML()
        controls = [
            self.n_slider,
            self.d_k_slider,
            self.multiplier_slider,
            self.seed_slider,
            widgets.HBox([self.sqrt_toggle, self.causal_toggle]),
        ]
        super().__init__([widgets.HBox([widgets.VBox(controls), self.image]), self.info])
        connect(self, (*controls[:4], self.sqrt_toggle, self.causal_toggle))
        self._update()

    @guarded
    def _update(self, _change=None) -> None:
        d_k = self.d_k_slider.value
        self.scores, self.weights = random_attention_weights(
            self.n_slider.value,
            d_k,
            multiplier=self.multiplier_slider.value,
            sqrt_scaling=self.sqrt_toggle.value,
            causal=self.causal_toggle.value,
            seed=self.seed_slider.value,
        )
        allowed = causal_mask(self.n_slider.value) if self.causal_toggle.value else None
        self.stats = row_stats(self.weights, allowed)
        fig = new_figure(3.6, 3.1)
        scale = "/√d_k" if self.sqrt_toggle.value else ""
        title = f"d_k={d_k}, scores = {self.multiplier_slider.value:g}·q·k{scale}"
        plot_attention(
            self.weights, mask=allowed, ax=fig.add_subplot(), title=title, annotate=False
        )
        self.image.value = png_bytes(fig)
        n = self.n_slider.value
        visible = self.scores[causal_mask(n)] if self.causal_toggle.value else self.scores
        self.info.value = note_html(
            f"std of scaled scores {visible.std():.2f} · mean row entropy "
            f"{self.stats['entropy_bits']:.2f} of {self.stats['max_entropy_bits']:.2f} bits possible"
            f" · mean largest probability {self.stats['max_weight']:.2f}"
        )


def attention_explorer(**kwargs) -> AttentionExplorer:
    """Build the explorer (keyword arguments set the starting values: n, d_k, multiplier, causal, seed)."""
    return AttentionExplorer(**kwargs)
