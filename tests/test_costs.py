"""tutor_lib.costs: every formula against torch (FlopCounterMode, real modules, real tensors) or a
published figure."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import TinyGPT, model_shapes
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from tutor_lib.attention import attention
from tutor_lib.costs import (
    GPT2_SMALL,
    GPT3_175B,
    MISTRAL_7B_LIKE,
    ModelShape,
    attention_flops,
    attention_params,
    crossover_length,
    ffn_flops,
    ffn_params,
    flops_per_token,
    kv_cache_bytes,
    layer_flops,
    non_embedding_params,
    param_breakdown,
    param_count,
    score_matrix_bytes,
    training_flops,
    weight_bytes,
)

SETTINGS = settings(max_examples=30, deadline=None)


def count_flops(fn, *args) -> int:
    """FLOPs torch itself counts (a matmul (m, k) @ (k, p) = 2·m·k·p), attention via the math path."""
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops()


# -- parameters ----------------------------------------------------------------------------------


@SETTINGS
@given(model_shapes())
def test_param_count_equals_a_torch_model_built_from_the_shape(shape):
    model = TinyGPT(shape)
    assert param_count(shape) == sum(p.numel() for p in model.parameters())


def test_gpt3_within_one_percent_of_175_billion():
    # Published: 175.0 B parameters (Brown et al. 2020, Table 2.1).
    assert abs(param_count(GPT3_175B) / 175e9 - 1) < 0.01


def test_published_counts_of_gpt2_small_and_mistral_7b():
    # Published exact counts: GPT-2 small 124,439,808 (the "124M" model); Mistral-7B-v0.1 7,241,732,096.
    assert param_count(GPT2_SMALL) == 124_439_808
    assert param_count(MISTRAL_7B_LIKE) == 7_241_732_096


def test_breakdown_sums_to_total_and_ffn_is_twice_attention_for_gpt():
    parts = param_breakdown(GPT3_175B)
    assert parts["total"] == sum(v for k, v in parts.items() if k != "total")
    # weights only: FFN 8d² vs attention 4d² per layer when m = 4d
    assert ffn_params(768, 3072) == 2 * attention_params(768, 12)


def test_non_embedding_params_is_kaplans_12_l_d_squared_when_m_is_4d():
    # Kaplan et al. 2020: N = 2·d·L·(2·d_attn + d_ff) = 12·L·d² for d_attn = d, d_ff = 4d.
    s = GPT3_175B
    assert non_embedding_params(s) == 12 * s.n_layers * s.d_model**2


@pytest.mark.parametrize("n_kv", [1, 2, 4, 8])
def test_attention_params_match_torch_linear_layers_with_gqa(n_kv):
    d, h = 64, 8
    d_kv = n_kv * d // h
    layers = [nn.Linear(d, d), nn.Linear(d, d_kv), nn.Linear(d, d_kv), nn.Linear(d, d)]
    with_bias = sum(p.numel() for layer in layers for p in layer.parameters())
    weights_only = sum(layer.weight.numel() for layer in layers)
    assert attention_params(d, h, n_kv, bias=True) == with_bias
    assert attention_params(d, h, n_kv) == weights_only


def test_weight_bytes_of_gpt3_at_fp32_fp16_int8_int4():
    n = param_count(GPT3_175B)
    assert [weight_bytes(GPT3_175B, b) for b in (4, 2, 1, 0.5)] == [4 * n, 2 * n, n, n // 2]


# -- FLOPs against FlopCounterMode ---------------------------------------------------------------


@SETTINGS
@given(n=st.integers(1, 40), heads=st.integers(1, 4), d_head=st.integers(1, 8), bias=st.booleans())
def test_attention_flops_match_flop_counter(n, heads, d_head, bias):
    d = heads * d_head
    x = torch.randn(1, n, d, dtype=torch.float64)
    projections = [nn.Linear(d, d, bias=bias, dtype=torch.float64) for _ in range(4)]
    q = torch.randn(1, heads, n, d_head, dtype=torch.float64)
    expected = attention_flops(n, d)
    assert count_flops(lambda: [p(x) for p in projections]) == expected["projections"]
    assert count_flops(F.scaled_dot_product_attention, q, q, q) == expected["scores"]
    explicit = lambda: torch.softmax(q @ q.transpose(-1, -2), -1) @ q  # noqa: E731
    assert count_flops(explicit) == expected["scores"]


@pytest.mark.parametrize("n, d, h", [(16, 8, 2), (33, 12, 3), (64, 32, 4)])
def test_multihead_attention_module_costs_projections_plus_scores(n, d, h):
    mha = nn.MultiheadAttention(d, h, batch_first=True, dtype=torch.float64)
    x = torch.randn(1, n, d, dtype=torch.float64)
    total = sum(attention_flops(n, d).values())
    assert count_flops(lambda: mha(x, x, x, need_weights=False)) == total


def test_negative_control_the_fused_cpu_kernel_is_invisible_to_flop_counter():
    # Without forcing the math path, CPU SDPA runs a fused kernel that FlopCounterMode does not count:
    # proof that the tests above would fail if they counted the wrong thing.
    q = torch.randn(1, 2, 16, 4)
    with FlopCounterMode(display=False) as counter:
        F.scaled_dot_product_attention(q, q, q)
    assert counter.get_total_flops() != attention_flops(16, 8)["scores"]


@SETTINGS
@given(n=st.integers(1, 30), d=st.integers(1, 12), m=st.integers(1, 24), bias=st.booleans())
def test_ffn_flops_match_flop_counter(n, d, m, bias):
    x = torch.randn(n, d, dtype=torch.float64)
    plain = nn.Sequential(
        nn.Linear(d, m, bias=bias), nn.GELU(), nn.Linear(m, d, bias=bias)
    ).double()
    gate, up, down = (nn.Linear(*shape, bias=False).double() for shape in ((d, m), (d, m), (m, d)))
    assert count_flops(plain, x) == ffn_flops(n, d, m) == 4 * n * d * m
    swiglu = lambda: down(F.silu(gate(x)) * up(x))  # noqa: E731
    assert count_flops(swiglu) == ffn_flops(n, d, m, gated=True)


def test_encoder_layer_costs_layer_flops():
    d, h, m, n = 16, 4, 40, 24
    layer = nn.TransformerEncoderLayer(d, h, m, dropout=0.0, batch_first=True, dtype=torch.float64)
    x = torch.randn(1, n, d, dtype=torch.float64)
    assert count_flops(layer, x) == layer_flops(n, d, m)["total"]


@pytest.mark.parametrize("d, m", [(8, 32), (16, 24), (12, 5)])
def test_crossover_length_verified_on_torch_modules(d, m):
    cross = crossover_length(d, m)
    assert cross == 2 * d + m
    heads = 2 if d % 2 == 0 else 1
    lin = [nn.Linear(d, d, bias=False).double() for _ in range(4)]
    ffn = nn.Sequential(nn.Linear(d, m), nn.ReLU(), nn.Linear(m, d)).double()

    def measured(n):
        x = torch.randn(n, d, dtype=torch.float64)
        q = torch.randn(1, heads, n, d // heads, dtype=torch.float64)
        linear = count_flops(lambda: ([p(x) for p in lin], ffn(x)))
        return count_flops(F.scaled_dot_product_attention, q, q, q), linear

    scores, linear = measured(cross)
    assert scores == linear
    below, above = measured(cross - 1), measured(cross + 1)
    assert below[0] < below[1] and above[0] > above[1]


def test_crossover_is_6d_for_m_4d_and_matches_algorithms_reference():
    # reference/algorithms.md §A0: n > 4608 for d = 768 and n > 24576 for d = 4096.
    assert crossover_length(768, 4 * 768) == 4608
    assert crossover_length(4096, 4 * 4096) == 24576


@pytest.mark.parametrize(
    "shape",
    [
        ModelShape(2, 8, 2, 32, 11, n_positions=16),
        ModelShape(3, 12, 4, 20, 7, n_kv_heads=2, ffn="swiglu", bias=False, tied_embeddings=False),
    ],
)
def test_flops_per_token_against_a_torch_forward(shape):
    n = 16
    model = TinyGPT(shape).double()
    counted = count_flops(model, torch.arange(n) % shape.vocab_size)
    per_token = flops_per_token(shape, n)
    dense_scores = shape.n_layers * attention_flops(n, shape.d_model)["scores"]
    # GQA: K and V are computed for n_kv heads only; params counts them at their true size.
    head = 2 * n * shape.d_model * shape.vocab_size  # the output layer, not part of Kaplan's N
    assert counted == n * per_token["params"] + dense_scores + head
    # Kaplan's attention term is half the dense count: a causal kernel skips the masked half.
    assert 2 * n * per_token["attention"] == dense_scores


def test_gpt3_training_compute_matches_the_paper():
    # Brown et al. 2020, Table D.1: 3.14e23 training FLOPs for GPT-3 175B on 300 B tokens.
    assert abs(training_flops(param_count(GPT3_175B), 300e9) / 3.14e23 - 1) < 0.01


# -- bytes ---------------------------------------------------------------------------------------


def test_mistral_kv_cache_is_128_kib_per_token_and_4_gib_at_32k():
    # reference/algorithms.md §A0: L=32, n_kv=8, d_h=128, bf16 → 128 KiB/token, 4 GiB at 32k.
    assert kv_cache_bytes(MISTRAL_7B_LIKE, 1) == 128 * 2**10
    assert kv_cache_bytes(MISTRAL_7B_LIKE, 32 * 1024) == 4 * 2**30


@SETTINGS
@given(
    shape=model_shapes(),
    tokens=st.integers(0, 9),
    batch=st.integers(1, 3),
    dtype=st.sampled_from([torch.float32, torch.float16, torch.int8]),
)
def test_kv_cache_bytes_equals_a_real_torch_cache(shape, tokens, batch, dtype):
    cache = []  # per layer: K and V of shape (batch, n_kv, tokens, d_head), grown one token at a time
    for _ in range(shape.n_layers):
        k = torch.zeros(batch, shape.kv_heads, 0, shape.d_head, dtype=dtype)
        v = torch.zeros_like(k)
        for _ in range(tokens):
            new = torch.zeros(batch, shape.kv_heads, 1, shape.d_head, dtype=dtype)
            k, v = torch.cat([k, new], dim=2), torch.cat([v, new], dim=2)
        cache += [k, v]
    nbytes = sum(t.nbytes for t in cache)
    bpv = torch.tensor([], dtype=dtype).element_size()
    assert kv_cache_bytes(shape, tokens, bpv, batch) == nbytes
    assert kv_cache_bytes(shape, tokens, 0.5, batch) * 2 == nbytes // bpv  # int4


@SETTINGS
@given(n=st.integers(1, 24), heads=st.integers(1, 3), batch=st.integers(1, 2))
def test_score_matrix_bytes_equals_the_weights_attention_returns(n, heads, batch):
    rng = np.random.default_rng(n)
    for dtype, bpv in ((np.float64, 8), (np.float32, 4)):
        q = rng.standard_normal((batch, heads, n, 3)).astype(dtype)
        _, weights = attention(q, q, q, return_weights=True)
        assert score_matrix_bytes(n, heads, bpv, batch) == weights.nbytes


# -- bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: attention_flops(0, 8), "n"),
        (lambda: attention_flops(8, -1), "d_model"),
        (lambda: ffn_flops(4, 8, 0), "d_ff"),
        (lambda: crossover_length(8, 0), "d_ff"),
        (lambda: ModelShape(2, 10, 3, 8, 5), "n_heads"),
        (lambda: ModelShape(2, 8, 4, 8, 5, n_kv_heads=3), "n_kv_heads"),
        (lambda: ModelShape(2, 8, 4, 8, 5, ffn="tanh"), "ffn"),
        (lambda: ModelShape(0, 8, 4, 8, 5), "n_layers"),
        (lambda: kv_cache_bytes(GPT2_SMALL, -1), "tokens"),
        (lambda: kv_cache_bytes(GPT2_SMALL, 4, 0), "bytes_per_value"),
        (lambda: kv_cache_bytes(GPT2_SMALL, 4, 2, batch=0), "batch"),
        (lambda: score_matrix_bytes(3, 1, 0.3), "bytes_per_value"),
        (lambda: score_matrix_bytes(3, 0), "n_heads"),
        (lambda: attention_params(8, 4, 8), "n_kv_heads"),
        (lambda: attention_params(12, 6, 4), "n_kv_heads"),
        (lambda: ffn_params(8, 8, "tanh"), "ffn"),
        (lambda: training_flops(-1, 10), "n_params"),
        (lambda: flops_per_token(GPT2_SMALL, 0), "n_ctx"),
    ],
)
def test_bad_values_raise_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: attention_flops(1.5, 8), "n"),
        (lambda: param_count({"d_model": 8}), "shape"),
        (lambda: kv_cache_bytes(GPT2_SMALL, 4, "2"), "bytes_per_value"),
        (lambda: dataclasses.replace(GPT2_SMALL, n_layers=True), "n_layers"),
    ],
)
def test_wrong_kinds_raise_type_error_naming_the_argument(call, match):
    with pytest.raises(TypeError, match=match):
        call()
