"""quantization_explorer() driven like a learner would (set a control's .value), and the plot helpers
it draws with. The widget's numbers are recomputed here from tutor_lib.quant and closed forms."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.figure import Figure

from tutor_lib import quant
from tutor_lib.plots import plot_error_curves, plot_grid, plot_scheme_errors
from tutor_lib.widgets import quantization_explorer
from tutor_lib.widgets.quant import SCHEME_LABELS, QuantizationExplorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(explorer) -> bytes:
    data = bytes(explorer.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def test_default_view_is_consistent_with_the_library():
    e = quantization_explorer()
    assert isinstance(e, QuantizationExplorer)
    assert (e.bits.value, e.scheme.value, e.magnitude.value) == (8, "tensor", 20.0)
    np.testing.assert_array_equal(e.x, quant.outlier_activations(64, 64, 20.0, channels=1, seed=0))
    assert len(e.outliers) == 1 and e.column not in e.outliers
    # per tensor, 8 bits: the step is max|x| / 127 and the grid has 255 levels
    assert e.step == pytest.approx(np.abs(e.x).max() / 127)
    assert e.levels.size == 255 and e.levels[-1] == pytest.approx(np.abs(e.x).max())
    exact = e.x @ e.w
    for scheme in quant.SCHEMES:
        approx = quant.quantized_matmul(e.x, e.w, 8, scheme=scheme)
        assert e.errors[scheme] == pytest.approx(quant.relative_error(approx, exact))
    assert e.output_error == e.errors["tensor"] and e.error is None
    assert e.bytes["total"] == 64 * 64 + 2 and e.notes == []
    assert f"{e.output_error:.3g}" in e.info.value and "⚠" not in e.info.value
    _png(e)


def test_controls_are_standard_widgets_and_every_scheme_is_offered():
    e = quantization_explorer()
    assert isinstance(e.bits, widgets.IntSlider) and (e.bits.min, e.bits.max) == (2, 8)
    assert isinstance(e.magnitude, widgets.FloatSlider)
    assert isinstance(e.scheme, widgets.Dropdown)
    assert sorted(SCHEME_LABELS.values()) == sorted(quant.SCHEMES)


def test_every_control_changes_the_picture():
    e = quantization_explorer()
    seen = {_png(e)}
    for scheme in quant.SCHEMES[1:]:
        e.scheme.value = scheme
        seen.add(_png(e))
    e.bits.value = 4
    seen.add(_png(e))
    e.magnitude.value = 60.0
    seen.add(_png(e))
    assert len(seen) == len(quant.SCHEMES) + 2
    assert "could not draw" not in e.info.value


@pytest.mark.parametrize("bits", [3, 8])
def test_the_grid_is_the_scale_of_an_ordinary_entry_for_each_scheme(bits):
    e = quantization_explorer(bits=bits, magnitude=40.0)
    c = e.column
    steps = {
        "tensor": quant.quantize(e.x, bits)[1].item(),
        "token": quant.quantize(e.x, bits, axis=0)[1][0, 0],
        "channel": quant.quantize(e.x, bits, axis=1)[1][0, c],
        "llm.int8": quant.quantize(np.delete(e.x, e.outliers, axis=1), bits, axis=0)[1][0, 0],
    }
    for scheme, step in steps.items():
        e.scheme.value = scheme
        assert e.step == pytest.approx(step)
        assert e.levels.size == 2**bits - 1
        np.testing.assert_allclose(np.diff(e.levels), step)
    # with a big outlier, per tensor and per token waste the grid on it; LLM.int8 does not
    assert steps["llm.int8"] < steps["token"] / 5 and steps["channel"] < steps["tensor"] / 5


def test_llm_int8_wins_with_a_large_outlier_and_is_per_token_without_one():
    e = quantization_explorer(scheme="llm.int8", magnitude=60.0)
    assert e.errors["llm.int8"] < e.errors["token"] / 3
    assert e.bytes["outliers"] == 2 * 64 * 1
    e.magnitude.value = 0.0
    assert len(e.outliers) == 0
    assert e.errors["llm.int8"] == e.errors["token"]
    assert any("plain per token" in note for note in e.notes)
    assert "⚠" in e.info.value


def test_the_channel_scheme_says_it_is_simulated():
    e = quantization_explorer(scheme="channel")
    assert any("simulated" in note for note in e.notes) and "simulated" in e.info.value


def test_fewer_bits_fewer_bytes_more_error():
    e = quantization_explorer(scheme="token", magnitude=10.0)
    totals, errors = [], []
    for bits in (8, 6, 4, 2):
        e.bits.value = bits
        totals.append(e.bytes["total"])
        errors.append(e.output_error)
    assert totals == sorted(totals, reverse=True) and errors == sorted(errors)
    assert totals[-1] == 64 * 64 * 2 // 8 + 64 * 2


# ---- the plots ----------------------------------------------------------------------------------


def test_plot_grid_draws_the_levels_in_view_and_the_histogram():
    ax = Figure().subplots()
    values = np.array([-1.0, 0.0, 0.5, 1.0])
    levels = np.linspace(-10, 10, 21)  # 1 apart: 5 of them within ±2
    plot_grid(values, levels, ax=ax, span=2.0)
    (grid,) = ax.collections
    assert sorted(seg[0][0] for seg in grid.get_segments()) == [-2, -1, 0, 1, 2]
    assert sum(p.get_height() for p in ax.patches) == 4 and ax.get_xlim() == (-2, 2)


def test_plot_scheme_errors_bars_match_the_numbers():
    ax = Figure().subplots()
    errors = {"tensor": 0.1, "token": 0.05, "llm.int8": 0.002}
    plot_scheme_errors(errors, highlight="token", ax=ax)
    heights = [p.get_height() for p in ax.patches]
    assert heights == list(errors.values()) and ax.get_yscale() == "log"
    alphas = [p.get_alpha() for p in ax.patches]
    assert alphas == [0.35, 1.0, 0.35]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(errors)


def test_plot_error_curves_one_line_per_scheme_and_shape_check():
    ax = Figure().subplots()
    plot_error_curves([1, 2, 3], {"tensor": [0.1, 0.2, 0.3], "llm.int8": [0.01, 0.01, 0.01]}, ax=ax)
    assert len(ax.lines) == 2 and list(ax.lines[0].get_ydata()) == [0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match="tensor"):
        plot_error_curves([1, 2], {"tensor": [0.1]}, ax=Figure().subplots())
