"""Driving JupyterLab like a learner: open a notebook, Run All Cells, check what the cells show.

Everything is located through the DOM JupyterLab 4 and ipywidgets 8 render (see the selectors
below), so a failure message names the cell and what did not happen. Waits poll the page; nothing
sleeps blindly for a fixed time. The widgets themselves are driven by ``widget_driver.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page

CELLS = ".jp-Notebook .jp-Cell"
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
RAN = re.compile(r"\[\d+\]:?")  # the prompt of a cell that ran: "[3]:"
ERROR_TEXT = re.compile(r"Traceback|\b\w*(Error|Exception)\b")

NOTEBOOK_STATE = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt')?.innerText ?? '').trim());
  return {
    code_cells: cells.length,
    numbered: prompts.filter(p => /^\\[\\d+\\]:?$/.test(p)).length,
    running: prompts.filter(p => p.includes('*')).length,
    outputs: document.querySelectorAll('.jp-Notebook .jp-OutputArea-output').length,
    errors: document.querySelectorAll('.jp-Notebook __STDERR__').length,
    status: document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status'),
  };
}""".replace("__STDERR__", STDERR)

CELL_REPORT = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => ({
  prompt: (c.querySelector('.jp-InputPrompt')?.innerText ?? '').trim(),
  stderr: [...c.querySelectorAll('__STDERR__')].map(e => e.innerText),
}))""".replace("__STDERR__", STDERR)


class Timeline:
    """Prints '[  12.3s] 04 | message' lines (shown by pytest on failure, or live with -s): seconds
    since ``start`` (default: now) and who speaks (lessons overlap in the log)."""

    def __init__(self, who: str = "", start: float | None = None):
        self.who = f"{who} | " if who else ""
        self.start = time.monotonic() if start is None else start

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f}s] {self.who}{message}", flush=True)


def poll(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1):
    """Call ``condition`` until it returns something truthy; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class LabNotebook:
    """One notebook open in its own JupyterLab workspace."""

    def __init__(self, page: Page, log: Timeline, run_timeout: float = 300.0):
        self.page, self.log, self.run_timeout = page, log, run_timeout

    def state(self) -> dict:
        return self.page.evaluate(NOTEBOOK_STATE)

    def goto(self, url: str) -> None:
        """Load the page; JupyterLab then boots and starts the kernel on its own."""
        self.page.goto(url)
        self.log("page loaded")

    def ready(self, n_cells: int, kernel_ready: Callable[[], bool]) -> bool:
        """True once the cells are rendered and the kernel is connected and idle.

        ``kernel_ready``: the server's view (this notebook's kernel has a websocket connection and
        is idle). The page's execution indicator alone is not enough: it reads "idle" before the
        kernel even starts, and a Run All clicked then is dropped.
        """
        if self.page.locator(CELLS).count() != n_cells or not kernel_ready():
            return False
        return self.state()["status"] == "idle"

    def wait_ready(self, n_cells: int, kernel_ready: Callable[[], bool]) -> None:
        what = f"{n_cells} cells rendered and the kernel connected and idle"
        poll(lambda: self.ready(n_cells, kernel_ready), 120, what, 0.1)
        self.log(f"opened, {n_cells} cells, kernel idle")

    def menu(self, top: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
        self.page.get_by_role("menuitem", name=item).first.click(timeout=10_000)

    def start_run_all(self) -> None:
        """Run → Run All Cells, in the kernel the notebook just started (fresh: nothing ran)."""
        state = self.state()
        assert state["numbered"] == 0 and state["outputs"] == 0, f"not a fresh notebook: {state}"
        self.menu("Run", "Run All Cells")
        self.log("run all")

    def wait_run_all(self) -> None:
        """Wait for the run started by :meth:`start_run_all`; click again once if it never
        started (logged), fail if it still does not."""
        if not self._wait_for_run_all(stall=15):
            self.log(f"Run All Cells did not start (state: {self.state()}): again")
            self.menu("Run", "Run All Cells")
            if not self._wait_for_run_all(stall=15):
                raise AssertionError(f"Run All Cells never started (state: {self.state()})")
        self.log("all cells ran")

    def _wait_for_run_all(self, stall: float = 30.0) -> bool:
        """True once every cell ran (or an error stopped the run); False if the kernel never
        left a starting state for ``stall`` seconds."""
        deadline = time.monotonic() + self.run_timeout
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            s = self.state()
            idle = s["status"] == "idle" and s["running"] == 0
            if idle and (s["numbered"] == s["code_cells"] or s["errors"] > 0):
                return True
            progress = (s["status"], s["numbered"], s["running"])
            if progress != last or s["status"] == "busy":  # a long cell is busy, not stuck
                last, since = progress, time.monotonic()
            elif time.monotonic() - since > stall:
                return False
            time.sleep(0.5)
        raise AssertionError(
            f"timed out after {self.run_timeout:.0f} s waiting for Run All Cells "
            f"(state: {self.state()})"
        )

    def assert_no_errors(self, numbers: list[int] | None = None) -> None:
        """No cell shows a traceback or an error on stderr, and every code cell has run.
        ``numbers``: what to call the code cells in messages (their index in the full notebook)."""
        cells = self.page.evaluate(CELL_REPORT)
        numbers = numbers or list(range(len(cells)))
        problems = []
        for number, cell in zip(numbers, cells, strict=True):
            for text in cell["stderr"]:
                if ERROR_TEXT.search(text):
                    problems.append(
                        f"cell {number} ({cell['prompt']}) shows an error:\n{text[-1500:]}"
                    )
                else:
                    self.log(f"note: cell {number} wrote to stderr: {text[:200]!r}")
        prompts = [c["prompt"] for c in cells]
        not_run = [n for n, p in zip(numbers, prompts, strict=True) if not RAN.fullmatch(p)]
        if not_run:
            problems.append(f"cells {not_run} did not run")
        assert not problems, "\n".join(problems)

    def cell(self, index: int) -> Locator:
        return self.page.locator(CELLS).nth(index)


def save_screenshots(page: Page, cell: Locator | None, folder: Path, stem: str) -> list[Path]:
    """Best-effort screenshots of the page and the widget cell; returns the saved paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    shots = [("page", lambda p: page.screenshot(path=p, full_page=True))]
    if cell is not None:
        shots.append(("cell", lambda p: cell.screenshot(path=p, timeout=5000)))
    for label, shoot in shots:
        path = folder / f"{stem}-{label}.png"
        try:
            shoot(str(path))
            paths.append(path)
        except Exception as err:  # noqa: BLE001 - a screenshot must never hide the real failure
            print(f"could not save {path}: {err}")
    return paths
