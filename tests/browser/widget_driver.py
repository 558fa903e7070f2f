"""Moving every control of a widget in JupyterLab like a learner (mouse, keyboard, dropdowns,
checkboxes) and checking each time that the widget's picture or text changes.

Controls are found through the DOM ipywidgets 8 renders (selectors below), so a failure message
names the control and what did not happen. Waits poll the page; nothing sleeps blindly.
"""

from __future__ import annotations

from collections.abc import Callable

from lab_ui import Timeline, poll
from playwright.sync_api import Locator, Page

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


class WidgetDriver:
    """Moves every control of the widget in one cell and checks the picture or text reacts."""

    def __init__(
        self,
        page: Page,
        cell: Locator,
        name: str,
        log: Timeline,
        timeout: float = 30,
        between: Callable[[], None] = lambda: None,
    ):
        """``between``: called after each interaction has settled (the next lesson's set-up)."""
        self.page, self.cell, self.name, self.log, self.timeout = page, cell, name, log, timeout
        self.between = between
        self.done: list[str] = []  # "kind 'label' (how)" for the report
        self._seen: set[tuple[str, int]] = set()

    def _did(self, what: str) -> None:
        self.done.append(what)
        self.log(f"  {what}")
        self.between()

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
