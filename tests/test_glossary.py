"""The glossary appendix and its generated index of "Myth vs fact" / "Imprecise → precise" boxes.

* The index stored in notebooks/appendix_glossary.ipynb equals the one the executed lessons give now
  (a box added, changed or removed without re-running the appendix fails, naming the command);
* the scanner (tutor_lib.glossary) finds exactly the boxes written in lessons/*.py, and is tested on
  small synthetic notebooks;
* every box is followed by a code cell that shows something (the measurement that settles it);
* every link of the appendix points to a lesson, and every lesson is linked from it.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from pathlib import Path

import pytest

from tutor_lib.glossary import Box, box_index_markdown, course_boxes, find_boxes

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS, LESSONS = ROOT / "notebooks", ROOT / "lessons"
APPENDIX = NOTEBOOKS / "appendix_glossary.ipynb"
FIX = "run `make notebooks LESSONS=lessons/appendix_glossary.py`"
# Lessons of the curriculum that the appendix links before they are merged (CURRICULUM.md). A link
# to a name outside notebooks/ and outside this list fails.
PLANNED = {
    "05_memory_efficient_attention",
    "06_linear_attention",
    "09_sequence_chunking",
    "10_choosing_a_method",
}
ARTICLE_TERMS = [
    "自注意力", "前馈神经网络", "稀疏注意力", "局部窗口注意力", "扩展窗口注意力", "区域注意力",
    "条带注意力", "散射注意力", "线性注意力", "内存高效注意力", "可逆注意力", "内存压缩", "序列分块",
]  # fmt: skip
OPENING = re.compile(r"^# > \*\*(Myth|Imprecise):\*\*", re.MULTILINE)  # as written in lessons/*.py


# -- the stored index is the current one --------------------------------------------------------
def stored_index(appendix: Path) -> str:
    """The Markdown the appendix's index cell displayed when it was last executed."""
    cells = json.loads(appendix.read_text(encoding="utf-8"))["cells"]
    hits = [
        c
        for c in cells
        if c["cell_type"] == "code" and "box_index_markdown(" in "".join(c["source"])
    ]
    assert len(hits) == 1, f"{appendix.name}: expected one cell calling box_index_markdown("
    shown = [o["data"]["text/markdown"] for o in hits[0]["outputs"] if "data" in o]
    return "".join("".join(s) if isinstance(s, list) else s for s in shown)


def index_drift(appendix: Path, folder: Path) -> str | None:
    """None if the appendix shows the index the lessons in ``folder`` give now, else why not."""
    now, stored = box_index_markdown(course_boxes(folder)), stored_index(appendix)
    if now == stored:
        return None
    diff = difflib.unified_diff(
        stored.splitlines(),
        now.splitlines(),
        "stored in the appendix",
        "the lessons now",
        n=0,
        lineterm="",
    )
    return (
        f"the Myth/Imprecise index in {appendix.name} is out of date (a box was added, changed or "
        f"removed in a lesson, or a settling cell prints something else): {FIX}\n"
        + "\n".join(list(diff)[:40])
    )


def test_the_appendix_index_matches_the_lessons():
    drift = index_drift(APPENDIX, NOTEBOOKS)
    assert drift is None, drift


def _lesson_copies(folder: Path) -> None:
    for nb in [*NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"), APPENDIX]:
        (folder / nb.name).write_text(nb.read_text(encoding="utf-8"), encoding="utf-8")


def test_negative_control_a_box_added_to_a_lesson_is_caught(tmp_path):
    _lesson_copies(tmp_path)
    assert index_drift(tmp_path / APPENDIX.name, tmp_path) is None  # the copies agree
    lesson = tmp_path / "01_self_attention.ipynb"
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    nb["cells"][3:3] = [
        _md('> **Myth:** "Softmax needs no max." **Fact:** exp overflows.'),
        _code("print('inf')", 99, stdout="inf\n"),
    ]
    lesson.write_text(json.dumps(nb), encoding="utf-8")
    drift = index_drift(tmp_path / APPENDIX.name, tmp_path)
    assert drift is not None and FIX in drift and "Softmax needs no max." in drift


def test_negative_control_a_changed_measurement_is_caught(tmp_path):
    _lesson_copies(tmp_path)
    box = course_boxes(tmp_path)[0]
    lesson = tmp_path / f"{box.lesson}.ipynb"
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("execution_count") == box.cell)
    stream = next(o for o in cell["outputs"] if o.get("output_type") == "stream")
    stream["text"] = "a different number\n"
    lesson.write_text(json.dumps(nb), encoding="utf-8")
    drift = index_drift(tmp_path / APPENDIX.name, tmp_path)
    assert drift is not None and "+a different number" in drift


