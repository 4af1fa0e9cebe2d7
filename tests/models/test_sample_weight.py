"""sample_weight in every estimator's fit and class_weight in the classifiers (issue 15)."""
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from gradkit.models import (LinearRegression, LinearSVM, LogisticRegression, MLPClassifier,
                            MLPRegressor)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _scaled(loader, rows=120):
    X, y = loader(return_X_y=True)
    rng = np.random.default_rng(0)
    keep = np.sort(rng.choice(len(X), rows, replace=False))
    return StandardScaler().fit_transform(X[keep]), y[keep]


CANCER = _scaled(load_breast_cancer)
DIABETES = _scaled(load_diabetes)
IRIS = _scaled(load_iris, 150)

_rng = np.random.default_rng(0)
_X = _rng.normal(size=(40, 3))
SMALL_REGRESSION = (_X, np.sin(_X[:, 0]) + 0.5 * _X[:, 1])
SMALL_CLASSES = (_X, (_X[:, 0] + 0.5 * _X[:, 1] > 0).astype(int))

# full-batch solvers, run to a tight tolerance: weights must reproduce duplicated rows exactly
FULL_BATCH = [
    (LinearRegression(tol=1e-10), DIABETES),
    (LinearRegression(penalty="l2", alpha=3.0, tol=1e-10), DIABETES),
    (LinearRegression(optimizer="newton", penalty="l2", alpha=3.0, tol=1e-10), DIABETES),
    (LinearRegression(penalty="l1", alpha=10.0, tol=1e-10, max_iter=5000), DIABETES),
    (LogisticRegression(tol=1e-10, max_iter=500), CANCER),
    (LogisticRegression(optimizer="newton-cg", tol=1e-10), CANCER),
    (LogisticRegression(optimizer="newton", tol=1e-10, max_iter=100), CANCER),
    (LogisticRegression(tol=1e-10, max_iter=500), IRIS),
    (LinearSVM(tol=1e-10, max_iter=2000), CANCER),
    # a smooth network (tanh) on a small problem, so that lbfgs reaches tol
    (MLPRegressor(hidden_layer_sizes=(3,), activation="tanh", optimizer="lbfgs", alpha=1.0,
                  tol=1e-8, max_iter=3000, random_state=0), SMALL_REGRESSION),
    (MLPClassifier(hidden_layer_sizes=(3,), activation="tanh", optimizer="lbfgs", alpha=1.0,
                   tol=1e-8, max_iter=3000, random_state=0), SMALL_CLASSES),
]
IDS = [f"{type(m).__name__}-{m.optimizer}-{m.penalty}-{len(np.unique(d[1]))}-{i}"
       for i, (m, d) in enumerate(FULL_BATCH)]


def _outputs(model, X):
    return model.decision_function(X) if hasattr(model, "decision_function") \
        else model.predict(X)


@pytest.mark.parametrize("model, data", FULL_BATCH, ids=IDS)
def test_weight_two_is_the_row_twice_and_weight_zero_the_row_dropped(model, data):
    X, y = data
    rng = np.random.default_rng(1)
    w = rng.integers(0, 3, size=len(X)).astype(float)
    w[:2] = [2.0, 0.0]  # at least one of each
    rows = np.repeat(np.arange(len(X)), w.astype(int))
    weighted = clone(model).fit(X, y, sample_weight=w)
    repeated = clone(model).fit(X[rows], y[rows])
    assert weighted.stop_reason_ == repeated.stop_reason_ == "converged"
    np.testing.assert_allclose(_outputs(weighted, X), _outputs(repeated, X), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize("model", [
    LinearRegression(optimizer="sgd", learning_rate=0.01, batch_size=16, max_iter=30,
                     random_state=0),
    LogisticRegression(optimizer="adam", learning_rate=0.05, batch_size=32, max_iter=30,
                       random_state=0),
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
    MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
], ids=lambda m: type(m).__name__)
def test_weights_of_one_change_nothing_and_the_users_weights_are_not_written(model):
    X, y = CANCER if is_classifier(model) else DIABETES
    w = np.ones(len(X))
    before = w.copy()
    a = clone(model).fit(X, y)
    b = clone(model).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(_outputs(a, X), _outputs(b, X))
    np.testing.assert_array_equal(w, before)


def test_stochastic_weights_move_the_fit_towards_the_heavy_rows():
    X, y = DIABETES
    heavy = y > np.median(y)
    w = np.where(heavy, 10.0, 1.0)
    kw = dict(optimizer="sgd", learning_rate=0.01, batch_size=16, max_iter=40, random_state=0)
    plain = LinearRegression(**kw).fit(X, y)
    weighted = LinearRegression(**kw).fit(X, y, sample_weight=w)
    err = lambda m: np.mean((m.predict(X[heavy]) - y[heavy]) ** 2)  # noqa: E731
    assert err(weighted) < 0.8 * err(plain)


def test_ridge_with_weights_matches_scikit_learn():
    X, y = DIABETES
    w = np.random.default_rng(2).uniform(0.1, 3.0, len(X))
    ours = LinearRegression(penalty="l2", alpha=5.0, tol=1e-10).fit(X, y, sample_weight=w)
    ref = Ridge(alpha=5.0).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 1: 0.5}])
