"""Chunking and long range, drawn: retrieval accuracy vs distance, how far one query reaches layer
by layer, and the ring schedule (which K/V block each device holds at each step)."""

from __future__ import annotations

import numpy as np

from tutor_lib.plots._axes import draw_levels, new_axes

__all__ = ["plot_retrieval", "plot_query_reach", "plot_ring_schedule"]


def plot_retrieval(
    distance,
    correct,
    *,
    bin_width: int = 32,
    chance: float | None = None,
    ax=None,
    title: str | None = None,
):
    """Accuracy (share of ``correct`` trials) in bins of ``bin_width`` distances, as steps.

    distance: (T,) ints ≥ 1, correct: (T,) booleans. A dotted line at ``chance`` if given. The y axis
    is fixed to [0, 1.05]. Returns the Axes."""
    dist, ok = np.asarray(distance), np.asarray(correct)
    if dist.ndim != 1 or dist.shape != ok.shape or dist.size == 0:
        raise ValueError(
            f"distance and correct must be 1-D of the same length, got {dist.shape}, {ok.shape}"
        )
    if ok.dtype != bool:
        raise TypeError(f"correct must be boolean, got dtype {ok.dtype}")
    if isinstance(bin_width, bool) or not isinstance(bin_width, int) or bin_width < 1:
        raise ValueError(f"bin_width must be an int >= 1, got {bin_width!r}")
    ax = new_axes(ax, (4.0, 2.4))
    edges = np.arange(0, dist.max() + bin_width, bin_width)  # bins [e, e + bin_width)
    which = np.digitize(dist, edges) - 1
    acc = np.array(
        [ok[which == b].mean() if (which == b).any() else np.nan for b in range(len(edges) - 1)]
    )
    ax.stairs(acc, edges, color="#4e79a7", linewidth=1.6, baseline=None)
    if chance is not None:
        ax.axhline(chance, color="#888888", linestyle=":", linewidth=1.0)
    ax.set_ylim(0, 1.05)
    ax.set_xlim(0, edges[-1])
    ax.set_xlabel("distance to the needle (tokens)")
    ax.set_ylabel("accuracy")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_query_reach(reach, query: int, *, ax=None, title: str | None = None):
    """Which keys reach one query through 1, 2, … layers: ``reach`` (layers, n) booleans, row l =
    after l + 1 layers (top to bottom), column j = key j. The query's own column is marked.
    Returns the Axes."""
    grid = np.asarray(reach)
    if grid.ndim != 2 or grid.dtype != bool:
        raise ValueError(
            f"reach must be a 2-D boolean array (layers, n), got {grid.shape} {grid.dtype}"
        )
    layers, n = grid.shape
    if isinstance(query, bool) or not isinstance(query, (int, np.integer)) or not 0 <= query < n:
        raise ValueError(f"query must be an int in [0, {n}), got {query!r}")
    ax = new_axes(ax, (4.4, 1.6))
    draw_levels(ax, grid.astype(int), ("#ffffff", "#4e79a7"), step=max(n, layers) + 1)
    ax.axvline(query, color="#e15759", linewidth=1.5)
    ax.set_yticks(range(layers), [str(layer + 1) for layer in range(layers)])
    ax.set_xlabel("key position j (red: the query)")
    ax.set_ylabel("layers")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_ring_schedule(schedule, computed=None, *, ax=None, title: str | None = None):
    """The ring: rows = steps (top to bottom), columns = devices, each cell the K/V block the
    device holds (:func:`tutor_lib.chunking.ring_schedule`). ``computed`` (same shape, booleans):
    False cells (skipped under a causal mask) are grey. Returns the Axes."""
    table = np.asarray(schedule)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise ValueError(f"schedule must be a square (steps, devices) table, got {table.shape}")
    done = (
        np.ones(table.shape, dtype=bool) if computed is None else np.asarray(computed, dtype=bool)
    )
    if done.shape != table.shape:
        raise ValueError(f"computed must have the schedule's shape {table.shape}, got {done.shape}")
    p = table.shape[0]
    ax = new_axes(ax, (0.6 * p + 1.2, 0.5 * p + 0.8))
    draw_levels(ax, done.astype(int), ("#dddddd", "#9ec5e8"), aspect="equal")
    for (step, device), block in np.ndenumerate(table):
        ax.text(device, step, f"K/V {block}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(p), [f"dev {d}" for d in range(p)], fontsize=7)
    ax.set_yticks(range(p), [f"step {s}" for s in range(p)], fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return ax
