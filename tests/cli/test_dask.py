"""``gradkit fit --dask``: the NumPy path's encoding, coefficients and scores on the same rows, with
nothing the size of the data on the driver."""
import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("dask.distributed")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
from gradkit.cli import fit  # noqa: E402
from gradkit.cli.distributed import held_out, score_dask, split_dask  # noqa: E402
from gradkit.data.tabular import Prepared  # noqa: E402
from gradkit.models import LinearRegression, LogisticRegression, load  # noqa: E402


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


@pytest.fixture
def same_rows(monkeypatch):
    """The NumPy path with the Dask path's split rule (``held_out``), to compare like with like."""
    def split(y, task, test_size, seed):
        test = held_out(np.arange(len(y)), test_size, seed)
        return np.flatnonzero(~test), np.flatnonzero(test)
    monkeypatch.setattr(fit, "_split", split)


def test_dask_alone_fits_on_a_local_cluster_like_the_numpy_path_on_the_same_rows(
        gradkit, table, same_rows):
    csv = table / "data.csv"
    status, out, err = gradkit("fit", csv, "--target", "label", "--drop", "price", "--dask",
                               "--blocksize", "4KB", "--report", "d.html", "--save", "d.npz")
    assert status == 0, err
    status, ref, err = gradkit("fit", csv, "--target", "label", "--drop", "price",
                               "--report", "n.html", "--save", "n.npz")
    assert status == 0, err
    _same_fit(_fitted("d.npz"), _fitted("n.npz"))
    # the same held-out rows (as many) and the same scores, computed block by block
    n_test = int(held_out(np.arange(300), 0.25, 0).sum())
    assert f"on {n_test} rows" in out and out.splitlines()[1] == ref.splitlines()[1]
    page = open("d.html", encoding="utf-8").read()
    assert "<h2>Held-out scores</h2>" in page and "<h2>Feature importance</h2>" in page
    assert "colour=red" in page


def test_dask_address_regression_with_dropna_equals_numpy(gradkit, table, address, same_rows):
    csv = table / "holes.csv"
    args = ("fit", csv, "--target", "price", "--drop", "label", "--dropna", "--seed", "7")
    status, out, err = gradkit(*args, "--dask", address, "--blocksize", "3KB",
                               "--save", "d.npz", "--report", "d.html")
    assert status == 0, err
    status, ref, err = gradkit(*args, "--save", "n.npz", "--report", "n.html")
    assert status == 0, err
    _same_fit(_fitted("d.npz"), _fitted("n.npz"))
    assert "held-out R2" in out and "298 rows" in out
    assert out.splitlines()[1] == ref.splitlines()[1]


def test_the_split_does_not_depend_on_the_blocks_and_is_about_test_size(gradkit, table,
                                                                         address):
    """The rows held out are a function of (seed, row number) only: any --blocksize holds out
    the same rows; another seed other rows."""
    rows = {}
    for blocksize, seed in (("2KB", 0), ("5KB", 0), ("64MB", 0), ("2KB", 1)):
        status, out, err = gradkit("fit", table / "data.csv", "--target", "price", "--drop",
                                   "label", "--dask", address, "--blocksize", blocksize,
                                   "--seed", seed, "--report", "r.html")
        assert status == 0, err
        rows[blocksize, seed] = out.splitlines()[1]
    assert rows["2KB", 0] == rows["5KB", 0] == rows["64MB", 0] != rows["2KB", 1]
    mask = held_out(np.arange(1_000_000), 0.25, 0)
    assert abs(mask.mean() - 0.25) < 3 * np.sqrt(0.25 * 0.75 / mask.size)


def _prepared(X, y, spec, chunk):
    return Prepared(da.from_array(X, chunks=(chunk, X.shape[1])), da.from_array(y, chunks=chunk),
                    [f"x{i}" for i in range(X.shape[1])], spec, {})


@pytest.mark.parametrize("k", [2, 4])
def test_blockwise_classification_scores_equal_the_numpy_paths(k):
    """score_dask's confusion-matrix scores against fit._scores (scikit-learn on the rows),
    with a class the model never predicts and blocks that hold out no row."""
    rng = np.random.default_rng(k)
    X = rng.normal(size=(900, 3))
    y = np.digitize(X[:, 0] + 0.8 * rng.normal(size=900), np.linspace(-1, 1, k - 1))
    y[:5] = k - 1  # a rare class at the start
    data = _prepared(X, y, {"target": {"task": "classification",
                                       "classes": [str(c) for c in range(k)]}}, chunk=7)
    with dask.config.set(scheduler="sync"):
        X_train, X_test, y_train, y_test, _ = split_dask(data, 0.3, seed=3)
        model = LogisticRegression(max_iter=5).fit(X_train, y_train)
        got, matrix = score_dask(model, data, X_train, y_train, X_test, y_test)
    test = held_out(np.arange(900), 0.3, 3)
    assert 0 in X_test.chunks[0]  # a block of 7 rows with none held out
    ref = fit._scores(data, model.predict(X[~test]), model.predict(X[test]), y[~test], y[test])
    assert got.keys() == ref.keys()
    for name in ref:
        assert got[name] == pytest.approx(ref[name], rel=1e-12, abs=1e-15), name
    from sklearn.metrics import confusion_matrix
    np.testing.assert_array_equal(matrix, confusion_matrix(y[test], model.predict(X[test]),
                                                           labels=np.arange(k)))


