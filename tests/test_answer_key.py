"""The instructors' answer key (tutor_lib/exercises/_answers.py), checked without a kernel.

`make solutions` runs the same answers inside every lesson notebook that uses them; this fast version
keeps `make test` honest when a check is added without answers, an answer stops behaving, or a check
is put in a module that does not mirror its concept module.
"""

from __future__ import annotations

import re

import pytest

import tutor_lib.exercises as exercises
from tutor_lib.exercises._answers import (
    ANSWERS,
    answers_for,
    no_answers_message,
    register_answers,
)

CHECKS = sorted(n for n in exercises.__all__ if n.startswith("check_"))


def stub(*args, **kwargs):
    raise NotImplementedError  # your code here


def test_every_exported_check_has_answers():
    missing = [name for name in CHECKS if name not in ANSWERS]
    assert not missing, "\n".join(map(no_answers_message, missing))


@pytest.mark.parametrize("name", CHECKS)
def test_reference_passes_wrong_answer_fails_stub_is_not_attempted(name, capsys):
    ans = answers_for(name)
    assert ans.check is getattr(exercises, name)
    assert ans.reference.__module__.startswith("tutor_lib.")  # the answer is a library function
    assert ans.check(ans.reference) is True
    assert re.fullmatch(r"✓ passed \d+ cases\n", capsys.readouterr().out)
    assert ans.check(ans.wrong) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ case ") and "Traceback" not in out
    assert ans.mistake.strip()
    assert ans.check(stub) is False
    assert capsys.readouterr().out == "not attempted yet\n"


@pytest.mark.parametrize("name", CHECKS)
def test_check_lives_in_the_exercise_module_of_its_concept(name):
    """tutor_lib/<concept>.py's functions are exercised in tutor_lib/exercises/<concept>.py (a
    concept package's checks may be split along its modules: exercises/<module>.py)."""
    ans = answers_for(name)
    # the concept is the top-level module or package: "ffn" for chunked_ffn, "costs" for
    # tutor_lib.costs.model.attention_params; "training" is also allowed for
    # tutor_lib.costs.training.activation_bytes
    concept, *module = ans.reference.__module__.split(".")[1:3]
    allowed = [f"tutor_lib.exercises.{part}" for part in (concept, *module)]
    assert ans.check.__module__ in allowed, (
        f"{name} checks {ans.reference.__module__}.{ans.reference.__name__}: move it and its "
        f"register_answers(...) to tutor_lib/exercises/{concept}.py"
    )


def test_register_answers_rejects_what_is_not_a_check():
    with pytest.raises(ValueError, match="check"):
        register_answers(print, reference=print, wrong=print, mistake="x")
    with pytest.raises(TypeError, match="reference"):
        register_answers(exercises.check_softmax, reference=None, wrong=print, mistake="x")
    with pytest.raises(KeyError, match="no answers registered for check_nothing"):
        answers_for("check_nothing")
