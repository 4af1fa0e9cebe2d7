"""``gradkit fit --dask``: the same encoding, split and coefficients as the NumPy path, on a cluster."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("dask.distributed")

from gradkit.models import load  # noqa: E402


@pytest.fixture(scope="module")
def address():
    """A scheduler the tests connect to with ``--dask ADDRESS`` (one per module)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                           dashboard_address=None, memory_limit="1GiB")
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture
def table(tmp_path):
    """A CSV of 300 rows: two numbers, a text column, a text label and a numeric target."""
    rng = np.random.default_rng(0)
    n = 300
    a, b = rng.normal(size=n), rng.normal(3.0, 2.0, size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    label = np.where(a + 0.5 * (b - 3) + (colour == "red") + 0.3 * rng.normal(size=n) > 0.3,
                     "yes", "no")
    price = 2.0 * a - b + (colour == "blue") + 0.1 * rng.normal(size=n)
    frame = pd.DataFrame({"a": a, "b": b, "colour": colour, "price": price, "label": label})
    frame.to_csv(tmp_path / "data.csv", index=False)
    frame.loc[[4, 250], "b"] = np.nan
    frame.to_csv(tmp_path / "holes.csv", index=False)
    return tmp_path


def _fitted(path):
    model = load(str(path))
    spec = json.load(open(f"{path}.preprocess.json"))
    return model, spec


def _same_fit(dask_model, numpy_model):
    d, ds = dask_model
    m, ms = numpy_model
    assert ds["feature_names"] == ms["feature_names"]
    assert [c.get("categories") for c in ds["columns"]] == \
        [c.get("categories") for c in ms["columns"]]
    np.testing.assert_allclose([c.get("mean", 0) for c in ds["columns"]],
                               [c.get("mean", 0) for c in ms["columns"]], rtol=1e-12)
    np.testing.assert_allclose(d.coef_, m.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(d.intercept_, m.intercept_, rtol=0, atol=1e-6)


def test_dask_alone_fits_on_a_local_cluster_like_the_numpy_path(gradkit, table):
    csv = table / "data.csv"
    status, out, err = gradkit("fit", csv, "--target", "label", "--drop", "price", "--dask",
                               "--blocksize", "4KB", "--report", "d.html", "--save", "d.npz")
    assert status == 0, err
    status, ref, err = gradkit("fit", csv, "--target", "label", "--drop", "price",
                               "--report", "n.html", "--save", "n.npz")
    assert status == 0, err
    _same_fit(_fitted("d.npz"), _fitted("n.npz"))
    # the same held-out rows and the same scores
    assert out.splitlines()[1] == ref.splitlines()[1]
    page = open("d.html", encoding="utf-8").read()
    assert "<h2>Held-out scores</h2>" in page and "<h2>Feature importance</h2>" in page
    assert "colour=red" in page


def test_dask_address_regression_with_dropna_equals_numpy(gradkit, table, address):
    csv = table / "holes.csv"
    args = ("fit", csv, "--target", "price", "--drop", "label", "--dropna")
    status, out, err = gradkit(*args, "--dask", address, "--blocksize", "3KB",
                               "--save", "d.npz", "--report", "d.html")
    assert status == 0, err
    status, ref, err = gradkit(*args, "--save", "n.npz", "--report", "n.html")
    assert status == 0, err
    _same_fit(_fitted("d.npz"), _fitted("n.npz"))
    assert "held-out R2" in out and "298 rows" in out


def test_dask_minibatches_come_from_the_blocks(gradkit, table, address):
    status, out, err = gradkit("fit", table / "data.csv", "--target", "label", "--dask",
                               address, "--optimizer", "adam", "--lr", "0.05",
                               "--batch-size", "32", "--epochs", "3", "--report", "r.html")
    assert status == 0, err
    assert "trained 3 epochs" in out


@pytest.mark.parametrize("argv, words", [
    (["fit", "data.csv", "--blocksize", "1MB"], ["--blocksize", "add --dask"]),
    (["fit", "data.csv", "--dask", "--blocksize", "lots"], ["--blocksize", "64MB"]),
    (["fit", "--dask", "data.csv"], ["data.csv' is not a scheduler address", "after the data"]),
    (["fit", "iris", "--dask"], ["bundled data set 'iris'", "leave out --dask"]),
    (["fit", "data.parquet", "--dask"], ["CSV files only"]),
    (["fit", "data.csv", "--dask", "--impute", "mean"], ["--impute", "--dropna"]),
    (["fit", "data.csv", "--dask", "--optimizer", "adam", "--batch-size", "full"],
     ["--batch-size full", "lbfgs"]),
])
def test_unsupported_dask_combinations_are_one_line_errors(gradkit, table, argv, words):
    status, out, err = gradkit(*[table / a if a.startswith("data.") else a for a in argv])
    assert status == 2 and out == ""
    assert err.startswith("gradkit: error: ") and err.count("\n") == 1
    for word in words:
        assert word in err


def test_dask_missing_cells_without_dropna_say_what_to_do(gradkit, table, address):
    status, _, err = gradkit("fit", table / "holes.csv", "--dask", address)
    assert status == 2
    assert "'b' (2 missing)" in err and "--dropna" in err


def test_help_documents_dask_with_an_example(gradkit):
    status, out, _ = gradkit("fit", "--help")
    assert status == 0
    assert "--dask [ADDRESS]" in out and "gradkit fit big.csv --dask" in out
    assert "--blocksize SIZE" in out
