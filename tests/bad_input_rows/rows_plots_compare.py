"""Bad inputs for tutor_lib.plots.compare (lesson 10): named errors before anything is drawn."""

import numpy as np
from matplotlib.figure import Figure

from bad_input_rows import error, result
from tutor_lib.costs import MIB
from tutor_lib.plots.compare import plot_budget, plot_pareto

NAMES, MEM, ERR = ["a", "b"], [MIB, 2 * MIB], [0.0, 0.3]


def _axes():
    return Figure().add_subplot()


ROWS = [
    error(plot_pareto, "ab", MEM, ERR, raises=TypeError, name="names", why="a str"),
    error(plot_pareto, [], [], [], name="names", why="no methods"),
    error(plot_pareto, NAMES, [0.0, MIB], ERR, name="memory", why="zero memory (log axis)"),
    error(plot_pareto, NAMES, MEM, [np.nan, 0.1], name="error", why="NaN error"),
    error(plot_pareto, NAMES, MEM, ERR, error_floor=0.0, name="error_floor", why="floor 0"),
    error(plot_pareto, NAMES, MEM, ERR, exact=[1, 0], name="exact", why="ints, not booleans"),
    error(plot_pareto, NAMES, MEM, ERR, seconds=[1.0, -1.0], name="seconds", why="negative"),
    result(
        plot_pareto,
        ["a"],
        [MIB],
        [0.0],
        ax=_axes(),
        check=lambda ax: len(ax.get_legend().get_texts()) == 1,
        why="one exact method",
    ),  # fmt: skip
    error(plot_budget, NAMES, MEM, 0.0, name="budget", why="budget 0 (log axis)"),
    error(plot_budget, NAMES, MEM, np.inf, name="budget", why="infinite budget"),
    error(plot_budget, NAMES, [MIB, np.inf], MIB, name="memory", why="infinite memory"),
    error(plot_budget, [1, 2], MEM, MIB, raises=TypeError, name="names", why="int names"),
    result(
        plot_budget,
        NAMES,
        MEM,
        1e30,
        ax=_axes(),
        xlim=(1e-3, 1e7),
        check=lambda ax: ax.get_xlim() == (1e-3, 1e7),
        why="budget beyond the axis",
    ),  # fmt: skip
]
