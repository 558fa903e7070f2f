"""Online softmax and tiles, drawn: one query's scores block by block, and the tile schedule."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from tutor_lib.plots._axes import draw_levels, new_axes

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
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D (one query's scores), got shape {s.shape}")
    start, stop = block
    ax = new_axes(ax, (4.0, 2.6))
    colours = np.where(np.arange(s.size) < start, "#4e79a7", "#d9d9d9").astype(object)
    colours[start:stop] = "#f28e2b"
    finite = np.where(np.isfinite(s), s, 0.0)
    ax.bar(np.arange(s.size), finite, color=list(colours), width=0.8)
    if np.isfinite(max_before):
        ax.axhline(max_before, color="#4e79a7", linestyle="--", linewidth=1.2, label="max before")
    ax.axhline(max_after, color="#e15759", linewidth=1.2, label="max after")
    ax.axvspan(start - 0.5, stop - 0.5, color="#f28e2b", alpha=0.12)
    ax.set_xlabel("key j")
    ax.set_ylabel("score s_j")
    ax.set_xlim(-0.5, s.size - 0.5)
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
    grid = np.asarray(visited, dtype=bool)
    if grid.ndim != 2:
        raise ValueError(f"visited must be a 2-D boolean grid, got shape {grid.shape}")
    levels = grid.astype(int)
    if current_column is not None:
        levels[:, current_column] = np.where(grid[:, current_column], 2, 0)
    if skipped is not None:
        levels[np.asarray(skipped, dtype=bool)] = 3
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
    m = np.asarray(sram_sizes, dtype=float)
    ax = new_axes(ax, (4.0, 2.8))
    ax.loglog(m, np.asarray(standard, dtype=float), color="#4e79a7", label="standard attention")
    ax.loglog(m, np.asarray(flash, dtype=float), color="#e15759", label="FlashAttention")
    if current is not None:
        ax.plot(*current, "o", color="#e15759", markersize=7)
    ax.set_xlabel("on-chip memory M (numbers)")
    ax.set_ylabel("HBM reads + writes (numbers)")
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
