"""Column names are data: a header reaches the terminal, the CSV of importances and the
figures as text, never as an escape sequence, a formula or math text."""
import csv

import numpy as np
import pandas as pd
import pytest

from gradkit.plot import attributions
from gradkit.safety import for_csv, for_terminal

FORMULA = '=HYPERLINK("http://evil.example","click")'
ESCAPE = "name\x1b]0;owned\x07\x1b[31m"
MATH = "$x^{2$"


@pytest.fixture
def hostile_csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({FORMULA: rng.normal(size=80), ESCAPE: rng.normal(size=80),
                          MATH: rng.normal(size=80)})
    frame["label"] = np.where(frame[FORMULA] + frame[MATH] > 0, "a", "b")
    path = tmp_path / "hostile.csv"
    frame.to_csv(path, index=False)
    return path


def test_hostile_headers_through_fit_and_explain(gradkit, hostile_csv, tmp_path):
    status, out, err = gradkit("fit", hostile_csv, "--save", "m.npz", "--report", "fit.html")
    assert status == 0, err
    status, out2, err2 = gradkit("explain", "m.npz", hostile_csv, "--csv", "imp.csv",
                                 "--report", "explain.html")
    assert status == 0, err2
    for text in (out, err, out2, err2):
        assert "\x1b" not in text and "\x07" not in text
    assert "name\\x1b]0;owned\\x07" in out2
    with open(tmp_path / "imp.csv", newline="", encoding="utf-8") as f:
        cells = [row[0] for row in csv.reader(f)][1:]
    assert "'" + FORMULA in cells and MATH in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    for page in ("fit.html", "explain.html"):  # the importance figure was drawn
        assert "could not be drawn" not in (tmp_path / page).read_text(encoding="utf-8")


def test_an_escape_sequence_in_an_error_message_is_shown_escaped(gradkit, hostile_csv):
    status, _, err = gradkit("fit", hostile_csv, "--target", ESCAPE + "x")
    assert status == 2 and "\x1b" not in err and "\\x1b" in err


def test_a_dollar_in_a_label_is_text_not_math():
    import io
    fig = attributions([0.1, 0.3, 0.2], [MATH, FORMULA, ESCAPE], title=MATH)
    fig.savefig(io.BytesIO(), format="png")  # math text would raise on the open brace
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert MATH in labels and "name\\x1b]0;owned\\x07\\x1b[31m" in labels
    assert all(not t.get_parse_math() for t in fig.axes[0].get_yticklabels())


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
                                  "\uff1d1+1"])
def test_every_formula_start_is_quoted(cell):
    assert for_csv(cell) == "'" + cell


@pytest.mark.parametrize("text", ["\x1b[2J", "\x07", "\x9b31m", "a\u202eb", "\x00"])
def test_every_control_character_is_escaped_for_the_terminal(text):
    shown = for_terminal(text)
    assert shown.isprintable() and "\\" in shown
