"""The documentation: the guide's examples run, and the built site loads nothing from the network.

The guide's ``>>>`` examples run here as doctests on every ``make test`` (they need no Sphinx).
The checks of the built site run when ``docs/_build/html`` exists (``make docs`` builds it,
then runs this file) and are skipped otherwise, so the test suite does not need Sphinx.

"Offline" is checked precisely: no page, stylesheet or script may *load* anything from an
``http://``, ``https://`` or protocol-relative ``//`` address (``<script src>``, ``<link
href>``, ``<img src>``, ``<iframe src>``, ``<source src>``, ``<object data>``, CSS ``url()``
and ``@import``). Plain ``<a href>`` links to other sites are allowed: following one is the
reader's choice, and nothing is fetched when the page opens.
"""
import doctest
import html.parser
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
SITE = DOCS / "_build" / "html"
GUIDE = sorted((DOCS / "guide").glob("*.rst"))
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+(?:url\()?\s*['"]([^'"]+)""")
LOADING = {"script": "src", "img": "src", "iframe": "src", "source": "src", "embed": "src",
           "audio": "src", "video": "src", "object": "data", "link": "href"}


# Chapters whose examples need an optional dependency (skipped, not failed, without it).
NEEDS = {"scaling.rst": "dask.array"}


@pytest.mark.parametrize("path", GUIDE, ids=[p.name for p in GUIDE])
def test_guide_examples_run(path):
    if path.name in NEEDS:
        pytest.importorskip(NEEDS[path.name])
    result = doctest.testfile(str(path), module_relative=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                              encoding="utf-8")
    assert result.failed == 0


class _Loads(html.parser.HTMLParser):
    """Collects the addresses a page loads when it opens, and its inline styles."""

    def __init__(self):
        super().__init__()
        self.loads, self.css, self._in_style = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in LOADING and attrs.get(LOADING[tag]):
            if tag != "link" or attrs.get("rel", "") != "canonical":
                self.loads.append(attrs[LOADING[tag]])
        if tag in ("img", "source") and attrs.get("srcset"):
            self.loads += [part.split()[0] for part in attrs["srcset"].split(",") if part]
        if attrs.get("style"):
            self.css.append(attrs["style"])
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.css.append(data)

    def handle_endtag(self, tag):
        self._in_style = False


def _site_files(pattern):
    if not (SITE / "index.html").exists():
        pytest.skip("the site is not built: run `make docs`")
    files = sorted(SITE.rglob(pattern))
    if pattern == "*.html":  # the pages; _static holds the theme's template fragments
        files = [f for f in files if "_static" not in f.relative_to(SITE).parts]
    return files


def _css_urls(text):
    return [a or b for a, b in CSS_URL.findall(text)]


def test_no_page_loads_anything_from_the_network():
    pages = _site_files("*.html")
    assert len(pages) > 20, "the site looks incomplete"
    offending = []
    for page in pages:
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.loads + [u for css in parser.css for u in _css_urls(css)]:
            if EXTERNAL.match(url):
                offending.append(f"{page.relative_to(SITE)}: {url}")
    assert not offending, "pages load from the network:\n" + "\n".join(offending)


def test_no_stylesheet_loads_anything_from_the_network():
    offending = [f"{css.relative_to(SITE)}: {url}" for css in _site_files("*.css")
                 for url in _css_urls(css.read_text(encoding="utf-8", errors="replace"))
                 if EXTERNAL.match(url)]
    assert not offending, "stylesheets load from the network:\n" + "\n".join(offending)


def test_every_local_resource_a_page_loads_exists():
    missing = []
    for page in _site_files("*.html"):
        parser = _Loads()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.loads:
            if EXTERNAL.match(url) or url.startswith(("data:", "#")):
                continue
            target = (page.parent / url.split("#")[0].split("?")[0]).resolve()
            if not target.exists():
                missing.append(f"{page.relative_to(SITE)}: {url}")
    assert not missing, "pages load files that are not in the site:\n" + "\n".join(missing)


def test_math_renders_from_the_local_copy_of_mathjax():
    _site_files("*.html")
    assert (SITE / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert (SITE / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_every_public_name_has_an_api_page():
    _site_files("*.html")
    pytest.importorskip("sphinx")
    import sys
    sys.path.insert(0, str(DOCS))
    try:
        from apipages import pages
    finally:
        sys.path.remove(str(DOCS))
    missing = []
    for modname, _, objects, data, _ in pages():
        page = SITE / "api" / f"{modname.replace('.', '_')}.html"
        if not page.exists():
            missing.append(modname)
            continue
        text = page.read_text(encoding="utf-8")
        missing += [f"{modname}.{n}" for n in objects
                    if not (SITE / "api" / "generated" / f"{modname}.{n}.html").exists()]
        missing += [f"{modname}.{n}" for n in data if f'id="{modname}.{n}"' not in text]
    assert not missing, "public names without an API page: " + ", ".join(missing)
