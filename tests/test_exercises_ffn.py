"""check_chunked_ffn against tutor_lib.ffn (lesson 02): the library answer passes, a learner's
concatenating answer passes, wrong values or the whole hidden layer at once fail with a hint."""

from __future__ import annotations

import numpy as np
import pytest

from tutor_lib.exercises import check_chunked_ffn
from tutor_lib.ffn import chunked_ffn, ffn


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


@pytest.mark.parametrize("answer", [chunked_ffn, chunked_with_concatenate])
def test_correct_answers_pass(answer, capsys):
    assert check_chunked_ffn(answer) is True  # the memory limit leaves room for concatenate
    assert capsys.readouterr().out.startswith("✓ passed")


@pytest.mark.parametrize("wrong", [unchunked, drops_last_chunk])
def test_typical_mistakes_fail_with_a_hint(wrong, capsys):
    assert check_chunked_ffn(wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case") and "hint:" in out


def test_stub_is_not_attempted_yet(capsys):
    def stub(x, w1, b1, w2, b2, *, chunk_size):
        raise NotImplementedError  # your code here

    assert check_chunked_ffn(stub) is False
    assert capsys.readouterr().out == "not attempted yet\n"


def test_unchunked_answer_is_caught_by_its_memory_not_its_values(capsys):
    check_chunked_ffn(unchunked)
    out = capsys.readouterr().out
    assert "peak memory measured" in out and "output is right" in out
