"""tutor_lib.costs.training: model states (ZeRO's 16 bytes per parameter), activations (Korthikanti
et al. 2022) checked against the closed form and against what autograd saves for real torch blocks
(including a grouped-query + SwiGLU block written here), the budget and the largest batch."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor_lib.costs import (
    GIB,
    GPT2_SMALL,
    GPT3_175B,
    GPU_80GB_BYTES,
    MISTRAL_7B_LIKE,
    ModelShape,
    activation_bytes,
    max_batch_size,
    param_count,
    training_budget,
    training_state_bytes,
)
from tutor_lib.measure import saved_bytes
from tutor_lib.training_memory import TransformerBlock

# -- model states --------------------------------------------------------------------------------


@pytest.mark.parametrize("mixed, split", [(True, (2, 2, 12)), (False, (4, 4, 8))])
def test_adam_keeps_16_bytes_per_parameter_in_both_precisions(mixed, split):
    n = param_count(GPT3_175B)
    states = training_state_bytes(GPT3_175B, mixed_precision=mixed)
    assert states == {
        "weights": split[0] * n,
        "gradients": split[1] * n,
        "optimizer states": split[2] * n,
        "total": 16 * n,
    }


def test_gpt3_states_need_about_2_8_terabytes():
    total = training_state_bytes(GPT3_175B)["total"]
    assert 2.79e12 < total < 2.80e12  # 16 × 174.6 B parameters
    assert math.ceil(total / (80 * GIB)) == 33  # 80 GiB devices
    assert math.ceil(total / (80 * 10**9)) == 35  # 80·10⁹-byte devices


@pytest.mark.parametrize(
    "optimizer, mixed, per_param",
    [("sgd", False, 8), ("sgd", True, 8), ("sgd_momentum", False, 12), ("sgd_momentum", True, 12)],
)
def test_other_optimizers(optimizer, mixed, per_param):
    # fp32 SGD: weights + grads; mixed: 16-bit weights + grads + fp32 master; momentum adds 4
    states = training_state_bytes(GPT2_SMALL, optimizer=optimizer, mixed_precision=mixed)
    assert states["total"] == per_param * param_count(GPT2_SMALL)


# -- activations: the closed form ----------------------------------------------------------------


def _gpt_shape(layers: int, d_head: int, heads: int) -> ModelShape:
    d = d_head * heads
    return ModelShape(n_layers=layers, d_model=d, n_heads=heads, d_ff=4 * d, vocab_size=1)


@settings(max_examples=60, deadline=None)
@given(
    layers=st.integers(1, 100),
    d_head=st.integers(1, 256),
    heads=st.integers(1, 128),
    s=st.integers(1, 10**6),
    b=st.integers(1, 1024),
)
def test_korthikanti_per_layer_formula(layers, d_head, heads, s, b):
    shape, h, a = _gpt_shape(layers, d_head, heads), d_head * heads, heads
    # s·b·h·(34 + 5·a·s/h) = 34·s·b·h + 5·a·s²·b, exactly
    assert activation_bytes(shape, s, b) == layers * (34 * s * b * h + 5 * a * s * s * b)
    assert activation_bytes(shape, s, b, recompute="selective") == layers * 34 * s * b * h
    assert activation_bytes(shape, s, b, recompute="full") == layers * 2 * s * b * h
    # fp32 values, 1-byte masks: 16 values + 2 masks per s·b·h, 2 values + 1 mask per a·s²·b
    assert activation_bytes(shape, s, b, bytes_per_value=4) == layers * (
        (16 * 4 + 2) * s * b * h + (2 * 4 + 1) * a * s * s * b
    )


def test_gpt3_activations_at_2048_tokens():
    # 96 layers × 2048·12288·(34 + 5·96·2048/12288) bytes = 96 × 2048·12288·114
    assert activation_bytes(GPT3_175B, 2048, 1) == 96 * 2048 * 12288 * 114
    assert activation_bytes(GPT3_175B, 2048, 1) / GIB == pytest.approx(256.5)


def test_batch_and_depth_are_linear_and_length_is_quadratic_in_the_score_term():
    one = activation_bytes(GPT2_SMALL, 512, 1)
    assert activation_bytes(GPT2_SMALL, 512, 7) == 7 * one
    deeper = dataclasses.replace(GPT2_SMALL, n_layers=24)
    assert activation_bytes(deeper, 512, 1) == 2 * one
    sel = activation_bytes(GPT2_SMALL, 512, 1, recompute="selective")
    sel2 = activation_bytes(GPT2_SMALL, 1024, 1, recompute="selective")
    assert sel2 == 2 * sel  # no s² term left
    assert activation_bytes(GPT2_SMALL, 1024, 1) - sel2 == 4 * (one - sel)  # the s² term


# -- activations vs a real torch block -----------------------------------------------------------


def _ln_stats(s, b, dtype) -> int:
    """Bytes torch's two LayerNorms also keep: mean and 1/std per token (not in Korthikanti)."""
    return 2 * 2 * s * b * torch.empty(0, dtype=dtype).element_size()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("dropout", [True, False])
