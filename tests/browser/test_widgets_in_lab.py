"""Widgets tested where learners use them: JupyterLab in a real (headless) Chromium.

For every registered lesson: open a *slice* of its notebook in JupyterLab (its first code cell, its
widget cells and, transitively, the cells that define what they read: see ``slicing.py``), Run All
Cells in the fresh kernel, check that no cell shows an error, then for each widget cell drag its
first slider with the mouse, move every slider with the keyboard, toggle every checkbox and switch
every dropdown to each of its options, checking each time that the widget's picture or text changes.

Why a slice is enough: strict nbval (``make test``) runs every cell of every notebook in a fresh
kernel of the same environment and fails on any exception or changed output; the one thing it
cannot see is a widget reacting to a mouse and a keyboard in a real front end, and that is what
this test spends its time on. (Running whole lessons here took 20–65 s each; a slice takes a few.)

Needs Chromium (`apt-get install -y chromium`, or $CHROMIUM) and the playwright pip package
(in requirements.txt); it never downloads a browser. Without Chromium the tests are skipped with the
install command, unless REQUIRE_BROWSER=1 (CI, `make test-browser`) turns that into a failure.
One JupyterLab server and one Chromium serve every lesson; the server is stopped by its PID even
when a check fails.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from lab_server import CHROME_ARGS, INSTALL_HINT, NOTEBOOKS, ROOT, LabServer, find_chromium

# ------------------------------------------------------------------------------------------------
# The registry: one line per lesson with widgets. Key = notebook stem; value = text that identifies
# each widget cell (the builder call). A registered lesson whose notebook does not exist yet is
# skipped; a lesson that calls a widget builder without being listed here fails
# test_every_widget_lesson_is_registered.
WIDGET_LESSONS: dict[str, tuple[str, ...]] = {
    "00_why_llms_are_expensive": ("memory_explorer(",),
    "01_self_attention": ("attention_explorer(",),
    "02_feed_forward": ("flop_share_explorer(",),
    "03_long_sequences": ("attention_memory_explorer(",),
    "04_sparse_patterns": ("mask_explorer(",),
    "05_memory_efficient_attention": ("online_softmax_stepper(", "hbm_traffic_explorer("),
    "06_linear_attention": ("performer_explorer(",),
    "07_training_memory": ("training_memory_explorer(",),
    "08_compression": ("quantization_explorer(",),
    "09_sequence_chunking": ("chunking_explorer(",),
    "10_choosing_a_method": ("budget_explorer(",),
}
# ------------------------------------------------------------------------------------------------

NOT_BUILDERS = {"progress"}  # tutor_lib.widgets names that are not explorers
REQUIRE = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    message = f"{reason}; install it with: {INSTALL_HINT}"
    if REQUIRE:
        pytest.fail(f"REQUIRE_BROWSER is set but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        env = os.environ.get("CHROMIUM")
        where = f"$CHROMIUM={env} is not an executable" if env else "no `chromium` on PATH"
        _unavailable(f"Chromium was not found ({where})")
    return path


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    # An empty root: each test writes its lesson's slice there. Stopped by PID in __exit__, also
    # when a test fails.
    with LabServer(tmp_path_factory.mktemp("lab-root")) as server:
        yield server


@pytest.fixture(scope="module")
def lab_context(chromium, lab):
    """One Chromium, and one browser context for every lesson: JupyterLab's scripts are fetched
    and compiled once (its HTTP and code caches live in the context), each lesson gets its own
    page and its own Lab workspace."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing (pip install -r requirements.txt)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROME_ARGS)
        try:
            yield browser.new_context(viewport={"width": 1280, "height": 1000})
        finally:
            browser.close()


