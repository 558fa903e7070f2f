"""Checks against ``tutor_lib.costs`` (lessons 00, 02, 03): KV-cache bytes, attention parameters,
the longest context that fits next to the weights, the attention/FFN crossover length (plain, and
with GQA, SwiGLU and a causal mask), score-matrix bytes.

The decoding roofline (``costs.roofline``) and training memory (``costs.training``) have their own
exercise modules: ``exercises/roofline.py`` and ``exercises/training.py``."""

from __future__ import annotations

from tutor_lib.costs import (
    GPT2_SMALL,
    GPT3_175B,
    GPU_80GB_BYTES,
    MISTRAL_7B_LIKE,
    ModelShape,
    attention_params,
    crossover_length,
    kv_cache_bytes,
    max_cached_tokens,
    score_matrix_bytes,
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
