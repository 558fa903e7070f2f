"""tutor_lib.costs, second edition: grouped-query attention, SwiGLU and causal counts in the FLOP
formulas and the crossover; Mixture-of-Experts parameters and FLOPs; the context that fits next to
the weights; the "80 GB" GPU constant. Every formula against torch (FlopCounterMode on real modules,
parameters that take part in a real forward pass) or a published figure."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tutor_lib.costs import (
    GIB,
    GPT2_SMALL,
    GPT3_175B,
    GPU_80GB_BYTES,
    MIB,
    MISTRAL_7B_LIKE,
    ModelShape,
    attention_flops,
    crossover_length,
    ffn_flops,
    kv_cache_bytes,
    layer_flops,
    max_cached_tokens,
    moe_ffn_flops,
    moe_param_counts,
    param_count,
    weight_bytes,
)
from tutor_lib.measure import count_flops

SETTINGS = settings(max_examples=25, deadline=None)
F64 = torch.float64


# -- independent torch pieces, counted by FlopCounterMode -----------------------------------------


def _projections(d, d_kv):
    """W_Q, W_K, W_V, W_O as nn.Linear layers (K and V only d_kv wide under GQA)."""
    return [nn.Linear(d, out, bias=False, dtype=F64) for out in (d, d_kv, d_kv, d)]


def _ffn(d, m, gated):
    if gated:
        gate, up, down = (nn.Linear(*s, bias=False, dtype=F64) for s in ((d, m), (d, m), (m, d)))
        return lambda x: down(F.silu(gate(x)) * up(x))
    return nn.Sequential(nn.Linear(d, m), nn.ReLU(), nn.Linear(m, d)).double()


def _causal_rows(q, k, v):
    """Causal attention computed row by row: query i meets only keys 0 … i (nothing masked away)."""
    n = q.shape[-2]
    rows = []
    for i in range(n):
        p = torch.softmax(q[..., i : i + 1, :] @ k[..., : i + 1, :].transpose(-1, -2), dim=-1)
        rows.append(p @ v[..., : i + 1, :])
    return torch.cat(rows, dim=-2)


def _counted(n, d, m, *, h, n_kv, gated, causal):
    """(scores, projections, ffn) FLOPs of one GQA layer on n tokens, as torch counts them."""
    d_h = d // h
    x = torch.randn(n, d, dtype=F64)
    proj, ffn = _projections(d, n_kv * d_h), _ffn(d, m, gated)
    q = torch.randn(1, h, n, d_h, dtype=F64)
    kv = torch.randn(1, n_kv, n, d_h, dtype=F64)
    if causal:
        group = h // n_kv
        k, v = kv.repeat_interleave(group, 1), kv.repeat_interleave(group, 1)
        scores = count_flops(_causal_rows, q, k, v)
    else:
        scores = count_flops(
            lambda: F.scaled_dot_product_attention(q, kv, kv, enable_gqa=n_kv != h)
        )
    return scores, count_flops(lambda: [p(x) for p in proj]), count_flops(ffn, x)


@st.composite
def layers(draw):
    n_kv = draw(st.sampled_from([1, 2]))
    h = n_kv * draw(st.sampled_from([1, 2, 4]))
    return {
        "d": h * draw(st.integers(1, 3)),
        "m": draw(st.integers(1, 12)),
        "h": h,
        "n_kv": n_kv,
        "gated": draw(st.booleans()),
        "causal": draw(st.booleans()),
    }


@SETTINGS
@given(layer=layers(), n=st.integers(1, 12))
def test_layer_flops_with_gqa_swiglu_causal_match_flop_counter(layer, n):
    d, m, h, n_kv = layer["d"], layer["m"], layer["h"], layer["n_kv"]
    gated, causal = layer["gated"], layer["causal"]
    scores, proj, ffn = _counted(n, d, m, h=h, n_kv=n_kv, gated=gated, causal=causal)
    got = layer_flops(n, d, m, gated=gated, n_heads=h, n_kv_heads=n_kv, causal=causal)
    assert (got["scores"], got["projections"], got["ffn"]) == (scores, proj, ffn)
    assert got["total"] == scores + proj + ffn


@SETTINGS
@given(layer=layers())
def test_crossover_is_the_first_length_where_counted_scores_reach_the_rest(layer):
    d, m, h, n_kv = layer["d"], layer["m"], layer["h"], layer["n_kv"]
    kw = {"h": h, "n_kv": n_kv, "gated": layer["gated"], "causal": layer["causal"]}
    cross = crossover_length(
        d, m, n_heads=h, n_kv_heads=n_kv, gated=layer["gated"], causal=layer["causal"]
    )
    scores, proj, ffn = _counted(cross, d, m, **kw)
    assert scores >= proj + ffn
    if cross > 1:
        scores, proj, ffn = _counted(cross - 1, d, m, **kw)
        assert scores < proj + ffn


def test_old_call_forms_are_unchanged():
    assert crossover_length(768, 3072) == 4608 == 6 * 768
    assert attention_flops(10, 8) == {"projections": 8 * 10 * 64, "scores": 4 * 100 * 8}
    assert layer_flops(10, 8, 32) == layer_flops(10, 8, 32, n_heads=2, n_kv_heads=2)
    # without GQA, naming the heads changes nothing
    assert crossover_length(64, 256, n_heads=4) == crossover_length(64, 256) == 384


def test_mistral_like_crossover_counts_gqa_and_swiglu():
    # reference/algorithms.md §F: 5d² projections with 8 KV heads → n = 1.25d + 1.5m = 26,624.
    s = MISTRAL_7B_LIKE
    kw = {"n_heads": s.n_heads, "n_kv_heads": s.kv_heads, "gated": True}
    assert attention_flops(1, s.d_model, n_heads=32, n_kv_heads=8)["projections"] == 5 * 4096**2
    assert crossover_length(s.d_model, s.d_ff, **kw) == 26_624 == 1.25 * 4096 + 1.5 * 14336
    # ignoring GQA gives the old, wrong 2d + 1.5m = 29,696
    assert crossover_length(s.d_model, s.d_ff, gated=True) == 29_696
    # causal halves the scores: 2n(n+1)d = 5nd² + 6ndm  ⇔  n = 2.5d + 3m − 1
    assert crossover_length(s.d_model, s.d_ff, causal=True, **kw) == 53_247


def test_causal_scores_are_about_half_and_exactly_the_allowed_pairs():
    n, d = 7, 4
    full, causal = attention_flops(n, d)["scores"], attention_flops(n, d, causal=True)["scores"]
    assert causal == 4 * d * int(np.tril(np.ones((n, n))).sum())
    assert causal / full == pytest.approx((n + 1) / (2 * n))


def test_non_integer_crossover_rounds_up():
    # gated, m odd: n = d + d_kv + 1.5m is not whole; the first whole n with scores ≥ rest
    d, m = 4, 3
    cross = crossover_length(d, m, gated=True)
    assert cross == 13  # 4 + 4 + 4.5 = 12.5
    at, before = layer_flops(cross, d, m, gated=True), layer_flops(cross - 1, d, m, gated=True)
    assert at["scores"] >= at["projections"] + at["ffn"]
    assert before["scores"] < before["projections"] + before["ffn"]


# -- Mixture of Experts --------------------------------------------------------------------------


class _MoEModel(nn.Module):
    """A decoder whose FFNs are E experts with a router, built from a ModelShape (independent of
    tutor_lib): which parameters a token uses is found by running it."""

    def __init__(self, s: ModelShape, num_experts: int, top_k: int):
        super().__init__()
        d, d_kv, b = s.d_model, s.kv_heads * s.d_head, s.bias
        self.s, self.k = s, top_k
        norm = (lambda: nn.LayerNorm(d)) if b else (lambda: nn.RMSNorm(d))
        self.embed = nn.Embedding(s.vocab_size, d)
        self.pos = nn.Embedding(s.n_positions, d) if s.n_positions else None
        self.layers = nn.ModuleList()
        for _ in range(s.n_layers):
            layer = nn.ModuleDict(
                {
                    "norm1": norm(),
                    "qkvo": nn.ModuleList(nn.Linear(d, out, bias=b) for out in (d, d_kv, d_kv, d)),
                    "norm2": norm(),
                    "router": nn.Linear(d, num_experts, bias=False),
                    "experts": nn.ModuleList(self._expert(s) for _ in range(num_experts)),
                }
            )
            self.layers.append(layer)
        self.norm = norm()
        self.head = nn.Linear(d, s.vocab_size, bias=False)
        if s.tied_embeddings:
            self.head.weight = self.embed.weight

    @staticmethod
    def _expert(s):
        lin = [nn.Linear(s.d_model, s.d_ff, bias=s.bias)]
        if s.ffn == "swiglu":
            lin.append(nn.Linear(s.d_model, s.d_ff, bias=s.bias))
        lin.append(nn.Linear(s.d_ff, s.d_model, bias=s.bias))
        return nn.ModuleList(lin)

    def forward(self, token):  # one token: its attention weight on itself is 1
        s, group = self.s, self.s.n_heads // self.s.kv_heads
        x = self.embed(token)[0]  # (d,)
        if self.pos is not None:
            x = x + self.pos(torch.zeros_like(token))[0]
        for layer in self.layers:
            q, k, v, o = layer["qkvo"]
            h = layer["norm1"](x)
            keys = k(h).view(s.kv_heads, -1).repeat_interleave(group, 0)  # (h, d_h)
            values = v(h).view(s.kv_heads, -1).repeat_interleave(group, 0)
            p = torch.softmax((q(h).view(s.n_heads, -1) * keys).sum(-1, keepdim=True), -1)
            x = x + o((p * values).reshape(-1))
            h = layer["norm2"](x)
            top = torch.topk(layer["router"](h), self.k)
            for g, e in zip(torch.softmax(top.values, -1), top.indices.tolist(), strict=True):
                lin = layer["experts"][e]
                hidden = F.silu(lin[0](h)) * lin[1](h) if len(lin) == 3 else F.gelu(lin[0](h))
                x = x + g * lin[-1](hidden)
        return self.head(self.norm(x))


@pytest.mark.parametrize(
    "shape",
    [
        ModelShape(2, 8, 4, 12, 11, n_kv_heads=2, ffn="swiglu", bias=False, tied_embeddings=False),
        ModelShape(3, 6, 2, 10, 7, n_positions=5),
        ModelShape(1, 4, 1, 3, 5, ffn="relu"),
    ],
)
@pytest.mark.parametrize("num_experts, top_k", [(1, 1), (4, 1), (4, 2), (3, 3)])
def test_moe_param_counts_equal_a_torch_model_and_the_parameters_one_token_uses(
    shape, num_experts, top_k
):
    torch.manual_seed(0)
    model = _MoEModel(shape, num_experts, top_k)
    model(torch.tensor([1])).sum().backward()
    total = sum(p.numel() for p in model.parameters())
    used = sum(p.numel() for p in model.parameters() if p.grad is not None)
    assert moe_param_counts(shape, num_experts, top_k) == {"total": total, "active": used}


def test_mixtral_like_matches_the_published_46_7_and_12_9_billion():
    # Mixtral 8x7B (Jiang et al. 2024, arXiv 2401.04088; Mistral AI's release: 46.7 B total,
    # 12.9 B used per token) is the Mistral-7B shape with 8 SwiGLU experts, top 2.
    counts = moe_param_counts(MISTRAL_7B_LIKE, 8, 2)
    assert round(counts["total"] / 1e9, 1) == 46.7
    assert round(counts["active"] / 1e9, 1) == 12.9
    # one expert, top 1 is the dense model plus a (d × 1) router per layer
    one = moe_param_counts(MISTRAL_7B_LIKE, 1, 1)
    assert one["total"] == one["active"] == param_count(MISTRAL_7B_LIKE) + 32 * 4096


def _torch_moe(x, router, experts, k):
    """Each expert runs only on the rows routed to it (the FLOPs a real MoE layer spends)."""
    logits = router(x)
    top = torch.topk(logits, k, dim=-1)
    gates = torch.softmax(top.values, dim=-1)
    out = torch.zeros_like(x)
    for e, expert in enumerate(experts):
        rows, slot = torch.nonzero(top.indices == e, as_tuple=True)
        out[rows] += gates[rows, slot, None] * expert(x[rows])
    return out


@pytest.mark.parametrize("gated", [False, True])
@pytest.mark.parametrize("n, d, m, num_experts, top_k", [(1, 4, 8, 2, 1), (33, 8, 12, 4, 2)])
def test_moe_ffn_flops_match_flop_counter(n, d, m, num_experts, top_k, gated):
    torch.manual_seed(n)
    router = nn.Linear(d, num_experts, bias=False, dtype=F64)
    experts = [_ffn(d, m, gated) for _ in range(num_experts)]
    x = torch.randn(n, d, dtype=F64)
    counted = count_flops(_torch_moe, x, router, experts, top_k)
    expected = moe_ffn_flops(n, d, m, num_experts=num_experts, top_k=top_k, gated=gated)
    assert counted == expected
    # the experts cost top_k dense FFNs, whatever E is
    assert expected - 2 * n * d * num_experts == top_k * ffn_flops(n, d, m, gated=gated)


# -- what fits next to the weights ----------------------------------------------------------------


@SETTINGS
@given(
    shape=st.sampled_from([GPT2_SMALL, MISTRAL_7B_LIKE, GPT3_175B]),
    gib=st.integers(0, 1000),
    batch=st.integers(1, 64),
    bpv=st.sampled_from([4, 2, 1, 0.5]),
)
def test_max_cached_tokens_is_the_largest_context_that_fits(shape, gib, batch, bpv):
    memory = gib * GIB
    t = max_cached_tokens(shape, memory, batch=batch, bytes_per_value=bpv)
    weights = weight_bytes(shape, bpv)

    def used(tokens):
        return weights + kv_cache_bytes(shape, tokens, bpv, batch)

    if t > 0:
        assert used(t) <= memory
    assert used(t + 1) > memory or weights > memory


def test_max_cached_tokens_for_mistral_like_on_one_80_gib_gpu():
    # 80 GiB − 13.49 GiB of fp16 weights, at 128 KiB per token
    free = 80 * GIB - weight_bytes(MISTRAL_7B_LIKE)
    assert max_cached_tokens(MISTRAL_7B_LIKE, GPU_80GB_BYTES) == free // (128 * 2**10)
    assert max_cached_tokens(GPT3_175B, GPU_80GB_BYTES) == 0  # 325 GiB of weights


def test_an_80_gb_gpu_is_80_gib():
    # nvidia-smi reports 81,920 MiB on an A100 80GB and 81,559 MiB on an H100 80GB.
    assert GPU_80GB_BYTES == 81_920 * MIB == 80 * GIB
    assert abs(81_559 * MIB / GPU_80GB_BYTES - 1) < 0.005
    assert GPU_80GB_BYTES > 80 * 10**9  # not the 74.5 GiB of a decimal conversion


# -- bad keyword values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: attention_flops(4, 8, n_kv_heads=2), ValueError, "n_heads"),
        (lambda: attention_flops(4, 8, n_heads=3), ValueError, "n_heads"),
        (lambda: attention_flops(4, 8, n_heads=4, n_kv_heads=3), ValueError, "n_kv_heads"),
        (lambda: attention_flops(4, 8, n_heads=2, n_kv_heads=4), ValueError, "n_kv_heads"),
        (lambda: attention_flops(4, 8, causal="yes"), TypeError, "causal"),
        (lambda: crossover_length(8, 8, gated=1), TypeError, "gated"),
        (lambda: crossover_length(8, 8, n_heads=0), ValueError, "n_heads"),
        (lambda: layer_flops(4, 8, 8, n_kv_heads=1), ValueError, "n_heads"),
        (lambda: moe_param_counts(GPT2_SMALL, 4, 5), ValueError, "top_k"),
        (lambda: moe_ffn_flops(4, 8, 8, num_experts=0, top_k=1), ValueError, "num_experts"),
        (lambda: max_cached_tokens(GPT2_SMALL, -1), ValueError, "memory_bytes"),
        (lambda: max_cached_tokens(GPT2_SMALL, 1.5e9), TypeError, "memory_bytes"),
    ],
)
def test_bad_keywords_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
