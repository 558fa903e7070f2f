"""Bad inputs for tutor_lib.plots.quant (lesson 08): named errors before anything is drawn."""

import numpy as np
from matplotlib.figure import Figure

from bad_input_rows import error, result
from tutor_lib.plots.quant import plot_error_curves, plot_grid, plot_scheme_errors

X = np.array([-1.0, 0.0, 0.5, 1.0])
LEVELS = np.linspace(-1, 1, 5)
ERRORS = {"tensor": 0.1, "token": 0.05}


def _axes():
    return Figure().add_subplot()


ROWS = [
    error(plot_grid, [], LEVELS, name="values", why="no values"),
    error(plot_grid, [1.0, np.nan], LEVELS, name="values", why="NaN value"),
    error(plot_grid, X, [np.inf], name="levels", why="inf level"),
    error(plot_grid, X, LEVELS, span=0, name="span", why="span 0"),
    error(plot_grid, X, LEVELS, span=np.nan, name="span", why="NaN span"),
    error(plot_grid, "abc", LEVELS, raises=TypeError, name="values", why="a string"),
    result(
        plot_grid,
        np.zeros(4),
        LEVELS,
        ax=_axes(),
        check=lambda ax: ax.get_xlim() == (-1.0, 1.0),
        why="all-zero values: a unit span",
    ),
    error(plot_scheme_errors, [0.1], raises=TypeError, name="errors", why="a list"),
    error(plot_scheme_errors, {}, name="errors", why="no schemes"),
    error(plot_scheme_errors, {"tensor": 0.0}, name="errors", why="0 on a log axis"),
    error(plot_scheme_errors, {"tensor": np.nan}, name="errors", why="NaN error"),
    error(plot_scheme_errors, ERRORS, highlight="int4", name="highlight", why="unknown scheme"),
    result(
        plot_scheme_errors,
        ERRORS,
        highlight="token",
        ax=_axes(),
        check=lambda ax: len(ax.patches) == 2,
        why="two bars",
    ),
    error(plot_error_curves, [1, 2], [0.1, 0.2], raises=TypeError, name="curves", why="a list"),
    error(plot_error_curves, [1, 2], {}, name="curves", why="no curve"),
    error(plot_error_curves, [1, 2], {"tensor": [0.1]}, name="curves['tensor']", why="too short"),
    error(plot_error_curves, [1, 2], {"tensor": [0.1, 0]}, name="curves['tensor']", why="0 error"),
    error(plot_error_curves, [1, np.nan], {"tensor": [0.1, 0.2]}, name="xs", why="NaN x"),
    error(plot_error_curves, [[1, 2]], {"t": [[0.1, 0.2]]}, name="xs", why="2-D xs"),
    result(
        plot_error_curves,
        [1, 2],
        {"tensor": [0.1, 0.2]},
        ax=_axes(),
        check=lambda ax: len(ax.get_lines()) == 1,
        why="one curve",
    ),
]
