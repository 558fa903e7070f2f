"""The second-edition exercises (lessons 00, 01, 02): each typical mistake fails with a hint, and
the library answer passes (the answer key checks the registered pair; these are further mistakes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from oracles import counting

from tutor_lib.attention import attention, merge_heads, multi_head_attention, split_heads
from tutor_lib.costs import crossover_length, kv_cache_bytes, max_cached_tokens, weight_bytes
from tutor_lib.exercises import (
    check_causal_crossover,
    check_gqa_attention,
    check_max_cached_tokens,
)


def tokens_forgetting_batch(shape, memory_bytes, batch, bytes_per_value):
    free = memory_bytes - weight_bytes(shape, bytes_per_value)
    return max(free, 0) // kv_cache_bytes(shape, 1, bytes_per_value, 1)


def tokens_negative_when_weights_do_not_fit(shape, memory_bytes, batch, bytes_per_value):
    free = memory_bytes - weight_bytes(shape, bytes_per_value)
    return free // kv_cache_bytes(shape, 1, bytes_per_value, batch)


def tokens_rounded_up(shape, memory_bytes, batch, bytes_per_value):
    free = memory_bytes - weight_bytes(shape, bytes_per_value)
    return max(0, math.ceil(free / kv_cache_bytes(shape, 1, bytes_per_value, batch)))


def crossover_half_n_squared(d_model, d_ff, *, n_heads, n_kv_heads, gated, causal):
    """Kaplan-style n²/2 pairs instead of the exact n(n+1)/2: off by one when causal."""
    d_kv = n_kv_heads * d_model // n_heads
    r = 4 * d_model**2 + 4 * d_model * d_kv + (6 if gated else 4) * d_model * d_ff
    return math.ceil(r / (2 * d_model if causal else 4 * d_model))


def crossover_ignoring_gated(d_model, d_ff, *, n_heads, n_kv_heads, gated, causal):
    return crossover_length(d_model, d_ff, n_heads=n_heads, n_kv_heads=n_kv_heads, causal=causal)


def gqa_without_output_projection(x, w_q, w_k, w_v, w_o, num_heads, num_kv_heads):
    group = num_heads // num_kv_heads
    q = split_heads(x @ w_q, num_heads)
    k, v = (np.repeat(split_heads(x @ w, num_kv_heads), group, axis=-3) for w in (w_k, w_v))
    return merge_heads(attention(q, k, v))


def gqa_with_causal_mask(x, w_q, w_k, w_v, w_o, num_heads, num_kv_heads):
    return multi_head_attention(
        x, w_q, w_k, w_v, w_o, num_heads, causal=True, num_kv_heads=num_kv_heads
    )


@pytest.mark.parametrize(
    "check, wrong",
    [
        (check_max_cached_tokens, tokens_forgetting_batch),
        (check_max_cached_tokens, tokens_negative_when_weights_do_not_fit),
        (check_max_cached_tokens, tokens_rounded_up),
        (check_causal_crossover, crossover_half_n_squared),
        (check_causal_crossover, crossover_ignoring_gated),
        (check_gqa_attention, gqa_without_output_projection),
        (check_gqa_attention, gqa_with_causal_mask),
    ],
)
def test_typical_mistakes_fail_with_a_hint(check, wrong, capsys):
    assert check(wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case") and "hint:" in out


@pytest.mark.parametrize(
    "check, solution, cases",
    [
        (check_max_cached_tokens, max_cached_tokens, 7),
        (check_causal_crossover, crossover_length, 8),
        (check_gqa_attention, multi_head_attention, 5),
    ],
)
def test_library_answer_passes_every_case(check, solution, cases, capsys):
    fn = counting(solution)
    assert check(fn) is True and fn.calls == cases
    assert capsys.readouterr().out == f"✓ passed {cases} cases\n"


def test_hints_point_without_giving_the_formula(capsys):
    # the first failing case of a do-nothing answer prints a hint without the closed form
    check_causal_crossover(lambda *a, **k: 0)
    out = capsys.readouterr().out
    assert "hint:" in out and "2d + m" not in out and "1.25" not in out
