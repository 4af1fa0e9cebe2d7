"""The fully connected layer, Linear: ``y = x @ W + b``.

>>> import numpy as np
>>> layer = Linear(4)
>>> params, state = layer.init(np.random.default_rng(0), (3,))
>>> params["W"].shape, params["b"].shape
((3, 4), (4,))
"""
from __future__ import annotations

import numpy as np

from . import functional as F
from .init import get_initializer, zeros
from .layers import Layer

__all__ = ["Linear"]


class Linear(Layer):
    """Fully connected layer ``y = x @ W + b`` on the last axis of ``x``.

    Args:
        out_features: the size of each output sample.
        use_bias: whether to add ``b`` (initialized to zeros).
        init: initializer of ``W`` (shape ``(in_features, out_features)``), a name from
            :mod:`gradkit.nn.init` or a function ``init(rng, shape, dtype)``.

    Params: ``{"W": (in, out), "b": (out,)}``; no state.

    Raises:
        ValueError: for a non-positive ``out_features`` or an unknown initializer name.

    Examples:
        >>> import numpy as np
        >>> layer = Linear(2, init="zeros")
        >>> params, state = layer.init(np.random.default_rng(0), (3,))
        >>> layer.apply(params, state, np.ones((5, 3)))[0].shape
        (5, 2)
    """

    name = "linear"

    def __init__(self, out_features, use_bias=True, init="glorot_uniform"):
        if int(out_features) < 1:
            raise ValueError(f"Linear(out_features) must be a positive int; got {out_features}.")
        self.out_features = int(out_features)
        self.use_bias = bool(use_bias)
        self.init_fn = get_initializer(init)

    def init(self, rng, input_shape, dtype=np.float64):
        shape = (int(input_shape[-1]), self.out_features)
        params = {"W": self.init_fn(rng, shape, dtype)}
        if self.use_bias:
            params["b"] = zeros(rng, (self.out_features,), dtype)
        return params, {}

    def apply(self, params, state, x, *, train=False, rng=None):
        return F.linear(x, params["W"], params.get("b")), state

    def output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.out_features,)
