"""The problem table every optimizer and method runs through, and the best-point contract."""
import numpy as np

from gradkit.optim.line_search import ROUNDING


def _quadratic(eigs):
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((len(eigs), len(eigs))))
    A = (Q * eigs) @ Q.T
    b = rng.standard_normal(len(eigs))
    fstar = -0.5 * b @ np.linalg.solve(A, b)
    return (lambda x: 0.5 * (x @ (A @ x)) - b @ x), np.zeros(len(eigs)), fstar


def _rosenbrock(n):
    def f(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    return f, np.tile([-1.2, 1.0], n // 2), 0.0


def _beale():
    def f(x):
        a, b = x[0], x[1]
        return ((1.5 - a + a * b) ** 2 + (2.25 - a + a * b ** 2) ** 2
                + (2.625 - a + a * b ** 3) ** 2)
    return f, np.array([1.0, 1.0]), 0.0


def _himmelblau():
    def f(x):
        return (x[0] ** 2 + x[1] - 11.0) ** 2 + (x[0] + x[1] ** 2 - 7.0) ** 2
    return f, np.array([0.0, 0.0]), 0.0


def breast_cancer_logistic():
    """L2-regularised logistic regression (C=1, sklearn scaling) on standardized breast_cancer:
    f(w) = sum_i log(1 + exp(-y_i x_i.w)) + ||w||^2 / 2; also returns model and loss."""
    from sklearn.datasets import load_breast_cancer
    X, y01 = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = 2.0 * y01 - 1.0

    def model(w):
        return X @ w

    def loss(z):
        return np.sum(np.logaddexp(0.0, -y * z))

    def f(w):
        return loss(model(w)) + 0.5 * np.sum(w * w)
    return f, model, loss, X, y


def _logistic():
    f, model, loss, X, y = breast_cancer_logistic()
    from scipy.optimize import minimize as sp_minimize
    from scipy.special import expit

    def fg(w):
        z = y * (X @ w)
        return np.sum(np.logaddexp(0, -z)) + 0.5 * w @ w, X.T @ (-y * expit(-z)) + w
    fstar = sp_minimize(fg, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                        options=dict(gtol=1e-10, ftol=0, maxiter=10000)).fun
    return f, np.zeros(X.shape[1]), fstar


PROBLEMS = {
    "quadratic-well": lambda: _quadratic(np.linspace(1.0, 10.0, 10)),
    "quadratic-ill": lambda: _quadratic(np.logspace(0.0, 4.0, 10)),
    "rosenbrock-2": lambda: _rosenbrock(2),
    "rosenbrock-100": lambda: _rosenbrock(100),
    "beale": _beale,
    "himmelblau": _himmelblau,
    "logistic-breast-cancer": _logistic,
}
_cache = {}


def problem(name):
    """``(f, x0, f*)`` of the problem called ``name`` (built once)."""
    if name not in _cache:
        _cache[name] = PROBLEMS[name]()
    return _cache[name]


def assert_best_point_returned(r):
    """The result is the lowest f seen, up to rounding (values within ROUNDING * |f| of it
    are ties, won by the smaller stopping measure): never a worse point."""
    f, gn = r.history["f"], r.history["grad_norm"]
    lowest = min(f)
    assert lowest <= r.fun <= lowest + ROUNDING * abs(lowest), (r.fun, lowest)
    assert r.grad_norm <= gn[f.index(lowest)]
    assert (r.fun, r.grad_norm) in zip(f, gn)
