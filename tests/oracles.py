"""Independent references and tolerance helpers shared by every test file.

The oracles are deliberately written differently from tutor_lib (torch, masked_fill, a dense mask built
with arange broadcasting) so that a shared bug cannot hide.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st
from torch import nn

from tutor_lib.costs import ModelShape

F64_TOL = 1e-10


def dense_reference(q, k, v, mask=None, *, causal=False, scale=None) -> np.ndarray:
    """softmax(q kᵀ·scale + (-inf where not allowed)) v in float64 torch; fully masked rows → 0.

    Causal is bottom-right: key j allowed for query i iff j <= i + n_k - n_q.
    """
    q, k, v = (torch.as_tensor(np.asarray(a), dtype=torch.float64) for a in (q, k, v))
    n_q, n_k = q.shape[-2], k.shape[-2]
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    allowed = torch.ones(scores.shape, dtype=torch.bool)
    if mask is not None:
        allowed = allowed & torch.as_tensor(np.asarray(mask, dtype=bool))
    if causal:
        rows = torch.arange(n_q).unsqueeze(-1) + (n_k - n_q)
        allowed = allowed & (torch.arange(n_k).unsqueeze(0) <= rows)
    scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)  # all -inf row → NaN → 0
    return torch.matmul(weights, v).numpy()


def sdpa_reference(q, k, v, mask=None, *, scale=None) -> np.ndarray:
    """torch.nn.functional.scaled_dot_product_attention in float64 (the production kernel)."""
    q, k, v = (torch.as_tensor(np.asarray(a), dtype=torch.float64) for a in (q, k, v))
    m = None if mask is None else torch.as_tensor(np.asarray(mask, dtype=bool))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=scale).numpy()


def assert_close_f64(actual, expected, tol: float = F64_TOL) -> None:
    """Max-abs agreement for float64 results (exact algorithms should agree to ~1e-15)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert not np.isnan(actual).any(), "result contains NaN"
    err = float(np.max(np.abs(actual - expected))) if actual.size else 0.0
    assert err <= tol, f"max abs error {err:.3g} > {tol:.1g}"


def arange_mask(n_q: int, n_k: int, rule) -> np.ndarray:
    """A dense boolean mask from a rule on broadcast index grids: ``rule(i, j) -> bool array``."""
    i = np.arange(n_q)[:, None]
    j = np.arange(n_k)[None, :]
    return np.broadcast_to(rule(i, j), (n_q, n_k)).copy()


def causal_lower_right_mask(n_q: int, n_k: int) -> np.ndarray:
    """torch's own bottom-right causal mask, ``torch.nn.attention.bias.causal_lower_right``, dense bool.

    ``_materialize`` is the only way torch 2.13 offers to densify a CausalBias; tests only. The first
    call costs ~2 s: importing ``torch.nn.attention.bias`` imports ``torch._dynamo``.
    """
    import warnings

    from torch.nn.attention.bias import causal_lower_right

    with warnings.catch_warnings():  # "will produce NaNs when seq_len_q > seq_len_kv": we densify
        warnings.simplefilter("ignore", UserWarning)
        bias = causal_lower_right(n_q, n_k)
    return bias._materialize().numpy()


def dense_masked_torch(q, k, v, mask, *, scale=None):
    """Dense masked attention in plain torch ops, differentiable (gradient oracle for sparse kernels).

    ``mask`` bool (n_q, n_k), True = may attend; fully masked rows give output 0 and no NaN gradients.
    """
    allowed = torch.as_tensor(np.asarray(mask, dtype=bool))
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    empty = ~allowed.any(dim=-1, keepdim=True)  # (n_q, 1) rows with no allowed key
    scores = scores.masked_fill(~allowed, float("-inf")).masked_fill(empty, 0.0)
    weights = torch.softmax(scores, dim=-1) * (~empty)
    return torch.matmul(weights, v)


