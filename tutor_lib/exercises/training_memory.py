"""Checks against ``tutor_lib.training_memory`` (lesson 07): inverting a reversible block."""

from __future__ import annotations

import torch

from tutor_lib.exercises._answers import register_answers
from tutor_lib.exercises._core import Case, compare_arrays, run_check
from tutor_lib.training_memory import reversible_forward, reversible_inverse

__all__ = ["check_reversible_inverse"]


def _compare_pair(got, expected) -> str | None:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"returned {type(got).__name__}, expected a pair (x1, x2)"
    for name, g, e in zip(("x1", "x2"), got, expected, strict=True):
        problem = compare_arrays(g, e, rtol=1e-9, atol=1e-12)
        if problem is not None:
            return f"{name}: {problem}"
    return None


def check_reversible_inverse(fn) -> bool:
    """Check ``fn(f, g, y1, y2)`` returns the block's inputs ``(x1, x2)``, given its outputs
    y1 = x1 + f(x2), y2 = x2 + g(y1)."""
    gen = torch.Generator().manual_seed(707)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    w_f, w_g = randn(4, 4), randn(4, 4)
    pairs = [
        ("f = 0, g = 0", lambda t: 0 * t, lambda t: 0 * t),
        ("f = sin, g = 0", torch.sin, lambda t: 0 * t),
        ("f = 0, g = 2·tanh", lambda t: 0 * t, lambda t: 2 * torch.tanh(t)),
        (
            "f = tanh(x W_f), g = sin(x W_g)",
            lambda t: torch.tanh(t @ w_f),
            lambda t: torch.sin(t @ w_g),
        ),
    ]
    hint = (
        "undo the last step first: y2 was computed from y1, which you have, so recover x2 from "
        "y2 and y1; then x1 from y1 and the x2 you just found"
    )
    cases = []
    for desc, f, g in pairs:
        x1, x2 = randn(3, 4), randn(3, 4)  # (n, d)
        y1, y2 = reversible_forward(f, g, x1, x2)
        cases.append(Case(desc + ", (3, 4) inputs", (f, g, y1, y2), (x1, x2), hint))
    return run_check(fn, cases, compare=_compare_pair)


def _inverse_with_outputs(f, g, y1, y2):
    return y1 - f(y2), y2 - g(y1)


register_answers(
    check_reversible_inverse,
    reference=reversible_inverse,
    wrong=_inverse_with_outputs,
    mistake="x1 = y1 − f(y2): f must be applied to the recovered x2, not to y2",
)
