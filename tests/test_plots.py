"""Plot helpers: orientation (query i on row i, top to bottom), labels, colour limits, bad input.

Orientation is checked twice: on the image data/axes settings, and on rendered pixels (the colour at
the centre of the i-th strip from the top and j-th strip from the left is the colour of weight[i, j]),
so an orientation bug cannot hide behind compensating settings (e.g. flipped data on a flipped axis).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from tutor_lib.attention import attention, causal_mask
from tutor_lib.plots import plot_attention, plot_mask
from tutor_lib.plots.attention import ALLOWED_COLOUR, MASKED_COLOUR


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _asymmetric_weights(n_q=3, n_k=5):
    """Softmax rows with distinct values everywhere, so any transpose or flip changes the picture."""
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((n_q, 4)), rng.standard_normal((n_k, 4))
    _, w = attention(2 * q, k, k, return_weights=True)
    return w


def _rendered_cells(ax, shape) -> np.ndarray:
    """Render the figure; RGBA (0..1) at the centre of each of the n_q × n_k cells, located by
    position in the Axes box (row 0 = top strip, column 0 = left strip), not by data coordinates,
    so the check does not trust the Axes' own limits or origin."""
    fig = ax.figure
    if not hasattr(fig.canvas, "buffer_rgba"):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    n_rows, n_cols = shape
    cells = np.empty((n_rows, n_cols, 4))
    for i in range(n_rows):
        for j in range(n_cols):
            x, y = ax.transAxes.transform(((j + 0.5) / n_cols, 1 - (i + 0.5) / n_rows))
            cells[i, j] = pixels[int(round(pixels.shape[0] - y)), int(round(x))] / 255.0
    return cells


def test_plot_attention_orientation_and_labels():
    w = _asymmetric_weights()
    ax = plot_attention(w, annotate=False)
    assert isinstance(ax, Axes)
    image = ax.images[0]
    assert np.array_equal(np.asarray(image.get_array()), w)  # not transposed
    assert image.origin == "upper"
    bottom, top = ax.get_ylim()
    assert bottom > top  # y axis inverted: row 0 at the top
    assert "key" in ax.get_xlabel().lower() and "query" in ax.get_ylabel().lower()
    assert image.get_clim() == (0.0, 1.0)
    # row 0 is drawn above the last row, column 0 left of the last column
    x0, y0 = ax.transData.transform((0, 0))
    x1, y1 = ax.transData.transform((w.shape[1] - 1, w.shape[0] - 1))
    assert y0 > y1 and x0 < x1


def test_plot_attention_pixels_follow_the_matrix():
    w = _asymmetric_weights()
    ax = plot_attention(w, annotate=False, colorbar=False)
    image = ax.images[0]
    expected = np.asarray(image.cmap(image.norm(w)))  # (n_q, n_k, 4)
    assert np.abs(_rendered_cells(ax, w.shape) - expected).max() < 2.5 / 255


def test_pixel_check_catches_a_flipped_heatmap():
    """Negative control: the same data drawn bottom-up (origin='lower') fails the pixel comparison."""
    w = _asymmetric_weights()
    ax = Figure().add_subplot()
    image = ax.imshow(w, vmin=0, vmax=1, origin="lower", interpolation="nearest")
    expected = np.asarray(image.cmap(image.norm(w)))
    assert np.abs(_rendered_cells(ax, w.shape) - expected).max() > 0.1


