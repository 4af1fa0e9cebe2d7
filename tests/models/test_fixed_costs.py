"""Estimators without fixed costs (issue 14): lazy feature importances, the penalty worked out
once per fit, Newton's structured Hessian, record_every; fitted parameters unchanged."""
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import gradkit as gk
from gradkit.explain import feature_importances
from gradkit.models import (LinearRegression, LinearSVM, LogisticRegression, MLPClassifier,
                            MLPRegressor)
from gradkit.nn import losses
from gradkit.tree import ravel_pytree

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((400, 6))
SIGNAL = X @ np.array([2.0, -1.0, 0.5, 0.0, 0.0, 1.0])
LABELS = (SIGNAL + 0.5 * RNG.standard_normal(400) > 0).astype(int)
THREE = np.digitize(SIGNAL, [-1.0, 1.0])


# ------------------------------------------------------------------ feature_importances_
def _reference_importances(est, X):
    """What fit computed before issue 14, from the same rule (256 evenly spaced rows)."""
    rows = X[np.linspace(0, len(X) - 1, 256).astype(int)] if len(X) > 256 else X
    return feature_importances(est, rows, baseline=X.mean(axis=0), steps=16)


@pytest.mark.parametrize("make, y", [
    (lambda: LogisticRegression(), LABELS),
    (lambda: LinearRegression(), SIGNAL),
    (lambda: MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0), THREE),
], ids=["logistic", "linear", "mlp"])
def test_feature_importances_are_computed_on_first_access_and_equal_the_eager_ones(make, y):
    Xc = X.copy()
    est = make().fit(Xc, y)
    assert "_feature_importances" not in est.__dict__  # fit did not pay for them
    Xc[:] = 0.0  # the rows were copied: changing the user's X after fit changes nothing
    first = est.feature_importances_
    np.testing.assert_array_equal(first, _reference_importances(est, X))
    assert est.feature_importances_ is first  # cached


def test_feature_importances_follow_a_refit_and_are_no_attribute_before_fit():
    est = LinearRegression()
    assert not hasattr(est, "feature_importances_")
    with pytest.raises(NotFittedError):
        est.feature_importances_
    before = est.fit(X, SIGNAL).feature_importances_
    after = est.fit(X[:, ::-1], SIGNAL).feature_importances_
    np.testing.assert_allclose(after, before[::-1], rtol=1e-8)
    np.testing.assert_array_equal(after, _reference_importances(est, X[:, ::-1]))


def test_loaded_estimators_say_why_they_have_no_feature_importances(tmp_path):
    from gradkit.models import load
    path = tmp_path / "m.npz"
    LogisticRegression().fit(X, LABELS).save(path)
    with pytest.raises(AttributeError, match="loaded from a file"):
        load(path).feature_importances_


# ------------------------------------------------------------------ the penalty, once per fit
def _penalty_before(est, params, n, smooth_only=False):
    """GradientEstimator._penalty before issue 14: the mask rebuilt at every call."""
    if est.penalty is None or est.alpha == 0:
        return 0.0
    w = losses.penalized_leaves(params)
    if est.penalty == "l2":
        R = losses.l2(w)
    elif smooth_only:
        R = (1.0 - est.l1_ratio) * losses.l2(w) if est.penalty == "elasticnet" else 0.0
    elif est.penalty == "l1":
        R = losses.l1(w)
    else:
        R = losses.elastic_net(w, 1.0, est.l1_ratio)
    return R * (est.alpha / n)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
