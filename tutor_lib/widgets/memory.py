"""Memory explorers: where a model's bytes go (lesson 00) and what attention stores (lesson 03).

* ``memory_explorer()``: a preset model + context length, batch, bytes per value and KV heads →
  weights, KV cache and one layer's attention scores, in GiB, with the formula behind each dot.
* ``attention_memory_explorer()``: n, heads, layers, batch → one layer's scores at inference vs what
  training keeps for backward, with and without a fused (FlashAttention-style) kernel.

Current data: ``.values`` (label → bytes) and ``.formulas`` (label → formula, numbers filled in).
"""

from __future__ import annotations

import dataclasses

import ipywidgets as widgets

from tutor_lib._validate import check_int
from tutor_lib.costs import (
    ATTENTION_MEMORY_PARTS,
    GIB,
    GPT2_SMALL,
    GPT3_175B,
    GPU_80GB_BYTES,
    MEMORY_PARTS,
    MISTRAL_7B_LIKE,
    ModelShape,
    attention_training_bytes,
    memory_breakdown,
    param_count,
)
from tutor_lib.plots.costs import plot_memory_bars
from tutor_lib.widgets._base import (
    LENGTHS,
    clamp_int,
    connect,
    guarded,
    image_widget,
    length_options,
    nearest_choice,
    new_figure,
    note_html,
    png_bytes,
    slider_style,
)

__all__ = [
    "MemoryExplorer",
    "memory_explorer",
    "memory_formulas",
    "AttentionMemoryExplorer",
    "attention_memory_explorer",
    "attention_memory_formulas",
    "PRESETS",
    "BYTES_PER_VALUE",
]

PRESETS = {s.name: s for s in (GPT3_175B, MISTRAL_7B_LIKE, GPT2_SMALL)}
BYTES_PER_VALUE = (("fp32", 4), ("fp16", 2), ("int8", 1), ("int4", 0.5))
_HEADS = (1, 2, 4, 8, 16, 32, 64)


def memory_formulas(
    shape: ModelShape, context: int, *, batch: int = 1, bytes_per_value: float = 2
) -> dict[str, str]:
    """The formula behind each dot of :func:`tutor_lib.costs.memory_breakdown`, numbers filled in."""
    memory_breakdown(shape, context, batch=batch, bytes_per_value=bytes_per_value)  # checks them
    b, s = bytes_per_value, shape
    weights, kv_cache, scores = MEMORY_PARTS
    return {
        weights: f"N·bytes = {param_count(s):,} × {b:g}",
        kv_cache: f"2·L·n_kv·d_h·n·bytes·batch = 2·{s.n_layers}·{s.kv_heads}·{s.d_head}·{context}"
        f"·{b:g}·{batch}",
        scores: f"batch·h·n²·bytes = {batch}·{s.n_heads}·{context}²·{b:g}",
    }


def _formula_table(values: dict[str, int], formulas: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td><b>{k}</b></td><td style='text-align:right'>{values[k] / GIB:,.3f} GiB"
        f"</td><td style='font-family:monospace'>{formulas[k]}</td></tr>"
        for k in values
    )
    return f"<table>{rows}</table>"


# Fixed GiB axes: a dot moves along the same scale when a slider moves (tests check that every
# setting of the sliders fits).
MEMORY_XLIM = (1e-4, 1e7)
ATTENTION_MEMORY_XLIM = (1e-4, 1e9)
GPU_LABEL = f"one 80 GB GPU = {GPU_80GB_BYTES / GIB:.0f} GiB"


def _dots_png(values: dict[str, int], title: str, *, height: float, xlim) -> bytes:
    """The GiB dot plot both explorers draw, with one 80 GB GPU marked, as PNG bytes."""
    fig = new_figure(6.0, height)
    plot_memory_bars(
        values,
        ax=fig.add_subplot(),
        limit_gib=GPU_80GB_BYTES / GIB,
        limit_label=GPU_LABEL,
        title=title,
        xlim=xlim,
    )
    return png_bytes(fig)


def _divisors(n: int) -> list[int]:
    return [k for k in range(1, n + 1) if n % k == 0]


