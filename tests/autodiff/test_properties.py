"""Property-based tests (hypothesis): random shapes, broadcasting and values, against finite
differences. Gradients always have their input's shape; broadcasting is undone exactly."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import (array_shapes, arrays, mutually_broadcastable_shapes,
                                    valid_tuple_axes)
from numpy.testing import assert_allclose

import gradkit as gk

SETTINGS = settings(max_examples=40, deadline=None)


def numerical_gradient(f, args, i, eps=1e-6):
    """Central-difference gradient of the scalar ``f(*args)`` with respect to ``args[i]``."""
    x = np.array(args[i], dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        for sign in (1.0, -1.0):
            xs = x.copy()
            xs[idx] += sign * eps
            a = list(args)
            a[i] = xs
            g[idx] += sign * f(*a) / (2 * eps)
    return g


def fd_atol(f, args):
    """Central differences resolve a gradient only to about eps_machine * |f| / eps: scale the
    absolute tolerance with the size of the function value."""
    return 1e-6 * max(1.0, abs(float(f(*args))))


def grid_values(shape, offset):
    """Arrays of values k / 10 + offset, k in [-20, 20]: two arrays with different offsets never
    tie, so kinks (maximum, where) are never hit."""
    return arrays(np.int64, shape, elements=st.integers(-20, 20)).map(lambda k: k / 10.0 + offset)


# (name, f, transform of y's raw values into f's domain)
BINARY = [
    ("add", np.add, lambda y: y),
    ("subtract", np.subtract, lambda y: y),
    ("multiply", np.multiply, lambda y: y),
    ("divide", np.divide, lambda y: np.sign(y) * (0.5 + np.abs(y))),
    ("maximum", np.maximum, lambda y: y),
    ("minimum", np.minimum, lambda y: y),
    ("power", lambda x, y: np.abs(x) ** y + 0.0, lambda y: y),
    ("operators", lambda x, y: (x - y) * x / (1.0 + y * y), lambda y: y),
    ("hypot", np.hypot, lambda y: y),
    ("arctan2", np.arctan2, lambda y: y),
]


@st.composite
def broadcast_pair(draw):
    shapes = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    x = draw(grid_values(shapes.input_shapes[0], 0.013))
    y = draw(grid_values(shapes.input_shapes[1], 0.047))
    w = draw(arrays(np.float64, shapes.result_shape,
                    elements=st.floats(-2, 2, allow_nan=False, allow_subnormal=False)))
    return x, y, w


@pytest.mark.parametrize("name, f, domain", BINARY, ids=[b[0] for b in BINARY])
@SETTINGS
@given(data=broadcast_pair())
def test_binary_gradients_undo_broadcasting(name, f, domain, data):
    x, y, w = data
    y = domain(y)

    def loss(a, b):
        return np.sum(f(a, b) * w)

    gx, gy = gk.grad(loss, argnums=(0, 1))(x, y)
    assert np.shape(gx) == np.shape(x) and np.shape(gy) == np.shape(y)
    atol = fd_atol(loss, (x, y))
    assert_allclose(gx, numerical_gradient(loss, (x, y), 0), rtol=1e-5, atol=atol)
    assert_allclose(gy, numerical_gradient(loss, (x, y), 1), rtol=1e-5, atol=atol)
    # forward mode agrees with reverse mode: <grad, t> = jvp(t)
    tx, ty = np.cos(np.arange(np.size(x))).reshape(np.shape(x)), np.ones(np.shape(y))
    _, jv = gk.jvp(loss, (x, y), (tx, ty))
    assert_allclose(jv, np.sum(gx * tx) + np.sum(gy * ty), rtol=1e-9, atol=1e-9)


@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       data=st.data())
def test_where_gradients_undo_broadcasting(shapes, data):
    cond_shape, x_shape, y_shape = shapes.input_shapes
    cond = data.draw(arrays(np.bool_, cond_shape))
    x = data.draw(grid_values(x_shape, 0.013))
    y = data.draw(grid_values(y_shape, 0.047))
    w = np.linspace(-1.0, 2.0, int(np.prod(shapes.result_shape))).reshape(shapes.result_shape)

    def loss(a, b):
        return np.sum(np.where(cond, a * a, np.sin(b)) * w)

    gx, gy = gk.grad(loss, argnums=(0, 1))(x, y)
    assert np.shape(gx) == x_shape and np.shape(gy) == y_shape
    atol = fd_atol(loss, (x, y))
    assert_allclose(gx, numerical_gradient(loss, (x, y), 0), rtol=1e-5, atol=atol)
    assert_allclose(gy, numerical_gradient(loss, (x, y), 1), rtol=1e-5, atol=atol)


# (f, transform of raw values into f's domain)
UNARY = [
    (np.sin, lambda x: x), (np.cos, lambda x: x), (np.tanh, lambda x: x), (np.exp, lambda x: x),
    (np.log, lambda x: np.abs(x) + 0.1), (np.sqrt, lambda x: np.abs(x) + 0.1),
    (np.log1p, lambda x: np.abs(x)), (np.arctan, lambda x: x), (np.square, lambda x: x),
    (np.reciprocal, lambda x: np.sign(x) * (np.abs(x) + 0.5)), (np.abs, lambda x: x),
    (np.cbrt, lambda x: np.sign(x) * (np.abs(x) + 0.5)), (np.arcsinh, lambda x: x),
    (np.expm1, lambda x: x), (np.negative, lambda x: x),
    (np.arcsin, lambda x: x / 2.5), (np.arctanh, lambda x: x / 2.5),
]


@pytest.mark.parametrize("f, domain", UNARY, ids=[u[0].__name__ for u in UNARY])
@SETTINGS
@given(x=array_shapes(min_dims=0, max_dims=3, max_side=3).flatmap(lambda s: grid_values(s, 0.013)))
def test_unary_elementwise_gradients(f, domain, x):
    x = domain(x)
    w = np.cos(np.arange(x.size)).reshape(x.shape) + 1.5

    def loss(a):
        return np.sum(f(a) * w)

    g = gk.grad(loss)(x)
    assert np.shape(g) == np.shape(x)
    assert_allclose(g, numerical_gradient(loss, (x,), 0), rtol=1e-5, atol=1e-6)
    assert_allclose(gk.elementwise_grad(f)(x) * w, g, rtol=1e-12, atol=1e-12)


# reductions over random axes (need the reduction rules; they pass once registered)
REDUCTIONS = [np.sum, np.mean, np.prod, np.max, np.min, np.std, np.var]


@st.composite
def reduction_case(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(st.none() | valid_tuple_axes(len(shape), min_size=1)
                | st.integers(-len(shape), len(shape) - 1))
    keepdims = draw(st.booleans())
    # distinct values away from 0: no ties for max / min, no zeros for prod
    order = draw(st.permutations(range(int(np.prod(shape)))))
    x = (np.array(order, float) * 0.1 + 0.55).reshape(shape)
    x = x * np.where(np.arange(x.size).reshape(shape) % 3 == 1, -1.0, 1.0)
    return x, axis, keepdims


@pytest.mark.parametrize("reduce", REDUCTIONS, ids=lambda r: r.__name__)
@SETTINGS
@given(case=reduction_case())
def test_reductions_over_random_axes(reduce, case):
    x, axis, keepdims = case
    out = reduce(x, axis=axis, keepdims=keepdims)
    # std of a single entry is a kink (tested in test_conventions); keep to smooth points here
    assume(reduce is not np.std or np.size(x) > np.size(out))
    w = np.cos(np.arange(np.size(out))).reshape(np.shape(out)) + 1.5

    def loss(a):
        return np.sum(reduce(a, axis=axis, keepdims=keepdims) * w)

    g = gk.grad(loss)(x)
    assert np.shape(g) == np.shape(x)
    assert_allclose(g, numerical_gradient(loss, (x,), 0), rtol=1e-5, atol=1e-6)
    t = np.sin(np.arange(x.size)).reshape(x.shape)
    out_t, jv = gk.jvp(lambda a: reduce(a, axis=axis, keepdims=keepdims), (x,), (t,))
    assert np.shape(jv) == np.shape(out)
    assert_allclose(np.sum(jv * w), np.sum(g * t), rtol=1e-9, atol=1e-9)
