"""The course's "Myth vs fact" and "Imprecise → precise" boxes, found in the executed lessons.

Plain Python (json, re), no arrays. The appendix notebook prints :func:`box_index_markdown` of
:func:`course_boxes`, and ``tests/test_glossary.py`` fails when that printed index and the lessons
disagree, so the index cannot drift.

The convention, which lessons follow (STYLE.md) and this module relies on:

* A box is a Markdown blockquote whose first line starts ``> **Myth:**`` (a claim that is wrong)
  or ``> **Imprecise:**`` (correct shorthand that hides something), and that goes on with
  ``**Fact:**`` or ``**Precise:**`` respectively. It may span several ``>`` lines.
* The measurement that settles it is the **first code cell after the box's Markdown cell**. The
  index quotes that cell's printed text as the executed notebook stores it (strict nbval checks it
  on every run), unless the cell is marked ``# NBVAL_IGNORE_OUTPUT`` (machine-dependent numbers:
  named, not quoted) or prints nothing (a figure: named as such).

The notebooks are read, not the ``lessons/*.py`` sources: only they hold the printed measurements,
and they are what a learner who was handed ``notebooks/`` has.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Box", "find_boxes", "course_boxes", "box_index_markdown"]

PAIRS = {"Myth": "Fact", "Imprecise": "Precise"}
LESSON_FILE = re.compile(r"^\d\d_\w+\.ipynb$")  # 04_sparse_patterns.ipynb, not the appendix
_OPENING = re.compile(r"^> \*\*(Myth|Imprecise):\*\*", re.MULTILINE)
_IGNORED = "NBVAL_IGNORE_OUTPUT"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[*_\"(]*[A-Z])")  # ". *Next*" too


@dataclass(frozen=True)
class Box:
    """One box of one lesson, and the code cell that settles it.

    ``kind``: "Myth" or "Imprecise"; ``claim``: the quoted claim; ``answer``: the text after
    "Fact:" / "Precise:"; ``section``: the last "## " heading at or above the box; ``cell``: the
    settling cell's execution count (``[cell]`` in the notebook), 0 if no code cell follows;
    ``evidence``: its printed text ("" if none); ``checked``: False for an NBVAL_IGNORE_OUTPUT cell.
    """

    lesson: str
    section: str
    kind: str
    claim: str
    answer: str
    cell: int
    evidence: str
    checked: bool

    @property
    def answer_lead(self) -> str:
        """The answer's first sentence."""
        return _SENTENCE_END.split(self.answer, maxsplit=1)[0]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _printed(cell: dict) -> str:
    """What a code cell printed: its stdout, else the text of its result (figures excluded)."""
    outputs = cell.get("outputs", [])
    text = "".join(
        _source({"source": o.get("text", "")})
        for o in outputs
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )
    if not text:
        results = [o for o in outputs if o.get("output_type") == "execute_result"]
        plain = [_source({"source": o.get("data", {}).get("text/plain", "")}) for o in results]
        text = "\n".join(p for p in plain if not p.startswith("<Figure"))
    return text.strip("\n")


def _quote_text(markdown: str, start: int) -> str:
    """The blockquote that starts at ``start``, without its ``>`` markers, on one line."""
    lines = []
    for line in markdown[start:].splitlines():
        if not line.startswith(">"):
            break
        lines.append(line[1:].strip())
    return " ".join(part for part in lines if part)


def _split(text: str, kind: str, lesson: str) -> tuple[str, str]:
    label = PAIRS[kind]
    match = re.fullmatch(rf"\*\*{kind}:\*\*\s*(.*?)\s*\*\*{label}:\*\*\s*(.*)", text, re.DOTALL)
    if match is None or not match[1] or not match[2]:
        raise ValueError(
            f"notebook: a '{kind}:' box in {lesson} needs a claim and then '**{label}:**' "
            f"in the same blockquote; got {text[:120]!r}"
        )
    return match[1], match[2]


