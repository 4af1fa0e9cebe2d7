"""Dask tables: the same spec and encoding as the NumPy path, partition by partition."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")

from gradkit.data.tabular import Spelling, TableError, prepare  # noqa: E402
from gradkit.data.tabular_dask import prepare_dask, read_dask_table  # noqa: E402


@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "colour": rng.choice(["a", "b"], 60),
                          "label": rng.choice(["yes", "no"], 60)})
    frame.loc[4, "x"] = np.nan
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_dask_path_encodes_as_the_numpy_path(csv):
    frame, name = read_dask_table(csv, blocksize=400)
    assert name == "t.csv" and frame.npartitions > 1
    data = prepare_dask(frame, "label", dropna=True)
    ref = prepare(pd.read_csv(csv), "label", dropna=True)
    assert data.spec["feature_names"] == ref.spec["feature_names"]
    np.testing.assert_allclose(data.X.compute(), ref.X)
    np.testing.assert_array_equal(data.y.compute(), ref.y)


def test_missing_cells_name_the_fix_in_the_callers_spelling(csv):
    frame, _ = read_dask_table(csv)
    with pytest.raises(TableError, match=r"'x' \(1 missing\).*dropna=True"):
        prepare_dask(frame, "label")
    with pytest.raises(TableError, match="--dropna"):
        prepare_dask(frame, "label", spelling=Spelling(dropna="--dropna"))
