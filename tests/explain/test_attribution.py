"""Attribution laws: exactness on linear models, completeness, irrelevant features, agreement
with permutation importance, and estimators explained class by class."""
import warnings

import numpy as np
import pytest

from gradkit.explain import (feature_importances, gradient_x_input, integrated_gradients,
                             saliency, smoothgrad)

RNG = np.random.default_rng(0)
W = np.array([1.5, -2.0, 0.0, 0.7])
X = RNG.normal(size=(6, 4))


def linear(X):
    return X @ W + 0.3


def linear_one_row(x):  # not rowwise: called row by row
    return np.sum(x * W) + 0.3


A1, A2 = RNG.normal(size=(4, 5)) / 2, RNG.normal(size=5)


def mlp(X):  # smooth
    return np.tanh(X @ A1) @ A2 + np.sum(np.sin(X), axis=-1)


@pytest.mark.parametrize("f", [linear, linear_one_row], ids=["rowwise", "row-by-row"])
@pytest.mark.parametrize("baseline, b", [
    ("zeros", np.zeros(4)),
    ("mean", X.mean(axis=0)),
    (np.full(4, 2.0), np.full(4, 2.0)),
    (X[::-1], X[::-1]),                          # one baseline per row
])
@pytest.mark.parametrize("method", ["riemann", "gauss-legendre"])
def test_integrated_gradients_of_a_linear_model_are_coef_times_x_minus_baseline(f, baseline, b,
                                                                                method):
    attr, residual = integrated_gradients(f, X, baseline, method=method, steps=7)
    np.testing.assert_allclose(attr, W * (X - b), rtol=0, atol=1e-12)
    np.testing.assert_allclose(residual, 0.0, atol=1e-12)


@pytest.mark.parametrize("x", [X, X[0]], ids=["batch", "row"])
def test_completeness_holds_to_1e_6_on_a_smooth_model_with_gauss_legendre(x):
    res = integrated_gradients(mlp, x, "zeros", steps=30)
    assert np.max(np.abs(res.residual)) < 1e-6
    assert np.shape(res.attributions) == np.shape(x)
    riemann = integrated_gradients(mlp, x, "zeros", steps=30, method="riemann")
    assert np.max(np.abs(riemann.residual)) > np.max(np.abs(res.residual))


def test_a_background_sample_averages_baselines_and_completes_against_its_mean_output():
    background = RNG.normal(size=(5, 4))
    res = integrated_gradients(mlp, X, "background", background=background, steps=30)
    expected = mlp(X) - np.mean(mlp(background))
    np.testing.assert_allclose(res.attributions.sum(axis=1), expected, atol=1e-6)
    mean_bl = integrated_gradients(linear, X, "mean", background=background)
    np.testing.assert_allclose(mean_bl.attributions, W * (X - background.mean(axis=0)), atol=1e-12)


@pytest.mark.parametrize("f", [linear, linear_one_row])
def test_gradient_methods_on_a_linear_model(f):
    np.testing.assert_allclose(gradient_x_input(f, X), W * X, atol=1e-12)
    np.testing.assert_allclose(saliency(f, X), np.abs(np.broadcast_to(W, X.shape)))
    np.testing.assert_allclose(saliency(f, X[0], absolute=False), W)
    np.testing.assert_allclose(smoothgrad(f, X, n_samples=5, rng=0), np.broadcast_to(W, X.shape),
                               atol=1e-12)


def test_smoothgrad_averages_the_gradient_over_gaussian_noise():
    cube = lambda X: np.sum(X ** 3, axis=-1)  # noqa: E731  gradient 3x^2, averaged 3x^2 + 3 s^2
    x = np.array([0.0, 1.0, 2.0])
    sigma = 0.1 * 2.0  # noise level times the row's range
    got = smoothgrad(cube, x, n_samples=4000, noise=0.1, rng=0)
    np.testing.assert_allclose(got, 3 * x ** 2 + 3 * sigma ** 2, atol=0.05)


def test_class_scores_are_explained_for_the_target_or_the_predicted_class():
    V = RNG.normal(size=(4, 3))
    scores = lambda X: X @ V  # noqa: E731
    predicted = np.argmax(X @ V, axis=1)
    np.testing.assert_allclose(saliency(scores, X, absolute=False), V.T[predicted])
    np.testing.assert_allclose(saliency(scores, X, target=2, absolute=False),
                               np.broadcast_to(V[:, 2], X.shape))


