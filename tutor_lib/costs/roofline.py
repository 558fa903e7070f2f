"""The roofline: is a computation limited by arithmetic or by memory traffic? (plain Python)

A kernel that performs F FLOPs and moves B bytes between memory and the processor needs at least
``F / flops_per_second`` seconds for the arithmetic and ``B / bytes_per_second`` for the traffic;
whichever is larger bounds its time. The ratio F / B (FLOPs per byte) is its **arithmetic
intensity**; the machine's ``flops_per_second / bytes_per_second`` is the intensity at which the two
times are equal (the *ridge point*). Below it a kernel is memory-bound, above it compute-bound.

* :func:`matmul_cost`: FLOPs and bytes of ``y = x W`` for a batch of rows (one decoding step of one
  weight matrix);
* :func:`roofline_seconds`: the time bound ``max(F / rate, B / bandwidth)``;
* :func:`decode_step_flops`: FLOPs of one decoding step of a whole model (the bytes are
  :func:`tutor_lib.costs.memory.decode_step_bytes`);
* :func:`decode_critical_batch`: the smallest batch at which a decoding step is compute-bound.

Notation: d = d_model, L = n_layers, V = vocab_size, N = non-embedding parameters, t = context.
"""

from __future__ import annotations

import math
from fractions import Fraction

from tutor_lib._validate import check_int, check_positive_float
from tutor_lib.costs.memory import kv_cache_bytes, weight_bytes
from tutor_lib.costs.model import ModelShape, as_model_shape, non_embedding_params
from tutor_lib.costs.units import whole_bytes

__all__ = ["matmul_cost", "roofline_seconds", "decode_step_flops", "decode_critical_batch"]


def matmul_cost(batch: int, d_in: int, d_out: int, *, bytes_per_value: float = 4) -> dict[str, int]:
    """FLOPs and bytes of ``y = x W`` with ``x (batch, d_in)`` and ``W (d_in, d_out)``.

    ``flops``: 2·batch·d_in·d_out (a multiply-add per weight per row). ``bytes``: W read once plus x
    read and y written, (d_in·d_out + batch·(d_in + d_out))·bytes_per_value. The arithmetic
    intensity flops / bytes grows with the batch: about batch / bytes_per_value FLOPs per byte
    while W dominates the traffic (W is shared by every row; x and y are not).
    """
    b = check_int(batch, "batch", minimum=1)
    d_in = check_int(d_in, "d_in", minimum=1)
    d_out = check_int(d_out, "d_out", minimum=1)
    values = d_in * d_out + b * (d_in + d_out)
    return {"flops": 2 * b * d_in * d_out, "bytes": whole_bytes(values, bytes_per_value)}


def roofline_seconds(
    flops: float, nbytes: float, *, flops_per_second: float, bytes_per_second: float
) -> float:
    """The roofline's lower bound on the time: ``max(flops / flops_per_second,
    nbytes / bytes_per_second)`` (compute and memory traffic perfectly overlapped)."""
    for value, name in ((flops, "flops"), (nbytes, "nbytes")):
        if value != 0:
            check_positive_float(value, name)
    rate = check_positive_float(flops_per_second, "flops_per_second")
    bandwidth = check_positive_float(bytes_per_second, "bytes_per_second")
    return max(float(flops) / rate, float(nbytes) / bandwidth)


def decode_step_flops(shape: ModelShape, context: int, *, batch: int = 1) -> int:
    """Forward FLOPs of one decoding step: one new token per sequence, ``context`` cached tokens.

    Per sequence: 2N for the layers' weight matrices (N = :func:`non_embedding_params`, K and V at
    their grouped-query size), 2·d·V for the output layer, and 4·L·t·d for attention (QKᵀ and PV of
    one query against t = ``context`` keys, all h heads: h·d_h = d). Norms, softmax and the
    embedding lookup are element-wise work and are not counted (as ``FlopCounterMode``).
    """
    s = as_model_shape(shape)
    t = check_int(context, "context", minimum=0)
    b = check_int(batch, "batch", minimum=1)
    per_sequence = (
        2 * non_embedding_params(s) + 2 * s.d_model * s.vocab_size + 4 * s.n_layers * t * s.d_model
    )
    return b * per_sequence


def decode_critical_batch(
    shape: ModelShape,
    context: int,
    flops_per_second: float,
    bytes_per_second: float,
    bytes_per_value: float = 2,
) -> int | float:
    """The smallest batch b ≥ 1 at which one decoding step's arithmetic takes at least as long as
    its memory traffic, on a machine with these two ceilings; ``math.inf`` if no batch does.

    With F₁ = :func:`decode_step_flops` of one sequence, W = the weight bytes (read once for the
    whole batch) and C₁ = one sequence's KV-cache bytes (each sequence reads its own):
    compute b·F₁ / rate ≥ memory (W + b·C₁) / bandwidth  ⇔  b·(F₁·bandwidth − C₁·rate) ≥ W·rate.
    When C₁ / bandwidth ≥ F₁ / rate, reading one more sequence's cache takes longer than computing
    its token, and batching never makes the step compute-bound. Exact (fractions, no rounding).
    """
    s = as_model_shape(shape)
    t = check_int(context, "context", minimum=0)
    rate = Fraction(check_positive_float(flops_per_second, "flops_per_second"))
    bandwidth = Fraction(check_positive_float(bytes_per_second, "bytes_per_second"))
    flops = decode_step_flops(s, t)  # F₁, one sequence
    weights = weight_bytes(s, bytes_per_value)  # W, shared by the batch
    cache = kv_cache_bytes(s, t, bytes_per_value)  # C₁, per sequence
    # b·(F₁·BW − C₁·R) ≥ W·R
    gain = flops * bandwidth - cache * rate
    if gain <= 0:
        return math.inf
    return max(1, math.ceil(weights * rate / gain))
