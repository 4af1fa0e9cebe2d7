"""The single-file HTML report: sections of text, tables and figures embedded as base64 PNG.

The page needs nothing but itself: figures are ``data:`` URLs, the style sheet is inline,
there is no script, and a Content-Security-Policy forbids loading anything else. Every string
a block is given is escaped with :func:`html.escape`, so column names and category values from
the data are shown as text, never run.

>>> report = Report("Demo <b>")
>>> report.section("Data").text("3 rows from <script>alert(1)</script>")
>>> page = report.to_html()
>>> "<script>" in page, "&lt;script&gt;alert(1)" in page
(False, True)
"""
from __future__ import annotations

import base64
import datetime
import html
import io
import os

import numpy as np

__all__ = ["Report", "Section", "figure_to_png", "CSP", "format_number"]

#: No network, no script: only inline style and data: images.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
  margin:0;background:#f6f7f9;color:#1d232b;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:1.2rem 2rem}
header h1{margin:0;font-size:1.5rem} header p{margin:.3rem 0 0;opacity:.85}
nav{padding:.6rem 2rem;background:#e8ecf2;font-size:.9rem}
nav a{margin-right:1rem;color:#1f3a5f}
main{max-width:1100px;margin:0 auto;padding:1rem 2rem 3rem}
section{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:1rem 1.4rem;
  margin:1.2rem 0}
section h2{margin-top:0;font-size:1.2rem;color:#1f3a5f}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{border:1px solid #dde2ea;padding:.3rem .6rem;text-align:left;vertical-align:top}
td:not(:last-child){white-space:nowrap}
th{background:#f0f3f7}
figure{margin:.8rem 0} figure img{max-width:100%;height:auto;border:1px solid #eef0f3}
figcaption{font-size:.85rem;color:#5b6573}
.finding{border-left:4px solid #d9822b;background:#fff8ef;padding:.5rem .8rem;margin:.6rem 0}
.finding.ok{border-color:#3d9a50;background:#f1faf3}
.finding.error{border-color:#c23030;background:#fdf0f0}
.kind{font-weight:600;text-transform:uppercase;font-size:.8rem;letter-spacing:.04em}
table.evidence{font-size:.8rem;margin:.4rem 0 0} table.evidence th{font-weight:500}
footer{color:#5b6573;font-size:.8rem;text-align:center;padding:1rem}
"""


def _scoped_style(scope):
    """:data:`_STYLE` with every selector put under ``scope`` (``body`` becomes the scope)."""
    rules = []
    for rule in _STYLE.replace("\n", "").split("}"):
        if "{" not in rule:
            continue
        selectors, body = rule.split("{", 1)
        scoped = ",".join(scope if s.strip() == "body" else f"{scope} {s.strip()}"
                          for s in selectors.split(","))
        rules.append(f"{scoped}{{{body}}}")
    return "".join(rules)


def figure_to_png(fig, dpi: int = 100) -> bytes:
    """The PNG bytes of a matplotlib figure.

    Args:
        fig: a ``matplotlib.figure.Figure``.
        dpi: the resolution in dots per inch.

    Returns:
        The PNG file's bytes.

    Examples:
        >>> from matplotlib.figure import Figure
        >>> figure_to_png(Figure(figsize=(1, 1)))[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def format_number(value, significant=None) -> str:
    """One format for every number on a page: three decimals from 0.001 to 10,000
    (``"1.000"``, ``"0.973"``, ``"56.690"``), four significant digits in scientific notation
    beyond; integers as they are. With ``significant=k``: ``k`` significant digits, trailing
    zeros kept (``"1.000"``, ``"0.002129"``), for values compared across many scales (the
    race's losses).

    Args:
        value: a number (int, float, NumPy scalar).
        significant: None, or the number of significant digits.

    Returns:
        The formatted string.

    Examples:
        >>> [format_number(v) for v in (1.0, 0.97333, 56.69, 3, 2.5e-05, 123456.0, float("nan"))]
        ['1.000', '0.973', '56.690', '3', '2.500e-05', '1.235e+05', 'nan']
        >>> [format_number(v, significant=4) for v in (1.0, 0.0021294, 33.0, 1.3e-30)]
        ['1.000', '0.002129', '33.00', '1.300e-30']
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    v = float(value)
    if not np.isfinite(v):
        return str(v)
    if significant is not None:
        return f"{v:#.{int(significant)}g}"
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return f"{v:.3f}"
    return f"{v:.3e}"


class Section:
    """One ``<section>`` of a :class:`Report`; add blocks with its methods, in order.

    Made by :meth:`Report.section`, which gives it its anchor.

    Args:
        title: the heading (escaped).
        anchor: the ``id`` of the ``<section>``, for links to it.

    Examples:
        >>> s = Report("Run").section("Notes & results")
        >>> s.text("The loss fell <fast>.")
        >>> print(s.to_html())
        <section id="s1"><h2>Notes &amp; results</h2><p>The loss fell &lt;fast&gt;.</p></section>
        >>> s.table({"epochs": 10, "loss": 0.25})
        >>> s.to_html().count("<tr>")
        2
    """

    def __init__(self, title: str, anchor: str):
        self.title = str(title)
        self.anchor = anchor
        self.blocks: list[str] = []

    def text(self, paragraph) -> None:
        """A paragraph of plain text (escaped)."""
        self.blocks.append(f"<p>{_esc(paragraph)}</p>")

    def bullets(self, items) -> None:
        """A bulleted list of plain-text items (escaped)."""
        items = list(items)
        if items:
            self.blocks.append("<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>")

    def table(self, rows, header=None) -> None:
        """A table: ``rows`` is a list of rows (lists of cells) or a dict (two columns)."""
        if isinstance(rows, dict):
            rows = list(rows.items())
        head = "" if header is None else \
            "<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr>"
        body = "".join("<tr>" + "".join(f"<td>{_esc(_cell(c))}</td>" for c in row) + "</tr>"
                       for row in rows)
        self.blocks.append(f"<table>{head}{body}</table>")

    def figure(self, fig, caption: str = "", alt: str = "") -> None:
        """A matplotlib figure as an embedded PNG (``fig`` may also be PNG bytes)."""
        png = fig if isinstance(fig, (bytes, bytearray)) else figure_to_png(fig)
        data = base64.b64encode(png).decode("ascii")
        cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        self.blocks.append(f'<figure><img src="data:image/png;base64,{data}" '
                           f'alt="{_esc(alt or caption or self.title)}">{cap}</figure>')

    def finding(self, kind, message, remedy="", level="warning", evidence=None) -> None:
        """A highlighted box: ``kind`` (a short label), the message and the remedy in words,
        and the ``evidence`` (a dict: what was judged, over which steps, the numbers) as a
        small table; ``level`` is ``"warning"``, ``"ok"`` or ``"error"``."""
        css = {"ok": "finding ok", "error": "finding error"}.get(level, "finding")
        remedy = f"<br><b>What to do:</b> {_esc(remedy)}" if remedy else ""
        table = ""
        if evidence:
            rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(_evidence_cell(v))}</td></tr>"
                           for k, v in evidence.items())
            table = f'<table class="evidence">{rows}</table>'
        self.blocks.append(f'<div class="{css}"><span class="kind">{_esc(kind)}</span> '
                           f"{_esc(message)}{remedy}{table}</div>")

    def to_html(self) -> str:
        """The section's HTML."""
        return (f'<section id="{_esc(self.anchor)}"><h2>{_esc(self.title)}</h2>'
                + "".join(self.blocks) + "</section>")


def _cell(value):
    if isinstance(value, (float, np.floating)):
        return format_number(value)
    return value


def _evidence_cell(value):
    if isinstance(value, tuple) and len(value) == 2:
        return f"steps {value[0]} to {value[1]}"
    return _cell(value)


class Report:
    """A self-contained HTML page made of titled sections (see the module doc).

    Args:
        title: the page title (escaped).
        subtitle: a line under the title (escaped).

    Examples:
        >>> report = Report("Run 3", subtitle="adam, lr=0.01")
        >>> report.section("Results").bullets(["converged", "<no> NaN"])
        >>> page = report.to_html()
        >>> page.startswith("<!DOCTYPE html>"), "&lt;no&gt; NaN" in page, len(report.sections)
        (True, True, 1)
    """

    def __init__(self, title: str, subtitle: str = ""):
        self.title = str(title)
        self.subtitle = str(subtitle)
        self.sections: list[Section] = []

    def section(self, title: str) -> Section:
        """Add and return a new section titled ``title``."""
        section = Section(title, f"s{len(self.sections) + 1}")
        self.sections.append(section)
        return section

    def to_html(self) -> str:
        """The whole page as a string."""
        import gradkit
        nav = "".join(f'<a href="#{s.anchor}">{_esc(s.title)}</a>' for s in self.sections)
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        sub = f"<p>{_esc(self.subtitle)}</p>" if self.subtitle else ""
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_esc(self.title)}</title><style>{_STYLE}</style></head><body>"
            f"<header><h1>{_esc(self.title)}</h1>{sub}</header><nav>{nav}</nav><main>"
            + "".join(s.to_html() for s in self.sections)
            + f"</main><footer>gradkit {_esc(gradkit.__version__)} &middot; {_esc(stamp)}"
            "</footer></body></html>\n")

    def write(self, path) -> str:
        """Write the page to ``path`` (UTF-8); returns the absolute path."""
        path = os.path.abspath(os.fspath(path))
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_html())
        return path

    save = write

    def _repr_html_(self) -> str:
        """The sections for a notebook cell: a ``<div>`` whose style sheet applies inside it
        only, so the notebook's own page keeps its look."""
        sub = f"<p>{_esc(self.subtitle)}</p>" if self.subtitle else ""
        return (f'<div class="gk-report"><style>{_scoped_style(".gk-report")}</style>'
                f"<header><h1>{_esc(self.title)}</h1>{sub}</header><main>"
                + "".join(s.to_html() for s in self.sections) + "</main></div>")
