"""Trust-region Newton (trust-ncg, trust-exact) against scipy's, and its subproblem solvers."""
import math

import numpy as np
import pytest
from scipy.optimize import minimize as sp_minimize

import gradkit as gk
from gradkit.optim.minimize import minimize
from gradkit.optim.trust_region import SteihaugPath, exact_trust_region_step

from .problems import PROBLEMS, assert_best_point_returned, problem


def _fg(f):
    vg = gk.value_and_grad(f)

    def fg(x):
        v, g = vg(x)
        return float(gk.stop_gradient(v)), g
    return fg


def _solved(fun, fstar):
    return abs(fun - fstar) <= 1e-6 * max(1.0, abs(fstar))


def test_trust_ncg_solves_as_many_as_scipy_with_no_more_hessian_vector_products():
    # scipy's gtol is on ||g||_2; ours on ||g||_inf, so tol = 1e-6 / sqrt(n) is the same or a
    # stricter test: our counts are not bought with a looser stop
    ours_solved = theirs_solved = ours_hvp = theirs_hvp = ours_fev = theirs_fev = 0
    for name in PROBLEMS:
        f, x0, fstar = problem(name)
        theirs = sp_minimize(_fg(f), x0, jac=True, hessp=gk.hvp(f), method="trust-ncg",
                             options=dict(gtol=1e-6))
        ours = minimize(f, x0, method="trust-ncg", tol=1e-6 / math.sqrt(x0.size))
        assert_best_point_returned(ours)
        ours_solved += _solved(ours.fun, fstar) and ours.success
        theirs_solved += _solved(theirs.fun, fstar) and theirs.success
        ours_hvp += ours.nhev
        theirs_hvp += theirs.nhev
        ours_fev += ours.nfev
        theirs_fev += theirs.nfev
    assert theirs_solved == len(PROBLEMS)  # the comparison means something only if it does
    assert ours_solved >= theirs_solved
    assert ours_hvp <= theirs_hvp, (ours_hvp, theirs_hvp)
    assert ours_fev <= 1.05 * theirs_fev, (ours_fev, theirs_fev)  # not bought with values


@pytest.mark.parametrize("name", ["quadratic-ill", "rosenbrock-2", "beale", "himmelblau",
                                  "logistic-breast-cancer"])
def test_trust_exact_agrees_with_scipy(name):
    f, x0, fstar = problem(name)
    theirs = sp_minimize(_fg(f), x0, jac=True, hess=gk.hessian(f), method="trust-exact",
                         options=dict(gtol=1e-6))
    ours = minimize(f, x0, method="trust-exact", tol=1e-6 / math.sqrt(x0.size))
    assert ours.success, ours.message
    assert _solved(ours.fun, fstar) and _solved(theirs.fun, fstar)
    np.testing.assert_allclose(ours.x, theirs.x, atol=1e-5)
    assert ours.nhev <= theirs.nhev  # one Hessian per accepted step, none for a rejected one


def test_steihaug_path_matches_cg_then_boundary():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6))
    H = A @ A.T + 0.1 * np.eye(6)
    g = rng.standard_normal(6)
    newton = -np.linalg.solve(H, g)
    path = SteihaugPath(lambda v: H @ v, g, cg_tol=1e-12, max_iter=50)
    p, dec, on_boundary = path(2.0 * np.linalg.norm(newton))
    np.testing.assert_allclose(p, newton, rtol=1e-8)
    assert not on_boundary
    assert dec == pytest.approx(-(g @ newton + 0.5 * newton @ H @ newton))
    used = path.n_hvp
    for radius in np.array([0.5, 0.1, 1e-3]) * np.linalg.norm(newton):
        p, dec, on_boundary = path(radius)
        assert on_boundary and np.linalg.norm(p) == pytest.approx(radius)
        assert dec == pytest.approx(-(g @ p + 0.5 * p @ H @ p))  # the model, from the path
        assert dec > 0
    assert path.n_hvp == used  # a smaller radius costs no product


def test_steihaug_follows_negative_curvature_to_the_boundary():
    H = np.diag([-1.0, 1.0])
    p, dec, on_boundary = SteihaugPath(lambda v: H @ v, np.array([1.0, 0.0]), 1e-10, 10)(3.0)
    np.testing.assert_allclose(p, [-3.0, 0.0])
    assert on_boundary and dec == pytest.approx(3.0 + 4.5)


