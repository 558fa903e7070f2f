"""Matplotlib helpers (OO API). Each returns the Axes it drew on (its Figure is ``ax.figure``).

With ``ax=None`` a new pyplot figure is made, so in a notebook the plot shows on its own; widgets pass
an Axes of a standalone ``matplotlib.figure.Figure`` instead and never touch pyplot.
"""

from tutor_lib.plots.attention import plot_attention, plot_mask
from tutor_lib.plots.chunking import plot_query_reach, plot_retrieval, plot_ring_schedule
from tutor_lib.plots.compare import plot_budget, plot_pareto
from tutor_lib.plots.costs import (
    memory_axis_limits,
    plot_flop_shares,
    plot_memory_bars,
    plot_scaling,
)
from tutor_lib.plots.linear import plot_decode_memory, plot_feature_error, plot_weights
from tutor_lib.plots.masks import plot_tiles
from tutor_lib.plots.quant import plot_error_curves, plot_grid, plot_scheme_errors
from tutor_lib.plots.roofline import plot_roofline
from tutor_lib.plots.tiled import plot_hbm_traffic, plot_online_softmax_step, plot_tile_schedule
from tutor_lib.plots.training import plot_saved_vs_depth, plot_training_budget

__all__ = [
    "memory_axis_limits",
    "plot_attention",
    "plot_budget",
    "plot_decode_memory",
    "plot_error_curves",
    "plot_feature_error",
    "plot_flop_shares",
    "plot_grid",
    "plot_hbm_traffic",
    "plot_mask",
    "plot_memory_bars",
    "plot_online_softmax_step",
    "plot_pareto",
    "plot_query_reach",
    "plot_retrieval",
    "plot_ring_schedule",
    "plot_roofline",
    "plot_saved_vs_depth",
    "plot_scaling",
    "plot_scheme_errors",
    "plot_tile_schedule",
    "plot_tiles",
    "plot_training_budget",
    "plot_weights",
]
