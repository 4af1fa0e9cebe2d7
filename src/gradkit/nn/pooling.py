"""Pooling layers: MaxPool2d and AvgPool2d (NCHW).

>>> MaxPool2d(2).output_shape((16, 8, 8))
(16, 4, 4)
"""
from __future__ import annotations

from . import functional as F
from .layers import Layer

__all__ = ["MaxPool2d", "AvgPool2d"]


class _Pool2d(Layer):
    _fn = None

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = F._pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else F._pair(stride, "stride")

    def apply(self, params, state, x, *, train=False, rng=None):
        return type(self)._fn(x, self.kernel_size, self.stride), state

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"{type(self).__name__} expects samples of shape (C, H, W); got "
                             f"input_shape {tuple(input_shape)}.")
        c, h, w = input_shape
        return (c, F.conv_output_size(h, self.kernel_size[0], self.stride[0], 0),
                F.conv_output_size(w, self.kernel_size[1], self.stride[1], 0))


class MaxPool2d(_Pool2d):
    """Max over ``kernel_size`` windows moved by ``stride`` (default: the kernel size).

    Ties within a window share the gradient equally (gradkit's minimum-norm convention).

    Args:
        kernel_size: an int or an ``(h, w)`` pair, the window.
        stride: an int or an ``(h, w)`` pair (default: ``kernel_size``).

    Examples:
        >>> import numpy as np
        >>> MaxPool2d(2).apply({}, {}, np.ones((1, 1, 2, 2)))[0]
        array([[[[1.]]]])
    """

    name = "maxpool2d"
    _fn = staticmethod(F.max_pool2d)


class AvgPool2d(_Pool2d):
    """Mean over ``kernel_size`` windows moved by ``stride`` (default: the kernel size).

    Args:
        kernel_size: an int or an ``(h, w)`` pair, the window.
        stride: an int or an ``(h, w)`` pair (default: ``kernel_size``).

    Examples:
        >>> import numpy as np
        >>> AvgPool2d(2).apply({}, {}, np.arange(4.0).reshape(1, 1, 2, 2))[0]
        array([[[[1.5]]]])
    """

    name = "avgpool2d"
    _fn = staticmethod(F.avg_pool2d)
