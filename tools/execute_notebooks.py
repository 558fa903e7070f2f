"""Rebuild notebooks/NAME.ipynb from lessons/NAME.py and execute it, deterministically.

Usage: python tools/execute_notebooks.py [lessons/NAME.py ...]   (default: every lesson)

The .py is the source of truth. Each notebook is written with stable cell ids, no timing metadata and
no widget state, so running this twice on unchanged lessons leaves `git status` clean.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from _kernel import notebook_client
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
LESSONS, NOTEBOOKS = ROOT / "lessons", ROOT / "notebooks"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
LANGUAGE_INFO = {"name": "python", "codemirror_mode": {"name": "ipython", "version": 3}}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def build(py: Path, timeout: int) -> tuple[Path, float]:
    nb = jupytext.read(py)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"  # stable ids: no random churn in git
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    out = NOTEBOOKS / py.relative_to(LESSONS).with_suffix(".ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    client = notebook_client(nb, out, timeout, record_timing=False)
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": dict(LANGUAGE_INFO)}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            # Model ids are random and no widget state is stored, so drop the view; the text repr stays.
            output.get("data", {}).pop(WIDGET_MIME, None)
        cell.outputs = _merge_streams(cell.get("outputs", []))
    nbformat.write(nb, out)
    return out, seconds


def _merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) chunks: how prints are split into messages depends on timing."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous["name"] == output["name"]
        ):
            previous["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", type=Path, help="lessons/*.py files (default: all)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    lessons = [p.resolve() for p in args.lessons] or sorted(LESSONS.rglob("*.py"))
    failed = []
    for py in lessons:
        if not py.is_file() or LESSONS not in py.parents:
            print(f"skip {py}: not a file under lessons/", file=sys.stderr)
            failed.append(py)
            continue
        try:
            out, seconds = build(py, args.timeout)
        except CellExecutionError as err:
            print(f"FAILED {py.relative_to(ROOT)}:\n{err}", file=sys.stderr)
            failed.append(py)
            continue
        print(f"executed {out.relative_to(ROOT)} in {seconds:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
