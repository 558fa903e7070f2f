"""The instructors' answer key: for every ``check_<name>``, the reference solution and a wrong answer.

Each exercise module registers its checks right below them::

    register_answers(check_softmax, reference=softmax, wrong=_softmax_without_max,
                     mistake="no max subtraction: exp(1000) overflows")

* ``reference`` is the tested library function (the solution learners are pointed to); it must pass.
* ``wrong`` is a typical mistake (ideally the one a hint of the check talks about); it must fail.

tests/test_answer_key.py checks this key without a kernel (every exported check has answers, each
reference passes, each wrong answer fails, a stub is "not attempted yet"); ``make solutions``
(tools/check_solutions.py) runs every exercise of every lesson notebook with both, in the notebook's
own kernel, and fails when a check used in a lesson has no entry here. Nothing here is imported by
the lessons: the notebooks keep their stubs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answers:
    check: Callable[[Callable], bool]
    reference: Callable  # the tested library function: the check must accept it
    wrong: Callable  # a deliberately wrong answer: the check must reject it
    mistake: str  # what the wrong answer gets wrong, in a few words


ANSWERS: dict[str, Answers] = {}


def register_answers(
    check: Callable, *, reference: Callable, wrong: Callable, mistake: str
) -> None:
    """Record the answers for ``check`` under its name (``check_<name>``)."""
    if not callable(check) or not check.__name__.startswith("check_"):
        raise ValueError(f"check must be a check_<name> function, got {check!r}")
    if not (callable(reference) and callable(wrong)):
        raise TypeError("reference and wrong must be callables")
    ANSWERS[check.__name__] = Answers(check, reference, wrong, mistake)


def no_answers_message(check_name: str) -> str:
    """What to do when ``check_name`` has no registered answers (the one wording every tool uses)."""
    return (
        f"no answers registered for {check_name}: add register_answers({check_name}, "
        "reference=..., wrong=..., mistake=...) below it in tutor_lib/exercises/<concept>.py"
    )


def answers_for(check_name: str) -> Answers:
    """The registered answers of ``check_name``; KeyError naming the module to edit otherwise."""
    import tutor_lib.exercises  # noqa: F401 - importing the package makes every module register

    try:
        return ANSWERS[check_name]
    except KeyError:
        raise KeyError(no_answers_message(check_name)) from None
