"""Bad inputs for tutor_lib.plots.roofline: named errors before anything is drawn."""

import numpy as np
from matplotlib.figure import Figure

from bad_input_rows import error, result
from tutor_lib.plots import plot_roofline

B = [1, 2, 4]
T = [1.0, 2.0, 3.0]


def _axes():
    return Figure().add_subplot()


ROWS = [
    error(
        plot_roofline,
        B,
        [1.0],
        compute_seconds=T,
        memory_seconds=T,
        name="measured",
        why="one value for three batches",
    ),
    error(
        plot_roofline,
        B,
        T,
        compute_seconds=[1.0, 0.0, 1.0],
        memory_seconds=T,
        name="compute_seconds",
        why="a zero on log axes",
    ),
    error(
        plot_roofline,
        B,
        T,
        compute_seconds=T,
        memory_seconds=[1.0, np.nan, 1.0],
        name="memory_seconds",
        why="NaN",
    ),
    error(
        plot_roofline,
        [1],
        [1.0],
        compute_seconds=[1.0],
        memory_seconds=[1.0],
        name="measured",
        why="a single batch",
    ),
    error(
        plot_roofline,
        B,
        T,
        compute_seconds=T,
        name="memory_seconds",
        raises=TypeError,
        why="memory_seconds missing",
    ),
    result(
        plot_roofline,
        B,
        T,
        compute_seconds=T,
        memory_seconds=[2.0, 2.0, 2.0],
        ax=_axes(),
        check=lambda ax: len(ax.get_lines()) == 4,
        why="draws the three lines and the crossing",
    ),
]
