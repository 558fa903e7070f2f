"""Linear attention (torch): kernels and associativity, the causal form as an RNN, Performer's random
features and Linformer's sequence projection (lesson 06).

* :mod:`tutor_lib.linear.kernel`: φ(x) = elu(x) + 1, :func:`linear_attention` (φ(K)ᵀV first; causal
  in chunks) and the O(n²) reference with the same model;
* :mod:`tutor_lib.linear.recurrent`: the token-by-token recurrent form (the RNN view);
* :mod:`tutor_lib.linear.performer`: FAVOR+ positive random features, unbiased for exp(xᵀy);
* :mod:`tutor_lib.linear.linformer`: softmax(Q(EK)ᵀ)(FV) with (k_proj, n) projections E, F;
* :mod:`tutor_lib.linear.cost_model`: FLOPs of both orders, bytes of the decode state.

Shapes: ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)``; causal is bottom-right.
"""

from tutor_lib.linear.cost_model import (
    associativity_crossover,
    associativity_flops,
    recurrent_state_bytes,
)
from tutor_lib.linear.kernel import (
    DEFAULT_CHUNK,
    PIECE_CHUNKS,
    apply_feature_map,
    elu_feature_map,
    linear_attention,
    linear_attention_from_features,
    quadratic_linear_attention,
)
from tutor_lib.linear.linformer import linformer_attention, linformer_projection
from tutor_lib.linear.performer import (
    performer_attention,
    performer_error,
    performer_features,
    random_projection,
)
from tutor_lib.linear.recurrent import (
    MAX_RECURRENT_STEPS,
    linear_attention_recurrent,
    linear_attention_step,
)

__all__ = [
    "DEFAULT_CHUNK",
    "MAX_RECURRENT_STEPS",
    "PIECE_CHUNKS",
    "apply_feature_map",
    "associativity_crossover",
    "associativity_flops",
    "elu_feature_map",
    "linear_attention",
    "linear_attention_from_features",
    "linear_attention_recurrent",
    "linear_attention_step",
    "linformer_attention",
    "linformer_projection",
    "performer_attention",
    "performer_error",
    "performer_features",
    "quadratic_linear_attention",
    "random_projection",
    "recurrent_state_bytes",
]
