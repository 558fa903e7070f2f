"""Bytes a training step keeps, from the config: weights, gradients, optimizer states, activations.

Plain Python ints, like the rest of :mod:`tutor_lib.costs`. Sources:

* **States** (Rajbhandari et al. 2020, ZeRO, arXiv 1910.02054, §3.1): mixed-precision Adam keeps
  fp16 weights (2 bytes per parameter) and fp16 gradients (2), plus an fp32 master copy of the weights,
  the momentum and the variance (4 + 4 + 4): "16Ψ" bytes for Ψ parameters. Plain fp32 Adam also comes
  to 16 bytes, split 4 + 4 + 8.
* **Activations** (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
  Models", arXiv 2205.05198, §4): one layer of a GPT-style block saves s·b·h·(34 + 5·a·s/h) bytes in
  16-bit with dropout and no recomputation (s = sequence length, b = batch, h = d_model, a = heads);
  recomputing the attention core ("selective") leaves 34·s·b·h; recomputing the whole layer ("full")
  leaves its input, 2·s·b·h.

:func:`activation_bytes` spells the 34 out tensor by tensor (its docstring lists them), so it also
covers grouped-query attention, SwiGLU, other precisions and no dropout; at the defaults and for
``d_ff = 4·d_model`` it is exactly Korthikanti's formula. Only the Transformer layers are counted
(not the embeddings, the final norm or the logits), as in the paper's per-layer formula.
"""

from __future__ import annotations

from tutor_lib._validate import check_bool, check_int
from tutor_lib.costs.model import ModelShape, as_model_shape, param_count
from tutor_lib.costs.units import whole_bytes

__all__ = [
    "OPTIMIZERS",
    "RECOMPUTE",
    "STATE_BYTES_PER_PARAM",
    "TRAINING_PARTS",
    "activation_bytes",
    "max_batch_size",
    "training_budget",
    "training_state_bytes",
]

OPTIMIZERS = ("adam", "sgd_momentum", "sgd")
RECOMPUTE = ("none", "selective", "full")
# The parts of a training step's memory, in drawing order.
TRAINING_PARTS = ("weights", "gradients", "optimizer states", "activations")

# Bytes per parameter: (weights, gradients, optimizer states). Mixed precision keeps 16-bit weights
# and gradients for the matmuls plus an fp32 master copy of the weights among the optimizer states.
STATE_BYTES_PER_PARAM: dict[tuple[str, bool], tuple[int, int, int]] = {
    ("adam", True): (2, 2, 4 + 4 + 4),  # master weights, momentum, variance
    ("adam", False): (4, 4, 4 + 4),  # momentum, variance
    ("sgd_momentum", True): (2, 2, 4 + 4),  # master weights, momentum
    ("sgd_momentum", False): (4, 4, 4),  # momentum
    ("sgd", True): (2, 2, 4),  # master weights
    ("sgd", False): (4, 4, 0),
}


def _check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def training_state_bytes(
    shape: ModelShape, *, optimizer: str = "adam", mixed_precision: bool = True
) -> dict[str, int]:
    """Bytes of the model states: ``{"weights", "gradients", "optimizer states", "total"}``.

    N = ``param_count(shape)`` parameters times the bytes per parameter of
    :data:`STATE_BYTES_PER_PARAM`: mixed-precision Adam 2 + 2 + 12 = 16 (ZeRO's 16Ψ), fp32 Adam
    4 + 4 + 8 = 16. These do not depend on the batch or the sequence length.
    """
    s = as_model_shape(shape)
    _check_choice(optimizer, "optimizer", OPTIMIZERS)
    mixed = check_bool(mixed_precision, "mixed_precision")
    n = param_count(s)
    per_param = STATE_BYTES_PER_PARAM[(optimizer, mixed)]
    parts = dict(zip(TRAINING_PARTS[:3], (n * b for b in per_param), strict=True))
    parts["total"] = sum(parts.values())
    return parts