def test_blockwise_regression_scores_equal_the_numpy_paths():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=3000)
    spec = {"target": {"task": "regression", "mean": 1e4, "scale": 250.0}}
    data = _prepared(X, y, spec, chunk=400)
    with dask.config.set(scheduler="sync"):
        X_train, X_test, y_train, y_test, _ = split_dask(data, 0.5, seed=0)
        model = LinearRegression(max_iter=3).fit(X_train, y_train)
        got, (true, pred) = score_dask(model, data, X_train, y_train, X_test, y_test, seed=0)
    test = held_out(np.arange(3000), 0.5, 0)
    ref = fit._scores(data, model.predict(X[~test]), model.predict(X[test]), y[~test], y[test])
    assert got.keys() == ref.keys()
    for name in ref:
        assert got[name] == pytest.approx(ref[name], rel=1e-9), name
    # the figure's sample: SHOWN held-out rows, in the target's units, true beside predicted
    assert len(true) == len(pred) == 1000 < test.sum()
    rows = np.isin(y[test] * 250.0 + 1e4, true)
    assert rows.sum() == 1000
    np.testing.assert_allclose(pred, model.predict(X[test][rows]) * 250.0 + 1e4, rtol=1e-12)


def _nbytes(value):
    """The bytes of a computed result: arrays, pandas objects, containers of them, scalars."""
    if isinstance(value, (list, tuple, set)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (pd.Series, pd.DataFrame, pd.Index)):
        return int(np.sum(value.memory_usage(deep=True)))
    return int(getattr(value, "nbytes", 8))


@pytest.fixture
def driver_results(monkeypatch):
    """The sizes of everything that ``compute`` (of any collection, by any path) and the
    distributed client's ``gather`` bring back to the driver."""
    sizes = []
    real_compute, real_gather = dask.base.compute, distributed.Client.gather

    def compute(*args, **kwargs):
        results = real_compute(*args, **kwargs)
        sizes.append(_nbytes(results))
        return results

    def gather(self, *args, **kwargs):
        results = real_gather(self, *args, **kwargs)
        if not kwargs.get("asynchronous") and not getattr(self, "asynchronous", False):
            sizes.append(_nbytes(results))
        return results
    monkeypatch.setattr(dask.base, "compute", compute)
    monkeypatch.setattr(dask, "compute", compute)
    monkeypatch.setattr(distributed.Client, "gather", gather)
    return sizes


@pytest.mark.parametrize("target, drop", [("label", "price"), ("price", "label")])
def test_gradkit_fit_dask_brings_nothing_the_size_of_the_data_to_the_driver(
        gradkit, tmp_path, address, driver_results, target, drop):
    """The largest thing the command materialises on the driver, at 6,000 and at 30,000 rows
    in the same number of partitions: the same size (the bounded samples of the figures),
    well under one column of the larger table (240 KB)."""
    rng = np.random.default_rng(0)
    largest = {}
    for n in (6_000, 30_000):
        a, b = rng.normal(size=n), rng.normal(size=n)
        colour = rng.choice(["red", "green", "blue"], n)
        frame = pd.DataFrame({"a": a, "b": b, "colour": colour, "price": a - b,
                              "label": np.where(a + b > 0, "yes", "no")})
        csv = tmp_path / f"rows{n}.csv"
        frame.to_csv(csv, index=False)
        blocksize = os.path.getsize(csv) // 8 + 1  # 8 partitions at both sizes
        driver_results.clear()
        status, out, err = gradkit("fit", csv, "--target", target, "--drop", drop, "--dask",
                                   address, "--blocksize", blocksize, "--epochs", "10",
                                   "--report", f"r{n}.html")
        assert status == 0, err
        assert driver_results, "nothing was computed: the counter is not in the path"
        largest[n] = max(driver_results)
    assert largest[30_000] <= 64 * 1024, largest
    assert largest[30_000] <= 1.05 * largest[6_000], largest


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


