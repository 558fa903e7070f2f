"""Plots of training memory: stacked budget bars (weights / gradients / optimizer states /
activations) against one device's memory, and measured saved bytes vs depth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import NullLocator

from tutor_lib.costs import GIB, TRAINING_PARTS
from tutor_lib.measure import loglog_slope
from tutor_lib.plots._axes import new_axes

__all__ = ["plot_training_budget", "plot_saved_vs_depth"]

PART_COLOURS = dict(
    zip(TRAINING_PARTS, ("tab:blue", "tab:orange", "tab:green", "tab:red"), strict=True)
)


def plot_training_budget(
    rows: Mapping[str, Mapping[str, float]],
    *,
    ax=None,
    limit_bytes: float | None = None,
    limit_label: str = "",
    title: str | None = None,
):
    """One horizontal stacked bar per row (label → bytes by part, the keys of
    ``tutor_lib.costs.TRAINING_PARTS``; other keys such as ``"total"`` are ignored), in GiB.

    ``limit_bytes`` draws a vertical line (e.g. one 80 GB GPU). The first row is on top. Returns the
    Axes.
    """
    if not rows:
        raise ValueError("rows must contain at least one bar")
    labels = list(rows)
    ax = new_axes(ax, (6.0, 0.9 + 0.5 * len(labels)))
    y = np.arange(len(labels))[::-1]  # first row on top
    left = np.zeros(len(labels))
    for part in TRAINING_PARTS:
        gib = np.array([float(rows[label].get(part, 0)) for label in labels]) / GIB
        if np.any(gib < 0) or not np.all(np.isfinite(gib)):
            raise ValueError(f"the {part!r} bytes must be finite and >= 0")
        ax.barh(y, gib, left=left, color=PART_COLOURS[part], label=part, height=0.6)
        left += gib
    for yi, total in zip(y, left, strict=True):
        ax.text(
            total,
            yi,
            f" {total:,.0f} GiB" if total >= 100 else f" {total:.3g} GiB",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(y, labels=labels, fontsize=8)
    high = max(left.max(), (limit_bytes or 0) / GIB)
    ax.set_xlim(0, high * 1.25)  # room for the totals
    if limit_bytes is not None:
        ax.axvline(limit_bytes / GIB, color="black", linestyle="--", linewidth=1, label=limit_label)
    ax.set_xlabel("GiB")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=5, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_saved_vs_depth(
    depths: Sequence[int],
    series: Mapping[str, Sequence[float]],
    *,
    ax=None,
    title: str | None = None,
):
    """Saved bytes (label → one value per depth, > 0) against depth L on log-log axes, each line's
    fitted slope in the legend (1: ∝ L, 0.5: ∝ √L, 0: constant). Returns the Axes."""
    depths = np.asarray(depths, dtype=float)
    if depths.ndim != 1 or depths.size < 2 or np.any(depths < 1):
        raise ValueError(f"depths must be at least 2 values >= 1, got {depths.tolist()}")
    if not series:
        raise ValueError("series must contain at least one line")
    ax = new_axes(ax, (4.6, 3.2))
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        if values.shape != depths.shape:
            raise ValueError(
                f"series {label!r} has {values.shape} values for {depths.shape} depths"
            )
        ax.plot(depths, values, "o-", label=f"{label} (slope {loglog_slope(depths, values):.2f})")
    ax.set(xscale="log", yscale="log", xlabel="depth L (blocks)", ylabel="bytes saved for backward")
    ax.set_xticks(depths, labels=[f"{d:g}" for d in depths])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
