"""Bad builder arguments for budget_explorer (lesson 10): a named error, or the nearest choice with
a note."""

from bad_input_rows import error, noted, result
from tutor_lib.widgets.compare import BudgetExplorer, budget_explorer

ROWS = [
    result(budget_explorer, n=100, check=noted("n = 100", n=256), why="n below the slider"),
    result(budget_explorer, n=10**9, check=noted("using 131072", n=131072), why="n = 1e9"),
    result(
        BudgetExplorer,
        budget_mib=0.001,
        check=noted("budget_mib", budget=1),
        why="budget below 1 MiB",
    ),
    result(budget_explorer, heads=3, check=noted("heads = 3", heads=4), why="heads 3 → 4"),
    error(budget_explorer, d=0, name="d", why="d = 0"),
    error(budget_explorer, budget_mib=float("nan"), name="budget_mib", why="NaN budget"),
    error(budget_explorer, n="4k", raises=TypeError, name="n", why="a string n"),
    error(budget_explorer, exact=1, raises=TypeError, name="exact", why="1, not True"),
    error(budget_explorer, measured={"rows": 1}, raises=TypeError, name="measured", why="no heads"),
    error(budget_explorer, nn=4, raises=TypeError, name="nn", why="a misspelt keyword"),
]
