"""FLOPs of a Transformer's parts (plain Python ints, exact for any n).

FLOPs count one multiply-add as 2 FLOPs (the convention of Kaplan et al. and of torch's
FlopCounterMode, which counts a matmul (m, k) @ (k, p) as 2·m·k·p).

Notation: n tokens, d = d_model, m = d_ff, h = n_heads, L = n_layers.
"""

from __future__ import annotations

import numbers

from tutor_lib._validate import check_bool, check_int
from tutor_lib.costs.model import ModelShape, as_model_shape, non_embedding_params

__all__ = [
    "attention_flops",
    "ffn_flops",
    "crossover_length",
    "layer_flops",
    "flops_per_token",
    "training_flops",
]


def attention_flops(n: int, d_model: int) -> dict[str, int]:
    """Forward FLOPs of one self-attention layer on one sequence of ``n`` tokens.

    ``projections``: Q, K, V and output projections, 4 matmuls (n, d) @ (d, d) → 8·n·d².
    ``scores``: Q Kᵀ (2·n²·d) plus P V (2·n²·d) → 4·n²·d, summed over heads (h · d_h = d).
    Softmax, scaling and masking are O(n²·h) element-wise work and are not counted.
    """
    n = check_int(n, "n", minimum=1)
    d_model = check_int(d_model, "d_model", minimum=1)
    return {"projections": 8 * n * d_model**2, "scores": 4 * n**2 * d_model}


def ffn_flops(n: int, d_model: int, d_ff: int, *, gated: bool = False) -> int:
    """Forward FLOPs of a position-wise FFN on ``n`` tokens: 2 matmuls → 4·n·d·m (16nd² if m = 4d).

    ``gated=True`` (SwiGLU: gate, up and down matrices) → 6·n·d·m. Activations are not counted.
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d_model, "d_model", minimum=1)
    m = check_int(d_ff, "d_ff", minimum=1)
    return (6 if check_bool(gated, "gated") else 4) * n * d * m


def crossover_length(d_model: int, d_ff: int) -> int:
    """Where attention's 4n²d equals projections + FFN, 8nd² + 4ndm: n = 2d + m (6d if m = 4d).

    Below it the n-linear parts dominate a layer's FLOPs; above it the scores do.
    """
    d = check_int(d_model, "d_model", minimum=1)
    m = check_int(d_ff, "d_ff", minimum=1)
    # 4n²d = 8nd² + 4ndm  ⇔  n = 2d + m
    return 2 * d + m


def layer_flops(n: int, d_model: int, d_ff: int, *, gated: bool = False) -> dict[str, int]:
    """Forward FLOPs of one Transformer layer on n tokens, by part: ``projections`` (8nd²),
    ``scores`` (4n²d), ``ffn`` (4ndm, or 6ndm when ``gated``) and their ``total``."""
    parts = dict(attention_flops(n, d_model))
    parts["ffn"] = ffn_flops(n, d_model, d_ff, gated=gated)
    parts["total"] = parts["projections"] + parts["scores"] + parts["ffn"]
    return parts


def flops_per_token(shape: ModelShape, n_ctx: int) -> dict[str, int]:
    """Kaplan et al. (2020, Table 1) forward FLOPs per token: C = 2N + 2·L·n_ctx·d.

    ``params``: 2N, N = :func:`non_embedding_params`. ``attention``: 2·L·n_ctx·d, the scores of a
    causal model (a dense layer computes 4·n_ctx·d per token; a causal kernel that skips the masked
    half does ≈ 2·n_ctx·d). ``total`` is their sum. Embeddings and the output layer are not
    included.
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
