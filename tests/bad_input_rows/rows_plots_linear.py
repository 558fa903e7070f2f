"""Bad inputs for tutor_lib.plots.linear (lesson 06): named errors before anything is drawn."""

import numpy as np
from matplotlib.figure import Figure

from bad_input_rows import error, result
from tutor_lib.plots.linear import plot_decode_memory, plot_feature_error, plot_weights

MS = [4, 16]
ERR = np.array([[0.5, 0.6], [0.25, 0.3]])  # (m, seeds)
W = np.array([[0.2, 0.8], [1.0, 0.0]])


def _axes():
    return Figure().add_subplot()


def _drew(ax):
    return ax.figure is not None and len(ax.get_lines()) + len(ax.get_images()) > 0


ROWS = [
    error(plot_feature_error, [4], ERR[:1], name="num_features", why="one m"),
    error(plot_feature_error, [0, 16], ERR, name="num_features", why="m = 0 on a log axis"),
    error(plot_feature_error, ["a", "b"], ERR, raises=TypeError, name="num_features", why="text"),
    error(plot_feature_error, MS, np.ones((3, 2)), name="errors", why="one row per m missing"),
    error(plot_feature_error, MS, ERR * np.nan, name="errors", why="NaN errors"),
    error(plot_feature_error, MS, ERR - 1, name="errors", why="negative errors (log axis)"),
    error(plot_feature_error, MS, ERR, highlight=64, raises=TypeError, name="highlight", why="int"),
    error(plot_feature_error, MS, ERR, highlight=(64, np.inf), name="highlight", why="inf"),
    result(plot_feature_error, MS, ERR, ax=_axes(), highlight=(16, 0.2), check=_drew, why="ok"),
    error(plot_decode_memory, [1], {"a": [1]}, name="tokens", why="one length"),
    error(plot_decode_memory, [1, np.nan], {"a": [1, 2]}, name="tokens", why="NaN length"),
    error(plot_decode_memory, [1, 2], [1, 2], raises=TypeError, name="series", why="a list"),
    error(plot_decode_memory, [1, 2], {}, name="series", why="no line"),
    error(plot_decode_memory, [1, 2], {"kv": [1]}, name="series['kv']", why="lengths differ"),
    error(plot_decode_memory, [1, 2], {"kv": [1, -1]}, name="series", why="negative bytes"),
    error(
        plot_decode_memory,
        [1, 2],
        {"kv": ["a", "b"]},
        raises=TypeError,
        name="series['kv']",
        why="text",
    ),
    result(plot_decode_memory, [1, 2], {"kv": [0, 1]}, ax=_axes(), check=_drew, why="0 bytes ok"),
    error(plot_weights, np.ones(3), name="weights", why="1-D"),
    error(plot_weights, -W, name="weights", why="negative weights"),
    error(plot_weights, W * np.nan, name="weights", why="NaN"),
    error(plot_weights, [["a"]], raises=TypeError, name="weights", why="text"),
    error(plot_weights, np.zeros((2, 2)), name="vmax", why="all zero, no vmax"),
    error(plot_weights, W, vmax=np.inf, name="vmax", why="inf vmax"),
    error(plot_weights, W, vmax="1", raises=TypeError, name="vmax", why="a string"),
    result(plot_weights, np.zeros((2, 2)), vmax=1.0, ax=_axes(), check=_drew, why="zeros + vmax"),
]
