"""gk.minimize: every full-batch method through one table of problems, and the shared contract."""
import math

import numpy as np
import pytest

from gradkit.optim.minimize import METHODS, OptimizeResult, inf_norm, minimize

from .problems import assert_best_point_returned, problem


# (method, problem, options, |f - f*| must be <= this)
SMOOTH = ["quadratic-well", "quadratic-ill", "rosenbrock-2", "beale", "himmelblau",
          "logistic-breast-cancer"]
CASES = (
    [("lbfgs", p, {}, 1e-8) for p in SMOOTH + ["rosenbrock-100"]]
    + [("bfgs", p, {}, 1e-8) for p in SMOOTH + ["rosenbrock-100"]]
    + [("newton-cg", p, {}, 1e-8) for p in SMOOTH + ["rosenbrock-100"]]
    + [("newton", p, {}, 1e-8) for p in SMOOTH]
    + [("lbfgs", p, {"line_search": "armijo"}, 1e-8) for p in ["quadratic-well", "rosenbrock-2"]]
    + [("gd", "quadratic-well", {}, 1e-8),
       # condition number 1e4: steepest descent crawls, (1 - 1/kappa)^k, as the theory says
       ("gd", "quadratic-ill", {"max_iter": 3000, "tol": 1e-3}, 1e-1),
       ("gd", "himmelblau", {}, 1e-8),
       ("gd", "beale", {"max_iter": 3000, "tol": 1e-4}, 1e-5),
       ("gd", "rosenbrock-2", {"max_iter": 3000, "tol": 1e-3}, 1e-3),
       ("gd", "quadratic-well", {"line_search": "armijo"}, 1e-8),
       ("gd", "quadratic-well", {"line_search": None, "learning_rate": 0.1}, 1e-8),
       ("gd", "logistic-breast-cancer", {"max_iter": 3000, "tol": 1e-3}, 1e-4),
       ("fista", "quadratic-well", {}, 1e-8),
       ("fista", "logistic-breast-cancer", {"max_iter": 3000, "tol": 1e-4}, 1e-6),
       ("ista", "quadratic-well", {}, 1e-8)]
)


@pytest.mark.parametrize("method,name,options,ftol", CASES,
                         ids=[f"{m}-{p}-{'-'.join(map(str, o.values()))}" for m, p, o, _ in CASES])
def test_method_reaches_the_minimum(method, name, options, ftol):
    f, x0, fstar = problem(name)
    r = minimize(f, x0, method=method, **options)
    assert abs(r.fun - fstar) <= ftol * max(1.0, abs(fstar)), r.message
    if options.get("max_iter") != 3000 or r.status != 1:
        assert r.status in (0, 2), r.message  # converged, or rounding stopped it at the minimum
    assert_best_point_returned(r)
    assert len(r.history["f"]) == r.nit + 1
    assert r.nfev >= r.nit and r.ngev >= 1


@pytest.mark.parametrize("name", ["quadratic-well", "quadratic-ill"])
def test_newton_solves_a_quadratic_in_one_step(name):
    f, x0, fstar = problem(name)
    r = minimize(f, x0, method="newton")
    assert r.nit == 1 and r.nhev == 1 and r.success
    assert abs(r.fun - fstar) <= 1e-10 * abs(fstar)


def test_newton_shifts_an_indefinite_hessian_and_still_descends():
    # the saddle of x^4/4 - x^2/2 + y^2 at the origin's neighbourhood: H = diag(-1, 2)
    f = lambda x: 0.25 * x[0] ** 4 - 0.5 * x[0] ** 2 + x[1] ** 2  # noqa: E731
    r = minimize(f, np.array([1e-3, 1.0]), method="newton")
    assert r.success and abs(r.fun + 0.25) < 1e-12


# ----------------------------------------------------------------------------- the contract
def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Valid methods: .*'lbfgs'.*'frank-wolfe'"):
        minimize(lambda x: np.sum(x ** 2), np.ones(2), method="adamw")


def test_unknown_option_is_named():
    with pytest.raises(ValueError, match="does not take the option.*'memry'"):
        minimize(lambda x: np.sum(x ** 2), np.ones(2), method="lbfgs", memry=5)


def test_every_method_name_is_listed():
    for name in ["gd", "newton", "newton-cg", "bfgs", "lbfgs", "frank-wolfe", "natural",
                 "proximal", "ista", "fista", "subgradient"]:
        assert name in METHODS


