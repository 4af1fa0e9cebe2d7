"""Functional ops: convolution against loops and scipy, pooling ties, activations, stability."""
import math

import numpy as np
import pytest
import scipy.signal

import gradkit as gk
from gradkit.nn import functional as F

RNG = np.random.default_rng(0)


def naive_conv2d(x, W, b, stride, padding):
    (sh, sw), (ph, pw) = stride, padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, w = x.shape
    o, _, kh, kw = W.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    y = np.zeros((n, o, oh, ow))
    for i in range(n):
        for k in range(o):
            for r in range(oh):
                for s in range(ow):
                    patch = x[i, :, r * sh:r * sh + kh, s * sw:s * sw + kw]
                    y[i, k, r, s] = np.sum(patch * W[k]) + b[k]
    return y


CONV_CASES = [  # x shape, W shape, stride, padding
    ((2, 1, 5, 5), (3, 1, 3, 3), (1, 1), (0, 0)),
    ((2, 3, 6, 7), (4, 3, 3, 2), (1, 1), (1, 1)),
    ((1, 2, 7, 7), (2, 2, 3, 3), (2, 2), (1, 1)),
    ((2, 2, 6, 8), (3, 2, 2, 3), (2, 3), (0, 2)),
    ((1, 1, 4, 4), (1, 1, 4, 4), (1, 1), (0, 0)),
    ((1, 2, 3, 3), (5, 2, 1, 1), (1, 1), (0, 0)),
]


