"""plot_roofline: the drawn lines are the data passed in, the crossing is marked where compute time
first reaches memory time, the shaded bound is their maximum; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from tutor_lib.costs import matmul_cost
from tutor_lib.plots import plot_roofline


def _axes():
    return Figure(figsize=(4, 3)).add_subplot()


def _roofs(batches, rate=50e9, bandwidth=20e9):
    costs = [matmul_cost(int(b), 4096, 4096) for b in batches]
    return (
        np.array([c["flops"] / rate for c in costs]),
        np.array([c["bytes"] / bandwidth for c in costs]),
    )


def test_lines_are_the_data_and_the_crossing_is_marked():
    batches = np.array([1, 2, 4, 8, 16, 32])
    compute, memory = _roofs(batches)  # compute reaches memory between 4 and 8 (≈ 5)
    measured = 1.3 * np.maximum(compute, memory)
    ax = plot_roofline(
        batches, measured, compute_seconds=compute, memory_seconds=memory, ax=_axes()
    )
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["measured"].get_ydata(), measured)
    np.testing.assert_allclose(lines["memory time: bytes / bandwidth"].get_ydata(), memory)
    np.testing.assert_allclose(lines["compute time: FLOPs / FLOP rate"].get_ydata(), compute)
    marks = [line.get_xdata()[0] for line in ax.get_lines() if line.get_label().startswith("_")]
    assert marks == [8]  # the first batch whose compute time ≥ memory time
    (shade,) = ax.collections
    top = shade.get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(np.maximum(compute, memory).max())
    assert ax.get_xscale() == ax.get_yscale() == "log"


def test_no_crossing_no_mark():
    batches = np.array([1, 2])
    ax = plot_roofline(
        batches, [1.0, 1.0], compute_seconds=[0.1, 0.2], memory_seconds=[1.0, 1.0], ax=_axes()
    )
    assert not [line for line in ax.get_lines() if line.get_label().startswith("_")]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"measured": [1.0]}, "measured"),
        ({"compute_seconds": [1.0, 0.0, 1.0]}, "compute_seconds"),
        ({"memory_seconds": [1.0, np.nan, 1.0]}, "memory_seconds"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    args = {"measured": [1.0, 2, 3], "compute_seconds": [1.0, 2, 3], "memory_seconds": [1.0, 1, 1]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        plot_roofline([1, 2, 4], args.pop("measured"), ax=_axes(), **args)
