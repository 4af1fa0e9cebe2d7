"""Dask: blockwise objectives, mini-batches from blocks and estimators on a LocalCluster equal the NumPy path."""
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

import dask  # noqa: E402
import gradkit as gk  # noqa: E402
from gradkit.data.distributed import dask_batches  # noqa: E402
from gradkit.models import LinearRegression, LogisticRegression  # noqa: E402
from gradkit.optim import blockwise_objective  # noqa: E402

N, D, CHUNK = 1200, 6, 300


# module-level, so process workers unpickle them by reference
def logistic_loss(w, X, y):
    return np.sum(np.logaddexp(0.0, -y * (X @ w)))


def ridge(w):
    return 0.5 * 0.1 * (w @ w)


def block_sized_loss(w, X, y):
    """The logistic loss, refusing more rows than one block: proves nothing is concatenated."""
    if X.shape[0] > CHUNK:
        raise AssertionError(f"a task saw {X.shape[0]} rows, more than one block ({CHUNK})")
    return logistic_loss(w, X, y)


def linear_model(w, X):
    return X @ w


def logistic_nll(z, y):
    """The logistic loss as a function of the model's outputs (for the Fisher)."""
    return np.sum(np.logaddexp(0.0, -y * z))


def pytree_loss(p, X, y):
    return np.sum(np.logaddexp(0.0, -y * (X @ p["w"] + p["b"])))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D))
    w_true = rng.normal(size=D)
    y = np.where(X @ w_true + 0.5 * rng.normal(size=N) > 0, 1.0, -1.0)
    Xd = da.from_array(X, chunks=(CHUNK, D)).persist()
    yd = da.from_array(y, chunks=CHUNK).persist()
    return X, y, Xd, yd


@pytest.fixture(scope="module", params=["threads", "processes"])
def client(request):
    processes = request.param == "processes"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2 if processes else 1,
                                           threads_per_worker=1 if processes else 2,
                                           processes=processes, dashboard_address=None,
                                           memory_limit="1GiB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _dask_data(data, client):
    X, y, _, _ = data
    Xd, yd = da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK)
    return client.persist(Xd), client.persist(yd)


# ------------------------------------------------------------------- the blockwise objective
@pytest.mark.parametrize("method", ["lbfgs", "newton-cg"])
def test_dask_solve_equals_numpy_solve_on_local_cluster(data, client, method):
    X, y, _, _ = data
    Xd, yd = _dask_data(data, client)
    ref = gk.minimize(blockwise_objective(logistic_loss, X, y, ridge), np.zeros(D),
                      method=method, tol=1e-9)
    res = gk.minimize(blockwise_objective(block_sized_loss, Xd, yd, ridge), np.zeros(D),
                      method=method, tol=1e-9)
    assert ref.success and res.success
    assert res.nit == ref.nit and res.nfev == ref.nfev and res.nhev == ref.nhev
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.history["f"], ref.history["f"], rtol=1e-12)


def test_dask_values_gradients_and_hvps_equal_numpy(data, client):
    X, y, _, _ = data
    Xd, yd = _dask_data(data, client)
    w, v = np.linspace(-1, 1, D), np.arange(1.0, D + 1)
    num = blockwise_objective(logistic_loss, X, y, ridge)
    dsk = blockwise_objective(logistic_loss, Xd, yd, ridge)
    f0, g0 = num.value_and_grad(w)
    f1, g1 = dsk.value_and_grad(w)
    assert f1 == pytest.approx(f0, rel=1e-13)
    np.testing.assert_allclose(g1, g0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dsk.hvp(w, v), num.hvp(w, v), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dsk.hess(w), num.hess(w), rtol=1e-12, atol=1e-12)
    assert dsk.n_blocks == N // CHUNK
    # the sum runs in block order: the same w gives the same bits every time
    assert dsk.value_and_grad(w)[0] == f1


def test_blockwise_objective_matches_a_plain_closure_on_numpy(data):
    X, y, _, _ = data
    closure = gk.minimize(lambda w: logistic_loss(w, X, y) + ridge(w), np.zeros(D))
    obj = gk.minimize(blockwise_objective(logistic_loss, X, y, ridge), np.zeros(D))
    np.testing.assert_array_equal(obj.x, closure.x)


@pytest.mark.parametrize("method,options", [("gd", {}), ("bfgs", {}), ("newton", {}),
                                            ("proximal", {"l1": 1.0})])
