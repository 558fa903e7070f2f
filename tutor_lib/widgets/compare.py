"""``budget_explorer()``: choose n, d, heads and a memory budget → which methods fit, with their
predicted and measured costs (lesson 10).

Everything it shows comes from :mod:`tutor_lib.compare`: the predicted memory of each method
(:func:`~tutor_lib.compare.fit_table`, the quantity the lesson measures: tracemalloc peak for numpy,
saved bytes for torch), the FLOPs its implementation computes and the time they take at this
machine's matmul rate (a lower bound), the pick of the decision rule
(:func:`~tutor_lib.compare.cheapest_fitting`), the longest n each method fits at
(:func:`~tutor_lib.compare.longest_fitting_n`), and — at the lengths the lesson measured — the
measured time, memory and error. Starting values outside the controls are moved to the nearest
choice, with a note.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from tutor_lib.compare import cheapest_fitting, fit_table, longest_fitting_n, predicted_memory
from tutor_lib.costs import GIB, MIB
from tutor_lib.plots.compare import plot_budget
from tutor_lib.widgets._base import (
    connect,
    guarded,
    image_widget,
    length_options,
    nearest_choice,
    new_figure,
    note_html,
    png_bytes,
    slider_style,
)

__all__ = ["BudgetExplorer", "budget_explorer"]

LENGTHS = tuple(2**k for k in range(8, 18))  # 256 … 131072
BUDGETS_MIB = tuple(2**k for k in range(0, 17))  # 1 MiB … 64 GiB
HEADS = (1, 2, 4, 8, 16)
D_CHOICES = (32, 64, 128)
XLIM_MIB = (1e-3, 1e7)  # fixed axis: bars move, the axis stays


def _mib_label(mib: int) -> str:
    return f"{mib // 1024} GiB" if mib >= 1024 else f"{mib} MiB"


def _bytes(b: float) -> str:
    return f"{b / GIB:,.1f} GiB" if b >= GIB else f"{b / MIB:,.2f} MiB"


def _row_html(row: dict, longest: int, pick: str | None) -> str:
    m = row["measured"]
    seen = "—"
    if m is not None:
        seen = (
            f"{m['median_s'] * 1e3:.1f} ms · {_bytes(m['memory_bytes'])} · err {m['max_error']:.0e}"
        )
    at_peak = "—" if row["seconds_at_peak"] is None else f"{row['seconds_at_peak'] * 1e3:,.1f} ms"
    style = "font-weight:bold;" if row["method"] == pick else ""
    colour = "#2e7d32" if row["fits"] else "#888888"
    cells = [
        html.escape(row["method"]),
        "exact" if row["exact"] else "changes",
        f"<span style='color:{colour}'>{_bytes(row['memory'])} ({row['memory_kind']})</span>",
        f"{row['flops_done'] / 1e9:,.2f}",
        at_peak,
        f"{longest:,}" if longest else "none",
        seen,
    ]
    return f"<tr style='{style}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


_HEADER = (
    "<tr><th>method</th><th>model</th><th>predicted memory</th><th>GFLOP done</th>"
    "<th>at peak rate</th><th>longest n that fits</th><th>measured here (time · memory · error)"
    "</th></tr>"
)


class BudgetExplorer(widgets.VBox):
    """Sliders n and budget, dropdowns d and heads, boxes "exact only" and "causal" → bars of every
    method's predicted memory against the budget, and a table of predicted and measured costs.

    Current data: ``.table`` (the :func:`~tutor_lib.compare.fit_table` rows), ``.fitting`` (names
    that fit), ``.pick`` (the decision rule's method or None), ``.longest`` (method → longest n
    that fits), ``.notes``, ``.error`` and ``.controls`` (name → widget).
    """

    def __init__(
        self,
        measured: dict | None = None,
        *,
        n: int = 1024,
        d: int = 64,
        heads: int = 2,
        budget_mib: float = 16,
        exact: bool = False,
        causal: bool = False,
    ):
        keys = {"rows", "heads", "d", "ns"}
        if measured is not None and (not isinstance(measured, dict) or not keys <= set(measured)):
            raise TypeError("measured must be the dict measure_methods returns, or None")
        for name, value in (("exact", exact), ("causal", causal)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, got {value!r}")
        self.measured, self.pending_notes = measured, []
        notes = self.pending_notes
        style = slider_style()
        self.controls = {
            "n": widgets.SelectionSlider(
                options=length_options(LENGTHS),
                value=nearest_choice(n, "n", LENGTHS, notes),
                description="length n",
                style=style,
                continuous_update=False,
            ),
            "budget": widgets.SelectionSlider(
                options=[(_mib_label(b), b) for b in BUDGETS_MIB],
                value=nearest_choice(budget_mib, "budget_mib", BUDGETS_MIB, notes),
                description="memory budget",
                style=style,
                continuous_update=False,
            ),
            "d": widgets.Dropdown(
                options=D_CHOICES, value=nearest_choice(d, "d", D_CHOICES, notes), description="d"
            ),
            "heads": widgets.Dropdown(
                options=HEADS,
                value=nearest_choice(heads, "heads", HEADS, notes),
                description="heads",
            ),
            "exact": widgets.Checkbox(value=exact, description="must be exact"),
            "causal": widgets.Checkbox(value=causal, description="causal (a decoder)"),
        }
        self.image = image_widget()
        self.info = widgets.HTML()
        self.details = widgets.HTML()
        c = self.controls
        columns = widgets.HBox(
            [
                widgets.VBox([c["n"], c["budget"]]),
                widgets.VBox([c["d"], c["heads"]]),
                widgets.VBox([c["exact"], c["causal"]]),
            ]
        )
        super().__init__([columns, self.image, self.info, self.details])
        connect(self, self.controls.values())
        self._update()

    @guarded
    def _update(self, _change=None) -> None:
        p = {name: control.value for name, control in self.controls.items()}
        n, d, heads, budget = p["n"], p["d"], p["heads"], p["budget"] * MIB
        self.notes = []
        self.table = fit_table(n, d, budget, heads=heads, measured=self.measured)
        self.fitting = [row["method"] for row in self.table if row["fits"]]
        self.pick = cheapest_fitting(
            n, d, budget, heads=heads, exact=p["exact"], causal=p["causal"]
        )
        self.longest = {
            row["method"]: longest_fitting_n(
                lambda x, name=row["method"]: predicted_memory(name, x, d, heads=heads),
                budget,
                n_max=2**24,
            )
            for row in self.table
        }
        if self.measured is not None and not any(row["measured"] for row in self.table):
            m = self.measured
            self.notes.append(
                f"measured values exist only for n in {m['ns']}, heads = {m['heads']}, d = {m['d']}"
            )
        self._draw(n, d, heads, budget, p)

    def _draw(self, n, d, heads, budget, p) -> None:
        fig = new_figure(7.2, 0.26 * len(self.table) + 1.2)
        plot_budget(
            [row["method"] for row in self.table],
            [max(row["memory"], 1) for row in self.table],
            budget,
            exact=[row["exact"] for row in self.table],
            ax=fig.add_subplot(),
            title=f"n = {n:,}, d = {d}, {heads} head(s): {len(self.fitting)} of "
            f"{len(self.table)} fit {_mib_label(p['budget'])}",
            xlim=XLIM_MIB,
        )
        self.image.value = png_bytes(fig)
        want = " exact" if p["exact"] else ""
        kind = "causal" if p["causal"] else "bidirectional"
        pick = (
            f"fewest FLOPs among the{want} {kind} methods that fit: {self.pick}"
            if self.pick
            else f"no{want} {kind} method fits this budget"
        )
        self.info.value = note_html(
            f"{len(self.fitting)} fit · {pick}", warning="; ".join(self.notes) or None
        )
        rows = "".join(_row_html(row, self.longest[row["method"]], self.pick) for row in self.table)
        self.details.value = f"<table style='font-size:11px'>{_HEADER}{rows}</table>"


def budget_explorer(measured: dict | None = None, **kwargs) -> BudgetExplorer:
    """Build the explorer; ``measured`` is a :func:`tutor_lib.compare.measure_methods` result (its
    values show at the lengths, heads and d it measured). Keywords set the start: n, d, heads,
    budget_mib, exact, causal."""
    return BudgetExplorer(measured, **kwargs)
