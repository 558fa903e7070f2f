"""The lesson-10 checks (tutor_lib/exercises/compare.py): a learner's correct answer, written the way
the lesson suggests, passes; typical mistakes fail with a hint; stubs are "not attempted yet"."""

from __future__ import annotations

from tutor_lib.compare import fit_table
from tutor_lib.exercises import check_longest_n, check_pareto_front, check_pick_method


def learner_front(points):
    keep = []
    for b, p in enumerate(points):
        beaten = any(
            all(x <= y for x, y in zip(o, p, strict=True))
            and any(x < y for x, y in zip(o, p, strict=True))
            for o in points
        )
        if not beaten:
            keep.append(b)
    return keep[::-1]  # any order is fine


def front_dropping_ties(points):
    """Drops a point when another is no worse everywhere (forgets "strictly better somewhere")."""
    return [
        b
        for b, p in enumerate(points)
        if not any(
            a != b and all(x <= y for x, y in zip(o, p, strict=True)) for a, o in enumerate(points)
        )
    ]


def learner_longest(memory, budget, *, n_max):
    if memory(1) > budget:
        return 0
    lo, hi = 1, 2
    while hi <= n_max and memory(hi) <= budget:
        lo, hi = hi, hi * 2
    hi = min(hi, n_max + 1)
    while hi - lo > 1:  # memory(lo) fits, hi does not (or is past n_max)
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if memory(mid) <= budget else (lo, mid)
    return lo


def longest_by_scanning(memory, budget, *, n_max):
    n = 0
    while n < n_max and memory(n + 1) <= budget:
        n += 1
    return n


def longest_off_by_one(memory, budget, *, n_max):
    return learner_longest(memory, budget, n_max=n_max) + 1


def learner_pick(n, d, budget, *, heads, exact, causal):
    rows = [
        r
        for r in fit_table(n, d, budget, heads=heads)
        if r["fits"] and (r["exact"] or not exact) and r["causal"] == causal
    ]
    return min(rows, key=lambda r: r["flops_done"])["method"] if rows else None


def pick_ignoring_exact(n, d, budget, *, heads, exact, causal):
    return learner_pick(n, d, budget, heads=heads, exact=False, causal=causal)


def pick_smallest_memory(n, d, budget, *, heads, exact, causal):
    rows = [
        r
        for r in fit_table(n, d, budget, heads=heads)
        if r["fits"] and (r["exact"] or not exact) and r["causal"] == causal
    ]
    return min(rows, key=lambda r: r["memory"])["method"] if rows else None


def stub(*args, **kwargs):
    raise NotImplementedError


def test_correct_answers_pass(capsys):
    assert check_pareto_front(learner_front)
    assert check_longest_n(learner_longest)
    assert check_pick_method(learner_pick)
    assert capsys.readouterr().out.count("✓ passed") == 3


def test_typical_mistakes_fail_with_a_hint(capsys):
    assert not check_pareto_front(front_dropping_ties)
    assert "hint: a point is dropped only if ANOTHER point" in capsys.readouterr().out
    assert not check_longest_n(longest_off_by_one)
    assert "hint: memory(n) never decreases" in capsys.readouterr().out
    assert not check_longest_n(longest_by_scanning)  # 2^40 lengths: far too slow
    assert "took more than" in capsys.readouterr().out
    assert not check_pick_method(pick_ignoring_exact)
    assert not check_pick_method(pick_smallest_memory)
    out = capsys.readouterr().out
    assert out.count("✗ case") == 2 and "flops_done" in out


def test_stubs_are_not_attempted(capsys):
    for check in (check_pareto_front, check_longest_n, check_pick_method):
        assert not check(stub)
    assert capsys.readouterr().out == "not attempted yet\n" * 3
