"""Matplotlib helpers (OO API). Each returns the Axes it drew on (its Figure is ``ax.figure``).

With ``ax=None`` a new pyplot figure is made, so in a notebook the plot shows on its own; widgets pass
an Axes of a standalone ``matplotlib.figure.Figure`` instead and never touch pyplot.
"""

from tutor_lib.plots.attention import plot_attention, plot_mask
from tutor_lib.plots.costs import plot_flop_shares, plot_memory_bars, plot_scaling
from tutor_lib.plots.masks import plot_tiles
from tutor_lib.plots.tiled import plot_hbm_traffic, plot_online_softmax_step, plot_tile_schedule

__all__ = [
    "plot_attention",
    "plot_flop_shares",
    "plot_hbm_traffic",
    "plot_mask",
    "plot_memory_bars",
    "plot_online_softmax_step",
    "plot_scaling",
    "plot_tile_schedule",
    "plot_tiles",
]
