"""`make html` (tools/build_site.py): the static site is complete, ordered, and reads offline.

The whole site is built once, with the same command `make html` runs, into a temporary folder.

**"Loads nothing from the network"**, the rule checked on every page: every URL that a browser fetches
on its own, without a click, is a ``data:`` URI or a relative path to a file that exists inside the
site folder. Fetched without a click means:
- the ``src``, ``srcset``, ``poster`` and ``data`` attributes of any element;
- ``href`` on ``<link>`` (stylesheets, icons, preloads) and on SVG ``<image>``, ``<use>``, ``<script>``;
- ``url(…)`` and ``@import`` in CSS: ``<style>`` blocks, ``style=`` attributes, the site's .css files;
- any ``http://`` or ``https://`` written inside an inline ``<script>`` (the script could fetch it).
Everything else is allowed, in particular ``<a href="https://…">`` (a link to a paper is a click) and
SVG's ``xmlns="http://www.w3.org/2000/svg"`` (a name, never fetched). tests/browser/test_site_offline.py
checks the same in Chromium with every non-file request blocked, and that the math is typeset.
"""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import ipywidgets
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
_spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")
build_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_site)

STEMS = sorted(
    (p.stem for p in NOTEBOOKS.glob("*.ipynb")), key=lambda s: (s.startswith("appendix"), s)
)
FETCH_ATTRS = {"src", "srcset", "poster", "data"}
HREF_FETCHED_ON = {"link", "image", "use", "script"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")
REMOTE_IN_SCRIPT = re.compile(r"https?://[^\s'\"]*")
WIDGET_REPR = re.compile(
    r"^\w+\((children|value)="
)  # e.g. MemoryExplorer(children=(…, IntProgress(value=0…


# -- the rule --------------------------------------------------------------------------------------
class _Fetches(HTMLParser):
    """Collects what a page fetches on its own: (where, url) pairs, CSS texts, inline scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []
        self.css: list[str] = []
        self.scripts: list[str] = []
        self._inside: str | None = None  # "style" or "script" (inline) while inside one

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        for name, value in attrs:
            if value is None:
                continue
            if name == "srcset":
                self.urls += [(f"<{tag} srcset>", part.split()[0]) for part in value.split(",")]
            elif name in FETCH_ATTRS or (name in ("href", "xlink:href") and tag in HREF_FETCHED_ON):
                self.urls.append((f"<{tag} {name}>", value))
            elif name == "style":
                self.css.append(value)
        self._inside = "style" if tag == "style" else "script" if tag == "script" else None
        if tag == "script" and "src" in names:
            self._inside = "script"  # its text should be empty, but is checked all the same

    def handle_endtag(self, tag: str) -> None:
        self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside == "style":
            self.css.append(data)
        elif self._inside == "script":
            self.scripts.append(data)


def _local_problem(url: str, base: Path, site: Path) -> str | None:
    """None if ``url`` is a data: URI or a relative path to a file inside ``site``."""
    if url.startswith("data:"):
        return None
    if url.startswith("//") or re.match(r"[a-zA-Z][\w+.-]*:", url):
        return "not a data: URI or a relative path"
    path = (base / url.split("#")[0].split("?")[0]).resolve()
    if site.resolve() not in path.parents:
        return "outside the site folder"
    return None if path.is_file() else "no such file in the site"


def css_problems(css: str, base: Path, site: Path) -> list[str]:
    found = [a or b for a, b in CSS_URL.findall(css)]
    return [f"CSS {u}: {why}" for u in found if (why := _local_problem(u, base, site))]


def offline_problems(page: str, base: Path, site: Path) -> list[str]:
    """Every breach of the module docstring's rule in one HTML page ([] = reads offline)."""
    parser = _Fetches()
    parser.feed(page)
    problems = [
        f"{where} {url[:80]}: {why}"
        for where, url in parser.urls
        if (why := _local_problem(url.strip(), base, site))
    ]
    for css in parser.css:
        problems += css_problems(css, base, site)
    for script in parser.scripts:
        problems += [f"inline <script> names {u}" for u in REMOTE_IN_SCRIPT.findall(script)]
    return problems


def test_the_rule_catches_every_kind_of_network_load(tmp_path):
    """Negative control: each way a page could reach the network is reported; allowed things are not."""
    (tmp_path / "ok.css").write_text("p {}")
    bad = {
        '<script src="https://cdn.example.org/mathjax.js"></script>': "script src",
        '<link rel="stylesheet" href="//fonts.example.com/css">': "link href",
        '<img src="http://example.org/plot.png">': "img src",
        '<img srcset="plot.png 1x, https://example.org/p2.png 2x">': "srcset",
        '<p style="background: url(https://example.org/bg.png)">': "style attribute",
        "<style>@import 'https://example.org/theme.css';</style>": "@import",
        "<style>@font-face { src: url('http://example.org/f.woff') }</style>": "font url",
        "<script>import('https://example.org/mermaid.mjs')</script>": "inline script",
        '<script src="missing.js"></script>': "missing local file",
        '<link rel="icon" href="../outside.ico">': "outside the site",
        '<svg><image href="https://example.org/x.png"/></svg>': "svg image",
    }
    for snippet, what in bad.items():
        assert offline_problems(snippet, tmp_path, tmp_path), f"not caught: {what}"
    allowed = (
        '<a href="https://arxiv.org/abs/2205.14135">FlashAttention</a>'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg><link rel="stylesheet" href="ok.css">'
        '<img src="data:image/png;base64,iVBORw0KGgo="><style>p { background: url(ok.css) }</style>'
    )
    assert offline_problems(allowed, tmp_path, tmp_path) == []


# -- the real site -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site as `make html` builds it (its command line, in this process: no second import)."""
    out = tmp_path_factory.mktemp("site")
    assert build_site.main(["--out", str(out)]) == 0
    return out


def _pngs(nb: nbformat.NotebookNode) -> list[str]:
    return [
        "".join(output["data"]["image/png"].split())
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]


def _nav(page: str, rel: str) -> list[str]:
    """The hrefs of the page's <a rel="prev"> (or "next") links, in order."""
    tags = re.findall(rf'<a\b[^>]*\brel="{rel}"[^>]*>', page)
    return [re.search(r'href="([^"]*)"', tag).group(1) for tag in tags]


def test_every_notebook_has_a_page_and_the_index_lists_them_in_order(site):
    assert STEMS, "no notebooks found"
    assert sorted(p.name for p in site.glob("*.html")) == sorted(
        [*(f"{s}.html" for s in STEMS), "index.html"]
    )
    index = (site / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<td><a href="([\w.-]+)\.html">', index)
    assert links == STEMS  # by name, appendix last


def test_the_index_shows_each_lessons_run_time_from_make_report(site):
    report = (ROOT / "bench" / "lesson_runtimes.md").read_text(encoding="utf-8")
    # | [00 · title](../notebooks/00_x.ipynb) | 19 | 12.4 s | 0.9 s | ...  (tools/lesson_report.py)
    times = dict(re.findall(r"\(\.\./notebooks/([\w.-]+)\.ipynb\) \| \d+ \| ([\d.]+ s)", report))
    assert times, "bench/lesson_runtimes.md has no lesson rows"
    index = (site / "index.html").read_text(encoding="utf-8")
    for stem in STEMS:
        row = re.search(rf'<tr><td><a href="{stem}\.html">.*?</tr>', index).group(0)
        expected = times.get(stem, "—")  # a lesson not measured yet shows a dash
        assert f'<td class="num">{expected}' in row, (stem, expected, row)  # may add "⚠ over …"


def test_each_page_has_its_plots_its_title_and_prev_next_links(site):
    total = 0
    for i, stem in enumerate(STEMS):
        nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
        page = (site / f"{stem}.html").read_text(encoding="utf-8")
        pngs = _pngs(nb)
        missing = [k for k, png in enumerate(pngs) if f"data:image/png;base64,{png}" not in page]
        assert not missing, f"{stem}: figures {missing} of {len(pngs)} are not on the page"
        total += len(pngs)
        heading = next(c.source for c in nb.cells if c.cell_type == "markdown").splitlines()[0]
        assert f"<title>{heading.lstrip('# ').strip()}</title>" in page
        prev, nxt = _nav(page, "prev"), _nav(page, "next")
        assert prev == ([f"{STEMS[i - 1]}.html"] * 2 if i else []), stem  # top and bottom bars
        assert nxt == ([f"{STEMS[i + 1]}.html"] * 2 if i + 1 < len(STEMS) else []), stem
        assert page.count('href="index.html"') == 2
    assert total > 0


def test_no_page_loads_anything_from_the_network(site):
    for page in [site / "index.html", *(site / f"{s}.html" for s in STEMS)]:
        problems = offline_problems(page.read_text(encoding="utf-8"), page.parent, site)
        assert not problems, f"{page.name}: " + "; ".join(problems[:5])
    for css in site.rglob("*.css"):
        assert not css_problems(css.read_text(encoding="utf-8"), css.parent, site), css


def test_math_is_rendered_by_the_local_mathjax(site):
    for stem in STEMS:
        page = (site / f"{stem}.html").read_text(encoding="utf-8")
        src = re.search(r'<script src="(_static/mathjax/MathJax\.js)\?config=([\w,-]+)"', page)
        assert src, f"{stem}: no local MathJax"
        for config in src.group(2).split(","):
            assert (site / "_static/mathjax/config" / f"{config}.js").is_file(), config
    assert (site / "_static/mathjax/jax/output/HTML-CSS/fonts/STIX-Web/fontdata.js").is_file()


def _is_widget(text: str) -> bool:
    """A widget's text repr: an ipywidgets class or one of the lessons' explorers / steppers."""
    name = WIDGET_REPR.match(text)
    return bool(name) and (
        name.group(1) in dir(ipywidgets) or name.group(1).endswith(("Explorer", "Stepper"))
    )


def test_widgets_become_a_short_note_not_a_dump(site):
    for stem in STEMS:
        nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
        widgets = [
            o
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.outputs
            if set(o.get("data", {})) == {"text/plain"}
            and WIDGET_REPR.match(o["data"]["text/plain"])
        ]
        page = (site / f"{stem}.html").read_text(encoding="utf-8")
        assert page.count('<div class="widget-note">') == len(widgets), stem
        assert "(children=" not in page and "Loading widget" not in page, stem
        assert "application/vnd.jupyter.widget" not in page, stem


# -- a folder of new notebooks: picked up with no list to maintain -------------------------------
def _notebook(title: str, *cells) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}"), *cells])


def test_new_notebooks_and_the_appendix_are_picked_up_in_order(tmp_path):
    src, out = tmp_path / "notebooks", tmp_path / "site"
    src.mkdir()
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    (src / "dot.png").write_bytes(__import__("base64").b64decode(png))
    slider = nbformat.v4.new_code_cell(
        "s",
        outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "IntSlider(value=3)"})],
    )
    figure = nbformat.v4.new_code_cell(
        "f",
        outputs=[
            nbformat.v4.new_output("display_data", {"image/png": png, "text/plain": "<Figure>"})
        ],
    )
    notebooks = {
        "appendix_glossary": _notebook(
            "Glossary", nbformat.v4.new_markdown_cell("[w](05_new.ipynb#sec)")
        ),
        "10_last": _notebook("10 · Last: choosing", slider, figure),
        "05_new": _notebook("05 · New", nbformat.v4.new_markdown_cell("$x^2$ ![a dot](dot.png)")),
    }
    for stem, nb in notebooks.items():
        nbformat.write(nb, src / f"{stem}.ipynb")
    (out).mkdir()
    (out / "99_removed.html").write_text("stale")
    lessons = build_site.build(out, src)
    assert [x["stem"] for x in lessons] == ["05_new", "10_last", "appendix_glossary"]
    assert sorted(p.name for p in out.glob("*.html")) == sorted(
        ["05_new.html", "10_last.html", "appendix_glossary.html", "index.html"]
    )
    glossary = (out / "appendix_glossary.html").read_text(encoding="utf-8")
    assert 'href="05_new.html#sec"' in glossary  # links between notebooks follow them to the site
    assert _nav(glossary, "prev") == ["10_last.html"] * 2 and _nav(glossary, "next") == []
    last = (out / "10_last.html").read_text(encoding="utf-8")
    assert (
        "The figure that follows draws its starting view" in last and "IntSlider(value" not in last
    )
    first = (out / "05_new.html").read_text(encoding="utf-8")
    assert f'src="data:image/png;base64,{png}"' in first  # markdown image embedded
    assert _nav(first, "prev") == [] and _nav(first, "next") == ["10_last.html"] * 2
    assert "$x^2$" in first  # left for MathJax
    for page in out.glob("*.html"):
        assert offline_problems(page.read_text(encoding="utf-8"), out, out) == [], page.name
