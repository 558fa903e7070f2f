"""Shared plumbing for the plot helpers."""

from __future__ import annotations


def new_axes(ax, figsize: tuple[float, float]):
    """``ax`` itself, or the Axes of a new pyplot figure of ``figsize`` inches when ``ax`` is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only here: library code never drives pyplot otherwise

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
