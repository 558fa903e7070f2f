"""Checks against ``tutor_lib.costs`` (lessons 00, 02, 03, 07): KV-cache bytes, attention parameters,
the longest context that fits next to the weights, the attention/FFN crossover length (plain, and
with GQA, SwiGLU and a causal mask), score-matrix bytes, activation bytes, the largest batch that
fits."""

from __future__ import annotations

import math

from tutor_lib.costs import (
    GPT2_SMALL,
    GPT3_175B,
    GPU_80GB_BYTES,
    MISTRAL_7B_LIKE,
    ModelShape,
    activation_bytes,
    attention_params,
    crossover_length,
    decode_critical_batch,
    decode_step_flops,
    kv_cache_bytes,
    max_batch_size,
    max_cached_tokens,
    score_matrix_bytes,
    training_budget,
    weight_bytes,
)
from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_count, run_check

__all__ = [
    "check_kv_cache_bytes",
    "check_attention_params",
    "check_max_cached_tokens",
    "check_crossover_length",
    "check_causal_crossover",
    "check_score_matrix_bytes",
    "check_decode_critical_batch",
    "check_activation_bytes",
    "check_max_batch_size",
]


# -- lesson 00 -----------------------------------------------------------------------------------


def check_kv_cache_bytes(fn) -> bool:
    """Check ``fn(shape, tokens, bytes_per_value, batch)``: the KV-cache size in bytes."""
    tiny = ModelShape(n_layers=2, d_model=8, n_heads=4, d_ff=16, vocab_size=10, n_kv_heads=2)
    hint_kv = (
        "d_head = d_model // n_heads, and the cache stores n_kv_heads heads "
        "(shape.n_kv_heads, or n_heads when it is None: shape.kv_heads does this)"
    )
    cases = []
    for shape, tokens, bpv, batch, hint in [
        (tiny, 1, 1, 1, "K and V: 2 vectors of n_kv·d_head numbers per layer per token"),
        (GPT2_SMALL, 1024, 2, 1, hint_kv),
        (MISTRAL_7B_LIKE, 1, 2, 1, hint_kv),
        (MISTRAL_7B_LIKE, 32768, 2, 4, "multiply by the batch size too"),
        (GPT3_175B, 2048, 0.5, 1, "int4 is half a byte per value"),
    ]:
        expected = kv_cache_bytes(shape, tokens, bpv, batch)
        label = shape.name or "a tiny GQA model"
        desc = f"{label}, tokens={tokens}, bytes={bpv:g}, batch={batch}"
        cases.append(Case(desc, (shape, tokens, bpv, batch), expected, hint))
    return run_check(fn, cases, compare=compare_count)


def _kv_cache_bytes_all_heads(shape, tokens, bytes_per_value, batch):
    d_head = shape.d_model // shape.n_heads
    return 2 * shape.n_layers * shape.n_heads * d_head * tokens * bytes_per_value * batch


register_answers(
    check_kv_cache_bytes,
    reference=kv_cache_bytes,
    wrong=_kv_cache_bytes_all_heads,
    mistake="caches n_heads heads instead of n_kv_heads (ignores GQA)",
)


def check_attention_params(fn) -> bool:
    """Check ``fn(d_model, n_heads, n_kv_heads)``: weights of one attention layer, no biases."""
    hint = (
        "W_Q and W_O are (d_model, d_model); W_K and W_V map d_model to n_kv_heads · d_head "
        "numbers, with d_head = d_model // n_heads"
    )
    cases = [
        Case(
            f"d_model={d}, n_heads={h}, n_kv_heads={kv}",
            (d, h, kv),
            attention_params(d, h, kv),
            hint,
        )
        for d, h, kv in [(8, 2, 2), (768, 12, 12), (4096, 32, 8), (4096, 32, 1), (64, 8, 4)]
    ]
    return run_check(fn, cases, compare=compare_count)


def _attention_params_ignoring_gqa(d_model, n_heads, n_kv_heads):
    return 4 * d_model * d_model


register_answers(
    check_attention_params,
    reference=attention_params,
    wrong=_attention_params_ignoring_gqa,
    mistake="4·d_model² (ignores the smaller K/V projections of GQA)",
)


def check_max_cached_tokens(fn) -> bool:
    """Check ``fn(shape, memory_bytes, batch=..., bytes_per_value=...)``: the longest context (in
    tokens, per sequence) whose KV cache fits in ``memory_bytes`` next to the weights."""
    tiny = ModelShape(n_layers=2, d_model=8, n_heads=4, d_ff=16, vocab_size=10, n_kv_heads=2)
    tiny_weights, tiny_token = weight_bytes(tiny, 2), kv_cache_bytes(tiny, 1, 2, 1)
    share = "the memory is shared: what is left for the cache once the weights are in?"
    per_token = "one more token costs a K and a V vector in every layer, for every sequence"
    cases = []
    for shape, memory, batch, bpv, hint in [
        (tiny, tiny_weights + 3 * tiny_token, 1, 2, share),
        (tiny, tiny_weights + 3 * tiny_token - 1, 1, 2, "a part of a token does not fit"),
        (MISTRAL_7B_LIKE, GPU_80GB_BYTES, 1, 2, share),
        (MISTRAL_7B_LIKE, GPU_80GB_BYTES, 16, 2, per_token),
        (MISTRAL_7B_LIKE, GPU_80GB_BYTES, 8, 0.5, "int4: half a byte per value, weights too"),
        (GPT3_175B, GPU_80GB_BYTES, 1, 2, "when not even the weights fit, no context does"),
        (GPT3_175B, 8 * GPU_80GB_BYTES, 4, 1, per_token),
    ]:
        expected = max_cached_tokens(shape, memory, batch=batch, bytes_per_value=bpv)
        label = shape.name or "a tiny GQA model"
        desc = f"{label}, {memory:,} bytes, batch={batch}, bytes={bpv:g}"
        kwargs = {"batch": batch, "bytes_per_value": bpv}
        cases.append(Case(desc, (shape, memory), expected, hint, kwargs=kwargs))
    return run_check(fn, cases, compare=compare_count)


