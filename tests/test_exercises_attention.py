"""Exercise checks: the library's own function passes, typical wrong answers fail with a hint, a stub is
"not attempted yet", and a crash becomes one line of feedback (never a traceback)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from oracles import assert_rejected, counting

from tutor_lib.attention import attention, causal_mask, softmax
from tutor_lib.exercises import check_attention, check_causal_mask, check_softmax
from tutor_lib.exercises._core import Case, compare_arrays, run_check

CHECKS = {"softmax": check_softmax, "attention": check_attention, "causal_mask": check_causal_mask}
REFERENCE = {"softmax": softmax, "attention": attention, "causal_mask": causal_mask}


# ----------------------------------------------------------------------------- accepts the reference
@pytest.mark.parametrize("name", list(CHECKS))
def test_library_function_passes(name, capsys):
    fn = counting(REFERENCE[name])
    assert CHECKS[name](fn) is True
    out = capsys.readouterr().out
    match = re.fullmatch(r"✓ passed (\d+) cases\n", out)
    assert match, repr(out)
    assert int(match.group(1)) == fn.calls >= 5  # N is the number of cases actually run


def test_in_place_answer_is_accepted_and_torch_tensor_answer_is_compared(capsys):
    def torch_softmax(x):
        return torch.softmax(torch.from_numpy(x), dim=-1)  # a tensor, -inf rows give NaN ...

    def in_place_softmax(x):  # modifies its argument: must not corrupt the check's own data
        x -= np.max(x, axis=-1, keepdims=True)
        np.nan_to_num(x, copy=False, nan=-np.inf)
        np.exp(x, out=x)
        total = x.sum(axis=-1, keepdims=True)
        return np.divide(x, total, out=np.zeros_like(x), where=total > 0)

    with np.errstate(invalid="ignore"):
        assert check_softmax(in_place_softmax) is True
    assert capsys.readouterr().out.startswith("✓ passed")
    assert check_softmax(torch_softmax) is False  # ... which the all-masked case catches
    assert "NaN" in assert_rejected(capsys, False)


# ----------------------------------------------------------------------------- rejects wrong answers
def test_softmax_without_max_subtraction_fails_the_huge_logits_case(capsys):
    def naive(x):
        e = np.exp(x)
        return e / e.sum(axis=-1, keepdims=True)

    with np.errstate(over="ignore", invalid="ignore"):
        ok = check_softmax(naive)
    line = assert_rejected(capsys, ok, case_words=("1000",))
    assert "NaN" in line


def test_softmax_over_the_wrong_axis_fails(capsys):
    def wrong_axis(x):
        e = np.exp(x - x.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    with np.errstate(invalid="ignore"):
        assert_rejected(capsys, check_softmax(wrong_axis), case_words=("(4, 5)",))


def test_softmax_that_turns_an_all_masked_row_into_nan_fails(capsys):
    def no_empty_row_fix(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    with np.errstate(invalid="ignore"):
        line = assert_rejected(capsys, check_softmax(no_empty_row_fix))
    assert "NaN" in line


def test_attention_without_sqrt_dk_scaling_fails(capsys):
    def unscaled(q, k, v, mask=None):
        return attention(q, k, v, mask, scale=1.0)

    assert_rejected(capsys, check_attention(unscaled), case_words=("case 1 of",))


def test_attention_that_ignores_the_mask_fails(capsys):
    def maskless(q, k, v, mask=None):
        return attention(q, k, v)

    assert_rejected(capsys, check_attention(maskless), case_words=("mask",))


def test_attention_with_a_naive_softmax_fails_on_large_logits(capsys):
    def naive(q, k, v, mask=None):
        s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask, s, -np.inf)
        e = np.exp(s)
        return e / e.sum(axis=-1, keepdims=True) @ v

    with np.errstate(over="ignore", invalid="ignore"):
        assert_rejected(capsys, check_attention(naive), case_words=("large",))


def test_top_left_causal_mask_fails_when_n_q_differs_from_n_k(capsys):
    def top_left(n_q, n_k):
        return np.tril(np.ones((n_q, n_k), dtype=bool))

    assert np.array_equal(top_left(4, 4), causal_mask(4, 4))  # right whenever n_q == n_k ...
    line = assert_rejected(capsys, check_causal_mask(top_left))
    n_q, n_k = map(int, re.search(r"n_q=(\d+), n_k=(\d+)", line).groups())
    assert n_q != n_k  # ... so the failing case must be a rectangular one


def test_causal_mask_of_integers_fails(capsys):
    def as_ints(n_q, n_k):
        return causal_mask(n_q, n_k).astype(int)

    assert "bool" in assert_rejected(capsys, check_causal_mask(as_ints))


# ----------------------------------------------------------------------------- stubs and crashes
@pytest.mark.parametrize("name", list(CHECKS))
def test_stub_is_not_attempted_yet(name, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError  # your code here

    assert CHECKS[name](stub) is False
    captured = capsys.readouterr()
    assert captured.out == "not attempted yet\n"
    assert captured.err == ""


@pytest.mark.parametrize("name", list(CHECKS))
def test_other_exceptions_become_one_line_of_feedback(name, capsys):
    def crashes(*args, **kwargs):
        return 1 / 0

    assert CHECKS[name](crashes) is False
    captured = capsys.readouterr()
    first = captured.out.splitlines()[0]
    assert first.startswith("✗ case 1 of ") and "raised ZeroDivisionError" in first
    assert "Traceback" not in captured.out + captured.err


def test_non_callable_and_none_results(capsys):
    assert check_softmax(np.ones(3)) is False
    assert capsys.readouterr().out.startswith("✗")
    assert check_attention(lambda q, k, v, mask=None: None) is False
    assert capsys.readouterr().out.startswith("✗ case 1 of ")


# ----------------------------------------------------------------------------- the harness itself
def test_compare_arrays():
    assert compare_arrays(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12])) is None
    assert "shape" in compare_arrays(np.ones((2, 3)), np.ones((3, 2)))
    assert "NaN" in compare_arrays(np.array([np.nan, 1.0]), np.array([0.5, 1.0]))
    assert "differ" in compare_arrays(np.array([1.0, 2.1]), np.array([1.0, 2.0]))
    assert "boolean" in compare_arrays(np.ones(2), np.ones(2, dtype=bool))
    assert "index (0, 1)" in compare_arrays(np.eye(2, dtype=bool), np.ones((2, 2), dtype=bool))
    assert compare_arrays(torch.ones(2, dtype=torch.float64), np.ones(2)) is None


def test_run_check_stops_at_the_first_failure_and_prints_the_hint(capsys):
    seen = []

    def fn(x):
        seen.append(x)
        return x if x < 2 else -x

    cases = [Case(f"x={x}", (x,), x, hint=f"hint {x}") for x in range(4)]
    assert run_check(fn, cases) is False
    assert seen == [0, 1, 2]
    assert (
        capsys.readouterr().out
        == "✗ case 3 of 4 (x=2): values differ by up to 4; got -2, expected 2\n  hint: hint 2\n"
    )
