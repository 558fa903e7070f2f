"""The roofline of one kernel: measured times against the two ceilings that bound them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.ticker import NullLocator

from tutor_lib.plots._axes import new_axes

__all__ = ["plot_roofline"]


def plot_roofline(
    batches: Sequence[int],
    measured: Sequence[float],
    *,
    compute_seconds: Sequence[float],
    memory_seconds: Sequence[float],
    ax=None,
    title: str | None = None,
):
    """Measured seconds per batch size on log-log axes, with the two roofline bounds: the compute
    time (FLOPs / FLOP rate, ∝ batch) and the memory time (bytes / bandwidth, nearly flat), their
    maximum shaded as the best any kernel could do, and the batch where they cross marked.
    Returns the Axes.
    """
    b = np.asarray(batches, dtype=float)
    columns = {
        "measured": np.asarray(measured, dtype=float),
        "compute_seconds": np.asarray(compute_seconds, dtype=float),
        "memory_seconds": np.asarray(memory_seconds, dtype=float),
    }
    for name, values in columns.items():
        if values.shape != b.shape or b.ndim != 1 or b.size < 2:
            raise ValueError(
                f"{name} must have one value per batch size (>= 2), got {values.shape}"
            )
        if not (np.isfinite(values).all() and (values > 0).all()):
            raise ValueError(f"{name} must be finite and > 0 (log axes)")
    compute, memory = columns["compute_seconds"], columns["memory_seconds"]
    ax = new_axes(ax, (4.8, 3.2))
    bound = np.maximum(compute, memory)
    ax.fill_between(b, bound, bound.min() / 10, color="0.9", label="below the roofline: impossible")
    ax.plot(b, memory, "--", color="tab:blue", label="memory time: bytes / bandwidth")
    ax.plot(b, compute, "--", color="tab:red", label="compute time: FLOPs / FLOP rate")
    ax.plot(b, columns["measured"], "o-", color="k", label="measured")
    crossing = np.flatnonzero(compute >= memory)
    if crossing.size:
        ax.axvline(b[crossing[0]], color="0.5", linewidth=0.8)
    ax.set(xscale="log", yscale="log", xlabel="batch (rows of x)", ylabel="seconds")
    ax.set_ylim(bound.min() / 2, max(bound.max(), columns["measured"].max()) * 1.5)
    ax.set_xticks(b, labels=[f"{x:g}" for x in b])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.legend(fontsize=7, loc="upper left")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
