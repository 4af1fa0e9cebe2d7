"""ISTA / FISTA reach scikit-learn's Lasso and ElasticNet solutions, with exact zeros; subgradient."""
import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet, Lasso

from gradkit.optim.minimize import minimize
from gradkit.optim.proximal import prox_elastic_net, soft_threshold

from .problems import assert_best_point_returned

X, y = load_diabetes(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
y = (y - y.mean()) / y.std()
n = X.shape[0]


def half_mse(w):
    r = y - X @ w
    return np.sum(r * r) / (2 * n)


@pytest.mark.parametrize("method", ["ista", "fista"])
@pytest.mark.parametrize("alpha", [0.01, 0.1])
def test_reaches_the_lasso_solution_with_exact_zeros(method, alpha):
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100000).fit(X, y).coef_
    r = minimize(half_mse, np.zeros(X.shape[1]), method=method, l1=alpha, tol=1e-9,
                 max_iter=20000)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, ref, atol=1e-6)
    assert (ref == 0).sum() > 0
    np.testing.assert_array_equal(r.x == 0.0, ref == 0.0)  # the same exact zeros
    assert r.fun == pytest.approx(half_mse(ref) + alpha * np.abs(ref).sum(), abs=1e-10)


def test_reaches_the_elastic_net_solution():
    alpha, l1_ratio = 0.1, 0.5
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=1e-12,
                     max_iter=100000).fit(X, y).coef_
    r = minimize(half_mse, np.zeros(X.shape[1]), method="proximal", l1=alpha * l1_ratio,
                 l2=alpha * (1 - l1_ratio), tol=1e-9, max_iter=20000)
    np.testing.assert_allclose(r.x, ref, atol=1e-6)


def test_fista_needs_fewer_iterations_than_ista():
    its = {m: minimize(half_mse, np.zeros(10), method=m, l1=0.01, tol=1e-8, max_iter=20000).nit
           for m in ["ista", "fista"]}
    assert its["fista"] < its["ista"]


@pytest.mark.parametrize("v,t,l1,l2,expected", [
    ([3.0, -0.5, 0.5], 1.0, 1.0, 0.0, [2.0, 0.0, 0.0]),
    ([3.0, -3.0], 0.5, 2.0, 2.0, [1.0, -1.0]),
    ([1.0], 1.0, 0.0, 1.0, [0.5]),
])
def test_prox_operators(v, t, l1, l2, expected):
    np.testing.assert_allclose(prox_elastic_net(np.array(v), t, l1, l2), expected)
    if l2 == 0:
        np.testing.assert_array_equal(soft_threshold(np.array(v), t * l1), expected)


def test_negative_penalty_is_refused():
    with pytest.raises(ValueError, match="l1 must be a number >= 0"):
        minimize(half_mse, np.zeros(10), method="proximal", l1=-1.0)


