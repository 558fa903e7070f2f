"""check_* for lessons 00, 02, 03: the library answer passes, typical mistakes fail with a hint, a
stub prints "not attempted yet"."""

from __future__ import annotations

import numpy as np
import pytest

from tutor_lib.costs import attention_params, crossover_length, kv_cache_bytes, score_matrix_bytes
from tutor_lib.exercises import (
    check_attention_params,
    check_chunked_ffn,
    check_crossover_length,
    check_kv_cache_bytes,
    check_loglog_slope,
    check_score_matrix_bytes,
)
from tutor_lib.ffn import chunked_ffn, ffn
from tutor_lib.measure import loglog_slope


def stub(*args, **kwargs):
    raise NotImplementedError  # your code here


def kv_ignoring_gqa(shape, tokens, bytes_per_value, batch):
    return 2 * shape.n_layers * shape.n_heads * shape.d_head * tokens * bytes_per_value * batch


def kv_forgetting_v(shape, tokens, bytes_per_value, batch):
    return kv_cache_bytes(shape, tokens, bytes_per_value, batch) // 2


def params_ignoring_gqa(d_model, n_heads, n_kv_heads):
    return 4 * d_model * d_model


def crossover_6d(d_model, d_ff):
    return 6 * d_model


def unchunked(x, w1, b1, w2, b2, *, chunk_size):
    return ffn(x, w1, b1, w2, b2)


def drops_last_chunk(x, w1, b1, w2, b2, *, chunk_size):
    n = x.shape[-2]
    out = np.zeros_like(x)
    for start in range(0, n - n % chunk_size, chunk_size):
        out[..., start : start + chunk_size, :] = ffn(
            x[..., start : start + chunk_size, :], w1, b1, w2, b2
        )
    return out


def chunked_with_concatenate(x, w1, b1, w2, b2, *, chunk_size):
    """A typical learner's correct answer: a list of chunk outputs, then concatenate."""
    n = x.shape[-2]
    parts = [ffn(x[..., s : s + chunk_size, :], w1, b1, w2, b2) for s in range(0, n, chunk_size)]
    return np.concatenate(parts, axis=-2)


def scores_without_heads(n, n_heads, bytes_per_value):
    return n * n * bytes_per_value


def slope_from_endpoints(xs, ys):
    return (np.log(ys[-1]) - np.log(ys[0])) / (np.log(xs[-1]) - np.log(xs[0]))


def slope_polyfit(xs, ys):
    return np.polyfit(np.log10(xs), np.log10(ys), 1)[0]


CHECKS = [
    (check_kv_cache_bytes, kv_cache_bytes, [kv_ignoring_gqa, kv_forgetting_v]),
    (check_attention_params, attention_params, [params_ignoring_gqa]),
    (check_crossover_length, crossover_length, [crossover_6d]),
    (check_chunked_ffn, chunked_ffn, [unchunked, drops_last_chunk]),
    (check_score_matrix_bytes, score_matrix_bytes, [scores_without_heads]),
    (check_loglog_slope, loglog_slope, [slope_from_endpoints]),
]


@pytest.mark.parametrize("check, solution, _", CHECKS, ids=[c[0].__name__ for c in CHECKS])
def test_library_solution_passes(check, solution, _, capsys):
    assert check(solution) is True
    assert capsys.readouterr().out.startswith("✓ passed")


@pytest.mark.parametrize("check, _, wrong", CHECKS, ids=[c[0].__name__ for c in CHECKS])
def test_typical_mistakes_fail_with_a_hint(check, _, wrong, capsys):
    for fn in wrong:
        assert check(fn) is False
        out = capsys.readouterr().out
        assert out.startswith("✗ case") and "hint:" in out


@pytest.mark.parametrize("check", [c[0] for c in CHECKS], ids=[c[0].__name__ for c in CHECKS])
def test_stub_is_not_attempted_yet(check, capsys):
    assert check(stub) is False
    assert capsys.readouterr().out == "not attempted yet\n"


def test_other_correct_answers_pass(capsys):
    assert check_chunked_ffn(chunked_with_concatenate) is True  # memory limit leaves room for this
    assert check_loglog_slope(slope_polyfit) is True  # any log base
    assert check_kv_cache_bytes(lambda s, t, b, n: float(kv_cache_bytes(s, t, b, n))) is True
    assert capsys.readouterr().out.count("✓ passed") == 3


def test_unchunked_answer_is_caught_by_its_memory_not_its_values(capsys):
    check_chunked_ffn(unchunked)
    out = capsys.readouterr().out
    assert "peak memory measured" in out and "output is right" in out


def test_non_numbers_are_reported(capsys):
    assert check_crossover_length(lambda d, m: "4608") is False
    assert "returned a str" in capsys.readouterr().out
