"""L-BFGS's pieces: the compact memory, the modified secant pair, the relaxed Wolfe search, and
its evaluation count on extended Rosenbrock (issue 3, W6)."""
import numpy as np
import pytest

from gradkit.optim.line_search import strong_wolfe
from gradkit.optim.minimize import minimize
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