def reach_brute_force(mask, layers: int) -> np.ndarray:
    """Receptive field by graph search: R[i, j] iff a path j → … → i of at most ``layers`` steps
    exists, each step along an allowed (query, key) pair or staying put (the residual)."""
    m = np.asarray(mask, dtype=bool)
    n = m.shape[0]
    reach = np.zeros((n, n), dtype=bool)
    for i in range(n):
        frontier = {i}
        for _ in range(layers):  # keys of keys of … i, one layer down per step
            frontier |= {j for f in frontier for j in np.flatnonzero(m[f])}
        reach[i, sorted(frontier)] = True
    return reach


def numpy_qkv(lead, n_q, n_k, d_k, d_v, seed, scale=1.0):
    """Seeded standard-normal float64 q (…, n_q, d_k), k (…, n_k, d_k), v (…, n_k, d_v), times ``scale``."""
    rng = np.random.default_rng(seed)
    return tuple(
        rng.standard_normal((*lead, n, d)) * scale for n, d in ((n_q, d_k), (n_k, d_k), (n_k, d_v))
    )


def torch_qkv(lead, n_q, n_k, d_k, d_v, seed, dtype=torch.float64, grad=False, sigma=1.0):
    """Seeded torch q, k, v of those shapes (q and k times ``sigma``), leaves that require grad if asked."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(*lead, n_q, d_k), (*lead, n_k, d_k), (*lead, n_k, d_v)]
    out = [torch.randn(s, generator=g, dtype=dtype) for s in shapes]
    out[0], out[1] = out[0] * sigma, out[1] * sigma
    return [t.requires_grad_(grad) for t in out]


def counting(fn):
    """Wrap ``fn`` so a test knows how many cases an exercise check really ran (``wrapper.calls``)."""

    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return fn(*args, **kwargs)

    wrapper.calls = 0
    return wrapper


def assert_rejected(capsys, ok, *, case_words=()) -> str:
    """An exercise check said no the way a learner should see it: it returned False and printed a
    first line '✗ case i of N (...)', one final 'hint:' line and no traceback. Returns line 1.

    (Small 2-D arrays in the message are printed as matrices, so there may be lines in between.)
    """
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert ok is False
    assert lines[0].startswith("✗ case "), captured.out
    assert lines[-1].strip().startswith("hint:"), captured.out
    assert sum(line.strip().startswith("hint:") for line in lines) == 1
    assert "Traceback" not in captured.out + captured.err
    for word in case_words:
        assert word in lines[0], lines[0]
    return lines[0]


# -- an independent torch decoder built from a ModelShape (tests of tutor_lib.costs) ----------------


class TransformerBlock(nn.Module):
    def __init__(self, s: ModelShape):
        super().__init__()
        d, d_kv = s.d_model, s.kv_heads * s.d_head
        norm = (lambda: nn.LayerNorm(d)) if s.bias else (lambda: nn.RMSNorm(d))
        self.s, self.norm1, self.norm2 = s, norm(), norm()
        self.q, self.o = nn.Linear(d, d, bias=s.bias), nn.Linear(d, d, bias=s.bias)
        self.k, self.v = nn.Linear(d, d_kv, bias=s.bias), nn.Linear(d, d_kv, bias=s.bias)
        self.up = nn.Linear(d, s.d_ff, bias=s.bias)
        self.gate = nn.Linear(d, s.d_ff, bias=s.bias) if s.ffn == "swiglu" else None
        self.down = nn.Linear(s.d_ff, d, bias=s.bias)

    def forward(self, x):  # x (n, d); dense causal attention written out with matmuls
        s, n = self.s, x.shape[0]
        h = self.norm1(x)
        q = self.q(h).view(n, s.n_heads, s.d_head).transpose(0, 1)  # (h, n, d_h)
        k = self.k(h).view(n, s.kv_heads, s.d_head).transpose(0, 1)  # (n_kv, n, d_h)
        v = self.v(h).view(n, s.kv_heads, s.d_head).transpose(0, 1)
        group = s.n_heads // s.kv_heads
        k, v = k.repeat_interleave(group, 0), v.repeat_interleave(group, 0)  # (h, n, d_h)
        scores = (q @ k.transpose(-1, -2)) / s.d_head**0.5
        scores = scores.masked_fill(~torch.ones(n, n, dtype=torch.bool).tril(), float("-inf"))
        a = (scores.softmax(-1) @ v).transpose(0, 1).reshape(n, s.d_model)
        x = x + self.o(a)
        return x + self._ffn(self.norm2(x))

    def step(self, x, cache):
        """One decoding step: x (b, d), one new token per sequence; cache {"k", "v"} of shape
        (b, n_kv, t - 1, d_h) grows by that token and is attended in full (t keys)."""
        s, b = self.s, x.shape[0]
        h = self.norm1(x)
        q = self.q(h).view(b, s.n_heads, 1, s.d_head)  # (b, h, 1, d_h)
        for name, proj in (("k", self.k), ("v", self.v)):
            new = proj(h).view(b, s.kv_heads, 1, s.d_head)  # (b, n_kv, 1, d_h)
            cache[name] = torch.cat([cache[name], new], dim=2)  # (b, n_kv, t, d_h)
        group = s.n_heads // s.kv_heads
        k = cache["k"].repeat_interleave(group, 1)  # (b, h, t, d_h)
        v = cache["v"].repeat_interleave(group, 1)
        p = torch.softmax(q @ k.transpose(-1, -2) / s.d_head**0.5, dim=-1)  # (b, h, 1, t)
        x = x + self.o((p @ v).reshape(b, s.d_model))
        return x + self._ffn(self.norm2(x))

    def _ffn(self, h):
        act = F.silu(self.gate(h)) * self.up(h) if self.gate is not None else F.gelu(self.up(h))
        return self.down(act)


class TinyGPT(nn.Module):
    def __init__(self, s: ModelShape):
        super().__init__()
        self.embed = nn.Embedding(s.vocab_size, s.d_model)
        self.pos = nn.Embedding(s.n_positions, s.d_model) if s.n_positions else None
        self.blocks = nn.ModuleList(TransformerBlock(s) for _ in range(s.n_layers))
        self.norm = nn.LayerNorm(s.d_model) if s.bias else nn.RMSNorm(s.d_model)
        self.head = nn.Linear(s.d_model, s.vocab_size, bias=False)
        if s.tied_embeddings:
            self.head.weight = self.embed.weight

    def forward(self, tokens):
        x = self.embed(tokens)
        if self.pos is not None:
            x = x + self.pos(torch.arange(tokens.shape[0]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def step(self, tokens, caches, position):
        """One decoding step: tokens (b,), the newest token of each sequence at ``position``;
        ``caches`` one {"k", "v"} dict per layer (see :meth:`TransformerBlock.step`)."""
        x = self.embed(tokens)
        if self.pos is not None:
            x = x + self.pos(torch.full_like(tokens, position))
        for block, cache in zip(self.blocks, caches, strict=True):
            x = block.step(x, cache)
        return self.head(self.norm(x))


@st.composite
def model_shapes(draw) -> ModelShape:
    kv_heads = draw(st.sampled_from([1, 2]))
    n_heads = kv_heads * draw(st.sampled_from([1, 2]))
    return ModelShape(
        n_layers=draw(st.integers(1, 3)),
        d_model=n_heads * draw(st.integers(1, 4)),
        n_heads=n_heads,
        d_ff=draw(st.integers(1, 12)),
        vocab_size=draw(st.integers(1, 20)),
        n_kv_heads=draw(st.sampled_from([None, kv_heads])),
        ffn=draw(st.sampled_from(["relu", "gelu", "swiglu"])),
        bias=draw(st.booleans()),
        n_positions=draw(st.sampled_from([0, 8])),
        tied_embeddings=draw(st.booleans()),
    )