def _max_tokens_ignoring_weights(shape, memory_bytes, batch, bytes_per_value):
    return memory_bytes // kv_cache_bytes(shape, 1, bytes_per_value, batch)


register_answers(
    check_max_cached_tokens,
    reference=max_cached_tokens,
    wrong=_max_tokens_ignoring_weights,
    mistake="gives the whole memory to the KV cache (forgets the weights)",
)


# -- lesson 02 -----------------------------------------------------------------------------------


def check_crossover_length(fn) -> bool:
    """Check ``fn(d_model, d_ff)``: the n at which 4n²d = 8nd² + 4n·d·d_ff."""
    hint = (
        "write both costs as FLOPs of n and set them equal; every term shares a common factor, "
        "and what is left is linear in n"
    )
    cases = [
        Case(f"d_model={d}, d_ff={m}", (d, m), crossover_length(d, m), hint)
        for d, m in [(64, 256), (768, 3072), (4096, 14336), (12288, 49152), (100, 7)]
    ]
    return run_check(fn, cases, compare=compare_count)


def _crossover_ignoring_projections(d_model, d_ff):
    return d_ff


register_answers(
    check_crossover_length,
    reference=crossover_length,
    wrong=_crossover_ignoring_projections,
    mistake="forgets the 8nd² projections (n = d_ff)",
)


def check_causal_crossover(fn) -> bool:
    """Check ``fn(d_model, d_ff, *, n_heads, n_kv_heads, gated, causal)``: the first whole length n
    at which a layer's scores cost at least its projections + FFN, with GQA (``n_kv_heads``
    KV heads), a SwiGLU FFN (``gated``) and a causal kernel (``causal``) counted."""
    gqa = "which projection matrices shrink when query heads share K/V heads, and by how much?"
    gated = "a gated FFN (SwiGLU) has a third d × m matrix"
    causal = (
        "a causal kernel scores only the (query, key) pairs the mask allows: count them exactly, "
        "the diagonal included"
    )
    whole = "a length is a whole number: the first n at which the scores are at least the rest"
    cases = []
    for d, m, h, kv, is_gated, is_causal, hint in [
        (64, 256, 4, 4, False, False, "without options this is the crossover of the lesson"),
        (64, 256, 4, 1, False, False, gqa),
        (4096, 14336, 32, 8, True, False, gqa),
        (64, 256, 4, 4, False, True, causal),
        (12288, 49152, 96, 96, False, True, causal),
        (4096, 14336, 32, 8, True, True, causal),
        (768, 2048, 12, 4, True, True, gated),
        (8, 3, 2, 1, True, False, whole),
    ]:
        kwargs = {"n_heads": h, "n_kv_heads": kv, "gated": is_gated, "causal": is_causal}
        expected = crossover_length(d, m, **kwargs)
        desc = f"d_model={d}, d_ff={m}, " + ", ".join(f"{k}={v}" for k, v in kwargs.items())
        cases.append(Case(desc, (d, m), expected, hint, kwargs=kwargs))
    return run_check(fn, cases, compare=compare_count)


def _causal_crossover_ignoring_gqa(d_model, d_ff, *, n_heads, n_kv_heads, gated, causal):
    return crossover_length(d_model, d_ff, gated=gated, causal=causal)


register_answers(
    check_causal_crossover,
    reference=crossover_length,
    wrong=_causal_crossover_ignoring_gqa,
    mistake="counts 8nd² projections although K and V are shared (ignores GQA)",
)


# -- lesson 03 -----------------------------------------------------------------------------------


def check_score_matrix_bytes(fn) -> bool:
    """Check ``fn(n, n_heads, bytes_per_value)``: bytes of one layer's (n, n) score matrices."""
    hint = "one n × n matrix per head, bytes_per_value bytes per entry"
    cases = [
        Case(f"n={n}, n_heads={h}, bytes={b:g}", (n, h, b), score_matrix_bytes(n, h, b), hint)
        for n, h, b in [(1, 1, 4), (3, 1, 8), (1024, 12, 4), (32768, 32, 2), (4096, 96, 0.5)]
    ]
    return run_check(fn, cases, compare=compare_count)


def _score_bytes_one_head(n, n_heads, bytes_per_value):
    return n * n * bytes_per_value


register_answers(
    check_score_matrix_bytes,
    reference=score_matrix_bytes,
    wrong=_score_bytes_one_head,
    mistake="one head only",
)


# -- lesson 03: the batch at which decoding turns compute-bound -----------------------------------


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


# -- lesson 07 -----------------------------------------------------------------------------------


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
