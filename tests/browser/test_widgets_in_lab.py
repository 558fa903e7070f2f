"""Widgets tested where learners use them: JupyterLab in a real (headless) Chromium.

For every registered lesson: open a copy of its notebook, clear the outputs, Kernel → Restart Kernel
and Run All Cells, check that no cell shows an error, then for each widget cell drag its first
slider with the mouse, move every slider with the keyboard, toggle every checkbox and switch every
dropdown to each of its options, checking each time that the widget's picture or text changes.

Needs Chromium (`apt-get install -y chromium`, or $CHROMIUM) and the playwright pip package
(in requirements.txt); it never downloads a browser. Without Chromium the tests are skipped with the
install command, unless REQUIRE_BROWSER=1 (CI, `make test-browser`) turns that into a failure.
One JupyterLab server serves every lesson; it is stopped by its PID even when a check fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
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
}
# ------------------------------------------------------------------------------------------------

NOT_BUILDERS = {"progress"}  # tutor_lib.widgets names that are not explorers
REQUIRE = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0")


def _unavailable(reason: str) -> None:
    message = f"{reason}; install it with: {INSTALL_HINT}"
    if REQUIRE:
        pytest.fail(f"REQUIRE_BROWSER is set but {message}", pytrace=False)
    pytest.skip(message)


def _cells(stem: str) -> list[dict]:
    return json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())["cells"]


def _widget_cells(stem: str, markers: tuple[str, ...]) -> list[int]:
    """Indices (among all cells, as rendered) of the code cells containing one of ``markers``."""
    return [
        i
        for i, cell in enumerate(_cells(stem))
        if cell["cell_type"] == "code" and any(m in "".join(cell["source"]) for m in markers)
    ]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        env = os.environ.get("CHROMIUM")
        where = f"$CHROMIUM={env} is not an executable" if env else "no `chromium` on PATH"
        _unavailable(f"Chromium was not found ({where})")
    return path


@pytest.fixture(scope="module")
def lab(chromium):
    with LabServer() as server:  # stopped by PID in __exit__, also when a test fails
        yield server


@pytest.fixture(scope="module")
def browser(chromium, lab):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing (pip install -r requirements.txt)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROME_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.parametrize("stem", sorted(WIDGET_LESSONS))
def test_widgets_react_in_jupyterlab(stem, lab, browser):
    if not (NOTEBOOKS / f"{stem}.ipynb").exists():
        pytest.skip(f"notebooks/{stem}.ipynb does not exist yet (registered in WIDGET_LESSONS)")
    from lab_ui import LabNotebook, Timeline, WidgetDriver, save_screenshots

    shutil.copy2(NOTEBOOKS / f"{stem}.ipynb", lab.root_dir)  # the current version, as a copy
    log = Timeline()
    indices = _widget_cells(stem, WIDGET_LESSONS[stem])
    assert indices, f"no cell of {stem}.ipynb contains any of {WIDGET_LESSONS[stem]}"
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    current = None
    try:
        notebook = LabNotebook(page, log)
        # a workspace of its own, so only this notebook is open
        notebook.open(lab.url(f"lab/workspaces/test-{stem}/tree/{stem}.ipynb"), len(_cells(stem)))
        notebook.restart_and_run_all()
        notebook.assert_no_errors()
        for index in indices:
            current = notebook.cell(index)
            driver = WidgetDriver(page, current, f"{stem} cell {index}", log)
            for line in driver.exercise():
                log(f"  {line}")
    except BaseException as err:
        folder = Path(tempfile.mkdtemp(prefix=f"browser-test-{stem}-"))
        shots = save_screenshots(page, current, folder, stem)
        (folder / "lab.log").write_text(lab.log_tail(200))
        note = f"screenshots and the server log saved in {folder}: {[str(p) for p in shots]}"
        print(note)
        err.add_note(note)
        raise
    finally:
        context.close()
        lab.shutdown_kernels()


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
