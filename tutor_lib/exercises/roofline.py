"""Checks against ``tutor_lib.costs.roofline`` (lesson 03): the smallest batch at which one
decoding step is compute-bound."""

from __future__ import annotations

import math

from tutor_lib.costs import (
    GPT2_SMALL,
    GPT3_175B,
    MISTRAL_7B_LIKE,
    ModelShape,
    decode_critical_batch,
    decode_step_flops,
    weight_bytes,
)
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, run_check

__all__ = ["check_decode_critical_batch"]


def _compare_batch(got, expected) -> str | None:
    """A batch size (an int, or a float holding one) or math.inf for "never"."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return f"returned a {type(got).__name__}, expected an int (or math.inf for 'never')"
    if got == expected:
        return None
    if expected == math.inf:
        return f"got {got:,}, but no batch makes this step compute-bound (expected math.inf)"
    if got == math.inf:
        return f"got math.inf, but a batch of {expected:,} is already compute-bound"
    return f"got {got:,}, expected {expected:,}"


def check_decode_critical_batch(fn) -> bool:
    """Check ``fn(shape, context, flops_per_second, bytes_per_second, bytes_per_value)``: the
    smallest batch at which one decoding step is compute-bound, or ``math.inf`` if none is."""
    hint = (
        "write the step's compute time and its memory time as functions of the batch b; which "
        "bytes are read once for the whole batch, and which does every sequence bring along?"
    )
    never = (
        "suppose one more sequence joins the batch: how long does its token take to compute, and "
        "how long does it take to read what it brings along? Compare the two."
    )
    tiny = ModelShape(n_layers=4, d_model=256, n_heads=8, d_ff=1024, vocab_size=1000, n_kv_heads=2)
    h100, a100, cpu = (989e12, 3.35e12), (312e12, 2.039e12), (60e9, 20e9)
    cases = []
    for shape, context, (rate, bandwidth), bpv in [
        (MISTRAL_7B_LIKE, 1, h100, 2),
        (MISTRAL_7B_LIKE, 256, h100, 2),
        (MISTRAL_7B_LIKE, 4096, h100, 2),
        (GPT3_175B, 1, a100, 2),
        (MISTRAL_7B_LIKE, 4096, cpu, 2),
        (MISTRAL_7B_LIKE, 32768, cpu, 4),
        (tiny, 64, (1e12, 1e11), 0.5),
        (GPT2_SMALL, 1024, (100e9, 25e9), 4),
    ]:
        expected = decode_critical_batch(shape, context, rate, bandwidth, bpv)
        label = shape.name or "a tiny GQA model"
        desc = f"{label}, context={context}, {rate:.3g} FLOP/s, {bandwidth:.3g} B/s, bytes={bpv:g}"
        args = (shape, context, rate, bandwidth, bpv)
        cases.append(Case(desc, args, expected, never if expected == math.inf else hint))
    return run_check(fn, cases, compare=_compare_batch)


def _critical_batch_weights_only(shape, context, flops_per_second, bytes_per_second, bpv=2):
    # compute b·F₁/R = memory W/BW: the KV cache is left out
    ratio = weight_bytes(shape, bpv) * flops_per_second / bytes_per_second
    return max(1, math.ceil(ratio / decode_step_flops(shape, context)))


register_answers(
    check_decode_critical_batch,
    reference=decode_critical_batch,
    wrong=_critical_batch_weights_only,
    mistake="weights only: each sequence's KV cache is not counted as memory traffic",
)
