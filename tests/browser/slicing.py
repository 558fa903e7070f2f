"""Which cells of a lesson the browser test runs: the widget cells and the cells they need.

Strict nbval (part of ``make test``) already runs every cell of every notebook in a fresh kernel of
the same environment and fails on any exception or changed output. What only a browser can show is
that the widgets react to a mouse and a keyboard in JupyterLab. So the browser runs a *slice* of each
lesson: its first code cell (imports, seeds, print options), every widget cell, and, transitively,
the latest earlier cell that binds each name a kept cell reads. Those names are found with ``ast``
(IPython magics are translated first), over-approximated rather than missed: a cell kept for nothing
costs a little time; a provider missed would show up as a NameError in the browser, which fails the
test. Nothing is executed here.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager


def _tree(source: str) -> ast.Module:
    return ast.parse(TransformerManager().transform_cell(source))


def _bound_at_top(tree: ast.Module) -> set[str]:
    """Names a cell binds in the notebook's namespace (not inside its functions or classes)."""
    bound: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            return  # its body binds its own locals
        if isinstance(
            node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
        ):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return bound


def _names(node: ast.AST) -> tuple[set[str], set[str]]:
    """(names read, names bound) anywhere inside ``node``, nested scopes included; an augmented
    assignment's target counts as read too."""
    loads, stores = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (loads if isinstance(sub.ctx, ast.Load) else stores).add(sub.id)
        elif isinstance(sub, ast.arg):
            stores.add(sub.arg)
        elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
            loads.add(sub.target.id)
    return loads, stores


def _read(tree: ast.Module) -> set[str]:
    """Names the cell reads before binding them itself: statement by statement, an assignment's
    right-hand side is read before its targets are bound; inside any other statement a name both
    read and bound counts as its own (loop variables, function locals, ``with … as``)."""
    free: set[str] = set()
    bound: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
            loads, _ = _names(stmt.value)
            if isinstance(stmt, ast.AugAssign):
                loads |= _names(stmt.target)[0] | _names(stmt.target)[1]
            free |= loads - bound
        else:
            loads, stores = _names(stmt)
            free |= loads - stores - bound
        bound |= _bound_at_top(ast.Module(body=[stmt], type_ignores=[]))
    return free


def needed_cells(sources: list[str | None], targets: list[int]) -> list[int]:
    """Indices (into ``sources``; None = not a code cell) of the cells to run, in notebook order:
    the first code cell, the ``targets`` and, transitively, the latest earlier provider of each name
    a kept cell reads."""
    code = [i for i, s in enumerate(sources) if s is not None]
    if not code:
        raise ValueError("sources: the notebook has no code cell")
    bad = [t for t in targets if t not in code]
    if bad:
        raise ValueError(f"targets: {bad} are not code cells")
    trees = {i: _tree(sources[i]) for i in code}
    binds = {i: _bound_at_top(trees[i]) for i in code}
    keep: set[int] = set()
    todo = [code[0], *targets]
    while todo:
        cell = todo.pop()
        if cell in keep:
            continue
        keep.add(cell)
        for name in _read(trees[cell]):
            providers = [i for i in code if i < cell and name in binds[i]]
            if providers:  # none: a builtin, an IPython name, or a bug the run will show
                todo.append(providers[-1])
    return sorted(keep)


def sliced_notebook(path: Path, markers: tuple[str, ...]) -> tuple[dict, list[int], list[int]]:
    """The notebook at ``path`` cut down to the cells the browser runs, outputs cleared.

    Returns ``(notebook, kept, widgets)``: ``kept`` = original indices of the kept cells (in order),
    ``widgets`` = original indices of the code cells containing one of ``markers``.
    """
    nb = json.loads(path.read_text())
    sources = ["".join(c["source"]) if c["cell_type"] == "code" else None for c in nb["cells"]]
    widgets = [i for i, s in enumerate(sources) if s is not None and any(m in s for m in markers)]
    kept = needed_cells(sources, widgets)
    cells = []
    for i in kept:
        cell = copy.deepcopy(nb["cells"][i])
        cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    return {**nb, "cells": cells}, kept, widgets