def test_every_full_batch_method_accepts_a_dask_objective(data, method, options):
    X, y, Xd, yd = data
    # tol 1e-8: the Dask sums run block by block, so the two paths round differently and
    # agree to about the stopping tolerance, not bit for bit (1e-5 left gd 3e-6 apart)
    ref = gk.minimize(blockwise_objective(logistic_loss, X, y, ridge), np.zeros(D),
                      method=method, tol=1e-8, **options)
    with dask.config.set(scheduler="threads"):  # the local scheduler: fast for many calls
        res = gk.minimize(blockwise_objective(logistic_loss, Xd, yd, ridge), np.zeros(D),
                          method=method, tol=1e-8, **options)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)


def test_pytree_parameters_are_summed_leaf_by_leaf(data):
    X, y, Xd, yd = data
    p0 = {"w": np.zeros(D), "b": np.zeros(())}
    ref = gk.minimize(blockwise_objective(pytree_loss, X, y), p0, method="lbfgs")
    res = gk.minimize(blockwise_objective(pytree_loss, Xd, yd), p0, method="lbfgs")
    np.testing.assert_allclose(res.x["w"], ref.x["w"], atol=1e-8)
    np.testing.assert_allclose(res.x["b"], ref.x["b"], atol=1e-8)


# ------------------------------------------------------------------------ natural gradient
def test_natural_gradient_on_dask_equals_numpy_on_local_cluster(data, client):
    X, y, _, _ = data
    Xd, yd = _dask_data(data, client)
    opts = dict(method="natural", tol=1e-9, damping=0.1)  # damping = the ridge's curvature
    ref = gk.minimize(lambda w: logistic_loss(w, X, y) + ridge(w), np.zeros(D),
                      model=lambda w: X @ w, loss=lambda z: logistic_nll(z, y), **opts)
    obj = blockwise_objective(logistic_nll, Xd, yd, ridge, model=linear_model)
    res = gk.minimize(obj, np.zeros(D), **opts)
    assert ref.success and res.success, res.message
    assert res.nit == ref.nit and res.nhev == ref.nhev
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=1e-8)


def test_dask_fisher_vector_products_equal_numpy(data):
    X, y, Xd, yd = data
    w, v = np.linspace(-1, 1, D), np.arange(1.0, D + 1)
    full = gk.optim.fisher_vector_product(lambda p: X @ p, lambda z: logistic_nll(z, y), w)(v)
    num = blockwise_objective(logistic_nll, X, y, ridge, model=linear_model)
    dsk = blockwise_objective(logistic_nll, Xd, yd, ridge, model=linear_model)
    with dask.config.set(scheduler="threads"):
        np.testing.assert_allclose(dsk.fvp(w, v), full, rtol=1e-12)
        # the model= form is the same objective as the loss(w, X, y) form
        f, g = dsk.value_and_grad(w)
        f0, g0 = blockwise_objective(logistic_loss, Xd, yd, ridge).value_and_grad(w)
    np.testing.assert_allclose(num.fvp(w, v), full, rtol=1e-12)
    assert f == pytest.approx(f0, rel=1e-13)
    np.testing.assert_allclose(g, g0, rtol=1e-12)
    assert blockwise_objective(logistic_loss, Xd, yd).fvp is None


@pytest.mark.parametrize("build,options,match", [
    (lambda Xd, yd: blockwise_objective(logistic_loss, Xd, yd), {}, "model=model"),
    (lambda Xd, yd: blockwise_objective(logistic_loss, Xd, yd),
     {"model": lambda w: w, "loss": lambda z: z @ z}, "model=model"),
    (lambda Xd, yd: blockwise_objective(logistic_nll, Xd, yd, model=linear_model),
     {"model": lambda w: w, "loss": lambda z: z @ z}, "one way"),
])
def test_natural_gradient_on_dask_says_how_to_give_the_fisher(data, build, options, match):
    _, _, Xd, yd = data
    with pytest.raises(ValueError, match=match):
        gk.minimize(build(Xd, yd), np.zeros(D), method="natural", **options)


@pytest.mark.parametrize("make,match", [
    (lambda X, y: (da.from_array(X, chunks=(CHUNK, D)), y), "y must be one too"),
    (lambda X, y: (X, da.from_array(y, chunks=CHUNK)), "both as Dask"),
    (lambda X, y: (da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=200)),
     "same row chunks"),
    (lambda X, y: (da.from_array(X, chunks=(CHUNK, 3)), da.from_array(y, chunks=CHUNK)),
     "rows only"),
])
def test_mismatched_blocks_are_refused_with_a_fix(data, make, match):
    X, y, _, _ = data
    with pytest.raises((TypeError, ValueError), match=match):
        blockwise_objective(logistic_loss, *make(X, y))


