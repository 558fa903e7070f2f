"""Build the course as a static HTML site that reads offline: `make html` → site/index.html.

Usage: python tools/build_site.py [--out DIR] [--notebooks DIR]   (default: site/ from notebooks/)

* Every ``notebooks/*.ipynb`` becomes ``DIR/NAME.html``, ordered by name with ``appendix_*`` last:
  there is no list to maintain. Nothing is executed: the pages show the committed outputs.
* ``DIR/index.html`` lists the lessons with their run time and peak RAM, read from the table that
  ``make report`` writes to bench/lesson_runtimes.md.
* Each page has JupyterLab's look (nbconvert's "lab" template) and a bar with previous / all lessons /
  next. Plots are the notebooks' own base64 PNGs and markdown images are embedded as data URIs.
* Math: MathJax 2.7 is copied from the ``jupyter-server-mathjax`` package to ``DIR/_static/mathjax``;
  no page loads anything from the network (tests/test_site.py defines and checks that rule).
* Widgets need a running kernel, so a widget's output (the text repr that tools/execute_notebooks.py
  keeps, e.g. ``MemoryExplorer(children=…``) becomes a short note; every lesson draws the widget's
  starting view as a static figure right after it, and the note says so when that figure is there.
"""

from __future__ import annotations

import argparse
import ast
import copy
import html
import importlib.util
import re
import shutil
import sys
import time
from pathlib import Path

import ipywidgets
import nbformat
from nbconvert import HTMLExporter

from tutor_lib.costs import MIB

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RUNTIMES = ROOT / "bench" / "lesson_runtimes.md"
WIDGETS = ROOT / "tutor_lib" / "widgets"
TEMPLATES = Path(__file__).resolve().parent / "site_template"
# Located, not imported: importing jupyter_server_mathjax imports the Jupyter server (3 s).
MATHJAX = Path(importlib.util.find_spec("jupyter_server_mathjax").origin).parent / "static"
MATHJAX_URL = "_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# Columns of bench/lesson_runtimes.md shown on the index page, and their headings there.
REPORT_COLUMNS = {"run all cells": "run time", "peak RAM (kernel)": "peak RAM"}
# Parts of MathJax the pages never load (6.6 of its 10 MB): translations of its menu, the
# accessibility explorer and the SVG renderer (the template hides the menu's renderer choice).
MATHJAX_UNUSED = shutil.ignore_patterns("localization", "a11y", "SVG")
FIGURE_LOOKAHEAD = 3  # cells after a widget in which its static figure is looked for


def lesson_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """Every notebook in ``folder``, by name, the ``appendix_*`` ones last."""
    return sorted(folder.glob("*.ipynb"), key=lambda p: (p.stem.startswith("appendix"), p.stem))


