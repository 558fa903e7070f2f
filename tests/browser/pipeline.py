"""The lessons of the browser test, one after the other, with the next one's set-up overlapped.

Each lesson has its own page (its own JupyterLab workspace) in the one browser context. While the
widgets of lesson k are being moved, lesson k + 1's page is already loading: JupyterLab boots, the
kernel starts, and as soon as that kernel is connected and idle its Run All Cells is clicked (from
``tick``, called between two interactions of lesson k). So lesson k + 1's test mostly finds its
cells already run. Nothing is shared between lessons but the server and the browser: each notebook
runs in its own fresh kernel, and a failure while setting up lesson k + 1 is reported by lesson
k + 1's test, not by lesson k's.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from lab_server import NOTEBOOKS, LabServer
from lab_ui import LabNotebook, Timeline
from playwright.sync_api import BrowserContext, Page
from slicing import sliced_notebook


@dataclass
class Lesson:
    """One lesson's slice, open on its own page."""

    stem: str
    kept: list[int]  # indices in the full notebook of the cells the slice runs
    widgets: list[int]  # indices in the full notebook of the widget cells
    page: Page
    notebook: LabNotebook
    log: Timeline
    started: bool = False  # Run All Cells clicked

    @property
    def path(self) -> str:
        return f"{self.stem}.ipynb"


class Pipeline:
    """``take(stem)`` → the lesson with its cells run; the following lesson starts meanwhile."""

    def __init__(
        self,
        lab: LabServer,
        context: BrowserContext,
        order: list[tuple[str, tuple]],
        ahead: int = 1,
    ):
        """``order``: (stem, widget markers) in the order the tests run; ``ahead``: how many
        following lessons load meanwhile (0: one lesson at a time)."""
        self.lab, self.context, self.ahead = lab, context, ahead
        self.start = time.monotonic()  # one clock for every lesson's log
        self.order = dict(order)  # stem → widget markers, in the order the tests run
        self.open: dict[str, Lesson] = {}
        self.errors: dict[str, BaseException] = {}  # raised later by that lesson's own test

    def _open(self, stem: str) -> Lesson:
        nb, kept, widgets = sliced_notebook(NOTEBOOKS / f"{stem}.ipynb", self.order[stem])
        assert widgets, f"no cell of {stem}.ipynb contains any of {self.order[stem]}"
        (self.lab.root_dir / f"{stem}.ipynb").write_text(json.dumps(nb))
        log = Timeline(stem[:2], self.start)
        log(
            f"opening cells {kept} of {stem}.ipynb: the first code cell, the widgets, what they read"
        )
        page = self.context.new_page()
        lesson = Lesson(stem, kept, widgets, page, LabNotebook(page, log), log)
        self.open[stem] = lesson
        # a workspace of its own, so only this notebook is open on this page
        lesson.notebook.goto(self.lab.url(f"lab/workspaces/test-{stem}/tree/{lesson.path}"))
        return lesson

    def _kernel_ready(self, lesson: Lesson):
        return lambda: self.lab.kernel_connected(lesson.path)

    def _following(self, stem: str) -> list[str]:
        stems = [s for s in self.order if (NOTEBOOKS / f"{s}.ipynb").exists()]
        return stems[stems.index(stem) + 1 :][: self.ahead]

    def take(self, stem: str) -> Lesson:
        """Lesson ``stem`` with its Run All Cells finished (raises what went wrong while it was
        set up); the following lesson's page starts loading meanwhile."""
        if stem in self.errors:
            raise self.errors.pop(stem)
        lesson = self.open.get(stem) or self._open(stem)
        if not lesson.started:
            lesson.notebook.wait_ready(len(lesson.kept), self._kernel_ready(lesson))
            lesson.notebook.start_run_all()
            lesson.started = True
        for following in self._following(stem):
            if following in self.open or following in self.errors:
                continue
            try:
                self._open(following)
            except Exception as err:  # noqa: BLE001 - reported by that lesson's own test
                self.errors[following] = err
        lesson.notebook.wait_run_all()
        return lesson

    def tick(self) -> None:
        """Between two interactions of the current lesson: start the next lesson's Run All as soon
        as its kernel is ready (a quick look, no waiting)."""
        for stem, lesson in self.open.items():
            if lesson.started or stem in self.errors:
                continue
            try:
                if lesson.notebook.ready(len(lesson.kept), self._kernel_ready(lesson)):
                    lesson.log("opened, kernel idle (while the previous lesson ran)")
                    lesson.notebook.start_run_all()
                    lesson.started = True
            except Exception as err:  # noqa: BLE001 - reported by that lesson's own test
                self.errors[stem] = err

    def close(self, stem: str) -> None:
        lesson = self.open.pop(stem, None)
        if lesson is not None:
            lesson.page.close()
            self.lab.shutdown(lesson.path)

    def close_all(self) -> None:
        for stem in list(self.open):
            self.close(stem)
