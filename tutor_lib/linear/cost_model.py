"""Cost models of linear attention (plain Python ints): the FLOPs of both multiplication orders and
the bytes of the recurrent decode state. The lesson checks them against FlopCounterMode and plots
the state against a KV cache.
"""

from __future__ import annotations

from tutor_lib._validate import check_int
from tutor_lib.costs.units import whole_bytes

__all__ = ["associativity_flops", "associativity_crossover", "recurrent_state_bytes"]


def associativity_flops(n_q: int, n_k: int, num_features: int, d_v: int) -> dict[str, int]:
    """Matmul FLOPs of the two orders of non-causal linear attention (numerator and normalizer,
    as the library computes them: values with a ones column, d_v + 1 wide; 2 FLOPs per multiply-add).

    ``quadratic``: (φ(Q)φ(K)ᵀ)[V, 1] = 2·n_q·n_k·d' + 2·n_q·n_k·(d_v + 1);
    ``linear``: φ(Q)(φ(K)ᵀ[V, 1]) = 2·n_k·d'·(d_v + 1) + 2·n_q·d'·(d_v + 1).
    """
    n_q, n_k = check_int(n_q, "n_q", minimum=1), check_int(n_k, "n_k", minimum=1)
    dp = check_int(num_features, "num_features", minimum=1)
    e = check_int(d_v, "d_v", minimum=1) + 1
    return {"quadratic": 2 * n_q * n_k * (dp + e), "linear": 2 * (n_k + n_q) * dp * e}


def associativity_crossover(num_features: int, d_v: int) -> int:
    """The smallest n (self-attention, n_q = n_k = n) at which the linear order needs fewer matmul
    FLOPs than the quadratic one (:func:`associativity_flops`): 4n·d'(d_v+1) < 2n²(d' + d_v + 1)."""
    dp = check_int(num_features, "num_features", minimum=1)
    e = check_int(d_v, "d_v", minimum=1) + 1
    return 2 * dp * e // (dp + e) + 1  # n > 2d'(d_v+1)/(d'+d_v+1); the next integer


def recurrent_state_bytes(
    num_features: int,
    d_v: int,
    *,
    num_heads: int = 1,
    n_layers: int = 1,
    bytes_per_value: float = 4,
) -> int:
    """Bytes of the decode state of causal linear attention: (S, z) = d'·d_v + d' numbers per head
    and layer, the same at every position t (a KV cache instead grows by 2·d_head per token).
    An exact int (``bytes_per_value`` may be 0.5 for int4)."""
    dp = check_int(num_features, "num_features", minimum=1)
    d_v = check_int(d_v, "d_v", minimum=1)
    heads = check_int(num_heads, "num_heads", minimum=1)
    layers = check_int(n_layers, "n_layers", minimum=1)
    return whole_bytes(layers * heads * (dp * d_v + dp), bytes_per_value)
