"""memory_explorer(), attention_memory_explorer() and flop_share_explorer(), driven by setting
control values as a learner would; data checked against independent counts (real torch tensors,
saved_tensors_hooks) and PNG bytes checked to change."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tutor_lib.costs import (
    GIB,
    GPT3_175B,
    MISTRAL_7B_LIKE,
    attention_training_bytes,
    memory_breakdown,
    param_count,
)
from tutor_lib.measure import saved_bytes
from tutor_lib.widgets import attention_memory_explorer, flop_share_explorer, memory_explorer
from tutor_lib.widgets.memory import (
    PRESETS,
    AttentionMemoryExplorer,
    MemoryExplorer,
    memory_formulas,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(widget) -> bytes:
    data = bytes(widget.image.value)
    assert data.startswith(PNG_SIGNATURE)
    return data


def _torch_kv_cache_bytes(shape, tokens, batch, dtype) -> int:
    """Bytes of real K and V tensors, (batch, n_kv, tokens, d_head) per layer."""
    k = torch.empty(batch, shape.kv_heads, tokens, shape.d_head, dtype=dtype)
    return 2 * shape.n_layers * k.nbytes


# -- memory_explorer -----------------------------------------------------------------------------


def test_default_is_mistral_at_32k_fp16_with_4_gib_of_kv_cache():
    e = memory_explorer()
    assert isinstance(e, MemoryExplorer)
    assert e.shape == MISTRAL_7B_LIKE
    assert e.values["KV cache"] == 4 * GIB
    assert e.values["weights"] == 2 * param_count(MISTRAL_7B_LIKE)
    assert e.values["scores, one layer"] == 32 * 32768**2 * 2
    assert "2·32·8·128·32768·2·1" in e.formulas["KV cache"] and "4.000 GiB" in e.info.value
    assert e.note == ""
    _png(e)


def test_each_slider_changes_the_right_bars_and_the_image():
    e = memory_explorer(context=4096)
    before, png = dict(e.values), _png(e)

    e.context_slider.value = 8192  # KV cache ×2, scores ×4, weights unchanged
    assert e.values["weights"] == before["weights"]
    assert e.values["KV cache"] == 2 * before["KV cache"]
    assert e.values["scores, one layer"] == 4 * before["scores, one layer"]
    assert _png(e) != png

    mid = dict(e.values)
    e.batch_slider.value = 3  # batch multiplies the per-sequence memory, not the weights
    assert e.values["weights"] == mid["weights"]
    assert e.values["KV cache"] == 3 * mid["KV cache"]
    assert e.values["scores, one layer"] == 3 * mid["scores, one layer"]

    fp16 = dict(e.values)
    e.bytes_slider.value = 0.5  # int4: a quarter of fp16, for every bar
    assert {k: 4 * v for k, v in e.values.items()} == fp16


def test_kv_heads_slider_matches_a_real_torch_cache():
    e = memory_explorer(context=1024)
    assert e.kv_slider.options == (1, 2, 4, 8, 16, 32)  # the divisors of 32 heads
    for kv in (1, 32):
        e.kv_slider.value = kv
        expected = _torch_kv_cache_bytes(e.shape, 1024, 1, torch.float16)
        assert e.shape.kv_heads == kv and e.values["KV cache"] == expected


def test_preset_change_resets_kv_heads_and_warns_beyond_learned_positions():
    e = memory_explorer(context=4096)
    e.kv_slider.value = 1
    e.preset.value = GPT3_175B.name
    assert e.kv_slider.value == 96 and 96 in e.kv_slider.options and 5 not in e.kv_slider.options
    assert e.values["weights"] == 2 * param_count(GPT3_175B)
    assert "2048 learned positions" in e.note and "⚠" in e.info.value  # 4096 > GPT-3's 2048
    e.context_slider.value = 2048
    assert e.note == "" and "⚠" not in e.info.value


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_agrees_with_memory_breakdown_and_real_tensors(name):
    shape = PRESETS[name]
    e = memory_explorer(preset=name, context=2048, bytes_per_value=4)
    assert e.values == memory_breakdown(shape, 2048, bytes_per_value=4)
    for bpv, dtype in ((4, torch.float32), (2, torch.float16), (1, torch.int8)):
        values = memory_breakdown(shape, 2048, bytes_per_value=bpv)
        assert values["KV cache"] == _torch_kv_cache_bytes(shape, 2048, 1, dtype)
        assert values["weights"] == bpv * param_count(shape)


def test_memory_breakdown_kv_override_does_not_touch_the_preset():
    values = memory_breakdown(MISTRAL_7B_LIKE, 100, n_kv_heads=32)
    assert values["KV cache"] == 4 * memory_breakdown(MISTRAL_7B_LIKE, 100)["KV cache"]
    assert MISTRAL_7B_LIKE.n_kv_heads == 8
    with pytest.raises(ValueError, match="n_kv_heads"):
        memory_breakdown(MISTRAL_7B_LIKE, 100, n_kv_heads=3)


def test_memory_explorer_formulas_show_the_chosen_kv_heads():
    e = memory_explorer(preset=MISTRAL_7B_LIKE.name, context=512)
    e.kv_slider.value = 32
    assert e.formulas == memory_formulas(e.shape, 512)
    assert "2·32·32·128·512·2·1" in e.formulas["KV cache"]


# -- attention_memory_explorer -------------------------------------------------------------------


@pytest.mark.parametrize("b, h, n, d_head", [(1, 1, 16, 4), (2, 4, 32, 8)])
def test_attention_training_bytes_match_what_autograd_saves(b, h, n, d_head):
    d = h * d_head
    q, k, v = (torch.randn(b, h, n, d_head, requires_grad=True) for _ in range(3))

    def dense(q, k, v):
        return torch.softmax(q @ k.transpose(-1, -2) / d_head**0.5, dim=-1) @ v

    values = attention_training_bytes(n, d_model=d, n_heads=h, n_layers=1, batch=b)
    assert values["training: saved, dense"] == saved_bytes(dense, q, k, v)
    # torch's default CPU SDPA is a fused kernel: it saves out and a logsumexp, not P
    assert values["training: saved, fused"] == saved_bytes(F.scaled_dot_product_attention, q, k, v)
    assert values["inference: scores, one layer"] == (q @ k.transpose(-1, -2)).nbytes


def test_attention_memory_explorer_sliders():
    e = attention_memory_explorer(n=4096, n_layers=32)
    assert isinstance(e, AttentionMemoryExplorer)
    before, png = dict(e.values), _png(e)
    e.n_slider.value = 8192
    assert e.values["inference: scores, one layer"] == 4 * before["inference: scores, one layer"]
    assert _png(e) != png
    mid = dict(e.values)
    e.layers_slider.value = 16  # training memory halves, inference (one layer) does not
    assert e.values["inference: scores, one layer"] == mid["inference: scores, one layer"]
    assert 2 * e.values["training: saved, dense"] == mid["training: saved, dense"]
    assert 2 * e.values["training: saved, fused"] == mid["training: saved, fused"]
    e.heads_slider.value = 1
    assert e.values["inference: scores, one layer"] == 8192**2 * 4
    assert "8192²" in e.formulas["inference: scores, one layer"]


# -- flop_share_explorer -------------------------------------------------------------------------


def test_flop_share_explorer_sliders():
    e = flop_share_explorer(d_model=768, ffn_ratio=4.0, n=1024)
    assert e.crossover == 6 * 768 and e.d_ff == 3072
    assert e.flops["scores"] == 4 * 1024**2 * 768
    png = _png(e)
    e.n_slider.value = 8192  # past the crossover: scores dominate
    assert e.flops["scores"] > e.flops["projections"] + e.flops["ffn"]
    assert _png(e) != png
    e.ratio_slider.value = 8 / 3
    assert e.d_ff == 2048 and e.crossover == 2 * 768 + 2048
    e.d_slider.value = 4096
    assert e.crossover == 2 * 4096 + round(8 / 3 * 4096)
    assert f"{e.crossover:,}" in e.info.value


def test_explorers_keep_their_own_state():
    a, b = memory_explorer(), memory_explorer()
    a.context_slider.value = 512
    assert b.context_slider.value == 32768 and a.values != b.values


def test_every_slider_setting_fits_the_fixed_gib_axes():
    """The explorers draw on fixed log axes (a dot moves along one scale): every reachable value
    must sit inside them, including the corners of the sliders' ranges."""
    import dataclasses
    import itertools

    from tutor_lib.widgets.memory import ATTENTION_MEMORY_XLIM, MEMORY_XLIM

    e = memory_explorer()
    contexts = [v for _, v in e.context_slider.options]
    for shape, n, batch, bpv in itertools.product(
        PRESETS.values(),
        (contexts[0], contexts[-1]),
        (e.batch_slider.min, e.batch_slider.max),
        (0.5, 4),
    ):
        for kv in (1, shape.n_heads):
            values = memory_breakdown(
                dataclasses.replace(shape, n_kv_heads=kv), n, batch=batch, bytes_per_value=bpv
            )
            assert all(MEMORY_XLIM[0] < v / GIB < MEMORY_XLIM[1] for v in values.values())
    a = attention_memory_explorer()
    for n, h, layers, batch in itertools.product(
        (a.n_slider.options[0][1], a.n_slider.options[-1][1]),
        (a.heads_slider.options[0], a.heads_slider.options[-1]),
        (a.layers_slider.min, a.layers_slider.max),
        (a.batch_slider.min, a.batch_slider.max),
    ):
        values = attention_training_bytes(
            n, d_model=a.d_model, n_heads=h, n_layers=layers, batch=batch
        )
        lo, hi = ATTENTION_MEMORY_XLIM
        assert all(lo < v / GIB < hi for v in values.values())
