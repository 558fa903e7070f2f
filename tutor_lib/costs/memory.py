"""Bytes a Transformer keeps in memory: weights, KV cache, attention scores, and the byte models the
memory explorers draw (plain Python ints; widgets only format and draw these numbers).

Notation: n tokens, d = d_model, h = n_heads, d_h = d / h, n_kv = KV heads, L = n_layers, b = batch.
``bytes_per_value``: 4 fp32, 2 fp16/bf16, 1 int8, 0.5 int4.
"""

from __future__ import annotations

import dataclasses

from tutor_lib._validate import check_int
from tutor_lib.costs.model import ModelShape, as_model_shape, param_count
from tutor_lib.costs.units import whole_bytes

__all__ = [
    "weight_bytes",
    "kv_cache_bytes",
    "max_cached_tokens",
    "score_matrix_bytes",
    "MEMORY_PARTS",
    "memory_breakdown",
    "ATTENTION_MEMORY_PARTS",
    "attention_training_bytes",
    "decode_step_bytes",
]


def weight_bytes(shape: ModelShape, bytes_per_value: float = 2) -> int:
    """Bytes of every parameter at ``bytes_per_value``: N · bytes."""
    return whole_bytes(param_count(shape), bytes_per_value)


def kv_cache_bytes(
    shape: ModelShape, tokens: int, bytes_per_value: float = 2, batch: int = 1
) -> int:
    """Bytes of the KV cache: 2 (K and V) · L · n_kv · d_h · tokens · bytes_per_value · batch.

    Each layer stores a key and a value vector of n_kv·d_h numbers for every cached token.
    """
    s = as_model_shape(shape)
    tokens = check_int(tokens, "tokens", minimum=0)
    batch = check_int(batch, "batch", minimum=1)
    values = 2 * s.n_layers * s.kv_heads * s.d_head * tokens * batch
    return whole_bytes(values, bytes_per_value)


def max_cached_tokens(
    shape: ModelShape, memory_bytes: int, *, batch: int = 1, bytes_per_value: float = 2
) -> int:
    """The longest context each of ``batch`` sequences can cache in ``memory_bytes``, next to the
    weights, both at ``bytes_per_value``: the largest t with weights + KV cache(t tokens) ≤ memory.

    0 when the weights alone leave no room for one token (or do not fit at all). Activations and
    the scores are not counted (a fused kernel keeps them small at decode time).
    """
    s = as_model_shape(shape)
    memory_bytes = check_int(memory_bytes, "memory_bytes", minimum=0)
    batch = check_int(batch, "batch", minimum=1)
    free = memory_bytes - weight_bytes(s, bytes_per_value)
    per_token = kv_cache_bytes(s, 1, bytes_per_value, batch)  # one more token, whole batch
    return max(free, 0) // per_token


def score_matrix_bytes(n: int, n_heads: int, bytes_per_value: float = 4, batch: int = 1) -> int:
    """Bytes of one layer's attention scores (or weights): batch · n_heads · n² · bytes_per_value.

    This is the inference-time, one-layer picture; training keeps one such matrix per layer.
    """
    n = check_int(n, "n", minimum=1)
    n_heads = check_int(n_heads, "n_heads", minimum=1)
    batch = check_int(batch, "batch", minimum=1)
    return whole_bytes(batch * n_heads * n * n, bytes_per_value)


# The labels of memory_breakdown's parts, in drawing order.
MEMORY_PARTS = ("weights", "KV cache", "scores, one layer")


def memory_breakdown(
    shape: ModelShape,
    context: int,
    *,
    batch: int = 1,
    bytes_per_value: float = 2,
    n_kv_heads: int | None = None,
) -> dict[str, int]:
    """Bytes of a model at inference, by part (keys :data:`MEMORY_PARTS`), all at one precision.

    * ``weights``: N · bytes (:func:`weight_bytes`);
    * ``KV cache``: 2·L·n_kv·d_h·n·bytes·b for ``context`` = n cached tokens (:func:`kv_cache_bytes`);
    * ``scores, one layer``: b·h·n²·bytes, the n × n matrix of one layer (:func:`score_matrix_bytes`).

    ``n_kv_heads`` overrides the shape's KV heads (None keeps them).
    """
    s = as_model_shape(shape)
    context = check_int(context, "context", minimum=1)
    if n_kv_heads is not None:
        s = dataclasses.replace(s, n_kv_heads=n_kv_heads)
    parts = (
        weight_bytes(s, bytes_per_value),
        kv_cache_bytes(s, context, bytes_per_value, batch),
        score_matrix_bytes(context, s.n_heads, bytes_per_value, batch),
    )
    return dict(zip(MEMORY_PARTS, parts, strict=True))


# The labels of attention_training_bytes' parts, in drawing order.
ATTENTION_MEMORY_PARTS = (
    "inference: scores, one layer",
    "training: saved, dense",
    "training: saved, fused",
)


def attention_training_bytes(
    n: int,
    *,
    d_model: int,
    n_heads: int,
    n_layers: int,
    batch: int = 1,
    bytes_per_value: float = 4,
) -> dict[str, int]:
    """What dense attention keeps in memory, by situation (keys :data:`ATTENTION_MEMORY_PARTS`).

    * inference, one layer: the scores of one layer, b·h·n² (freed before the next layer);
    * training, dense: every layer saves q, k, v (3·b·n·d) and the softmax output P (b·h·n²);
    * training, fused kernel: q, k, v, the output (4·b·n·d) and a logsumexp per query (b·h·n).

    The two training rows match ``tutor_lib.measure.saved_bytes`` on torch's attention (tests).
    """
    n = check_int(n, "n", minimum=1)
    b = check_int(batch, "batch", minimum=1)
    h = check_int(n_heads, "n_heads", minimum=1)
    d = check_int(d_model, "d_model", minimum=1)
    layers = check_int(n_layers, "n_layers", minimum=1)
    scores = score_matrix_bytes(n, h, bytes_per_value, b)
    parts = (
        scores,
        layers * (scores + whole_bytes(3 * b * n * d, bytes_per_value)),
        layers * whole_bytes(4 * b * n * d + b * h * n, bytes_per_value),
    )
    return dict(zip(ATTENTION_MEMORY_PARTS, parts, strict=True))


def decode_step_bytes(
    shape: ModelShape, context: int, *, batch: int = 1, bytes_per_value: float = 2
) -> int:
    """Bytes one decoding step reads from memory: every weight once, plus each sequence's KV cache.

    weight bytes (N · bytes, shared by the whole batch) + 2·L·n_kv·d_h·context·bytes·batch
    (:func:`kv_cache_bytes`; each sequence reads its own cache of ``context`` tokens). An upper
    bound on the weights: the input embedding is gathered one row per token, not read whole.
    """
    s = as_model_shape(shape)
    context = check_int(context, "context", minimum=0)
    batch = check_int(batch, "batch", minimum=1)
    return weight_bytes(s, bytes_per_value) + kv_cache_bytes(s, context, bytes_per_value, batch)