def lesson_title(nb: nbformat.NotebookNode, default: str) -> str:
    """The notebook's first level-1 markdown heading ("00 · Why LLMs are expensive: …")."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def read_report(path: Path = RUNTIMES) -> tuple[dict[str, dict[str, str]], str]:
    """(stem → {heading: value} for REPORT_COLUMNS, the report's "Machine: …" line) from `make report`.

    A lesson missing from the table (not measured yet) is missing from the dict.
    """
    if not path.exists():
        return {}, ""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in lines
        if line.startswith("|")
    ]
    machine = next((line for line in lines if line.startswith("Machine:")), "")
    if not rows:
        return {}, machine
    columns = {
        rows[0].index(name): heading for name, heading in REPORT_COLUMNS.items() if name in rows[0]
    }
    report = {}
    for cells in rows[2:]:  # after the header and its |---| separator
        stem = re.search(r"notebooks/([\w.-]+)\.ipynb", cells[0])
        if stem:
            report[stem.group(1)] = {h: cells[i] for i, h in columns.items() if i < len(cells)}
    return report, machine


def widget_class_names() -> frozenset[str]:
    """Names of ipywidgets' widget classes and of the tutor_lib.widgets classes derived from them.

    Read from tutor_lib/widgets/*.py with ``ast``: importing the package would import torch.
    """
    names = {
        name
        for name, obj in vars(ipywidgets).items()
        if isinstance(obj, type) and issubclass(obj, ipywidgets.Widget)
    }
    for path in sorted(WIDGETS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base).rsplit(".", 1)[-1] in names for base in node.bases
            ):
                names.add(node.name)
    return frozenset(names)


def _widget_class(output: dict, classes: frozenset[str]) -> str | None:
    """The widget class an output displays (its text repr is ``Name(...``), else None."""
    data = output.get("data", {})
    if set(data) != {"text/plain"}:
        return None
    match = re.match(r"([A-Za-z_]\w*)\(", data["text/plain"])
    return match.group(1) if match and match.group(1) in classes else None


def _has_figure(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and any("image/png" in o.get("data", {}) for o in cell.outputs)


def widget_note(name: str, figure_follows: bool) -> str:
    """The HTML that replaces a widget's output on a static page."""
    if name.endswith("Progress"):
        return f'<div class="widget-note">A progress bar (<code>{name}</code>) ran here.</div>'
    figure = " The figure that follows draws its starting view." if figure_follows else ""
    return (
        f'<div class="widget-note">Interactive widget <code>{name}</code>: its controls need a '
        f"running kernel, so this static page cannot show them.{figure} To use it, open the "
        "lesson in JupyterLab (<code>make lab</code>).</div>"
    )


def replace_widget_outputs(nb: nbformat.NotebookNode, classes: frozenset[str]) -> int:
    """Turn every widget output of ``nb`` into a short note, in place; returns how many."""
    count = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            name = _widget_class(output, classes)
            if name:
                after = nb.cells[i + 1 : i + 1 + FIGURE_LOOKAHEAD]
                note = widget_note(name, any(_has_figure(c) for c in after))
                output["data"] = {"text/html": note, "text/plain": re.sub("<[^>]+>", "", note)}
                count += 1
    return count


def link_lessons(page: str, stems: set[str]) -> str:
    """Links between notebooks (``href="04_x.ipynb#sec"``) point to their pages instead."""

    def repl(m: re.Match) -> str:
        stem, anchor = m.group(1), m.group(2) or ""
        return f'href="{stem}.html{anchor}"' if stem in stems else m.group(0)

    return re.sub(r'href="(?:\./)?([\w.-]+)\.ipynb(#[^"]*)?"', repl, page)


def index_page(lessons: list[dict], machine: str) -> str:
    """site/index.html: the lessons in order, each with its run time and peak RAM."""
    head = "".join(f'<th class="num">{h}</th>' for h in REPORT_COLUMNS.values())
    rows = []
    for lesson in lessons:
        values = [html.escape(lesson["report"].get(h, "—")) for h in REPORT_COLUMNS.values()]
        cells = "".join(f'<td class="num">{v}</td>' for v in values)
        rows.append(
            f'<tr><td><a href="{lesson["href"]}">{html.escape(lesson["title"])}</a></td>{cells}</tr>'
        )
    missing = [lesson["stem"] for lesson in lessons if not lesson["report"]]
    note = (
        f'<p class="meta">Not measured yet ("—"): {", ".join(missing)}. Run <code>make report</code>.</p>'
        if missing
        else ""
    )
    body = "\n".join(rows)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Making attention cheaper: the lessons</title>
<link rel="stylesheet" href="_static/site.css">
</head>
<body class="site-index">
<h1>Making attention cheaper: the lessons</h1>
<p>Every lesson as a static page with its committed outputs: plots, numbers and exercise checks.
Widgets and exercises need a running kernel: clone the repository and run <code>make lab</code>.</p>
<table>
<thead><tr><th>lesson</th>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
<p class="meta">Run time: all cells in a fresh kernel; peak RAM: the kernel's. From
<code>bench/lesson_runtimes.md</code> (<code>make report</code>). {html.escape(machine)}</p>
{note}
</body>
</html>
"""


def build(out: Path, notebooks: Path = NOTEBOOKS) -> list[dict]:
    """Write the site to ``out`` from every notebook in the folder ``notebooks``: one page each,
    index.html and _static/. Returns the lessons in order (stem, href, title, report, widgets)."""
    paths = lesson_paths(notebooks)
    report, machine = read_report()
    nbs = [nbformat.read(p, as_version=4) for p in paths]
    lessons = [
        {"stem": p.stem, "href": f"{p.stem}.html", "title": lesson_title(nb, p.stem)}
        | {"report": report.get(p.stem, {})}
        for p, nb in zip(paths, nbs, strict=True)
    ]
    out.mkdir(parents=True, exist_ok=True)
    for stale in set(out.glob("*.html")) - {out / lesson["href"] for lesson in lessons}:
        stale.unlink()  # a renamed or removed lesson
    shutil.copytree(MATHJAX, out / "_static" / "mathjax", dirs_exist_ok=True, ignore=MATHJAX_UNUSED)
    shutil.copy2(TEMPLATES / "site.css", out / "_static" / "site.css")
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="lesson",
        embed_images=True,  # markdown images (files, attachments) as data URIs
        mathjax_url=MATHJAX_URL,
    )
    classes = widget_class_names()
    for i, (nb, lesson) in enumerate(zip(nbs, lessons, strict=True)):
        nb = copy.deepcopy(nb)
        nb.metadata["title"] = lesson["title"]  # the page's <title>
        lesson["widgets"] = replace_widget_outputs(nb, classes)
        nav = {
            "runtime": lesson["report"].get("run time", "not measured yet"),
            "prev": _short(lessons[i - 1]) if i > 0 else None,
            "next": _short(lessons[i + 1]) if i + 1 < len(lessons) else None,
        }
        resources = {"metadata": {"name": lesson["stem"], "path": str(notebooks)}, "site": nav}
        page, _ = exporter.from_notebook_node(nb, resources=resources)
        page = link_lessons(page, {lesson["stem"] for lesson in lessons})
        (out / lesson["href"]).write_text(page, encoding="utf-8")
    (out / "index.html").write_text(index_page(lessons, machine), encoding="utf-8")
    return lessons


def _short(lesson: dict) -> dict:
    """A nav-bar link: the title up to its first colon ("04 · Structured sparse attention")."""
    return {"href": lesson["href"], "title": lesson["title"].split(":")[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="default: site/")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="default: notebooks/")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    lessons = build(args.out, args.notebooks)
    seconds = time.perf_counter() - start
    mib = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file()) / MIB
    for lesson in lessons:
        print(f"  {lesson['href']}: {lesson['title']} ({lesson['widgets']} widget notes)")
    print(
        f"wrote {len(lessons)} pages + index.html to {args.out} in {seconds:.1f} s ({mib:.1f} MiB)"
    )
    print(f"open {args.out / 'index.html'} in a browser: it reads offline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
