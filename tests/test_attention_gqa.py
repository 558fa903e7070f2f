"""multi_head_attention with grouped-query attention (num_kv_heads) against PyTorch's SDPA with
``enable_gqa=True`` (float64), the num_kv_heads = num_heads limit, and a negative control."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import assert_close_f64

from tutor_lib.attention import merge_heads, multi_head_attention, split_heads


def _sdpa_gqa(x, w_q, w_k, w_v, w_o, h, h_kv, causal):
    q = torch.from_numpy(split_heads(x @ w_q, h))  # (..., h, n, d_h)
    k = torch.from_numpy(split_heads(x @ w_k, h_kv))  # (..., h_kv, n, d_h)
    v = torch.from_numpy(split_heads(x @ w_v, h_kv))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
    return merge_heads(out.numpy()) @ w_o


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 9),
    h_kv=st.sampled_from([1, 2, 3]),
    group=st.sampled_from([1, 2, 4]),
    d_h=st.integers(1, 4),
    causal=st.booleans(),
    batch=st.sampled_from([(), (2,)]),
    seed=st.integers(0, 2**16),
)
def test_gqa_equals_sdpa_enable_gqa(n, h_kv, group, d_h, causal, batch, seed):
    rng = np.random.default_rng(seed)
    h = h_kv * group
    d = h * d_h
    x = rng.standard_normal((*batch, n, d))
    w_q, w_o = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    w_k, w_v = rng.standard_normal((d, h_kv * d_h)), rng.standard_normal((d, h_kv * d_h))
    ours = multi_head_attention(x, w_q, w_k, w_v, w_o, h, causal=causal, num_kv_heads=h_kv)
    assert_close_f64(ours, _sdpa_gqa(x, w_q, w_k, w_v, w_o, h, h_kv, causal))


def test_num_kv_heads_equal_to_num_heads_is_plain_multi_head_attention():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 8))
    ws = [rng.standard_normal((8, 8)) for _ in range(4)]
    plain = multi_head_attention(x, *ws, 4, causal=True)
    assert np.array_equal(plain, multi_head_attention(x, *ws, 4, causal=True, num_kv_heads=4))


def test_negative_control_pairing_query_head_i_with_kv_head_i_mod_n_kv_differs():
    rng = np.random.default_rng(1)
    h, h_kv, d_h, n = 4, 2, 3, 6
    d = h * d_h
    x = rng.standard_normal((n, d))
    w_q, w_o = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    w_k, w_v = rng.standard_normal((d, h_kv * d_h)), rng.standard_normal((d, h_kv * d_h))
    q = split_heads(x @ w_q, h)
    k, v = (np.tile(split_heads(x @ w, h_kv), (2, 1, 1)) for w in (w_k, w_v))  # 0,1,0,1
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(d_h)
    p = np.exp(scores - scores.max(-1, keepdims=True))
    tiled = merge_heads((p / p.sum(-1, keepdims=True)) @ v) @ w_o
    ours = multi_head_attention(x, w_q, w_k, w_v, w_o, h, num_kv_heads=h_kv)
    assert np.abs(ours - tiled).max() > 1e-3


@pytest.mark.parametrize(
    "kwargs, shapes, match",
    [
        ({"num_kv_heads": 3}, (8, 8), "num_kv_heads"),  # 4 heads not divisible by 3
        ({"num_kv_heads": 8}, (8, 8), "num_kv_heads"),  # more KV heads than query heads
        ({"num_kv_heads": 2}, (8, 8), "w_k"),  # w_k must be (8, 4) for 2 KV heads
        ({}, (8, 4), "w_k"),
    ],
)
def test_bad_gqa_shapes_name_the_argument(kwargs, shapes, match):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 8))
    w_q, w_o = rng.standard_normal((8, 8)), rng.standard_normal((8, 8))
    w_kv = rng.standard_normal(shapes)
    with pytest.raises(ValueError, match=match):
        multi_head_attention(x, w_q, w_kv, w_kv, w_o, 4, **kwargs)