@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CONV_CASES)
def test_conv2d_matches_a_naive_loop(x_shape, w_shape, stride, padding):
    x, W = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)
    b = RNG.standard_normal(w_shape[0])
    np.testing.assert_allclose(F.conv2d(x, W, b, stride, padding),
                               naive_conv2d(x, W, b, stride, padding), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_conv2d_matches_scipy_correlate(padding):
    x, W = RNG.standard_normal((2, 3, 6, 5)), RNG.standard_normal((4, 3, 3, 3))
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    want = np.stack([np.stack([scipy.signal.correlate(xp[i], W[k], mode="valid")[0]
                               for k in range(4)]) for i in range(2)])
    np.testing.assert_allclose(F.conv2d(x, W, padding=padding), want, atol=1e-12)


@pytest.mark.parametrize("kernel,stride,padding", [((2, 2), (1, 1), (0, 0)),
                                                   ((3, 2), (2, 1), (1, 2)),
                                                   ((3, 3), (3, 3), (0, 0))])
def test_sliding_windows_adjoint_is_the_transpose(kernel, stride, padding):
    # <A x, y> = <x, A^T y>: the pair are each other's gradient rules
    x = RNG.standard_normal((2, 3, 7, 6))
    kw = dict(kernel_size=kernel, stride=stride, padding=padding)
    ax = F.sliding_windows(x, **kw)
    y = RNG.standard_normal(ax.shape)
    aty = F.sliding_windows_adjoint(y, x_shape=x.shape, **kw)
    assert math.isclose(np.sum(ax * y), np.sum(x * aty), rel_tol=1e-12)
    gk.check_grads(lambda x: F.sliding_windows(x, **kw), (x,), order=2)
    gk.check_grads(lambda y: F.sliding_windows_adjoint(y, x_shape=x.shape, **kw), (y,), order=2)


def test_conv2d_hessian_vector_product_matches_finite_differences():
    x, W = RNG.standard_normal((2, 2, 5, 5)), RNG.standard_normal((3, 2, 3, 3))
    f = lambda W: np.sum(np.tanh(F.conv2d(x, W, padding=1)) ** 2)
    v = RNG.standard_normal(W.shape)
    g = gk.grad(f)
    fd = (g(W + 1e-5 * v) - g(W - 1e-5 * v)) / 2e-5
    np.testing.assert_allclose(gk.hvp(f)(W, v), fd, rtol=1e-5, atol=1e-7)


POOL_TIE_CASES = [  # window, gradient each entry receives
    (np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([[0.5, 0.5], [0.0, 0.0]])),
    (np.array([[2.0, 2.0], [2.0, 2.0]]), np.full((2, 2), 0.25)),
    (np.array([[3.0, 1.0], [3.0, 3.0]]), np.array([[1, 0], [1, 1]]) / 3.0),
    (np.array([[0.0, 5.0], [1.0, 2.0]]), np.array([[0.0, 1.0], [0.0, 0.0]])),
]


@pytest.mark.parametrize("window,share", POOL_TIE_CASES)
def test_max_pool_ties_share_the_gradient_equally(window, share):
    x = window[None, None]
    g = gk.grad(lambda x: np.sum(F.max_pool2d(x, 2)))(x)
    np.testing.assert_allclose(g[0, 0], share)
    _, tangent = gk.jvp(lambda x: F.max_pool2d(x, 2), (x,), (np.ones_like(x),))
    assert tangent.item() == pytest.approx(1.0)  # the directional derivative along all-ones


def test_overlapping_max_pool_adds_gradients_of_every_window():
    x = np.array([[[[0.0, 1.0, 0.0], [0.0, 9.0, 0.0], [0.0, 1.0, 0.0]]]])
    g = gk.grad(lambda x: np.sum(F.max_pool2d(x, 2, stride=1)))(x)
    assert g[0, 0, 1, 1] == 4.0 and g.sum() == 4.0


def test_avg_pool_matches_block_means():
    x = RNG.standard_normal((2, 3, 4, 6))
    want = x.reshape(2, 3, 2, 2, 3, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(F.avg_pool2d(x, 2), want)


ACTIVATION_CASES = [  # function, reference formula
    (F.relu, lambda x: np.where(x > 0, x, 0.0)),
    (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (lambda x: F.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * (np.exp(x) - 1))),
    (F.gelu, lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    (F.softplus, lambda x: np.log1p(np.exp(x))),
    (F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    (F.log_sigmoid, lambda x: -np.log1p(np.exp(-x))),
    (F.tanh, np.tanh),
    (F.softmax, lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    (F.log_softmax, lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
]


@pytest.mark.parametrize("f,formula", ACTIVATION_CASES)
def test_activations_match_their_formulas_and_finite_differences(f, formula):
    x = np.array([[-3.0, -0.7, 0.4, 2.5], [1.2, -1.9, 0.3, -0.2]])
    np.testing.assert_allclose(f(x), formula(x), rtol=1e-12, atol=1e-15)
    gk.check_grads(f, (x,), order=2)


def test_gelu_tanh_approximation_is_close_to_the_exact_gelu():
    from scipy.special import erf
    x = np.linspace(-6, 6, 1001)
    assert np.max(np.abs(F.gelu(x) - 0.5 * x * (1 + erf(x / np.sqrt(2))))) < 5e-4


@pytest.mark.parametrize("f", [F.softmax, F.log_softmax, F.sigmoid, F.log_sigmoid, F.softplus,
                               F.elu])
def test_stable_functions_have_finite_values_and_gradients_at_extreme_inputs(f):
    x = np.array([[-1e4, 0.0, 1e4], [800.0, 799.0, -800.0]])
    assert np.all(np.isfinite(f(x)))
    assert np.all(np.isfinite(gk.grad(lambda x: np.sum(f(x) * np.arange(3.0)))(x)))


def test_relu_derivative_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 1.0])
    assert gk.grad(lambda x: np.sum(F.relu(x)))(x).tolist() == [0.0, 0.0, 1.0]
    assert gk.jvp(F.relu, (x,), (np.ones(3),))[1].tolist() == [0.0, 0.0, 1.0]


def test_relu_second_derivatives_come_from_its_mask():
    x = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(gk.hessian(lambda x: np.sum(F.relu(x)))(x), np.zeros((3, 3)))
    np.testing.assert_array_equal(gk.hessian(lambda x: np.sum(F.relu(x) ** 2))(x),
                                  np.diag([0.0, 2.0, 2.0]))


def test_relu_keeps_float32():
    x = np.array([-1.0, 2.0], dtype=np.float32)
    assert F.relu(x).dtype == np.float32
    assert gk.grad(lambda x: np.sum(F.relu(x)))(x).dtype == np.float32


# ----------------------------------------------------------------------------- linear
def _composed_linear(x, W, b):
    return x @ W + b


def _loss_of(f):
    return lambda x, W, b: np.sum(np.tanh(f(x, W, b)) ** 2)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear_matches_x_at_W_plus_b_in_value_and_derivatives(x_shape):
    x, W, b = RNG.standard_normal(x_shape), RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    np.testing.assert_allclose(F.linear(x, W, b), x @ W + b, rtol=1e-12)
    for argnum in range(3):  # each argument traced alone: the others are constants
        np.testing.assert_allclose(gk.grad(_loss_of(F.linear), argnum)(x, W, b),
                                   gk.grad(_loss_of(_composed_linear), argnum)(x, W, b),
                                   rtol=1e-12)
    np.testing.assert_allclose(gk.hessian(_loss_of(F.linear), 1)(x, W, b),
                               gk.hessian(_loss_of(_composed_linear), 1)(x, W, b), rtol=1e-10)
    gk.check_grads(F.linear, (x, W, b), order=2)
    gk.check_grads(_loss_of(F.linear), (x, W, b), order=2)


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("argnums", [(0, 1, 2), (1, 2)])  # a hidden layer; the first layer
def test_linear_recorded_as_one_step_matches_x_at_W_plus_b(x_shape, argnums):
    # W and b traced together (a layer in a training step) take the one-step path
    x, W, b = RNG.standard_normal(x_shape), RNG.standard_normal((3, 2)), RNG.standard_normal(2)
    got = gk.grad(_loss_of(F.linear), argnums)(x, W, b)
    want = gk.grad(_loss_of(_composed_linear), argnums)(x, W, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
        assert g.shape == w.shape
    # forward mode with only the bias moving: the tangent has the output's shape
    tb = RNG.standard_normal(2)
    y, t = gk.jvp(lambda b: F.linear(x, W, b), (b,), (tb,))
    np.testing.assert_allclose(t, np.broadcast_to(tb, y.shape))


@pytest.mark.parametrize("x_shape,w_shape,b", [
    ((2, 5, 3), (2, 3, 4), np.ones(4)),      # a stack of matrices
    ((5, 3), (3, 4), np.ones((1, 4))),       # a bias row
    ((5, 3), (3, 4), np.array(0.5)),         # a scalar bias
    ((5, 3), (3, 1), np.arange(4.0)),        # a bias that broadcasts the output
    ((5, 3), (3, 4), None),
])
def test_linear_outside_the_layer_case_is_x_at_W_plus_b(x_shape, w_shape, b):
    x, W = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)
    want = x @ W if b is None else x @ W + b
    np.testing.assert_allclose(F.linear(x, W, b), want, rtol=1e-12)
    if b is None:
        gk.check_grads(lambda x, W: F.linear(x, W), (x, W), order=2)
    else:
        gk.check_grads(F.linear, (x, W, b), order=2)


def test_linear_keeps_float32():
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    W, b = np.ones((3, 2), np.float32), np.zeros(2, np.float32)
    gx, gW, gb = gk.grad(lambda *a: np.sum(F.linear(*a)), (0, 1, 2))(x, W, b)
    assert F.linear(x, W, b).dtype == gx.dtype == gW.dtype == gb.dtype == np.float32
