"""L-BFGS's pieces: the compact memory, the modified secant pair, the relaxed Wolfe search, and
its evaluation count on extended Rosenbrock (issue 3, W6)."""
import numpy as np
import pytest

from gradkit.optim.line_search import line_search, strong_wolfe
from gradkit.optim.minimize import Objective, minimize
from gradkit.optim.quasi_newton import LBFGSMemory, _secant_theta

from .problems import assert_best_point_returned, problem


def _two_loop(pairs, g, gamma):
    """H g by Nocedal & Wright's Alg. 7.4: the reference."""
    q, alphas = g.copy(), []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        alphas.append(a)
        q -= a * y
    q *= gamma
    for (s, y), a in zip(pairs, reversed(alphas)):
        q += (a - (y @ q) / (s @ y)) * s
    return q


def test_memory_applies_the_two_loop_recursion_through_wraparound_and_theta():
    rng = np.random.default_rng(0)
    n, m = 7, 3
    mem, kept = LBFGSMemory(n, m, np.zeros(n)), []
    for i in range(8):  # more pairs than slots: the oldest leave, R^-1 keeps up
        s = rng.standard_normal(n)
        y = s + 0.3 * rng.standard_normal(n)
        theta = 0.5 * i if i % 2 else 0.0
        assert mem.update(s, y, theta)
        y = y + theta / (s @ s) * s  # the corrected pair, in every role
        kept = (kept + [(s, y)])[-m:]
        g = rng.standard_normal(n)
        gamma = (s @ y) / (y @ y)
        np.testing.assert_allclose(mem.apply(g), _two_loop(kept, g, gamma), rtol=1e-10,
                                   atol=1e-12)
    mem.reset()
    g = rng.standard_normal(n)
    np.testing.assert_array_equal(mem.apply(g), g)
    s = rng.standard_normal(n)
    assert mem.update(s, 2.0 * s)  # after a reset it fills again from the first slot
    np.testing.assert_allclose(mem.apply(g), _two_loop([(s, 2.0 * s)], g, 0.5), rtol=1e-12)


@pytest.mark.parametrize("n, m", [(7, 3), (100, 10), (5, 1)])
def test_a_full_memory_matches_a_fresh_one_holding_the_same_pairs(n, m):
    # the oldest pair leaves by shifting the stored arrays (R^-1's trailing block, the
    # inner products, D): nothing is recomputed, and nothing stale may leak into a product
    # (only rounding differs: BLAS groups a sum's terms by their slot)
    rng = np.random.default_rng(1)
    full, pairs = LBFGSMemory(n, m, np.zeros(n)), []
    for i in range(3 * m + 2):
        s = rng.standard_normal(n)
        y = s + 0.3 * rng.standard_normal(n)
        theta = 0.5 * i if i % 2 else 0.0
        assert full.update(s, y, theta)
        pairs = (pairs + [(s, y, theta)])[-m:]
        fresh = LBFGSMemory(n, m, np.zeros(n))
        for pair in pairs:
            fresh.update(*pair)
        g = rng.standard_normal(n)
        np.testing.assert_allclose(full.direction(g), fresh.direction(g), rtol=1e-13,
                                   atol=1e-13 * np.abs(fresh.direction(g)).max())
        assert full.gamma == fresh.gamma


def test_direction_is_minus_apply_exactly():
    rng = np.random.default_rng(2)
    mem = LBFGSMemory(6, 2, np.zeros(6))
    g = rng.standard_normal(6)
    np.testing.assert_array_equal(mem.direction(g), -g)  # no pairs yet: steepest descent
    for _ in range(5):
        s = rng.standard_normal(6)
        mem.update(s, s + 0.2 * rng.standard_normal(6), 0.1)
        np.testing.assert_array_equal(mem.direction(g), -mem.apply(g))


def test_memory_in_single_precision_takes_a_double_precision_gradient():
    # x in float32 and a user gradient in float64: the inner products widen to float64
    rng = np.random.default_rng(3)
    mem32, mem64 = LBFGSMemory(5, 3, np.zeros(5, np.float32)), LBFGSMemory(5, 3, np.zeros(5))
    for _ in range(4):
        s = rng.standard_normal(5).astype(np.float32)
        y = s + np.float32(0.3) * rng.standard_normal(5).astype(np.float32)
        mem32.update(s, y, 0.2)
        mem64.update(s, y, 0.2)
    g = rng.standard_normal(5)
    np.testing.assert_allclose(mem32.direction(g), mem64.direction(g), rtol=1e-4)
    assert mem32.direction(g.astype(np.float32)).dtype == np.float32

    def rosen_fg64(x):
        x = x.astype(np.float64)
        d = x[1:] - x[:-1] ** 2
        g = np.zeros_like(x)
        g[:-1] = -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
        g[1:] += 200.0 * d
        return np.sum(100.0 * d * d + (1.0 - x[:-1]) ** 2), g
    f, _, _ = problem("rosenbrock-2")
    r = minimize(f, np.array([-1.2, 1.0], np.float32), method="lbfgs", tol=1e-4,
                 value_and_grad=rosen_fg64)
    assert r.success, r.message


