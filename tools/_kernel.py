"""What the notebook tools share: a kernel for a notebook, and cells run in it that are not saved.

Used by execute_notebooks.py, check_solutions.py and lesson_report.py (run as scripts, so this
folder is on sys.path).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient


def notebook_client(nb, path: Path, timeout: int, **options) -> NotebookClient:
    """An nbclient for ``nb`` whose kernel runs in the notebook's folder, as in JupyterLab."""
    return NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        **options,
    )


def run_extra(client: NotebookClient, nb, source: str, *, store_history: bool = True):
    """Execute a cell that is not part of the lesson and return it with its outputs.

    nbclient stores a cell's outputs at its index, so the cell is appended for the run and removed
    afterwards: the notebook's own cells are never overwritten.
    """
    cell = nbformat.v4.new_code_cell(source)
    nb.cells.append(cell)
    try:
        client.execute_cell(cell, len(nb.cells) - 1, store_history=store_history)
    finally:
        nb.cells.pop()
    return cell
