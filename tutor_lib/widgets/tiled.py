"""``online_softmax_stepper()``: step through online softmax one key block at a time;
``hbm_traffic_explorer()``: FlashAttention's IO model, traffic vs on-chip memory M.

Left: one query's scores, the current key block highlighted, the running max before (dashed) and
after (solid) the block. Right: the tile grid of a small attention matrix, which tiles have been
visited so far and which are being computed, with the bytes one tile step keeps on chip. The line
below gives the running max, normalizer and partial output before and after rescaling, and at the
last block whether the result equals the full softmax. Out-of-range steps are clamped with a note.

Both route their callbacks through the widget guard (``.error``: the exception of a failed redraw,
else None); starting values outside the sliders are clamped (or the nearest choice is used), with a
note.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from tutor_lib._validate import check_bool
from tutor_lib.attention import softmax
from tutor_lib.costs import KIB, MIB
from tutor_lib.limits import format_bytes
from tutor_lib.plots.tiled import plot_hbm_traffic, plot_online_softmax_step, plot_tile_schedule
from tutor_lib.tiled import (
    flash_block_sizes,
    flash_hbm_accesses,
    online_softmax_states,
    standard_hbm_accesses,
    tile_working_set_bytes,
    tiles_visited,
)
from tutor_lib.widgets._base import (
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

__all__ = [
    "HbmTrafficExplorer",
    "OnlineSoftmaxStepper",
    "hbm_traffic_explorer",
    "online_softmax_stepper",
]

N_KEYS = 16  # keys of the query that is stepped through (and the size of the tile grid)
D_V = 2  # width of the values, so the partial output is a short vector
MAX_SEED = 20
TILE_D = 64  # head dim used for the working-set bytes (fp32)


def _vector(x) -> str:
    return "[" + ", ".join(f"{value:+.3f}" for value in np.atleast_1d(x)) + "]"


class OnlineSoftmaxStepper(widgets.VBox):
    """Block and step sliders → scores with the current block, the tile grid, the running state.

    Current data: ``.scores`` (N_KEYS,), ``.values`` (N_KEYS, D_V), ``.states`` (every step of
    :func:`tutor_lib.tiled.online_softmax_states`), ``.state`` (the current one), ``.visited`` and
    ``.skipped`` (tile grids), ``.working_set`` (bytes), ``.equals_softmax`` (None before the last
    block), ``.notes``; ``.error`` (the guard's).
    """

    def __init__(self, block: int = 4, step: int = 1, seed: int = 0, causal: bool = False):
        notes: list[str] = []
        block = clamp_int(block, "block", 1, N_KEYS, notes)
        step = clamp_int(step, "step", 1, N_KEYS, notes)
        seed = clamp_int(seed, "seed", 0, MAX_SEED, notes)
        causal = check_bool(causal, "causal")
        self.pending_notes = notes  # shown under the first drawing
        style = slider_style()
        self.block_slider = widgets.IntSlider(
            value=block, min=1, max=N_KEYS, description="block", style=style
        )
        self.step_slider = widgets.IntSlider(
            value=step, min=1, max=N_KEYS, description="key block", style=style
        )
        self.seed_slider = widgets.IntSlider(
            value=seed, min=0, max=MAX_SEED, description="seed", style=style
        )
        self.causal_toggle = widgets.Checkbox(value=causal, description="causal tiles")
        self.image = image_widget()
        self.info = widgets.HTML()
        controls = [self.block_slider, self.step_slider, self.seed_slider, self.causal_toggle]
        super().__init__([widgets.HBox([widgets.VBox(controls), self.image]), self.info])
        connect(self, controls)
        self._update()

    def _data(self) -> None:
        rng = np.random.default_rng(self.seed_slider.value)
        # scores of one query with a drifting level, so the running max changes along the row
        self.scores = rng.standard_normal(N_KEYS) * 1.5 + np.linspace(-1.0, 1.0, N_KEYS)
        self.values = rng.standard_normal((N_KEYS, D_V))
        self.states = list(online_softmax_states(self.scores, self.block_slider.value, self.values))

    @guarded
    def _update(self, _change=None) -> None:
        self._data()
        self.notes = []
        steps = len(self.states)
        if self.step_slider.value > steps:
            self.notes.append(
                f"block {self.block_slider.value} gives {steps} key blocks: showing block {steps}"
            )
        step = min(self.step_slider.value, steps)
        self.state = self.states[step - 1]
        block, causal = self.block_slider.value, self.causal_toggle.value
        computed = tiles_visited(N_KEYS, N_KEYS, block, block, causal=causal)
        self.visited = computed & (np.arange(computed.shape[1]) < step)[None, :]
        self.skipped = ~computed
        self.working_set = tile_working_set_bytes(block, block, TILE_D, TILE_D, 4)
        self.equals_softmax = None
        if step == steps:
            exact = softmax(self.scores) @ self.values
            self.equals_softmax = bool(np.allclose(self.state["output"], exact, rtol=0, atol=1e-12))
        self._draw(step, steps)

    def _draw(self, step: int, steps: int) -> None:
        st = self.state
        fig = new_figure(7.6, 2.8)
        left, right = fig.subplots(1, 2, width_ratios=[1.7, 1])
        start, stop = st["block"]
        plot_online_softmax_step(
            self.scores,
            st["block"],
            float(st["max_before"]),
            float(st["max"]),
            ax=left,
            title=f"key block {step} of {steps}: keys {start}–{stop - 1}",
        )
        plot_tile_schedule(
            self.visited,
            step - 1,
            skipped=self.skipped,
            ax=right,
            title=f"{N_KEYS}×{N_KEYS} scores, {self.block_slider.value}×"
            f"{self.block_slider.value} tiles",
        )
        self.image.value = png_bytes(fig)
        lines = [
            f"max m: {float(st['max_before']):+.3f} → {float(st['max']):+.3f} · rescale e^(m−m') = "
            f"{float(st['rescale']):.3f}",
            f"normalizer ℓ: {float(st['normalizer_before']):.3f} × {float(st['rescale']):.3f} + "
            f"this block = {float(st['normalizer']):.3f}",
            f"acc: {_vector(st['acc_before'])} × {float(st['rescale']):.3f} + this block = "
            f"{_vector(st['acc'])} · partial output acc/ℓ = {_vector(st['output'])}",
            f"working set of one tile step (d = {TILE_D}, fp32): {format_bytes(self.working_set)}",
        ]
        if self.equals_softmax is not None:
            lines.append(f"last block: equals softmax: {self.equals_softmax}")
        warning = "; ".join(self.notes) or None
        self.info.value = note_html("<br>".join(lines), warning=warning)


def online_softmax_stepper(**kwargs) -> OnlineSoftmaxStepper:
    """Build the stepper (keyword arguments set the starting values: block, step, seed, causal)."""
    return OnlineSoftmaxStepper(**kwargs)


SRAM_KIB = (16, 32, 64, 100, 128, 192, 256, 512, 1024)  # per streaming multiprocessor / core
LENGTHS = (512, 1024, 2048, 4096, 8192, 16384, 32768)
HEAD_DIMS = (32, 64, 128, 256)
BYTES_PER_VALUE = 2  # fp16/bf16, as on a GPU


def _times(standard: int, flash: int) -> str:
    if flash <= standard:
        return f"{standard / flash:.1f}× less"
    return f"{flash / standard:.1f}× MORE (tiles too small: Q and O are re-read once per key block)"


class HbmTrafficExplorer(widgets.VBox):
    """On-chip memory M, n and d → HBM traffic of standard attention vs FlashAttention.

    Current data: ``.sram`` (numbers), ``.standard`` and ``.flash`` (numbers moved),
    ``.blocks`` = (B_r, B_c), ``.notes``; ``.error`` (the guard's).
    """

    def __init__(self, sram_kib: int = 100, n: int = 4096, d: int = 64):
        notes: list[str] = []
        sram_kib = nearest_choice(sram_kib, "sram_kib", SRAM_KIB, notes)
        n = nearest_choice(n, "n", LENGTHS, notes)
        d = nearest_choice(d, "d", HEAD_DIMS, notes)
        self.pending_notes = notes  # shown under the first drawing
        style = slider_style()
        self.sram_slider = widgets.SelectionSlider(
            options=SRAM_KIB, value=sram_kib, description="SRAM (KiB)", style=style
        )
        self.n_slider = widgets.SelectionSlider(
            options=LENGTHS, value=n, description="length n", style=style
        )
        self.d_slider = widgets.SelectionSlider(
            options=HEAD_DIMS, value=d, description="head dim d", style=style
        )
        self.image = image_widget()
        self.info = widgets.HTML()
        controls = [self.sram_slider, self.n_slider, self.d_slider]
        super().__init__([widgets.HBox([widgets.VBox(controls), self.image]), self.info])
        connect(self, controls)
        self._update()

    @guarded
    def _update(self, _change=None) -> None:
        n, d = self.n_slider.value, self.d_slider.value
        self.notes = []
        self.sram = self.sram_slider.value * KIB // BYTES_PER_VALUE
        if self.sram < 4 * d:
            self.notes.append(f"SRAM smaller than 4·d = {4 * d} numbers: using 4·d")
            self.sram = 4 * d
        self.standard = standard_hbm_accesses(n, d)
        self.flash = flash_hbm_accesses(n, d, self.sram)
        self.blocks = flash_block_sizes(d, self.sram)
        sizes = [max(4 * d, kib * KIB // BYTES_PER_VALUE) for kib in SRAM_KIB]
        fig = new_figure(4.4, 2.9)
        plot_hbm_traffic(
            sizes,
            [self.standard] * len(sizes),
            [flash_hbm_accesses(n, d, m) for m in sizes],
            current=(self.sram, self.flash),
            ax=fig.add_subplot(),
            title=f"n = {n}, d = {d}, fp16",
        )
        self.image.value = png_bytes(fig)
        b_r, b_c = self.blocks
        self.info.value = note_html(
            f"standard: {self.standard * BYTES_PER_VALUE / MIB:,.1f} MiB moved · FlashAttention "
            f"(B_r = {b_r}, B_c = {b_c}, {-(-n // b_c)} passes over Q and O): "
            f"{self.flash * BYTES_PER_VALUE / MIB:,.1f} MiB · {_times(self.standard, self.flash)}",
            warning="; ".join(self.notes) or None,
        )


def hbm_traffic_explorer(**kwargs) -> HbmTrafficExplorer:
    """Build the explorer (keyword arguments set the starting values: sram_kib, n, d)."""
    return HbmTrafficExplorer(**kwargs)
