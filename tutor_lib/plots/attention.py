"""Heatmaps of attention probabilities and masks: rows = queries (top to bottom), columns = keys.

Masked (query, key) pairs have a colour of their own, :data:`MASKED_COLOUR` (light grey), in both
plots: a probability heatmap would otherwise draw them like a probability of 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap

from tutor_lib._validate import check_bool
from tutor_lib.plots._axes import new_axes

__all__ = ["plot_attention", "plot_mask", "MASKED_COLOUR", "ALLOWED_COLOUR"]

MASKED_COLOUR = "#d4d4d4"  # light grey: not a colour of viridis (probabilities) nor of the mask
ALLOWED_COLOUR = "#2b6cb0"  # the blue of an allowed pair (as plot_tiles draws it)


def _check_matrix(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(f"{name} must be a non-empty 2-D (n_q, n_k) matrix, got shape {arr.shape}")
    return arr


def _label_axes(ax, n_q: int, n_k: int, tokens: Sequence[str] | None, query_tokens=None) -> None:
    ax.set_xlabel("key j")
    ax.set_ylabel("query i")
    if tokens is not None:
        query_tokens = tokens[-n_q:] if query_tokens is None else query_tokens
        ax.set_xticks(range(n_k), labels=list(tokens), rotation=90)
        ax.set_yticks(range(n_q), labels=list(query_tokens))
    elif max(n_q, n_k) <= 16:
        ax.set_xticks(range(n_k))
        ax.set_yticks(range(n_q))


def plot_attention(
    weights,
    *,
    mask=None,
    ax=None,
    title: str | None = None,
    tokens: Sequence[str] | None = None,
    annotate: bool | None = None,
    colorbar: bool = True,
):
    """Heatmap of attention probabilities ``(n_q, n_k)``: row i = query i (top to bottom), column
    j = key j.

    The colour scale is fixed to 0..1 (each row is a probability distribution). ``mask`` (boolean,
    True = may attend, broadcastable to the weights) draws the masked pairs in
    :data:`MASKED_COLOUR` instead of the colour of 0, and leaves them unannotated. ``annotate``
    writes each probability in its cell (default: when the matrix is at most 8×8). ``tokens``
    labels the keys (and the last n_q of them label the queries). Returns the Axes.
    """
    w = _check_matrix(weights, "weights")
    if w.dtype == bool or not np.issubdtype(w.dtype, np.number) or np.iscomplexobj(w):
        raise TypeError(f"weights must hold real numbers, got dtype {w.dtype}")
    if annotate is not None:
        annotate = check_bool(annotate, "annotate")
    colorbar = check_bool(colorbar, "colorbar")
    w = w.astype(float)
    if np.isnan(w).any() or w.min() < -1e-9 or w.max() > 1 + 1e-9:
        raise ValueError(
            "weights must lie in [0, 1] (did you pass scores instead of softmax output?)"
        )
    n_q, n_k = w.shape
    allowed = np.ones(w.shape, dtype=bool) if mask is None else _broadcast_mask(mask, w.shape)
    ax = new_axes(ax, (3.2, 3.0))
    image = ax.imshow(
        np.ma.masked_array(w, mask=~allowed),  # masked pairs → the colormap's "bad" colour
        cmap=colormaps["viridis"].with_extremes(bad=MASKED_COLOUR),
        vmin=0.0,
        vmax=1.0,
        origin="upper",
        aspect="auto",
        interpolation="nearest",
    )
    _label_axes(ax, n_q, n_k, tokens)
    if annotate is None:
        annotate = max(n_q, n_k) <= 8
    if annotate:
        for i, j in zip(*np.nonzero(allowed), strict=True):
            colour = "black" if w[i, j] > 0.6 else "white"
            ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=7, color=colour)
    if colorbar:
        label = "probability" if mask is None else "probability (grey: masked)"
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def _broadcast_mask(mask, shape) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype != bool:
        raise TypeError(f"mask must be boolean (True = may attend), got dtype {m.dtype}")
    try:
        return np.broadcast_to(m, shape)
    except ValueError:
        raise ValueError(f"mask of shape {m.shape} does not broadcast to weights {shape}") from None


def plot_mask(mask, *, ax=None, title: str | None = None, tokens: Sequence[str] | None = None):
    """Boolean mask ``(n_q, n_k)`` as a two-colour grid: blue (:data:`ALLOWED_COLOUR`) = may attend
    (True), light grey (:data:`MASKED_COLOUR`, as in :func:`plot_attention`) = masked.

    Rows = queries (top to bottom), columns = keys, like :func:`plot_attention`. Returns the Axes.
    """
    m = _check_matrix(mask, "mask")
    if m.dtype != bool:
        raise TypeError(f"mask must be boolean (True = may attend), got dtype {m.dtype}")
    n_q, n_k = m.shape
    ax = new_axes(ax, (3.0, 3.0))
    ax.imshow(
        m,
        cmap=ListedColormap([MASKED_COLOUR, ALLOWED_COLOUR]),
        vmin=0,
        vmax=1,
        origin="upper",
        aspect="auto",
        interpolation="nearest",
    )
    _label_axes(ax, n_q, n_k, tokens)
    if max(n_q, n_k) <= 32:  # grid lines between cells help counting
        ax.set_xticks(np.arange(-0.5, n_k), minor=True)
        ax.set_yticks(np.arange(-0.5, n_q), minor=True)
        ax.grid(which="minor", color="white", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
