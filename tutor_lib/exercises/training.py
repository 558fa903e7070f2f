"""Checks against ``tutor_lib.costs.training`` (lesson 07): the activation bytes of a training
step, and the largest batch that fits. (Reversible layers: ``exercises/training_memory.py``.)"""

from __future__ import annotations

from tutor_lib.costs import (
    GPT2_SMALL,
    GPT3_175B,
    GPU_80GB_BYTES,
    MISTRAL_7B_LIKE,
    ModelShape,
    activation_bytes,
    max_batch_size,
    training_budget,
)
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_count, run_check

__all__ = ["check_activation_bytes", "check_max_batch_size"]


def check_activation_bytes(fn) -> bool:
    """Check ``fn(shape, seq_len, batch)``: bytes of the activations all layers save, 16-bit, with
    dropout, no recomputation (Korthikanti et al. 2022; shapes with d_ff = 4·d_model, no GQA)."""
    tiny = ModelShape(n_layers=3, d_model=8, n_heads=2, d_ff=32, vocab_size=10)
    hint = (
        "per layer s·b·h·(34 + 5·a·s/h) bytes, h = d_model, a = n_heads; then all n_layers layers"
    )
    cases = []
    for shape, s, b, extra in [
        (tiny, 1, 1, ""),
        (tiny, 6, 2, " (the a·s² term grows with s²)"),
        (GPT2_SMALL, 1024, 1, ""),
        (GPT3_175B, 2048, 1, ""),
        (GPT3_175B, 2048, 8, " (multiply by the batch too)"),
    ]:
        desc = f"{shape.name or 'a tiny model'}, seq_len={s}, batch={b}"
        cases.append(Case(desc, (shape, s, b), activation_bytes(shape, s, b), hint + extra))
    return run_check(fn, cases, compare=compare_count)


def _activation_bytes_one_layer(shape, seq_len, batch):
    h, a = shape.d_model, shape.n_heads
    return seq_len * batch * h * (34 + 5 * a * seq_len // h)


register_answers(
    check_activation_bytes,
    reference=activation_bytes,
    wrong=_activation_bytes_one_layer,
    mistake="one layer only (forgets × n_layers)",
)


def check_max_batch_size(fn) -> bool:
    """Check ``fn(shape, seq_len, budget_bytes)``: the largest batch whose training step fits in
    ``budget_bytes``, with mixed-precision Adam and no recomputation (0 if none fits)."""
    tiny = ModelShape(n_layers=2, d_model=8, n_heads=2, d_ff=32, vocab_size=10)
    states = training_budget(tiny, 4, 1)["total"] - activation_bytes(tiny, 4, 1)
    exact = states + 3 * activation_bytes(tiny, 4, 1)  # exactly 3 sequences fit
    hint_states = (
        "the budget pays for the model states first (16 bytes per parameter); only what is left "
        "holds activations"
    )
    cases = []
    for shape, s, budget, hint in [
        (tiny, 4, exact, hint_states + "; a budget that fits exactly 3 sequences must give 3"),
        (tiny, 4, exact - 1, "one byte short of 3 sequences: round down"),
        (GPT2_SMALL, 1024, GPU_80GB_BYTES, hint_states),
        (MISTRAL_7B_LIKE, 4096, 8 * GPU_80GB_BYTES, hint_states),
        (
            MISTRAL_7B_LIKE,
            4096,
            GPU_80GB_BYTES,
            "when the states alone do not fit, no batch does: 0",
        ),
    ]:
        desc = f"{shape.name or 'a tiny model'}, seq_len={s}, budget={budget:,} bytes"
        cases.append(Case(desc, (shape, s, budget), max_batch_size(shape, s, budget), hint))
    return run_check(fn, cases, compare=compare_count)


def _batch_ignoring_states(shape, seq_len, budget_bytes):
    return budget_bytes // activation_bytes(shape, seq_len, 1)


register_answers(
    check_max_batch_size,
    reference=max_batch_size,
    wrong=_batch_ignoring_states,
    mistake="forgets the weights, gradients and optimizer states",
)
