"""The 2-D convolution layer, Conv2d (NCHW, as in PyTorch), computed by im2col and one matmul.

>>> import numpy as np
>>> layer = Conv2d(8, 3, padding=1)
>>> params, state = layer.init(np.random.default_rng(0), (1, 8, 8))
>>> params["W"].shape, layer.output_shape((1, 8, 8))
((8, 1, 3, 3), (8, 8, 8))
"""
from __future__ import annotations

import numpy as np

from . import functional as F
from .init import get_initializer, zeros
from .layers import Layer

__all__ = ["Conv2d"]


class Conv2d(Layer):
    """2-D convolution (cross-correlation): see :func:`gradkit.nn.functional.conv2d`.

    ``y[n, o] = b[o] + sum_c W[o, c] * x_pad[n, c]`` (``*`` a strided cross-correlation).

    Args:
        out_channels: number of output channels ``O``.
        kernel_size: an int or an ``(h, w)`` pair, the kernel's ``(kh, kw)``.
        stride: an int or an ``(h, w)`` pair, the step between windows.
        padding: an int or an ``(h, w)`` pair, the zeros added on each side.
        init: initializer of ``W`` (shape ``(O, C, kh, kw)``, fan_in ``C kh kw``).
        use_bias: whether to add a bias ``b`` of shape ``(O,)`` (zeros at first).

    Input ``(N, C, H, W)``; output ``(N, O, OH, OW)`` with ``OH = (H + 2 ph - kh) // sh + 1``.

    Raises:
        ValueError: when the input shape is not ``(C, H, W)`` or the kernel does not fit.

    Examples:
        >>> import numpy as np
        >>> Conv2d(4, (3, 2), stride=2).output_shape((3, 9, 9))
        (4, 4, 4)
    """

    name = "conv2d"

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, init="he_normal",
                 use_bias=True):
        if int(out_channels) < 1:
            raise ValueError(f"Conv2d(out_channels) must be a positive int; got {out_channels}.")
        self.out_channels = int(out_channels)
        self.kernel_size = F._pair(kernel_size, "kernel_size")
        self.stride = F._pair(stride, "stride")
        self.padding = F._pair(padding, "padding")
        self.init_fn = get_initializer(init)
        self.use_bias = bool(use_bias)

    def init(self, rng, input_shape, dtype=np.float64):
        self.output_shape(input_shape)  # validates the shape and that the kernel fits
        c = int(input_shape[0])
        params = {"W": self.init_fn(rng, (self.out_channels, c) + self.kernel_size, dtype)}
        if self.use_bias:
            params["b"] = zeros(rng, (self.out_channels,), dtype)
        return params, {}

    def apply(self, params, state, x, *, train=False, rng=None):
        return F.conv2d(x, params["W"], params.get("b"), self.stride, self.padding), state

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Conv2d expects samples of shape (C, H, W); got input_shape "
                             f"{tuple(input_shape)}.")
        _, h, w = input_shape
        return (self.out_channels,
                F.conv_output_size(h, self.kernel_size[0], self.stride[0], self.padding[0]),
                F.conv_output_size(w, self.kernel_size[1], self.stride[1], self.padding[1]))
