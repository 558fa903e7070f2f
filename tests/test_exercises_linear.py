"""Lesson 06 exercise checks: a learner-style solution passes, typical mistakes fail with a hint,
a crash becomes one line of feedback."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from oracles import counting

from tutor_lib import linear
from tutor_lib.exercises import (
    check_associativity_crossover,
    check_linear_attention,
    check_linear_attention_step,
)


def _phi(x):
    return F.elu(x) + 1


def learner_linear_attention(q, k, v):
    s = _phi(k).transpose(-1, -2) @ v  # (d_k, d_v)
    z = _phi(k).sum(-2)  # (d_k,)
    return (_phi(q) @ s) / (_phi(q) @ z.unsqueeze(-1))


def learner_step(s, z, q, k, v):
    s = s + _phi(k).unsqueeze(-1) * v.unsqueeze(-2)
    z = z + _phi(k)
    return (_phi(q).unsqueeze(-2) @ s).squeeze(-2) / (_phi(q) * z).sum(-1, keepdim=True), s, z


def learner_crossover(num_features, d_v):
    n = 1
    while 4 * n * num_features * (d_v + 1) >= 2 * n * n * (num_features + d_v + 1):
        n += 1
    return n


@pytest.mark.parametrize(
    "check,fn",
    [
        (check_linear_attention, learner_linear_attention),
        (check_linear_attention_step, learner_step),
        (check_associativity_crossover, learner_crossover),
    ],
)
def test_learner_style_solutions_pass(check, fn, capsys):
    fn = counting(fn)
    assert check(fn) is True
    match = re.fullmatch(r"✓ passed (\d+) cases\n", capsys.readouterr().out)
    assert match and int(match.group(1)) == fn.calls >= 4


def test_forgetting_the_normalizer_fails_with_a_hint(capsys):
    def no_normalizer(q, k, v):
        return _phi(q) @ (_phi(k).transpose(-1, -2) @ v)

    assert check_linear_attention(no_normalizer) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case 1 of 5") and "hint:" in out


def test_the_quadratic_order_fails_only_on_its_flop_count(capsys):
    assert check_linear_attention(linear.quadratic_linear_attention) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case 5 of 5") and "n × n matrix was built" in out


def test_step_returning_one_tensor_is_explained(capsys):
    assert check_linear_attention_step(lambda s, z, q, k, v: s) is False
    assert "expected a tuple (out, s_new, z_new)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "check", [check_linear_attention, check_linear_attention_step, check_associativity_crossover]
)
def test_crash_is_one_line_of_feedback(check, capsys):
    assert check(lambda *args: 1 / 0) is False
    out = capsys.readouterr().out
    assert "ZeroDivisionError" in out.splitlines()[0] and "Traceback" not in out


def test_learner_torch_solution_gets_float64_inputs():
    seen = []
    check_linear_attention(lambda q, k, v: seen.append(q.dtype) or linear.linear_attention(q, k, v))
    assert seen and set(seen) == {torch.float64}
