"""Shared plumbing for the plot helpers: the Axes to draw on, a categorical grid image, and the
checks every plot makes on its data before anything is drawn (a named error, never half a figure)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tutor_lib._validate import as_float_array, check_finite, check_positive_float


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


def finite_values(x, name: str, *, positive: bool = False, min_ndim: int = 1) -> np.ndarray:
    """``x`` as a non-empty, finite float array (> 0 if ``positive``: a log axis), else a
    TypeError/ValueError naming ``name``."""
    arr = as_float_array(x, name, min_ndim=min_ndim)
    check_finite(arr, name)
    if positive and arr.min() <= 0:
        raise ValueError(f"{name} must be > 0 (drawn on a log axis), got {arr.min():g}")
    return arr


def series_values(
    series, shape: tuple[int, ...], name: str = "series", *, positive: bool = False
) -> dict[str, np.ndarray]:
    """``series`` (label → values, one per x) checked: a non-empty mapping whose values are finite
    (> 0 if ``positive``) arrays of ``shape``. Errors name ``series[label]``."""
    if not isinstance(series, Mapping):
        raise TypeError(f"{name} must be a dict label → values, got {type(series).__name__}")
    if not series:
        raise ValueError(f"{name} must contain at least one line")
    checked = {}
    for label, values in series.items():
        where = f"{name}[{label!r}]"
        y = finite_values(values, where, positive=positive, min_ndim=0)
        if y.shape != shape:
            raise ValueError(f"{where} has shape {y.shape}: one value per x, {shape}, expected")
        checked[label] = y
    return checked


def optional_positive(value, name: str) -> float | None:
    """None, or ``value`` as a finite float > 0 (a limit line, a colour scale's top)."""
    return None if value is None else check_positive_float(value, name)