def test_plot_attention_annotations_sit_on_their_cells():
    w = _asymmetric_weights()
    ax = plot_attention(w, annotate=True)
    texts = {
        (round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts
    }
    assert len(texts) == w.size
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            assert texts[(i, j)] == f"{w[i, j]:.2f}"


def test_plot_attention_colour_limits_are_fixed_to_probabilities():
    w = np.full((4, 4), 0.25)  # a uniform matrix must not be stretched to the full colour range
    ax = plot_attention(w)
    assert ax.images[0].get_clim() == (0.0, 1.0)
    colorbar_axes = [a for a in ax.figure.axes if a is not ax]
    assert len(colorbar_axes) == 1
    low, high = sorted(colorbar_axes[0].get_ylim())
    assert (low, high) == (0.0, 1.0)


def test_plot_attention_on_given_axes_with_tokens():
    fig = Figure()
    given = fig.add_subplot()
    tokens = ["the", "cat", "sat", "on", "mat"]
    w = _asymmetric_weights(3, 5)
    ax = plot_attention(w, ax=given, tokens=tokens, title="t")
    assert ax is given
    assert [t.get_text() for t in ax.get_xticklabels()] == tokens
    assert [t.get_text() for t in ax.get_yticklabels()] == tokens[-3:]  # queries = last n_q tokens
    assert ax.get_title() == "t"


def test_plot_attention_accepts_fully_masked_rows():
    _, w = attention(
        np.ones((4, 2)), np.ones((2, 2)), np.ones((2, 2)), causal=True, return_weights=True
    )
    ax = plot_attention(w)
    assert np.array_equal(np.asarray(ax.images[0].get_array()), w)


@pytest.mark.parametrize("bad", [np.full(4, 0.25), np.full((2, 2, 2), 0.5)])
def test_plot_attention_rejects_non_2d(bad):
    with pytest.raises(ValueError, match="weights"):
        plot_attention(bad)


@pytest.mark.parametrize("value", [1.5, -0.2, np.nan])
def test_plot_attention_rejects_values_outside_unit_interval(value):
    w = np.full((3, 3), 1 / 3)
    w[1, 2] = value
    with pytest.raises(ValueError, match="weights"):
        plot_attention(w)


def test_plot_mask_puts_true_where_the_mask_is_true():
    mask = np.array(
        [
            [True, False, False, False, True],
            [True, True, False, False, False],
            [False, True, True, True, False],
        ]
    )  # 3×5 and asymmetric: a transpose or a flip would move the True cells
    ax = plot_mask(mask)
    assert isinstance(ax, Axes)
    image = ax.images[0]
    assert np.array_equal(np.asarray(image.get_array()).astype(bool), mask)
    assert image.origin == "upper" and ax.get_ylim()[0] > ax.get_ylim()[1]
    assert "key" in ax.get_xlabel().lower() and "query" in ax.get_ylabel().lower()
    true_rgba = np.asarray(image.cmap(image.norm(1.0)))
    false_rgba = np.asarray(image.cmap(image.norm(0.0)))
    assert true_rgba[:3].sum() < false_rgba[:3].sum()  # True is the darker colour
    expected = np.where(mask[..., None], true_rgba, false_rgba)
    assert np.abs(_rendered_cells(ax, mask.shape) - expected).max() < 2.5 / 255


def test_plot_mask_bottom_right_causal_title_and_axes():
    fig = Figure()
    given = fig.add_subplot()
    ax = plot_mask(causal_mask(2, 5), ax=given, title="decode")
    assert ax is given and ax.get_title() == "decode"
    assert np.array_equal(np.asarray(ax.images[0].get_array()).astype(bool), causal_mask(2, 5))


def test_plot_mask_rejects_bad_input():
    with pytest.raises(TypeError, match="mask"):
        plot_mask(np.ones((3, 3)))
    with pytest.raises(TypeError, match="mask"):
        plot_mask(np.ones((3, 3), dtype=int))
    with pytest.raises(ValueError, match="mask"):
        plot_mask(np.ones(3, dtype=bool))


def test_masked_pairs_get_their_own_colour_not_the_colour_of_zero():
    n = 5
    mask = causal_mask(n)
    _, w = attention(
        *(np.random.default_rng(3).standard_normal((n, 4)),) * 3, causal=True, return_weights=True
    )
    ax = plot_attention(w, mask=mask, annotate=False, colorbar=False)
    image = ax.images[0]
    cells = _rendered_cells(ax, w.shape)
    allowed_rgba = np.asarray(image.cmap(image.norm(w)))
    assert np.abs(cells[mask] - allowed_rgba[mask]).max() < 2.5 / 255
    grey = np.asarray(to_rgba(MASKED_COLOUR))
    assert np.abs(cells[~mask] - grey).max() < 2.5 / 255
    zero = np.asarray(image.cmap(image.norm(0.0)))
    assert np.abs(grey - zero)[:3].max() > 0.3  # masked is not drawn like a probability of 0
    annotated = plot_attention(w, mask=mask, annotate=True, colorbar=False)
    assert len(annotated.texts) == mask.sum()  # masked cells carry no "0.00"


def test_negative_control_without_a_mask_masked_pairs_look_like_zero():
    n = 4
    _, w = attention(
        *(np.random.default_rng(4).standard_normal((n, 3)),) * 3, causal=True, return_weights=True
    )
    ax = plot_attention(w, annotate=False, colorbar=False)
    cells = _rendered_cells(ax, w.shape)
    grey = np.asarray(to_rgba(MASKED_COLOUR))
    assert np.abs(cells[~causal_mask(n)] - grey).max() > 0.3


def test_plot_mask_uses_the_same_masked_colour_as_the_heatmap():
    mask = causal_mask(4, 6)
    ax = plot_mask(mask)
    cells = _rendered_cells(ax, mask.shape)
    assert np.abs(cells[~mask] - np.asarray(to_rgba(MASKED_COLOUR))).max() < 2.5 / 255
    assert np.abs(cells[mask] - np.asarray(to_rgba(ALLOWED_COLOUR))).max() < 2.5 / 255


def test_plot_attention_mask_errors_name_the_mask():
    w = np.full((3, 3), 1 / 3)
    with pytest.raises(TypeError, match="mask"):
        plot_attention(w, mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="mask"):
        plot_attention(w, mask=np.ones((2, 3), dtype=bool))
