"""The report page: escaped text, embedded figures, nothing loaded from outside."""
import base64
import io
import re

import matplotlib.image
import pytest
from matplotlib.figure import Figure

from gradkit.report import (CSP, Report, confusion_matrix_figure, figure_to_png,
                            predicted_vs_true_figure)

HOSTILE = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "a & b",
           "' onmouseover='alert(1)", "</style><script>x()</script>"]


def _page():
    report = Report(HOSTILE[0], subtitle=HOSTILE[1])
    section = report.section(HOSTILE[2])
    section.text(HOSTILE[3])
    section.bullets(HOSTILE)
    section.table([[h, h] for h in HOSTILE], header=HOSTILE[:2])
    section.table({HOSTILE[4]: 1.5})
    section.finding(HOSTILE[0], HOSTILE[1], HOSTILE[4])
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [1, 0])
    section.figure(fig, caption=HOSTILE[0])
    return report.to_html()


@pytest.mark.parametrize("text", HOSTILE)
def test_every_user_string_is_escaped(text):
    page = _page()
    assert text not in page.replace(CSP, "")
    assert text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") \
        .replace('"', "&quot;").replace("'", "&#x27;") in page


def test_no_script_and_no_external_url():
    page = _page()
    assert "<script" not in page
    assert re.findall(r"(?:src|href)=\"([^\"]*)\"", page)  # there are some ...
    for url in re.findall(r"(?:src|href)=\"([^\"]*)\"", page):  # ... all inside the page
        assert url.startswith(("data:image/png;base64,", "#"))
    assert f'content="{CSP}"' in page


def test_figures_are_embedded_pngs_that_decode():
    images = re.findall(r"data:image/png;base64,([^\"]+)", _page())
    assert len(images) == 1
    pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(images[0])), format="png")
    assert pixels.ndim == 3 and pixels.std() > 0


@pytest.mark.parametrize("make, texts", [
    (lambda: confusion_matrix_figure([[5, 1], [2, 7]], ["<a>", "b"]), 4),
    (lambda: predicted_vs_true_figure([1.0, 2.0, 3.0], [1.5, 2.0, 2.5]), 0),
])
def test_score_figures_render(make, texts):
    fig = make()
    assert len(fig.axes[0].texts) == texts
    assert figure_to_png(fig)[:4] == b"\x89PNG"


def test_write_returns_the_absolute_path(tmp_path):
    report = Report("t")
    report.section("s").text("x")
    path = report.write(tmp_path / "r.html")
    assert path == str(tmp_path / "r.html")
    assert open(path, encoding="utf-8").read().startswith("<!DOCTYPE html>")
