"""Driving JupyterLab like a learner: open a notebook, Run All Cells, play with its widgets.

Everything is located through the DOM JupyterLab 4 and ipywidgets 8 render (see the selectors
below), so a failure message names the control and what did not happen. Waits poll the page;
nothing sleeps blindly for a fixed time.
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

# What a widget shows (pictures, HTML lines) and what its sliders read, inside one cell's output.
SNAPSHOT = """(cell) => {
  const out = cell.querySelector('.jp-OutputArea');
  const imgs = [...out.querySelectorAll('img.widget-image')];
  return {
    images: imgs.map(i => i.getAttribute('src') || ''),
    drawn: imgs.every(i => i.complete && i.naturalWidth > 0),
    texts: [...out.querySelectorAll('.widget-html-content')].map(e => e.innerText),
    readouts: [...out.querySelectorAll('.widget-slider .widget-readout')].map(e => e.innerText),
    status: document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status'),
  };
}"""

# Kinds of control, the selector of their box, and how to read their label.
CONTROL_KINDS = {
    "slider": (".widget-slider", ".widget-label"),
    "checkbox": (".widget-checkbox", ".widget-label-basic span"),
    "dropdown": (".widget-dropdown", ".widget-label"),
    "toggle buttons": (".widget-toggle-buttons", ".widget-label"),
    "button": ("button.widget-button", ""),
}
# Controls this driver cannot operate yet: their presence fails the test (no widget goes untested).
UNSUPPORTED = ".widget-text, .widget-textarea, .widget-radio, .widget-play, .widget-select-multiple"

CONTROLS = """(cell, [kinds, unsupported]) => {
  const out = cell.querySelector('.jp-OutputArea');
  const shown = e => e.offsetParent !== null && e.getClientRects().length > 0;
  const found = [];
  for (const [kind, [sel, labelSel]] of Object.entries(kinds)) {
    out.querySelectorAll(sel).forEach((e, index) => {
      if (!shown(e)) return;
      const label = labelSel ? (e.querySelector(labelSel)?.innerText ?? '') : e.innerText;
      found.push({kind, index, label: label.trim()});
    });
  }
  const odd = [...out.querySelectorAll(unsupported)].filter(shown).map(e => e.className);
  return {found, odd};
}"""


class Timeline:
    """Prints '[  12.3s] message' lines (shown by pytest on failure, or live with -s)."""

    def __init__(self):
        self.start = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f}s] {message}", flush=True)


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

    def open(self, url: str, n_cells: int, kernel_ready: Callable[[], bool]) -> None:
        """Open the notebook and wait until its kernel is connected and idle.

        ``kernel_ready``: the server's view (a kernel with a websocket connection, idle). The page's
        execution indicator alone is not enough: it reads "idle" before the kernel even starts, and
        a Run All clicked then is dropped.
        """
        self.page.goto(url)
        self.log("page loaded")
        poll(
            lambda: self.page.locator(CELLS).count() == n_cells,
            90,
            f"the notebook's {n_cells} cells to be rendered",
            interval=0.25,
        )
        self.log("cells rendered")
        poll(kernel_ready, 90, "the notebook's kernel to start and connect", 0.25)
        poll(lambda: self.state()["status"] == "idle", 90, "the kernel to be idle", 0.1)
        self.log(f"opened, {n_cells} cells, kernel idle")

    def menu(self, top: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
        self.page.get_by_role("menuitem", name=item).first.click(timeout=10_000)

    def run_all(self, attempts: int = 2) -> None:
        """Run → Run All Cells, in the kernel the notebook just started (fresh: nothing ran)."""
        state = self.state()
        assert state["numbered"] == 0 and state["outputs"] == 0, f"not a fresh notebook: {state}"
        for attempt in range(1, attempts + 1):
            self.menu("Run", "Run All Cells")
            self.log(f"run all (attempt {attempt})")
            if self._wait_for_run_all(stall=15):
                self.log("all cells ran")
                return
            self.log(f"Run All Cells did not start (state: {self.state()}): again")
        raise AssertionError(f"Run All Cells never started in {attempts} attempts")

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


class WidgetDriver:
    """Moves every control of the widget in one cell and checks the picture or text reacts."""

    def __init__(self, page: Page, cell: Locator, name: str, log: Timeline, timeout: float = 30):
        self.page, self.cell, self.name, self.log, self.timeout = page, cell, name, log, timeout
        self.done: list[str] = []  # "kind 'label' (how)" for the report
        self._seen: set[tuple[str, int]] = set()

    def _did(self, what: str) -> None:
        self.done.append(what)
        self.log(f"  {what}")

    # -- observing ------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        return self.cell.evaluate(SNAPSHOT)

    @staticmethod
    def _shown(snap: dict) -> tuple:
        return tuple(snap["images"]), tuple(snap["texts"])

    def settle(self, samples: int = 3, interval: float = 0.05) -> dict:
        """Wait until the widget is quiet: ``samples`` snapshots in a row, ``interval`` s apart,
        show the same pictures and text with the kernel idle at each, and every picture drawn.
        (The kernel publishes "idle" only after the updates a message caused, so an update still
        in flight shows as "busy" in one of the samples.)"""
        history: list[tuple] = []

        def steady():
            snap = self.snapshot()
            history.append((*self._shown(snap), snap["status"] == "idle" and snap["drawn"]))
            last = history[-samples:]
            quiet = len(last) == samples and all(h == last[0] for h in last) and last[0][-1]
            return snap if quiet else None

        return poll(
            steady, self.timeout, f"{self.name} to settle (kernel idle, image drawn)", interval
        )

    def _expect_change(self, before: dict, what: str, readout: int | None = None) -> None:
        def changed():
            snap = self.snapshot()
            moved = readout is None or snap["readouts"][readout] != before["readouts"][readout]
            return moved and self._shown(snap) != self._shown(before)

        try:
            poll(changed, self.timeout, what, 0.05)
        except AssertionError:
            after = self.snapshot()
            if readout is not None and after["readouts"][readout] == before["readouts"][readout]:
                raise AssertionError(f"{self.name}: {what}: the control did not move") from None
            raise AssertionError(
                f"{self.name}: {what}: the control moved but neither the picture nor the text "
                f"changed within {self.timeout:.0f} s (text now: {after['texts']})"
            ) from None
        self.settle()

    # -- the controls ---------------------------------------------------------------------------
    def controls(self) -> list[dict]:
        """The controls shown right now: [{kind, index (among all of that kind), label}]."""
        result = self.cell.evaluate(CONTROLS, [CONTROL_KINDS, UNSUPPORTED])
        assert not result["odd"], (
            f"{self.name}: controls this test cannot operate yet: {result['odd']} "
            "(teach tests/browser/lab_ui.py how to move them)"
        )
        return result["found"]

    def _box(self, control: dict) -> Locator:
        selector = CONTROL_KINDS[control["kind"]][0]
        return self.cell.locator(f".jp-OutputArea {selector}").nth(control["index"])

    def drag_slider(self, control: dict) -> None:
        box = self._box(control)
        handle = box.locator(".noUi-handle").bounding_box()
        track = box.locator(".noUi-base").bounding_box()
        assert handle and track, f"{self.name}: slider '{control['label']}' has no size"
        x0, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
        middle = track["x"] + track["width"] / 2
        x1 = track["x"] + track["width"] * (0.2 if x0 > middle else 0.8)
        before = self.snapshot()
        self.page.mouse.move(x0, y)
        self.page.mouse.down()
        self.page.mouse.move(x1, y, steps=8)
        self.page.mouse.up()
        what = f"mouse drag of slider '{control['label']}'"
        self._expect_change(before, what, readout=control["index"])
        after = self.snapshot()["readouts"][control["index"]]
        self._did(
            f"slider '{control['label']}' dragged {before['readouts'][control['index']]} → {after}"
        )

    def key_slider(self, control: dict) -> None:
        handle = self._box(control).locator(".noUi-handle")
        now = float(handle.get_attribute("aria-valuenow"))
        top = float(handle.get_attribute("aria-valuemax"))
        key = "ArrowLeft" if now >= top else "ArrowRight"
        before = self.snapshot()
        handle.focus()
        self.page.keyboard.press(key)
        what = f"{key} on slider '{control['label']}'"
        self._expect_change(before, what, readout=control["index"])
        after = self.snapshot()["readouts"][control["index"]]
        self._did(
            f"slider '{control['label']}' {key} {before['readouts'][control['index']]} → {after}"
        )

    def toggle(self, control: dict) -> None:
        before = self.snapshot()
        self._box(control).locator("input[type=checkbox]").click()
        self._expect_change(before, f"toggling checkbox '{control['label']}'")
        self._did(f"checkbox '{control['label']}' toggled")

    def click_button(self, control: dict) -> None:
        before = self.snapshot()
        self._box(control).click()
        self._expect_change(before, f"clicking button '{control['label']}'")
        self._did(f"button '{control['label']}' clicked")

    def pick_toggle_button(self, control: dict) -> None:
        buttons = self._box(control).locator("button")
        for i in range(buttons.count()):
            if "mod-active" not in (buttons.nth(i).get_attribute("class") or ""):
                before = self.snapshot()
                buttons.nth(i).click()
                label = buttons.nth(i).inner_text()
                self._expect_change(before, f"choosing '{label}' in '{control['label']}'")
                self._did(f"toggle buttons '{control['label']}' → {label}")
                return

    ACTIONS = {
        "slider": "key_slider",
        "checkbox": "toggle",
        "button": "click_button",
        "toggle buttons": "pick_toggle_button",
    }

    def exercise_visible(self) -> None:
        """Operate every shown control not operated yet (sliders first), until none is left."""
        while True:
            todo = [
                c
                for c in self.controls()
                if c["kind"] != "dropdown" and (c["kind"], c["index"]) not in self._seen
            ]
            if not todo:
                return
            todo.sort(key=lambda c: c["kind"] != "slider")  # sliders before anything they may hide
            control = todo[0]
            self._seen.add((control["kind"], control["index"]))
            getattr(self, self.ACTIONS[control["kind"]])(control)

    def switch_dropdowns(self) -> None:
        """Every option of every dropdown; after each switch, operate the controls it reveals."""
        for control in [c for c in self.controls() if c["kind"] == "dropdown"]:
            select = self._box(control).locator("select")
            labels = select.evaluate("s => [...s.options].map(o => o.textContent)")
            start = select.evaluate("s => s.selectedIndex")
            for i in [*range(start + 1, len(labels)), *range(start)]:
                before = self.snapshot()
                select.select_option(index=i)
                self._expect_change(before, f"dropdown '{control['label']}' → '{labels[i]}'")
                self._did(f"dropdown '{control['label']}' → '{labels[i]}'")
                self.exercise_visible()

    def exercise(self) -> list[str]:
        """Drag the first slider with the mouse, then operate every control; returns what was done."""
        self.cell.scroll_into_view_if_needed()
        first = self.settle()
        assert first["images"] or first["texts"], f"{self.name}: no picture and no text shown"
        sliders = [c for c in self.controls() if c["kind"] == "slider"]
        assert sliders, f"{self.name}: no slider found"
        self.drag_slider(sliders[0])
        self.exercise_visible()
        self.switch_dropdowns()
        self.log(f"{self.name}: {len(self.done)} interactions, each changed the widget")
        return self.done


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
