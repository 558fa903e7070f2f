"""Plots of quantization: values over their grid, error per scheme, error curves (lesson 08)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tutor_lib.plots._axes import finite_values, new_axes, optional_positive, series_values

__all__ = ["plot_grid", "plot_scheme_errors", "plot_error_curves"]

SCHEME_COLOURS = {
    "tensor": "tab:red",
    "token": "tab:orange",
    "channel": "tab:green",
    "llm.int8": "tab:blue",
}


def plot_grid(values, levels, *, ax=None, title: str | None = None, span: float | None = None):
    """Histogram of ``values`` with a vertical line at every quantization level in view.

    ``span``: the x axis shows [-span, span] (default: max |values|); levels outside are not drawn,
    and the title should say how many of them are in view. Returns the Axes.
    """
    values = finite_values(values, "values", min_ndim=0).ravel()
    levels = finite_values(levels, "levels", min_ndim=0).ravel()
    if span is None:  # all-zero values: a unit span, so the axis is not empty
        span = float(np.abs(values).max()) or 1.0
    span = optional_positive(span, "span")
    ax = new_axes(ax, (5.0, 3.0))
    ax.hist(values, bins=60, range=(-span, span), color="tab:grey", alpha=0.7)
    shown = levels[np.abs(levels) <= span]
    # one LineCollection for all the levels (255 separate lines would be slow to draw)
    ax.vlines(shown, 0, 1, transform=ax.get_xaxis_transform(), color="tab:blue", linewidth=0.8)
    ax.set(xlim=(-span, span), xlabel="value", ylabel="count")
    ax.set_title(title or "values and the quantization grid", fontsize=10)
    return ax


def plot_scheme_errors(
    errors: Mapping[str, float],
    *,
    highlight: str | None = None,
    ax=None,
    title: str | None = None,
):
    """Bars of relative error per scheme (log y axis), ``highlight`` drawn opaque. Returns Axes."""
    if not isinstance(errors, Mapping):
        raise TypeError(f"errors must be a dict scheme → error, got {type(errors).__name__}")
    if not errors:
        raise ValueError("errors must contain at least one scheme")
    names = list(errors)
    heights = finite_values([errors[name] for name in names], "errors", positive=True)
    if highlight is not None and highlight not in errors:
        raise ValueError(f"highlight must be one of {names} (or None), got {highlight!r}")
    ax = new_axes(ax, (4.0, 3.0))
    bars = ax.bar(names, heights, color=[SCHEME_COLOURS.get(n, "tab:grey") for n in names])
    for name, bar in zip(names, bars, strict=True):
        bar.set_alpha(1.0 if highlight in (None, name) else 0.35)
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height(),
            f"{bar.get_height():.2g}",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set(yscale="log", ylabel="relative error of y = xW")
    ax.set_ylim(heights.min() / 3, heights.max() * 3)
    ax.set_title(title or "error per scheme", fontsize=10)
    return ax


def plot_error_curves(
    xs: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "outlier magnitude",
    ax=None,
    title: str | None = None,
):
    """One line per scheme (``curves``: scheme → errors > 0, one per x): relative error (log y)
    against ``xs``. Returns the Axes."""
    xs = finite_values(xs, "xs")
    if xs.ndim != 1:
        raise ValueError(f"xs must be 1-D, got shape {xs.shape}")
    lines = series_values(curves, xs.shape, "curves", positive=True)
    ax = new_axes(ax, (5.0, 3.2))
    for name, ys in lines.items():
        ax.plot(xs, ys, marker="o", markersize=3, label=name, color=SCHEME_COLOURS.get(name))
    ax.set(yscale="log", xlabel=xlabel, ylabel="relative error of y = xW")
    ax.set_title(title or "error vs outlier magnitude", fontsize=10)
    ax.legend(fontsize=8)
    return ax