def test_nan_stops_the_run_and_keeps_the_last_finite_point():
    # f is NaN for x > 3: a fixed step of 1.5 jumps there from 1 -> 2.5 -> 4
    f = lambda x: np.sum(np.where(x > 3.0, np.nan, -x))  # noqa: E731
    r = minimize(f, np.array([1.0]), method="gd", line_search=None, learning_rate=1.5)
    assert not r.success and r.status == 3
    assert "NaN" in r.message
    assert r.x[0] == 2.5 and r.fun == -2.5


def test_a_nan_gradient_stops_lbfgs_and_keeps_the_best_finite_point():
    def value_and_grad(x):  # f stays finite; its gradient is NaN past x_0 = 0.5
        g = np.full_like(x, np.nan) if x[0] > 0.5 else 2.0 * (x - 1.0)
        return np.sum((x - 1.0) ** 2), g
    r = minimize(lambda x: np.sum((x - 1.0) ** 2), np.zeros(2), method="lbfgs",
                 value_and_grad=value_and_grad)
    assert r.status == 3 and "NaN" in r.message
    np.testing.assert_array_equal(r.x, np.zeros(2))
    assert r.fun == 2.0 and r.grad_norm == 2.0


def test_inf_norm_is_the_largest_magnitude_and_passes_nan_on():
    assert inf_norm(np.array([1.0, -3.0, 2.0])) == 3.0
    assert isinstance(inf_norm(np.array([1.0, -3.0])), float)
    assert inf_norm(np.zeros(0)) == 0.0
    assert inf_norm(np.array([[1.0], [-4.0]])) == 4.0
    assert math.isnan(inf_norm(np.array([1.0, np.nan, -2.0])))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_to_inf_returns_the_best_point():
    f = lambda x: np.sum(x ** 2)  # noqa: E731
    r = minimize(f, np.ones(2), method="gd", line_search=None, learning_rate=1e150, max_iter=50)
    assert not r.success and r.status == 3 and "inf" in r.message
    np.testing.assert_array_equal(r.x, np.ones(2))


def test_line_search_backs_off_from_non_finite_values():
    f = lambda x: np.sum(np.where(x > 1.5, np.inf, (x - 1.0) ** 2))  # noqa: E731
    r = minimize(f, np.array([-3.0]), method="lbfgs")
    assert r.success and abs(r.x[0] - 1.0) < 1e-6


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "gd", "newton", "newton-cg", "fista",
                                    "subgradient"])
def test_callback_returning_true_stops_the_run(method):
    seen = []

    def callback(info):
        seen.append((info.nit, info.fun))
        return info.nit == 3
    f, x0, _ = problem("rosenbrock-2")
    r = minimize(f, x0, method=method, callback=callback)
    assert r.status == 4 and r.nit == 3 and not r.success
    assert [k for k, _ in seen] == [1, 2, 3]
    assert_best_point_returned(r)


def test_pytree_x0_round_trips():
    target = {"w": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array(-1.0), "c": [np.ones(3)]}

    def f(p):
        return (np.sum((p["w"] - target["w"]) ** 2) + (p["b"] - target["b"]) ** 2
                + np.sum((p["c"][0] - 1.0) ** 2))
    x0 = {"w": np.zeros((2, 2)), "b": np.array(0.0), "c": [np.zeros(3)]}
    for method in ["lbfgs", "newton", "newton-cg", "bfgs"]:
        r = minimize(f, x0, method=method)
        assert set(r.x) == {"w", "b", "c"} and r.x["w"].shape == (2, 2)
        np.testing.assert_allclose(r.x["w"], target["w"], atol=1e-6)
        np.testing.assert_allclose(r.x["c"][0], np.ones(3), atol=1e-6)


def test_user_gradient_is_used_and_counted():
    calls = []

    def grad(x):
        calls.append(1)
        return 2.0 * (x - 1.0)
    r = minimize(lambda x: float(np.sum((x - 1.0) ** 2)), np.zeros(3), grad=grad)
    assert r.success and len(calls) == r.ngev
    np.testing.assert_allclose(r.x, 1.0)


def test_user_value_and_grad_and_hvp():
    vg = lambda x: (np.sum(x ** 4), 4 * x ** 3)  # noqa: E731
    hvp = lambda x, v: 12 * x ** 2 * v  # noqa: E731
    r = minimize(lambda x: np.sum(x ** 4), np.ones(2), method="newton-cg", value_and_grad=vg,
                 hvp=hvp, tol=1e-8)
    assert r.success and r.nhev > 0 and r.fun < 1e-10


