"""tutor_lib.costs: decoding's bytes and FLOPs against a real torch decoding step (FlopCounterMode,
the nbytes of real parameters and caches), the roofline's closed forms, and published figures."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import TinyGPT, model_shapes
from torch.utils.flop_counter import FlopCounterMode

from tutor_lib.costs import (
    GPT3_175B,
    MISTRAL_7B_LIKE,
    ModelShape,
    decode_critical_batch,
    decode_step_bytes,
    decode_step_flops,
    kv_cache_bytes,
    matmul_cost,
    param_count,
    roofline_seconds,
    weight_bytes,
)

SETTINGS = settings(max_examples=25, deadline=None)


@SETTINGS
@given(shape=model_shapes(), context=st.integers(1, 7), batch=st.integers(1, 3))
def test_decode_step_flops_and_bytes_equal_a_real_decoding_step(shape, context, batch):
    model = TinyGPT(shape)
    caches = [
        {k: torch.randn(batch, shape.kv_heads, context - 1, shape.d_head) for k in ("k", "v")}
        for _ in range(shape.n_layers)
    ]
    tokens = torch.arange(batch) % shape.vocab_size
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.step(tokens, caches, position=min(context - 1, max(shape.n_positions - 1, 0)))
    assert counter.get_total_flops() == decode_step_flops(shape, context, batch=batch)
    # what the step reads: every parameter (a tied matrix once) and the caches, now `context` long
    params = {p.untyped_storage().data_ptr(): p.nbytes for p in model.parameters()}
    cache = sum(t.nbytes for c in caches for t in c.values())
    assert sum(params.values()) + cache == decode_step_bytes(
        shape, context, batch=batch, bytes_per_value=4
    )


def test_decode_step_bytes_is_weights_plus_kv_cache():
    for shape, context, batch in [(MISTRAL_7B_LIKE, 4096, 1), (GPT3_175B, 2048, 8)]:
        expected = weight_bytes(shape) + kv_cache_bytes(shape, context, batch=batch)
        assert decode_step_bytes(shape, context, batch=batch) == expected
    # Mistral-7B-like in bf16: 14.5 GB of weights (7.24 B parameters) + 128 KiB per cached token
    assert decode_step_bytes(MISTRAL_7B_LIKE, 0) == 2 * param_count(MISTRAL_7B_LIKE)
    assert decode_step_bytes(MISTRAL_7B_LIKE, 1) - decode_step_bytes(MISTRAL_7B_LIKE, 0) == 2**17


@SETTINGS
@given(batch=st.integers(1, 9), d_in=st.integers(1, 40), d_out=st.integers(1, 40))
def test_matmul_cost_counts_flops_and_the_bytes_of_w_x_and_y(batch, d_in, d_out):
    x, w = torch.randn(batch, d_in), torch.randn(d_in, d_out)
    with FlopCounterMode(display=False) as counter:
        y = x @ w
    cost = matmul_cost(batch, d_in, d_out)
    assert cost["flops"] == counter.get_total_flops()
    assert cost["bytes"] == w.nbytes + x.nbytes + y.nbytes
    assert matmul_cost(batch, d_in, d_out, bytes_per_value=2)["bytes"] * 2 == cost["bytes"]


def test_roofline_seconds_is_the_larger_of_the_two_times():
    assert roofline_seconds(100.0, 10.0, flops_per_second=10.0, bytes_per_second=2.0) == 10.0
    assert roofline_seconds(100.0, 40.0, flops_per_second=10.0, bytes_per_second=2.0) == 20.0
    assert roofline_seconds(0, 8, flops_per_second=1.0, bytes_per_second=4.0) == 2.0
    with pytest.raises(ValueError, match="bytes_per_second"):
        roofline_seconds(1, 1, flops_per_second=1.0, bytes_per_second=0.0)
    with pytest.raises(ValueError, match="flops"):
        roofline_seconds(-1, 1, flops_per_second=1.0, bytes_per_second=1.0)


def _times(shape, context, batch, rate, bandwidth, bpv):
    compute = decode_step_flops(shape, context, batch=batch) / rate
    memory = decode_step_bytes(shape, context, batch=batch, bytes_per_value=bpv) / bandwidth
    return compute, memory


@SETTINGS
@given(
    shape=st.sampled_from([MISTRAL_7B_LIKE, GPT3_175B, ModelShape(2, 64, 8, 256, 100, 2)]),
    context=st.integers(0, 5000),
    rate=st.floats(1e9, 1e15),
    ridge=st.floats(0.5, 1000.0),
    bpv=st.sampled_from([0.5, 1, 2, 4]),
)
def test_critical_batch_is_the_first_batch_whose_compute_time_reaches_memory_time(
    shape, context, rate, ridge, bpv
):
    bandwidth = rate / ridge
    b = decode_critical_batch(shape, context, rate, bandwidth, bpv)
    if b == math.inf:  # no batch: even a huge one stays memory-bound
        compute, memory = _times(shape, context, 10**9, rate, bandwidth, bpv)
        assert compute <= memory * (1 + 1e-9)
        return
    assert isinstance(b, int) and b >= 1
    compute, memory = _times(shape, context, b, rate, bandwidth, bpv)
    assert compute >= memory * (1 - 1e-9)
    if b > 1:
        compute, memory = _times(shape, context, b - 1, rate, bandwidth, bpv)
        assert compute <= memory * (1 + 1e-9)


def test_critical_batch_with_published_h100_figures():
    """H100 SXM (NVIDIA datasheet): 989 TFLOP/s dense bf16, 3.35 TB/s. Its ridge is ~295 FLOPs per
    byte, so one bf16 weight (2 FLOPs per token) needs ~300 tokens in flight; a few hundred tokens
    of context per sequence already make the KV cache too heavy for any batch."""
    rate, bandwidth = 989e12, 3.35e12
    assert 280 <= decode_critical_batch(MISTRAL_7B_LIKE, 1, rate, bandwidth) <= 320
    assert decode_critical_batch(MISTRAL_7B_LIKE, 4096, rate, bandwidth) == math.inf
    assert decode_critical_batch(GPT3_175B, 2048, rate, bandwidth) == math.inf
    # negative control: without the per-sequence cache (context 0) a finite batch always exists
    assert decode_critical_batch(GPT3_175B, 0, rate, bandwidth) < 400
