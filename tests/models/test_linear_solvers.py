"""The linear estimators' solvers: what optimizer="auto" picks, the structured Hessian-vector
product, and Newton's one step on least squares (issue 14)."""
import numpy as np
import pytest
from sklearn.linear_model import Ridge

import gradkit as gk
from gradkit.models import LinearRegression, LinearSVM, LogisticRegression
from gradkit.tree import ravel_pytree

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(3)
X = RNG.standard_normal((300, 5)) * np.array([1.0, 3.0, 0.2, 1.0, 10.0]) + 2.0
SIGNAL = X @ np.array([1.5, -0.5, 2.0, 0.0, 0.1]) + 4.0
Y = SIGNAL + RNG.standard_normal(300)
LABELS = (SIGNAL + RNG.standard_normal(300) > np.median(SIGNAL)).astype(int)
THREE = np.digitize(SIGNAL + RNG.standard_normal(300), np.quantile(SIGNAL, [0.33, 0.66]))
WEIGHTS = RNG.uniform(0.0, 3.0, 300)


# ------------------------------------------------------------------ what "auto" means
@pytest.mark.parametrize("model, n_features, expected", [
    (LinearRegression(penalty="l2"), 5, "newton"),
    (LinearRegression(penalty="l2", alpha=1e-3), 999, "newton"),   # (999 + 1) * 1 = 1000
    (LinearRegression(penalty="l2"), 1000, "lbfgs"),               # 1001 parameters
    (LinearRegression(penalty="l2", alpha=0.0), 5, "lbfgs"),       # no ridge: H may be singular
    (LinearRegression(), 5, "lbfgs"),
    (LinearRegression(penalty="l2", fit_intercept=False), 5, "lbfgs"),
    (LinearRegression(penalty="l1"), 5, "proximal"),
    (LinearRegression(penalty="elasticnet"), 5, "proximal"),
    (LogisticRegression(), 5, "lbfgs"),
], ids=["ridge", "ridge-1000-parameters", "ridge-1001-parameters", "alpha-0", "no-penalty",
        "no-intercept", "l1", "elasticnet", "logistic"])
def test_auto_picks_newton_where_the_quadratic_is_positive_definite_and_small(
        model, n_features, expected):
    model.n_features_in_, model._n_outputs = n_features, 1  # what fit sets before training
    assert model.optimizer_kind().optimizer == expected


def test_before_the_first_fit_auto_says_newton_for_a_ridge():
    assert LinearRegression(penalty="l2").optimizer_kind().optimizer == "newton"
    assert LinearRegression().optimizer_kind().optimizer == "lbfgs"


def test_auto_counts_every_target_in_the_parameters():
    model = LinearRegression(penalty="l2")
    model.n_features_in_, model._n_outputs = 499, 2       # 1000 parameters
    assert model.optimizer_kind().optimizer == "newton"
    model._n_outputs = 3                                  # 1500
    assert model.optimizer_kind().optimizer == "lbfgs"


def test_the_docstring_states_the_rule():
    doc = LinearRegression.__doc__
    assert "NEWTON_MAX_PARAMETERS = 1000" in doc and "H = Z^T Z / n + (alpha / n) I_coef" in doc
    assert LinearRegression.NEWTON_MAX_PARAMETERS == 1000


@pytest.mark.parametrize("targets", ["one", "two"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_auto_ridge_is_one_newton_step_onto_scikit_learns_ridge(targets, weighted):
    y = Y if targets == "one" else np.column_stack([Y, -2.0 * Y + SIGNAL])
    w = WEIGHTS if weighted else None
    ours = LinearRegression(penalty="l2", alpha=3.0).fit(X, y, sample_weight=w)
    ref = Ridge(alpha=3.0).fit(X, y, sample_weight=w)
    assert ours.optimizer_kind().optimizer == "newton"
    assert ours.n_iter_ == 1 and ours.stop_reason_ == "converged"
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9, atol=1e-10)


def test_auto_ridge_reaches_the_lbfgs_minimizer():
    a = LinearRegression(penalty="l2", alpha=3.0).fit(X, Y)
    b = LinearRegression(penalty="l2", alpha=3.0, optimizer="lbfgs", tol=1e-10).fit(X, Y)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7)
    assert abs(a.score(X, Y) - b.score(X, Y)) < 1e-10