# ------------------------------------------------------------------ mini-batches from blocks
def test_dask_batches_draw_each_batch_from_one_block():
    n = 1000
    X = da.from_array(np.arange(2.0 * n).reshape(n, 2), chunks=(100, 2))
    y = da.from_array(np.arange(n), chunks=100)
    with dask.config.set(scheduler="sync"):
        got = list(dask_batches(X, y, 32, rng=0))
    assert len(got) == -(-n // 32)
    for xb, yb in got:
        assert isinstance(xb, np.ndarray) and xb.shape == (32, 2)
        np.testing.assert_array_equal(xb[:, 0], 2.0 * yb)  # rows stay paired with targets
        assert len(set(yb // 100)) == 1  # one block
        assert len(set(yb)) == 32  # no repeats within a batch


def test_dask_batches_are_reproducible_and_sample_blocks_by_size():
    sizes = (100, 300, 600)
    X = da.from_array(np.zeros((1000, 1)), chunks=(sizes, 1))
    y = da.from_array(np.arange(1000), chunks=(sizes,))
    with dask.config.set(scheduler="sync"):
        a = [yb for _, yb in dask_batches(X, y, 10, rng=3, n_batches=20)]
        b = [yb for _, yb in dask_batches(X, y, 10, rng=3, n_batches=20)]
        assert all(np.array_equal(p, q) for p, q in zip(a, b))
        blocks = np.array([np.searchsorted(np.cumsum(sizes), yb[0], side="right")
                           for _, yb in dask_batches(X, y, 10, rng=1, n_batches=600)])
    share = np.bincount(blocks, minlength=3) / len(blocks)
    np.testing.assert_allclose(share, np.array(sizes) / 1000, atol=0.06)


def test_dask_batches_refuse_numpy_and_mismatched_chunks():
    with pytest.raises(TypeError, match="gradkit.data.batches"):
        next(dask_batches(np.zeros((4, 2)), None, 2))
    X = da.zeros((10, 2), chunks=(5, 2))
    with pytest.raises(ValueError, match="same row chunks"):
        next(dask_batches(X, da.zeros(10, chunks=4), 2))


# ------------------------------------------------------------------------------ estimators
@pytest.mark.parametrize("optimizer", ["lbfgs", "newton-cg", "newton"])
def test_logistic_regression_on_dask_equals_numpy_fit(data, client, optimizer):
    X, y, _, _ = data
    Xd, yd = _dask_data(data, client)
    ref = LogisticRegression(optimizer=optimizer, tol=1e-9, alpha=1.0).fit(X, y)
    est = LogisticRegression(optimizer=optimizer, tol=1e-9, alpha=1.0).fit(Xd, yd)
    assert est.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, atol=1e-8)
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    assert est.n_features_in_ == D


def test_multinomial_and_linear_regression_on_dask_equal_numpy(data):
    X, _, Xd, _ = data
    rng = np.random.default_rng(1)  # Dask's local scheduler, or a cluster left active
    y3 = rng.integers(0, 3, N)
    ref = LogisticRegression(tol=1e-9).fit(X, y3)
    est = LogisticRegression(tol=1e-9).fit(Xd, da.from_array(y3, chunks=CHUNK))
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
    yr = X @ np.arange(1.0, D + 1) + rng.normal(size=N)
    ref = LinearRegression(tol=1e-9).fit(X, yr)
    est = LinearRegression(tol=1e-9).fit(Xd, da.from_array(yr, chunks=CHUNK))
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
    # Newton's Hessian of the multinomial's parameters (a matrix and a vector), block by block
    ref = LogisticRegression(optimizer="newton", tol=1e-9).fit(X, y3)
    est = LogisticRegression(optimizer="newton", tol=1e-9).fit(Xd, da.from_array(y3, chunks=CHUNK))
    # (the last step may fall either side of tol: the sums differ in their last bits)
    assert est.stop_reason_ == ref.stop_reason_ == "converged"
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)


def test_minibatch_optimizer_on_dask_learns_from_block_batches(data):
    X, y, Xd, yd = data
    with warnings.catch_warnings(), dask.config.set(scheduler="sync"):
        warnings.simplefilter("ignore")
        est = LogisticRegression(optimizer="adam", batch_size=50, max_iter=5,
                                 learning_rate=0.05, random_state=0).fit(Xd, yd)
    assert est.n_iter_ == 5 and len(est.loss_curve_) == 5
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    assert est.score(X, y) > 0.85


def test_early_stopping_on_dask_is_refused(data):
    _, _, Xd, yd = data
    with pytest.raises(ValueError, match="early_stopping"):
        LogisticRegression(optimizer="adam", early_stopping=True).fit(Xd, yd)
