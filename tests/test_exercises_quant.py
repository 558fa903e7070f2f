"""Lesson 08 exercise checks: the library's own function passes, typical wrong answers fail with a
hint, a stub prints "not attempted yet", and a crash becomes one line of feedback."""

from __future__ import annotations

import re

import numpy as np
import pytest
from oracles import assert_rejected, counting

from tutor_lib import quant
from tutor_lib.exercises import (
    check_compressed_causal_mask,
    check_llm_int8_matmul,
    check_quantize,
)

CHECKS = {
    "quantize": (check_quantize, quant.quantize),
    "llm_int8_matmul": (check_llm_int8_matmul, quant.llm_int8_matmul),
    "compressed_causal_mask": (check_compressed_causal_mask, quant.compressed_causal_mask),
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_library_function_passes(name, capsys):
    check, reference = CHECKS[name]
    fn = counting(reference)
    assert check(fn) is True
    match = re.fullmatch(r"✓ passed (\d+) cases\n", capsys.readouterr().out)
    assert match and int(match.group(1)) == fn.calls >= 5


@pytest.mark.parametrize("name", list(CHECKS))
def test_stub_is_not_attempted_yet(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError  # your code here

    assert CHECKS[name][0](stub) is False
    assert capsys.readouterr().out == "not attempted yet\n"


@pytest.mark.parametrize("name", list(CHECKS))
def test_crash_is_one_line_of_feedback(name, capsys):
    def crash(*args, **kwargs):
        return 1 / 0

    line = assert_rejected(capsys, CHECKS[name][0](crash))
    assert "ZeroDivisionError" in line


def _quantize_then(fix):
    def fn(x, bits, axis=None):
        return fix(*quant.quantize(x, bits, axis=axis), x, bits, axis)

    return fn


@pytest.mark.parametrize(
    "wrong,why",
    [
        (lambda x, bits, axis=None: quant.quantize(x, bits), "ignores axis"),
        (
            _quantize_then(lambda q, s, z, x, b, a: (q, s * (2 ** (b - 1) - 1) / 2 ** (b - 1), z)),
            "divides by 2^(b-1): 128 levels for 8 bits",
        ),
        (_quantize_then(lambda q, s, z, x, b, a: (q.astype(float), s, z)), "float q"),
        (_quantize_then(lambda q, s, z, x, b, a: (q, s.squeeze(), z)), "no keepdims"),
        (
            lambda x, bits, axis=None: quant.quantize(x, bits, axis=axis, symmetric=False),
            "asymmetric",
        ),
        (_quantize_then(lambda q, s, z, x, b, a: (np.trunc(x / s).astype(np.int8), s, z)), "trunc"),
        (_quantize_then(lambda q, s, z, x, b, a: [q, s, z]), "a list"),
    ],
)
def test_wrong_quantizers_fail(wrong, why, capsys):
    assert_rejected(capsys, check_quantize(wrong))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda x, w, t: x @ w,  # no quantization at all
        lambda x, w, t: quant.quantized_matmul(x, w, scheme="token"),  # no decomposition
        lambda x, w, t: quant.quantized_matmul(x, w, scheme="tensor"),
        lambda x, w, t: quant.llm_int8_matmul(x, w, 6.0),  # ignores the threshold argument
        lambda x, w, t: quant.quantized_matmul(x, w, 7, scheme="llm.int8", threshold=t),  # 7 bits
    ],
)
def test_wrong_llm_int8_fail(wrong, capsys):
    assert_rejected(capsys, check_llm_int8_matmul(wrong))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda n, s: np.ones((n, -(-n // s)), bool),  # no causality
        lambda n, s: (np.arange(-(-n // s)) * s)[None, :] <= np.arange(n)[:, None],  # first token
        lambda n, s: ((np.arange(-(-n // s)) + 1) * s - 1)[None, :] <= np.arange(n)[:, None],  # n
        lambda n, s: np.tril(np.ones((n, n), bool)),  # the uncompressed causal mask
        lambda n, s: quant.compressed_causal_mask(n, s).astype(int),  # ints, not bools
    ],
)
def test_wrong_compressed_causal_masks_fail(wrong, capsys):
    assert_rejected(capsys, check_compressed_causal_mask(wrong))