def test_class_weight_matches_scikit_learn(class_weight):
    X, y = CANCER
    ours = LogisticRegression(tol=1e-10, max_iter=500, class_weight=class_weight).fit(X, y)
    ref = SkLogisticRegression(tol=1e-12, max_iter=5000, class_weight=class_weight).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)


def test_balanced_is_the_formula_and_multiplies_sample_weight():
    X, y = IRIS
    keep = np.r_[np.flatnonzero(y == 0)[:10], np.flatnonzero(y == 1), np.flatnonzero(y == 2)]
    X, y = X[keep], y[keep]
    sw = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    # scikit-learn's compute_class_weight: the classes counted with the sample weights
    formula = sw.sum() / (3 * np.bincount(y, weights=sw))
    kw = dict(tol=1e-10, max_iter=500)
    balanced = LogisticRegression(class_weight="balanced", **kw).fit(X, y, sample_weight=sw)
    by_hand = LogisticRegression(**kw).fit(X, y, sample_weight=sw * formula[y])
    np.testing.assert_allclose(balanced.coef_, by_hand.coef_, rtol=1e-7, atol=1e-9)
    # and it does something: the rare class is predicted more often than without it
    plain = LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    assert not np.allclose(balanced.coef_, plain.coef_)


@pytest.mark.parametrize("cls", [LogisticRegression, LinearSVM, MLPClassifier])
def test_every_classifier_takes_class_weight(cls):
    X, y = CANCER
    extra = {"hidden_layer_sizes": (4,), "max_iter": 20, "random_state": 0} \
        if cls is MLPClassifier else {}
    a = cls(class_weight={0: 5.0}, **extra).fit(X, y)
    b = cls(**extra).fit(X, y, sample_weight=np.where(y == 0, 5.0, 1.0))
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), rtol=1e-12)


@pytest.mark.parametrize("weights, message", [
    (-np.ones(120), r"sample_weight must be >= 0; got -1.0 at row 0"),
    (np.r_[np.ones(119), np.nan], r"sample_weight must be finite; got nan at row 119"),
    (np.ones(7), r"sample_weight must have shape \(120,\).*got shape \(7,\)"),
    (np.ones((120, 2)), r"sample_weight must have shape \(120,\)"),
    (np.zeros(120), r"sample_weight is zero for every row"),
    (["a"] * 120, r"sample_weight must be numbers"),
])
@pytest.mark.parametrize("model", [LinearRegression(), LinearRegression(optimizer="sgd"),
                                   MLPRegressor(hidden_layer_sizes=(2,))],
                         ids=lambda m: f"{type(m).__name__}-{m.optimizer}")
def test_bad_weights_give_one_line_naming_sample_weight(model, weights, message):
    X, y = DIABETES
    with pytest.raises(ValueError, match=f"^{type(model).__name__}.fit: {message}") as err:
        model.fit(X, y, sample_weight=weights)
    assert "\n" not in str(err.value)


def test_bad_class_weight_is_refused_by_name():
    X, y = CANCER
    with pytest.raises(ValueError, match=r"class_weight names labels \[7\]"):
        LogisticRegression(class_weight={7: 1.0}).fit(X, y)
    with pytest.raises(ValueError, match=r"class_weight\[0\] must be a finite number >= 0"):
        LogisticRegression(class_weight={0: -1.0}).fit(X, y)
    with pytest.raises(ValueError, match="The 'class_weight' parameter"):
        LogisticRegression(class_weight="even").fit(X, y)


def test_partial_fit_takes_sample_weight():
    X, y = CANCER
    kw = dict(optimizer="sgd", learning_rate=0.1, batch_size=None)
    rows = np.repeat(np.arange(len(X)), 2)
    a = LogisticRegression(**kw).partial_fit(X, y, classes=[0, 1],
                                             sample_weight=np.full(len(X), 2.0))
    b = LogisticRegression(**kw).partial_fit(X[rows], y[rows], classes=[0, 1])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10)


def test_dask_refuses_weights_by_name():
    da = pytest.importorskip("dask.array")
    X, y = DIABETES
    with pytest.raises(ValueError, match="sample_weight are not supported on Dask"):
        LinearRegression().fit(da.from_array(X, chunks=60), da.from_array(y, chunks=60),
                               sample_weight=np.ones(len(X)))


@pytest.mark.parametrize("model", [
    clone(m).set_params(tol=1e-11, max_iter=5000) if hasattr(m, "hidden_layer_sizes") else m
    for m, _ in FULL_BATCH
    # Newton on the check's three classes: the multinomial logits are defined up to a constant
    # (softmax), which Newton's damped steps move along differently for different data
    if not (m.optimizer == "newton" and isinstance(m, LogisticRegression))],
    ids=[i for i, (m, _) in zip(IDS, FULL_BATCH)
         if not (m.optimizer == "newton" and isinstance(m, LogisticRegression))])
def test_scikit_learns_sample_weight_equivalence_check_at_a_tight_tolerance(model):
    # the check of test_estimator_checks.py, on the full-batch solvers run to convergence
    # (at the default tol some stop before scikit-learn's rtol=1e-7 can hold)
    from sklearn.utils.estimator_checks import check_sample_weight_equivalence_on_dense_data
    check_sample_weight_equivalence_on_dense_data(type(model).__name__, clone(model))
