"""The lesson-05 checks (tutor_lib/exercises/tiled.py): a learner's correct answer, written the way the
lesson suggests, passes; typical mistakes fail with a hint; stubs are "not attempted yet"."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracles import counting

from tutor_lib.exercises import (
    check_attention_backward,
    check_largest_square_tile,
    check_online_softmax_update,
)


def learner_update(state, scores_block, values_block):
    """One online-softmax step as a learner writes it from the lesson's equations."""
    m_new = np.maximum(state["max"], scores_block.max(axis=-1))
    safe = np.where(np.isinf(m_new), 0.0, m_new)  # rows that have seen nothing yet
    alpha = np.exp(state["max"] - safe)
    p = np.exp(scores_block - safe[:, None])
    return {
        "max": m_new,
        "normalizer": alpha * state["normalizer"] + p.sum(axis=-1),
        "acc": alpha[:, None] * state["acc"] + p @ values_block,
    }


def update_with_nan_on_empty_rows(state, scores_block, values_block):
    m_new = np.maximum(state["max"], scores_block.max(axis=-1))
    with np.errstate(invalid="ignore"):
        alpha = np.exp(state["max"] - m_new)  # -inf − (-inf) = NaN
        p = np.exp(scores_block - m_new[:, None])
    return {
        "max": m_new,
        "normalizer": alpha * state["normalizer"] + p.sum(-1),
        "acc": alpha[:, None] * state["acc"] + p @ values_block,
    }


def learner_backward(q, k, v, out, logsumexp, grad_out, *, block_q, block_k, causal):
    """Dense recomputation from the logsumexp (one tile), as the lesson derives it."""
    scale = 1 / math.sqrt(q.shape[-1])
    s = q @ k.T * scale
    n_q, n_k = s.shape
    if causal:
        future = torch.arange(n_k)[None, :] > torch.arange(n_q)[:, None] + (n_k - n_q)
        s = s.masked_fill(future, -math.inf)
    lse = torch.where(torch.isinf(logsumexp), math.inf, logsumexp)  # no key: P = 0
    p = torch.exp(s - lse[:, None])
    dv = p.T @ grad_out
    dp = grad_out @ v.T
    ds = p * (dp - (grad_out * out).sum(-1, keepdim=True))
    return ds @ k * scale, ds.T @ q * scale, dv


def backward_without_scale(q, k, v, out, logsumexp, grad_out, *, block_q, block_k, causal):
    dq, dk, dv = learner_backward(
        q, k, v, out, logsumexp, grad_out, block_q=block_q, block_k=block_k, causal=causal
    )
    return dq * math.sqrt(q.shape[-1]), dk * math.sqrt(q.shape[-1]), dv


def learner_tile(sram_bytes, d, bytes_per_value):
    def step_bytes(b):  # Q, K, V, O blocks + the b × b scores + m and ℓ
        return (4 * b * d + b * b + 2 * b) * bytes_per_value

    b = 0
    while step_bytes(b + 1) <= sram_bytes:
        b += 1
    return b


def tile_from_the_paper(sram_bytes, d, bytes_per_value):
    return sram_bytes // bytes_per_value // (4 * d)  # Algorithm 1's B_c: no room for the scores


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_online_softmax_update, learner_update),
        (check_attention_backward, learner_backward),
        (check_largest_square_tile, learner_tile),
    ],
)
def test_a_learners_correct_answer_passes_every_case(check, answer, capsys):
    counted = counting(answer)
    assert check(counted) is True
    out = capsys.readouterr().out
    assert out.startswith("✓ passed") and f"passed {counted.calls} cases" in out
    assert counted.calls >= 5


@pytest.mark.parametrize(
    "check, wrong, where",
    [
        (check_online_softmax_update, update_with_nan_on_empty_rows, "all masked"),
        (check_attention_backward, backward_without_scale, "n_q=4"),
        (check_largest_square_tile, tile_from_the_paper, "A100-like"),
    ],
)
def test_typical_mistakes_fail_with_a_hint(check, wrong, where, capsys):
    assert check(wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case") and where in out and "hint:" in out


@pytest.mark.parametrize(
    "check", [check_online_softmax_update, check_attention_backward, check_largest_square_tile]
)
def test_stubs_are_not_attempted_and_non_functions_are_refused(check, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError  # your code here

    assert check(stub) is False
    assert capsys.readouterr().out == "not attempted yet\n"
    assert check("not a function") is False
    assert "expected a function" in capsys.readouterr().out


def test_wrong_return_types_get_a_readable_message(capsys):
    assert check_online_softmax_update(lambda s, x, v: (1, 2, 3)) is False
    assert "expected a dict" in capsys.readouterr().out
    assert check_attention_backward(lambda *a, **k: None) is False
    assert "expected a tuple (dq, dk, dv)" in capsys.readouterr().out
