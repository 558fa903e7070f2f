"""The `make html` site in headless Chromium with the network cut: every page loads, shows its
plots and typesets its math from the local MathJax copy, and asks for nothing but its own files.

Complements tests/test_site.py (which reads the HTML); this one watches what a browser really
requests. Every request whose URL is not ``file:`` or ``data:`` is aborted and reported. MathJax 2's
HTML-CSS output probes web-font support with an ``about:blank`` font, which is not the network and
is allowed. Needs Chromium like the rest of tests/browser (skipped without it unless REQUIRE_BROWSER).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
from lab_server import CHROME_ARGS, INSTALL_HINT, ROOT, find_chromium

_spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")
build_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_site)

REQUIRE = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0")
LOCAL = ("file:", "data:", "about:blank")
# Resolves once MathJax has typeset the page: the number of typeset formulas and of MathJax errors.
TYPESET = """() => new Promise(done => MathJax.Hub.Queue(() => done({
    math: document.querySelectorAll('.MathJax, .MathJax_Display').length,
    errors: document.querySelectorAll('.MathJax_Error, merror').length})))"""
BROKEN_IMAGES = "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    chromium = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        message = f"Chromium or playwright is missing; install with: {INSTALL_HINT}"
        if REQUIRE:
            pytest.fail(f"REQUIRE_BROWSER is set but {message}", pytrace=False)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("site")
    build_site.build(out)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROME_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1200, "height": 900})
            tab.site, tab.blocked, tab.failed = out, [], []

            def route(r):
                if r.request.url.startswith(LOCAL):
                    r.continue_()
                else:
                    tab.blocked.append(r.request.url)
                    r.abort()

            tab.route("**/*", route)
            tab.on("requestfailed", lambda r: tab.failed.append(f"{r.url} ({r.failure})"))
            yield tab
        finally:
            browser.close()


@pytest.mark.browser
def test_every_page_reads_offline_with_plots_and_math(page):
    site: Path = page.site
    stems = [p.stem for p in build_site.lesson_paths()]
    page.goto((site / "index.html").as_uri())
    assert page.locator("td a").count() == len(stems)
    for stem in stems:
        page.blocked.clear(), page.failed.clear()
        page.goto((site / f"{stem}.html").as_uri())
        result = page.evaluate(TYPESET)
        page.evaluate("document.fonts.ready.then(() => true)")  # the fonts the math asked for
        nb = json.loads((build_site.NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
        markdown = "".join(
            "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"
        )
        assert result["errors"] == 0, f"{stem}: {result['errors']} MathJax errors"
        if "$" in markdown:
            assert result["math"] > 0, f"{stem}: no formula was typeset"
        assert page.evaluate(BROKEN_IMAGES) == 0, f"{stem}: an image did not load"
        plots = sum(
            "image/png" in out.get("data", {})
            for c in nb["cells"]
            if c["cell_type"] == "code"
            for out in c.get("outputs", [])
        )
        assert page.locator("img").count() >= plots, (
            f"{stem}: {plots} plots in the notebook, fewer shown"
        )
        assert page.blocked == [], f"{stem} asked the network for {page.blocked}"
        failed = [f for f in page.failed if not f.startswith("about:blank")]
        assert failed == [], f"{stem}: {failed}"
