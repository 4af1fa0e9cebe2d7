"""CSV files read whatever their separator (, ; tab |), and identifier-like columns named."""
import warnings

import numpy as np
import pandas as pd
import pytest

from gradkit.data.tabular import (CsvDialect, IdentifierColumnWarning, prepare, read_table,
                                  sniff_csv)

FRAME = pd.DataFrame({"size": [1.5, 2.25, 3.0, 4.5, 5.0, 6.75],
                      "colour": ["red", "blue", "red", "red;ish", "blue", "red"],
                      "label": ["a", "b", "a", "b", "a", "b"]})


@pytest.mark.parametrize("sep, decimal, name", [
    (",", ".", "t.csv"), (";", ".", "t.csv"), ("\t", ".", "t.csv"), ("|", ".", "t.csv"),
    (";", ",", "t.csv"),  # the European convention: ; between fields, 1,5 in numbers
    ("\t", ".", "t.tsv"), (",", ".", "t.tsv"),  # the extension is a default, not a rule
], ids=lambda v: repr(v))
def test_every_separator_is_read_as_the_comma_file(tmp_path, sep, decimal, name):
    path = tmp_path / name
    FRAME.to_csv(path, sep=sep, decimal=decimal, index=False)
    assert sniff_csv(path) == CsvDialect(sep, decimal)
    table = read_table(path)
    assert table.sep == sep
    pd.testing.assert_frame_equal(table.frame, FRAME, check_dtype=False)
    data = prepare(table.frame, "label")
    assert data.feature_names == ["size", "colour=blue", "colour=red", "colour=red;ish"]


def test_quoted_separators_and_a_one_column_file_keep_the_comma(tmp_path):
    (tmp_path / "q.csv").write_text('a,b\n"1;2;3",4\n"5;6;7",8\n')
    assert sniff_csv(tmp_path / "q.csv").sep == ","
    (tmp_path / "one.csv").write_text("x\n1\n2\n")
    assert sniff_csv(tmp_path / "one.csv").sep == ","


def test_a_semicolon_file_fits_from_the_command_line(tmp_path, monkeypatch, capsys):
    from gradkit.cli import main

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["y"] = np.where(frame.a + frame.b > 0, "yes", "no")
    frame.to_csv(tmp_path / "eu.csv", sep=";", decimal=",", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "eu.csv", "--report", "r.html"]) == 0, capsys.readouterr().err
    assert "2 features" in capsys.readouterr().out


def _with_ids(n=40):
    rng = np.random.default_rng(1)
    return pd.DataFrame({"row": np.arange(100, 100 + n), "customer": [f"c{i:04d}" for i in
                                                                     range(n)],
                         "x": rng.normal(size=n), "count": rng.integers(0, 5, size=n),
                         "label": rng.choice(["a", "b"], size=n)})


def test_identifier_like_columns_are_warned_about_and_named_in_the_notes():
    with pytest.warns(IdentifierColumnWarning) as caught:
        data = prepare(_with_ids(), "label", max_categories=100)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert "'row'" in messages[0] and "drop=['row']" in messages[0]
    assert "'customer'" in messages[1] and "every row has its own value" in messages[1]
    assert sum("looks like an identifier" in n for n in data.summary["notes"]) == 2


def test_ordinary_columns_are_not_identifiers():
    frame = _with_ids().drop(columns=["row", "customer"])
    frame["price"] = np.arange(40) * 7  # distinct integers, but not numbering the rows
    frame["few"] = [f"t{i}" for i in range(5)] * 8
    with warnings.catch_warnings():
        warnings.simplefilter("error", IdentifierColumnWarning)
        prepare(frame, "label")
        prepare(frame.head(8).assign(id=range(8)), "label")  # too few rows to judge


def test_the_dask_path_warns_about_the_same_columns(tmp_path):
    pytest.importorskip("dask.dataframe")
    from gradkit.data.tabular_dask import prepare_dask, read_dask_table

    _with_ids(400).to_csv(tmp_path / "ids.csv", index=False)
    frame, _ = read_dask_table(tmp_path / "ids.csv", blocksize=2000)
    assert frame.npartitions > 1
    with pytest.warns(IdentifierColumnWarning) as caught:
        prepare_dask(frame, "label", max_categories=1000)
    assert sorted(str(w.message).split("'")[1] for w in caught) == ["customer", "row"]


def test_the_command_line_warns_in_one_line_naming_the_option(tmp_path, monkeypatch, capsys):
    from gradkit.cli import main

    _with_ids().to_csv(tmp_path / "ids.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "ids.csv", "--max-categories", "100", "--report", "r.html"]) == 0
    warned = [line for line in capsys.readouterr().err.splitlines() if "identifier" in line]
    assert warned == [
        "gradkit: warning: column 'row' looks like an identifier (its integers number the "
        "rows): a model learns nothing from it that holds for new rows; drop it with "
        "--drop 'row'.",
        "gradkit: warning: column 'customer' looks like an identifier (every row has its own "
        "value): a model learns nothing from it that holds for new rows; drop it with "
        "--drop 'customer'."]
