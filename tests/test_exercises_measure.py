"""check_loglog_slope against tutor_lib.measure (lesson 03): a least-squares fit in any log base
passes, the slope between the end points fails with a hint, a stub is "not attempted yet"."""

from __future__ import annotations

import numpy as np
import pytest

from tutor_lib.exercises import check_loglog_slope
from tutor_lib.measure import loglog_slope


def slope_from_endpoints(xs, ys):
    return (np.log(ys[-1]) - np.log(ys[0])) / (np.log(xs[-1]) - np.log(xs[0]))


def slope_polyfit(xs, ys):
    return np.polyfit(np.log10(xs), np.log10(ys), 1)[0]


@pytest.mark.parametrize("answer", [loglog_slope, slope_polyfit])  # any log base
def test_least_squares_answers_pass(answer, capsys):
    assert check_loglog_slope(answer) is True
    assert capsys.readouterr().out.startswith("✓ passed")


def test_slope_from_the_end_points_fails_with_a_hint(capsys):
    assert check_loglog_slope(slope_from_endpoints) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case 5 of 5 (measured-looking data") and "hint:" in out


def test_stub_is_not_attempted_yet(capsys):
    def stub(xs, ys):
        raise NotImplementedError  # your code here

    assert check_loglog_slope(stub) is False
    assert capsys.readouterr().out == "not attempted yet\n"
