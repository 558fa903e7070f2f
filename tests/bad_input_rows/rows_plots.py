"""Bad inputs for tutor_lib.plots: named errors before anything is drawn."""

import numpy as np
from matplotlib.figure import Figure

from bad_input_rows import error, result
from tutor_lib.costs import GIB
from tutor_lib.masks import causal_mask
from tutor_lib.plots import (
    memory_axis_limits,
    plot_attention,
    plot_flop_shares,
    plot_mask,
    plot_memory_bars,
    plot_scaling,
    plot_tiles,
)
from tutor_lib.plots.masks import tile_levels

W = np.full((2, 2), 0.5)


def _axes():
    return Figure().add_subplot()


def _drew(ax):
    return ax.figure is not None


ROWS = [
    error(plot_attention, np.array([[0.5, np.nan]]), name="weights", why="NaN"),
    error(plot_attention, np.array([[2.0, -1.0]]), name="weights", why="scores, not weights"),
    error(plot_attention, np.zeros(3), name="weights", why="1-D"),
    error(plot_attention, np.zeros((0, 3)), name="weights", why="empty"),
    error(plot_attention, np.array([["a"]]), raises=TypeError, name="weights", why="text"),
    error(plot_attention, W, annotate="yes", raises=TypeError, name="annotate", why='"yes"'),
    error(plot_attention, W, colorbar=0, raises=TypeError, name="colorbar", why="0"),
    result(plot_attention, W, ax=_axes(), check=_drew, why="draws on the given axes"),
    error(plot_mask, np.ones((2, 2), dtype=int), raises=TypeError, name="mask", why="int mask"),
    error(plot_mask, np.ones(4, dtype=bool), name="mask", why="1-D mask"),
    result(plot_mask, causal_mask(3), ax=_axes(), check=_drew, why="a causal mask"),
    error(plot_flop_shares, 0, 8, name="d_model", why="d_model 0"),
    error(plot_flop_shares, 8, 32, ns=[5], name="ns", why="one length"),
    error(
        plot_flop_shares,
        8,
        32,
        n_marker="1k",
        raises=TypeError,
        name="n_marker",
        why="a string marker",
    ),
    result(plot_flop_shares, 8, 32, ns=[1, 10**9], ax=_axes(), check=_drew, why="huge n"),
    error(plot_memory_bars, [1, 2], raises=TypeError, name="values", why="a list"),
    error(plot_memory_bars, {}, name="values", why="no bars"),
    error(plot_memory_bars, {"a": -1}, name="values", why="negative bytes"),
    error(plot_memory_bars, {"a": float("nan")}, name="values", why="NaN bytes"),
    error(plot_scaling, [1, 2], [1, 4], raises=TypeError, name="series", why="a list"),
    error(plot_scaling, [1, 2, 4], {"t": [1, 2]}, name="'t'", why="lengths differ"),
    error(plot_scaling, [1, 2], {"t": [1, np.nan]}, name="finite", why="NaN time"),
    error(plot_scaling, [1, 2], {"t": [1, 2]}, fit_min_n=5, name="fit_min_n", why="no points"),
    error(plot_scaling, "ab", {"t": [1, 2]}, raises=TypeError, name="ns", why="a string"),
    error(plot_tiles, causal_mask(4), 0, name="block", why="block 0"),
    error(plot_tiles, np.ones((2, 2)), 2, name="mask", why="float mask"),
    error(tile_levels, causal_mask(4), 1.5, raises=TypeError, name="block", why="float block"),
    result(
        tile_levels,
        causal_mask(8),
        10**6,
        check=lambda t: t.min() == 1,
        why="block 10**6 is one tile (no 10**12 repeat)",
    ),
    error(memory_axis_limits, [GIB], raises=TypeError, name="values", why="a list"),
    error(memory_axis_limits, {"a": "1"}, raises=TypeError, name="values['a']", why="text"),
    error(memory_axis_limits, {"a": 0}, name="values", why="0 bytes (log axis)"),
    error(memory_axis_limits, name="values", why="nothing at all"),
    error(memory_axis_limits, {"a": GIB}, limit_gib=float("nan"), name="limit_gib", why="NaN"),
    result(
        memory_axis_limits,
        {"a": GIB},
        {"b": 8 * GIB},
        limit_gib=80,
        check=lambda lim: lim == (0.25, 3200.0),
        why="two groups and a limit share one axis",
    ),
]
