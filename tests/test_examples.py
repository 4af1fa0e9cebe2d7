"""Every script in examples/ runs to the end and draws a readable figure (they are
documentation, so they must work, and the gallery shows their figures)."""
import importlib.util
import pathlib
import runpy

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
WITH_PLOT_OPTION = [p for p in EXAMPLES if '"--plot"' in p.read_text()]

# The gallery's own rule for finding an example's figures (docs/gallery_scraper.py).
_spec = importlib.util.spec_from_file_location("gallery_scraper",
                                               ROOT / "docs" / "gallery_scraper.py")
gallery_scraper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gallery_scraper)


def _text_artists(fig):
    """Titles, axis labels and legends: what must not be cut off at the figure's edge."""
    texts = list(fig.texts) + list(fig.legends)
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            texts.append(ax.get_legend())
    return [t for t in texts if not hasattr(t, "get_text") or t.get_text()]


def assert_readable(fig, name):
    """A title; a y label on every axes that draws data and an x label on it or on another
    axes of its column (stacked panels label the bottom one); a legend when more than one
    thing is labelled, lying off every axes; and no text cut off at the figure's edge."""
    fig.draw_without_rendering()  # lays the figure out, so extents are final
    drawn = [ax for ax in fig.axes if ax.lines or ax.collections or ax.patches]
    assert drawn, f"{name}: the figure draws no data"
    assert any(t.get_text() for t in fig.texts) or any(ax.get_title() for ax in fig.axes), \
        f"{name}: the figure has no title"
    for ax in drawn:
        assert ax.get_ylabel(), f"{name}: an axes has no y label"
        column = [a for a in fig.axes if abs(a.get_position().x0 - ax.get_position().x0) < 0.01]
        assert any(a.get_xlabel() for a in column), f"{name}: an axes has no x label"
    labelled = [a for ax in fig.axes for a in ax.lines + ax.collections
                if not a.get_label().startswith("_")]
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert len(labelled) < 2 or legends, f"{name}: {len(labelled)} labelled curves, no legend"
    for legend in legends:
        box = legend.get_window_extent()
        assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes), \
            f"{name}: the legend lies over an axes (it may hide the data)"
    edge = fig.bbox.padded(1.0)
    for text in _text_artists(fig):
        box = text.get_window_extent()
        assert edge.x0 <= box.x0 and box.x1 <= edge.x1 and edge.y0 <= box.y0 \
            and box.y1 <= edge.y1, f"{name}: {text!r} is cut off at the figure's edge"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_and_draws_its_figure(path, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", [str(path)])  # as if run with no options
    variables = runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"
    figures = gallery_scraper.figures_in(variables)
    assert len(figures) == 1, f"{path.name} leaves {len(figures)} figures for the gallery, not 1"
    assert_readable(figures[0], path.name)


@pytest.mark.parametrize("path", WITH_PLOT_OPTION, ids=[p.name for p in WITH_PLOT_OPTION])
def test_plot_option_saves_the_figure(path, tmp_path, capsys, monkeypatch):
    png = tmp_path / "figure.png"
    monkeypatch.setattr("sys.argv", [str(path), "--plot", str(png)])
    runpy.run_path(str(path), run_name="__main__")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} --plot wrote no PNG"
    assert str(png) in capsys.readouterr().out


def test_gallery_scraper_saves_each_new_figure_once(tmp_path):
    pytest.importorskip("sphinx_gallery")
    from matplotlib.figure import Figure
    first, second = Figure(), Figure()
    first.subplots().plot([1, 2])
    second.subplots().plot([2, 1])
    paths = iter(tmp_path / f"image{i}.png" for i in range(10))
    block_vars = {"example_globals": {"a": first, "n": 3}, "image_path_iterator": paths}
    conf = {"src_dir": str(tmp_path)}
    assert "image0.png" in gallery_scraper.gradkit_figures(None, block_vars, conf)
    block_vars["example_globals"]["b"] = second  # a later block: only the new figure
    rst = gallery_scraper.gradkit_figures(None, block_vars, conf)
    assert "image1.png" in rst and "image2.png" not in rst
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image0.png", "image1.png"]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_does_not_end_with_a_value(path):
    # sphinx-gallery prints the repr of a script's last expression (a list of matplotlib
    # Text objects after ``ax.set(...)``) under the example's output.
    import ast
    last = ast.parse(path.read_text()).body[-1]
    is_print = isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) \
        and getattr(last.value.func, "id", None) == "print"
    assert not isinstance(last, ast.Expr) or is_print, \
        f"{path.name} ends with an expression whose value the gallery would print"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_docstring_starts_with_a_title(path):
    # The documentation's gallery (sphinx-gallery) takes each example's title from its
    # docstring, which must open with a reStructuredText heading: a line, then "=" under it.
    import ast
    doc = ast.get_docstring(ast.parse(path.read_text()), clean=False) or ""
    lines = doc.lstrip("\n").splitlines()
    assert len(lines) >= 2 and lines[0].strip() and set(lines[1].strip()) == {"="} \
        and len(lines[1].strip()) >= len(lines[0].strip()), (
        f"{path.name}: the docstring must start with a title underlined by '=' "
        "(the gallery's page title), e.g. '\"\"\"\\nMy example\\n==========\\n\\nWhat it shows.'")