@pytest.mark.parametrize("seed", range(5))
def test_exact_step_is_the_global_minimizer_of_the_model(seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((5, 5))
    H = 0.5 * (A + A.T)  # indefinite
    g = rng.standard_normal(5)
    lam, Q = np.linalg.eigh(H)
    radius = 0.7
    p, dec, on_boundary = exact_trust_region_step(lam, Q, g, radius)
    model = lambda s: g @ s + 0.5 * s @ H @ s  # noqa: E731
    assert on_boundary and np.linalg.norm(p) == pytest.approx(radius, rel=1e-8)
    assert dec == pytest.approx(-model(p))
    # no point of the ball does better (random points on and inside the sphere)
    S = rng.standard_normal((20000, 5))
    S *= radius * rng.uniform(0, 1, (20000, 1)) ** 0.2 / np.linalg.norm(S, axis=1, keepdims=True)
    assert model(p) <= np.min(np.einsum("ij,j->i", S, g)
                              + 0.5 * np.einsum("ij,jk,ik->i", S, H, S)) + 1e-12


def test_exact_step_hard_case():
    # g has no component on the lowest eigenvector: the step goes along it to the boundary
    lam, Q = np.array([-1.0, 2.0]), np.eye(2)
    p, dec, on_boundary = exact_trust_region_step(lam, Q, np.array([0.0, 2.0]), 2.0)
    assert on_boundary and np.linalg.norm(p) == pytest.approx(2.0)
    np.testing.assert_allclose(p[1], -2.0 / 3.0)
    assert dec == pytest.approx(-(2.0 * p[1] + 0.5 * (-p[0] ** 2 + 2.0 * p[1] ** 2)))


@pytest.mark.parametrize("method", ["trust-ncg", "trust-exact"])
def test_a_diverging_objective_keeps_the_best_point(method):
    # f = inf beyond |x| > 1: every step past it is rejected, the radius shrinks, no NaN out
    f = lambda x: np.where(np.abs(x[0]) > 1.0, np.inf, -x[0] ** 3 + x[0] + x[1] ** 2)  # noqa
    r = minimize(f, np.array([0.9, 0.3]), method=method, max_iter=50,
                 initial_trust_radius=10.0)
    assert np.isfinite(r.fun) and np.all(np.abs(r.x) <= 1.0)
    assert_best_point_returned(r)


def test_options_are_checked():
    f = lambda x: np.sum(x ** 2)  # noqa: E731
    with pytest.raises(ValueError, match="initial_trust_radius"):
        minimize(f, np.ones(2), method="trust-ncg", initial_trust_radius=2e3)
    with pytest.raises(ValueError, match="eta"):
        minimize(f, np.ones(2), method="trust-exact", eta=0.5)
    with pytest.raises(ValueError, match="does not take"):
        minimize(f, np.ones(2), method="trust-exact", cg_max_iter=3)


def test_a_path_too_large_to_keep_gives_the_same_steps_at_more_products(monkeypatch):
    f, x0, _ = problem("rosenbrock-100")
    kept = minimize(f, x0, method="trust-ncg", max_iter=60)
    monkeypatch.setattr(SteihaugPath, "max_stored", 4 * 100 * 2)  # two CG steps of n = 100
    rerun = minimize(f, x0, method="trust-ncg", max_iter=60)
    np.testing.assert_allclose(rerun.x, kept.x, rtol=1e-12, atol=1e-14)
    assert rerun.history["f"] == pytest.approx(kept.history["f"], rel=1e-12)
    assert rerun.nhev > kept.nhev  # rejected steps ran CG again


@pytest.mark.parametrize("method", ["trust-ncg", "trust-exact"])
def test_pytrees_and_args(method):
    def f(p, c):
        return np.sum((p["a"] - c) ** 2) + 100.0 * np.sum((p["b"] - p["a"][0] ** 2) ** 2)
    r = minimize(f, {"a": np.zeros(2), "b": np.zeros((2, 2))}, method=method, args=(1.5,),
                 tol=1e-10)
    assert r.success, r.message
    np.testing.assert_allclose(r.x["a"], 1.5, atol=1e-6)
    np.testing.assert_allclose(r.x["b"], 2.25, atol=1e-6)
