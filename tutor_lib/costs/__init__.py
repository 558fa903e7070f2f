"""Closed-form costs of a Transformer (plain Python, no arrays): parameters, FLOPs and bytes.

One import for all of it: ``from tutor_lib.costs import param_count, attention_flops, GIB``. The
formulas live in small modules, by what they count:

* :mod:`tutor_lib.costs.model`: :class:`ModelShape`, presets (GPT-3 175B, Mistral-7B-like, GPT-2
  small) and parameter counts;
* :mod:`tutor_lib.costs.flops`: FLOPs (one multiply-add = 2 FLOPs, as FlopCounterMode counts);
* :mod:`tutor_lib.costs.memory`: bytes of weights, KV cache and scores, and the byte models the
  memory explorers draw;
* :mod:`tutor_lib.costs.roofline`: compute-bound or memory-bound (arithmetic intensity, decoding);
* :mod:`tutor_lib.costs.training`: what a training step keeps (weights, gradients, optimizer states,
  activations per Korthikanti et al. 2022);
* :mod:`tutor_lib.costs.units`: ``KIB``, ``MIB``, ``GIB`` (defined once for the whole library).

Every count is an exact Python int. Notation: n tokens, d = d_model, m = d_ff, h = n_heads,
d_h = d / h, n_kv = KV heads, L = n_layers.
"""

from tutor_lib.costs.flops import (
    attention_flops,
    crossover_length,
    ffn_flops,
    flops_per_token,
    layer_flops,
    moe_ffn_flops,
    training_flops,
)
from tutor_lib.costs.memory import (
    ATTENTION_MEMORY_PARTS,
    MEMORY_PARTS,
    attention_training_bytes,
    decode_step_bytes,
    kv_cache_bytes,
    max_cached_tokens,
    memory_breakdown,
    score_matrix_bytes,
    weight_bytes,
)
from tutor_lib.costs.model import (
    FFN_KINDS,
    GPT2_SMALL,
    GPT3_175B,
    MISTRAL_7B_LIKE,
    ModelShape,
    as_model_shape,
    attention_params,
    ffn_params,
    moe_param_counts,
    non_embedding_params,
    param_breakdown,
    param_count,
)
from tutor_lib.costs.roofline import (
    decode_critical_batch,
    decode_step_flops,
    matmul_cost,
    roofline_seconds,
)
from tutor_lib.costs.training import (
    OPTIMIZERS,
    RECOMPUTE,
    STATE_BYTES_PER_PARAM,
    TRAINING_PARTS,
    activation_bytes,
    max_batch_size,
    training_budget,
    training_state_bytes,
)
from tutor_lib.costs.units import GIB, GPU_80GB_BYTES, KIB, MIB, whole_bytes

__all__ = [
    "ATTENTION_MEMORY_PARTS",
    "FFN_KINDS",
    "GIB",
    "GPT2_SMALL",
    "GPT3_175B",
    "GPU_80GB_BYTES",
    "KIB",
    "MEMORY_PARTS",
    "MIB",
    "MISTRAL_7B_LIKE",
    "ModelShape",
    "OPTIMIZERS",
    "RECOMPUTE",
    "STATE_BYTES_PER_PARAM",
    "TRAINING_PARTS",
    "activation_bytes",
    "as_model_shape",
    "attention_flops",
    "attention_params",
    "attention_training_bytes",
    "crossover_length",
    "decode_critical_batch",
    "decode_step_bytes",
    "decode_step_flops",
    "ffn_flops",
    "ffn_params",
    "flops_per_token",
    "kv_cache_bytes",
    "layer_flops",
    "matmul_cost",
    "max_batch_size",
    "max_cached_tokens",
    "memory_breakdown",
    "moe_ffn_flops",
    "moe_param_counts",
    "non_embedding_params",
    "param_breakdown",
    "param_count",
    "roofline_seconds",
    "score_matrix_bytes",
    "training_budget",
    "training_flops",
    "training_state_bytes",
    "weight_bytes",
    "whole_bytes",
]