@pytest.mark.parametrize("l1_ratio", [0, 0.3, 1])
@pytest.mark.parametrize("smooth_only", [False, True])
def test_the_penalty_and_its_gradient_are_bit_identical_to_before(penalty, l1_ratio,
                                                                  smooth_only):
    est = LogisticRegression(penalty=penalty, alpha=0.7, l1_ratio=l1_ratio)
    params = {"coef": RNG.normal(size=(5, 2)), "intercept": RNG.normal(size=2)}

    def with_data(pen):  # + a data term so that every gradient leaf is traced
        return lambda p: pen(p) + 0.5 * np.sum(p["coef"] ** 2) + np.sum(p["intercept"])

    f_new, g_new = gk.value_and_grad(with_data(lambda p: est._penalty(p, 13, smooth_only)))(
        params)
    f_old, g_old = gk.value_and_grad(with_data(
        lambda p: _penalty_before(est, p, 13, smooth_only)))(params)
    assert float(f_new) == float(f_old)
    for key in params:
        np.testing.assert_array_equal(g_new[key], g_old[key])


class _EngineGradient:
    """The engine's gradient of ``_objective`` instead of the model's structured one."""

    def _value_and_grad_function(self, n):
        return None


class _EngineLogistic(_EngineGradient, LogisticRegression):
    pass


class _OldPenaltyLogistic(_EngineLogistic):
    def _penalty(self, params, n, smooth_only=False):
        return _penalty_before(self, params, n, smooth_only)


class _OldPenaltyMLP(MLPClassifier):
    def _penalty(self, params, n, smooth_only=False):
        return _penalty_before(self, params, n, smooth_only)


@pytest.mark.parametrize("ours, reference, y", [
    (lambda: _EngineLogistic(optimizer="adam", batch_size=32, max_iter=3, random_state=0),
     lambda: _OldPenaltyLogistic(optimizer="adam", batch_size=32, max_iter=3, random_state=0),
     LABELS),
    (lambda: LogisticRegression(penalty="elasticnet", l1_ratio=0.5, optimizer="sgd",
                                batch_size=50, max_iter=3, random_state=0),
     lambda: _OldPenaltyLogistic(penalty="elasticnet", l1_ratio=0.5, optimizer="sgd",
                                 batch_size=50, max_iter=3, random_state=0), LABELS),
    (lambda: _EngineLogistic(), lambda: _OldPenaltyLogistic(), LABELS),
    (lambda: MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
     lambda: _OldPenaltyMLP(hidden_layer_sizes=(8,), max_iter=5, random_state=0), THREE),
], ids=["adam", "sgd-elasticnet", "lbfgs", "mlp"])
def test_fitted_parameters_are_unchanged_by_the_penalty_plan(ours, reference, y):
    a, b = ours().fit(X, y), reference().fit(X, y)
    for leaf_a, leaf_b in zip(gk.tree.tree_leaves(a.params_), gk.tree.tree_leaves(b.params_)):
        np.testing.assert_allclose(leaf_a, leaf_b, rtol=0, atol=1e-10)


# ------------------------------------------------------------------ Newton's Hessian
HESSIAN_CASES = [
    (lambda: LogisticRegression(optimizer="newton"), LABELS),
    (lambda: LogisticRegression(optimizer="newton", penalty=None), LABELS),
    (lambda: LogisticRegression(optimizer="newton", fit_intercept=False), LABELS),
    (lambda: LogisticRegression(optimizer="newton", alpha=3.0), THREE),
    (lambda: LinearRegression(optimizer="newton"), SIGNAL),
    (lambda: LinearRegression(optimizer="newton", penalty="l2", alpha=3.0),
     np.column_stack([SIGNAL, -SIGNAL + RNG.standard_normal(400)])),
]
HESSIAN_IDS = ["binary", "binary-no-penalty", "binary-no-intercept", "multinomial", "least-squares",
               "ridge-two-targets"]


@pytest.mark.parametrize("make, y", HESSIAN_CASES, ids=HESSIAN_IDS)
def test_the_structured_hessian_equals_the_engines(make, y):
    est = make().fit(X, y)
    T = est._prepare_targets(y, fitting=False)
    params = {k: v + 0.1 * RNG.standard_normal(v.shape) for k, v in est.params_.items()}
    flat, unravel = ravel_pytree(params)
    engine = gk.hessian(lambda v: est._objective(unravel(v), {}, X, T, len(X), None,
                                                 train=True)[0])(flat)
    ours = est._hessian_function(X, T, len(X))(params)
    assert ours.shape == engine.shape == (flat.size, flat.size)
    np.testing.assert_allclose(ours, engine, rtol=0, atol=1e-13 * np.abs(engine).max())


