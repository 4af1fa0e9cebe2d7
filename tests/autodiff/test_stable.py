"""The stable primitives: finite values and derivatives at extreme inputs, in float64 and
float32, agreement with scipy.special, and the edge conventions of the linalg / special rules."""
import numpy as np
import pytest
import scipy.special as sc

import gradkit as gk
from gradkit.autodiff import stable
from gradkit.autodiff.rules.special import polygamma
from gradkit.autodiff.primitive import NoGradientRuleError, TracerConversionError

from .rule_cases import contractions, linalg, special

EXTREME = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0],
                    [1000.0, 1000.0, -1000.0, -1000.0, 0.5]])
FUNCTIONS = {
    "logsumexp": lambda x: stable.logsumexp(x, axis=-1),
    "softmax": stable.softmax,
    "log_softmax": stable.log_softmax,
    "sigmoid": stable.sigmoid,
    "log_sigmoid": stable.log_sigmoid,
    "softplus": stable.softplus,
}
SCIPY = {
    "logsumexp": lambda x: sc.logsumexp(x, axis=-1),
    "softmax": lambda x: sc.softmax(x, axis=-1),
    "log_softmax": lambda x: sc.log_softmax(x, axis=-1),
    "sigmoid": sc.expit,
    "log_sigmoid": sc.log_expit,
    "softplus": lambda x: np.logaddexp(0.0, x),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_finite_values_and_derivatives_at_extreme_inputs(name, dtype):
    f, x = FUNCTIONS[name], EXTREME.astype(dtype)
    value = f(x)
    assert value.dtype == dtype
    assert np.all(np.isfinite(value))
    np.testing.assert_allclose(value, SCIPY[name](x.astype(np.float64)),
                               rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-30)
    w = np.linspace(0.5, 1.5, value.size).reshape(value.shape).astype(dtype)
    g = gk.grad(lambda x: np.sum(f(x) * w))(x)
    assert g.dtype == dtype and np.all(np.isfinite(g))
    hv = gk.hvp(lambda x: np.sum(f(x) * w))(x, np.ones_like(x))
    assert hv.dtype == dtype and np.all(np.isfinite(hv))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_derivatives_match_finite_differences_at_large_inputs(name):
    x = np.array([[800.0, 799.0, -800.0], [3.0, -700.0, 700.5]])
    gk.check_grads(FUNCTIONS[name], (x,), order=2, rtol=1e-5, atol=1e-7)


def test_logsumexp_matches_scipy_with_axes_keepdims_and_weights():
    rng = np.random.default_rng(0)
    x, b = rng.standard_normal((2, 3, 4)), rng.uniform(0.1, 2.0, (3, 1))
    for kw in ({}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}, {"axis": -1, "b": b}):
        np.testing.assert_allclose(stable.logsumexp(x, **kw), sc.logsumexp(x, **kw),
                                   rtol=1e-12)


def test_softmax_gradient_is_the_textbook_one_and_hessians_are_finite_at_scale():
    x = np.array([1000.0, 1000.0])
    np.testing.assert_allclose(gk.grad(stable.logsumexp)(x), [0.5, 0.5])
    np.testing.assert_allclose(gk.hessian(stable.logsumexp)(x), [[0.25, -0.25], [-0.25, 0.25]])
    g = np.array([1.0, -2.0, 0.5])
    s = stable.softmax(np.array([0.1, 2.0, -1.0]))
    _, pullback = gk.vjp(stable.softmax, np.array([0.1, 2.0, -1.0]))
    np.testing.assert_allclose(pullback(g)[0], s * (g - np.sum(g * s)))


def test_scipy_logsumexp_softmax_and_log_softmax_differentiate_through_scipy_special():
    x = np.array([[1000.0, 999.0, -3.0], [0.5, -0.25, 2.0]])
    np.testing.assert_allclose(gk.grad(lambda x: np.sum(sc.logsumexp(x, axis=1)))(x),
                               sc.softmax(x, axis=1), rtol=1e-12)
    # scipy's defaults are kept: softmax and logsumexp over *all* entries when axis is None
    value, g = gk.value_and_grad(lambda x: np.sum(sc.softmax(x) * np.arange(6.0).reshape(2, 3)))(x)
    assert np.isclose(value, np.sum(sc.softmax(x) * np.arange(6.0).reshape(2, 3)))
    assert np.isclose(gk.value_and_grad(lambda x: sc.logsumexp(x))(x)[0], sc.logsumexp(x))
    for f in (lambda x: np.sum(np.sin(sc.softmax(x, axis=0))),
              lambda x: np.sum(np.cos(sc.log_softmax(x, axis=-1))),
              lambda x: np.sum(sc.logsumexp(x, axis=(0, 1), keepdims=True))):
        gk.check_grads(f, (x / 1000.0,), order=2)


