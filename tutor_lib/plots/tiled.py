"""Online softmax and tiles, drawn: one query's scores block by block, and the tile schedule."""

from __future__ import annotations

import math
import numbers

import numpy as np
from matplotlib.patches import Rectangle

from tutor_lib._validate import as_bool_mask, as_float_array, check_int
from tutor_lib.plots._axes import draw_levels, finite_values, new_axes

__all__ = ["plot_hbm_traffic", "plot_online_softmax_step", "plot_tile_schedule", "SCHEDULE_COLOURS"]

# not visited yet / visited / being computed now / skipped (entirely in the future under causal)
SCHEDULE_COLOURS = ("#ffffff", "#9ec5e8", "#f28e2b", "#dddddd")


def plot_online_softmax_step(
    scores,
    block: tuple[int, int],
    max_before: float,
    max_after: float,
    *,
    ax=None,
    title: str | None = None,
):
    """Bars of one query's scores over the keys; the keys of ``block`` = (start, stop) in orange,
    keys already seen in blue, later keys pale. Dashed line: the running max before this block;
    solid line: after it. Returns the Axes."""
    s = as_float_array(scores, "scores")
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D (one query's scores), got shape {s.shape}")
    if np.isnan(s).any() or np.isposinf(s).any():
        raise ValueError("scores must be finite or -inf (a masked key), got NaN or +inf")
    if not isinstance(block, (tuple, list)) or len(block) != 2:
        raise TypeError(f"block must be a pair (start, stop), got {block!r}")
    start = check_int(block[0], "block[0]", minimum=0)
    stop = check_int(block[1], "block[1]", minimum=start + 1, maximum=s.size)
    for name, value in (("max_before", max_before), ("max_after", max_after)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if math.isnan(value) or value == math.inf:
            raise ValueError(f"{name} must be finite (or -inf: no key seen yet), got {value}")
    ax = new_axes(ax, (4.0, 2.6))
    colours = np.where(np.arange(s.size) < start, "#4e79a7", "#d9d9d9").astype(object)
    colours[start:stop] = "#f28e2b"
    finite = np.where(np.isfinite(s), s, 0.0)
    ax.bar(np.arange(s.size), finite, color=list(colours), width=0.8)
    if np.isfinite(max_before):
        ax.axhline(max_before, color="#4e79a7", linestyle="--", linewidth=1.2, label="max before")
    if np.isfinite(max_after):
        ax.axhline(max_after, color="#e15759", linewidth=1.2, label="max after")
    ax.axvspan(start - 0.5, stop - 0.5, color="#f28e2b", alpha=0.12)
    ax.set_xlabel("key j")
    ax.set_ylabel("score s_j")
    ax.set_xlim(-0.5, s.size - 0.5)
    if ax.get_legend_handles_labels()[0]:  # no line while every key so far is masked
        ax.legend(loc="lower right", fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_tile_schedule(
    visited, current_column: int | None = None, *, skipped=None, ax=None, title: str | None = None
):
    """The tile grid (rows = query blocks, top to bottom; columns = key blocks): visited tiles in
    blue, the column being computed in orange, tiles that are never computed (``skipped``) grey.

    visited, skipped: boolean (query blocks, key blocks) grids. Returns the Axes."""
    grid = as_bool_mask(visited, "visited")
    if grid.ndim != 2 or grid.size == 0:
        raise ValueError(f"visited must be a 2-D boolean grid, got shape {grid.shape}")
    levels = grid.astype(int)
    if current_column is not None:
        current_column = check_int(
            current_column, "current_column", minimum=0, maximum=grid.shape[1] - 1
        )
        levels[:, current_column] = np.where(grid[:, current_column], 2, 0)
    if skipped is not None:
        skipped = as_bool_mask(skipped, "skipped")
        if skipped.shape != grid.shape:
            raise ValueError(f"skipped must have visited's shape {grid.shape}, got {skipped.shape}")
        levels[skipped] = 3
    ax = new_axes(ax, (2.8, 2.8))
    draw_levels(ax, levels, SCHEDULE_COLOURS, aspect="equal")
    rows, cols = grid.shape
    ax.add_patch(Rectangle((-0.5, -0.5), cols, rows, fill=False, edgecolor="#555555", lw=1))
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xlabel("key block")
    ax.set_ylabel("query block")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_hbm_traffic(
    sram_sizes, standard, flash, *, current=None, ax=None, title: str | None = None
):
    """Numbers moved between HBM and SRAM vs the on-chip memory size M (log-log): standard
    attention (flat: it does not use the SRAM) and FlashAttention (falls as 1/M until one key
    block holds every key). ``current`` = (M, flash traffic) marks the slider's value."""
    m = finite_values(sram_sizes, "sram_sizes", positive=True)
    lines = {
        name: finite_values(values, name, positive=True)
        for name, values in (("standard", standard), ("flash", flash))
    }
    for name, y in lines.items():
        if m.ndim != 1 or y.shape != m.shape:
            raise ValueError(f"{name} must have one value per size, {m.shape}, got {y.shape}")
    if current is not None:
        if not isinstance(current, (tuple, list)) or len(current) != 2:
            raise TypeError(f"current must be a pair (M, traffic), got {current!r}")
        current = tuple(finite_values(current, "current", positive=True))
    ax = new_axes(ax, (4.0, 2.8))
    ax.loglog(m, lines["standard"], color="#4e79a7", label="standard attention")
    ax.loglog(m, lines["flash"], color="#e15759", label="FlashAttention")
    if current is not None:
        ax.plot(*current, "o", color="#e15759", markersize=7)
    ax.set_xlabel("on-chip memory M (numbers)")
    ax.set_ylabel("HBM reads + writes (numbers)")
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
