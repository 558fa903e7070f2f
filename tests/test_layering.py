"""The house rules of STYLE.md, checked on the source so that new lessons and modules keep them.

* concept modules never import ``plots``, ``widgets``, ``exercises``, ipywidgets or matplotlib;
* a lesson imports from ``tutor_lib.widgets`` only widget builders (``…_explorer``, ``…_stepper``,
  ``progress``), from the package itself: anything it computes comes from a concept module;
* no module imports another module's underscore name (shared helpers are public in one place);
* byte units are defined once (``tutor_lib.costs``): no ``2**20`` / ``2**30`` elsewhere.

Each test parses the files with ``ast`` (nothing is imported or run), so a failure names the file
and line to fix.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "tutor_lib"
UI_PACKAGES = ("plots", "widgets", "exercises")
UI_IMPORTS = (
    "tutor_lib.plots",
    "tutor_lib.widgets",
    "tutor_lib.exercises",
    "ipywidgets",
    "matplotlib",
)
WIDGET_BUILDER = re.compile(r"^(\w+_explorer|\w+_stepper|progress)$")


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _concept_files() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py") if p.relative_to(LIB).parts[0] not in UI_PACKAGES)


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) for every import statement of ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_the_scans_see_the_files():
    """A guard against a scan that silently finds nothing (and so can never fail)."""
    assert len(_concept_files()) >= 10
    assert len(_python_files("lessons")) >= 5
    assert any(
        module == "tutor_lib.widgets"
        for _, module, _ in _imports(ROOT / "lessons" / "01_self_attention.py")
    )


@pytest.mark.parametrize("path", _concept_files(), ids=lambda p: str(p.relative_to(LIB)))
def test_concept_modules_never_import_the_ui_layer(path):
    bad = [
        f"{_where(path, line)} imports {module}"
        for line, module, _ in _imports(path)
        if module.startswith(UI_IMPORTS)
    ]
    assert not bad, "concept modules must not import plots/widgets/exercises: " + "; ".join(bad)


def test_lessons_import_only_widget_builders_from_widgets():
    bad = []
    for path in _python_files("lessons"):
        for line, module, names in _imports(path):
            if module.startswith("tutor_lib.widgets."):
                bad.append(f"{_where(path, line)} imports from the module {module}")
            elif module == "tutor_lib.widgets":
                bad += [
                    f"{_where(path, line)} imports {n}"
                    for n in names
                    if not WIDGET_BUILDER.match(n)
                ]
            elif module.startswith("tests") or module in ("oracles", "conftest"):
                bad.append(f"{_where(path, line)} imports test code ({module})")
    assert not bad, (
        "a lesson imports only builders (…_explorer, …_stepper, progress) from tutor_lib.widgets; "
        "compute with a concept module instead: " + "; ".join(bad)
    )


def test_no_module_imports_another_modules_underscore_name():
    bad = []
    for path in _python_files("tutor_lib", "tests", "tools", "bench", "lessons"):
        for line, module, names in _imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            bad += [f"{_where(path, line)}: from {module} import {n}" for n in private]
    assert not bad, (
        "make the helper public in one shared module (tutor_lib/_validate.py, tutor_lib/torch_ops.py, "
        "exercises/_core.py, widgets/_base.py) instead of importing a private name: "
        + "; ".join(bad)
    )


def test_byte_units_are_defined_once():
    pattern = re.compile(r"\b2\s*\*\*\s*(10|20|30)\b|^\s*(GiB|MiB|KiB)\b(\s*,\s*\w+)*\s*=(?!=)")
    units = LIB / "costs" / "units.py"
    bad = []
    for path in _python_files("tutor_lib", "lessons", "bench", "tools"):
        if path == units:
            continue
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            code = text.split("#", 1)[0]
            if pattern.search(code):
                bad.append(f"{_where(path, number)}: {text.strip()}")
    assert not bad, "use KIB / MIB / GIB from tutor_lib.costs: " + "; ".join(bad)
