"""Plots of costs: a layer's FLOP shares vs n, memory bars in GiB, measured scaling (log-log)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import LogLocator, NullLocator

from tutor_lib._validate import as_float_array, check_int
from tutor_lib.costs import GIB, crossover_length, layer_flops
from tutor_lib.measure import loglog_slope
from tutor_lib.plots._axes import new_axes

__all__ = ["plot_flop_shares", "plot_memory_bars", "plot_scaling"]

_PART_STYLE = {
    "scores": ("scores 4n²d", "tab:red"),
    "projections": ("projections 8nd²", "tab:blue"),
    "ffn": ("FFN 4ndm", "tab:green"),
}


def plot_flop_shares(
    d_model: int,
    d_ff: int,
    *,
    ns: Sequence[int] | None = None,
    n_marker: int | None = None,
    ax=None,
    title: str | None = None,
):
    """Share of one layer's forward FLOPs spent in scores, projections and FFN, vs n (log x axis).

    The crossover n = 2d + m (scores = projections + FFN, i.e. a share of 50 %) is marked with a
    dotted line; ``n_marker`` adds a solid line at another n. Returns the Axes.
    """
    cross = crossover_length(d_model, d_ff)
    if n_marker is not None:
        n_marker = check_int(n_marker, "n_marker", minimum=1)
    if ns is None:
        ns = np.unique(np.geomspace(max(cross // 64, 1), cross * 64, 200).astype(int))
    ns = np.asarray(ns)
    if ns.ndim != 1 or ns.size < 2 or np.any(ns < 1):
        raise ValueError(
            f"ns must be a 1-D sequence of at least 2 lengths >= 1, got shape {ns.shape}"
        )
    parts = [layer_flops(int(n), d_model, d_ff) for n in ns]
    ax = new_axes(ax, (5.0, 3.0))
    for key, (label, colour) in _PART_STYLE.items():
        share = np.array([p[key] / p["total"] for p in parts])
        ax.plot(ns, 100 * share, label=label, color=colour)
    ax.axvline(cross, color="black", linestyle=":", linewidth=1)
    ax.text(cross, 2, f" n = 2d + m\n = {cross:,}", fontsize=8, va="bottom")
    if n_marker is not None:
        ax.axvline(n_marker, color="grey", linewidth=1.5, alpha=0.6)
    ax.set(xscale="log", xlabel="sequence length n", ylabel="% of layer FLOPs", ylim=(0, 100))
    ax.set_title(title or f"d = {d_model}, m = {d_ff}", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return ax


def plot_memory_bars(
    values: Mapping[str, float],
    *,
    ax=None,
    title: str | None = None,
    limit_gib: float | None = None,
    limit_label: str = "",
):
    """Horizontal bars of byte counts, drawn in GiB on a log axis, each labelled with its value.

    ``values``: label → bytes (> 0). ``limit_gib`` draws a vertical reference line (e.g. one GPU's
    memory). Returns the Axes.
    """
    if not isinstance(values, Mapping):
        raise TypeError(f"values must be a dict label → bytes, got {type(values).__name__}")
    if not values:
        raise ValueError("values must contain at least one bar")
    labels = list(values)
    gib = np.array([float(values[k]) for k in labels]) / GIB
    if np.any(gib <= 0) or not np.all(np.isfinite(gib)):
        raise ValueError("values must be finite byte counts > 0")
    ax = new_axes(ax, (5.5, 0.5 + 0.45 * len(labels)))
    y = np.arange(len(labels))[::-1]  # first label on top
    ax.barh(y, gib, color="tab:blue", alpha=0.8)
    for yi, g in zip(y, gib, strict=True):
        ax.text(g, yi, f" {g:,.0f} GiB" if g >= 100 else f" {g:.3g} GiB", va="center", fontsize=8)
    ax.set_yticks(y, labels=labels, fontsize=8)
    low, high = gib.min(), max(gib.max(), limit_gib or 0)
    ax.set_xscale("log")
    ax.set_xlim(low / 4, high * 30)  # room for the value labels
    ax.xaxis.set_major_locator(LogLocator(numticks=6))  # few ticks: quick to draw in a widget
    ax.xaxis.set_minor_locator(NullLocator())
    if limit_gib is not None:
        ax.axvline(limit_gib, color="tab:red", linestyle="--", linewidth=1, label=limit_label)
        if limit_label:
            ax.legend(loc="lower right", fontsize=7)
    ax.set_xlabel("GiB (log scale)")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_scaling(
    ns,
    series: Mapping[str, Sequence[float]],
    *,
    ax=None,
    ylabel: str = "",
    reference_exponent: float | None = 2.0,
    title: str | None = None,
    fit_min_n: float | None = None,
):
    """Measured ``series`` (label → values, one per n) on log-log axes, fitted slopes in the legend.

    The slopes are fitted on the points with n >= ``fit_min_n`` (all points by default; timings at
    small n are dominated by fixed overheads). A dashed reference line ∝ n^``reference_exponent`` goes
    through the first series' last point. Returns the Axes.
    """
    ns = as_float_array(ns, "ns")
    if not isinstance(series, Mapping):
        raise TypeError(f"series must be a dict label → values, got {type(series).__name__}")
    if not series:
        raise ValueError("series must contain at least one line")
    fit = ns >= (fit_min_n if fit_min_n is not None else ns.min())
    if fit.sum() < 2:
        raise ValueError(f"fit_min_n={fit_min_n} leaves fewer than 2 points to fit a slope")
    lines = {}
    for label, ys in series.items():  # check every series before drawing anything
        ys = as_float_array(ys, f"series[{label!r}]")
        if ys.shape != ns.shape:
            raise ValueError(f"series {label!r} has {ys.shape} values for {ns.shape} lengths")
        lines[label] = ys, loglog_slope(ns[fit], ys[fit])
    ax = new_axes(ax, (4.2, 3.0))
    for label, (ys, slope) in lines.items():
        ax.plot(ns, ys, "o-", label=f"{label} (slope {slope:.2f})")
    if reference_exponent is not None:
        first = np.asarray(next(iter(series.values())), dtype=float)
        ref = first[-1] * (ns / ns[-1]) ** reference_exponent
        ax.plot(ns, ref, "k--", linewidth=1, label=f"∝ n^{reference_exponent:g}")
    ax.set(xscale="log", yscale="log", xlabel="sequence length n", ylabel=ylabel)
    ax.set_xticks(ns, labels=[f"{n:g}" for n in ns])  # the measured lengths, not 3×10² etc.
    ax.xaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
