"""budget_explorer() driven like a learner would (set a control's .value), and lesson 10's plots.

What the explorer shows is checked against tutor_lib.compare computed here (fit_table,
cheapest_fitting, predicted_memory) and against closed forms (SDPA keeps n·(d + 1) floats per head);
the PNG must change with what is drawn; the plots are checked for what they put where.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from tutor_lib.compare import cheapest_fitting, fit_table, measure_methods, predicted_memory
from tutor_lib.costs import MIB
from tutor_lib.plots import plot_budget, plot_pareto
from tutor_lib.widgets import budget_explorer
from tutor_lib.widgets.compare import BudgetExplorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def measured():
    return measure_methods([256], ["SDPA", "window, banded"], heads=2, d=32, rounds=1)


def _png(w) -> bytes:
    data = bytes(w.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def test_default_view_agrees_with_fit_table_and_the_decision_rule():
    w = budget_explorer()
    assert isinstance(w, BudgetExplorer) and w.error is None
    expected = fit_table(1024, 64, 16 * MIB, heads=2)
    assert w.table == expected
    assert w.fitting == [r["method"] for r in expected if r["fits"]]
    assert w.pick == cheapest_fitting(1024, 64, 16 * MIB, heads=2) and w.pick in w.info.value
    assert "⚠" not in w.info.value


def test_longest_n_is_where_the_predicted_memory_meets_the_budget():
    w = budget_explorer(n=4096, d=64, heads=1, budget_mib=1)
    longest = w.longest["SDPA"]  # SDPA keeps n·(d + 1) float32 per head
    assert longest == MIB // (65 * 4)
    assert predicted_memory("SDPA", longest, 64) <= MIB < predicted_memory("SDPA", longest + 1, 64)


def test_long_sequences_leave_only_linear_memory_methods():
    w = budget_explorer(n=1024, budget_mib=128, heads=4)
    before = _png(w)
    assert "dense (numpy)" in w.fitting
    w.controls["n"].value = 131072
    assert "dense (numpy)" not in w.fitting and "window, dense mask" not in w.fitting
    assert _png(w) != before
    w.controls["budget"].value = 256  # SDPA keeps 4 · 131072 · 65 · 4 bytes = 130 MiB
    w.controls["exact"].value = True
    assert w.pick in ("SDPA", "flash_attention") and "exact" in w.info.value
    w.controls["causal"].value = True
    assert w.pick == "SDPA causal"
    w.controls["budget"].value = 1  # 1 MiB: SDPA causal needs 4·131072·65·4 bytes
    assert w.pick is None and "no exact causal method fits" in w.info.value


def test_measured_values_show_at_the_measured_length_only(measured):
    w = budget_explorer(measured, n=256, d=32, heads=2)
    shown = {r["method"]: r["measured"] for r in w.table if r["measured"]}
    assert set(shown) == {"SDPA", "window, banded"}
    assert shown["SDPA"]["memory_bytes"] == 2 * 256 * 33 * 4  # what SDPA saved, measured
    assert "ms" in w.details.value and "⚠" not in w.info.value
    w.controls["n"].value = 512
    assert not any(r["measured"] for r in w.table) and "measured values exist only" in w.info.value


def test_builder_moves_values_to_the_nearest_choice_and_rejects_wrong_types(measured):
    w = budget_explorer(n=1000, budget_mib=3, d=60)
    assert w.controls["n"].value == 1024 and w.controls["budget"].value in (2, 4)
    assert w.controls["d"].value == 64 and "⚠" in w.info.value
    with pytest.raises(TypeError, match="measured"):
        budget_explorer([1, 2])
    with pytest.raises(TypeError, match="causal"):
        budget_explorer(causal="yes")
    with pytest.raises(TypeError, match="n"):
        budget_explorer(n="1k")


# -- plots ------------------------------------------------------------------------------------------


def test_plot_budget_bars_are_the_memory_coloured_by_the_budget():
    ax = plot_budget(
        ["a", "b", "c"],
        [MIB, 4 * MIB, 16 * MIB],
        5 * MIB,
        exact=np.array([True, False, False]),
        ax=Figure().add_subplot(),
    )
    bars = ax.patches
    np.testing.assert_allclose([b.get_width() for b in bars], [1, 4, 16])
    assert [b.get_y() < c.get_y() for b, c in zip(bars, bars[1:], strict=False)] == [True, True]
    assert ax.yaxis_inverted()  # the first name on top
    green, grey = bars[0].get_facecolor(), bars[2].get_facecolor()
    assert bars[1].get_facecolor() == green != grey
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a ✓", "b", "c"]
    assert ax.lines[0].get_xdata()[0] == 5  # the budget line, in MiB
    with pytest.raises(ValueError, match="memory"):
        plot_budget(["a"], [0.0], MIB)
    with pytest.raises(ValueError, match="memory must be 2 values"):
        plot_budget(["a", "b"], [MIB], MIB)
    with pytest.raises(TypeError, match="names"):
        plot_budget("ab", [MIB, MIB], MIB)


def test_plot_pareto_puts_memory_on_x_error_on_y_and_outlines_the_front():
    names = ["exact", "cheap", "dominated"]
    memory = np.array([4, 1, 8]) * MIB
    error = np.array([0.0, 0.5, 0.6])
    ax = plot_pareto(
        names,
        memory,
        error,
        seconds=[1.0, 0.1, 2.0],
        exact=np.array([True, False, False]),
        ax=Figure().add_subplot(),
    )
    circles, triangles = ax.collections[:2]
    np.testing.assert_allclose(circles.get_offsets(), [[4, 1e-4]])  # exact: on the floor
    np.testing.assert_allclose(triangles.get_offsets(), [[1, 0.5], [8, 0.6]])
    assert ax.get_xscale() == ax.get_yscale() == "log"
    edges = triangles.get_edgecolors()
    assert edges[0][3] == 1 and edges[1][3] == 0  # cheap is on the front, dominated is not
    clim = circles.get_clim()
    assert clim[0] == pytest.approx(0.1) and clim[1] >= 2.0
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3"]
    legend = ax.get_legend().get_texts()
    assert [t.get_text() for t in legend] == ["1 exact", "2 cheap", "3 dominated"]
    assert [t.get_fontweight() for t in legend] == ["bold", "bold", "normal"]
    with pytest.raises(ValueError, match="error"):
        plot_pareto(names, memory, [-1.0, 0, 0])
    with pytest.raises(ValueError, match="seconds"):
        plot_pareto(names, memory, error, seconds=[1.0])


def test_plot_pareto_without_times_keeps_memory_error_front():
    ax = plot_pareto(["a", "b"], [MIB, 2 * MIB], [0.1, 0.01], ax=Figure().add_subplot())
    legend = ax.get_legend().get_texts()
    assert [t.get_fontweight() for t in legend] == ["bold", "bold"]  # neither dominates
    assert torch.get_num_threads() >= 1  # (plots never touch torch's state)
