"""Shared plumbing for the plot helpers."""

from __future__ import annotations


def new_axes(ax, figsize: tuple[float, float]):
    """``ax`` itself, or the Axes of a new pyplot figure of ``figsize`` inches when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only here: library code never drives pyplot otherwise

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def draw_levels(ax, levels, colours, *, step: int = 1, aspect: str = "auto") -> None:
    """Draw an integer grid ``levels`` (rows top to bottom) with one colour per level, and thin grid
    lines every ``step`` cells (one line collection per direction, not a line each)."""
    import numpy as np
    from matplotlib.colors import ListedColormap

    rows, cols = np.shape(levels)
    ax.imshow(
        levels,
        cmap=ListedColormap(colours),
        vmin=0,
        vmax=len(colours) - 1,
        origin="upper",
        aspect=aspect,
        interpolation="nearest",
    )
    grid = {"color": "#888888", "linewidth": 0.5}
    ax.vlines(np.arange(step, cols, step) - 0.5, -0.5, rows - 0.5, **grid)
    ax.hlines(np.arange(step, rows, step) - 0.5, -0.5, cols - 0.5, **grid)
