"""Plots for lesson 06: Performer's error against the number of features, decode memory of a KV
cache against linear attention's constant state, and attention weights on a shared colour scale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tutor_lib.costs import MIB
from tutor_lib.plots._axes import finite_values, new_axes, optional_positive, series_values

__all__ = ["plot_feature_error", "plot_decode_memory", "plot_weights"]


def plot_feature_error(
    num_features: Sequence[int],
    errors,
    *,
    ax=None,
    highlight: tuple[int, float] | None = None,
    title: str | None = None,
):
    """Relative error against the number of random features m, log-log.

    ``errors``: (len(num_features), seeds), one column per seed. Each seed is a grey dot, the mean a
    line, and a dashed c/√m line goes through the first mean. ``highlight`` = (m, error) marks one
    point (the widget's current draw). Returns the Axes.
    """
    ms = finite_values(num_features, "num_features", positive=True)
    if ms.ndim != 1 or ms.size < 2:
        raise ValueError(f"num_features must be >= 2 positive counts, got shape {ms.shape}")
    err = finite_values(errors, "errors", positive=True)
    if err.ndim != 2 or err.shape[0] != ms.size:
        raise ValueError(f"errors must have shape ({ms.size}, seeds), got {err.shape}")
    if highlight is not None:
        if not isinstance(highlight, (tuple, list)) or len(highlight) != 2:
            raise TypeError(f"highlight must be a pair (m, error), got {highlight!r}")
        highlight = tuple(finite_values(highlight, "highlight", positive=True))
    ax = new_axes(ax, (4.2, 3.0))
    for column in err.T:
        ax.plot(ms, column, "o", color="0.6", markersize=3)
    mean = err.mean(axis=1)
    ax.plot(ms, mean, "o-", color="tab:blue", label=f"mean of {err.shape[1]} seeds")
    ax.plot(ms, mean[0] * np.sqrt(ms[0] / ms), "--", color="black", label="∝ 1/√m")
    if highlight is not None:
        ax.plot(*highlight, "*", color="tab:red", markersize=14, label="this draw")
    ax.set(xscale="log", yscale="log", xlabel="random features m", ylabel="relative error")
    ax.set_xticks(ms, [f"{int(m)}" for m in ms], minor=False)
    ax.set_title(title or "Performer error vs features", fontsize=10)
    ax.legend(fontsize=8)
    return ax


def plot_decode_memory(tokens, series: Mapping[str, Sequence[float]], *, ax=None, title=None):
    """Decode memory (bytes, drawn in MiB) against the context length t: one line per entry of
    ``series`` (label → bytes, one per t). Returns the Axes."""
    t = finite_values(tokens, "tokens")
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"tokens must be 1-D with at least 2 lengths, got shape {t.shape}")
    lines = series_values(series, t.shape)
    if any(y.min() < 0 for y in lines.values()):
        raise ValueError("series must hold byte counts >= 0")
    ax = new_axes(ax, (4.2, 3.0))
    for label, y in lines.items():
        ax.plot(t, y / MIB, label=label)
    ax.set(xlabel="context length t (tokens)", ylabel="MiB per sequence")
    ax.set_ylim(bottom=0)
    ax.set_title(title or "decode memory", fontsize=10)
    ax.legend(fontsize=8)
    return ax


def plot_weights(weights, *, ax=None, vmax: float | None = None, title: str | None = None):
    """Heatmap of attention weights (n_q, n_k), row i = query i top to bottom, colours from 0 to
    ``vmax`` (default: the largest weight), so two matrices can share one scale. Returns the Axes."""
    w = finite_values(weights, "weights", min_ndim=2)
    if w.ndim != 2 or w.min() < -1e-9:
        raise ValueError(f"weights must be a non-negative 2-D array, got shape {w.shape}")
    top = float(w.max()) if vmax is None else optional_positive(vmax, "vmax")
    if not top > 0:
        raise ValueError("weights are all 0: pass vmax > 0 for the colour scale")
    ax = new_axes(ax, (3.2, 3.0))
    ax.imshow(w, cmap="viridis", vmin=0.0, vmax=top, origin="upper", interpolation="nearest")
    ax.set(xlabel="key j", ylabel="query i")
    ax.set_title(title or "", fontsize=10)
    return ax
