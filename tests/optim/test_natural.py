"""Natural gradient: Fisher-vector products, the Newton step for logistic regression, damping."""
import numpy as np
import pytest

import gradkit as gk
from gradkit.optim.minimize import minimize
from gradkit.optim.natural_gradient import fisher_vector_product, natural_gradient_descent

from .problems import breast_cancer_logistic

f, model, loss, X, y = breast_cancer_logistic()


def test_fisher_vector_product_is_J_T_Lambda_J():
    w = np.random.default_rng(0).standard_normal(X.shape[1]) * 0.1
    v = np.random.default_rng(1).standard_normal(X.shape[1])
    p = 1.0 / (1.0 + np.exp(-X @ w))
    F = X.T @ (X * (p * (1 - p))[:, None])  # the logistic Fisher = Hessian of the NLL
    np.testing.assert_allclose(fisher_vector_product(model, loss, w)(v), F @ v, rtol=1e-10)


@pytest.mark.parametrize("w0_scale", [0.0, 0.1])
def test_natural_step_equals_newton_step_for_logistic_regression(w0_scale):
    # Fisher = Hessian of the NLL for the canonical link; the L2 term's Hessian is I, so with
    # damping=1 the natural step IS the Newton step. With tiny damping on the pure NLL too.
    w0 = np.random.default_rng(2).standard_normal(X.shape[1]) * w0_scale
    opts = dict(max_iter=1, line_search=None)
    newton = minimize(f, w0, method="newton", **opts)
    natural = minimize(f, w0, method="natural", model=model, loss=loss, damping=1.0,
                       cg_tol=1e-14, cg_max_iter=200, **opts)
    np.testing.assert_allclose(natural.x, newton.x, rtol=1e-7, atol=1e-9)

    nll = lambda w: loss(model(w))  # noqa: E731
    newton = minimize(nll, w0, method="newton", **opts)
    natural = natural_gradient_descent(model, loss, w0, damping=1e-10, cg_tol=1e-14,
                                       cg_max_iter=200, **opts)
    np.testing.assert_allclose(natural.x, newton.x, rtol=1e-5, atol=1e-6)


def test_natural_gradient_converges_on_logistic_regression():
    ref = minimize(f, np.zeros(X.shape[1]), method="newton", tol=1e-8)
    r = minimize(f, np.zeros(X.shape[1]), method="natural", model=model, loss=loss,
                 damping=1.0)
    assert r.success and r.nit <= 15
    assert r.fun == pytest.approx(ref.fun, abs=1e-8)


def test_singular_fisher_does_not_crash():
    # 3 parameters, 1 output: rank-1 Fisher; the default damping keeps the CG solve finite
    a = np.array([1.0, 2.0, -1.0])
    r = natural_gradient_descent(lambda w: a @ w, lambda z: 0.5 * (z - 3.0) ** 2, np.zeros(3),
                                 max_iter=50)
    assert r.success and abs(a @ r.x - 3.0) < 1e-6


def test_adaptive_damping_converges():
    r = minimize(f, np.zeros(X.shape[1]), method="natural", model=model, loss=loss,
                 damping=10.0, adaptive_damping=True)
    assert r.success and r.history["damping"][-1] < 10.0


def test_model_and_loss_are_required():
    with pytest.raises(ValueError, match="needs model="):
        minimize(f, np.zeros(X.shape[1]), method="natural")
    assert gk.grad(f)(np.zeros(X.shape[1])).shape == (X.shape[1],)


def test_the_callback_runs_once_per_iteration():
    """scipy's rule, as for every other method (tests/optim/test_minimize.py)."""
    seen = []
    r = minimize(f, np.zeros(X.shape[1]), method="natural", model=model, loss=loss,
                 damping=1.0, callback=lambda info: seen.append(info.nit))
    assert r.nit >= 2 and seen == list(range(1, r.nit + 1))
