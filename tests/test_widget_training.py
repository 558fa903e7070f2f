"""training_memory_explorer() driven like a learner would (set a control's .value), checked against
tutor_lib.costs and closed forms; plot_training_budget and plot_saved_vs_depth draw what they are
given."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from tutor_lib.costs import (
    GIB,
    GPT2_SMALL,
    GPT3_175B,
    GPU_80GB_BYTES,
    MISTRAL_7B_LIKE,
    TRAINING_PARTS,
    activation_bytes,
    param_count,
    training_budget,
)
from tutor_lib.plots import plot_saved_vs_depth, plot_training_budget
from tutor_lib.widgets import training_memory_explorer
from tutor_lib.widgets.training import PRESETS, TrainingMemoryExplorer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(widget) -> bytes:
    data = bytes(widget.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def test_default_is_mistral_at_4096_tokens_with_16_bytes_per_parameter():
    e = training_memory_explorer()
    assert isinstance(e, TrainingMemoryExplorer)
    assert e.shape == MISTRAL_7B_LIKE
    assert e.parts == training_budget(MISTRAL_7B_LIKE, 4096, 1)
    states = e.parts["weights"] + e.parts["gradients"] + e.parts["optimizer states"]
    assert states == 16 * param_count(MISTRAL_7B_LIKE)
    assert e.state_devices == math.ceil(states / GPU_80GB_BYTES)
    assert e.devices == math.ceil(e.parts["total"] / GPU_80GB_BYTES)
    assert e.max_batch == 0  # the states alone are more than one GPU
    assert f"{e.devices} × 80 GB GPUs" in e.info.value and e.note == ""
    _png(e)


def test_batch_and_length_change_only_the_activations():
    e = training_memory_explorer(preset=GPT2_SMALL.name, seq_len=1024)
    before, png = dict(e.parts), _png(e)
    e.batch_slider.value = 3
    assert e.parts["activations"] == 3 * before["activations"]
    assert all(e.parts[k] == before[k] for k in TRAINING_PARTS[:3])
    assert _png(e) != png
    e.batch_slider.value = 1
    e.recompute.value = "selective"  # no s² term: doubling s doubles the activations
    sel = e.parts["activations"]
    e.length_slider.value = 2048
    assert e.parts["activations"] == 2 * sel
    assert e.parts["activations"] == activation_bytes(GPT2_SMALL, 2048, 1, recompute="selective")


def test_recompute_options_order_and_full_is_one_input_per_layer():
    e = training_memory_explorer(preset=MISTRAL_7B_LIKE.name, seq_len=8192)
    acts = {}
    for option in ("none", "selective", "full"):
        e.recompute.value = option
        acts[option] = e.parts["activations"]
    assert acts["full"] < acts["selective"] < acts["none"]
    assert acts["full"] == 32 * 8192 * 4096 * 2  # L · s · b · d · 2 bytes


def test_depth_slider_scales_activations_and_layer_parameters():
    e = training_memory_explorer(preset=GPT2_SMALL.name, seq_len=512)
    twelve = dict(e.parts)
    e.depth_slider.value = 24
    assert e.shape == dataclasses.replace(GPT2_SMALL, n_layers=24)
    assert e.parts["activations"] == 2 * twelve["activations"]
    assert e.parts["weights"] == 2 * param_count(e.shape)
    assert e.parts["weights"] > twelve["weights"]


def test_optimizer_and_precision_controls():
    e = training_memory_explorer(preset=GPT2_SMALL.name, seq_len=512)
    n = param_count(GPT2_SMALL)
    assert e.parts["optimizer states"] == 12 * n
    e.optimizer.value = "sgd"
    assert e.parts["optimizer states"] == 4 * n  # the fp32 master copy only
    e.mixed.value = False
    assert e.parts["weights"] == 4 * n and e.parts["optimizer states"] == 0
    assert e.parts["activations"] == activation_bytes(GPT2_SMALL, 512, 1, bytes_per_value=4)


def test_preset_change_resets_depth_and_warns_beyond_learned_positions():
    e = training_memory_explorer(preset=GPT2_SMALL.name, seq_len=4096)
    assert "1024 positions" in e.note and "⚠" in e.info.value
    e.depth_slider.value = 3
    e.preset.value = GPT3_175B.name
    assert e.depth_slider.value == 96 and e.shape == GPT3_175B
    e.length_slider.value = 2048
    assert e.note == ""
    assert e.state_devices == math.ceil(16 * param_count(GPT3_175B) / GPU_80GB_BYTES)
    assert e.max_batch == 0


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_agrees_with_training_budget(name):
    e = training_memory_explorer(preset=name, seq_len=1024, batch=2, recompute="full")
    assert e.parts == training_budget(PRESETS[name], 1024, 2, recompute="full")


def test_explorers_keep_their_own_state():
    a, b = training_memory_explorer(), training_memory_explorer()
    a.batch_slider.value = 4
    assert b.batch_slider.value == 1 and a.parts != b.parts


# -- plots ---------------------------------------------------------------------------------------


def _axes():
    return Figure(figsize=(5, 3)).add_subplot()


def test_budget_bars_are_stacked_in_gib_in_order():
    rows = {
        "a": {"weights": 2 * GIB, "gradients": GIB, "optimizer states": 4 * GIB, "activations": 0},
        "b": {
            "weights": GIB,
            "gradients": GIB,
            "optimizer states": GIB,
            "activations": 8 * GIB,
            "total": 11 * GIB,
        },
    }
    ax = plot_training_budget(rows, ax=_axes(), limit_bytes=10 * GIB, limit_label="GPU")
    # barh is called once per part with both rows: patches go part by part, row a then row b
    widths = [p.get_width() for p in ax.patches]
    lefts = [p.get_x() for p in ax.patches]
    assert widths == [2, 1, 1, 1, 4, 1, 0, 8]
    assert lefts == [0, 0, 2, 1, 3, 2, 7, 3]
    ys = [p.get_y() for p in ax.patches]
    assert ys[0] > ys[1]  # the first row is on top
    ticks = dict(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], strict=True))
    assert ticks == {1: "a", 0: "b"}
    limit = [line for line in ax.get_lines() if line.get_label() == "GPU"]
    assert len(limit) == 1 and limit[0].get_xdata()[0] == 10
    assert ax.get_xlim()[1] > 11
    assert any("11 GiB" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="rows"):
        plot_training_budget({}, ax=_axes())


def test_saved_vs_depth_plots_the_values_with_fitted_slopes():
    depths = np.array([1, 4, 16, 64])
    series = {"plain": 100 * depths, "sqrt": 100 * np.sqrt(depths), "flat": np.full(4, 100.0)}
    ax = plot_saved_vs_depth(depths, series, ax=_axes())
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["plain (slope 1.00)", "sqrt (slope 0.50)", "flat (slope 0.00)"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), series["sqrt"])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match=r"series\['plain'\]"):
        plot_saved_vs_depth(depths, {"plain": [1, 2]}, ax=_axes())
    with pytest.raises(ValueError, match="depths"):
        plot_saved_vs_depth([1], {"x": [1]}, ax=_axes())