@pytest.mark.parametrize("call, match", [
    (lambda: integrated_gradients(linear, X, "median"), "baseline='median'"),
    (lambda: integrated_gradients(linear, X, np.ones(3)), "does not fit"),
    (lambda: integrated_gradients(linear, X, "background"), "needs background"),
    (lambda: integrated_gradients(linear, X, method="simpson"), "method='simpson'"),
    (lambda: integrated_gradients(linear, X, steps=0), "steps=0"),
    (lambda: saliency(linear, X, target=3), "leave target=None"),
    (lambda: saliency(lambda X: X @ np.ones((4, 2)), X, target=5), "class index from 0 to 1"),
    (lambda: saliency(linear, np.ones((2, 2, 2))), "one row"),
    (lambda: smoothgrad(linear, X, n_samples=0), "n_samples"),
    (lambda: feature_importances(linear, X, method="shap"), "method='shap'"),
    (lambda: feature_importances(linear, X[0]), "2-D"),
    (lambda: saliency(42, X), "differentiable function"),
])
def test_errors_say_what_to_do(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ----------------------------------------------------------------------------- data sets
def _irrelevant_data(n=300):
    rng = np.random.default_rng(1)
    Xd = rng.normal(size=(n, 6))
    y = 3 * Xd[:, 0] - 2 * Xd[:, 1] + np.sin(2 * Xd[:, 2])  # features 3, 4, 5 are ignored
    return Xd, y + 0.05 * rng.normal(size=n)


@pytest.mark.parametrize("method", ["integrated_gradients", "gradient_x_input", "saliency"])
def test_features_the_generator_ignores_get_near_zero_importance(method):
    models = pytest.importorskip("gradkit.models")
    Xd, y = _irrelevant_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = models.MLPRegressor(hidden_layer_sizes=(16,), optimizer="adam", learning_rate=0.01,
                                  max_iter=300, random_state=0).fit(Xd, y)
    imp = feature_importances(est, Xd, method=method)
    assert imp.shape == (6,)
    assert set(np.argsort(imp)[-3:]) == {0, 1, 2}
    assert np.max(imp[3:]) < 0.1 * np.max(imp[:3])


def test_ranking_agrees_with_permutation_importance_on_diabetes():
    from sklearn.datasets import load_diabetes
    from sklearn.inspection import permutation_importance
    models = pytest.importorskip("gradkit.models")
    Xd, y = load_diabetes(return_X_y=True)
    Xd = (Xd - Xd.mean(axis=0)) / Xd.std(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = models.LinearRegression().fit(Xd, y)
    ours = feature_importances(est, Xd)
    theirs = permutation_importance(est, Xd, y, n_repeats=5, random_state=0).importances_mean
    assert len(set(np.argsort(ours)[-3:]) & set(np.argsort(theirs)[-3:])) >= 2
    assert np.argmax(ours) == np.argmax(theirs)


def test_a_fitted_classifier_is_explained_class_by_class():
    from sklearn.datasets import load_iris
    models = pytest.importorskip("gradkit.models")
    Xi, yi = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = models.LogisticRegression(max_iter=200).fit(Xi, yi)
    coef = np.asarray(est.params_["coef"])  # (features, classes): logits are X @ coef + b
    for target in range(3):
        attr, res = integrated_gradients(est, Xi[:5], "mean", background=Xi, target=target)
        np.testing.assert_allclose(attr, coef[:, target] * (Xi[:5] - Xi.mean(axis=0)),
                                   atol=1e-10)
    predicted = est.predict(Xi[:5])
    sal = saliency(est, Xi[:5], absolute=False)
    np.testing.assert_allclose(sal, coef.T[predicted], atol=1e-12)
    binary = models.LogisticRegression(max_iter=200).fit(Xi, (yi == 2).astype(int))
    g1 = saliency(binary, Xi[:3], target=1, absolute=False)
    g0 = saliency(binary, Xi[:3], target=0, absolute=False)
    np.testing.assert_allclose(g0, -g1)
    with pytest.raises(ValueError, match="not fitted"):
        saliency(models.LogisticRegression(), Xi[:2])