@pytest.mark.parametrize("make", [lambda: LinearSVM(optimizer="newton"),
                                  lambda: LogisticRegression(optimizer="newton", penalty="l1"),
                                  lambda: MLPRegressor(optimizer="newton")])
def test_models_without_a_known_structure_leave_the_hessian_to_the_engine(make):
    est = make()
    est.fit(X[:50], LABELS[:50])
    T = est._prepare_targets(LABELS[:50], fitting=False)
    assert est._hessian_function(X[:50], T, 50) is None


class _EngineHessian:
    def _hessian_function(self, X, T, n):
        return None


class _EngineHessianLogistic(_EngineHessian, LogisticRegression):
    pass


class _EngineHessianLinear(_EngineHessian, LinearRegression):
    pass


@pytest.mark.parametrize("ours, reference, y", [
    (LogisticRegression, _EngineHessianLogistic, LABELS),
    (LinearRegression, _EngineHessianLinear, SIGNAL)], ids=["binary", "linear"])
def test_newton_fits_are_unchanged_by_the_structured_hessian(ours, reference, y):
    # the Hessians agree to rounding, so Newton's few steps land on the same point
    a = ours(optimizer="newton").fit(X, y)
    b = reference(optimizer="newton").fit(X, y)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=1e-10)


def test_multinomial_newton_fits_reach_the_same_minimizer():
    # The softmax model's Hessian is singular along "the same constant added to every
    # intercept" (J does not change), so whether Cholesky needs a shift at a step is decided
    # by rounding, and the paths differ from the first step; run to convergence, both reach
    # the one minimizer (coef unique, intercepts up to a common constant).
    a = LogisticRegression(optimizer="newton", tol=1e-10).fit(X, THREE)
    b = _EngineHessianLogistic(optimizer="newton", tol=1e-10).fit(X, THREE)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.intercept_ - a.intercept_.mean(),
                               b.intercept_ - b.intercept_.mean(), rtol=0, atol=1e-10)


# ------------------------------------------------------------------ the structured gradient
GRADIENT_CASES = [
    (lambda: LogisticRegression(), LABELS),
    (lambda: LogisticRegression(fit_intercept=False), LABELS),
    (lambda: LogisticRegression(penalty=None), LABELS),
    (lambda: LogisticRegression(alpha=3.0), THREE),
    (lambda: LinearRegression(), SIGNAL),
    (lambda: LinearRegression(penalty="l2", alpha=3.0, fit_intercept=False),
     np.column_stack([SIGNAL, -SIGNAL])),
]


@pytest.mark.parametrize("make, y", GRADIENT_CASES, ids=[
    "binary", "binary-no-intercept", "binary-no-penalty", "multinomial", "least-squares",
    "ridge-two-targets-no-intercept"])
def test_the_structured_gradient_equals_the_engines_on_a_batch(make, y):
    est = make().fit(X, y)
    T = est._prepare_targets(y, fitting=False)
    params = {k: v + 0.3 * RNG.standard_normal(v.shape) for k, v in est.params_.items()}
    batch = slice(10, 42)
    f_engine, g_engine = gk.value_and_grad(lambda p: est._objective(
        p, {}, X[batch], T[batch], len(X), None, train=True)[0])(params)
    f_ours, g_ours = est._value_and_grad_function(len(X))(params, X[batch], T[batch])
    assert f_ours == pytest.approx(float(f_engine), rel=1e-14)
    for key in params:
        np.testing.assert_allclose(g_ours[key], g_engine[key], rtol=0, atol=1e-15)


@pytest.mark.parametrize("make", [lambda: LogisticRegression(penalty="l1"),
                                  lambda: LogisticRegression(penalty="elasticnet"),
                                  lambda: LinearSVM(), lambda: MLPClassifier()])
def test_no_structured_gradient_without_a_known_structure(make):
    assert make()._value_and_grad_function(100) is None


