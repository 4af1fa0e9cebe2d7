"""Every fitted estimator has feature_importances_: mean |integrated gradients| on the training data."""
import numpy as np
import pytest

from gradkit.models import (LinearRegression, LinearSVM, LogisticRegression, MLPClassifier,
                            MLPRegressor)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((300, 5))
SIGNAL = 3.0 * X[:, 0] - 2.0 * X[:, 1]  # features 2, 3 and 4 are irrelevant

ESTIMATORS = [
    (LinearRegression(), SIGNAL),
    (LogisticRegression(), (SIGNAL > 0).astype(int)),
    (LinearSVM(), (SIGNAL > 0).astype(int)),
    (MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0), (SIGNAL > 0).astype(int)),
    (MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, learning_rate=0.01, random_state=0),
     SIGNAL),
]


@pytest.mark.parametrize("estimator, y", ESTIMATORS, ids=[type(e).__name__ for e, _ in ESTIMATORS])
def test_irrelevant_features_get_near_zero_importance(estimator, y):
    imp = estimator.fit(X, y).feature_importances_
    assert imp.shape == (5,) and np.all(imp >= 0)
    assert set(np.argsort(imp)[-2:]) == {0, 1}
    assert imp[2:].max() < 0.15 * imp[:2].max()


def test_linear_regression_importances_are_coef_times_mean_deviation():
    # up to 256 training rows are all used (more are subsampled evenly, see the estimator doc)
    Xs, ys = X[:200], SIGNAL[:200]
    est = LinearRegression().fit(Xs, ys)
    expected = np.abs(est.coef_) * np.mean(np.abs(Xs - Xs.mean(0)), axis=0)
    np.testing.assert_allclose(est.feature_importances_, expected, rtol=1e-8)
