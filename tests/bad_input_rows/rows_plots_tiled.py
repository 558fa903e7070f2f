"""Bad inputs for tutor_lib.plots.tiled (lesson 05): named errors before anything is drawn."""

import numpy as np
from matplotlib.figure import Figure

from bad_input_rows import error, result
from tutor_lib.plots.tiled import plot_hbm_traffic, plot_online_softmax_step, plot_tile_schedule

S = np.array([0.0, 1.0, -np.inf, 2.0])
GRID = np.array([[True, False], [True, True]])
M = [1024, 4096]


def _axes():
    return Figure().add_subplot()


ROWS = [
    error(plot_online_softmax_step, np.zeros((2, 2)), (0, 1), 0.0, 0.0, name="scores", why="2-D"),
    error(plot_online_softmax_step, [0.0, np.nan], (0, 1), 0.0, 0.0, name="scores", why="NaN"),
    error(
        plot_online_softmax_step,
        ["a"],
        (0, 1),
        0.0,
        0.0,
        raises=TypeError,
        name="scores",
        why="text",
    ),
    error(plot_online_softmax_step, S, 2, 0.0, 1.0, raises=TypeError, name="block", why="an int"),
    error(plot_online_softmax_step, S, (2, 9), 0.0, 1.0, name="block[1]", why="stop past the end"),
    error(plot_online_softmax_step, S, (3, 3), 0.0, 1.0, name="block[1]", why="an empty block"),
    error(plot_online_softmax_step, S, (0, 2), 0.0, np.nan, name="max_after", why="NaN max"),
    error(
        plot_online_softmax_step,
        S,
        (0, 2),
        "0",
        1.0,
        raises=TypeError,
        name="max_before",
        why="str",
    ),
    result(
        plot_online_softmax_step,
        np.full(3, -np.inf),
        (0, 2),
        -np.inf,
        -np.inf,
        ax=_axes(),
        check=lambda ax: (
            ax.get_legend() is None and [p.get_height() for p in ax.patches[:3]] == [0] * 3
        ),
        why="every key masked so far: bars at 0, no max line",
    ),
    error(plot_tile_schedule, np.zeros(3, dtype=bool), name="visited", why="1-D"),
    error(plot_tile_schedule, np.ones((2, 2)), raises=TypeError, name="visited", why="floats"),
    error(plot_tile_schedule, GRID, 2, name="current_column", why="past the last column"),
    error(plot_tile_schedule, GRID, 1.0, raises=TypeError, name="current_column", why="float"),
    error(plot_tile_schedule, GRID, skipped=np.ones((3, 3), bool), name="skipped", why="shape"),
    result(
        plot_tile_schedule,
        GRID,
        1,
        skipped=~GRID,
        ax=_axes(),
        check=lambda ax: ax.get_images()[0].get_array()[0, 1] == 3,
        why="a skipped tile drawn grey",
    ),
    error(plot_hbm_traffic, [0, 4096], [1, 1], [1, 1], name="sram_sizes", why="M = 0 (log)"),
    error(plot_hbm_traffic, M, [1, 1], [1], name="flash", why="one value short"),
    error(plot_hbm_traffic, M, [1, np.nan], [1, 1], name="standard", why="NaN traffic"),
    error(
        plot_hbm_traffic, M, [1, 1], [1, 1], current=5, raises=TypeError, name="current", why="int"
    ),
    error(plot_hbm_traffic, M, [1, 1], [1, 1], current=(0, 1), name="current", why="M = 0"),
    result(
        plot_hbm_traffic,
        M,
        [8, 8],
        [4, 2],
        current=(1024, 4),
        ax=_axes(),
        check=lambda ax: len(ax.get_lines()) == 3,
        why="two lines and the marker",
    ),
]
