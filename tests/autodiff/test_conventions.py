"""Derivatives at kinks follow one convention, the minimum-norm subgradient
(gradkit/autodiff/conventions.py), in reverse and in forward mode alike."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gradkit as gk


def derivative(mode, f, x):
    """d f / d x of a scalar function at a scalar point, by reverse or forward mode."""
    x = np.asarray(x, float)
    if mode == "rev":
        return gk.grad(f)(x)
    return gk.jvp(f, (x,), (np.ones_like(x),))[1]


# (name, f, x, f'(x) by the convention)
SCALAR_KINKS = [
    ("relu maximum(x, 0) at 0", lambda x: np.maximum(x, 0.0), 0.0, 0.0),
    ("relu maximum(0, x) at 0", lambda x: np.maximum(0.0, x), 0.0, 0.0),
    ("relu maximum(x, int 0) at 0", lambda x: np.maximum(x, 0), 0.0, 0.0),
    ("relu fmax(x, 0) at 0", lambda x: np.fmax(x, 0.0), 0.0, 0.0),
    ("minimum(x, 0) at 0", lambda x: np.minimum(x, 0.0), 0.0, 0.0),
    ("minimum(0, x) at 0", lambda x: np.minimum(0.0, x), 0.0, 0.0),
    ("fmin(x, 0) at 0", lambda x: np.fmin(x, 0.0), 0.0, 0.0),
    ("relu where(x > 0, x, 0) at 0", lambda x: np.where(x > 0, x, 0.0), 0.0, 0.0),
    ("relu x * (x > 0) at 0", lambda x: x * (x > 0), 0.0, 0.0),
    ("hinge maximum(0, 1 - x) at 1", lambda x: np.maximum(0.0, 1.0 - x), 1.0, 0.0),
    ("leaky relu at 0", lambda x: np.maximum(x, 0.1 * x), 0.0, 0.55),
    ("abs at 0", np.abs, 0.0, 0.0),
    ("np.absolute at 0", np.absolute, 0.0, 0.0),
    ("np.fabs at 0", np.fabs, 0.0, 0.0),
    ("abs() at 0", lambda x: abs(x), 0.0, 0.0),
    ("abs(x - 1) at 1", lambda x: np.abs(x - 1.0), 1.0, 0.0),
    ("maximum(x, x) both traced", lambda x: np.maximum(x, x * 1.0), 1.0, 1.0),
    ("maximum(x, 2 - x) at 1", lambda x: np.maximum(x, 2.0 - x), 1.0, 0.0),
    ("minimum(x, 2 - x) at 1", lambda x: np.minimum(x, 2.0 - x), 1.0, 0.0),
    ("clip at lower bound", lambda x: np.clip(x, 0.0, 1.0), 0.0, 0.0),
    ("clip at upper bound", lambda x: np.clip(x, 0.0, 1.0), 1.0, 0.0),
    ("clip inside", lambda x: np.clip(x, 0.0, 1.0), 0.5, 1.0),
    ("clip outside", lambda x: np.clip(x, 0.0, 1.0), 2.0, 0.0),
    ("clip one-sided at bound", lambda x: np.clip(x, None, 1.0), 1.0, 0.0),
    ("clip keyword bounds", lambda x: np.clip(x, min=-1.0, max=1.0), -1.0, 0.0),
    ("x.clip at bound", lambda x: x.clip(0.0, 1.0), 0.0, 0.0),
    ("sign", lambda x: np.sign(x) * 1.0, 0.3, 0.0),
    ("sign at 0", lambda x: np.sign(x) * 1.0, 0.0, 0.0),
    ("floor", lambda x: np.floor(x) * 1.0, 1.7, 0.0),
    ("ceil", lambda x: np.ceil(x) * 1.0, 1.7, 0.0),
    ("trunc", lambda x: np.trunc(x) * 1.0, 1.7, 0.0),
    ("rint", lambda x: np.rint(x) * 1.0, 1.7, 0.0),
    ("round", lambda x: np.round(x) * 1.0, 1.7, 0.0),
    ("round decimals", lambda x: np.round(x, 1) * 1.0, 1.77, 0.0),
    ("around", lambda x: np.around(x) * 1.0, 1.7, 0.0),
    ("x * sign(x) = |x| away from 0", lambda x: x * np.sign(x), -2.0, -1.0),
    # away from the kinks the ordinary derivative (so the table can fail)
    ("relu at 2", lambda x: np.maximum(x, 0.0), 2.0, 1.0),
    ("relu at -2", lambda x: np.maximum(0.0, x), -2.0, 0.0),
    ("abs at -2", np.abs, -2.0, -1.0),
]


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("name, f, x, expected", SCALAR_KINKS, ids=[c[0] for c in SCALAR_KINKS])
def test_derivative_at_a_kink(name, f, x, expected, mode):
    assert_allclose(derivative(mode, f, x), expected, atol=1e-15)


# both arguments traced and tied: the gradient is shared 1/2 each
TIED_PAIRS = [np.maximum, np.minimum, np.fmax, np.fmin]


@pytest.mark.parametrize("ufunc", TIED_PAIRS, ids=lambda u: u.__name__)
def test_tied_arguments_share_the_gradient_equally(ufunc):
    gx, gy = gk.grad(ufunc, argnums=(0, 1))(1.5, 1.5)
    assert_allclose((gx, gy), (0.5, 0.5))
    # forward mode: the tangent of either argument counts half
    assert_allclose(gk.jvp(ufunc, (1.5, 1.5), (1.0, 0.0))[1], 0.5)
    assert_allclose(gk.jvp(ufunc, (1.5, 1.5), (0.0, 1.0))[1], 0.5)
    assert_allclose(gk.jvp(ufunc, (1.5, 1.5), (1.0, 1.0))[1], 1.0)


@pytest.mark.parametrize("ufunc", TIED_PAIRS, ids=lambda u: u.__name__)
def test_ties_only_where_the_values_are_equal(ufunc):
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([3.0, 2.0, 1.0])
    gx, gy = gk.grad(lambda a, b: np.sum(ufunc(a, b)), argnums=(0, 1))(x, y)
    x_wins = np.array([0.0, 0.5, 1.0]) if ufunc in (np.maximum, np.fmax) else \
        np.array([1.0, 0.5, 0.0])
    assert_allclose(gx, x_wins)
    assert_allclose(gy, 1.0 - x_wins)


def test_tie_against_a_broadcast_argument_sums_the_halves():
    x = np.full(4, 2.0)
    gx, gy = gk.grad(lambda a, b: np.sum(np.maximum(a, b)), argnums=(0, 1))(x, 2.0)
    assert_allclose(gx, np.full(4, 0.5))
    assert_allclose(gy, 2.0)


def test_relu_of_a_vector_with_zeros_in_both_modes():
    x = np.array([-1.0, 0.0, 0.0, 2.0])
    relu = lambda t: np.maximum(t, 0.0)  # noqa: E731
    assert_allclose(gk.elementwise_grad(relu)(x), [0.0, 0.0, 0.0, 1.0])
    assert_allclose(gk.jacobian(relu, mode="fwd")(x), np.diag([0.0, 0.0, 0.0, 1.0]))
    assert_allclose(gk.jacobian(relu, mode="rev")(x), np.diag([0.0, 0.0, 0.0, 1.0]))


def test_second_derivative_of_relu_and_abs_is_zero():
    for f in (lambda x: np.maximum(x, 0.0), np.abs):
        for x in (-1.0, 0.0, 1.0):
            assert_allclose(gk.grad(gk.grad(f))(x), 0.0)


# ----------------------------------------------------------------------------- reductions
# (needs the reduction rules for max / min; these tests pass once they are registered)
EXTREMA = [
    ("max", np.max, [1.0, 3.0, 3.0, 2.0], [0.0, 0.5, 0.5, 0.0]),
    ("amax", np.amax, [1.0, 3.0, 3.0, 2.0], [0.0, 0.5, 0.5, 0.0]),
    ("min", np.min, [1.0, 3.0, 1.0, 1.0], [1 / 3, 0.0, 1 / 3, 1 / 3]),
    ("max-method", lambda x: x.max(), [5.0, 5.0], [0.5, 0.5]),
    ("min-method", lambda x: x.min(), [2.0, 5.0], [1.0, 0.0]),
    ("max no tie", np.max, [1.0, 4.0, 3.0], [0.0, 1.0, 0.0]),
    ("all tied", np.max, [7.0] * 4, [0.25] * 4),
]


@pytest.mark.parametrize("name, f, x, weights", EXTREMA, ids=[c[0] for c in EXTREMA])
def test_ties_of_max_and_min_share_equally(name, f, x, weights):
    x = np.array(x)
    assert_allclose(gk.grad(f)(x), weights)
    # forward mode: the tangent of the result is the mean of the tied entries' tangents
    t = np.arange(1.0, len(x) + 1)
    assert_allclose(gk.jvp(f, (x,), (t,))[1], np.dot(weights, t))


def test_ties_of_max_along_an_axis_share_within_each_slice():
    x = np.array([[1.0, 3.0, 3.0],
                  [2.0, 2.0, 2.0]])
    want = np.array([[0.0, 0.5, 0.5],
                     [1 / 3, 1 / 3, 1 / 3]])
    assert_allclose(gk.grad(lambda t: np.sum(np.max(t, axis=1)))(x), want)
    assert_allclose(gk.grad(lambda t: np.sum(np.max(t, axis=-1, keepdims=True)))(x), want)
    assert_allclose(gk.jacobian(lambda t: np.max(t, axis=1), mode="fwd")(x),
                    gk.jacobian(lambda t: np.max(t, axis=1), mode="rev")(x))


def test_forward_and_reverse_jacobians_agree_at_kinks():
    x = np.array([0.0, 1.0, 1.0, -1.0])
    y = np.array([0.0, 1.0, 2.0, -1.0])

    def f(t):
        return np.maximum(t, y) + np.abs(t) + np.clip(t, -1.0, 1.0) + np.maximum(t, t[::-1])

    assert_allclose(gk.jacobian(f, mode="fwd")(x), gk.jacobian(f, mode="rev")(x))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("x, axis", [
    (np.array([[1.0], [2.0]]), 1),     # over a length-1 axis std is identically 0
    (np.array([1.5, 1.5, 1.5]), None),  # constant entries: the kink of a norm at 0
], ids=["length-1-axis", "constant"])
def test_std_where_it_is_zero_has_zero_derivative(x, axis, mode):
    f = lambda t: np.sum(np.std(t, axis=axis))  # noqa: E731
    with np.errstate(invalid="ignore", divide="ignore"):
        if mode == "rev":
            d = gk.grad(f)(x)
        else:
            d = gk.jvp(f, (x,), (np.arange(1.0, x.size + 1).reshape(x.shape),))[1]
    assert_allclose(d, np.zeros_like(d))
