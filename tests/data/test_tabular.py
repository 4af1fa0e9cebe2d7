"""Tables: encoding with a spec, new rows encoded alike, and errors that name the fix."""
import numpy as np
import pandas as pd
import pytest

from gradkit.data.tabular import (Spelling, TableError, check_spec, prepare, read_table,
                                  transform)


@pytest.fixture
def frame():
    return pd.DataFrame({"size": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
                         "colour": ["red", "blue", "red", "red", "blue", "red"],
                         "label": ["a", "b", "a", "b", "a", "b"]})


def test_new_rows_are_encoded_with_the_training_spec(frame):
    data = prepare(frame, "label", dropna=True)
    again = transform(frame.dropna(), data.spec)
    np.testing.assert_array_equal(again.X, data.X)
    np.testing.assert_array_equal(again.y, data.y)
    assert data.feature_names == ["size", "colour=blue", "colour=red"]
    assert np.allclose(data.X[:, 0].mean(), 0) and np.allclose(data.X[:, 0].std(), 1)


@pytest.mark.parametrize("call, words", [
    (lambda f: prepare(f, "label"), ["'size' (1 missing)", "dropna=True", "impute='mean'"]),
    (lambda f: prepare(f, "nope"), ["target 'nope' is not a column", "'colour'"]),
    (lambda f: prepare(f, "label", drop=["zzz"], dropna=True), ["drop=['zzz']"]),
    (lambda f: prepare(f, "label", dropna=True, max_categories=1),
     ["'colour' has 2 distinct values", "max_categories=1"]),
    (lambda f: prepare(f, "colour", task="regression", dropna=True),
     ["holds text", "task='classification'"]),
], ids=["missing", "target", "drop", "categories", "text-target"])
def test_errors_name_the_argument_that_fixes_them(frame, call, words):
    with pytest.raises(TableError) as info:
        call(frame)
    assert isinstance(info.value, ValueError)
    for word in words:
        assert word in str(info.value)
    assert "--" not in str(info.value)  # Python's names unless a caller spells them


def test_a_caller_spells_the_arguments_in_messages_and_notes(frame):
    cli = Spelling(dropna="--dropna", impute="--impute {}", drop="--drop {}")
    with pytest.raises(TableError, match="--drop 'zzz' is not a column"):
        prepare(frame, "label", drop=["zzz"], spelling=cli)
    assert "--impute mean filled 1 cells of column size" in " ".join(
        prepare(frame, "label", impute="mean", spelling=cli).summary["notes"])


def test_a_bad_record_is_refused_naming_where_it_came_from(frame):
    spec = prepare(frame, "label", dropna=True).spec
    assert check_spec(spec, "m.json") is spec
    with pytest.raises(TableError, match="'m.json' is not a valid .* re-create it"):
        check_spec(dict(spec, format="other"), "'m.json'")


def test_read_table_names_a_missing_file():
    with pytest.raises(TableError, match="no such file or bundled data set"):
        read_table("missing")
    assert read_table("wine").task == "classification"
