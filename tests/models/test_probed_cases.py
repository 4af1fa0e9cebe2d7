"""Estimator cases found by probing: a failed warm start, a divergence before any loss, and
weights that are zero everywhere once class weights multiply in."""
import warnings

import numpy as np
import pytest

from gradkit.models import LinearRegression, LinearSVM, LogisticRegression, MLPClassifier

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


@pytest.mark.parametrize("make", [lambda: LogisticRegression(tol=1e-10, class_weight="balanced"),
                                  lambda: LinearSVM(tol=1e-10, class_weight="balanced")])
def test_balanced_class_weights_count_rows_with_their_sample_weights(make):
    """A weight of 2 is the row twice, with class_weight="balanced" too (scikit-learn's
    compute_class_weight counts the classes with the sample weights)."""
    from sklearn.datasets import make_classification
    from sklearn.utils.class_weight import compute_class_weight
    X, _ = make_classification(60, 4, n_informative=3, n_redundant=0, random_state=0)
    y = np.r_[np.zeros(45, int), np.ones(15, int)]
    sw = np.random.RandomState(0).randint(0, 4, 60)
    rows = np.repeat(np.arange(60), sw)
    weighted, repeated = make().fit(X, y, sample_weight=sw), make().fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(weighted._class_weight_table, compute_class_weight(
        "balanced", classes=np.array([0, 1]), y=y, sample_weight=sw), rtol=1e-15)


def test_the_hinge_svm_steps_suit_the_features_scale():
    """The subgradient steps of LinearSVM(loss="hinge") were a fixed 1/sqrt(k+1): on features
    of scale 100 every step overshot and the fit returned its all-zero start."""
    from sklearn.svm import LinearSVC
    rng = np.random.RandomState(1)
    X = rng.randn(100, 2) * 100
    y = (X[:, 0] + 20 * rng.randn(100) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = LinearSVM(loss="hinge").fit(X, y)
        theirs = LinearSVC(loss="hinge", max_iter=20000).fit(X, y)
    assert np.any(ours.coef_ != 0)
    assert ours.score(X, y) >= theirs.score(X, y) - 0.02
    assert min(ours.loss_curve_) < 0.5 * ours.loss_curve_[0]


def test_the_proximal_history_records_the_whole_objective():
    """The history's loss was the smooth part alone (without the L1 term) under "proximal",
    so the report and the findings judged another number than loss_curve_."""
    from sklearn.datasets import make_regression
    X, y = make_regression(200, 10, noise=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LinearRegression(optimizer="proximal", penalty="l1", alpha=1.0).fit(X, y)
    np.testing.assert_allclose(m.history_["loss"], m.loss_curve_[1:], rtol=1e-12)
