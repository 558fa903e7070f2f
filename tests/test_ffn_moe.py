"""tutor_lib.ffn.moe_ffn against independent references: a per-token loop written from the
definition, the Hugging Face Mixtral recipe in torch (softmax over all E, keep the top k,
renormalise), and the limits (identical experts == ffn, top_k = 1 == the arg-max expert)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import assert_close_f64

from tutor_lib.ffn import ffn, moe_ffn

SETTINGS = settings(max_examples=40, deadline=None)


def _experts(rng, d, widths):
    return [
        (
            rng.standard_normal((d, m)),
            rng.standard_normal(m),
            rng.standard_normal((m, d)),
            rng.standard_normal(d),
        )
        for m in widths
    ]


def _loop_oracle(x, w_router, experts, top_k, activation):
    """One token at a time, in plain Python floats where it matters (the routing and the gates)."""
    act = {
        "relu": lambda h: np.maximum(h, 0.0),
        "gelu": np.vectorize(lambda z: 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0)))),
    }[activation]
    out = np.zeros_like(x)
    counts = [0] * len(experts)
    for i, token in enumerate(x):
        logits = [float(token @ w_router[:, e]) for e in range(len(experts))]
        chosen = sorted(range(len(experts)), key=lambda e: (-logits[e], e))[:top_k]
        top = max(logits[e] for e in chosen)
        weights = [math.exp(logits[e] - top) for e in chosen]
        for e, w in zip(chosen, weights, strict=True):
            w1, b1, w2, b2 = experts[e]
            out[i] += w / sum(weights) * (act(token @ w1 + b1) @ w2 + b2)
            counts[e] += 1
    return out, np.array(counts)


def _mixtral_torch(x, w_router, experts, top_k):
    """Hugging Face's Mixtral block: softmax over all E logits, top-k, divide by their sum."""
    xt = torch.from_numpy(x)
    probs = torch.softmax(xt @ torch.from_numpy(w_router), dim=-1)
    weights, chosen = torch.topk(probs, top_k, dim=-1)
    weights = weights / weights.sum(dim=-1, keepdim=True)
    out = torch.zeros_like(xt)
    for e, (w1, b1, w2, b2) in enumerate(experts):
        hidden = torch.relu(xt @ torch.from_numpy(w1) + torch.from_numpy(b1))
        y = hidden @ torch.from_numpy(w2) + torch.from_numpy(b2)
        out += (weights * (chosen == e)).sum(-1, keepdim=True) * y
    return out.numpy()


@SETTINGS
@given(
    n=st.integers(1, 12),
    d=st.integers(1, 6),
    num_experts=st.integers(1, 5),
    data=st.data(),
    activation=st.sampled_from(["relu", "gelu"]),
    seed=st.integers(0, 2**16),
)
def test_matches_a_per_token_loop(n, d, num_experts, data, activation, seed):
    top_k = data.draw(st.integers(1, num_experts))
    widths = data.draw(st.lists(st.integers(1, 7), min_size=num_experts, max_size=num_experts))
    rng = np.random.default_rng(seed)
    x, w_router = rng.standard_normal((n, d)), rng.standard_normal((d, num_experts))
    experts = _experts(rng, d, widths)
    out, counts = moe_ffn(x, w_router, experts, top_k=top_k, activation=activation)
    ref_out, ref_counts = _loop_oracle(x, w_router, experts, top_k, activation)
    assert_close_f64(out, ref_out)
    assert counts.tolist() == ref_counts.tolist() and counts.sum() == n * top_k


@pytest.mark.parametrize("n, d, m, num_experts, top_k", [(16, 8, 12, 8, 2), (5, 3, 4, 4, 3)])
def test_matches_the_mixtral_recipe_in_torch(n, d, m, num_experts, top_k):
    rng = np.random.default_rng(n)
    x, w_router = rng.standard_normal((n, d)), rng.standard_normal((d, num_experts))
    experts = _experts(rng, d, [m] * num_experts)
    out, _ = moe_ffn(x, w_router, experts, top_k=top_k)
    assert_close_f64(out, _mixtral_torch(x, w_router, experts, top_k))


@pytest.mark.parametrize("top_k", [1, 2, 4])
def test_identical_experts_give_the_plain_ffn(top_k):
    rng = np.random.default_rng(top_k)
    x, w_router = rng.standard_normal((9, 5)), rng.standard_normal((5, 4))
    expert = _experts(rng, 5, [7])[0]
    out, counts = moe_ffn(x, w_router, [expert] * 4, top_k=top_k, activation="gelu")
    assert_close_f64(out, ffn(x, *expert, activation="gelu"))
    assert counts.sum() == 9 * top_k


def test_top_1_is_the_arg_max_expert_with_gate_one():
    rng = np.random.default_rng(1)
    x, w_router = rng.standard_normal((20, 4)), rng.standard_normal((4, 3))
    experts = _experts(rng, 4, [6, 6, 6])
    out, counts = moe_ffn(x, w_router, experts, top_k=1)
    best = (x @ w_router).argmax(-1)
    expected = np.stack([ffn(x[i], *experts[e]) for i, e in enumerate(best)])
    assert_close_f64(out, expected)
    assert counts.tolist() == np.bincount(best, minlength=3).tolist()


def test_ties_go_to_the_lower_expert_index_with_equal_gates():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 3))
    experts = _experts(rng, 3, [4] * 5)
    out, counts = moe_ffn(x, np.zeros((3, 5)), experts, top_k=2)  # every logit is 0
    assert counts.tolist() == [6, 6, 0, 0, 0]
    assert_close_f64(out, 0.5 * ffn(x, *experts[0]) + 0.5 * ffn(x, *experts[1]))


def test_huge_router_logits_stay_finite():
    rng = np.random.default_rng(3)
    x, w_router = rng.standard_normal((8, 4)), 1e4 * rng.standard_normal((4, 4))
    experts = _experts(rng, 4, [5] * 4)
    out, _ = moe_ffn(x, w_router, experts, top_k=2)
    ref, _ = _loop_oracle(x, w_router, experts, 2, "relu")
    assert np.isfinite(out).all()
    assert_close_f64(out, ref)


def test_negative_control_gates_over_all_experts_differ():
    # softmax over all E (not renormalised over the top k) is a different layer: the tests above
    # would catch a moe_ffn that did this
    rng = np.random.default_rng(4)
    x, w_router = rng.standard_normal((8, 4)), rng.standard_normal((4, 4))
    experts = _experts(rng, 4, [5] * 4)
    logits = x @ w_router
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    chosen = np.argsort(-logits, axis=-1)[:, :2]
    wrong = sum(
        np.take_along_axis(probs, chosen[:, j : j + 1], -1)
        * np.stack([ffn(x[i], *experts[e]) for i, e in enumerate(chosen[:, j])])
        for j in range(2)
    )
    out, _ = moe_ffn(x, w_router, experts, top_k=2)
    assert np.abs(out - wrong).max() > 1e-3


def test_float32_stays_float32_and_counts_are_ints():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    experts = [tuple(a.astype(np.float32) for a in e) for e in _experts(rng, 3, [4, 4])]
    out, counts = moe_ffn(x, rng.standard_normal((3, 2)).astype(np.float32), experts, top_k=1)
    assert out.dtype == np.float32 and counts.dtype.kind == "i"