def test_scipy_logsumexp_weights_and_return_sign_on_traced_values_match_scipy():
    x = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]])
    b = np.array([1.0, -0.5, 2.0])
    for kw in ({"b": b}, {"b": b, "return_sign": True}, {"b": -b, "axis": 1, "return_sign": True},
               {"b": np.abs(b), "axis": 0, "keepdims": True}):
        value, _ = gk.value_and_grad(lambda x: np.sum(_first(sc.logsumexp(x, **kw))))(x)
        np.testing.assert_allclose(value, np.sum(_first(sc.logsumexp(x, **kw))), rtol=1e-12)
        gk.check_grads(lambda x: np.sum(_first(sc.logsumexp(x, **kw))), (x,), order=2)
    signs = []

    def f(x):
        out, sign = sc.logsumexp(x, b=-b, axis=1, return_sign=True)
        signs.append(sign)
        return np.sum(out)
    gk.grad(f)(x)
    np.testing.assert_array_equal(signs[0], sc.logsumexp(x, b=-b, axis=1, return_sign=True)[1])


def test_scipy_special_untraced_calls_run_scipys_own_code():
    assert sc.logsumexp.__wrapped__.__module__.startswith("scipy.special")
    x = np.array([1.0, 2.0, 3.0])
    assert sc.logsumexp(x) == sc.logsumexp.__wrapped__(x)
    np.testing.assert_array_equal(sc.softmax(x), sc.softmax.__wrapped__(x))
    with pytest.raises(TracerConversionError):  # scipy's own function never sees tracers
        gk.grad(lambda x: sc.logsumexp.__wrapped__(x))(x)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


# -- the rule tables of contractions / linalg / special: cotangent shapes (check_grads pairs
#    cotangents with tangents by broadcasting, so a missing un-broadcast would pass it)
MY_CASES = contractions.CASES + linalg.CASES + special.CASES


@pytest.mark.parametrize("name, fun, args", MY_CASES, ids=[c[0] for c in MY_CASES])
def test_cotangents_have_the_shapes_of_the_arguments(name, fun, args):
    out, pullback = gk.vjp(fun, *args)
    cts = pullback(np.ones_like(out))
    assert [np.shape(c) for c in cts] == [np.shape(a) for a in args]


# -- conventions at non-differentiable points and the errors of unsupported cases
@pytest.mark.parametrize("kwargs", [{}, {"ord": 1}, {"ord": np.inf}, {"ord": -np.inf},
                                    {"axis": 0}, {"ord": "fro", "axis": (0, 1)}])
def test_norm_at_zero_has_the_minimum_norm_gradient_zero(kwargs):
    x = np.zeros((3, 2)) if "axis" in kwargs else np.zeros(3)
    g = gk.grad(lambda x: np.sum(np.linalg.norm(x, **kwargs)))(x)
    assert np.array_equal(g, np.zeros_like(x))


def test_xlogy_has_zero_derivative_in_y_where_x_is_zero():
    gy = gk.grad(lambda y: np.sum(sc.xlogy(np.array([0.0, 2.0]), y)), argnums=0)(
        np.array([0.0, 4.0]))
    np.testing.assert_allclose(gy, [0.0, 0.5])


def test_cholesky_and_eigh_gradients_are_those_of_the_lower_triangle_numpy_reads():
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    for f in (lambda a: np.sum(np.linalg.cholesky(a)), lambda a: np.sum(np.linalg.eigh(a)[0])):
        g = gk.grad(f)(a)
        assert g[0, 1] == 0.0
    np.testing.assert_allclose(gk.grad(lambda a: np.sum(np.linalg.eigvalsh(a)))(a), np.eye(2),
                               atol=1e-12)


@pytest.mark.parametrize("fun, arg, match", [
    (lambda a: np.linalg.svd(a)[0], np.ones((3, 2)), "full_matrices=False"),
    (lambda a: np.linalg.qr(a)[0], np.ones((2, 3)), "fewer rows than columns"),
    (lambda a: np.linalg.cholesky(a, upper=True), np.eye(2), "lower factor"),
    (lambda n: polygamma(n, 2.0), np.array(1.0), "integer order n"),
    (lambda a: np.trace(a, dtype=np.float32), np.eye(2), "astype"),
])
def test_unsupported_cases_raise_errors_that_say_what_to_do(fun, arg, match):
    with pytest.raises((NoGradientRuleError, ValueError), match=match):
        gk.grad(lambda a: np.sum(fun(a)))(arg)
