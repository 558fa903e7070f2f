"""FLOPs of a Transformer's parts (plain Python ints, exact for any n).

FLOPs count one multiply-add as 2 FLOPs (the convention of Kaplan et al. and of torch's
FlopCounterMode, which counts a matmul (m, k) @ (k, p) as 2·m·k·p).

**The attention convention of these lessons:** the scores cost 4·n²·d per layer (QKᵀ and PV over
every (query, key) pair), as PaLM (Chowdhery et al. 2022, App. B) and the usual MFU formula count
them. ``causal=True`` counts only the n(n+1)/2 pairs a causal mask allows (what a kernel that skips
the masked half computes): 2·n·(n+1)·d, about half. Kaplan et al. (2020, Table 1) write
2·n_layer·n_ctx·d per token, also about half of the full count, without saying why
(:func:`flops_per_token`).

Grouped-query attention (``n_kv_heads`` < ``n_heads``) shrinks W_K and W_V to d × n_kv·d_h, so the
projections cost 2·n·d·(2d + 2·n_kv·d_h) instead of 8nd²; it does not change the scores (every query
head still meets every key).

Notation: n tokens, d = d_model, m = d_ff, h = n_heads, n_kv = KV heads, d_kv = n_kv·d/h, L = n_layers.
"""

from __future__ import annotations

import numbers

from tutor_lib._validate import check_bool, check_int
from tutor_lib.costs.model import ModelShape, as_model_shape, non_embedding_params

__all__ = [
    "attention_flops",
    "ffn_flops",
    "moe_ffn_flops",
    "crossover_length",
    "layer_flops",
    "flops_per_token",
    "training_flops",
]


def _kv_width(d_model: int, n_heads: int | None, n_kv_heads: int | None) -> int:
    """d_kv = n_kv · d / h, the width of K and V (d without GQA); checks the head counts."""
    if n_heads is None:
        if n_kv_heads is not None:
            raise ValueError("n_heads must be given with n_kv_heads (d_head = d_model / n_heads)")
        return d_model
    h = check_int(n_heads, "n_heads", minimum=1)
    if d_model % h:
        raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({h})")
    n_kv = h if n_kv_heads is None else check_int(n_kv_heads, "n_kv_heads", minimum=1, maximum=h)
    if h % n_kv:
        raise ValueError(f"n_heads ({h}) must be divisible by n_kv_heads ({n_kv})")
    return n_kv * (d_model // h)


def attention_flops(
    n: int,
    d_model: int,
    *,
    n_heads: int | None = None,
    n_kv_heads: int | None = None,
    causal: bool = False,
) -> dict[str, int]:
    """Forward FLOPs of one self-attention layer on one sequence of ``n`` tokens.

    ``projections``: W_Q, W_O (n, d) @ (d, d) and W_K, W_V (n, d) @ (d, d_kv): 2·n·d·(2d + 2·d_kv),
    which is 8·n·d² without GQA and 5·n·d² for 32 query heads sharing 8 KV heads.
    ``scores``: Q Kᵀ (2·n²·d) plus P V (2·n²·d) → 4·n²·d, summed over heads (h · d_h = d);
    ``causal=True``: only the n(n+1)/2 allowed pairs → 2·n·(n+1)·d.
    Softmax, scaling and masking are O(n²·h) element-wise work and are not counted.
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d_model, "d_model", minimum=1)
    d_kv = _kv_width(d, n_heads, n_kv_heads)
    # 4d per (query, key) pair: q·k (2d) and p·v (2d)
    scores = 2 * n * (n + 1) * d if check_bool(causal, "causal") else 4 * n * n * d
    return {"projections": 2 * n * d * (2 * d + 2 * d_kv), "scores": scores}


def ffn_flops(n: int, d_model: int, d_ff: int, *, gated: bool = False) -> int:
    """Forward FLOPs of a position-wise FFN on ``n`` tokens: 2 matmuls → 4·n·d·m (16nd² if m = 4d).

    ``gated=True`` (SwiGLU: gate, up and down matrices) → 6·n·d·m. Activations are not counted.
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d_model, "d_model", minimum=1)
    m = check_int(d_ff, "d_ff", minimum=1)
    return (6 if check_bool(gated, "gated") else 4) * n * d * m