@pytest.fixture(scope="module")
def pipeline(request, lab, lab_context):
    from pipeline import Pipeline

    # only the lessons this run selected (`-k 04` loads no other lesson), in the order they run
    selected = [
        item.callspec.params["stem"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_widgets_react_in_jupyterlab"
    ]
    ahead = int(os.environ.get("BROWSER_TEST_AHEAD", "1"))  # 0: one lesson at a time
    order = [(stem, WIDGET_LESSONS[stem]) for stem in selected]
    lessons = Pipeline(lab, lab_context, order, ahead=ahead)
    try:
        yield lessons
    finally:
        lessons.close_all()


@pytest.mark.browser
@pytest.mark.parametrize("stem", sorted(WIDGET_LESSONS))
def test_widgets_react_in_jupyterlab(stem, lab, pipeline):
    if not (NOTEBOOKS / f"{stem}.ipynb").exists():
        pytest.skip(f"notebooks/{stem}.ipynb does not exist yet (registered in WIDGET_LESSONS)")
    from lab_ui import save_screenshots
    from widget_driver import WidgetDriver

    lesson, current = None, None
    try:
        lesson = pipeline.take(stem)
        lesson.notebook.assert_no_errors(lesson.kept)
        for index in lesson.widgets:
            current = lesson.notebook.cell(lesson.kept.index(index))
            name = f"{stem} cell {index}"
            WidgetDriver(lesson.page, current, name, lesson.log, between=pipeline.tick).exercise()
    except BaseException as err:
        folder = Path(tempfile.mkdtemp(prefix=f"browser-test-{stem}-"))
        page = lesson.page if lesson else getattr(pipeline.open.get(stem), "page", None)
        shots = save_screenshots(page, current, folder, stem) if page else []
        (folder / "lab.log").write_text(lab.log_tail(200))
        note = f"screenshots and the server log saved in {folder}: {[str(p) for p in shots]}"
        print(note)
        err.add_note(note)
        raise
    finally:
        pipeline.close(stem)


CONTROL_NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "source": src, "metadata": {}, "outputs": [], "execution_count": None}
        for src in (
            "import ipywidgets as widgets",
            "dead = widgets.VBox([widgets.IntSlider(3, 0, 10, description='ignored'), "
            "widgets.HTML('nothing reacts')])\ndead",
            "undefined_name + 1",
        )
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 4,
}


@pytest.mark.browser
def test_negative_control_an_error_and_a_dead_widget_are_caught(lab, lab_context):
    """The checks can fail: a cell that raises, and a slider that changes nothing."""
    from lab_ui import LabNotebook, Timeline
    from widget_driver import WidgetDriver

    path = "negative_control.ipynb"
    (lab.root_dir / path).write_text(json.dumps(CONTROL_NOTEBOOK))
    page, log = lab_context.new_page(), Timeline("negative control")
    try:
        notebook = LabNotebook(page, log)
        notebook.goto(lab.url(f"lab/workspaces/control/tree/{path}"))
        notebook.wait_ready(3, lambda: lab.kernel_connected(path))
        notebook.start_run_all()
        notebook.wait_run_all()
        with pytest.raises(
            AssertionError, match=r"(?s)cell 2 .* shows an error:.*NameError: name .undefined_name"
        ):
            notebook.assert_no_errors()
        driver = WidgetDriver(page, notebook.cell(1), "dead widget", log, timeout=3)
        with pytest.raises(AssertionError, match="neither the picture nor the text changed"):
            driver.exercise()
    finally:
        page.close()
        lab.shutdown(path)


def test_every_widget_lesson_is_registered():
    """A lesson that calls a tutor_lib.widgets builder must be listed in WIDGET_LESSONS (and only
    builder calls that exist in the lesson may be listed)."""
    import tutor_lib.widgets

    builders = sorted(set(tutor_lib.widgets.__all__) - NOT_BUILDERS)
    problems = []
    for py in sorted((ROOT / "lessons").glob("*.py")):
        source = py.read_text()
        called = [b for b in builders if re.search(rf"\b{b}\(", source)]
        markers = WIDGET_LESSONS.get(py.stem, ())
        missing = [f"{b}(" for b in called if f"{b}(" not in markers]
        if missing:
            problems.append(
                f"{py.name} calls {missing}: add to WIDGET_LESSONS in {Path(__file__).name}: "
                f'"{py.stem}": {tuple(sorted({*markers, *missing}))},'
            )
        problems += [
            f"{py.name}: registered {m!r} is not in the lesson" for m in markers if m not in source
        ]
    assert not problems, "\n".join(problems)
