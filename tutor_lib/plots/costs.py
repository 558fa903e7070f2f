"""Plots of costs: a layer's FLOP shares vs n, memory in GiB as a dot plot, measured scaling
(log-log)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import LogLocator, NullLocator

from tutor_lib._validate import as_float_array, check_int, check_positive_float
from tutor_lib.costs import GIB, crossover_length, layer_flops
from tutor_lib.measure import loglog_slope
from tutor_lib.plots._axes import new_axes

__all__ = ["plot_flop_shares", "plot_memory_bars", "memory_axis_limits", "plot_scaling"]

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


def memory_axis_limits(
    *values: Mapping[str, float], limit_gib: float | None = None
) -> tuple[float, float]:
    """GiB limits (low, high) of a log axis that holds every byte count in ``values`` (and the
    ``limit_gib`` line), with room for the value labels: pass it as ``xlim`` to several
    :func:`plot_memory_bars` calls so that they share one scale."""
    gib = []
    for group in values:
        if not isinstance(group, Mapping):
            raise TypeError(f"values must be dicts label → bytes, got {type(group).__name__}")
        for label, count in group.items():
            if isinstance(count, bool) or not isinstance(count, numbers.Real):
                raise TypeError(f"values[{label!r}] must be a number of bytes, got {count!r}")
            try:
                gib.append(float(count) / GIB)
            except OverflowError:
                raise ValueError(f"values[{label!r}] is too large to draw") from None
    if not gib or min(gib) <= 0 or not np.all(np.isfinite(gib)):
        raise ValueError("values must contain finite byte counts > 0")
    if limit_gib is not None:
        limit_gib = check_positive_float(limit_gib, "limit_gib")
    high = max(max(gib), limit_gib or 0)
    return min(gib) / 4, high * 40


def plot_memory_bars(
    values: Mapping[str, float],
    *,
    ax=None,
    title: str | None = None,
    limit_gib: float | None = None,
    limit_label: str = "",
    xlim: tuple[float, float] | None = None,
):
    """Byte counts as a dot plot in GiB on a log axis, one row per label, each dot labelled.

    Dots, not bars: on a log axis a bar's length depends on where the axis happens to start, so
    only its end carries information. ``values``: label → bytes (> 0), first label on top.
    ``limit_gib`` draws a vertical reference line (e.g. one GPU's memory). ``xlim`` (GiB) fixes
    the axis, so that plots side by side, or a widget's redraws, share one scale
    (:func:`memory_axis_limits`); by default it fits these values. Returns the Axes.
    """
    if not isinstance(values, Mapping):
        raise TypeError(f"values must be a dict label → bytes, got {type(values).__name__}")
    if not values:
        raise ValueError("values must contain at least one entry")
    labels = list(values)
    gib = np.array([float(values[k]) for k in labels]) / GIB
    if np.any(gib <= 0) or not np.all(np.isfinite(gib)):
        raise ValueError("values must be finite byte counts > 0")
    low, high = memory_axis_limits(values, limit_gib=limit_gib) if xlim is None else xlim
    if not 0 < low < high:
        raise ValueError(f"xlim must be (low, high) GiB with 0 < low < high, got {xlim}")
    ax = new_axes(ax, (5.5, 0.5 + 0.45 * len(labels)))
    y = np.arange(len(labels))[::-1]  # first label on top
    for yi in y:
        ax.axhline(yi, color="#dddddd", linewidth=0.8, zorder=0)  # a guide line per row
    ax.plot(gib, y, "o", color="tab:blue", markersize=7, zorder=3)
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    right_edge = np.log(high) - 0.25 * (np.log(high) - np.log(low))
    for yi, g in zip(y, gib, strict=True):
        text = f"{g:,.0f} GiB" if g >= 100 else f"{g:.3g} GiB"
        near_right = np.log(g) > right_edge  # label on the left of a dot near the right edge
        ax.annotate(
            text,
            (g, yi),
            xytext=(-7 if near_right else 7, 0),
            textcoords="offset points",
            ha="right" if near_right else "left",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(y, labels=labels, fontsize=8)
    ax.set_ylim(-0.6, len(labels) - 0.4)
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
