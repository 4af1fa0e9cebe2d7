"""The public transformations: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp,
elementwise_grad, stop_gradient, custom_vjp and check_grads, against derivatives by hand."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gradkit as gk
from gradkit.autodiff import Tracer

R = np.random.default_rng(0)
X = R.standard_normal(4)
Y = R.standard_normal(4)
A = R.standard_normal((4, 4))
M = R.standard_normal((3, 4))


def numerical_jacobian(f, x, eps=1e-6):
    """Central differences, shape f(x).shape + x.shape."""
    x = np.asarray(x, float)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    out_shape = np.shape(f(x))
    return np.stack([np.reshape(c, -1) for c in cols], axis=-1).reshape(out_shape + x.shape)


# ----------------------------------------------------------------------------- grad, argnums
def f_xy(x, y):
    return np.sum(x * y ** 2)


@pytest.mark.parametrize("argnums, expected", [
    (0, lambda x, y: y ** 2),
    (1, lambda x, y: 2 * x * y),
    (-1, lambda x, y: 2 * x * y),
    ((0, 1), lambda x, y: (y ** 2, 2 * x * y)),
    ((1, 0), lambda x, y: (2 * x * y, y ** 2)),
    ((1,), lambda x, y: (2 * x * y,)),
])
def test_grad_argnums_int_or_tuple(argnums, expected):
    g = gk.grad(f_xy, argnums=argnums)(X, Y)
    want = expected(X, Y)
    assert type(g) is type(want)
    if isinstance(want, tuple):
        assert len(g) == len(want)
        for gi, wi in zip(g, want):
            assert_allclose(gi, wi)
    else:
        assert_allclose(g, want)


def test_value_and_grad_returns_plain_values_not_tracers():
    value, g = gk.value_and_grad(lambda x: np.sum(np.sin(x)))(X)
    assert not isinstance(value, Tracer) and not isinstance(g, Tracer)
    assert_allclose(value, np.sum(np.sin(X)))
    assert_allclose(g, np.cos(X))


def test_has_aux_returns_the_aux_untraced():
    def loss(x):
        pred = np.tanh(x)
        return np.sum(pred ** 2), {"pred": pred, "note": "kept"}

    (value, aux), g = gk.value_and_grad(loss, has_aux=True)(X)
    assert_allclose(value, np.sum(np.tanh(X) ** 2))
    assert not isinstance(aux["pred"], Tracer)
    assert_allclose(aux["pred"], np.tanh(X))
    assert aux["note"] == "kept"
    assert_allclose(g, 2 * np.tanh(X) * (1 - np.tanh(X) ** 2))

    g2, aux2 = gk.grad(loss, has_aux=True)(X)
    assert_allclose(g2, g)
    assert_allclose(aux2["pred"], np.tanh(X))


def test_keyword_arguments_pass_through_and_are_not_differentiated():
    def f(x, scale=1.0, power=2):
        return scale * np.sum(x ** power)

    assert_allclose(gk.grad(f)(X, scale=3.0), 6.0 * X)
    assert_allclose(gk.grad(f)(X, power=3), 3 * X ** 2)
    value, g = gk.value_and_grad(f, argnums=1)(X, 2.0)
    assert_allclose(value, 2.0 * np.sum(X ** 2))
    assert_allclose(g, np.sum(X ** 2))


@pytest.mark.parametrize("x", [2.0, np.float64(2.0), np.array(2.0), 2],
                         ids=["float", "np.float64", "0-d", "int-literal"])
def test_grad_of_scalar_inputs(x):
    assert_allclose(gk.grad(lambda t: t ** 3)(x), 12.0)


def test_grad_keeps_float32():
    g = gk.grad(lambda x: np.sum(x ** 2))(X.astype(np.float32))
    assert g.dtype == np.float32
    assert_allclose(g, 2 * X, rtol=1e-6)


@pytest.mark.parametrize("data", [np.float64(2.0), np.ones(4)], ids=["f64-scalar", "f64-array"])
def test_gradient_has_the_dtype_of_its_input(data):
    # as in JAX and PyTorch: float32 parameters get float32 gradients even when the data are
    # float64 (otherwise ``w - lr * g`` silently turns the parameters into float64)
    g = gk.grad(lambda x: np.sum(x * data))(X.astype(np.float32))
    assert g.dtype == np.float32


def test_gradient_of_a_function_that_ignores_its_argument_is_zero():
    g = gk.grad(lambda x, y: np.sum(y ** 2), argnums=(0, 1))(X, Y)
    assert_allclose(g[0], np.zeros_like(X))
    assert_allclose(g[1], 2 * Y)
    assert_allclose(gk.grad(lambda x: 3.0)(X), np.zeros_like(X))


# ----------------------------------------------------------------------------- vjp, jvp
def test_vjp_pullback_can_be_called_twice_with_the_same_result():
    out, pullback = gk.vjp(lambda x, y: np.tanh(x) * y, X, Y)
    assert_allclose(out, np.tanh(X) * Y)
    first = pullback(np.ones(4))
    second = pullback(np.ones(4))
    third = pullback(2.0 * np.ones(4))
    assert isinstance(first, tuple) and len(first) == 2
    for a, b, c in zip(first, second, third):
        assert_allclose(a, b)
        assert_allclose(c, 2 * a)
    assert_allclose(first[0], (1 - np.tanh(X) ** 2) * Y)
    assert_allclose(first[1], np.tanh(X))


def test_vjp_returns_plain_output_and_aux():
    out, pullback, aux = gk.vjp(lambda x: (np.sin(x), np.cos(x)), X, has_aux=True)
    assert not isinstance(out, Tracer) and not isinstance(aux, Tracer)
    assert_allclose(aux, np.cos(X))
    assert_allclose(pullback(np.ones(4))[0], np.cos(X))


def test_vjp_with_pytree_output_and_input():
    def f(p):
        return {"a": p["w"] * 2.0, "b": (np.sum(p["w"] * p["v"]),)}

    p = {"w": X, "v": Y}
    out, pullback = gk.vjp(f, p)
    (ct,) = pullback({"a": np.ones(4), "b": (np.array(3.0),)})
    assert set(ct) == {"w", "v"}
    assert_allclose(ct["w"], 2.0 + 3.0 * Y)
    assert_allclose(ct["v"], 3.0 * X)


def test_jvp_with_pytrees():
    def f(p, s):
        return {"y": np.tanh(p["w"] * s), "z": [np.sum(p["b"] ** 2)]}

    primals = ({"w": X, "b": Y}, 2.0)
    tangents = ({"w": np.ones(4), "b": Y}, 0.5)
    out, t_out = gk.jvp(f, primals, tangents)
    assert set(out) == set(t_out) == {"y", "z"}
    sech2 = 1 - np.tanh(2.0 * X) ** 2
    assert_allclose(t_out["y"], sech2 * (1.0 * 2.0 + X * 0.5))
    assert_allclose(t_out["z"][0], np.sum(2 * Y * Y))


def test_jvp_has_aux():
    out, t, aux = gk.jvp(lambda x: (x ** 2, x + 1.0), (X,), (np.ones(4),), has_aux=True)
    assert_allclose(t, 2 * X)
    assert not isinstance(aux, Tracer)
    assert_allclose(aux, X + 1.0)


# ----------------------------------------------------------------------------- jacobian
JACOBIAN_CASES = [
    ("elementwise", lambda x: np.sin(x) * x, X),
    ("matrix-vector", lambda x: np.tanh(M @ x), X),
    ("to-scalar", lambda x: np.sum(x ** 3), X),
    ("scalar-to-vector", lambda x: x * Y, np.array(0.7)),
    ("matrix-in-matrix-out", lambda x: np.exp(x) @ A, M),
    ("outer", lambda x: x[:, None] * x[None, :], X[:3]),
]


@pytest.mark.parametrize("name, f, x", JACOBIAN_CASES, ids=[c[0] for c in JACOBIAN_CASES])
def test_jacobian_modes_agree_with_finite_differences(name, f, x):
    want = numerical_jacobian(f, x)
    for mode in ("fwd", "rev", "auto"):
        jac = gk.jacobian(f, mode=mode)(x)
        assert jac.shape == np.shape(f(x)) + np.shape(x), mode
        assert_allclose(jac, want, rtol=1e-6, atol=1e-8, err_msg=mode)


def test_jacobian_argnums():
    jac = gk.jacobian(lambda c, x: c * np.sin(x), argnums=1)(3.0, X)
    assert_allclose(jac, np.diag(3.0 * np.cos(X)))


@pytest.mark.parametrize("name, f, x", JACOBIAN_CASES, ids=[c[0] for c in JACOBIAN_CASES])
def test_jvp_equals_jacobian_times_v_and_vjp_equals_v_times_jacobian(name, f, x):
    jac = gk.jacobian(f)(x)
    out_ndim = np.ndim(f(x))
    v = R.standard_normal(np.shape(x))
    u = R.standard_normal(np.shape(f(x)))
    jv = np.tensordot(jac, v, axes=np.ndim(x))
    uj = np.tensordot(u, jac, axes=out_ndim)
    assert_allclose(gk.jvp(f, (x,), (v,))[1], jv, rtol=1e-10, atol=1e-12)
    assert_allclose(gk.vjp(f, x)[1](u)[0], uj, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- hessian, hvp
Z = R.standard_normal((6, 4))
LABELS = np.sign(R.standard_normal(6))


def logistic_loss(w):
    return np.sum(np.log1p(np.exp(-LABELS * (Z @ w)))) + 0.05 * np.sum(w * w)


def logistic_hessian(w):
    s = 1.0 / (1.0 + np.exp(-LABELS * (Z @ w)))
    return Z.T @ (Z * (s * (1 - s))[:, None]) + 0.1 * np.eye(4)


HESSIAN_CASES = [
    ("quadratic", lambda x: 0.5 * x @ A @ x, lambda x: (A + A.T) / 2),
    ("quartic", lambda x: np.sum(x ** 4), lambda x: np.diag(12 * x ** 2)),
    ("logistic", logistic_loss, logistic_hessian),
    ("rosenbrock", lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
     lambda x: numerical_jacobian(gk.grad(lambda t: np.sum(100 * (t[1:] - t[:-1] ** 2) ** 2
                                                             + (1 - t[:-1]) ** 2)), x)),
]


@pytest.mark.parametrize("name, f, hess", HESSIAN_CASES, ids=[c[0] for c in HESSIAN_CASES])
def test_hessian_of_known_functions(name, f, hess):
    H = gk.hessian(f)(X)
    assert H.shape == (4, 4)
    assert_allclose(H, hess(X), rtol=1e-6, atol=1e-6)
    assert_allclose(H, H.T, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, f, hess", HESSIAN_CASES, ids=[c[0] for c in HESSIAN_CASES])
def test_hvp_equals_hessian_times_v(name, f, hess):
    v = R.standard_normal(4)
    assert_allclose(gk.hvp(f)(X, v), gk.hessian(f)(X) @ v, rtol=1e-10, atol=1e-10)


def test_hessian_and_hvp_with_argnums():
    def f(c, x):
        return c * np.sum(x ** 3)
    H = gk.hessian(f, argnums=1)(2.0, X)
    assert_allclose(H, np.diag(12 * X))
    assert_allclose(gk.hvp(f, argnums=1)(2.0, X, Y), 12 * X * Y)


# ----------------------------------------------------------------------------- elementwise_grad
@pytest.mark.parametrize("f, df", [
    (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    (lambda x: x ** 3, lambda x: 3 * x ** 2),
    (lambda x: np.exp(-x * x), lambda x: -2 * x * np.exp(-x * x)),
])
def test_elementwise_grad_is_the_derivative_at_every_entry(f, df):
    x = R.standard_normal((2, 3))
    g = gk.elementwise_grad(f)(x)
    assert g.shape == x.shape
    assert_allclose(g, df(x))


# ----------------------------------------------------------------------------- stop_gradient
def test_stop_gradient_first_order():
    # d/dx [x * c] with c = x held constant is c
    assert_allclose(gk.grad(lambda x: x * gk.stop_gradient(x))(3.0), 3.0)
    assert_allclose(gk.grad(lambda x: np.sum(gk.stop_gradient(x) * x ** 2))(X), 2 * X * X)
    assert_allclose(gk.jvp(lambda x: x * gk.stop_gradient(x), (3.0,), (1.0,))[1], 3.0)


def test_stop_gradient_second_order():
    # f = x^2 * c: f' = 2 x c, f'' = 2 c (c = 3 held constant everywhere)
    assert_allclose(gk.grad(gk.grad(lambda x: x ** 2 * gk.stop_gradient(x)))(3.0), 6.0)
    assert_allclose(gk.hessian(lambda x: np.sum(x ** 2 * gk.stop_gradient(x)))(X),
                    np.diag(2 * X))


def test_stop_gradient_inside_an_inner_derivative_stops_the_outer_one_too():
    # inner: d/dy [sg(x) * y] = sg(x); outer: d/dx sg(x) = 0
    g = gk.grad(lambda x: gk.grad(lambda y: gk.stop_gradient(x) * y)(1.0))(2.0)
    assert_allclose(g, 0.0)


def test_stop_gradient_of_a_pytree():
    def f(p):
        q = gk.stop_gradient(p)
        return np.sum(p["w"] * q["w"]) + p["b"] * q["b"]
    g = gk.grad(f)({"w": X, "b": 2.0})
    assert_allclose(g["w"], X)
    assert_allclose(g["b"], 2.0)


# ----------------------------------------------------------------------------- custom_vjp
def make_custom_sin(scale):
    """sin with a backward rule that multiplies the true derivative by ``scale``."""
    calls = []

    @gk.custom_vjp
    def custom_sin(x):
        return np.sin(x)

    def fwd(x):
        return np.sin(x), x

    def bwd(x, g):
        calls.append(1)
        return (scale * g * np.cos(x),)

    custom_sin.defvjp(fwd, bwd)
    return custom_sin, calls


def test_custom_vjp_rule_is_used_in_reverse_mode():
    f, calls = make_custom_sin(10.0)
    g = gk.grad(lambda x: np.sum(f(x)))(X)
    assert calls == [1]
    assert_allclose(g, 10.0 * np.cos(X))


def test_custom_vjp_forward_mode_differentiates_the_body():
    f, calls = make_custom_sin(10.0)
    out, t = gk.jvp(f, (X,), (np.ones(4),))
    assert_allclose(out, np.sin(X))
    assert_allclose(t, np.cos(X))
    assert calls == []


def test_custom_vjp_second_order_with_a_correct_rule():
    f, _ = make_custom_sin(1.0)
    assert_allclose(gk.grad(gk.grad(lambda x: f(x)))(0.4), -np.sin(0.4))
    assert_allclose(gk.hessian(lambda x: np.sum(f(x)))(X), np.diag(-np.sin(X)), atol=1e-12)


def test_custom_vjp_none_cotangent_means_zero():
    @gk.custom_vjp
    def scaled(x, y):
        return x * y

    scaled.defvjp(lambda x, y: (x * y, y), lambda y, g: (g * y, None))
    gx, gy = gk.grad(lambda x, y: np.sum(scaled(x, y)), argnums=(0, 1))(X, Y)
    assert_allclose(gx, Y)
    assert_allclose(gy, np.zeros(4))


def test_custom_vjp_bwd_with_the_wrong_arity_raises():
    @gk.custom_vjp
    def mul(x, y):
        return x * y

    mul.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(TypeError, match="one cotangent per argument"):
        gk.grad(lambda x: mul(x, 2.0))(1.0)


def test_custom_vjp_without_rules_says_to_call_defvjp():
    @gk.custom_vjp
    def f(x):
        return x

    with pytest.raises(TypeError, match="defvjp"):
        gk.grad(f)(1.0)


# ----------------------------------------------------------------------------- check_grads
def test_check_grads_accepts_a_correct_rule():
    f, _ = make_custom_sin(1.0)
    gk.check_grads(f, (X,), order=2)


def test_check_grads_catches_a_wrong_custom_rule_in_reverse_mode():
    f, _ = make_custom_sin(1.5)
    with pytest.raises(AssertionError, match="reverse mode"):
        gk.check_grads(f, (X,), order=1, modes=("rev",))
    gk.check_grads(f, (X,), order=1, modes=("fwd",))  # forward mode uses the (correct) body


def test_check_grads_catches_a_wrong_second_derivative():
    @gk.custom_vjp
    def cube(x):
        return x ** 3

    # right first derivative, but written with stop_gradient so its own derivative is wrong
    cube.defvjp(lambda x: (x ** 3, x), lambda x, g: (g * 3 * gk.stop_gradient(x) ** 2,))
    gk.check_grads(cube, (X,), order=1, modes=("rev",))
    with pytest.raises(AssertionError, match="order 1"):
        gk.check_grads(cube, (X,), order=2, modes=("rev",))


@pytest.mark.parametrize("mode", ["rev-over-fwd", "fwd-over-rev"])
def test_hvp_modes_agree_with_the_hessian(mode):
    rng = np.random.default_rng(7)
    A = rng.standard_normal((20, 5))
    params = {"w": rng.standard_normal(5), "s": np.array(0.3)}

    def f(p):
        return np.sum(np.log1p(np.exp(A @ p["w"] * p["s"]))) + 0.5 * np.sum(p["w"] ** 4)

    v = {"w": rng.standard_normal(5), "s": np.array(-0.7)}
    flat, unravel = gk.tree.ravel_pytree(params)
    H = gk.hessian(lambda x: f(unravel(x)))(flat)
    hv = gk.hvp(f, mode=mode)(params, v)
    assert_allclose(gk.tree.ravel_pytree(hv)[0], H @ gk.tree.ravel_pytree(v)[0], rtol=1e-10)


def test_hvp_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="rev-over-fwd"):
        gk.hvp(np.sum, mode="reverse")


def test_a_one_argument_function_call_records_as_its_handler_would():
    """np.sum(x) and friends (handlers with a `plain` primitive) are recorded by
    Tracer.__array_function__ itself: the same entry, value and gradient as the handler's
    path (np.sum(x, axis=None)); a handler without one (np.linalg.norm) still runs."""
    from gradkit.autodiff.primitive import FUNCTION_HANDLERS
    from gradkit.autodiff.trace import ReverseTrace
    x = np.linspace(-1.0, 2.0, 7)
    for fn, via_handler in [(np.sum, lambda t: np.sum(t, axis=None)),
                            (np.mean, lambda t: np.mean(t, axis=None)),
                            (np.ravel, lambda t: FUNCTION_HANDLERS[np.ravel](t))]:
        tapes = []
        for call in (fn, via_handler):
            trace = ReverseTrace()
            out = call(trace.new_input(x))
            tapes.append((trace.tape[-1][0], out._value))
        assert tapes[0][0] is tapes[1][0]
        assert np.array_equal(tapes[0][1], tapes[1][1]) and np.array_equal(tapes[0][1], fn(x))
        assert np.array_equal(gk.grad(lambda t: np.sum(np.sin(fn(t))))(x),
                              gk.grad(lambda t: np.sum(np.sin(via_handler(t))))(x))
    calls = []  # and the one-argument call does not reach the handler at all
    handler = FUNCTION_HANDLERS[np.sum]

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return handler(*args, **kwargs)
    counted.plain = handler.plain
    FUNCTION_HANDLERS[np.sum] = counted
    try:
        gk.grad(lambda t: np.sum(t) + np.sum(t, axis=None))(x)
    finally:
        FUNCTION_HANDLERS[np.sum] = handler
    assert calls == [{"axis": None}]
    assert getattr(FUNCTION_HANDLERS[np.linalg.norm], "plain", None) is None
    assert gk.value_and_grad(np.linalg.norm)(x)[0] == np.linalg.norm(x)
