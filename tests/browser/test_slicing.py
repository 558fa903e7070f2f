"""The slice of a lesson that the browser test runs (slicing.py): no browser needed."""

from __future__ import annotations

import json

import pytest
from slicing import needed_cells, sliced_notebook
from test_widgets_in_lab import NOTEBOOKS, WIDGET_LESSONS

SETUP = "%matplotlib inline\nimport math\nimport numpy as np"


def _run(sources: list[str | None], keep: list[int]) -> dict:
    """Execute the kept cells in order in one namespace (magics dropped), like a kernel would."""
    namespace: dict = {}
    for i in keep:
        code = "\n".join(line for line in sources[i].splitlines() if not line.startswith("%"))
        exec(code, namespace)  # noqa: S102 - the test's own synthetic cells
    return namespace


def test_keeps_the_first_code_cell_and_the_target_only_when_nothing_else_is_read():
    sources = [None, SETUP, "a = 1", None, "w = np.arange(3)"]
    assert needed_cells(sources, [4]) == [1, 4]


def test_follows_what_the_target_reads_transitively_and_picks_the_latest_provider():
    sources = [
        SETUP,
        "base = 2",  # 1: overwritten by cell 3 before the target reads it
        "unrelated = 5",
        "base = 3",  # 3
        "scale = base * 10",  # 4
        "w = scale + math.pi",  # 5: the target
    ]
    keep = needed_cells(sources, [5])
    assert keep == [0, 3, 4, 5]
    assert _run(sources, keep)["w"] == 30 + 3.141592653589793


def test_a_name_read_before_it_is_rebound_needs_its_earlier_value():
    sources = [
        SETUP,
        "x = 1",
        "x = x + 1\ntotal = 0",
        "for i in range(x):\n    total += i",
        "w = total",
    ]
    keep = needed_cells(sources, [4])
    assert keep == [0, 1, 2, 3, 4]
    assert _run(sources, keep)["w"] == 1


def test_loop_variables_and_function_locals_are_not_looked_up_elsewhere():
    sources = [
        SETUP,
        "i = 99\ntmp = 1\nk = 7",
        "def f(a):\n    tmp = a * k\n    return tmp",
        "w = [f(i) for i in range(2)]",
    ]
    keep = needed_cells(sources, [3])
    assert keep == [0, 1, 2, 3]  # cell 1 for k (read by f), not for i or tmp
    assert _run(sources, keep)["w"] == [0, 7]


def test_a_name_bound_only_inside_a_function_is_not_provided_by_that_cell():
    sources = [SETUP, "def g():\n    hidden = 1\n    return hidden", "w = g()"]
    assert needed_cells(sources, [2]) == [0, 1, 2]
    sources = [SETUP, "def g():\n    hidden = 1", "w = hidden"]
    assert needed_cells(sources, [2]) == [0, 2]  # and running it would fail loudly (NameError)


def test_negative_control_the_slice_without_a_provider_fails_to_run():
    sources = [SETUP, "base = 3", "w = base * 2"]
    keep = needed_cells(sources, [2])
    assert _run(sources, keep)["w"] == 6
    with pytest.raises(NameError, match="base"):
        _run(sources, [i for i in keep if i != 1])


def test_bad_targets_and_empty_notebooks_are_named():
    with pytest.raises(ValueError, match="targets"):
        needed_cells([SETUP, None], [1])
    with pytest.raises(ValueError, match="sources"):
        needed_cells([None], [])


@pytest.mark.parametrize("stem", sorted(WIDGET_LESSONS))
def test_every_registered_lesson_slices_to_its_setup_and_widget_cells(stem, tmp_path):
    path = NOTEBOOKS / f"{stem}.ipynb"
    if not path.exists():
        pytest.skip(f"{path.name} does not exist yet")
    nb, kept, widgets = sliced_notebook(path, WIDGET_LESSONS[stem])
    full = json.loads(path.read_text())["cells"]
    first_code = next(i for i, c in enumerate(full) if c["cell_type"] == "code")
    assert widgets and set(widgets) <= set(kept) and kept[0] == first_code
    assert len(nb["cells"]) == len(kept) < len(full)
    for cell, index in zip(nb["cells"], kept, strict=True):
        assert cell["source"] == full[index]["source"]
        assert cell["outputs"] == [] and cell["execution_count"] is None