@pytest.mark.parametrize("b, s, d_head, heads", [(2, 16, 8, 4), (1, 1, 4, 1), (3, 7, 2, 3)])
def test_activation_bytes_equal_a_real_torch_block(dtype, dropout, b, s, d_head, heads):
    torch.manual_seed(0)
    d = d_head * heads
    block = TransformerBlock(d, heads, dropout=0.1).to(dtype).train(dropout)
    x = torch.randn(b, s, d, dtype=dtype, requires_grad=True)
    measured = saved_bytes(block, x, exclude=block.parameters())
    size = x.element_size()
    # CPU dropout keeps its mask in the activation dtype (a GPU keeps 1 byte)
    formula = activation_bytes(
        _gpt_shape(1, d_head, heads), s, b, bytes_per_value=size, mask_bytes=size, dropout=dropout
    )
    assert measured == formula + _ln_stats(s, b, dtype)


def test_the_documented_difference_from_korthikanti_in_16_bit():
    b, s, h, a = 2, 32, 64, 4
    block = TransformerBlock(h, a, dropout=0.1).to(torch.bfloat16)
    x = torch.randn(b, s, h, dtype=torch.bfloat16, requires_grad=True)
    measured = saved_bytes(block, x, exclude=block.parameters())
    korthikanti = s * b * h * 34 + 5 * a * s * s * b
    # masks: 2 bytes instead of 1 (a·s²·b + 2·s·b·h of them); LayerNorm statistics: 4·s·b·2
    assert measured - korthikanti == (a * s * s * b + 2 * s * b * h) + 8 * s * b


def _gqa_swiglu_block(x, w, heads, kv_heads, p):
    """A pre-norm block with grouped-query attention and a SwiGLU MLP, written for this test:
    each K/V head serves heads // kv_heads query heads, folded into the query axis, so K and V are
    stored at their own (n_kv·d_h) width."""
    b, n, d = x.shape
    g, d_head = heads // kv_heads, d // heads
    h1 = F.layer_norm(x, (d,))
    q = (h1 @ w["q"]).view(b, n, kv_heads, g, d_head).permute(0, 2, 3, 1, 4)  # (b, kv, g, n, dh)
    k = (h1 @ w["k"]).view(b, n, kv_heads, d_head).transpose(1, 2)  # (b, kv, n, dh)
    v = (h1 @ w["v"]).view(b, n, kv_heads, d_head).transpose(1, 2)
    q = q.reshape(b, kv_heads, g * n, d_head)  # the g query heads of a group, one after another
    bias = torch.full((n, n), float("-inf"), dtype=x.dtype).triu(1).repeat(g, 1)  # (g·n, n)
    weights = torch.softmax(q @ k.transpose(-1, -2) / d_head**0.5 + bias, dim=-1)
    y = (F.dropout(weights, p) @ v).view(b, kv_heads, g, n, d_head).permute(0, 3, 1, 2, 4)
    x = x + F.dropout(y.reshape(b, n, d) @ w["o"], p)
    h2 = F.layer_norm(x, (d,))
    return x + F.dropout((F.silu(h2 @ w["gate"]) * (h2 @ w["up"])) @ w["down"], p)


