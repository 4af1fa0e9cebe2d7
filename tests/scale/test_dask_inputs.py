"""Dask inputs are checked like NumPy inputs, block by block where they live, and fitting
brings to the driver nothing whose size grows with the number of rows."""
import re
import threading
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

import dask  # noqa: E402
import dask.base  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from gradkit.models import (LinearRegression, LogisticRegression, MLPClassifier,  # noqa: E402
                            MLPRegressor)
from gradkit.models.callbacks import Callback  # noqa: E402


def _xy(n=400, d=3, chunk=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X @ np.arange(1.0, d + 1) > 0).astype(float)
    return X, y, da.from_array(X, chunks=(chunk, d)), da.from_array(y, chunks=chunk)


def _lazy(y):
    return da.from_array(y, chunks=100)


def _with(a, row, value, chunk=100):
    a = a.copy()
    a[row] = value
    return da.from_array(a, chunks=(chunk,) + a.shape[1:])


@pytest.mark.parametrize("est", [LogisticRegression(), LinearRegression(),
                                 LogisticRegression(optimizer="adam", max_iter=2)],
                         ids=["logistic-lbfgs", "linear-lbfgs", "logistic-adam"])
@pytest.mark.parametrize("where, value, words", [
    ("X", np.nan, "Input X contains NaN, first in block 2 (rows from 200)"),
    ("X", np.inf, "Input X contains infinity, first in block 2 (rows from 200)"),
    ("X", -np.inf, "Input X contains infinity, first in block 2"),
    ("y", np.nan, "Input y contains NaN, first in block 2 (rows from 200)"),
])
def test_nan_and_inf_are_refused_naming_the_array_and_block(est, where, value, words):
    X, y, Xd, yd = _xy()
    if where == "X":
        Xd = _with(X, 250, value)
    else:
        yd = _with(y, 250, value)
    with pytest.raises(ValueError) as info:
        est.fit(Xd, yd)
    assert words in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("make, error, words", [
    (lambda X, y: (da.from_array(X.astype(str), chunks=(100, 3)), y), TypeError,
     "X has dtype <U"),
    (lambda X, y: (da.from_array(X.astype(complex), chunks=(100, 3)), y), TypeError,
     "real numbers"),
    (lambda X, y: (da.from_array(X[:, :, None], chunks=(100, 3, 1)), y), ValueError,
     "X must be 2-D"),
    (lambda X, y: (da.from_array(X, chunks=(100, 3)), y[:, None, None]), ValueError,
     "y must be 1-D"),
    (lambda X, y: (da.from_array(X, chunks=(100, 3)), _lazy(y)[_lazy(y) > -1]), ValueError,
     "y has unknown chunk sizes"),
    (lambda X, y: (da.from_array(X[:0], chunks=(100, 3)), y[:0]), ValueError,
     "at least one row"),
    (lambda X, y: (da.from_array(X, chunks=(100, 3)), y[:300]), ValueError,
     "inconsistent numbers of samples: X has 400 rows and y 300"),
    (lambda X, y: (dd.from_pandas(pd.DataFrame(X), npartitions=4), y), TypeError,
     "X is a Dask DataFrame. Convert it with X.to_dask_array(lengths=True)"),
    (lambda X, y: (da.from_array(X, chunks=(100, 3)),
                   dd.from_pandas(pd.Series(y), npartitions=4)), TypeError,
     "y is a Dask Series. Convert it with y.to_dask_array(lengths=True)"),
])
def test_dtypes_shapes_and_chunks_are_checked_before_any_work(make, error, words):
    X, y, _, _ = _xy()
    Xd, y_in = make(X, y)
    if isinstance(y_in, np.ndarray):
        y_in = _lazy(y_in)
    with pytest.raises(error, match=re.escape(words)):
        LinearRegression().fit(Xd, y_in)


def test_integers_and_booleans_are_taken_as_numbers():
    X, y, _, yd = _xy()
    est = LinearRegression().fit(da.from_array((X > 0).astype(int), chunks=(100, 3)), yd)
    ref = LinearRegression().fit((X > 0).astype(float), y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9)


class _DriverResults:
    """Every array a ``compute`` brings back to the driver, by its size in bytes."""

    def __init__(self, monkeypatch):
        self.sizes = []
        real = dask.base.compute

        def compute(*args, **kwargs):
            results = real(*args, **kwargs)
            for r in results if isinstance(results, tuple) else (results,):
                self.sizes.append(int(getattr(np.asarray(r, dtype=object)
                                              if isinstance(r, (list, tuple)) else r,
                                              "nbytes", 8)))
            return results
        monkeypatch.setattr(dask.base, "compute", compute)
        monkeypatch.setattr(dask, "compute", compute)


@pytest.mark.parametrize("est", [LogisticRegression(max_iter=20),
                                 LogisticRegression(optimizer="sgd", batch_size=64,
                                                    max_iter=2),
                                 MLPRegressor(hidden_layer_sizes=(4,), optimizer="lbfgs",
                                              max_iter=10)],
                         ids=["lbfgs", "sgd", "mlp-lbfgs"])