def test_the_least_squares_hessian_is_built_once_per_fit():
    est = LinearRegression(penalty="l2", alpha=2.0).fit(X, Y)
    T = est._prepare_targets(Y, fitting=False)
    hess = est._hessian_function(X, T, len(X))
    params = est.params_
    other = {k: v + 1.0 for k, v in params.items()}
    H = hess(params)
    assert hess(other) is H  # the same matrix: least squares' curvature is constant
    flat, unravel = ravel_pytree(params)
    engine = gk.hessian(lambda v: est._objective(unravel(v), {}, X, T, len(X), None,
                                                 train=True)[0])(flat)
    np.testing.assert_allclose(H, engine, rtol=0, atol=1e-13 * np.abs(engine).max())


# ------------------------------------------------------------------ Hessian-vector products
HVP_CASES = [
    (lambda: LogisticRegression(optimizer="newton-cg"), LABELS, None),
    (lambda: LogisticRegression(optimizer="newton-cg", penalty=None), LABELS, None),
    (lambda: LogisticRegression(optimizer="newton-cg", fit_intercept=False), LABELS, None),
    (lambda: LogisticRegression(optimizer="newton-cg", alpha=3.0), THREE, None),
    (lambda: LogisticRegression(optimizer="newton-cg"), THREE, WEIGHTS),
    (lambda: LinearRegression(optimizer="newton-cg", penalty="l2", alpha=3.0), Y, WEIGHTS),
    (lambda: LinearRegression(optimizer="newton-cg"),
     np.column_stack([Y, SIGNAL - Y]), None),
]
HVP_IDS = ["binary", "binary-no-penalty", "binary-no-intercept", "multinomial",
           "multinomial-weighted", "ridge-weighted", "least-squares-two-targets"]


@pytest.mark.parametrize("make, y, w", HVP_CASES, ids=HVP_IDS)
def test_the_structured_hvp_equals_the_engines(make, y, w):
    est = make().fit(X, y, sample_weight=w)
    T = est._prepare_targets(y, fitting=False)
    s = None if w is None else w / w.mean()
    n_penalty = len(X) if w is None else float(np.sum(s))
    params = {k: v + 0.1 * RNG.standard_normal(v.shape) for k, v in est.params_.items()}
    flat, unravel = ravel_pytree(params)

    def J(v):
        return est._objective(unravel(v), {}, X, T, n_penalty, None, train=True, w=s)[0]

    hvp = est._hvp_function(X, T, len(X)) if w is None else \
        est._hvp_function(X, T, len(X), s, n_penalty)
    for _ in range(3):  # repeated products at one point reuse its curvature
        v = RNG.standard_normal(flat.size)
        engine = gk.hvp(J)(flat, v)
        ours = ravel_pytree(hvp(params, unravel(v)))[0]
        np.testing.assert_allclose(ours, engine, rtol=0, atol=1e-13 * np.abs(engine).max())
    moved = {k: v + 0.3 for k, v in params.items()}  # a new point: its own curvature
    v = RNG.standard_normal(flat.size)
    np.testing.assert_allclose(ravel_pytree(hvp(moved, unravel(v)))[0],
                               gk.hvp(J)(ravel_pytree(moved)[0], v), rtol=0,
                               atol=1e-12 * np.abs(gk.hvp(J)(ravel_pytree(moved)[0], v)).max())


def test_models_without_a_known_structure_leave_the_hvp_to_the_engine():
    for est, y in ((LinearSVM(optimizer="newton-cg"), LABELS),
                   (LogisticRegression(optimizer="newton-cg", penalty="l1"), LABELS)):
        est.fit(X[:50], y[:50])
        T = est._prepare_targets(y[:50], fitting=False)
        assert est._hvp_function(X[:50], T, 50) is None


class _EngineHvpLogistic(LogisticRegression):
    def _hvp_function(self, X, T, n, w=None, n_penalty=None):
        return None


def test_newton_cg_fits_are_unchanged_by_the_structured_hvp():
    a = LogisticRegression(optimizer="newton-cg", tol=1e-8).fit(X, LABELS)
    b = _EngineHvpLogistic(optimizer="newton-cg", tol=1e-8).fit(X, LABELS)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=1e-8)


# ------------------------------------------------------------------ Dask
def test_the_least_squares_newton_step_on_dask_blocks_equals_numpys():
    da = pytest.importorskip("dask.array")
    import dask
    Xd, yd = da.from_array(X, chunks=(70, 5)), da.from_array(Y, chunks=70)
    with dask.config.set(scheduler="synchronous"):
        ours = LinearRegression(penalty="l2", alpha=3.0).fit(Xd, yd)
    ref = LinearRegression(penalty="l2", alpha=3.0).fit(X, Y)
    assert ours.n_iter_ == ref.n_iter_ == 1
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10)
