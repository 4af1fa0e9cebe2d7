"""Residual connections: ``y = x + block(x)`` (He et al., 2016).

>>> import numpy as np
>>> from gradkit.nn import Linear, Sequential, Tanh
>>> res = Residual(Sequential([Linear(4), Tanh(), Linear(4)]))
>>> params, state = res.init(np.random.default_rng(0), (4,))
>>> res.apply(params, state, np.ones((2, 4)))[0].shape
(2, 4)
"""
from __future__ import annotations

import numpy as np

from .layers import Layer

__all__ = ["Residual"]


class Residual(Layer):
    """The skip connection ``y = x + block(x)`` around any layer that keeps the shape.

    The identity path carries the gradient past the block unchanged,
    ``dL/dx = dL/dy (I + d block/dx)``, which is why deep residual stacks do not suffer
    vanishing gradients. The parameters and state are the block's own (not nested one
    level deeper), so a ``Residual(Sequential([...]))`` has the groups of its Sequential.

    Args:
        block: a :class:`~gradkit.nn.Layer` whose output shape equals its input shape.

    Raises:
        TypeError: when ``block`` is not a layer.
        ValueError: at ``init``, when the block changes the shape of a sample.

    Examples:
        >>> import numpy as np
        >>> from gradkit.nn import Linear
        >>> res = Residual(Linear(3, init="zeros"))
        >>> params, state = res.init(np.random.default_rng(0), (3,))
        >>> res.apply(params, state, np.ones((1, 3)))[0]
        array([[1., 1., 1.]])
    """

    name = "residual"

    def __init__(self, block):
        if not isinstance(block, Layer):
            raise TypeError(f"Residual(block) takes a gradkit.nn.Layer; got "
                            f"{type(block).__name__}.")
        self.block = block

    @property
    def needs_rng(self):
        return self.block.needs_rng

    def init(self, rng, input_shape, dtype=np.float64):
        out = tuple(self.block.output_shape(tuple(input_shape)))
        if out != tuple(input_shape):
            raise ValueError(f"Residual: the block maps samples of shape {tuple(input_shape)} "
                             f"to {out}; x + block(x) needs the same shape. Add a Linear "
                             "projection inside the block.")
        return self.block.init(rng, input_shape, dtype)

    def apply(self, params, state, x, *, train=False, rng=None):
        y, state = self.block.apply(params, state, x, train=train, rng=rng)
        return x + y, state
