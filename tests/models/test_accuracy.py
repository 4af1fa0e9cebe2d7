"""Held-out accuracy / R² of gradkit's estimators against scikit-learn's, with default settings.

Fixed split (test_size=0.25, random_state=0), features standardized on the training part.
gradkit must be within one point of scikit-learn (it may be better). The MLPs run both
libraries for the same number of epochs, enough for both to settle on each data set.
"""
import warnings

import numpy as np
import pytest
import sklearn
import sklearn.linear_model as sk_linear
import sklearn.neural_network as sk_nn
import sklearn.svm as sk_svm
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import gradkit.models as gm

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TOLERANCE = 0.01  # one point of accuracy or of R²


def _split(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


EPOCHS = {"breast_cancer": 200, "wine": 300, "iris": 1000, "digits": 100, "diabetes": 1000}

CASES = [  # (data set, gradkit estimator, scikit-learn estimator)
    *[(name, lambda n: gm.LogisticRegression(), lambda n: sk_linear.LogisticRegression())
      for name in ("breast_cancer", "wine", "iris", "digits")],
    *[(name, lambda n: gm.LinearSVM(), lambda n: sk_svm.LinearSVC())
      for name in ("breast_cancer", "wine", "iris", "digits")],
    *[(name, lambda n: gm.MLPClassifier(max_iter=EPOCHS[n], random_state=0),
       lambda n: sk_nn.MLPClassifier(max_iter=EPOCHS[n], random_state=0))
      for name in ("breast_cancer", "wine", "iris", "digits")],
    ("diabetes", lambda n: gm.LinearRegression(), lambda n: sk_linear.LinearRegression()),
    ("diabetes", lambda n: gm.LinearRegression(penalty="l2"), lambda n: sk_linear.Ridge()),
    ("diabetes", lambda n: gm.MLPRegressor(max_iter=EPOCHS[n], random_state=0),
     lambda n: sk_nn.MLPRegressor(max_iter=EPOCHS[n], random_state=0)),
]


@pytest.mark.parametrize("name, make_ours, make_theirs", CASES,
                         ids=[f"{c[0]}-{type(c[2](c[0])).__name__}" for c in CASES])
def test_held_out_score_matches_sklearn(name, make_ours, make_theirs):
    X_tr, X_te, y_tr, y_te = _split(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = make_ours(name).fit(X_tr, y_tr).score(X_te, y_te)
        theirs = make_theirs(name).fit(X_tr, y_tr).score(X_te, y_te)
    assert ours >= theirs - TOLERANCE, f"gradkit {ours:.4f} vs scikit-learn {theirs:.4f}"


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "wine"])
def test_logistic_regression_lbfgs_reaches_sklearn_coefficients(name):
    """Same objective (alpha = 1 / C), both solved tightly: the same coefficients."""
    X_tr, _, y_tr, _ = _split(name)
    ours = gm.LogisticRegression(optimizer="lbfgs", tol=1e-10, max_iter=10_000).fit(X_tr, y_tr)
    theirs = sk_linear.LogisticRegression(tol=1e-10, max_iter=10_000).fit(X_tr, y_tr)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-4)


@pytest.mark.parametrize("C", [0.1, 10.0])
def test_alpha_is_one_over_C(C):
    X_tr, _, y_tr, _ = _split("breast_cancer")
    ours = gm.LogisticRegression(alpha=1.0 / C, tol=1e-10, max_iter=10_000).fit(X_tr, y_tr)
    theirs = sk_linear.LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X_tr, y_tr)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)


def test_ridge_alpha_is_sklearn_alpha():
    X_tr, _, y_tr, _ = _split("diabetes")
    ours = gm.LinearRegression(penalty="l2", alpha=10.0, tol=1e-10).fit(X_tr, y_tr)
    theirs = sk_linear.Ridge(alpha=10.0).fit(X_tr, y_tr)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-4)


def _sklearn_l1_logistic(C):
    """scikit-learn's L1 logistic regression by SAGA, which never penalizes the intercept
    (``penalty="l1"`` became ``l1_ratio=1`` in scikit-learn 1.8)."""
    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    l1 = {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}
    return sk_linear.LogisticRegression(**l1, solver="saga", C=C, tol=1e-8, max_iter=100_000)


def test_l1_logistic_regression_reaches_sklearn_saga_with_an_unshrunk_intercept():
    """alpha = 1 / C; the proximal step thresholds the coefficients only."""
    X_tr, _, y_tr, _ = _split("breast_cancer")
    ours = gm.LogisticRegression(penalty="l1", alpha=10.0, tol=1e-8, max_iter=100_000)
    ours.fit(X_tr, y_tr)
    theirs = _sklearn_l1_logistic(C=0.1).fit(X_tr, y_tr)
    assert np.sum(theirs.coef_ == 0) >= 10  # a sparse solution, and a non-zero intercept
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-3)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-3)
    np.testing.assert_array_equal(ours.coef_ == 0, theirs.coef_ == 0)


def test_l1_linear_regression_is_sklearn_lasso_with_alpha_over_n():
    X_tr, _, y_tr, _ = _split("diabetes")
    X_tr = X_tr + 1.0  # uncentred features: the intercept depends on the coefficients
    n = len(y_tr)
    ours = gm.LinearRegression(penalty="l1", alpha=2.0 * n, tol=1e-8, max_iter=100_000)
    ours.fit(X_tr, y_tr)
    theirs = sk_linear.Lasso(alpha=2.0, tol=1e-12, max_iter=100_000).fit(X_tr, y_tr)
    assert np.sum(theirs.coef_ == 0) >= 2
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-3)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, abs=1e-3)