def test_sigint_to_gradkit_fit_dask_writes_the_model_and_the_report_and_exits_130(table):
    """Ctrl-C during ``gradkit fit --dask`` (its own local cluster): the fit stops, the scores
    are computed on the cluster, the model and report are written, the cluster is closed."""
    from tests.cli.test_interrupt import interrupted_fit

    out, last = interrupted_fit(
        ["fit", str(table / "data.csv"), "--target", "label", "--drop", "price", "--dask",
         "--blocksize", "4KB", "--optimizer", "adam", "--lr", "1e-4", "--batch-size", "16",
         "--epochs", "100000", "--report", "r.html", "--save", "m.npz"], table, timeout=180)
    assert "the model and the report hold the parameters so far" in last, last
    assert b"stopped: interrupted" in out and b"held-out accuracy" in out
    model = load(str(table / "m.npz"))
    assert model.predict(np.zeros((2, model.n_features_in_))).shape == (2,)
    assert "Interrupted (Ctrl-C) after" in (table / "r.html").read_text()


@pytest.mark.parametrize("case", ["text identifier", "integer target"])
def test_many_distinct_values_are_counted_on_the_workers(gradkit, tmp_path, address,
                                                         driver_results, case):
    """A text column with a value per row (an error: too many categories) and an integer
    target with thousands of values (a regression target): the NumPy path's answer, with at
    most a few values per partition on the driver."""
    rng = np.random.default_rng(1)
    largest = {}
    for n in (6_000, 30_000):
        a = rng.normal(size=n)
        frame = pd.DataFrame({"a": a, "b": rng.normal(size=n),
                              "price": np.round(1000 * a + 5000).astype(int)})
        if case == "text identifier":
            frame["id"] = [f"row-{i}" for i in rng.permutation(n)]
        csv = tmp_path / f"rows{n}.csv"
        frame.to_csv(csv, index=False)
        args = ("fit", csv, "--target", "price", "--epochs", "5", "--report", f"r{n}.html")
        status, ref, ref_err = gradkit(*args)
        driver_results.clear()
        status_dask, out, err = gradkit(*args, "--dask", address, "--blocksize",
                                        os.path.getsize(csv) // 8 + 1)
        largest[n] = max(driver_results)
        assert status_dask == status
        if case == "text identifier":
            assert status == 2 and err == ref_err
            assert f"text column 'id' has {n} distinct values" in err
        else:
            assert status == 0, err
            assert "LinearRegression" in out and "held-out R2" in out
    assert largest[30_000] <= 64 * 1024, largest
    assert largest[30_000] <= 1.05 * largest[6_000], largest


@pytest.mark.parametrize("rows, target", [(0, "label"), (300, "colour_is")],
                         ids=["header only", "one class"])
def test_bad_tables_get_the_numpy_paths_error(gradkit, table, address, rows, target):
    frame = pd.read_csv(table / "data.csv").iloc[:rows].assign(colour_is="red")
    frame.to_csv(table / "bad.csv", index=False)
    status, _, ref = gradkit("fit", table / "bad.csv", "--target", target)
    status_dask, _, err = gradkit("fit", table / "bad.csv", "--target", target, "--dask",
                                  address)
    assert status == status_dask == 2
    assert err == ref and err.count("\n") == 1


def test_a_column_that_turns_to_text_in_a_later_block_is_a_one_line_error(gradkit, table,
                                                                          address):
    frame = pd.read_csv(table / "data.csv")
    frame["a"] = frame["a"].astype(object)
    frame.loc[290, "a"] = "abc"  # the first block says numbers; the last holds text
    frame.to_csv(table / "late.csv", index=False)
    status, out, err = gradkit("fit", table / "late.csv", "--target", "label", "--dask",
                               address, "--blocksize", "2KB")
    assert status == 2 and out == "" and err.count("\n") == 1, err
    assert "column 'a' holds numbers in the first block" in err and "--drop 'a'" in err
    assert "unexpected" not in err


def test_a_malformed_row_in_a_later_block_is_a_one_line_error(gradkit, table, address):
    lines = (table / "data.csv").read_text().splitlines()
    lines.insert(280, "1,2,3,4,5,6,7,8")  # more cells than the header has
    (table / "ragged.csv").write_text("\n".join(lines) + "\n")
    status, out, err = gradkit("fit", table / "ragged.csv", "--target", "label", "--dask",
                               address, "--blocksize", "2KB")
    assert status == 2 and out == "" and err.count("\n") == 1, err
    assert "cannot read the file as a CSV table" in err and "Expected 5 fields" in err
    assert "unexpected" not in err