def test_history_and_result_fields():
    r = minimize(*problem("himmelblau")[:2], method="lbfgs")
    assert isinstance(r, OptimizeResult)
    for key in ["x", "fun", "grad_norm", "nit", "nfev", "ngev", "nhev", "success", "status",
                "message", "history"]:
        assert key in r and getattr(r, key) is r[key]
    assert set(r.history) >= {"f", "grad_norm", "step_size"}
    assert r.grad_norm <= 1e-6 and r.history["grad_norm"][-1] == r.grad_norm
    with pytest.raises(AttributeError, match="has no field"):
        r.jac


def test_max_iter_and_n_iter_no_change():
    f, x0, _ = problem("rosenbrock-2")
    r = minimize(f, x0, method="gd", max_iter=5)
    assert r.status == 1 and r.nit == 5 and not r.success and "max_iter" in r.message
    flat = lambda x: np.sum(np.abs(x))  # noqa: E731  the subgradient method oscillates
    r = minimize(flat, np.array([0.3]), method="subgradient", learning_rate=1.0,
                 n_iter_no_change=5)
    assert r.status == 5 and r.success and r.nit < 50


def test_tol_is_the_gradient_inf_norm():
    f, x0, _ = problem("quadratic-well")
    for tol in [1e-2, 1e-5]:
        r = minimize(f, x0, method="bfgs", tol=tol)
        assert r.grad_norm <= tol
        assert r.history["grad_norm"][-2] > tol  # it did not stop later than needed


def test_args_are_passed_to_fun_and_to_user_derivatives_as_in_scipy():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)

    def f(w, X, y):
        return 0.5 * np.sum((X @ w - y) ** 2)

    def grad(w, X, y):
        return X.T @ (X @ w - y)

    expected = np.linalg.lstsq(X, y, rcond=None)[0]
    for kwargs in ({}, {"grad": grad}):
        r = minimize(f, np.zeros(3), method="lbfgs", args=(X, y), **kwargs)
        np.testing.assert_allclose(r.x, expected, atol=1e-6)
    r = minimize(f, np.zeros(3), method="newton-cg", args=(X, y),
                    hvp=lambda w, v, X, y: X.T @ (X @ v))
    np.testing.assert_allclose(r.x, expected, atol=1e-6)


@pytest.mark.parametrize("method", ["gd", "newton", "newton-cg", "bfgs", "lbfgs", "trust-ncg",
                                    "trust-exact", "subgradient", "proximal", "frank-wolfe"])
def test_the_callback_runs_once_per_iteration_the_converging_one_included(method):
    """scipy's rule: the callback sees every finished iteration. (Newton on a quadratic
    converges in one iteration, which used to reach no callback at all.)"""
    from gradkit.optim import L2Ball
    seen = []
    kw = {"constraint": L2Ball(10.0)} if method == "frank-wolfe" else {}
    r = minimize(lambda x: np.sum((x - 1.0) ** 2 * np.arange(1.0, 4.0)), np.zeros(3),
                 method=method, callback=lambda info: seen.append(info.nit), max_iter=500,
                 **kw)
    assert seen == list(range(1, r.nit + 1))


def test_a_list_of_numbers_is_an_array_as_in_scipy():
    r = minimize(lambda x: np.sum((x - np.array([1.0, -2.0])) ** 2), [0.0, 0])
    assert isinstance(r.x, np.ndarray) and np.allclose(r.x, [1.0, -2.0])
    tree = minimize(lambda p: np.sum((p[0] - 1.0) ** 2), [np.zeros(2)])  # arrays: a pytree
    assert isinstance(tree.x, list) and np.allclose(tree.x[0], 1.0)


@pytest.mark.parametrize("name, ours", [("maxiter", "max_iter="), ("jac", "grad="),
                                        ("hessp", "hvp="), ("gtol", "tol="),
                                        ("options", "to give the options as keywords")])
def test_scipys_option_names_are_refused_with_gradkits(name, ours):
    with pytest.raises(TypeError, match=f"{name}= is scipy's name; gradkit's is {ours}"):
        minimize(lambda x: np.sum(x ** 2), np.ones(2), **{name: 10})
