"""``mask_explorer()``: sparse attention patterns, their receptive field, and the tiles a kernel skips.

Pick a pattern, move its sliders (only the ones that matter for it are shown) and see side by side
the token mask, the receptive field after L layers, and the tile mask; one line below gives the
density, keys per query, tile sparsity and the share of score FLOPs a tile-skipping kernel saves.
Values that make no sense together (more global tokens than tokens, a summary wider than the
stride…) are clamped and a note says so: the explorer never raises.
The control values → mask step is :mod:`tutor_lib.widgets.mask_patterns`.
"""

from __future__ import annotations

import contextlib

import ipywidgets as widgets
from matplotlib.figure import Figure

from tutor_lib import masks
from tutor_lib.plots.attention import plot_mask
from tutor_lib.plots.masks import plot_tiles
from tutor_lib.widgets._base import (
    clamp_int,
    connect,
    guarded,
    image_widget,
    note_html,
    png_bytes,
    slider_style,
)
from tutor_lib.widgets.mask_patterns import (
    PART_CONTROLS,
    PATTERNS,
    VISIBLE,
    clamp_param,
    pattern_mask,
    pattern_summary,
)

__all__ = ["MaskExplorer", "mask_explorer", "pattern_mask", "PATTERNS", "VISIBLE"]

ABOUT = {
    "local": "Longformer (Beltagy et al. 2020): key j allowed iff −left ≤ j − i ≤ right; "
    "left = right = w/2 gives w + 1 keys (w = 512 in longformer-base-4096).",
    "causal": "Mistral 7B (Jiang et al. 2023): positions i − W … i, i.e. left = W, right = 0 "
    "(W + 1 keys; W = 4096). Code written as q − k < W means left = W − 1.",
    "dilated": "Longformer's dilated window: offsets that are multiples of the dilation, "
    "same number of keys, dilation × the reach.",
    "block": "Local attention in independent chunks (Liu et al. 2018, 256 tokens): "
    "a block-diagonal mask. Tokens never see across a chunk boundary in one layer.",
    "strided": "Sparse Transformer (Child et al. 2019) head 2: (i − j) mod stride = 0. "
    "Stripes, not a band: the band is the local head.",
    "fixed": "Sparse Transformer 'fixed': the same block of stride tokens, plus the last "
    "'summary' tokens of every block, which all later queries read.",
    "longformer": "Longformer: sliding window plus global tokens (e.g. [CLS], the question) "
    "whose rows and columns are full.",
    "bigbird": "BigBird (Zaheer et al. 2020) as implemented, in blocks of 'block' tokens: each "
    "query block sees its own and the two neighbouring key blocks, the global tokens and "
    "'random blocks' random key blocks (Hugging Face defaults: blocks of 64, 3 random blocks). "
    "Random single keys: tick 'random' in 'combine'.",
    "combine": "Union (|) of the ticked parts, optionally restricted to the past (& causal). "
    "Window + strided is the Sparse Transformer's merged head.",
}


