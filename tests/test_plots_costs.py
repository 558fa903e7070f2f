"""Cost plots: the drawn data equals the formulas (shares sum to 100 %, crossover where 2d + m is),
memory dots sit at the byte counts in GiB on a shared scale, slopes in the legend are the fitted
ones; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from tutor_lib.costs import GIB, crossover_length, layer_flops
from tutor_lib.plots import memory_axis_limits, plot_flop_shares, plot_memory_bars, plot_scaling


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


def _dots(ax):
    """(x, y) of the plotted dots: the one Line2D drawn with markers and no line."""
    (dots,) = [line for line in ax.get_lines() if line.get_marker() == "o"]
    return dots.get_xdata(), dots.get_ydata()


def test_memory_dots_sit_at_the_gib_values_and_keep_the_order():
    values = {"weights": 14 * GIB, "KV cache": 4 * GIB, "scores": GIB // 2}
    ax = plot_memory_bars(values, ax=_axes(), limit_gib=80, limit_label="GPU")
    xs, ys = _dots(ax)
    assert list(xs) == [14, 4, 0.5] and ys[0] > ys[1] > ys[2]  # first label on top
    assert not ax.patches  # dots, not bars: a bar's length on a log axis means nothing
    labels = {round(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels()}
    assert [labels[round(y)] for y in ys] == list(values)
    assert ax.get_xscale() == "log" and ax.get_xlim()[1] > 80
    assert any("14 GiB" in t.get_text() for t in ax.texts)
    limit = [line for line in ax.get_lines() if line.get_label() == "GPU"]
    assert len(limit) == 1 and limit[0].get_xdata()[0] == 80
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GPU"]


def test_memory_plots_side_by_side_share_one_scale():
    small = {"a": GIB // 1024, "b": GIB}
    big = {"a": 1000 * GIB, "b": 64 * GIB}
    xlim = memory_axis_limits(small, big, limit_gib=80)
    axes = [plot_memory_bars(v, ax=_axes(), limit_gib=80, xlim=xlim) for v in (small, big)]
    assert axes[0].get_xlim() == axes[1].get_xlim() == pytest.approx(xlim)
    low, high = xlim
    for ax, v in zip(axes, (small, big), strict=True):
        xs, _ = _dots(ax)
        assert all(low < x < high for x in xs) and list(xs) == [b / GIB for b in v.values()]
    # negative control: fitted separately, the two axes differ
    apart = [plot_memory_bars(v, ax=_axes()).get_xlim() for v in (small, big)]
    assert apart[0] != apart[1]


def test_a_label_near_the_right_edge_goes_left_of_its_dot():
    ax = plot_memory_bars({"x": 100 * GIB, "y": GIB}, ax=_axes(), xlim=(0.5, 150))
    (near, far) = ax.texts
    assert near.get_horizontalalignment() == "right"
    assert far.get_horizontalalignment() == "left"


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
        (lambda: plot_memory_bars({"a": GIB}, ax=_axes(), xlim=(2, 1)), "xlim"),
        (lambda: memory_axis_limits({}), "values"),
        (lambda: plot_scaling([1, 2], {}, ax=_axes()), "series"),
        (lambda: plot_scaling([1, 2], {"a": [1, 2, 3]}, ax=_axes()), "series"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
