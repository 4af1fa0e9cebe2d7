"""Every script in examples/ runs to the end (they are documentation, so they must work)."""
import pathlib
import runpy

import matplotlib
import pytest

matplotlib.use("Agg")

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", [str(path)])  # as if run with no options
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"


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
