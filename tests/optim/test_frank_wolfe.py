"""Frank-Wolfe: iterates stay in every set, and the duality gap bounds the true suboptimality."""
import numpy as np
import pytest

from gradkit.optim.frank_wolfe import Box, L1Ball, L2Ball, NuclearNormBall, Simplex
from gradkit.optim.minimize import minimize

rng = np.random.default_rng(0)
A = rng.standard_normal((30, 8))
b = rng.standard_normal(30)
M = rng.standard_normal((5, 4)) * 2.0


def least_squares(x):
    r = A @ x - b
    return 0.5 * np.sum(r * r)


def matrix_fit(X):
    return 0.5 * np.sum((X - M) ** 2)


def _fstar(f, x0, constraint):
    """f* by projected gradient with many steps (the oracle), using each set's projection."""
    x, L = x0.copy(), np.linalg.norm(A, 2) ** 2 if x0.ndim == 1 else 1.0
    import gradkit as gk
    g = gk.grad(f)
    for _ in range(5000):
        x = constraint.project(x - g(x) / L)
    return float(f(x))


SETS = [  # (name, f, x0, constraint)
    ("simplex", least_squares, np.full(8, 1 / 8), Simplex()),
    ("simplex-r3", least_squares, np.r_[3.0, np.zeros(7)], Simplex(3.0)),
    ("l1-ball", least_squares, np.zeros(8), L1Ball(0.5)),
    ("l2-ball", least_squares, np.zeros(8), L2Ball(0.3)),
    ("box", least_squares, np.zeros(8), Box(-0.1, np.linspace(0.05, 0.2, 8))),
    ("nuclear", matrix_fit, np.zeros((5, 4)), NuclearNormBall(3.0)),
]


@pytest.mark.parametrize("step", ["classic", "short", "backtracking"])
@pytest.mark.parametrize("name,f,x0,constraint", SETS, ids=[s[0] for s in SETS])
def test_iterates_stay_in_the_set_and_the_gap_bounds_suboptimality(name, f, x0, constraint,
                                                                   step):
    fstar = _fstar(f, x0, constraint)
    seen = []
    r = minimize(f, x0, method="frank-wolfe", constraint=constraint, step=step, tol=1e-4,
                 max_iter=300, callback=lambda info: seen.append(info))
    assert all(constraint.contains(info.x) for info in seen)
    gaps, fs = r.history["gap"], r.history["f"]
    assert all(fk - fstar <= gap + 1e-9 for fk, gap in zip(fs, gaps))  # the certificate
    assert min(gaps) >= -1e-12
    # vanilla Frank-Wolfe is sublinear (zig-zags when the solution is on a face): O(1/k)
    assert r.fun - fstar <= 2e-2 * max(1.0, abs(fstar))
    assert r.x.shape == x0.shape


def test_gap_is_the_stopping_test():
    # over a strongly convex set (a ball) Frank-Wolfe converges linearly
    r = minimize(least_squares, np.zeros(8), method="frank-wolfe", constraint=L2Ball(0.3),
                 tol=1e-6, max_iter=2000)
    assert r.success and r.history["gap"][-1] <= 1e-6 and r.grad_norm <= 1e-6


def test_short_step_with_a_known_lipschitz_constant():
    L = np.linalg.norm(A, 2) ** 2
    r = minimize(least_squares, np.zeros(8), method="frank-wolfe", constraint=L2Ball(0.3),
                 step="short", lipschitz=L, tol=1e-6, max_iter=2000)
    assert r.success


@pytest.mark.parametrize("constraint,x0,match", [
    (None, np.zeros(2), "needs constraint="),
    (Simplex(), np.zeros(2), "outside the constraint set"),
    (L1Ball(1.0), np.array([2.0, 0.0]), "outside"),
])
def test_bad_inputs_are_explained(constraint, x0, match):
    with pytest.raises(ValueError, match=match):
        minimize(lambda x: np.sum(x ** 2), x0, method="frank-wolfe", constraint=constraint)


@pytest.mark.parametrize("constraint,g,expected", [
    (Simplex(2.0), np.array([1.0, -1.0, 0.0]), np.array([0.0, 2.0, 0.0])),
    (L1Ball(1.0), np.array([0.1, -4.0]), np.array([0.0, 1.0])),
    (L2Ball(5.0), np.array([0.0, -2.0]), np.array([0.0, 5.0])),
    (Box(np.array([-1.0, -2.0]), 3.0), np.array([1.0, -1.0]), np.array([-1.0, 3.0])),
])
def test_linear_minimization_oracles(constraint, g, expected):
    s = constraint.lmo(g)
    np.testing.assert_allclose(s, expected)
    assert constraint.contains(s)


def test_nuclear_oracle_is_rank_one_and_optimal():
    G = rng.standard_normal((4, 3))
    S = NuclearNormBall(2.0).lmo(G)
    assert np.linalg.matrix_rank(S) == 1
    np.testing.assert_allclose(np.sum(G * S), -2.0 * np.linalg.svd(G, compute_uv=False)[0])
