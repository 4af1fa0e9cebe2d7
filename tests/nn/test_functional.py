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
    assert gk.grad(lambda x: np.sum(F.relu(x)))(np.array([0.0, 1.0])).tolist() == [0.0, 1.0]