def moe_ffn_flops(
    n: int, d_model: int, d_ff: int, *, num_experts: int, top_k: int, gated: bool = False
) -> int:
    """Forward FLOPs of a Mixture-of-Experts FFN on ``n`` tokens (``tutor_lib.ffn.moe_ffn``).

    The router (n, d) @ (d, E) costs 2·n·d·E; each token then runs through ``top_k`` experts of
    width m: top_k · :func:`ffn_flops`. The other E − top_k experts cost nothing for that token,
    whatever their parameters. Gating and the weighted sum (O(n·k·d)) are not counted.
    """
    e = check_int(num_experts, "num_experts", minimum=1)
    k = check_int(top_k, "top_k", minimum=1, maximum=e)
    experts = ffn_flops(n, d_model, d_ff, gated=gated)  # checks n, d_model, d_ff
    return 2 * n * d_model * e + k * experts


def crossover_length(
    d_model: int,
    d_ff: int,
    *,
    n_heads: int | None = None,
    n_kv_heads: int | None = None,
    gated: bool = False,
    causal: bool = False,
) -> int:
    """The length n at which a layer's scores cost as much as its projections + FFN.

    Without options: 4n²d = 8nd² + 4ndm ⇔ n = 2d + m (6d if m = 4d). The keywords change the terms
    exactly as :func:`layer_flops` counts them (GQA through ``n_heads``/``n_kv_heads``, SwiGLU through
    ``gated``, a causal kernel through ``causal``). Returns the smallest n at which the scores are
    at least the rest; it is the exact crossover whenever that is a whole number.
    Below it the n-linear parts dominate a layer's FLOPs; above it the scores do.
    """
    d = check_int(d_model, "d_model", minimum=1)
    m = check_int(d_ff, "d_ff", minimum=1)
    d_kv = _kv_width(d, n_heads, n_kv_heads)
    # per token, the n-linear parts cost r = 4d² + 4d·d_kv + c·d·m (c = 4, or 6 when gated)
    r = 4 * d * d + 4 * d * d_kv + (6 if check_bool(gated, "gated") else 4) * d * m
    if check_bool(causal, "causal"):
        # 2n(n+1)d = n·r  ⇔  n = r / 2d − 1   (r / 2d is a whole number: every term is even)
        return r // (2 * d) - 1
    # 4n²d = n·r  ⇔  n = r / 4d, rounded up to a whole length
    return -(-r // (4 * d))


def layer_flops(
    n: int,
    d_model: int,
    d_ff: int,
    *,
    gated: bool = False,
    n_heads: int | None = None,
    n_kv_heads: int | None = None,
    causal: bool = False,
) -> dict[str, int]:
    """Forward FLOPs of one Transformer layer on n tokens, by part: ``projections`` (8nd², less with
    GQA), ``scores`` (4n²d, or 2n(n+1)d when ``causal``), ``ffn`` (4ndm, or 6ndm when ``gated``) and
    their ``total`` (see :func:`attention_flops`)."""
    parts = dict(attention_flops(n, d_model, n_heads=n_heads, n_kv_heads=n_kv_heads, causal=causal))
    parts["ffn"] = ffn_flops(n, d_model, d_ff, gated=gated)
    parts["total"] = parts["projections"] + parts["scores"] + parts["ffn"]
    return parts


def flops_per_token(shape: ModelShape, n_ctx: int) -> dict[str, int]:
    """Kaplan et al. (2020, Table 1) forward FLOPs per token: C = 2N + 2·L·n_ctx·d.

    ``params``: 2N, N = :func:`non_embedding_params` (with GQA's smaller W_K, W_V). ``attention``:
    Kaplan's term 2·L·n_ctx·d, as the paper writes it. It is half of the full count these lessons
    use (4·n_ctx·d per token per layer, :func:`attention_flops`); a causal kernel that skips the
    masked half computes about that much, but the paper gives no causal argument. ``total`` is
    their sum. Embeddings and the output layer are not included.
    """
    s = as_model_shape(shape)
    n_ctx = check_int(n_ctx, "n_ctx", minimum=1)
    params = 2 * non_embedding_params(s)
    attention = 2 * s.n_layers * n_ctx * s.d_model
    return {"params": params, "attention": attention, "total": params + attention}


def _whole(value, name: str) -> int:
    """A count given as an int or as a whole float such as ``300e9`` → an exact int >= 1."""
    if isinstance(value, float) or (
        isinstance(value, numbers.Real) and not isinstance(value, bool)
    ):
        if not isinstance(value, numbers.Integral):
            value = float(value)
            if not value.is_integer():  # also rejects NaN and ±inf
                raise ValueError(f"{name} must be a whole number, got {value}")
            value = int(value)
    return check_int(value, name, minimum=1)


def training_flops(n_params, tokens) -> int:
    """C ≈ 6·N·D: forward 2N per token plus backward ≈ 4N per token (Kaplan et al. 2020).

    An exact int, like every count here; ``tokens`` may be written as a whole float (``300e9``).
    """
    return 6 * _whole(n_params, "n_params") * _whole(tokens, "tokens")