# ----------------------------------------------------------------------------- per-coordinate
def test_prox_thresholds_each_coordinate_by_its_own_weight():
    v = np.array([3.0, -3.0, 3.0, 0.5])
    l1, l2 = np.array([1.0, 2.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(prox_elastic_net(v, 1.0, l1, l2), [2.0, -0.5, 3.0, 0.0])


C = np.array([[3.0, -0.5], [-2.0, 4.0]])


@pytest.mark.parametrize("x0, l1, l2, expected", [
    # separable quadratic 0.5 ||x - C||^2: the minimizer is the prox of C itself
    (np.zeros((2, 2)), np.array([[1.0, 1.0], [0.0, 0.0]]), 0.0, [[2.0, 0.0], [-2.0, 4.0]]),
    (np.zeros((2, 2)), np.array([0.0, 1.0]), 0.0, [[3.0, 0.0], [-2.0, 3.0]]),  # broadcast
    (np.zeros((2, 2)), 0.0, np.array([[1.0, 0.0], [0.0, 3.0]]), [[1.5, -0.5], [-2.0, 1.0]]),
    ({"w": np.zeros(2), "b": np.zeros(2)}, {"w": 1.0, "b": 0.0}, 0.0,
     {"w": [2.0, 0.0], "b": [-2.0, 4.0]}),
    ({"w": np.zeros(2), "b": np.zeros(2)}, {"w": np.array([0.0, 1.0]), "b": 2.0}, 0.0,
     {"w": [3.0, 0.0], "b": [0.0, 2.0]}),
], ids=["array", "broadcast", "l2-array", "tree-per-leaf", "tree-mixed"])
def test_per_coordinate_weights_shrink_only_their_coordinates(x0, l1, l2, expected):
    def f(x):
        v = np.stack([x["w"], x["b"]]) if isinstance(x, dict) else x
        return 0.5 * np.sum((v - C) ** 2)

    r = minimize(f, x0, method="fista", l1=l1, l2=l2, tol=1e-10)
    assert r.success, r.message
    for got, want in ([(r.x[k], expected[k]) for k in expected] if isinstance(x0, dict)
                      else [(r.x, expected)]):
        np.testing.assert_allclose(got, want, atol=1e-8)


def test_an_unpenalized_coordinate_is_not_shrunk_on_a_real_problem():
    """A lasso with an unpenalized first coefficient: that coefficient is the least-squares
    value given the others (its gradient is 0), the rest solve the lasso."""
    w = np.full(X.shape[1], 0.1)
    w[0] = 0.0
    r = minimize(half_mse, np.zeros(X.shape[1]), method="fista", l1=w, tol=1e-10,
                 max_iter=20000)
    assert r.success, r.message
    grad = -X.T @ (y - X @ r.x) / n
    assert abs(grad[0]) <= 1e-8 and r.x[0] != 0.0
    assert r.fun == pytest.approx(half_mse(r.x) + np.sum(w * np.abs(r.x)), abs=1e-12)


@pytest.mark.parametrize("l1, message", [
    (np.array([1.0, -1.0]), "negative or NaN"),
    (np.ones(3), "structure of x0"),
    ({"w": 1.0}, "structure"),
])
def test_bad_weights_are_refused(l1, message):
    x0 = {"w": np.zeros(2), "b": 0.0} if isinstance(l1, dict) else np.zeros(2)
    with pytest.raises(ValueError, match=message):
        minimize(lambda x: 0.0 * np.sum(x["w"] if isinstance(x, dict) else x), x0,
                 method="proximal", l1=l1)


# ----------------------------------------------------------------------------- subgradient
def _hinge_problem():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 3))
    t = np.sign(Z @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(200))

    def hinge(w):
        return np.mean(np.maximum(0.0, 1.0 - t * (Z @ w))) + 0.05 * np.sum(w * w)
    return hinge, Z, t


def _hinge_optimum(Z, t):
    # the same objective as a smooth QP-free reference: scipy on the exact objective with
    # many Nelder-Mead restarts is slow; use a fine subgradient-free solve via linear program
    from scipy.optimize import minimize as sp_minimize
    fun = lambda w: np.mean(np.maximum(0.0, 1.0 - t * (Z @ w))) + 0.05 * w @ w  # noqa: E731
    best = sp_minimize(fun, np.zeros(3), method="Powell", options=dict(xtol=1e-10, ftol=1e-12))
    return best.fun


SUBGRADIENT_CASES = [  # (name, schedule, learning rate, normalize)
    ("sqrt", "sqrt", 0.5, False),
    ("harmonic", "harmonic", 2.0, False),
    ("normalized", "sqrt", 0.5, True),
]


@pytest.mark.parametrize("name,schedule,lr,normalize", SUBGRADIENT_CASES,
                         ids=[c[0] for c in SUBGRADIENT_CASES])
def test_subgradient_reaches_the_hinge_optimum(name, schedule, lr, normalize):
    hinge, Z, t = _hinge_problem()
    fstar = _hinge_optimum(Z, t)
    r = minimize(hinge, np.zeros(3), method="subgradient", learning_rate=lr,
                 schedule=schedule, normalize=normalize, max_iter=2000)
    assert r.fun - fstar <= 5e-3
    assert_best_point_returned(r)  # not monotone: the best point is kept


def test_subgradient_on_l1_reaches_the_kink():
    target = np.array([1.0, -2.0, 0.0])
    r = minimize(lambda x: np.sum(np.abs(x - target)), np.zeros(3), method="subgradient",
                 learning_rate=1.0, max_iter=2000)
    assert r.fun < 0.05
