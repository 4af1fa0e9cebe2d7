"""Estimator cases found by probing: a failed warm start, a divergence before any loss, and
weights that are zero everywhere once class weights multiply in."""
import warnings

import numpy as np
import pytest

from gradkit.models import LinearRegression, LogisticRegression, MLPClassifier

RNG = np.random.default_rng(0)
X = RNG.standard_normal((60, 3))
Y3 = RNG.integers(0, 3, 60)


@pytest.mark.parametrize("make", [lambda: LogisticRegression(warm_start=True),
                                  lambda: MLPClassifier(hidden_layer_sizes=(4,), max_iter=3,
                                                        warm_start=True, random_state=0)],
                         ids=["logistic", "mlp"])
def test_a_warm_start_on_other_features_is_refused_and_keeps_the_fitted_model(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make().fit(X, Y3)
        before = model.predict(X)
        for wider in (np.c_[X, X[:, 0]], np.c_[X, X[:, 0]].tolist()):
            with pytest.raises(ValueError, match="X has 4 features, but the model was fitted "
                                                 "with 3"):
                model.fit(wider, Y3)
        assert model.n_features_in_ == 3
        np.testing.assert_array_equal(model.predict(X), before)


@pytest.mark.parametrize("optimizer", ["newton", "trust-exact"])
def test_a_divergence_before_the_first_loss_warns_and_keeps_the_start(optimizer):
    y = X @ np.array([1.0, 2.0, 3.0])
    with pytest.warns(RuntimeWarning, match="training diverged at step 0;"):
        model = LinearRegression(optimizer=optimizer).fit(X * 1e160, y)
    assert model.stop_reason_ == "diverged" and np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize("class_weight, sample_weight", [
    ({0: 0.0}, lambda y: (y == 0).astype(float)), ({0: 0.0, 1: 0.0}, lambda y: None)])
def test_weights_zero_everywhere_after_class_weight_are_refused(class_weight, sample_weight):
    y = (Y3 > 0).astype(int)
    with pytest.raises(ValueError, match="weights are zero for every row"):
        LogisticRegression(class_weight=class_weight).fit(X, y, sample_weight=sample_weight(y))


def test_an_alpha_without_a_penalty_warns():
    y = X @ np.array([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="penalty=None ignores alpha=10"):
        LinearRegression(alpha=10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        LinearRegression().fit(X, y)
        LinearRegression(penalty="l2", alpha=10).fit(X, y)
