"""Bad inputs for tutor_lib.plots.training (lesson 07): named errors before anything is drawn."""

import numpy as np
from matplotlib.figure import Figure

from bad_input_rows import error, result
from tutor_lib.costs import GIB, GPT3_175B, training_budget
from tutor_lib.plots.training import plot_saved_vs_depth, plot_training_budget

ROW = {"weights": GIB, "gradients": GIB, "optimizer states": 2 * GIB, "activations": GIB}
DEPTHS = [1, 4, 16]


def _axes():
    return Figure().add_subplot()


ROWS = [
    error(plot_training_budget, [ROW], raises=TypeError, name="rows", why="a list of rows"),
    error(plot_training_budget, {}, name="rows", why="no bars"),
    error(
        plot_training_budget, {"a": 5}, raises=TypeError, name="rows['a']", why="bytes, no parts"
    ),
    error(
        plot_training_budget,
        {"a": {**ROW, "weights": -1}},
        name="rows['a']['weights']",
        why="negative bytes",
    ),
    error(
        plot_training_budget,
        {"a": {**ROW, "activations": float("nan")}},
        name="rows['a']['activations']",
        why="NaN bytes",
    ),
    error(
        plot_training_budget,
        {"a": {**ROW, "gradients": "1 GiB"}},
        raises=TypeError,
        name="rows['a']['gradients']",
        why="text",
    ),
    error(plot_training_budget, {"a": ROW}, limit_bytes=0, name="limit_bytes", why="limit 0"),
    result(
        plot_training_budget,
        {"GPT-3, s = 128k, b = 64": training_budget(GPT3_175B, 131072, 64)},
        ax=_axes(),
        check=lambda ax: len(ax.patches) == 4,
        why="bytes beyond int64 (exact ints) are drawn",
    ),
    error(plot_saved_vs_depth, [1], {"a": [1]}, name="depths", why="one depth"),
    error(plot_saved_vs_depth, [0, 4], {"a": [1, 2]}, name="depths", why="depth 0"),
    error(plot_saved_vs_depth, DEPTHS, [1, 2, 3], raises=TypeError, name="series", why="a list"),
    error(plot_saved_vs_depth, DEPTHS, {}, name="series", why="no line"),
    error(plot_saved_vs_depth, DEPTHS, {"a": [1, 2]}, name="series['a']", why="too short"),
    error(plot_saved_vs_depth, DEPTHS, {"a": [1, 0, 2]}, name="series['a']", why="0 (log axis)"),
    error(plot_saved_vs_depth, DEPTHS, {"a": [1, np.nan, 2]}, name="series['a']", why="NaN"),
    result(
        plot_saved_vs_depth,
        DEPTHS,
        {"plain": [1, 4, 16]},
        ax=_axes(),
        check=lambda ax: "slope 1.00" in ax.get_lines()[0].get_label(),
        why="slope 1",
    ),
]