@pytest.mark.parametrize("heads, kv_heads", [(4, 2), (4, 1), (2, 2)])
@pytest.mark.parametrize("p", [0.1, 0.0])
def test_grouped_query_and_swiglu_match_a_real_torch_block(heads, kv_heads, p):
    torch.manual_seed(1)
    b, n, d_head, m = 2, 5, 3, 16
    d, d_kv = heads * d_head, kv_heads * d_head
    sizes = {"q": (d, d), "k": (d, d_kv), "v": (d, d_kv), "o": (d, d)}
    sizes.update({"gate": (d, m), "up": (d, m), "down": (m, d)})
    w = {
        key: torch.randn(*size, dtype=torch.float64, requires_grad=True)
        for key, size in sizes.items()
    }
    x = torch.randn(b, n, d, dtype=torch.float64, requires_grad=True)
    measured = saved_bytes(_gqa_swiglu_block, x, w, heads, kv_heads, p, exclude=w.values())
    shape = ModelShape(
        n_layers=1,
        d_model=d,
        n_heads=heads,
        n_kv_heads=kv_heads,
        d_ff=m,
        vocab_size=1,
        ffn="swiglu",
    )
    formula = activation_bytes(shape, n, b, bytes_per_value=8, mask_bytes=8, dropout=p > 0)
    # layer_norm without weights keeps its input, mean and 1/std: 2 statistics per token per norm
    assert measured == formula + 2 * 2 * b * n * 8


def test_mistral_like_counts_grouped_kv_and_swiglu():
    s, b = 4096, 1
    d, d_kv, m, a = 4096, 1024, 14336, 32
    per_layer = 2 * s * b * (4 * d + 2 * d_kv + 2 * d + 4 * m) + 2 * s * b * d
    per_layer += (2 * 2 + 1) * a * s * s * b
    assert activation_bytes(MISTRAL_7B_LIKE, s, b) == 32 * per_layer


# -- the budget and the largest batch ------------------------------------------------------------


@pytest.mark.parametrize("mixed", [True, False])
def test_training_budget_is_states_plus_activations(mixed):
    parts = training_budget(GPT2_SMALL, 1024, 4, recompute="selective", mixed_precision=mixed)
    states = training_state_bytes(GPT2_SMALL, mixed_precision=mixed)
    acts = activation_bytes(
        GPT2_SMALL, 1024, 4, recompute="selective", bytes_per_value=2 if mixed else 4
    )
    assert parts["activations"] == acts
    assert parts["total"] == states["total"] + acts
    assert list(parts) == ["weights", "gradients", "optimizer states", "activations", "total"]


@settings(max_examples=40, deadline=None)
@given(
    budget=st.integers(0, 10**12),
    s=st.sampled_from([128, 1024, 4096]),
    recompute=st.sampled_from(["none", "selective", "full"]),
)
def test_max_batch_size_is_the_largest_batch_that_fits(budget, s, recompute):
    b = max_batch_size(GPT2_SMALL, s, budget, recompute=recompute)

    def total(batch):
        return training_budget(GPT2_SMALL, s, batch, recompute=recompute)["total"]

    assert total(b + 1) > budget
    if b > 0:
        assert total(b) <= budget


def test_max_batch_size_on_80gb_devices():
    assert max_batch_size(MISTRAL_7B_LIKE, 4096, GPU_80GB_BYTES) == 0  # the states alone do not fit
    assert max_batch_size(GPT3_175B, 2048, 34 * GPU_80GB_BYTES) == 0
    eight = max_batch_size(MISTRAL_7B_LIKE, 4096, 8 * GPU_80GB_BYTES, recompute="full")
    assert eight > max_batch_size(MISTRAL_7B_LIKE, 4096, 8 * GPU_80GB_BYTES) > 0
