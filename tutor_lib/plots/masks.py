"""Token mask vs tile mask: what a tiled kernel computes for a given attention pattern."""

from __future__ import annotations

import numpy as np

from tutor_lib.masks import tile_mask
from tutor_lib.plots._axes import draw_levels, new_axes

__all__ = ["plot_tiles", "tile_levels", "TILE_COLOURS"]

# skipped tile, computed but masked (wasted work), allowed (useful work)
TILE_COLOURS = ("#ffffff", "#fdd9a0", "#2b6cb0")


def tile_levels(mask, block: int) -> np.ndarray:
    """(n_q, n_k) small ints (int8): 0 = in a skipped tile, 1 = computed but masked, 2 = allowed."""
    m = np.asarray(mask)
    if m.ndim != 2 or m.dtype != bool:
        raise ValueError(f"mask must be a 2-D boolean (n_q, n_k) matrix, got {m.dtype} {m.shape}")
    active = tile_mask(m, block)  # checks block
    block = min(block, max(m.shape))  # a block longer than the mask is one tile
    rows = np.arange(m.shape[0]) // block  # (n_q,) tile row of each query
    cols = np.arange(m.shape[1]) // block  # (n_k,) tile column of each key
    levels = active[rows[:, None], cols[None, :]].view(np.int8)  # (n_q, n_k) 1 = computed
    levels += m.view(np.int8)  # + 1 where allowed (allowed entries always lie in computed tiles)
    return levels


def plot_tiles(mask, block: int, *, ax=None, title: str | None = None):
    """The token mask drawn over the ``block × block`` tiles a tile-skipping kernel must compute.

    Rows = queries (top to bottom), columns = keys, like :func:`plot_mask`. White = tiles skipped
    entirely, orange = computed although masked (wasted), blue = allowed pairs. Returns the Axes.
    """
    levels = tile_levels(mask, block)
    n_q, n_k = levels.shape
    ax = new_axes(ax, (3.0, 3.0))
    draw_levels(ax, levels, TILE_COLOURS, step=block)
    ax.set_xlabel("key j")
    ax.set_ylabel("query i")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
