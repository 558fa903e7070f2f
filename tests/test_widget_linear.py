"""performer_explorer(): driven like a learner would (set a control's .value), no kernel needed.

The weights on the widget are checked against exact softmax attention and against performer_attention
itself, the error curve against performer_error, and the picture must change with every control."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from oracles import dense_reference

from tutor_lib import linear
from tutor_lib.plots import plot_decode_memory, plot_feature_error, plot_weights
from tutor_lib.widgets import performer_explorer
from tutor_lib.widgets.linear import CURVE_SEEDS, FEATURE_COUNTS, PerformerExplorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: no thread hand-offs on a busy CPU
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def explorer():
    return performer_explorer()


def _png(e) -> bytes:
    data = bytes(e.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def test_default_view_data_is_consistent(explorer):
    e = explorer
    assert isinstance(e, PerformerExplorer)
    assert e.controls["num_features"].value == 64 and e.controls["orthogonal"].value is True
    q, k, v = e._inputs(e.controls["sigma"].value)
    eye = np.eye(q.shape[0])
    np.testing.assert_allclose(e.exact, dense_reference(q, k, eye), atol=1e-12)
    np.testing.assert_allclose(e.estimate.sum(-1), 1.0, atol=1e-12)  # rows of weights
    assert e.curve.shape == (len(FEATURE_COUNTS), len(CURVE_SEEDS))
    expected = linear.performer_error(q, k, v, num_features=64, seeds=CURVE_SEEDS)
    np.testing.assert_allclose(e.curve[FEATURE_COUNTS.index(64)], expected)
    assert e.output_error == pytest.approx(expected[0]) and e.error is None
    assert "⚠" not in e.info.value and f"{e.output_error:.3f}" in e.info.value
    _png(e)


def test_more_features_means_less_error_on_average(explorer):
    means = explorer.curve.mean(axis=1)
    assert means[-1] < means[0] / 4  # 512× the features: ≈ 1/√512 ≈ 0.044 of the error


def test_every_control_changes_the_picture_and_large_sigma_warns(explorer):
    e = explorer
    seen = {_png(e)}
    for name, value in [("num_features", 1024), ("seed", 3), ("orthogonal", False), ("sigma", 1.0)]:
        e.controls[name].value = value
        seen.add(_png(e))
    assert len(seen) == 5
    assert "⚠" in e.info.value and "exp(‖q + k‖²/√d)" in e.info.value
    e.controls["sigma"].value = 0.5
    assert "⚠" not in e.info.value


def test_controls_are_keyboard_friendly_widgets(explorer):
    kinds = (widgets.SelectionSlider, widgets.IntSlider, widgets.Checkbox)
    assert all(isinstance(c, kinds) for c in explorer.controls.values())


def test_an_error_becomes_a_note_not_a_traceback(monkeypatch):
    e = performer_explorer(num_features=16)

    def boom(*args, **kwargs):
        raise RuntimeError("no")

    monkeypatch.setattr(linear, "performer_attention", boom)
    e.controls["seed"].value = 5
    assert "could not draw this: no" in e.info.value


def test_plots_reject_bad_shapes_and_draw_what_they_get():
    ax = plot_feature_error([4, 16], np.array([[0.5, 0.6], [0.25, 0.3]]))
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="errors"):
        plot_feature_error([4, 16], np.ones((3, 2)))
    ax = plot_decode_memory([1, 2, 3], {"a": [0, 1, 2]})
    assert ax.get_ylim()[0] == 0
    ax = plot_weights(np.array([[0.2, 0.8], [1.0, 0.0]]), vmax=1.0)
    image = ax.get_images()[0]
    assert image.get_clim() == (0.0, 1.0) and image.origin == "upper"
    np.testing.assert_array_equal(image.get_array()[0], [0.2, 0.8])  # row 0 = query 0, on top
    with pytest.raises(ValueError, match="weights"):
        plot_weights(-np.ones((2, 2)))
