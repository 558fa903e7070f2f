"""The benchmark registry: each ``bench/bench_*.py`` module registers its benchmarks here.

A benchmark is a function ``fn(quick: bool) -> Table`` (or a list of Tables); ``quick=True`` must
finish in seconds (smaller sizes, fewer repeats) so the plumbing can be tried without waiting.
``make bench`` runs the benchmarks registered with ``default=True``; the others (detail tables of
one lesson whose kernels the side-by-side comparison already times) run by name.
To add one (later lessons do)::

    # bench/bench_tiled.py
    from registry import Table, register

    @register("tiled", "tiled attention vs SDPA (lesson 05)")
    def tiled(quick: bool) -> Table:
        ...
        return Table(title=..., columns=[...], rows=[[...], ...], notes=[...])

``bench/run.py`` imports every ``bench_*.py`` file, so nothing else needs editing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Table:
    """What a benchmark returns: a title, column names, rows of cells (str or numbers), notes."""

    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The table as GitHub Markdown (a pipe table), the notes as a list below it."""
        cells = [[_cell(c).replace("|", "\\|") for c in row] for row in self.rows]
        out = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |"]
        numeric = [
            all(_numeric(row[i]) for row in cells if i < len(row)) for i in range(len(self.columns))
        ]
        out.append("|" + "|".join("---:" if right else "---" for right in numeric) + "|")
        out += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(out + [""] + [f"- {note}" for note in self.notes])

    def render(self) -> str:
        cells = [[_cell(c) for c in row] for row in self.rows]
        widths = [
            max([len(name)] + [len(row[i]) for row in cells if i < len(row)])
            for i, name in enumerate(self.columns)
        ]
        line = "  ".join(name.rjust(w) for name, w in zip(self.columns, widths, strict=True))
        out = [self.title, "", line, "  ".join("-" * w for w in widths)]
        for row in cells:
            out.append("  ".join(text.rjust(w) for text, w in zip(row, widths, strict=False)))
        return "\n".join(out + [""] + self.notes)


def _numeric(text: str) -> bool:
    """A cell that reads as a number (right-aligned in Markdown): 1,234.5 / 2.0× / 47% / —."""
    return text[:1].isdigit() or text[:1] in "-−—" or text[:2] in ("0.", "<1")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    fn: Callable[[bool], Table | list[Table]]
    default: bool = True


BENCHMARKS: dict[str, Benchmark] = {}
OPTIONS: dict = {"threads": None}  # set by run.py: --threads N (None: each benchmark's choice)


def threads_given() -> bool:
    """True when ``run.py --threads N`` chose the thread count (benchmarks that default to one
    thread, fair on a shared machine, then use N)."""
    return OPTIONS["threads"] is not None


@contextlib.contextmanager
def one_thread_unless_given():
    """Run the block on one torch thread unless ``--threads N`` was given; restore the count."""
    import torch

    threads = torch.get_num_threads()
    if not threads_given():
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def register(name: str, description: str, *, default: bool = True):
    """Decorator: record ``fn(quick) -> Table`` under ``name`` (names must be unique);
    ``default=False``: not part of a plain ``make bench`` run (run it by name, or ``--all``)."""

    def wrap(fn: Callable[[bool], Table | list[Table]]) -> Callable[[bool], Table | list[Table]]:
        if name in BENCHMARKS:
            raise ValueError(f"benchmark {name!r} is registered twice")
        BENCHMARKS[name] = Benchmark(name, description, fn, default)
        return fn

    return wrap