def test_memory_skips_a_pair_without_positive_curvature():
    mem = LBFGSMemory(2, 3, np.zeros(2))
    assert not mem.update(np.array([1.0, 0.0]), np.array([-1.0, 0.0]), theta=5.0)
    assert mem.k == 0


def test_secant_theta_vanishes_on_a_quadratic_and_adds_curvature_on_a_quartic():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    f = lambda x: 0.5 * x @ A @ x  # noqa: E731
    x, s = np.array([1.0, -2.0]), np.array([0.3, 0.7])
    assert _secant_theta(f(x), f(x + s), A @ x, A @ (x + s), s) == 0.0
    # f = x^4 from 1 to 2: s^T y = 28, and theta = 18 brings it to 46, near f''(2) = 48
    theta = _secant_theta(1.0, 16.0, np.array([4.0]), np.array([32.0]), np.array([1.0]))
    assert theta == pytest.approx(18.0)


def _counted(phi):
    calls = []

    def counted(a):
        calls.append(a)
        return phi(a)
    return counted, calls


def test_weak_wolfe_keeps_an_overshooting_step_that_the_strong_search_cuts_back():
    # phi(a) = (a - 0.55)^2: the unit step decreases phi but its slope +0.9 exceeds c2 |phi'(0)|
    phi = lambda a: ((a - 0.55) ** 2, 2.0 * (a - 0.55), None)  # noqa: E731
    weak, calls_weak = _counted(phi)
    strong, calls_strong = _counted(phi)
    alpha, *_, ok = strong_wolfe(weak, 0.3025, -1.1, 1.0, c2=0.5, strong=False)
    assert ok and alpha == 1.0 and calls_weak == [1.0]
    alpha, *_, ok = strong_wolfe(strong, 0.3025, -1.1, 1.0, c2=0.5)
    assert ok and alpha < 1.0 and len(calls_strong) > 1


def test_line_search_takes_the_slope_a_caller_already_has():
    obj = Objective(lambda x: np.sum((x - 1.0) ** 4), np.zeros(3))
    x = np.zeros(3)
    f0, g0 = obj.value_and_grad(x)
    d = -g0
    plain = line_search(obj, x, d, f0, g0, c2=0.5)
    given = line_search(obj, x, d, f0, g0, c2=0.5, dphi0=float(g0 @ d))
    assert plain.success and plain.alpha != 1.0  # a step other than the unit one
    assert given.alpha == plain.alpha and given.f == plain.f
    np.testing.assert_array_equal(given.x, plain.x)
    np.testing.assert_array_equal(given.x, x + plain.alpha * d)
    with pytest.raises(ValueError, match="not a descent direction"):
        line_search(obj, x, d, f0, g0, dphi0=0.0)


def test_a_reference_value_lets_the_step_climb_a_little():
    # phi(1) = 1.01 > phi(0) = 1: rejected from f0, accepted from f_ref = 1.2
    phi = lambda a: (1.0 - a + 1.01 * a * a, -1.0 + 2.02 * a, None)  # noqa: E731
    alpha, value, _, ok = strong_wolfe(phi, 1.0, -1.0, 1.0, strong=False, f_ref=1.2)
    assert ok and alpha == 1.0 and value == pytest.approx(1.01)
    alpha, value, _, ok = strong_wolfe(phi, 1.0, -1.0, 1.0, strong=False)
    assert ok and alpha < 1.0 and value < 1.0


@pytest.mark.parametrize("shift", [0.0, 1e-3, -1e-3])
def test_lbfgs_on_extended_rosenbrock_needs_fewer_evaluations_than_lbfgsb(shift):
    # issue 3, W6: scipy's L-BFGS-B takes 607 (engine f,g) to 630 (hand-written f,g)
    f, x0, _ = problem("rosenbrock-100")
    r = minimize(f, x0 * (1.0 + shift), method="lbfgs", tol=1e-6)
    assert r.status == 0 and r.grad_norm <= 1e-6, r.message
    assert r.nfev <= 600, r.nfev
    np.testing.assert_allclose(r.x, np.ones(100), atol=1e-6)


def test_lbfgs_decreases_f_at_every_step_unless_asked_to_be_nonmonotone():
    f, x0, _ = problem("rosenbrock-100")
    r = minimize(f, x0, method="lbfgs")
    assert np.all(np.diff(r.history["f"]) <= 0.0)
    r = minimize(f, x0, method="lbfgs", nonmonotone=5)
    assert r.success and r.nfev <= 600, (r.message, r.nfev)
    assert np.any(np.diff(r.history["f"]) > 0.0)  # some step climbed
    assert_best_point_returned(r)
    with pytest.raises(ValueError, match="nonmonotone must be an integer >= 1"):
        minimize(f, x0, method="lbfgs", nonmonotone=0)
