"""Every method at once, drawn (lesson 10): the Pareto plot of memory vs error vs time, and the
memory of every method against a budget."""

from __future__ import annotations

import numpy as np

from tutor_lib.compare import pareto_front
from tutor_lib.costs import MIB
from tutor_lib.plots._axes import finite_values, new_axes

__all__ = ["plot_pareto", "plot_budget"]

FITS, TOO_BIG = "#59a14f", "#bab0ac"


def _names(names, count: int | None = None) -> list[str]:
    if isinstance(names, str) or not all(isinstance(x, str) for x in names):
        raise TypeError("names must be a list of method names (str)")
    names = list(names)
    if not names or (count is not None and len(names) != count):
        raise ValueError(f"names must name every point ({count}), got {len(names)}")
    return names


def _flags(flags, count: int, name: str) -> np.ndarray:
    if flags is None:
        return np.ones(count, dtype=bool)
    arr = np.asarray(flags)
    if arr.dtype != bool or arr.shape != (count,):
        raise ValueError(f"{name} must be {count} booleans, got {arr.shape} {arr.dtype}")
    return arr


def _pareto_points(names, memory, error, seconds, exact, error_floor) -> dict:
    """The checked inputs of :func:`plot_pareto`: memory, error on the floor (``shown``), seconds
    (or None), the ``exact`` flags and the indices on the Pareto front."""
    names = _names(names)
    count = len(names)
    mem = finite_values(memory, "memory", positive=True)
    err = finite_values(error, "error")
    if mem.shape != (count,) or err.shape != (count,) or err.min() < 0:
        raise ValueError(f"memory and error must be {count} values (error >= 0)")
    if not (isinstance(error_floor, float) and 0 < error_floor < 1):
        raise ValueError(f"error_floor must be a float in (0, 1), got {error_floor!r}")
    shown = np.maximum(err, error_floor)
    objectives, secs = [mem, shown], None
    if seconds is not None:
        secs = finite_values(seconds, "seconds", positive=True)
        if secs.shape != (count,):
            raise ValueError(f"seconds must be {count} values, got {secs.shape}")
        objectives.append(secs)
    exact = _flags(exact, count, "exact")
    front = set(pareto_front(np.stack(objectives, axis=1)))
    return dict(names=names, mem=mem, shown=shown, secs=secs, exact=exact, front=front)


def _scatter_points(ax, mem, shown, secs, exact, front) -> None:
    """Circles for exact methods, triangles for the others; the front outlined in black; colour =
    seconds on a log scale with a colour bar when given."""
    colour = {"c": "#4e79a7"}
    if secs is not None:
        from matplotlib.colors import LogNorm

        colour = {"c": secs, "cmap": "viridis", "norm": LogNorm(secs.min(), secs.max() * 1.001)}
    for marker, which in (("o", exact), ("^", ~exact)):
        edges = ["black" if i in front else "none" for i in np.flatnonzero(which)]
        kw = {k: (v[which] if isinstance(v, np.ndarray) else v) for k, v in colour.items()}
        art = ax.scatter(
            mem[which] / MIB,
            shown[which],
            marker=marker,
            s=60,
            edgecolors=edges,
            linewidths=1.4,
            zorder=3,
            **kw,
        )
        if secs is not None and which.any():
            mappable = art
    if secs is not None:
        ax.figure.colorbar(mappable, ax=ax, label="median time (s)")


def _number_points(ax, mem, shown) -> None:
    """Each point's number (1-based) beside it; points on the same spot share a label."""
    labels: dict[tuple[float, float], list[str]] = {}
    for i in range(len(mem)):
        labels.setdefault((float(mem[i]), float(shown[i])), []).append(str(i + 1))
    for (x, y), numbers in labels.items():  # the points' numbers beside them; the legend names them
        ax.annotate(",".join(numbers), (x / MIB, y), xytext=(4, 2), textcoords="offset points",
                    fontsize=7)  # fmt: skip


def _name_points(ax, names, exact, front) -> None:
    """The legend below the axes: number and name of each point, bold on the Pareto front."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o" if exact[i] else "^", linestyle="", color="#888888",
               label=f"{i + 1} {name}")
        for i, name in enumerate(names)
    ]  # fmt: skip
    legend = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14),
                       ncol=3, fontsize=7, frameon=False)  # fmt: skip
    for i, text in enumerate(legend.get_texts()):
        text.set_fontweight("bold" if i in front else "normal")


def plot_pareto(
    names,
    memory,
    error,
    *,
    seconds=None,
    exact=None,
    error_floor: float = 1e-4,
    ax=None,
    title: str | None = None,
):
    """Memory (x, MiB, log) against max error vs exact attention (y, log) for each method; colour =
    ``seconds`` (log scale, with a colour bar) when given. Errors below ``error_floor`` (exact up
    to rounding) sit on the floor, a dotted line. Circles: ``exact`` methods, triangles: methods
    that change the model. Each point carries a number; the legend below names it. The Pareto
    front (:func:`tutor_lib.compare.pareto_front` over memory, error and, if given, time) is
    outlined in black and its names are bold in the legend. Returns the Axes."""
    pts = _pareto_points(names, memory, error, seconds, exact, error_floor)
    mem, shown, exact, front = pts["mem"], pts["shown"], pts["exact"], pts["front"]
    ax = new_axes(ax, (7.0, 5.0))
    _scatter_points(ax, mem, shown, pts["secs"], exact, front)
    _number_points(ax, mem, shown)
    ax.axhline(error_floor, color="#888888", linestyle=":", linewidth=0.8)
    _name_points(ax, pts["names"], exact, front)
    ax.set_ylim(error_floor / 3, max(shown.max(), error_floor) * 3)  # before the log scale
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memory (MiB, log)")
    ax.set_ylabel(f"max error vs exact (log); exact methods on the floor, {error_floor:g}")
    ax.set_title(
        title or "circles: exact · triangles: change the model · outlined, bold: Pareto front",
        fontsize=9,
    )
    return ax


def plot_budget(
    names,
    memory,
    budget: float,
    *,
    exact=None,
    ax=None,
    title: str | None = None,
    xlim: tuple[float, float] | None = None,
):
    """One horizontal bar per method (top to bottom in ``names`` order): its memory in MiB on a log
    axis, green if it fits ``budget`` (bytes, the dashed line), grey if not; exact methods' names
    end in " ✓". ``xlim`` (MiB) fixes the axis (a widget keeps it still). Returns the Axes."""
    names = _names(names)
    count = len(names)
    mem = finite_values(memory, "memory", positive=True)
    if mem.shape != (count,):
        raise ValueError(f"memory must be {count} values, got {mem.shape}")
    budget_mib = float(finite_values([budget], "budget", positive=True)[0]) / MIB
    exact = _flags(exact, count, "exact")
    ax = new_axes(ax, (6.4, 0.28 * count + 1.0))
    y = np.arange(count)
    colours = [FITS if m <= budget_mib else TOO_BIG for m in mem / MIB]
    ax.barh(y, mem / MIB, color=colours, height=0.7)
    ax.axvline(budget_mib, color="#e15759", linestyle="--", linewidth=1.4)
    ax.set_yticks(
        y, [n + (" ✓" if e else "") for n, e in zip(names, exact, strict=True)], fontsize=7
    )
    ax.invert_yaxis()  # the first method on top
    ax.set_xscale("log")
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_xlabel("predicted memory (MiB, log); dashed: the budget")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
