"""Cost plots: the drawn data equals the formulas (shares sum to 100 %, crossover where 2d + m is),
bars have the byte counts' lengths in GiB, slopes in the legend are the fitted ones; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from tutor_lib.costs import GIB, crossover_length, layer_flops
from tutor_lib.plots import plot_flop_shares, plot_memory_bars, plot_scaling


def _axes():
    return Figure(figsize=(4, 3)).add_subplot()


def test_flop_shares_lines_are_the_formula_shares_and_cross_at_2d_plus_m():
    d, m = 64, 256
    ns = np.array([16, 64, 384, 1000, 5000])
    ax = plot_flop_shares(d, m, ns=ns, ax=_axes(), n_marker=100)
    lines = {
        line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")
    }
    shares = {label.split()[0]: line.get_ydata() for label, line in lines.items()}
    assert set(shares) == {"scores", "projections", "FFN"}
    np.testing.assert_allclose(shares["scores"] + shares["projections"] + shares["FFN"], 100)
    expected = [
        100 * layer_flops(int(n), d, m)["scores"] / layer_flops(int(n), d, m)["total"] for n in ns
    ]
    np.testing.assert_allclose(shares["scores"], expected)
    at_cross = list(ns).index(crossover_length(d, m))
    assert shares["scores"][at_cross] == pytest.approx(50)  # scores = projections + FFN there
    vertical = [line.get_xdata()[0] for line in ax.get_lines() if line.get_label().startswith("_")]
    assert sorted(vertical) == [100, 384]  # the marker and the crossover


def test_flop_shares_default_range_spans_the_crossover():
    ax = plot_flop_shares(768, 3072, ax=_axes())
    xs = ax.get_lines()[0].get_xdata()
    assert xs.min() < 4608 < xs.max()


def test_memory_bars_lengths_are_gib_and_keep_the_order():
    values = {"weights": 14 * GIB, "KV cache": 4 * GIB, "scores": GIB // 2}
    ax = plot_memory_bars(values, ax=_axes(), limit_gib=74.5, limit_label="GPU")
    widths = [patch.get_width() for patch in ax.patches]
    assert widths == [14, 4, 0.5]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ys = [patch.get_y() + patch.get_height() / 2 for patch in ax.patches]
    assert ys[0] > ys[1] > ys[2]  # first bar on top
    assert sorted(labels) == sorted(values)
    assert ax.get_xscale() == "log" and ax.get_xlim()[1] > 74.5
    assert any("14 GiB" in t.get_text() for t in ax.texts)
    limit = [line for line in ax.get_lines() if line.get_label() == "GPU"]
    assert len(limit) == 1 and limit[0].get_xdata()[0] == 74.5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GPU"]


def test_scaling_legend_reports_the_fitted_slope_and_reference_line():
    ns = np.array([128, 256, 512, 1024])
    ax = plot_scaling(ns, {"bytes": 3 * ns**2.0, "time": 1e-6 * ns**1.5}, ax=_axes(), ylabel="y")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["bytes (slope 2.00)", "time (slope 1.50)", "∝ n^2"]
    np.testing.assert_allclose(ax.get_lines()[2].get_ydata(), 3 * ns**2.0)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["128", "256", "512", "1024"]


def test_scaling_fits_only_from_fit_min_n():
    ns = np.array([1, 10, 100, 1000])
    ys = np.array([5.0, 5.0, 100.0**2, 1000.0**2])  # flat overhead at small n, then ∝ n²
    ax = plot_scaling(ns, {"t": ys}, ax=_axes(), fit_min_n=100, reference_exponent=None)
    assert ax.get_lines()[0].get_label() == "t (slope 2.00)"
    with pytest.raises(ValueError, match="fit_min_n"):
        plot_scaling(ns, {"t": ys}, ax=_axes(), fit_min_n=1000)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: plot_flop_shares(8, 8, ns=[4], ax=_axes()), "ns"),
        (lambda: plot_flop_shares(0, 8, ax=_axes()), "d_model"),
        (lambda: plot_memory_bars({}, ax=_axes()), "values"),
        (lambda: plot_memory_bars({"a": 0}, ax=_axes()), "values"),
        (lambda: plot_scaling([1, 2], {}, ax=_axes()), "series"),
        (lambda: plot_scaling([1, 2], {"a": [1, 2, 3]}, ax=_axes()), "series"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
