"""Plots of training memory: stacked budget bars (weights / gradients / optimizer states /
activations) against one device's memory, and measured saved bytes vs depth."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.ticker import NullLocator

from tutor_lib.costs import GIB, TRAINING_PARTS
from tutor_lib.measure import loglog_slope
from tutor_lib.plots._axes import finite_values, new_axes, optional_positive, series_values

__all__ = ["plot_training_budget", "plot_saved_vs_depth"]

PART_COLOURS = dict(
    zip(TRAINING_PARTS, ("tab:blue", "tab:orange", "tab:green", "tab:red"), strict=True)
)


def _budget_gib(rows) -> np.ndarray:
    """rows (label → bytes by part) checked, as GiB: (len(TRAINING_PARTS), len(rows))."""
    if not isinstance(rows, Mapping):
        raise TypeError(f"rows must be a dict label → bytes by part, got {type(rows).__name__}")
    if not rows:
        raise ValueError("rows must contain at least one bar")
    for label, parts in rows.items():
        if not isinstance(parts, Mapping):
            raise TypeError(
                f"rows[{label!r}] must be a dict part → bytes, got {type(parts).__name__}"
            )
    gib = np.zeros((len(TRAINING_PARTS), len(rows)))
    for j, (label, parts) in enumerate(rows.items()):
        for i, part in enumerate(TRAINING_PARTS):
            value, where = parts.get(part, 0), f"rows[{label!r}][{part!r}]"
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{where} must be a number of bytes, got {type(value).__name__}")
            try:
                gib[i, j] = value / GIB  # exact ints beyond int64 are fine, beyond 1e308 not
            except OverflowError:
                raise ValueError(f"{where} is too large to draw") from None
            if not (math.isfinite(gib[i, j]) and gib[i, j] >= 0):
                raise ValueError(f"{where} must be a finite number of bytes >= 0, got {value}")
    return gib


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
    gib = _budget_gib(rows)  # (part, row)
    limit_bytes = optional_positive(limit_bytes, "limit_bytes")
    labels = list(rows)
    ax = new_axes(ax, (6.0, 0.9 + 0.5 * len(labels)))
    y = np.arange(len(labels))[::-1]  # first row on top
    left = np.zeros(len(labels))
    for part, widths in zip(TRAINING_PARTS, gib, strict=True):
        ax.barh(y, widths, left=left, color=PART_COLOURS[part], label=part, height=0.6)
        left += widths
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
    depths = finite_values(depths, "depths")
    if depths.ndim != 1 or depths.size < 2 or np.any(depths < 1):
        raise ValueError(f"depths must be at least 2 values >= 1, got {depths.tolist()}")
    lines = series_values(series, depths.shape, positive=True)
    ax = new_axes(ax, (4.6, 3.2))
    for label, values in lines.items():
        ax.plot(depths, values, "o-", label=f"{label} (slope {loglog_slope(depths, values):.2f})")
    ax.set(xscale="log", yscale="log", xlabel="depth L (blocks)", ylabel="bytes saved for backward")
    ax.set_xticks(depths, labels=[f"{d:g}" for d in depths])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