def find_boxes(notebook: dict, lesson: str) -> list[Box]:
    """Every box of one executed notebook (the parsed .ipynb JSON), in order.

    ``lesson``: the notebook's stem (links and messages use it).
    """
    if not isinstance(notebook, dict):
        raise TypeError(f"notebook must be a parsed .ipynb (a dict), got {type(notebook).__name__}")
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise ValueError(f"notebook: {lesson} has no list of 'cells'")
    section, boxes = "", []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        text = _source(cell)
        for match in _OPENING.finditer(text):
            before = re.findall(r"^## (.+)$", text[: match.start()], re.MULTILINE)
            claim, answer = _split(_quote_text(text, match.start()), match[1], lesson)
            where = before[-1].strip() if before else section
            boxes.append(_box(cells, index, lesson, where, match[1], claim, answer))
        section = ([section] + re.findall(r"^## (.+)$", text, re.MULTILINE))[-1].strip()
    return boxes


def _box(cells, index, lesson, section, kind, claim, answer) -> Box:
    after = next((c for c in cells[index + 1 :] if c.get("cell_type") == "code"), None)
    if after is None:
        return Box(lesson, section, kind, claim, answer, 0, "", True)
    checked = _IGNORED not in _source(after)
    count = int(after.get("execution_count") or 0)
    evidence = _printed(after) if checked else ""
    return Box(lesson, section, kind, claim, answer, count, evidence, checked)


def course_boxes(folder: str | Path) -> list[Box]:
    """The boxes of every lesson notebook ``NN_name.ipynb`` in ``folder``, in lesson order."""
    if not isinstance(folder, (str, Path)):
        raise TypeError(f"folder must be a path, got {type(folder).__name__}")
    path = Path(folder)
    if not path.is_dir():
        raise ValueError(f"folder: {path} is not a directory of notebooks")
    boxes = []
    for nb in sorted(p for p in path.iterdir() if LESSON_FILE.match(p.name)):
        boxes += find_boxes(json.loads(nb.read_text(encoding="utf-8")), nb.stem)
    return boxes


def _where(box: Box) -> str:
    """``04 §7``: the lesson number and the section number (or title)."""
    number = re.match(r"(\d+)\.\s", box.section)
    section = f"§{number[1]}" if number else box.section or "intro"
    return f"{box.lesson[:2]} {section}"


def _settled_by(box: Box) -> str:
    if box.cell == 0:
        return "no code cell follows the box"
    if not box.checked:
        return f"cell [{box.cell}] (machine-dependent numbers: run it)"
    return f"cell [{box.cell}]" + ("" if box.evidence else " (a figure)")


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def box_index_markdown(boxes: list[Box], *, max_lines: int = 6) -> str:
    """A Markdown index of ``boxes``: one table row per box (links relative to notebooks/), then
    each settling cell's printed text, at most ``max_lines`` lines of it."""
    if not isinstance(boxes, list) or not all(isinstance(b, Box) for b in boxes):
        raise TypeError("boxes must be a list of Box (from course_boxes or find_boxes)")
    if isinstance(max_lines, bool) or not isinstance(max_lines, int) or max_lines < 1:
        raise ValueError(f"max_lines must be a positive int, got {max_lines!r}")
    kinds = {kind: sum(b.kind == kind for b in boxes) for kind in PAIRS}
    lessons = len({b.lesson for b in boxes})
    lines = [
        f"{len(boxes)} boxes in {lessons} lessons: {kinds['Myth']} *Myth vs fact* (a wrong claim) "
        f"and {kinds['Imprecise']} *Imprecise → precise* (true shorthand that hides something).",
        "",
        "| # | where | box | the claim | what is true | settled by |",
        "|---|---|---|---|---|---|",
    ]
    for i, b in enumerate(boxes, 1):
        link = f"[{_where(b)}]({b.lesson}.ipynb)"
        lines.append(
            f"| {i} | {link} | {b.kind} | {_cell_text(b.claim)} | {_cell_text(b.answer_lead)} "
            f"| {_settled_by(b)} |"
        )
    for i, b in enumerate(boxes, 1):
        if not b.evidence:
            continue
        shown = b.evidence.splitlines()
        more = len(shown) - max_lines
        where = f"[{b.lesson[:2]}]({b.lesson}.ipynb) · {b.section}"
        lines += ["", f"**{i}.** {b.claim} — {where}, cell [{b.cell}] prints:", ""]
        lines += ["```", *shown[:max_lines], *([f"… {more} more lines"] if more > 0 else []), "```"]
    return "\n".join(lines) + "\n"