def test_nothing_the_size_of_the_data_comes_back_to_the_driver(monkeypatch, est):
    largest = {}
    for n in (4_000, 40_000):
        X, y, Xd, yd = _xy(n=n, d=5, chunk=n // 8)
        Xd, yd = dask.persist(Xd, yd)
        seen = _DriverResults(monkeypatch)
        with dask.config.set(scheduler="sync"):
            est.fit(Xd, yd)
        assert seen.sizes, "fit computed nothing: the counter is not in the path"
        largest[n] = max(seen.sizes)
        monkeypatch.undo()
    # the 256 rows kept for feature_importances_ (5 features) are the largest piece at both
    # sizes; a column of X (32 KB / 320 KB) or y would be caught
    assert largest[40_000] <= 256 * 5 * 8 + 1024, largest
    assert largest[40_000] == largest[4_000], largest


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("cls", [MLPRegressor, MLPClassifier])
def test_the_dask_path_takes_the_numpy_paths_steps(cls):
    """What the documentation promises: the same iterates to 1e-10 over 20 L-BFGS
    iterations (an MLP's longer runs drift apart by the amplified rounding, documented)."""
    X, y, Xd, yd = _xy(n=1200, d=6, chunk=300)
    if cls is MLPRegressor:
        y, yd = X[:, 0] * X[:, 1], Xd[:, 0] * Xd[:, 1]
    settings = {"hidden_layer_sizes": (8,), "optimizer": "lbfgs", "random_state": 0,
                "max_iter": 20}
    with dask.config.set(scheduler="sync"):
        ref = cls(**settings).fit(X, y)
        got = cls(**settings).fit(Xd, yd)
    assert got.n_iter_ == ref.n_iter_ == 20
    for a, b in zip(ref.coefs_ + ref.intercepts_, got.coefs_ + got.intercepts_):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-10)


class _Locked(Callback):
    """A callback holding what cannot be pickled (as a progress bar or a log file may)."""

    def __init__(self):
        self.lock, self.epochs = threading.Lock(), 0

    def on_epoch_end(self, info):
        with self.lock:
            self.epochs += 1


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                           dashboard_address=None, memory_limit="1GiB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.mark.parametrize("est", [LogisticRegression(max_iter=5),
                                 LogisticRegression(optimizer="sgd", batch_size=64,
                                                    max_iter=2)], ids=["lbfgs", "sgd"])
def test_callbacks_stay_on_the_driver(client, est):
    """The blocks' tasks are serialised for the cluster: a callback that cannot be pickled
    must not be in them (it runs on the driver)."""
    X, y, Xd, yd = _xy()
    callback = _Locked()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.set_params(callbacks=[callback]).fit(Xd, yd)
    assert callback.epochs == est.n_iter_ > 0
    assert est.callbacks == [callback]  # the estimator itself keeps them



@pytest.mark.parametrize("make, extra", [
    (lambda: LogisticRegression(optimizer="sgd"), {"classes": [0.0, 1.0]}),
    (lambda: LinearRegression(optimizer="sgd"), {})])
def test_partial_fit_refuses_a_dask_batch_instead_of_gathering_it(make, extra):
    """partial_fit trains on one batch in memory: a Dask X (or y) would come to the driver
    whole; the error says what to do, and nothing is computed."""
    X, y, Xd, yd = _xy()
    computed = []
    with dask.config.set(scheduler=lambda dsk, keys, **kw: computed.append(keys)):
        for args in ((Xd, y), (X, yd)):
            with pytest.raises(TypeError, match="partial_fit takes NumPy arrays.*block by block"):
                make().partial_fit(*args, **extra)
    assert computed == []
    make().partial_fit(X, y, **extra)  # a NumPy batch still works


@pytest.mark.parametrize("est", [LogisticRegression(), LinearRegression(),
                                 MLPClassifier(hidden_layer_sizes=(4,), max_iter=3),
                                 LogisticRegression(max_iter=20)])
def test_predictions_of_a_dask_array_are_lazy_and_block_by_block(est):
    """predict / predict_proba / decision_function of a Dask X: a Dask array, computed one
    block at a time (nothing is gathered when it is made), equal to the NumPy results."""
    X, y, Xd, _ = _xy(n=400, d=3, chunk=100)
    if isinstance(est, LogisticRegression) and est.max_iter == 20:
        y = np.arange(400) % 3  # three classes: 2-D scores
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    computed = []
    for method in ("predict", "predict_proba", "decision_function"):
        if not hasattr(est, method):
            continue
        with dask.config.set(scheduler=lambda dsk, keys, **kw: computed.append(keys)):
            lazy = getattr(est, method)(Xd)
        assert computed == [] and isinstance(lazy, da.Array) and lazy.numblocks[0] == 4
        np.testing.assert_array_equal(lazy.compute(scheduler="sync"), getattr(est, method)(X))
    with pytest.raises(ValueError, match="2-D Dask array of 3 columns"):
        est.predict(da.from_array(np.ones((10, 2)), chunks=5))