class MaskExplorer(widgets.VBox):
    """Pattern dropdown + sliders → token mask | receptive field | tile mask, and a stats line.

    Current data: ``.mask`` (n, n), ``.receptive`` (n, n), ``.tiles`` (tile grid), ``.stats``
    (see :func:`tutor_lib.masks.mask_stats`), ``.notes`` (clamping notes) and ``.controls`` (name → widget).
    """

    def __init__(self, pattern: str = "local", n: int = 64, layers: int = 2, tile: int = 16):
        if not isinstance(pattern, str) or pattern not in VISIBLE:
            raise ValueError(f"pattern must be one of {sorted(VISIBLE)}, got {pattern!r}")
        self.pending_notes: list[str] = []  # notes about clamped starting values, shown once
        n = clamp_int(n, "n", 8, 128, self.pending_notes)
        layers = clamp_int(layers, "layers", 1, 8, self.pending_notes)
        tile = clamp_int(tile, "tile", 2, 64, self.pending_notes)
        style = slider_style()

        def slider(name, value, lo, hi, label=None):
            return widgets.IntSlider(
                value=value,
                min=lo,
                max=hi,
                description=label or name,
                style=style,
                continuous_update=False,  # redraw on release: no queue of stale frames
            )

        self.pattern = widgets.Dropdown(
            options=list(PATTERNS.items()),
            value=pattern,
            description="pattern",
            style=style,
            layout=widgets.Layout(width="420px"),
        )
        self.controls = {
            "n": slider("n", n, 8, 128, "length n"),
            "layers": slider("layers", layers, 1, 8),
            "tile": slider("tile", tile, 2, 64, "tile size"),
            "left": slider("left", 4, 0, 64),
            "right": slider("right", 4, 0, 64),
            "dilation": slider("dilation", 2, 1, 8),
            "block": slider("block", 16, 1, 64),
            "stride": slider("stride", 8, 1, 32),
            "summary": slider("summary", 2, 1, 8),
            "global_tokens": slider("global_tokens", 2, 0, 16, "global tokens"),
            "num_random": slider("num_random", 3, 0, 16, "random keys"),
            "random_blocks": slider("random_blocks", 1, 0, 8, "random blocks"),
            "seed": slider("seed", 0, 0, 20),
            "causal": widgets.Checkbox(value=True, description="causal (j ≤ i)"),
            "use_window": widgets.Checkbox(value=True, description="window"),
            "use_strided": widgets.Checkbox(value=True, description="strided"),
            "use_global": widgets.Checkbox(value=False, description="global"),
            "use_random": widgets.Checkbox(value=False, description="random"),
        }
        self.about = widgets.HTML()
        self.image = image_widget()
        self.info = widgets.HTML()
        names = list(self.controls)
        columns = widgets.HBox(
            [
                widgets.VBox([self.controls[k] for k in names[:9]]),
                widgets.VBox([self.controls[k] for k in names[9:]]),
            ]
        )
        super().__init__([self.pattern, self.about, columns, self.image, self.info])
        connect(self, [self.pattern, *self.controls.values()])
        self._update()

    @contextlib.contextmanager
    def hold(self):
        """Set several controls at once and redraw once at the end: ``with explorer.hold(): ...``."""
        self._held = True
        try:
            yield self
        finally:
            self._held = False
            self._update()

    def visible_controls(self) -> list[str]:
        """Names of the controls shown for the current pattern (and ticked parts in 'combine')."""
        pattern = self.pattern.value
        shown = ["n", "layers", "tile", *VISIBLE[pattern]]
        if pattern == "combine":
            for part, extra in PART_CONTROLS.items():
                if self.controls[part].value:
                    shown += extra
            if self.controls["causal"].value and "right" in shown:
                shown.remove("right")  # & causal cuts the window's future side: right has no effect
        return shown

    @guarded
    def _update(self, _change=None) -> None:
        if getattr(self, "_held", False):
            return
        shown = set(self.visible_controls())
        for name, control in self.controls.items():
            control.layout.display = None if name in shown else "none"
        pattern = self.pattern.value
        self.about.value = f"<i>{ABOUT[pattern]}</i>"
        params = {name: control.value for name, control in self.controls.items()}
        self._compute(pattern, params)

    def _compute(self, pattern: str, params: dict) -> None:
        n = params["n"]
        self.mask, self.notes = pattern_mask(pattern, params)
        tile = clamp_param(params, "tile", n, self.notes, "n")
        self.receptive = masks.receptive_field(self.mask, params["layers"])
        self.tiles = masks.tile_mask(self.mask, tile)
        self.stats = s = masks.mask_stats(self.mask, self.receptive, tile)
        fig = Figure(
            figsize=(9.6, 3.3), dpi=80
        )  # fixed margins: constrained layout doubles the cost
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.91, wspace=0.28)
        axes = fig.subplots(1, 3)
        plot_mask(self.mask, ax=axes[0], title=f"token mask ({s['density']:.0%} of pairs)")
        plot_mask(self.receptive, ax=axes[1], title=f"receptive field, {params['layers']} layer(s)")
        plot_tiles(
            self.mask,
            tile,
            ax=axes[2],
            title=f"{tile}×{tile} tiles: {int(self.tiles.sum())}/{self.tiles.size} computed",
        )
        self.image.value = png_bytes(fig)
        self.info.value = note_html(
            pattern_summary(pattern, params)
            + f"density {s['density']:.3f} · keys per query {s['keys_mean']:.1f} "
            f"(min {s['keys_min']}, max {s['keys_max']}) · after {params['layers']} layer(s) "
            f"{s['coverage']:.0%} of pairs connected, reach {s['reach_back']} tokens back · "
            f"tile sparsity {s['tile_sparsity']:.0%} · a tile-skipping kernel saves "
            f"{s['flops_saved']:.0%} of score FLOPs<br>tiles: white = skipped, orange = computed "
            "but masked (wasted), blue = allowed",
            warning="; ".join(self.notes) or None,
        )


def mask_explorer(**kwargs) -> MaskExplorer:
    """Build the explorer (keywords set the start: pattern, n, layers, tile)."""
    return MaskExplorer(**kwargs)
