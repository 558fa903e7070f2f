"""check_* against tutor_lib.costs (lessons 00, 02, 03): the library answer passes, typical mistakes
fail with a hint, a stub prints "not attempted yet"."""

from __future__ import annotations

import numpy as np
import pytest

from tutor_lib.costs import attention_params, crossover_length, kv_cache_bytes, score_matrix_bytes
from tutor_lib.exercises import (
    check_attention_params,
    check_crossover_length,
    check_kv_cache_bytes,
    check_score_matrix_bytes,
)
from tutor_lib.exercises._core import compare_count


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


def scores_without_heads(n, n_heads, bytes_per_value):
    return n * n * bytes_per_value


CHECKS = [
    (check_kv_cache_bytes, kv_cache_bytes, [kv_ignoring_gqa, kv_forgetting_v]),
    (check_attention_params, attention_params, [params_ignoring_gqa]),
    (check_crossover_length, crossover_length, [crossover_6d]),
    (check_score_matrix_bytes, score_matrix_bytes, [scores_without_heads]),
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


def test_a_float_count_passes(capsys):
    assert check_kv_cache_bytes(lambda s, t, b, n: float(kv_cache_bytes(s, t, b, n))) is True
    assert capsys.readouterr().out.startswith("✓ passed")


def test_non_numbers_are_reported(capsys):
    assert check_crossover_length(lambda d, m: "4608") is False
    assert "returned a str" in capsys.readouterr().out


def test_compare_count():
    assert compare_count(4608, 4608) is None
    assert compare_count(4608.0, 4608) is None  # the right whole number as a float
    assert compare_count(np.int64(12), 12) is None
    assert "returned a bool" in compare_count(True, 1)
    assert "returned a list" in compare_count([12], 12)
    assert compare_count(24, 12) == "got 24, expected 12 (2× the expected value)"
    assert compare_count(0, 12) == "got 0, expected 12"
