"""The instructors' answer key (tutor_lib/exercises/_answers.py), checked without a kernel.

`make solutions` runs the same answers inside every lesson notebook; this fast version keeps
`make test` honest when a check is added without answers or an answer stops behaving.
"""

from __future__ import annotations

import re

import pytest

import tutor_lib.exercises as exercises
from tutor_lib.exercises._answers import ANSWERS, answers_for, register_answers

CHECKS = sorted(n for n in exercises.__all__ if n.startswith("check_"))


def test_every_exported_check_has_answers():
    missing = [name for name in CHECKS if name not in ANSWERS]
    assert not missing, f"register_answers(...) missing for {missing} (see tutor_lib/exercises/)"


@pytest.mark.parametrize("name", CHECKS)
def test_reference_passes_and_wrong_answer_fails(name, capsys):
    ans = answers_for(name)
    assert ans.check is getattr(exercises, name)
    assert ans.reference.__module__.startswith("tutor_lib.")  # the answer is a library function
    assert ans.check(ans.reference) is True
    assert re.fullmatch(r"✓ passed \d+ cases\n", capsys.readouterr().out)
    assert ans.check(ans.wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case ") and "Traceback" not in out
    assert ans.mistake.strip()


def test_register_answers_rejects_what_is_not_a_check():
    with pytest.raises(ValueError, match="check"):
        register_answers(print, reference=print, wrong=print, mistake="x")
    with pytest.raises(TypeError, match="reference"):
        register_answers(exercises.check_softmax, reference=None, wrong=print, mistake="x")
    with pytest.raises(KeyError, match="check_nothing"):
        answers_for("check_nothing")
