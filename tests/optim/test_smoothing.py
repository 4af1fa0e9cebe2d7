"""Nesterov / Moreau smoothing with continuation against the subgradient method (hinge SVM, L1)."""
import math

import numpy as np
import pytest

import gradkit as gk
from gradkit.optim.minimize import minimize
from gradkit.optim.smoothing import smooth_abs, smooth_hinge, smooth_max, smoothed


def _svm():
    from sklearn.datasets import load_breast_cancer
    X, y01 = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = 2.0 * y01 - 1.0
    return (lambda w, mu: np.mean(smooth_hinge(y * (X @ w), mu)) + 0.005 * np.sum(w * w),
            np.zeros(X.shape[1]))


def _l1_regression():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((300, 20))
    b = A @ rng.standard_normal(20) + 0.5 * rng.standard_cauchy(300)  # heavy tails: L1's case
    return (lambda w, mu: np.mean(smooth_abs(A @ w - b, mu))), np.zeros(20)


@pytest.mark.parametrize("make", [_svm, _l1_regression], ids=["hinge-svm", "l1-regression"])
def test_smoothing_reaches_the_subgradient_objective_in_5x_fewer_iterations(make):
    fun, x0 = make()
    # the baseline at its best step size of a grid, 5000 iterations
    sub = min((minimize(lambda w: fun(w, 0.0), x0, method="subgradient", learning_rate=lr,
                        max_iter=5000, tol=0.0) for lr in (0.3, 1.0, 3.0)),
              key=lambda r: r.fun)
    r = smoothed(fun, x0, max_iter=sub.nit // 5)
    assert r.success, r.message
    assert r.fun <= sub.fun + 1e-4, (r.fun, sub.fun)
    assert 5 * r.nit <= sub.nit, (r.nit, sub.nit)
    assert r.fun == pytest.approx(float(fun(r.x, 0.0)), abs=0)  # fun is the exact objective
    assert r.fun == min(r.history["f"])


def test_smoothings_are_within_their_bounds_and_exact_at_mu_0():
    x = np.linspace(-3, 3, 601)
    for mu in (1.0, 0.1, 1e-3):
        err = np.abs(x) - smooth_abs(x, mu)
        assert np.all(err >= -1e-15) and np.all(err <= mu / 2 + 1e-15)
        err = np.maximum(0.0, 1.0 - x) - smooth_hinge(x, mu)
        assert np.all(err >= -1e-15) and np.all(err <= mu / 2 + 1e-15)
        M = x[:600].reshape(-1, 3)
        err = smooth_max(M, mu, axis=1) - M.max(axis=1)
        assert np.all(err >= -1e-15) and np.all(err <= mu * math.log(3) + 1e-12)
    np.testing.assert_array_equal(smooth_abs(x, 0), np.abs(x))
    np.testing.assert_array_equal(smooth_hinge(x, 0), np.maximum(0.0, 1.0 - x))
    assert float(smooth_max(x, 0)) == 3.0
    assert float(smooth_max(np.array([1000.0, 0.0]), 1.0)) == pytest.approx(1000.0)  # no overflow


@pytest.mark.parametrize("piece", [smooth_abs, smooth_hinge])
def test_smoothed_gradients_match_differences_and_are_lipschitz(piece):
    mu = 0.3
    x = np.linspace(-2, 2, 400)
    g = gk.grad(lambda v: np.sum(piece(v, mu)))(x)
    eps = 1e-6
    np.testing.assert_allclose(g, (piece(x + eps, mu) - piece(x - eps, mu)) / (2 * eps),
                               atol=1e-6)
    # a 1/mu-Lipschitz gradient: neighbours differ by at most the spacing / mu
    assert np.max(np.abs(np.diff(g))) <= (x[1] - x[0]) / mu + 1e-9


def test_smooth_max_gradient_is_the_softmax():
    x = np.array([[0.3, -1.0, 2.0], [1.0, 1.0, 1.0]])
    g = gk.grad(lambda v: np.sum(smooth_max(v, 0.5, axis=1)))(x)
    e = np.exp((x - x.max(1, keepdims=True)) / 0.5)
    np.testing.assert_allclose(g, e / e.sum(1, keepdims=True), rtol=1e-12)


def test_smoothed_validates_its_schedule():
    f = lambda x, mu: np.sum(smooth_abs(x, mu))  # noqa: E731
    with pytest.raises(ValueError, match="decay"):
        smoothed(f, np.ones(2), decay=1.5)
    with pytest.raises(ValueError, match="mu_min"):
        smoothed(f, np.ones(2), mu0=1e-3, mu_min=1e-2)
    with pytest.raises(ValueError, match="mu must be"):
        smooth_abs(np.ones(2), -1.0)


def test_a_budget_that_ends_early_says_so_and_keeps_the_best_point():
    fun, x0 = _l1_regression()
    r = smoothed(fun, x0, max_iter=10)
    assert not r.success and r.status == 1 and "max_iter" in r.message
    assert r.nit <= 10 and r.fun == min(r.history["f"])
