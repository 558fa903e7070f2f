"""Lesson 04 exercise checks: the library's own function passes, typical wrong answers fail with a
hint, a stub prints "not attempted yet", and a crash becomes one line of feedback."""

from __future__ import annotations

import re

import numpy as np
import pytest
from oracles import assert_rejected, counting

from tutor_lib import masks
from tutor_lib.exercises import check_dilated_mask, check_receptive_field, check_tile_sparsity

CHECKS = {
    "dilated_mask": (check_dilated_mask, masks.dilated_mask),
    "receptive_field": (check_receptive_field, masks.receptive_field),
    "tile_sparsity": (check_tile_sparsity, masks.tile_sparsity),
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
    def stub(*args):
        raise NotImplementedError  # your code here

    assert CHECKS[name][0](stub) is False
    assert capsys.readouterr().out == "not attempted yet\n"


@pytest.mark.parametrize("name", list(CHECKS))
def test_crash_is_one_line_of_feedback(name, capsys):
    def crash(*args):
        return 1 / 0

    line = assert_rejected(capsys, CHECKS[name][0](crash))
    assert "ZeroDivisionError" in line


@pytest.mark.parametrize(
    "wrong,why",
    [
        (
            lambda n, left, right, d: masks.local_mask(n, left * d, right * d),
            "no multiple-of-d test",
        ),
        (lambda n, left, right, d: masks.dilated_mask(n, right, left, d), "left and right swapped"),
        (
            lambda n, left, right, d: masks.dilated_mask(n, left, right, d).astype(int),
            "ints not bools",
        ),
        (
            lambda n, left, right, d: (
                masks.local_mask(n, left, right)
                & (np.subtract.outer(np.arange(n), np.arange(n)) % d == 0)
            ),
            "reach not multiplied by d",
        ),
    ],
)
def test_wrong_dilated_masks_fail(wrong, why, capsys):
    assert_rejected(capsys, check_dilated_mask(wrong))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda m, layers: m,  # one layer whatever `layers` is
        lambda m, layers: np.linalg.matrix_power(m.astype(int), max(layers, 1)) > 0,  # no residual
        lambda m, layers: masks.receptive_field(m, layers + 1),  # off by one layer
        lambda m, layers: masks.receptive_field(m, layers).T,  # queries and keys swapped
    ],
)
def test_wrong_receptive_fields_fail(wrong, capsys):
    assert_rejected(capsys, check_receptive_field(wrong))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda m, b: 1 - masks.density(m),  # token sparsity, not tile sparsity
        lambda m, b: 1 - masks.tile_sparsity(m, b),  # fraction of active tiles
        lambda m, b: masks.tile_sparsity(
            m[: m.shape[0] // b * b, : m.shape[1] // b * b], b
        ),  # drops edges
    ],
)
def test_wrong_tile_sparsities_fail(wrong, capsys):
    assert_rejected(capsys, check_tile_sparsity(wrong))
