"""Every exercise of every lesson, run with the reference solution (must pass) and a wrong answer
(must fail), inside the lesson notebook's own kernel.

Usage: python tools/check_solutions.py [notebooks/NAME.ipynb | lessons/NAME.py ...]  (default: all)

An exercise cell is a code cell with a stub ``def my_fn(...): raise NotImplementedError`` and a line
``passed = check_<name>(my_fn)``. Each notebook is executed top to bottom in a fresh kernel; at each
exercise cell the check line is run three times, in context:
  1. with ``my_fn`` = the registered reference (the tested library function) → must print "✓ passed"
     and return True;
  2. with ``my_fn`` = the registered wrong answer (a typical mistake) → must print "✗" and return
     False;
  3. as written (the stub) → must print "not attempted yet"; the kernel then goes on as a learner's.
The answers come from tutor_lib/exercises/_answers.py, filled in by each exercise module. The key
itself (each reference passes, each wrong answer fails, outside any kernel) is checked by
tests/test_answer_key.py; this tool only runs the lessons. Missing answers for a check a lesson
uses, an unparsable check call, a solution pasted into a notebook (no stub) or any failing cell
make the run fail. The notebooks on disk are never modified.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from _kernel import notebook_client, run_extra
from nbclient.exceptions import CellExecutionError

from tutor_lib.exercises._answers import ANSWERS, answers_for, no_answers_message

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
# `passed = check_softmax(my_softmax)` (the assignment is optional, a trailing `;` is tolerated)
CHECK_LINE = re.compile(
    r"^(?:(?P<lhs>\w+)\s*=\s*)?(?P<check>check_\w+)\((?P<fn>\w+)\)\s*;?\s*$", re.MULTILINE
)
CHECK_CALL = re.compile(r"\bcheck_\w+\(")
BEGIN, END = "<<solutions:begin>>", "<<solutions:end"
SETUP = "from tutor_lib.exercises._answers import answers_for as _solutions_answers_for"


class Problems(list):
    def add(self, where: str, what: str) -> None:
        self.append(f"{where}: {what}")


def find_exercises(nb, where: str, problems: Problems) -> dict[int, list[re.Match]]:
    """Exercise cells by index → their check lines; records cells that do not follow the pattern."""
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not CHECK_CALL.search(cell.source):
            continue
        lines = list(CHECK_LINE.finditer(cell.source))
        if len(lines) != len(CHECK_CALL.findall(cell.source)):
            problems.add(
                f"{where} cell {index}",
                "a check_* call that is not `passed = check_<name>(my_fn)` on its own line",
            )
            continue
        for m in lines:
            stub = re.search(
                rf"^def {m['fn']}\(.*?\n(?:[ \t]+.*\n)*?[ \t]+raise NotImplementedError",
                cell.source + "\n",
                re.MULTILINE,
            )
            if not stub:
                problems.add(
                    f"{where} cell {index}",
                    f"{m['fn']} is not a stub raising NotImplementedError (keep solutions out of "
                    "the notebooks)",
                )
        found[index] = lines
    return found


def variant(source: str, lines: list[re.Match], mode: str | None) -> str:
    """The cell with each check line wrapped in markers; ``mode`` picks the answer (None = stub)."""
    out, last = [], 0
    for m in lines:
        out.append(source[last : m.start()])
        use = f"{m['fn']} = _solutions_answers_for({m['check']!r}).{mode}\n" if mode else ""
        out.append(
            f"{use}print({BEGIN!r})\n"
            f"_solutions_result = {m['check']}({m['fn']})\n"
            f"print({END!r}, repr(_solutions_result), '>>')\n"
            + (f"{m['lhs']} = _solutions_result" if m["lhs"] else "")
        )
        last = m.end()
    out.append(source[last:])
    return "".join(out)


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def _results(text: str) -> list[tuple[str, str]]:
    """[(what the check printed, the repr of what it returned)] in order."""
    pattern = re.escape(BEGIN) + r"\n(.*?)" + re.escape(END) + r" (\S+) >>"
    return re.findall(pattern, text, flags=re.DOTALL)


def run_lesson(path: Path, problems: Problems, timeout: int) -> list[str]:
    """Execute one notebook with the answer variants; returns one report line per exercise."""
    where = path.stem
    nb = nbformat.read(path, as_version=4)
    exercises = find_exercises(nb, where, problems)
    client = notebook_client(nb, path, timeout)
    expected = {
        "reference": (True, "✓ passed"),
        "wrong": (False, "✗"),
        None: (False, "not attempted yet"),
    }
    report = []
    with client.setup_kernel():
        run_extra(client, nb, SETUP)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            unregistered = [
                m["check"] for m in exercises.get(index, []) if m["check"] not in ANSWERS
            ]
            for name in unregistered:
                problems.add(f"{where} cell {index}", no_answers_message(name))
            if index not in exercises or unregistered:
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as err:
                    problems.add(f"{where} cell {index}", f"the notebook itself fails:\n{err}")
                    return report
                continue
            seen = {}
            for mode, (want_ok, want_start) in expected.items():
                label = mode or "stub"
                try:
                    trial = run_extra(client, nb, variant(cell.source, exercises[index], mode))
                except CellExecutionError as err:
                    problems.add(f"{where} cell {index} ({label})", f"raised:\n{err}")
                    continue
                results = _results(_stdout(trial))
                for m, (printed, returned) in zip(exercises[index], results, strict=False):
                    first = printed.strip().splitlines()[0] if printed.strip() else ""
                    seen[(m["check"], label)] = first
                    if returned != repr(want_ok) or not first.startswith(want_start):
                        problems.add(
                            f"{where} cell {index} {m['check']} ({label})",
                            f"expected {want_start!r} and {want_ok}, got {first!r} and {returned}",
                        )
                if len(results) != len(exercises[index]):
                    problems.add(f"{where} cell {index} ({label})", "a check printed no result")
            for m in exercises[index]:
                ans = answers_for(m["check"])
                name = f"{ans.reference.__module__}.{ans.reference.__qualname__}"
                ref = seen.get((m["check"], "reference"), "?")
                wrong = seen.get((m["check"], "wrong"), "?")
                report.append(
                    f"cell {index}: {m['check']}({m['fn']})\n"
                    f"      answer   {name} → {ref}\n"
                    f"      mistake  {ans.mistake} → {wrong[:100]}"
                )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks or lessons (default: all)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    paths = [
        p if p.suffix == ".ipynb" else NOTEBOOKS / f"{p.stem}.ipynb" for p in args.paths
    ] or sorted(NOTEBOOKS.glob("*.ipynb"))
    problems = Problems()
    start = time.perf_counter()
    total = 0
    for path in paths:
        if not path.exists():
            problems.add(str(path), "no such notebook")
            continue
        t0 = time.perf_counter()
        lines = run_lesson(path, problems, args.timeout)
        total += len(lines)
        note = "" if lines else "  (no exercises)"
        print(f"{path.stem}: {len(lines)} exercise(s) in {time.perf_counter() - t0:.1f} s{note}")
        for line in lines:
            print(f"  {line}")
    seconds = time.perf_counter() - start
    if problems:
        print(f"\nFAILED ({len(problems)} problem(s)):", file=sys.stderr)
        for p in problems:
            print(f"  ✗ {p}", file=sys.stderr)
        return 1
    print(
        f"\nall {total} exercises in {len(paths)} notebooks: the reference passes, the wrong answer "
        f"fails, the stub says 'not attempted yet' ({seconds:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
