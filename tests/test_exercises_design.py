"""The two lesson 03/04 exercises whose answers are not on the page: check_decode_critical_batch
(accepts any correct derivation, rejects the weights-only and rounding mistakes) and
check_two_hop_pattern (accepts every valid design, names what an invalid one gets wrong)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tutor_lib import masks
from tutor_lib.costs import decode_step_bytes, decode_step_flops
from tutor_lib.exercises import check_decode_critical_batch, check_two_hop_pattern


def _first_line(capsys) -> str:
    out = capsys.readouterr().out
    assert "Traceback" not in out
    return out.splitlines()[0]


# -- decode: the batch at which a step turns compute-bound ---------------------------------------


def critical_batch_by_search(shape, context, rate, bandwidth, bpv=2):
    """A different route to the answer: try batches, doubling then bisecting, with the library's
    per-batch counts (no algebra)."""

    def compute_bound(b):
        flops = decode_step_flops(shape, context, batch=b)
        nbytes = decode_step_bytes(shape, context, batch=b, bytes_per_value=bpv)
        return flops / rate >= nbytes / bandwidth

    hi = 1
    while not compute_bound(hi):
        hi *= 2
        if hi > 2**40:
            return math.inf
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if compute_bound(mid) else (mid, hi)
    return hi


def test_a_search_over_batches_passes(capsys):
    assert check_decode_critical_batch(critical_batch_by_search) is True
    assert _first_line(capsys).startswith("✓ passed 8 cases")


@pytest.mark.parametrize(
    "wrong,expected_text",
    [
        (lambda s, t, r, bw, bpv=2: 1, "got 1"),  # "decoding is always compute-bound"
        (lambda s, t, r, bw, bpv=2: math.inf, "got math.inf"),  # "never"
        (lambda s, t, r, bw, bpv=2: critical_batch_by_search(s, t, r, bw, bpv) - 1, "expected"),
        (lambda s, t, r, bw, bpv=2: None, "returned a NoneType"),
    ],
)
def test_wrong_answers_fail_with_a_reason_and_a_hint(wrong, expected_text, capsys):
    assert check_decode_critical_batch(wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case ") and expected_text in out and "hint:" in out


def test_the_never_case_gets_its_own_reason_and_hint(capsys):
    def finite_always(*args):
        answer = critical_batch_by_search(*args)
        return 7 if answer == math.inf else answer

    assert check_decode_critical_batch(finite_always) is False
    out = capsys.readouterr().out
    assert "got 7, but no batch makes this step compute-bound (expected math.inf)" in out
    assert "one more sequence joins the batch" in out


# -- a pattern with ≥ 80 % tile sparsity that connects every pair in two layers ------------------


@pytest.mark.parametrize(
    "design",
    [
        lambda n, b: masks.global_mask(n, b),  # a whole tile row and column of global tokens
        lambda n, b: masks.global_mask(n, 1),  # a single global token
        lambda n, b: masks.global_mask(n, [n - 1]),  # the last token instead of the first
    ],
)
def test_valid_designs_pass(design, capsys):
    assert check_two_hop_pattern(design) is True
    assert _first_line(capsys) == "✓ passed 6 cases"


def _hub_that_reads_nobody(n):
    mask = np.zeros((n, n), dtype=bool)
    mask[:, 0] = True  # everyone reads token 0, but token 0 reads only itself
    return mask


@pytest.mark.parametrize(
    "wrong,reason",
    [
        (lambda n, b: np.ones((n, n), dtype=bool), "tile sparsity 0.0%"),
        (lambda n, b: masks.block_mask(n, b), "cannot reach"),  # sparse, never crosses a block
        (lambda n, b: _hub_that_reads_nobody(n), "cannot reach"),
        (lambda n, b: masks.global_mask(n, 1) | np.eye(n, dtype=bool), "tile sparsity"),
        (lambda n, b: masks.global_mask(n, 2 * b), "tile sparsity"),  # two tile rows: too many
        (lambda n, b: masks.global_mask(n, 1)[:, : n - 1], "shape"),
        (lambda n, b: masks.global_mask(n, 1).astype(int), "dtype"),
        (lambda n, b: np.zeros((n, n), dtype=bool), "no key"),
    ],
)
def test_invalid_designs_fail_and_say_why(wrong, reason, capsys):
    assert check_two_hop_pattern(wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case ") and reason in out and "hint:" in out
