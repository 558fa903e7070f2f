"""The training-memory explorer (lesson 07): a model, depth, sequence length, batch and recompute
strategy → the bytes of one training step, stacked (weights / gradients / optimizer states /
activations), against one 80 GB GPU.

Current data: ``.shape`` (the preset with the chosen depth), ``.parts`` (bytes by part and
``"total"``, from ``tutor_lib.costs.training_budget``), ``.devices`` (80 GB GPUs the total needs),
``.state_devices`` (GPUs the states alone need), ``.max_batch`` (largest batch on one GPU),
``.note`` (the warning shown, or ""); ``.error`` is the guard's (the exception of a failed
redraw, else None). Starting values outside the sliders are clamped (or the nearest length is
used), with a note.
"""

from __future__ import annotations

import dataclasses
import math

import ipywidgets as widgets

from tutor_lib._validate import check_bool
from tutor_lib.costs import (
    GIB,
    GPU_80GB_BYTES,
    MISTRAL_7B_LIKE,
    OPTIMIZERS,
    RECOMPUTE,
    TRAINING_PARTS,
    max_batch_size,
    param_count,
    training_budget,
)
from tutor_lib.plots.training import plot_training_budget
from tutor_lib.widgets._base import (
    LENGTHS,
    clamp_int,
    connect,
    guarded,
    image_widget,
    length_label,
    length_options,
    nearest_choice,
    new_figure,
    note_html,
    png_bytes,
    slider_style,
)
from tutor_lib.widgets.memory import PRESETS

__all__ = ["TrainingMemoryExplorer", "training_memory_explorer", "PRESETS"]

MAX_DEPTH, MAX_BATCH = 128, 64  # the sliders' ranges
_RECOMPUTE_LABELS = {
    "none": "none (save everything)",
    "selective": "selective (attention core)",
    "full": "full (layer inputs only)",
}


class TrainingMemoryExplorer(widgets.VBox):
    """Controls → one stacked bar of a training step's bytes, the 80 GB line, and a summary line."""

    def __init__(
        self,
        preset: str = MISTRAL_7B_LIKE.name,
        seq_len: int = 4096,
        batch: int = 1,
        recompute: str = "none",
        n_layers: int | None = None,
        optimizer: str = "adam",
        mixed_precision: bool = True,
    ):
        for name, value, choices in (
            ("preset", preset, tuple(PRESETS)),
            ("recompute", recompute, RECOMPUTE),
            ("optimizer", optimizer, OPTIMIZERS),
        ):
            if not isinstance(value, str) or value not in choices:
                raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
        notes: list[str] = []
        seq_len = nearest_choice(seq_len, "seq_len", LENGTHS, notes)
        batch = clamp_int(batch, "batch", 1, MAX_BATCH, notes)
        depth = PRESETS[preset].n_layers if n_layers is None else n_layers
        depth = clamp_int(depth, "n_layers", 1, MAX_DEPTH, notes)
        mixed_precision = check_bool(mixed_precision, "mixed_precision")
        self.pending_notes = notes  # shown under the first drawing
        controls = self._build_controls(
            preset, depth, seq_len, batch, recompute, optimizer, mixed_precision
        )
        self.image, self.info = image_widget(), widgets.HTML()
        super().__init__([widgets.VBox(controls), self.image, self.info])
        self.preset.observe(self._on_preset, names="value")
        connect(self, controls[1:])
        self._update()

    def _build_controls(
        self, preset, depth, seq_len, batch, recompute, optimizer, mixed_precision
    ) -> list[widgets.Widget]:
        """Build the controls from checked start values; return them in display order."""
        style = slider_style()
        self.preset = widgets.Dropdown(
            options=list(PRESETS), value=preset, description="model", style=style
        )
        self.depth_slider = widgets.IntSlider(
            value=depth,
            min=1,
            max=MAX_DEPTH,
            description="depth L",
            style=style,
        )
        self.length_slider = widgets.SelectionSlider(
            options=length_options(),
            value=seq_len,
            description="length s",
            style=style,
        )
        self.batch_slider = widgets.IntSlider(
            value=batch, min=1, max=MAX_BATCH, description="batch b", style=style
        )
        self.recompute = widgets.Dropdown(
            options=[(_RECOMPUTE_LABELS[r], r) for r in RECOMPUTE],
            value=recompute,
            description="recompute",
            style=style,
        )
        self.optimizer = widgets.Dropdown(
            options=list(OPTIMIZERS), value=optimizer, description="optimizer", style=style
        )
        self.mixed = widgets.Checkbox(value=mixed_precision, description="mixed precision (16-bit)")
        return [
            self.preset,
            self.depth_slider,
            self.length_slider,
            self.batch_slider,
            self.recompute,
            self.optimizer,
            self.mixed,
        ]

    @guarded
    def _on_preset(self, _change=None) -> None:
        self._updating = True  # one redraw for the preset and its depth, not two
        try:
            self.depth_slider.value = PRESETS[self.preset.value].n_layers
        finally:
            self._updating = False
        self._redraw()

    @guarded
    def _update(self, _change=None) -> None:
        if not getattr(self, "_updating", False):
            self._redraw()

    def _redraw(self) -> None:
        base = PRESETS[self.preset.value]
        self.shape = dataclasses.replace(base, n_layers=self.depth_slider.value)
        s, b = self.length_slider.value, self.batch_slider.value
        config = {
            "recompute": self.recompute.value,
            "optimizer": self.optimizer.value,
            "mixed_precision": self.mixed.value,
        }
        self.parts = training_budget(self.shape, s, b, **config)
        states = self.parts["total"] - self.parts["activations"]
        self.devices = math.ceil(self.parts["total"] / GPU_80GB_BYTES)
        self.state_devices = math.ceil(states / GPU_80GB_BYTES)
        self.max_batch = max_batch_size(self.shape, s, GPU_80GB_BYTES, **config)
        self.note = ""
        if base.n_positions and s > base.n_positions:
            self.note = (
                f"{base.name} was trained with {base.n_positions} positions: length {s} is "
                "hypothetical (the bytes are still what it would take)"
            )
        self._draw(s, b)

    def _draw(self, s: int, b: int) -> None:
        fig = new_figure(6.4, 2.3)
        label = f"L={self.shape.n_layers}, s={length_label(s)}, b={b}"
        plot_training_budget(
            {label: self.parts},
            ax=fig.add_subplot(),
            limit_bytes=GPU_80GB_BYTES,
            limit_label="one 80 GB GPU",
            title=f"{self.shape.name}: {param_count(self.shape) / 1e9:.2f} B parameters",
        )
        self.image.value = png_bytes(fig)
        gib = {part: self.parts[part] / GIB for part in TRAINING_PARTS}
        text = " | ".join(f"{part} {value:,.1f}" for part, value in gib.items())
        text += (
            f" GiB<br>total {self.parts['total'] / GIB:,.1f} GiB → {self.devices} × 80 GB GPUs "
            f"(states alone: {self.state_devices}); largest batch on one GPU: {self.max_batch}"
        )
        self.info.value = note_html(text, warning=self.note or None)


def training_memory_explorer(**kwargs) -> TrainingMemoryExplorer:
    """Build the explorer (keywords: preset, seq_len, batch, recompute, n_layers, optimizer,
    mixed_precision)."""
    return TrainingMemoryExplorer(**kwargs)