# -- the scanner sees what the lessons say ------------------------------------------------------
def _lesson_sources() -> list[Path]:
    return sorted(LESSONS.glob("[0-9][0-9]_*.py"))


def test_the_scans_see_the_lessons():
    """A guard against scans that silently find nothing (and so could never fail)."""
    assert len(_lesson_sources()) >= 5
    assert len(course_boxes(NOTEBOOKS)) >= 8


@pytest.mark.parametrize("py", _lesson_sources(), ids=lambda p: p.stem)
def test_the_scanner_finds_every_box_written_in_the_lesson_source(py):
    nb = NOTEBOOKS / f"{py.stem}.ipynb"
    if not nb.exists():
        pytest.skip(f"{nb.name} not built yet (the pairing gate reports it)")
    found = [b.kind for b in find_boxes(json.loads(nb.read_text(encoding="utf-8")), py.stem)]
    assert found == OPENING.findall(py.read_text(encoding="utf-8")), (
        f"{py.name} and its notebook disagree on the boxes: run `make notebooks LESSONS=lessons/"
        f"{py.name}`"
    )


@pytest.mark.parametrize("py", _lesson_sources(), ids=lambda p: p.stem)
def test_a_box_written_another_way_is_not_silently_missed(py):
    """``**Myth**:``, ``> *Myth:*`` or a box that does not start its blockquote line would be
    invisible to the index: bold "Myth"/"Imprecise" may only appear as a box's opening."""
    odd = [
        f"{py.name}:{number}: {line.strip()}"
        for number, line in enumerate(py.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\*\*(Myth|Imprecise)\b", line) and not OPENING.match(line)
    ]
    assert not odd, "write boxes as `# > **Myth:** … **Fact:** …` at the start of a line:\n" + (
        "\n".join(odd)
    )


def test_every_box_is_followed_by_a_code_cell_that_shows_something():
    """The house rule: a box is followed by the cell that shows the fact (measure, don't assert)."""
    problems = []
    for box in course_boxes(NOTEBOOKS):
        where = f"{box.lesson} ({box.section}): {box.claim}"
        if box.cell == 0:
            problems.append(f"{where}: no code cell follows the box")
            continue
        cells = json.loads((NOTEBOOKS / f"{box.lesson}.ipynb").read_text(encoding="utf-8"))
        cell = next(c for c in cells["cells"] if c.get("execution_count") == box.cell)
        if not cell.get("outputs"):
            problems.append(f"{where}: the cell after the box (cell [{box.cell}]) shows nothing")
    assert not problems, "\n".join(problems)


# -- the appendix's links and terms -------------------------------------------------------------
def _markdown_cells() -> list[str]:
    nb = json.loads(APPENDIX.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _links() -> list[str]:
    """Notebook stems the appendix links to: inline ``](x.ipynb)`` and ``[label]: x.ipynb``."""
    text = "\n".join(_markdown_cells())
    inline = re.findall(r"\]\(([^)#\s]+)\.ipynb\)", text)
    return inline + re.findall(r"^\[[^\]]+\]: (\S+)\.ipynb$", text, re.MULTILINE)


def test_every_link_points_to_a_lesson_or_a_planned_one():
    links = _links()
    assert len(links) >= 11
    bad = sorted({s for s in links if not (NOTEBOOKS / f"{s}.ipynb").exists() and s not in PLANNED})
    assert not bad, f"lessons/appendix_glossary.py links to lessons that do not exist: {bad}"


def test_every_reference_link_is_defined_in_its_own_cell():
    """Markdown is rendered cell by cell: a ``[text][label]`` needs ``[label]: …`` in that cell."""
    problems = []
    for i, text in enumerate(_markdown_cells()):
        used = set(re.findall(r"\]\[([^\]]+)\]", text))
        defined = set(re.findall(r"^\[([^\]]+)\]: ", text, re.MULTILINE))
        problems += [f"markdown cell {i}: [{label}] is not defined" for label in used - defined]
    assert not problems, "\n".join(problems)


def test_every_lesson_is_linked_from_the_glossary():
    linked = set(_links())
    missing = [p.stem for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if p.stem not in linked]
    assert not missing, (
        f"add the notation and terms of {missing} to lessons/appendix_glossary.py (with links), "
        f"then {FIX.removeprefix('run ')}"
    )


def test_the_source_articles_terms_are_all_there():
    text = "\n".join(_markdown_cells())
    assert not [t for t in ARTICLE_TERMS if f"| {t} |" not in text]


# -- the scanner on small notebooks -------------------------------------------------------------
def _md(text: str) -> dict:
    return {"cell_type": "markdown", "source": text}


def _code(source: str, count: int, *, stdout: str = "", outputs: list | None = None) -> dict:
    outs = [{"output_type": "stream", "name": "stdout", "text": stdout}] if stdout else []
    return {
        "cell_type": "code",
        "source": source,
        "execution_count": count,
        "outputs": outs + (outputs or []),
    }


FIGURE = {
    "output_type": "display_data",
    "data": {"image/png": "iVBOR", "text/plain": "<Figure size 300x200 with 1 Axes>"},
}


def test_find_boxes_reads_claim_answer_section_and_the_next_code_cell():
    nb = {
        "cells": [
            _md("# 99 · A lesson\n\n## 1. First\n\ntext"),
            _code("x = 1", 1),
            _md(
                '## 2. Second\n\n> **Myth:** "Masks are\n> fast." **Fact:** they are not. '
                '*Tiles* decide.\n\n> **Imprecise:** "O(n²)."\n> **Precise:** O(n²·d) in time.'
            ),
            _md("more prose in between"),
            _code("print('same FLOPs')", 2, stdout="same FLOPs\n"),
            _md('## 3. Third\n\n> **Myth:** "Last." **Fact:** nothing follows.'),
        ]
    }
    first, second, last = find_boxes(nb, "99_demo")
    assert (first.kind, first.claim, first.section) == ("Myth", '"Masks are fast."', "2. Second")
    assert first.answer == "they are not. *Tiles* decide." and first.answer_lead == "they are not."
    assert (first.cell, first.evidence, first.checked) == (2, "same FLOPs", True)
    assert (second.kind, second.answer, second.cell) == ("Imprecise", "O(n²·d) in time.", 2)
    assert (last.section, last.cell, last.evidence) == ("3. Third", 0, "")


def test_a_box_inherits_the_section_of_an_earlier_cell_and_a_figure_has_no_text():
    nb = {
        "cells": [
            _md("## 4. Fourth"),
            _md('> **Myth:** "a." **Fact:** b.'),
            _code("plt.show()", 7, outputs=[FIGURE]),
        ]
    }
    (box,) = find_boxes(nb, "99_demo")
    assert (box.section, box.cell, box.evidence, box.checked) == ("4. Fourth", 7, "", True)
    assert "cell [7] (a figure)" in box_index_markdown([box])


def test_a_result_is_quoted_when_nothing_is_printed_and_timings_are_not_quoted():
    result = {"output_type": "execute_result", "data": {"text/plain": "(1024, 64)"}}
    nb = {
        "cells": [
            _md('> **Imprecise:** "a." **Precise:** b.'),
            _code("x.shape", 3, outputs=[result]),
            _md('> **Myth:** "c." **Fact:** d.'),
            _code("# NBVAL_IGNORE_OUTPUT\nprint(t)", 4, stdout="0.123 s\n"),
        ]
    }
    quoted, timed = find_boxes(nb, "99_demo")
    assert quoted.evidence == "(1024, 64)"
    assert (timed.evidence, timed.checked) == ("", False)
    assert "machine-dependent" in box_index_markdown([timed])


def test_a_label_without_its_partner_is_an_error_naming_the_lesson():
    for text in ('> **Myth:** "a." **Precise:** b.', '> **Imprecise:** "a." and nothing else'):
        with pytest.raises(ValueError, match="notebook: .*99_demo"):
            find_boxes({"cells": [_md(text)]}, "99_demo")


def test_course_boxes_reads_lesson_notebooks_in_order_and_skips_the_rest(tmp_path):
    box = _md('> **Myth:** "x." **Fact:** y.')
    for name in ("02_b", "01_a", "appendix_glossary", "notes"):
        nb = {"cells": [box, _code("print(1)", 1, stdout="1\n")]}
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert [b.lesson for b in course_boxes(tmp_path)] == ["01_a", "02_b"]


def test_the_index_has_a_row_per_box_escapes_pipes_and_shortens_long_output():
    long = "\n".join(f"line {i}" for i in range(10))
    boxes = [
        Box("04_x", "7. Tiles", "Myth", '"a | b"', "c. D.", 5, long, True),
        Box("08_y", "Intro", "Imprecise", '"e"', "f", 6, "g", True),
    ]
    md = box_index_markdown(boxes, max_lines=3)
    rows = [line for line in md.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == 2 and '"a \\| b"' in rows[0] and "[04 §7](04_x.ipynb)" in rows[0]
    assert "[08 Intro](08_y.ipynb)" in rows[1]
    assert "line 2\n… 7 more lines\n```" in md and "line 3" not in md
    assert md.startswith("2 boxes in 2 lessons: 1 *Myth vs fact*")


def test_find_boxes_does_not_modify_the_notebook():
    nb = json.loads((NOTEBOOKS / "04_sparse_patterns.ipynb").read_text(encoding="utf-8"))
    before = copy.deepcopy(nb)
    assert find_boxes(nb, "04_sparse_patterns")
    assert nb == before