class _EngineLinear(_EngineGradient, LinearRegression):
    pass


@pytest.mark.parametrize("kw", [{}, {"optimizer": "bfgs"}, {"optimizer": "newton"},
                                {"optimizer": "adam", "batch_size": 32, "max_iter": 3,
                                 "random_state": 0},
                                {"optimizer": "sgd", "batch_size": 32, "max_iter": 3,
                                 "random_state": 0}],
                         ids=["lbfgs", "bfgs", "newton", "adam", "sgd"])
@pytest.mark.parametrize("ours, reference, y", [
    (LogisticRegression, _EngineLogistic, LABELS), (LinearRegression, _EngineLinear, SIGNAL)],
    ids=["logistic", "linear"])
def test_fits_with_the_structured_gradient_equal_the_engines(kw, ours, reference, y):
    # not the same arithmetic (the gradient agrees to rounding), so the paths may part by
    # rounding; on these problems they agree far below the solvers' tolerance
    a, b = ours(**kw).fit(X, y), reference(**kw).fit(X, y)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=1e-10)


# ------------------------------------------------------------------ record_every
def test_record_every_keeps_every_kth_step_and_changes_no_parameter():
    kw = dict(optimizer="adam", batch_size=40, max_iter=3, random_state=0)
    every = LogisticRegression(**kw).fit(X, LABELS)
    fifth = LogisticRegression(**kw, record_every=5).fit(X, LABELS)
    steps = every.history_["step"]
    assert steps == list(range(1, 31))
    assert fifth.history_["step"] == steps[::5]
    assert fifth.history_["loss"] == every.history_["loss"][::5]
    for g in every.history_["grad_norm"]:
        assert fifth.history_["grad_norm"][g] == every.history_["grad_norm"][g][::5]
    np.testing.assert_array_equal(fifth.coef_, every.coef_)
    assert fifth.loss_curve_ == every.loss_curve_


def test_record_every_auto_keeps_about_a_thousand_records_of_a_long_run():
    """"auto" (the default): every step of a short run or of a full-batch method, every
    k-th step of a long run (k = ceil(steps / 1000)); the fit is the same."""
    kw = dict(optimizer="sgd", learning_rate=0.01, batch_size=1, max_iter=3, random_state=0)
    auto, every = LogisticRegression(**kw).fit(X, LABELS), \
        LogisticRegression(**kw, record_every=1).fit(X, LABELS)
    n_steps = 3 * len(X)
    k = -(-n_steps // 1000)
    assert n_steps > 1000 and auto.t_ == every.t_ == n_steps
    assert auto.history_["step"] == list(range(1, n_steps + 1, k))
    assert auto.history_["loss"] == every.history_["loss"][::k]
    np.testing.assert_array_equal(auto.coef_, every.coef_)
    short = LogisticRegression(**dict(kw, batch_size=40)).fit(X, LABELS)
    assert short.history_["step"] == list(range(1, short.t_ + 1))
    full = LogisticRegression(max_iter=2000).fit(X, LABELS)
    assert full.history_["step"] == list(range(1, full.n_iter_ + 1))


def test_record_every_applies_to_full_batch_iterations():
    every = LogisticRegression().fit(X, LABELS)
    third = LogisticRegression(record_every=3).fit(X, LABELS)
    assert third.history_["step"] == every.history_["step"][::3]
    np.testing.assert_array_equal(third.coef_, every.coef_)


def test_divergence_is_caught_at_every_step_whatever_record_every():
    Xbig = X * 1e3
    model = LinearRegression(optimizer="sgd", learning_rate=10.0, batch_size=10, max_iter=5,
                             record_every=1000, on_nan="raise")
    with pytest.raises(FloatingPointError, match="at step"):
        model.fit(Xbig, SIGNAL)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", "every"])
def test_record_every_must_be_a_positive_integer(bad):
    with pytest.raises(InvalidParameterError, match="record_every"):
        LogisticRegression(record_every=bad).fit(X, LABELS)
