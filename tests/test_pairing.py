"""The pairing gate: every lesson (lessons/*.py) and its executed notebook (notebooks/*.ipynb) agree.

Non-mutating: it only reads both files. A lesson edited without `make notebooks` fails here.
"""

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS, NOTEBOOKS = ROOT / "lessons", ROOT / "notebooks"
FIX = "run `make notebooks LESSONS={py}` (rebuilds and executes the notebook from the lesson)"


def _cells(path: Path) -> list[tuple[str, str, list[str]]]:
    return [
        (c.cell_type, c.source.strip(), list(c.metadata.get("tags", [])))
        for c in jupytext.read(path).cells
    ]


def _lessons() -> list[Path]:
    return sorted(LESSONS.rglob("*.py"))


def _notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_there_are_lessons():
    assert _lessons(), "no lessons/*.py found"


@pytest.mark.parametrize("py", _lessons(), ids=lambda p: p.name)
def test_lesson_matches_notebook(py: Path):
    rel = py.relative_to(ROOT)
    ipynb = NOTEBOOKS / py.relative_to(LESSONS).with_suffix(".ipynb")
    assert ipynb.exists(), f"{rel} has no notebook {ipynb.relative_to(ROOT)}: " + FIX.format(py=rel)
    assert _cells(py) == _cells(ipynb), (
        f"{rel} and {ipynb.relative_to(ROOT)} differ: " + FIX.format(py=rel)
    )


@pytest.mark.parametrize("ipynb", _notebooks(), ids=lambda p: p.name)
def test_notebook_has_lesson_and_was_executed(ipynb: Path):
    rel = ipynb.relative_to(ROOT)
    py = LESSONS / ipynb.relative_to(NOTEBOOKS).with_suffix(".py")
    assert py.exists(), (
        f"{rel} has no lesson source {py.relative_to(ROOT)}; lessons/*.py are edited"
    )
    code = [c for c in jupytext.read(ipynb).cells if c.cell_type == "code"]
    unrun = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not unrun, (
        f"{rel}: code cells {unrun} were never executed (nbval would check nothing there): "
        + FIX.format(py=py.relative_to(ROOT))
    )
