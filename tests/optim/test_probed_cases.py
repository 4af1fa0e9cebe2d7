"""gk.minimize and the schedules on cases found by probing: each gave a wrong answer without
an error, or an error that named neither the argument nor what to pass."""
import re

import numpy as np
import pytest

import gradkit as gk
from gradkit import optim


def _quadratic(x):
    return np.sum((x - 1.0) ** 2)


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "gd", "newton", "newton-cg", "trust-ncg"])
def test_max_iter_zero_returns_x0(method):
    x0 = np.zeros(2)
    result = gk.minimize(_quadratic, x0, method=method, max_iter=0)
    np.testing.assert_array_equal(result.x, x0)
    assert result.nit == 0 and result.fun == _quadratic(x0) and "max_iter=0" in result.message


def test_args_may_be_one_array_as_in_scipy():
    result = gk.minimize(lambda x, a: np.sum((x - a) ** 2), np.zeros(2), args=np.array([1., 2.]))
    np.testing.assert_allclose(result.x, [1.0, 2.0], atol=1e-6)


def test_tol_may_be_any_real_number():
    for tol in (np.float32(1e-6), np.int64(0), 1e-6):
        assert gk.minimize(_quadratic, np.zeros(2), tol=tol).success


def test_bounds_shaped_like_x0_or_a_dict_x0():
    x = gk.minimize(_quadratic, np.zeros((2, 2)),
                    bounds=(np.zeros((2, 2)), [[0.5, 0.5], [0.5, 2.0]])).x
    np.testing.assert_allclose(x, [[0.5, 0.5], [0.5, 1.0]], atol=1e-6)
    x = gk.minimize(lambda p: np.sum((p["a"] - 1) ** 2) + np.sum((p["b"] + 1) ** 2),
                    {"a": np.zeros(2), "b": np.zeros(1)},
                    bounds=({"a": np.zeros(2), "b": np.full(1, -0.5)},
                            {"a": np.full(2, 0.5), "b": np.ones(1)})).x
    np.testing.assert_allclose(x["a"], [0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(x["b"], [-0.5], atol=1e-6)
    with pytest.raises(ValueError, match="the lower bound has shape"):
        gk.minimize(_quadratic, np.zeros(3), bounds=(np.zeros(2), 1.0))


def test_a_derivative_of_the_wrong_shape_names_the_argument():
    with pytest.raises(ValueError, match="grad= returned 2 entries where x0 has 3"):
        gk.minimize(_quadratic, np.zeros(3), grad=lambda x: np.ones(2))
    with pytest.raises(ValueError, match=r"hess= returned an array of shape \(2, 2\)"):
        gk.minimize(_quadratic, np.zeros(3), method="newton", hess=lambda x: np.eye(2))


def test_a_complex_x0_is_refused_with_the_rewrite():
    with pytest.raises(TypeError, match="real pair"):
        gk.minimize(lambda z: np.sum(np.abs(z - 1j) ** 2), np.zeros(2, complex))


def test_frank_wolfes_restarts_start_inside_the_set():
    target = np.array([0.6, 0.3, 0.1])
    result = gk.minimize(lambda x: np.sum((x - target) ** 2), np.ones(3) / 3,
                         method="frank-wolfe", constraint=optim.Simplex(), n_restarts=3,
                         random_state=0)
    assert result.restart > 0 and optim.Simplex().contains(np.asarray(result.restart_x0))
    np.testing.assert_allclose(result.x, target, atol=1e-5)


def test_a_warmup_cosine_decay_from_a_zero_peak_follows_its_formula():
    s = optim.warmup_cosine_decay_schedule(0.0, 0.0, 1, 3, end_value=0.5)
    np.testing.assert_allclose([float(s(t)) for t in range(6)], [0, 0, 0.25, 0.5, 0.5, 0.5])


def test_centered_rmsprop_refuses_bias_correction_and_never_takes_a_negative_root():
    from gradkit.optim import transforms as T
    with pytest.raises(ValueError, match="centered or bias_correction"):
        T.rmsprop(0.05, centered=True, bias_correction=True)
    opt = T.rmsprop(0.05, centered=True, eps_in_sqrt=False)
    params = {"w": np.zeros(1000)}
    state = opt.init(params)
    g = {"w": np.random.default_rng(0).standard_normal(1000)}  # steady: vhat - mhat**2
    for _ in range(400):                                        # rounds below 0 at places
        u, state = opt.update(g, state, params)
        assert np.all(np.isfinite(u["w"]))
    nu, mu = state[0].nu["w"], state[0].mu["w"]
    assert np.any(nu - mu ** 2 < 0)  # (the case the max(., 0) is for)


def test_the_subgradient_method_takes_one_base_step_per_coordinate():
    f = lambda x: np.sum(np.abs(x["a"] - 1.0)) + np.sum(np.abs(100.0 * x["b"] - 1.0))
    x0 = {"a": np.zeros(2), "b": np.zeros(1)}
    same = optim.minimize(f, x0, method="subgradient", learning_rate=0.5, max_iter=50)
    tree = optim.minimize(f, x0, method="subgradient", max_iter=50,
                          learning_rate={"a": np.full(2, 0.5), "b": np.full(1, 0.5)})
    np.testing.assert_array_equal(same.x["a"], tree.x["a"])
    scaled = optim.minimize(f, x0, method="subgradient", max_iter=300,
                            learning_rate={"a": np.full(2, 0.5), "b": np.full(1, 0.5e-4)})
    assert scaled.fun < same.fun  # b's own scale: its steps no longer overshoot
    with pytest.raises(ValueError, match="per coordinate"):
        optim.minimize(f, x0, method="subgradient", learning_rate={"a": np.full(2, 0.5),
                                                                   "b": np.full(1, -1.0)})


@pytest.mark.parametrize("grad", [None, lambda x: 2 * x])
@pytest.mark.parametrize("fun, what", [(lambda x: x ** 2, "shape (1,)"),
                                       (lambda x: None, "NoneType")])
def test_a_fun_that_returns_no_scalar_is_named_in_one_line(fun, what, grad):
    with pytest.raises(TypeError, match=r"fun must return a scalar.*" + re.escape(what)):
        optim.minimize(fun, np.ones(1), grad=grad)


def test_an_x0_that_is_not_finite_is_refused():
    x0 = np.array([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="x0 has 1 entries that are not finite.*index 1"):
        optim.minimize(lambda x: np.sum(x ** 2), x0)
    assert np.isnan(x0[1]) and x0[0] == 1.0


def test_join_schedules_never_asks_a_schedule_for_a_step_before_its_start():
    import math
    from gradkit.optim import schedules
    later = lambda t: 0.1 / math.sqrt(float(t) + 1.0)  # noqa: E731 (fails at t < -1)
    s = schedules.join_schedules([schedules.constant_schedule(1.0), later], [5])
    assert [s(t) for t in (0, 4)] == [1.0, 1.0]
    assert s(5) == 0.1 and s(8) == pytest.approx(0.05)