class MemoryExplorer(widgets.VBox):
    """Preset + sliders → dots (GiB, fixed log axis) of weights, KV cache and one layer's scores,
    with formulas.

    Current data: ``.shape`` (the ModelShape with the chosen KV heads), ``.values`` (bytes),
    ``.formulas``, ``.note`` (the warning shown, or "").
    """

    def __init__(
        self,
        preset: str = MISTRAL_7B_LIKE.name,
        context: int = 32768,
        batch: int = 1,
        bytes_per_value: float = 2,
    ):
        if not isinstance(preset, str) or preset not in PRESETS:
            raise ValueError(f"preset must be one of {list(PRESETS)}, got {preset!r}")
        notes: list[str] = []
        context = nearest_choice(context, "context", LENGTHS, notes)
        batch = clamp_int(batch, "batch", 1, 64, notes)
        bytes_per_value = nearest_choice(
            bytes_per_value, "bytes_per_value", [b for _, b in BYTES_PER_VALUE], notes
        )
        self.pending_notes = notes  # shown under the first drawing
        style = slider_style()
        self.preset = widgets.Dropdown(
            options=list(PRESETS), value=preset, description="model", style=style
        )
        self.context_slider = widgets.SelectionSlider(
            options=length_options(),
            value=context,
            description="context n",
            style=style,
        )
        self.batch_slider = widgets.IntSlider(
            value=batch, min=1, max=64, description="batch", style=style
        )
        self.bytes_slider = widgets.SelectionSlider(
            options=BYTES_PER_VALUE, value=bytes_per_value, description="bytes/value", style=style
        )
        self.kv_slider = widgets.SelectionSlider(
            options=[1], value=1, description="KV heads", style=style
        )
        self.image, self.info = image_widget(), widgets.HTML()
        controls = [
            self.preset,
            self.context_slider,
            self.batch_slider,
            self.bytes_slider,
            self.kv_slider,
        ]
        super().__init__([widgets.VBox(controls), self.image, self.info])
        self._set_kv_options()
        self.preset.observe(self._on_preset, names="value")
        connect(self, controls[1:])
        self._update()

    def _set_kv_options(self) -> None:
        shape = PRESETS[self.preset.value]
        self._updating = True  # one redraw for the option change, not two
        self.kv_slider.options = _divisors(shape.n_heads)
        self.kv_slider.value = shape.kv_heads
        self._updating = False

    @guarded
    def _on_preset(self, _change=None) -> None:
        self._set_kv_options()
        self._update()

    @guarded
    def _update(self, _change=None) -> None:
        if getattr(self, "_updating", False):
            return
        base = PRESETS[self.preset.value]
        n, kv = self.context_slider.value, self.kv_slider.value
        self.shape = dataclasses.replace(base, n_kv_heads=kv)
        batch, bpv = self.batch_slider.value, self.bytes_slider.value
        self.values = memory_breakdown(self.shape, n, batch=batch, bytes_per_value=bpv)
        self.formulas = memory_formulas(self.shape, n, batch=batch, bytes_per_value=bpv)
        self.note = ""
        if base.n_positions and n > base.n_positions:
            self.note = (
                f"{base.name} has {base.n_positions} learned positions: a context of {n} "
                f"is hypothetical (the bytes are still what it would take)"
            )
        self.image.value = _dots_png(
            self.values,
            f"{base.name}, n = {n:,}, KV heads {kv} of {base.n_heads}",
            height=2.0,
            xlim=MEMORY_XLIM,
        )
        self.info.value = _formula_table(self.values, self.formulas)
        if self.note:
            self.info.value += note_html("", warning=self.note)


def memory_explorer(**kwargs) -> MemoryExplorer:
    """Build the explorer (keywords: preset, context, batch, bytes_per_value)."""
    return MemoryExplorer(**kwargs)


def attention_memory_formulas(
    n: int, *, d_model: int, n_heads: int, n_layers: int, batch: int = 1, bytes_per_value: float = 4
) -> dict[str, str]:
    """The formula behind each dot of :func:`tutor_lib.costs.attention_training_bytes`."""
    attention_training_bytes(  # checks the arguments
        n,
        d_model=d_model,
        n_heads=n_heads,
        n_layers=n_layers,
        batch=batch,
        bytes_per_value=bytes_per_value,
    )
    b, h, d, L, bpv = batch, n_heads, d_model, n_layers, bytes_per_value
    inference, dense, fused = ATTENTION_MEMORY_PARTS
    return {
        inference: f"b·h·n²·bytes = {b}·{h}·{n}²·{bpv:g}",
        dense: f"L·(b·h·n² + 3·b·n·d)·bytes = {L}·({b}·{h}·{n}² + 3·{b}·{n}·{d})·{bpv:g}",
        fused: f"L·(4·b·n·d + b·h·n)·bytes = {L}·(4·{b}·{n}·{d} + {b}·{h}·{n})·{bpv:g}",
    }


class AttentionMemoryExplorer(widgets.VBox):
    """Sliders n, heads, layers, batch → attention memory at inference vs training (dense / fused).

    Current data: ``.values`` (bytes), ``.formulas``.
    """

    def __init__(
        self,
        n: int = 4096,
        d_model: int = 4096,
        n_heads: int = 32,
        n_layers: int = 32,
        batch: int = 1,
    ):
        notes: list[str] = []
        n = nearest_choice(n, "n", LENGTHS, notes)
        d_model = check_int(d_model, "d_model", minimum=1)
        n_heads = nearest_choice(n_heads, "n_heads", _HEADS, notes)
        n_layers = clamp_int(n_layers, "n_layers", 1, 96, notes)
        batch = clamp_int(batch, "batch", 1, 32, notes)
        self.pending_notes = notes  # shown under the first drawing
        style = slider_style()
        self.n_slider = widgets.SelectionSlider(
            options=length_options(), value=n, description="length n", style=style
        )
        self.heads_slider = widgets.SelectionSlider(
            options=_HEADS, value=n_heads, description="heads h", style=style
        )
        self.layers_slider = widgets.IntSlider(
            value=n_layers, min=1, max=96, description="layers L", style=style
        )
        self.batch_slider = widgets.IntSlider(
            value=batch, min=1, max=32, description="batch", style=style
        )
        self.d_model = d_model
        self.image, self.info = image_widget(), widgets.HTML()
        controls = [self.n_slider, self.heads_slider, self.layers_slider, self.batch_slider]
        super().__init__([widgets.VBox(controls), self.image, self.info])
        connect(self, controls)
        self._update()

    @guarded
    def _update(self, _change=None) -> None:
        n = self.n_slider.value
        config = {
            "d_model": self.d_model,
            "n_heads": self.heads_slider.value,
            "n_layers": self.layers_slider.value,
            "batch": self.batch_slider.value,
        }
        self.values = attention_training_bytes(n, **config)
        self.formulas = attention_memory_formulas(n, **config)
        self.image.value = _dots_png(
            self.values,
            f"fp32, d = {self.d_model}, n = {n:,}",
            height=1.9,
            xlim=ATTENTION_MEMORY_XLIM,
        )
        self.info.value = _formula_table(self.values, self.formulas)


def attention_memory_explorer(**kwargs) -> AttentionMemoryExplorer:
    """Build the explorer (keywords: n, d_model, n_heads, n_layers, batch)."""
    return AttentionMemoryExplorer(**kwargs)
