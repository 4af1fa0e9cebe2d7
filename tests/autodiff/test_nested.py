"""Derivatives of derivatives: every mode over every mode, to any order, with no perturbation
confusion between the traces."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gradkit as gk

R = np.random.default_rng(2)
X = R.standard_normal(4)
V = R.standard_normal(4)


def d(mode, f):
    """The derivative of a scalar function of a scalar, by reverse or forward mode."""
    if mode == "rev":
        return gk.grad(f)
    return lambda x: gk.jvp(f, (x,), (np.ones_like(x),))[1]


MODES = ["rev", "fwd"]
MODE_PAIRS = [(outer, inner) for outer in MODES for inner in MODES]


# (name, f, f', f'')
SCALAR_FUNCTIONS = [
    ("cube", lambda x: x ** 3, lambda x: 3 * x ** 2, lambda x: 6 * x),
    ("sin", np.sin, np.cos, lambda x: -np.sin(x)),
    ("exp", np.exp, np.exp, np.exp),
    ("log", np.log, lambda x: 1 / x, lambda x: -1 / x ** 2),
    ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2,
     lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    ("reciprocal", lambda x: 1.0 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3),
    ("sqrt", np.sqrt, lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x ** -1.5),
    ("x^x", lambda x: x ** x, lambda x: x ** x * (np.log(x) + 1),
     lambda x: x ** x * ((np.log(x) + 1) ** 2 + 1 / x)),
]


@pytest.mark.parametrize("outer, inner", MODE_PAIRS, ids=[f"{o}-over-{i}" for o, i in MODE_PAIRS])
@pytest.mark.parametrize("name, f, df, d2f", SCALAR_FUNCTIONS, ids=[c[0] for c in SCALAR_FUNCTIONS])
def test_second_derivative_of_scalar_functions(name, f, df, d2f, outer, inner):
    x = np.float64(1.3)
    assert_allclose(d(inner, f)(x), df(x), rtol=1e-12)
    assert_allclose(d(outer, d(inner, f))(x), d2f(x), rtol=1e-12)


@pytest.mark.parametrize("modes", [("rev",) * 4, ("fwd",) * 4, ("rev", "fwd", "rev", "fwd"),
                                   ("fwd", "fwd", "rev", "rev")],
                         ids=["rev", "fwd", "alternating", "fwd-fwd-rev-rev"])
def test_derivatives_of_sin_cycle_to_fourth_order(modes):
    x = np.float64(0.7)
    f = np.sin
    want = [np.cos(x), -np.sin(x), -np.cos(x), np.sin(x)]
    for mode, w in zip(modes, want):
        f = d(mode, f)
        assert_allclose(f(x), w, rtol=1e-12)


def test_grad_grad_of_exp_is_exp_to_fifth_order():
    f = np.exp
    for _ in range(5):
        f = gk.grad(f)
    assert_allclose(f(0.5), np.exp(0.5))


# ----------------------------------------------------------------------------- Hessians
Z = R.standard_normal((8, 4))
LABELS = (R.uniform(size=8) > 0.5).astype(float)
LAMBDA = 0.1


def logistic_regression_loss(w):
    logits = Z @ w
    return np.mean(np.logaddexp(0.0, logits) - LABELS * logits) + 0.5 * LAMBDA * np.sum(w * w)


def logistic_regression_hessian(w):
    p = 1.0 / (1.0 + np.exp(-(Z @ w)))
    return Z.T @ (Z * (p * (1 - p))[:, None]) / len(Z) + LAMBDA * np.eye(len(w))


def coupled(x):
    return np.sum(np.sin(x) * x[::-1] ** 2) + (x[0] * x[1]) ** 2


@pytest.mark.parametrize("f", [logistic_regression_loss, coupled], ids=["logistic", "coupled"])
def test_jacobian_of_grad_equals_hessian_in_every_mode(f):
    H = gk.hessian(f)(X)
    for mode in ("fwd", "rev"):
        assert_allclose(gk.jacobian(gk.grad(f), mode=mode)(X), H, rtol=1e-10, atol=1e-12)
    # forward-over-forward: the Jacobian of the forward-mode gradient
    fwd_grad = lambda x: gk.jacobian(f, mode="fwd")(x)  # noqa: E731
    assert_allclose(gk.jacobian(fwd_grad, mode="fwd")(X), H, rtol=1e-10, atol=1e-12)


def test_logistic_regression_hessian_and_hvp_by_hand():
    assert_allclose(gk.hessian(logistic_regression_loss)(X), logistic_regression_hessian(X),
                    rtol=1e-10, atol=1e-12)
    assert_allclose(gk.hvp(logistic_regression_loss)(X, V), logistic_regression_hessian(X) @ V,
                    rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", [logistic_regression_loss, coupled], ids=["logistic", "coupled"])
def test_jvp_of_grad_equals_grad_of_jvp(f):
    # forward-over-reverse and reverse-over-forward both give H v (H is symmetric)
    fwd_over_rev = gk.jvp(gk.grad(f), (X,), (V,))[1]
    rev_over_fwd = gk.grad(lambda x: gk.jvp(f, (x,), (V,))[1])(X)
    rev_over_rev = gk.grad(lambda x: np.sum(gk.grad(f)(x) * V))(X)
    H = gk.hessian(f)(X)
    for hv in (fwd_over_rev, rev_over_fwd, rev_over_rev):
        assert_allclose(hv, H @ V, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- confusion
@pytest.mark.parametrize("outer, inner", MODE_PAIRS, ids=[f"{o}-over-{i}" for o, i in MODE_PAIRS])
def test_no_perturbation_confusion_sum(outer, inner):
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1; a confused engine gives 2
    f = lambda x: x * d(inner, lambda y: x + y)(np.float64(1.0))  # noqa: E731
    assert_allclose(d(outer, f)(np.float64(2.0)), 1.0)


@pytest.mark.parametrize("outer, inner", MODE_PAIRS, ids=[f"{o}-over-{i}" for o, i in MODE_PAIRS])
def test_no_perturbation_confusion_product(outer, inner):
    # inner: d/dy (x * y) = x, so f(x) = x * x and f'(x) = 2 x = 6 at x = 3
    # (a confused engine counts x's own tangent inside the inner derivative)
    f = lambda x: x * d(inner, lambda y: x * y)(np.float64(1.0))  # noqa: E731
    assert_allclose(f(np.float64(3.0)), 9.0)
    assert_allclose(d(outer, f)(np.float64(3.0)), 6.0)


@pytest.mark.parametrize("outer, inner", MODE_PAIRS, ids=[f"{o}-over-{i}" for o, i in MODE_PAIRS])
def test_closure_over_an_outer_tracer(outer, inner):
    # g(x) = d/dy sin(x y) at y = 1 = x cos(x); g'(x) = cos(x) - x sin(x)
    x0 = np.float64(0.8)
    g = lambda x: d(inner, lambda y: np.sin(x * y))(np.float64(1.0))  # noqa: E731
    assert_allclose(g(x0), x0 * np.cos(x0), rtol=1e-12)
    assert_allclose(d(outer, g)(x0), np.cos(x0) - x0 * np.sin(x0), rtol=1e-12)


def test_inner_derivative_of_an_outer_only_function_is_zero():
    # d/dy x^2 = 0, so the outer derivative is 0 as well
    assert_allclose(gk.grad(lambda x: gk.grad(lambda y: x ** 2 + 0.0 * y)(1.0))(3.0), 0.0)


def test_nested_argnums_and_pytrees():
    # mixed second derivative d^2/(dx dy) of sum(x^2 * y) is 2 x (per entry)
    y0 = R.standard_normal(4)
    mixed = gk.jacobian(lambda x: gk.grad(lambda x_, y_: np.sum(x_ ** 2 * y_), argnums=1)(x, y0))
    assert_allclose(mixed(X), np.diag(2 * X))
    h = gk.grad(lambda p: np.sum(gk.grad(lambda q: np.sum(q["w"] ** 3))(p)["w"]))({"w": X})
    assert_allclose(h["w"], 6 * X)
