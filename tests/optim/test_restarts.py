"""minimize(..., n_restarts=k): random starts around x0, the best run kept and named."""
import numpy as np
import pytest

from gradkit.optim.minimize import minimize
from gradkit.optim.landscapes import beale


def test_restarts_escape_the_valley_a_single_start_slides_into():
    x0 = np.array([-4.0, 4.0])  # from here Newton follows beale's valley towards x -> -inf
    single = minimize(beale, x0, method="newton", max_iter=200)
    assert single.fun > 0.4
    r = minimize(beale, x0, method="newton", max_iter=200, n_restarts=10, random_state=0)
    assert r.success and r.fun < 1e-12
    np.testing.assert_allclose(r.x, [3.0, 0.5], atol=1e-6)
    assert r.n_restarts == 10 and len(r.restart_fun) == 11 and r.restart != 0
    assert r.fun == min(r.restart_fun)
    # the winner is reproducible from the start it names; the counts are every run's
    again = minimize(beale, r.restart_x0, method="newton", max_iter=200)
    assert again.fun == r.fun and again.nit == r.nit
    assert r.nfev > again.nfev and r.nhev > again.nhev


def test_the_starts_follow_the_documented_distribution():
    x0 = np.array([0.0, 10.0, -3.0])
    w = np.array([1.0, 1e3, 1e6])  # f(x) = w . x tells the start's coordinates apart
    # tol this large stops every run at its start, so restart_fun is f at each start
    r = minimize(lambda x: x @ w, x0, method="gd", tol=1e300, n_restarts=500,
                 random_state=np.random.default_rng(1), restart_scale=0.5)
    rng = np.random.default_rng(1)  # sigma_j = restart_scale * max(1, |x0_j|), around x0
    draws = x0 + 0.5 * np.maximum(1.0, np.abs(x0)) * rng.standard_normal((500, 3))
    np.testing.assert_allclose(r.restart_fun, np.r_[x0 @ w, draws @ w], rtol=1e-12)
    assert r.restart == 1 + int(np.argmin(draws @ w))
    np.testing.assert_array_equal(r.restart_x0, draws[r.restart - 1])


def test_the_same_seed_gives_the_same_result_and_trees_work():
    f = lambda p: np.sum((p["a"] - 1.0) ** 2) + np.sum(np.cos(3 * p["b"]) + p["b"] ** 2)  # noqa
    x0 = {"a": np.zeros(2), "b": np.array([2.0])}
    r1 = minimize(f, x0, method="lbfgs", n_restarts=4, random_state=3)
    r2 = minimize(f, x0, method="lbfgs", n_restarts=4, random_state=3)
    assert r1.fun == r2.fun and r1.restart == r2.restart
    assert set(r1.x) == {"a", "b"} and set(r1.restart_x0) == {"a", "b"}
    assert r1.fun <= min(r1.restart_fun)


def test_restart_options_are_checked():
    f = lambda x: np.sum(x ** 2)  # noqa: E731
    with pytest.raises(ValueError, match="n_restarts"):
        minimize(f, np.ones(2), n_restarts=-1)
    with pytest.raises(ValueError, match="restart_scale"):
        minimize(f, np.ones(2), n_restarts=2, restart_scale=0.0)


def test_race_shows_the_winning_restart():
    from gradkit.cli.race import run_racer
    r = run_racer("newton", beale, np.array([-4.0, 4.0]), 200, restarts=10, seed=0)
    assert "best of 11 starts" in r["status"] and r["f"][-1] < 1e-12
    plain = run_racer("newton", beale, np.array([-4.0, 4.0]), 200)
    assert plain["f"][-1] > 0.4
    assert r["nfev"][-1] > plain["nfev"][-1]  # every start's evaluations are counted
    assert len(r["path"]) == len(r["f"]) == len(r["nfev"])
