"""Neural-network operations as plain functions: activations, softmax, linear, convolution,
pooling, batch normalization and dropout.

Everything here is written with NumPy calls that have gradient rules, so every function is
differentiable to any order by :mod:`gradkit.autodiff`. Convolution and pooling share one
primitive, :func:`sliding_windows` (im2col as a strided view), whose adjoint
:func:`sliding_windows_adjoint` (col2im) is its gradient rule and vice versa. The stable
functions (``softmax``, ``log_softmax``, ``sigmoid``, ``log_sigmoid``, ``softplus``) are the
engine's primitives from :mod:`gradkit.autodiff.stable`, re-exported here. ``relu`` and
``linear`` (``x @ W + b``), on every training step's path, are each one primitive with its
textbook derivative: ``linear`` one step on the tape instead of a product and a sum,
``relu`` without the tie handling of ``np.maximum``.

>>> import numpy as np, gradkit as gk
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> max_pool2d(x, 2)[0, 0]
array([[ 5.,  7.],
       [13., 15.]])
>>> gk.grad(lambda x: np.sum(max_pool2d(x, 2)))(x)[0, 0]
array([[0., 0., 0., 0.],
       [0., 1., 0., 1.],
       [0., 0., 0., 0.],
       [0., 1., 0., 1.]])
"""
from __future__ import annotations

import math

import numpy as np

from ..autodiff.stable import log_sigmoid, log_softmax, sigmoid, softmax, softplus  # noqa: F401
from ..autodiff.primitive import (Primitive, def_linear, defjvp, defvjp, differentiable,
                                  primitive)
from ..autodiff.trace import apply, first_order_trace, getval, is_ndarray, shape_of
from ..autodiff.tracer import Tracer
from ..backend import array_namespace, to_device_of

__all__ = [
    "relu", "leaky_relu", "elu", "gelu", "softplus", "sigmoid", "log_sigmoid", "tanh",
    "softmax", "log_softmax", "linear", "conv2d", "max_pool2d", "avg_pool2d",
    "batch_norm", "dropout", "sliding_windows", "sliding_windows_adjoint", "conv_output_size",
]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# ----------------------------------------------------------------------------- activations
def relu(x):
    """``max(x, 0)``; the derivative at 0 is 0 (gradkit's minimum-norm convention).

    On a traced value it is one primitive whose derivative is the mask ``x > 0`` (the
    values ``np.maximum(x, 0.0)`` gives, without its tie handling); the mask has no
    derivative of its own, so second derivatives through ``relu`` are 0.

    Args:
        x: an array (or a traced value).

    Returns:
        An array of ``x``'s shape.

    Examples:
        >>> relu(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
        >>> import gradkit as gk
        >>> gk.grad(lambda x: np.sum(relu(x)))(np.array([-1.0, 0.0, 2.0]))  # 0 at the kink
        array([0., 0., 1.])
    """
    if type(x) is Tracer:
        trace = first_order_trace(x)
        if trace is not None:  # a training step: one entry computed here
            v, i = trace.unbox(x)
            return trace.record(P_RELU, (v,), np.maximum(v, 0.0), (i,))
        return apply(P_RELU, x)
    return np.maximum(x, 0.0)


# relu is its own primitive's function: a trace calls it on the values it unwraps, and any
# tracer of an outer trace among them (a hessian) is recorded there as relu again
P_RELU = primitive(relu)
defvjp(P_RELU, lambda g, ans, x: g * (x > 0), needs="x")
defjvp(P_RELU, lambda t, ans, x: t * (x > 0))