def activation_bytes(
    shape: ModelShape,
    seq_len: int,
    batch: int,
    *,
    recompute: str = "none",
    bytes_per_value: float = 2,
    mask_bytes: float = 1,
    dropout: bool = True,
) -> int:
    """Bytes of the activations all ``shape.n_layers`` layers save for backward (Korthikanti 2022).

    Per layer, for s = ``seq_len`` tokens of b = ``batch`` sequences, with d = d_model, d_kv = the
    K/V width (n_kv·d_h), m = d_ff, a = heads; each tensor is s·b·(width) values:

    * attention: the input of LayerNorm 1 (d), the input of the QKV projection (d), Q (d), K and V
      (d_kv each), the input of the output projection (d), the output dropout's mask (d, in masks);
    * attention core: the softmax output (a·s), the dropout mask (a·s, in masks) and the dropout output
      (a·s) that the matmul with V keeps: the a·s² terms;
    * MLP: the input of LayerNorm 2 (d), the input of the first linear (d), the activation's input
      (m) and output (m); SwiGLU keeps 4m (gate, up, their product's two factors: SiLU input, SiLU
      output, up, down-projection input); the output dropout's mask (d, in masks).

    Values take ``bytes_per_value`` bytes (2 in 16-bit), masks ``mask_bytes`` (1 on a GPU, where
    dropout keeps a byte mask; PyTorch on CPU keeps it in the activation's dtype). With d_kv = d,
    m = 4d and the defaults this is s·b·d·(34 + 5·a·s/d) per layer, Korthikanti's formula.
    ``dropout=False`` drops the masks and the separate dropout output (the softmax output is then
    what the matmul with V keeps).

    ``recompute``: ``"none"`` (all of the above), ``"selective"`` (the attention core is recomputed
    in backward: no a·s² terms, 34·s·b·d), ``"full"`` (each layer is recomputed from its input: only
    that input, s·b·d values).
    """
    s = as_model_shape(shape)
    n = check_int(seq_len, "seq_len", minimum=1)
    b = check_int(batch, "batch", minimum=1)
    _check_choice(recompute, "recompute", RECOMPUTE)
    dropout = check_bool(dropout, "dropout")
    tokens, d, a = n * b, s.d_model, s.n_heads
    if recompute == "full":
        return s.n_layers * whole_bytes(tokens * d, bytes_per_value)
    d_kv = s.kv_heads * s.d_head
    mlp = 4 * s.d_ff if s.ffn == "swiglu" else 2 * s.d_ff
    # per token: LN1 in, QKV in, Q, K, V, out-proj in, LN2 in, FC1 in, the MLP's saved widths
    values = tokens * (4 * d + 2 * d_kv + 2 * d + mlp)
    masks = tokens * 2 * d if dropout else 0
    if recompute == "none":
        # softmax output (+ dropout output and mask): a·s² per sequence
        scores = b * a * n * n
        values += 2 * scores if dropout else scores
        masks += scores if dropout else 0
    return s.n_layers * (whole_bytes(values, bytes_per_value) + whole_bytes(masks, mask_bytes))


def training_budget(
    shape: ModelShape,
    seq_len: int,
    batch: int,
    *,
    recompute: str = "none",
    optimizer: str = "adam",
    mixed_precision: bool = True,
) -> dict[str, int]:
    """Bytes of one training step by part (keys :data:`TRAINING_PARTS`, then ``"total"``).

    The states of :func:`training_state_bytes` plus :func:`activation_bytes` in 16-bit (mixed
    precision) or 32-bit, with 1-byte dropout masks. Temporary buffers, the logits and fragmentation
    come on top; this is the floor.
    """
    states = training_state_bytes(shape, optimizer=optimizer, mixed_precision=mixed_precision)
    parts = {key: states[key] for key in TRAINING_PARTS[:3]}
    parts["activations"] = activation_bytes(
        shape, seq_len, batch, recompute=recompute, bytes_per_value=2 if mixed_precision else 4
    )
    parts["total"] = sum(parts.values())
    return parts


def max_batch_size(
    shape: ModelShape,
    seq_len: int,
    budget_bytes: int,
    *,
    recompute: str = "none",
    optimizer: str = "adam",
    mixed_precision: bool = True,
) -> int:
    """The largest batch whose :func:`training_budget` total fits in ``budget_bytes`` (0 if none).

    The states are fixed and the activations grow linearly with the batch, so the answer is
    ⌊(budget − states) / (activations of one sequence)⌋.
    """
    budget = check_int(budget_bytes, "budget_bytes", minimum=0)
    one = training_budget(
        shape,
        seq_len,
        1,
        recompute=recompute,
        optimizer=optimizer,
        mixed_precision=mixed_precision,
    )
    free = budget - (one["total"] - one["activations"])
    return max(0, free // one["activations"])
