"""Pooling and convolution in a training step: max-pooling's recorded step (the forward's
masks kept) equals the general path bit for bit, the layers' gradients match finite
differences, and float32 stays float32 from the input to every gradient."""
import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.autodiff.trace import ReverseTrace
from gradkit.nn import functional as F

RNG = np.random.default_rng(7)

# (input shape, kernel_size, stride): tiling windows, a remainder, overlaps, a 1x1 kernel,
# unequal kernel and stride per axis
GEOMETRIES = [((2, 3, 8, 8), 2, None), ((2, 3, 7, 9), 2, None), ((2, 3, 8, 8), 3, 2),
              ((2, 2, 5, 5), 2, 1), ((2, 2, 6, 6), 1, None), ((2, 2, 9, 9), (3, 2), (2, 3))]
IDS = [f"{s}-k{k}-s{st}" for s, k, st in GEOMETRIES]


def with_ties(shape, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    x[0, 0, :2, :2] = 1.0        # a window (or several) of equal maxima
    x[1, 1, :3, :3] = 0.0        # zeros, as after a ReLU
    return x


def general_path(x, kernel_size, stride):
    """max-pooling as np.max over the window view (what higher derivatives record)."""
    stride = kernel_size if stride is None else stride
    return np.max(F._windows(x, kernel_size, stride, 0, "test"), axis=(-2, -1))


@pytest.mark.parametrize("shape, kernel_size, stride", GEOMETRIES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_recorded_max_pool_equals_the_general_path_bit_for_bit(shape, kernel_size, stride,
                                                               dtype):
    x = with_ties(shape, dtype)
    w = RNG.standard_normal(general_path(x, kernel_size, stride).shape).astype(dtype)
    value, grad = gk.value_and_grad(lambda x: np.sum(F.max_pool2d(x, kernel_size, stride) * w))(x)
    want_value, want = gk.value_and_grad(
        lambda x: np.sum(general_path(x, kernel_size, stride) * w))(x)
    assert grad.dtype == dtype and np.array_equal(grad, want)
    assert value == want_value
    assert np.array_equal(F.max_pool2d(x, kernel_size, stride),
                          general_path(x, kernel_size, stride))


@pytest.mark.parametrize("shape, kernel_size, stride", GEOMETRIES, ids=IDS)
def test_max_pool_matches_finite_differences_to_order_two(shape, kernel_size, stride):
    x = RNG.standard_normal(shape)  # distinct values: the maxima are unique, smooth there
    gk.check_grads(lambda x: np.sum(F.max_pool2d(x, kernel_size, stride) ** 2), (x,), order=2)


def test_a_traced_cotangent_through_the_recorded_max_pool():
    """The recorded step's rule is linear in the cotangent: differentiating a pullback with
    respect to the cotangent gives the transposed map back."""
    x = with_ties((2, 2, 6, 6), np.float64)
    _, pullback = gk.vjp(lambda x: F.max_pool2d(x, 2, 1), x)
    u = RNG.standard_normal((2, 2, 5, 5))
    t = RNG.standard_normal(x.shape)
    via_cotangent = gk.grad(lambda u: np.sum(pullback(u)[0] * t))(u)
    _, jvp_t = gk.jvp(lambda x: F.max_pool2d(x, 2, 1), (x,), (t,))
    np.testing.assert_allclose(via_cotangent, jvp_t, rtol=1e-12)


def test_the_recorded_max_pool_keeps_the_mask_not_the_input():
    trace = ReverseTrace()
    x = trace.new_input(RNG.standard_normal((4, 3, 64, 64)))
    F.max_pool2d(x, 2)
    prim, kept, ans, parent = trace.tape[-1]
    mask = kept[0]
    assert prim.name == "max_pool2d" and parent == 0
    assert mask.dtype == bool and mask.shape == (4, 4, 3, 32, 32)
    assert not any(type(v) is np.ndarray and v.shape == (4, 3, 64, 64) for v in kept)
    assert type(ans) is not np.ndarray  # a Shell: the rule does not read the output


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), ((2, 1), (0, 2))])
def test_conv2d_matches_finite_differences_to_order_two(stride, padding):
    x = RNG.standard_normal((2, 2, 6, 5))
    W = RNG.standard_normal((3, 2, 3, 2))
    b = RNG.standard_normal(3)
    gk.check_grads(lambda x, W, b: np.tanh(F.conv2d(x, W, b, stride, padding)), (x, W, b),
                   order=2)


def test_avg_pool_matches_finite_differences_to_order_two():
    gk.check_grads(lambda x: F.avg_pool2d(x, 2, 1) ** 2, (RNG.standard_normal((2, 2, 5, 4)),),
                   order=2)


def small_cnn():
    return nn.Sequential([nn.Conv2d(4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(6, 3, stride=1), nn.ReLU(), nn.AvgPool2d(2),
                          nn.Flatten(), nn.Linear(5)])


def test_a_cnn_step_keeps_float32_end_to_end():
    model = small_cnn()
    params, state = model.init(np.random.default_rng(0), (1, 12, 12), dtype=np.float32)
    X = RNG.standard_normal((8, 1, 12, 12)).astype(np.float32)
    y = RNG.integers(0, 5, 8)

    def loss(p):
        logits, _ = model.apply(p, state, X)
        assert logits.dtype == np.float32
        return nn.losses.cross_entropy(logits, y)

    value, grads = gk.value_and_grad(loss)(params)
    assert np.result_type(value) == np.float32
    leaves = gk.tree.tree_leaves(grads)
    assert leaves and all(g.dtype == np.float32 for g in leaves)


def test_a_cnn_gradient_matches_finite_differences():
    model = small_cnn()
    params, state = model.init(np.random.default_rng(1), (1, 12, 12))
    X = RNG.standard_normal((4, 1, 12, 12))
    y = RNG.integers(0, 5, 4)

    def loss(p):
        logits, _ = model.apply(p, state, X)
        return nn.losses.cross_entropy(logits, y)

    gk.check_grads(loss, (params,), order=1, modes=("rev",), rtol=1e-4)