def leaky_relu(x, negative_slope=0.01):
    """``x`` for ``x > 0``, else ``negative_slope * x``; the derivative at 0 is the slope.

    Args:
        x: an array (or a traced value).
        negative_slope: the slope for ``x <= 0``.

    Returns:
        An array of ``x``'s shape.

    Examples:
        >>> leaky_relu(np.array([-2.0, 3.0]), 0.1)
        array([-0.2,  3. ])
        >>> import gradkit as gk
        >>> gk.grad(lambda x: np.sum(leaky_relu(x, 0.1)))(np.array([-1.0, 0.0, 2.0]))
        array([0.1, 0.1, 1. ])
    """
    return np.where(x > 0, x, x * float(negative_slope))


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)`` (Clevert et al., 2016).

    Args:
        x: an array (or a traced value).
        alpha: the value ``elu`` tends to as ``x -> -inf`` is ``-alpha``.

    Returns:
        An array of ``x``'s shape.

    At ``x = 0`` the derivative is the minimum-norm one of ``[min(alpha, 1), max(alpha,
    1)]`` (:mod:`gradkit.autodiff.conventions`): ``alpha`` for ``alpha <= 1`` (1, smooth, at
    ``alpha = 1``), else 1. (PyTorch gives ``alpha`` for every ``alpha``.)

    Examples:
        >>> np.round(elu(np.array([-1.0, 2.0])), 4)   # exp(-1) - 1 = -0.6321
        array([-0.6321,  2.    ])
    """
    alpha = float(alpha)
    # expm1 only sees x <= 0, so the unused branch never overflows (inf * 0 = nan gradients);
    # the inner where (not np.minimum, whose derivative at the tie x = 0 is 0) keeps
    # d expm1(x) / dx = 1 at 0, so the negative branch's slope there is alpha
    negative = alpha * np.expm1(np.where(x > 0, 0.0, x))
    return np.where(x > 0 if alpha <= 1.0 else x >= 0, x, negative)


def gelu(x):
    """GELU, tanh approximation: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    This is PyTorch's ``gelu(approximate="tanh")`` and JAX's default; it differs from the
    exact ``x Phi(x)`` by less than 5e-4 and is smooth to every order.

    Args:
        x: an array (or a traced value).

    Returns:
        An array of ``x``'s shape.

    Examples:
        >>> np.round(gelu(np.array([0.0, 1.0])), 4)
        array([0.    , 0.8412])
    """
    return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


def tanh(x):
    """The hyperbolic tangent.

    Args:
        x: an array (or a traced value).

    Returns:
        An array of ``x``'s shape.

    Examples:
        >>> tanh(np.array([0.0]))
        array([0.])
    """
    return np.tanh(x)


# ----------------------------------------------------------------------------- linear
def linear(x, W, b=None):
    r"""``y = x @ W + b`` with ``W`` of shape ``(in_features, out_features)``.

    With a matrix ``W`` and a bias ``b`` of shape ``(out_features,)`` (the layer's case),
    traced, this is one primitive (PyTorch's ``addmm``) whose derivatives are the textbook
    ones, computed directly: with ``G`` the output cotangent, :math:`\bar x = G W^T`,
    :math:`\bar W = X^T G` (``x`` and ``G`` with their leading axes flattened into rows) and
    :math:`\bar b = \sum_{rows} G`. They are written with differentiable operations, so
    second derivatives work. Anything else (a stack of matrices, a bias of another shape)
    is computed as ``x @ W + b``.

    Args:
        x: the inputs, shape ``(..., in_features)``.
        W: the weight, shape ``(in_features, out_features)``.
        b: the bias, shape ``(out_features,)``, or None.

    Returns:
        ``x @ W + b``, shape ``(..., out_features)``.

    Examples:
        >>> linear(np.ones((2, 3)), np.ones((3, 4)), np.arange(4.0))
        array([[3., 4., 5., 6.],
               [3., 4., 5., 6.]])
    """
    if b is None:
        return x @ W
    if type(W) is Tracer and type(b) is Tracer:
        y = _record_affine(x, W, b)  # a layer in a training step, recorded straight on the tape
        if y is not None:
            return y
    if type(x) is Tracer or type(W) is Tracer or type(b) is Tracer:
        ws = shape_of(W)
        if len(ws) == 2 and shape_of(b) == ws[1:] and len(shape_of(x)):
            return apply(P_AFFINE, x, W, b)
    return x @ W + b


def _record_affine(x, W, b):
    """``x @ W + b`` recorded on a reverse trace as one ``P_AFFINE`` step, when it is a
    first-order step on plain arrays (a matrix ``W`` and a vector ``b``, both traced); None
    otherwise (the general path handles it)."""
    trace = first_order_trace(x, W, b)
    if trace is None or type(b) is not Tracer:
        return None
    (xv, px), (Wv, pW), (bv, pb) = trace.unbox(x), trace.unbox(W), trace.unbox(b)
    if not (is_ndarray(xv) and xv.ndim and Wv.ndim == 2 and bv.shape == Wv.shape[1:]):
        return None
    # (not the bias added in place into the product: measured, the fresh array of x @ W + b
    # reuses memory the allocator has warm, and the whole step is faster)
    return trace.record(P_AFFINE, (xv, Wv, bv), xv @ Wv + bv, (px, pW, pb))


def _affine_vjp_W(g, ans, x, W, b):
    if x.ndim == 2:
        return x.T @ g
    d, m = shape_of(W)
    return x.reshape(-1, d).T @ g.reshape(-1, m)


def _affine_vjp_b(g, ans, x, W, b):
    """The bias's cotangent: ``g`` summed over every axis but the last (its rows)."""
    if is_ndarray(g):  # first order: one C-level reduction
        if g.ndim == 2:
            return np.add.reduce(g, axis=0)
        return g if g.ndim == 1 else np.add.reduce(g.reshape(-1, g.shape[-1]), axis=0)
    n = len(shape_of(g))
    return g if n == 1 else np.sum(g, axis=tuple(range(n - 1)))


# as relu. Each rule returns its argument's own shape (the bias's sums the rows itself), so
# the primitive is not flagged ``broadcasts`` and the backward pass compares no shapes.
P_AFFINE = primitive(linear)
defvjp(P_AFFINE, lambda g, ans, x, W, b: g @ W.T, _affine_vjp_W, _affine_vjp_b,
       needs=("W", "x", ""))
defjvp(P_AFFINE, lambda t, ans, x, W, b: t @ W, lambda t, ans, x, W, b: x @ t,
       lambda t, ans, x, W, b: np.broadcast_to(t, shape_of(ans)))


# ----------------------------------------------------------------------------- im2col
def _pair(value, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    raise TypeError(f"{name} must be an int or a pair of ints; got {value!r}.")


def conv_output_size(size, kernel, stride, padding):
    """Output length of a sliding window: ``(size + 2 padding - kernel) // stride + 1``.

    Args:
        size: the input length.
        kernel: the window length.
        stride: the step between windows.
        padding: the zeros added on each side.

    Returns:
        The output length, an int.

    Raises:
        ValueError: when the (padded) input is smaller than the kernel.

    Examples:
        >>> conv_output_size(8, 3, 1, 1), conv_output_size(8, 2, 2, 0)
        (8, 4)
    """
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"A kernel of size {kernel} does not fit an input of size {size} with "
                         f"padding {padding}: use a smaller kernel or more padding.")
    return out


@differentiable
def sliding_windows(x, *, kernel_size, stride, padding):
    """im2col as a view: ``(N, C, H, W) -> (N, C, OH, OW, kh, kw)`` with
    ``out[n, c, i, j, a, b] = x_padded[n, c, i * sh + a, j * sw + b]`` (zero padding).

    The result is a read-only strided view of the (padded) input, so it costs no copy; its
    gradient rule is :func:`sliding_windows_adjoint` (col2im), the transposed linear map.

    Args:
        x: input, shape ``(N, C, H, W)``.
        kernel_size: the window, an ``(h, w)`` pair.
        stride: the step between windows, an ``(h, w)`` pair.
        padding: the zeros added on each side, an ``(h, w)`` pair.

    Returns:
        A read-only view of shape ``(N, C, OH, OW, kh, kw)``.

    Examples:
        >>> sliding_windows(np.arange(9.0).reshape(1, 1, 3, 3), kernel_size=(2, 2), stride=(1, 1),
        ...                 padding=(0, 0))[0, 0, 1, 1]
        array([[4., 5.],
               [7., 8.]])
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    s0, s1, s2, s3 = x.strides
    shape, strides = (n, c, oh, ow, kh, kw), (s0, s1, s2 * sh, s3 * sw, s2, s3)
    xp = array_namespace(x)
    if xp is np:
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    # NumPy's as_strided would copy a CuPy array to the host; CuPy's has no writeable=
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


@differentiable
def sliding_windows_adjoint(g, *, x_shape, kernel_size, stride, padding):
    """col2im, the adjoint of :func:`sliding_windows`: every window entry of ``g`` is added
    back to the input position it was read from, and the padding is cropped.

    Args:
        g: windows, shape ``(N, C, OH, OW, kh, kw)`` (a cotangent of :func:`sliding_windows`).
        x_shape: the shape ``(N, C, H, W)`` of the input the windows were read from.
        kernel_size: the window, an ``(h, w)`` pair.
        stride: the step between windows, an ``(h, w)`` pair.
        padding: the padding, an ``(h, w)`` pair.

    Returns:
        An array of shape ``x_shape``: each input entry the sum of the window entries read from it.

    Examples:
        >>> g = np.ones((1, 1, 2, 2, 2, 2))
        >>> sliding_windows_adjoint(g, x_shape=(1, 1, 3, 3), kernel_size=(2, 2), stride=(1, 1),
        ...                         padding=(0, 0))[0, 0]
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
    """
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    n, c, h, w = x_shape
    oh, ow = g.shape[2], g.shape[3]
    out = np.zeros_like(g, shape=(n, c, h + 2 * ph, w + 2 * pw))  # on g's device
    # one strided add per kernel offset: kh * kw vectorized passes, no Python loop over pixels
    for a in range(kh):
        for b in range(kw):
            out[:, :, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw] += g[..., a, b]
    return out[:, :, ph:ph + h, pw:pw + w] if (ph or pw) else out


def _windows_vjp(g, ans, x, **kw):
    return sliding_windows_adjoint(g, x_shape=np.shape(x), **kw)


def _adjoint_vjp(g, ans, g_in, *, x_shape, **kw):
    return sliding_windows(g, **kw)


defvjp(sliding_windows.primitive, _windows_vjp, needs="")  # shapes only: the view is not kept
def_linear(sliding_windows.primitive, 0)
defvjp(sliding_windows_adjoint.primitive, _adjoint_vjp, needs="")
def_linear(sliding_windows_adjoint.primitive, 0)


def _windows(x, kernel_size, stride, padding, where):
    if np.ndim(x) != 4:
        raise ValueError(f"{where} expects input of shape (N, C, H, W); got shape "
                         f"{np.shape(x)}. Add the batch / channel axes with x[:, None].")
    k, s, p = _pair(kernel_size, "kernel_size"), _pair(stride, "stride"), _pair(padding, "padding")
    _, _, h, w = np.shape(x)
    conv_output_size(h, k[0], s[0], p[0])
    conv_output_size(w, k[1], s[1], p[1])
    return sliding_windows(x, kernel_size=k, stride=s, padding=p)


# ----------------------------------------------------------------------------- convolution
def conv2d(x, W, b=None, stride=1, padding=0):
    """2-D convolution (cross-correlation, as in PyTorch), NCHW layout:

    ``y[n, o, i, j] = b[o] + sum_{c, a, d} W[o, c, a, d] x_pad[n, c, i*sh + a, j*sw + d]``

    Computed by im2col (:func:`sliding_windows`) and a single matrix product, so BLAS does
    the work in the forward and the backward pass (measured 2-4x faster, forward plus
    backward, than summing one matrix product per kernel offset).

    Args:
        x: input, shape ``(N, C, H, W)``.
        W: kernel, shape ``(O, C, kh, kw)``.
        b: optional bias, shape ``(O,)``.
        stride: an int or an ``(h, w)`` pair, the step between windows.
        padding: an int or an ``(h, w)`` pair, the zeros added on each side.

    Returns:
        ``(N, O, OH, OW)`` with ``OH = (H + 2 ph - kh) // sh + 1`` (and likewise ``OW``).

    Raises:
        ValueError: for a wrong number of dimensions or mismatched channels.

    Examples:
        >>> conv2d(np.ones((1, 1, 3, 3)), np.ones((2, 1, 2, 2)))[0, 1]
        array([[4., 4.],
               [4., 4.]])
    """
    if np.ndim(W) != 4 or np.shape(W)[1] != np.shape(x)[1]:
        raise ValueError(f"conv2d needs a kernel of shape (out_channels, {np.shape(x)[1]}, kh, "
                         f"kw) for input {np.shape(x)}; got kernel shape {np.shape(W)}.")
    o, c, kh, kw = np.shape(W)
    win = _windows(x, (kh, kw), stride, padding, "conv2d")
    n, _, oh, ow, _, _ = win.shape
    cols = np.reshape(np.transpose(win, (0, 2, 3, 1, 4, 5)), (n * oh * ow, c * kh * kw))
    y = cols @ np.transpose(np.reshape(W, (o, c * kh * kw)))
    y = np.transpose(np.reshape(y, (n, oh, ow, o)), (0, 3, 1, 2))
    return y if b is None else y + np.reshape(b, (1, o, 1, 1))


# ----------------------------------------------------------------------------- pooling
def max_pool2d(x, kernel_size, stride=None):
    """Max pooling over ``kernel_size`` windows moved by ``stride`` (default: the kernel size).

    At ties the gradient is shared equally among the tied entries of a window (gradkit's
    minimum-norm convention, see :mod:`gradkit.autodiff.conventions`).

    Args:
        x: input, shape ``(N, C, H, W)``.
        kernel_size: an int or an ``(h, w)`` pair, the window.
        stride: an int or an ``(h, w)`` pair (default: ``kernel_size``).

    Returns:
        ``(N, C, OH, OW)``, ``OH = (H - kh) // sh + 1``.

    Examples:
        >>> max_pool2d(np.arange(4.0).reshape(1, 1, 2, 2), 2)
        array([[[[3.]]]])

        A window of four tied maxima shares the gradient, a quarter each:

        >>> import gradkit as gk
        >>> gk.grad(lambda x: np.sum(max_pool2d(x, 2)))(np.ones((1, 1, 2, 2)))[0, 0]
        array([[0.25, 0.25],
               [0.25, 0.25]])
    """
    stride = kernel_size if stride is None else stride
    if type(x) is Tracer:
        y = _record_max_pool(x, kernel_size, stride)  # a training step: the mask is kept
        if y is not None:
            return y
    return np.max(_windows(x, kernel_size, stride, 0, "max_pool2d"), axis=(-2, -1))


def _record_max_pool(x, kernel_size, stride):
    r"""``max_pool2d`` recorded on a reverse trace as one step that keeps the forward's masks
    of the maxima for its rule (the backward recomputes none of them).

    With :math:`x_{ab}` the strided view of the input at kernel offset :math:`(a, b)` (one
    entry per window): forward :math:`y = \max_{ab} x_{ab}`, the masks
    :math:`m_{ab} = [x_{ab} = y]` and the tie counts :math:`c = \sum_{ab} m_{ab}` (kept);
    backward :math:`\bar x \mathrel{+}= m_{ab}\,\bar y / c` at offset :math:`(a, b)`, ties
    sharing equally. One pass per offset over output-sized views: NumPy's ``max`` over the
    two short window axes of a 6-D view measured 20-40x slower. Taken for a plain 4-D array on
    a reverse trace (None otherwise): higher derivatives go through the general path,
    ``np.max`` of :func:`sliding_windows`, which gives the same values."""
    trace = first_order_trace(x)
    if trace is None:
        return None
    v, parent = trace.unbox(x)
    if type(v) is not np.ndarray or v.ndim != 4:  # (gk.jit: the general path)
        return None
    win = _windows(v, kernel_size, stride, 0, "max_pool2d")  # a view; validates the sizes
    kh, kw = win.shape[4], win.shape[5]
    offsets = [(a, b) for a in range(kh) for b in range(kw)]
    y = win[..., 0, 0]
    for a, b in offsets[1:]:
        y = np.maximum(y, win[..., a, b])  # (NaN propagates, as in np.max)
    if len(offsets) == 1:
        y = y.copy()
    mask = np.empty((len(offsets),) + y.shape, dtype=bool)
    for i, (a, b) in enumerate(offsets):
        np.equal(win[..., a, b], y, out=mask[i])
    counts = np.add.reduce(mask, axis=0, dtype=v.dtype)
    if not (counts > 1).any():
        counts = None  # no ties: the rule skips the division
    return trace.record(P_MAX_POOL, ((mask, counts, v.shape, (kh, kw),
                                      _pair(stride, "stride")),), y, (parent,))


def _max_pool_vjp(g, ans, kept):
    mask, counts, x_shape, (kh, kw), (sh, sw) = kept
    if counts is not None:
        g = g / counts
    n, c, oh, ow = mask.shape[1:]
    if type(g) is not np.ndarray:  # differentiated again (or in gk.jit): the same map, traced
        gw = np.transpose(mask * g, (1, 2, 3, 4, 0))
        return sliding_windows_adjoint(np.reshape(gw, (n, c, oh, ow, kh, kw)),
                                       x_shape=x_shape, kernel_size=(kh, kw),
                                       stride=(sh, sw), padding=(0, 0))
    if (kh, kw) == (sh, sw) and x_shape[2:] == (oh * kh, ow * kw):
        # the windows tile x: every entry is written once, no zeros and no adds
        out = np.empty((n, c, oh, kh, ow, kw), dtype=g.dtype)
        for i in range(kh * kw):
            np.multiply(mask[i], g, out=out[:, :, :, i // kw, :, i % kw])
        return out.reshape(x_shape)
    out = np.zeros(x_shape, dtype=g.dtype)
    for i in range(kh * kw):
        a, b = divmod(i, kw)
        out[:, :, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw] += mask[i] * g
    return out


def _max_pool_from_kept(kept):
    """The pooled values from what the forward kept (the primitive's function, never on the
    hot path: the recording computes them itself)."""
    raise NotImplementedError("max_pool2d's recorded step is not re-evaluated; call "
                              "max_pool2d on the input instead.")


# recorded only by _record_max_pool: its argument is what the forward kept for the rule (the
# mask of the maxima, the tie counts and the geometry), not the input; its rule reads only that
P_MAX_POOL = Primitive("max_pool2d", _max_pool_from_kept)
P_MAX_POOL.set_vjps((_max_pool_vjp,))
P_MAX_POOL.set_needs(((0,),))


def avg_pool2d(x, kernel_size, stride=None):
    """Average pooling over ``kernel_size`` windows moved by ``stride`` (default: the kernel).

    Args:
        x: input, shape ``(N, C, H, W)``.
        kernel_size: an int or an ``(h, w)`` pair, the window.
        stride: an int or an ``(h, w)`` pair (default: ``kernel_size``).

    Returns:
        ``(N, C, OH, OW)``, the mean of each window.

    Examples:
        >>> avg_pool2d(np.arange(4.0).reshape(1, 1, 2, 2), 2)
        array([[[[1.5]]]])
    """
    stride = kernel_size if stride is None else stride
    return np.mean(_windows(x, kernel_size, stride, 0, "avg_pool2d"), axis=(-2, -1))


# ----------------------------------------------------------------------------- batch norm
def _channel_axes(ndim):
    if ndim == 2:
        return (0,), (1, -1)
    if ndim == 4:
        return (0, 2, 3), (1, -1, 1, 1)
    raise ValueError(f"batch_norm expects (N, F) or (N, C, H, W) input; got {ndim} dimensions.")


def batch_norm(x, gamma, beta, running_mean, running_var, *, train, momentum=0.1, eps=1e-5):
    """Batch normalization (Ioffe & Szegedy, 2015) over the batch (and spatial) axes.

    ``y = gamma * (x - mu) / sqrt(var + eps) + beta`` per feature / channel, where in train
    mode ``mu``, ``var`` are the batch mean and biased variance (the gradient flows through
    them) and in eval mode the running statistics. Train mode also returns updated running
    statistics with PyTorch's convention: ``running = (1 - momentum) * running + momentum *
    batch_stat``, the variance entering unbiased (``* n / (n - 1)``); no gradient flows
    into them.

    Args:
        x: ``(N, F)`` or ``(N, C, H, W)``.
        gamma: the scale, shape ``(F,)`` or ``(C,)``.
        beta: the shift, of ``gamma``'s shape.
        running_mean: the running mean, of ``gamma``'s shape.
        running_var: the running variance, of ``gamma``'s shape.
        train: use batch statistics (True) or the running ones (False).
        momentum: the weight of the batch statistic in the running update.
        eps: added to the variance before the square root.

    Returns:
        ``(y, new_running_mean, new_running_var)``; in eval mode the running statistics are
        returned unchanged.

    Raises:
        ValueError: in train mode with a single value per channel (the variance is undefined).

    Examples:
        >>> x = np.array([[1.0], [3.0]])
        >>> y, m, v = batch_norm(x, np.ones(1), np.zeros(1), np.zeros(1), np.ones(1), train=True)
        >>> y.ravel(), m, v
        (array([-0.999995, 0.999995]), array([0.2]), array([1.1]))
    """
    axes, shape = _channel_axes(np.ndim(x))
    if train:
        count = np.size(getval(x)) // np.shape(x)[1]
        if count < 2:
            raise ValueError("batch_norm in train mode needs more than one value per channel "
                             f"to estimate a variance; got input shape {np.shape(x)}. Use a "
                             "larger batch or eval mode (train=False).")
        mean = np.mean(x, axis=axes, keepdims=True)
        centered = x - mean
        var = np.mean(centered * centered, axis=axes, keepdims=True)
        m = float(momentum)
        running_mean = (1.0 - m) * running_mean + m * np.reshape(getval(mean), (-1,))
        running_var = ((1.0 - m) * running_var
                       + (m * count / (count - 1)) * np.reshape(getval(var), (-1,)))
    else:
        centered = x - np.reshape(running_mean, shape)
        var = np.reshape(running_var, shape)
    scale = np.reshape(gamma, shape) / np.sqrt(var + float(eps))
    return centered * scale + np.reshape(beta, shape), running_mean, running_var


# ----------------------------------------------------------------------------- dropout
def dropout(x, rate, rng, train=True):
    """Inverted dropout: zero each entry with probability ``rate`` and scale the rest by
    ``1 / (1 - rate)``, so the expectation is unchanged; the identity when not training.

    Args:
        x: an array (or a traced value).
        rate: the probability of zeroing an entry, in [0, 1).
        rng: a ``numpy.random.Generator`` (needed in train mode).
        train: drop (True) or return ``x`` (False).

    Returns:
        An array of ``x``'s shape.

    Raises:
        ValueError: for a rate outside [0, 1), or no ``rng`` in train mode.

    Examples:
        >>> dropout(np.ones(4), 0.5, np.random.default_rng(0))
        array([2., 0., 0., 0.])
    """
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"The dropout rate must be in [0, 1); got {rate}.")
    if not train or rate == 0.0:
        return x
    if rng is None:
        raise ValueError("Dropout in train mode needs a random generator: pass "
                         "rng=np.random.default_rng(seed) to apply, or use train=False.")
    # the NumPy Generator draws on the host; the mask then moves to x's device (a CuPy
    # user pays one host-to-device copy of the mask per call)
    keep = rng.random(np.shape(x)) >= rate
    dtype = np.result_type(getval(x))
    return x * to_device_of(keep.astype(dtype) * (1.0 / (1.0 - rate)), x)


# complex input: these rules are written for real numbers and refuse it
from ..autodiff.complex import guard_unverified as _guard  # noqa: E402
from ..autodiff.complex import register_unlisted as _unlisted  # noqa: E402

_unlisted(P_MAX_POOL)
_guard()
