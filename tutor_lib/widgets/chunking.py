"""``chunking_explorer()``: chunk size, overlap, global tokens and memory → the effective mask and
which far tokens a query can reach through L layers.

Left: the one-layer mask (:func:`tutor_lib.chunking.chunking_mask`). Middle: the receptive field
after L layers (:func:`tutor_lib.masks.receptive_field`). Right: for one query, the keys that reach
it after 1, 2, … L layers. The line below gives keys per query, how far back the query reaches at
each depth, and what share of the sequence it can use. Values that make no sense together (a
query past the end, more global tokens than tokens) are clamped with a note.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from tutor_lib import masks
from tutor_lib.chunking import chunking_mask
from tutor_lib.plots.attention import plot_mask
from tutor_lib.plots.chunking import plot_query_reach
from tutor_lib.widgets._base import (
    clamp_int,
    connect,
    guarded,
    image_widget,
    new_figure,
    note_html,
    png_bytes,
    slider_style,
)

__all__ = ["ChunkingExplorer", "chunking_explorer"]

# name → (label, min, max); the builder's keywords clamp into these ranges
RANGES = {
    "n": ("length n", 8, 128),
    "chunk": ("chunk", 1, 64),
    "overlap": ("overlap", 0, 32),
    "global_tokens": ("global tokens", 0, 16),
    "memory": ("memory (TXL)", 0, 64),
    "layers": ("layers", 1, 6),
    "query": ("query", 0, 127),
}


class ChunkingExplorer(widgets.VBox):
    """Sliders (n, chunk, overlap, global tokens, memory, layers, query) and a causal box → mask |
    receptive field | the query's reach per layer, and a stats line.

    Current data: ``.mask`` (n, n), ``.receptive`` (n, n) after ``layers`` layers, ``.query_reach``
    (layers, n), ``.stats`` (dict), ``.notes``, ``.error`` and ``.controls`` (name → widget).
    """

    def __init__(
        self,
        n: int = 64,
        chunk: int = 16,
        overlap: int = 0,
        global_tokens: int = 0,
        memory: int = 0,
        layers: int = 2,
        query: int = 63,
        causal: bool = True,
    ):
        self.pending_notes: list[str] = []
        start = dict(n=n, chunk=chunk, overlap=overlap, global_tokens=global_tokens)
        start.update(memory=memory, layers=layers, query=query)
        style = slider_style()
        self.controls = {}
        for name, (label, low, high) in RANGES.items():
            value = clamp_int(start[name], name, low, high, self.pending_notes)
            self.controls[name] = widgets.IntSlider(
                value=value,
                min=low,
                max=high,
                description=label,
                style=style,
                continuous_update=False,
            )
        if not isinstance(causal, bool):
            raise TypeError(f"causal must be True or False, got {causal!r}")
        self.controls["causal"] = widgets.Checkbox(value=causal, description="causal (j ≤ i)")
        self.image = image_widget()
        self.info = widgets.HTML()
        names = list(self.controls)
        columns = widgets.HBox(
            [
                widgets.VBox([self.controls[k] for k in names[:4]]),
                widgets.VBox([self.controls[k] for k in names[4:]]),
            ]
        )
        super().__init__([columns, self.image, self.info])
        connect(self, self.controls.values())
        self._update()

    @guarded
    def _update(self, _change=None) -> None:
        p = {name: control.value for name, control in self.controls.items()}
        n, self.notes = p["n"], []
        query = p["query"]
        if query > n - 1:
            self.notes.append(f"query {query} is past the end (n = {n}): using {n - 1}")
            query = n - 1
        if p["global_tokens"] > n:
            self.notes.append(f"{p['global_tokens']} global tokens > n = {n}: all tokens global")
        self.query = query
        self.mask = chunking_mask(
            n,
            min(p["chunk"], n),
            overlap=p["overlap"],
            global_tokens=min(p["global_tokens"], n),
            memory=p["memory"],
            causal=p["causal"],
        )
        self.receptive = masks.receptive_field(self.mask, p["layers"])
        reach = [
            masks.receptive_field(self.mask, layer)[query] for layer in range(1, p["layers"] + 1)
        ]
        self.query_reach = np.stack(reach)  # (layers, n)
        self._draw(p)

    def _draw(self, p: dict) -> None:
        layers, query = p["layers"], self.query
        keys = self.mask.sum(axis=1)
        first = [int(np.flatnonzero(row)[0]) for row in self.query_reach]
        self.stats = {
            "keys_mean": float(keys.mean()),
            "keys_max": int(keys.max()),
            "query_first_key": first,
            "query_coverage": float(self.query_reach[-1].mean()),
            "coverage": float(self.receptive.mean()),
        }
        fig = new_figure(9.6, 3.3)
        top, bottom = fig.subfigures(2, 1, height_ratios=[2.2, 1])
        left, middle = top.subplots(1, 2)
        plot_mask(self.mask, ax=left, title=f"one layer ({keys.mean():.1f} keys per query)")
        plot_mask(self.receptive, ax=middle, title=f"receptive field, {layers} layer(s)")
        plot_query_reach(
            self.query_reach, query, ax=bottom.subplots(), title=f"keys that reach query {query}"
        )
        self.image.value = png_bytes(fig)
        back = " · ".join(f"{layer + 1}: {query - j} back" for layer, j in enumerate(first))
        self.info.value = note_html(
            f"keys per query {self.stats['keys_mean']:.1f} (max {self.stats['keys_max']}) · "
            f"query {query} reaches (layers: tokens back) {back} · after {layers} layer(s) it can "
            f"use {self.stats['query_coverage']:.0%} of the sequence; "
            f"{self.stats['coverage']:.0%} of all pairs are connected",
            warning="; ".join(self.notes) or None,
        )


def chunking_explorer(**kwargs) -> ChunkingExplorer:
    """Build the explorer (keywords set the start: n, chunk, overlap, global_tokens, memory,
    layers, query, causal)."""
    return ChunkingExplorer(**kwargs)
