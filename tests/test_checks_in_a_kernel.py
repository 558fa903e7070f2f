"""An endless loop in a learner's answer, run by a check inside a real Jupyter kernel: the case is
interrupted after the time limit, the check prints one ✗ line and the kernel runs the next cell.

(The time limit relies on SIGALRM reaching the kernel's main thread, where ipykernel executes
cells; tests/test_bad_inputs.py checks the same in pytest's own process.)
"""

from __future__ import annotations

import time

import nbclient
import nbformat

LEARNER_CELL = """
import tutor_lib.exercises._core as core
from tutor_lib.exercises import check_softmax

core.CASE_SECONDS = 0.5

def my_softmax(x):
    total = 0
    while True:  # forgot to stop
        try:
            total += 1
        except Exception:
            pass

passed = check_softmax(my_softmax)
"""


def test_an_endless_loop_does_not_freeze_the_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(LEARNER_CELL),
        nbformat.v4.new_code_cell("print('next cell ran, passed =', passed)"),
    ]
    started = time.monotonic()
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    elapsed = time.monotonic() - started
    first = "".join(out.get("text", "") for out in nb.cells[0].outputs)
    second = "".join(out.get("text", "") for out in nb.cells[1].outputs)
    assert first.startswith("✗ took more than 0.5 s on case 1 of "), first
    assert all(out["output_type"] == "stream" for out in nb.cells[0].outputs)  # no traceback
    assert second == "next cell ran, passed = False\n"
    assert elapsed < 45
