"""The layer contract (:class:`Layer`) and the shape and regularization layers Flatten and Dropout.

A layer is a description, not a container of weights: its parameters and state live in
pytrees that the caller owns, so every optimizer, diagnostic and gradient transformation in
gradkit works on them unchanged.

- ``init(rng, input_shape, dtype=np.float64) -> (params, state)``: ``input_shape`` excludes
  the batch axis; ``params`` (trained) and ``state`` (running statistics) are dicts of
  arrays, ``{}`` when there are none.
- ``apply(params, state, x, *, train=False, rng=None) -> (y, new_state)``: a pure function of
  its arguments; ``rng`` (a :class:`numpy.random.Generator`) is needed by random layers in
  train mode.
- ``output_shape(input_shape) -> tuple``: the shape of one output sample.

>>> import numpy as np
>>> layer = Flatten()
>>> params, state = layer.init(np.random.default_rng(0), (2, 3, 3))
>>> y, _ = layer.apply(params, state, np.zeros((5, 2, 3, 3)))
>>> y.shape, layer.output_shape((2, 3, 3))
((5, 18), (18,))
"""
from __future__ import annotations

import math

import numpy as np

from . import functional as F

__all__ = ["Layer", "Flatten", "Dropout"]


class Layer:
    """Base class of gradkit layers; subclasses override what differs from the defaults.

    The defaults describe a parameter-free, shape-preserving, deterministic layer.
    ``name`` names the layer in a :class:`~gradkit.nn.Sequential`'s parameter groups;
    ``needs_rng`` says whether ``apply`` uses randomness in train mode.

    Examples:
        A parameter-free layer needs only ``apply``:

        >>> import numpy as np
        >>> class Double(Layer):
        ...     name = "double"
        ...     def apply(self, params, state, x, *, train=False, rng=None):
        ...         return 2 * x, state
        >>> layer = Double()
        >>> layer.init(np.random.default_rng(0), (2,)), layer.output_shape((2,))
        (({}, {}), (2,))
        >>> layer.apply({}, {}, np.ones((1, 2)))[0]
        array([[2., 2.]])
    """

    name = "layer"
    needs_rng = False

    def init(self, rng, input_shape, dtype=np.float64):
        """Parameters and state for inputs of ``input_shape`` (no batch axis): ``({}, {})``."""
        return {}, {}

    def apply(self, params, state, x, *, train=False, rng=None):
        """The layer's output for the batch ``x`` and its new state."""
        raise NotImplementedError(f"{type(self).__name__} does not define apply.")

    def output_shape(self, input_shape):
        """The shape of one output sample for inputs of ``input_shape`` (no batch axis)."""
        return tuple(input_shape)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Flatten(Layer):
    """Flatten every axis but the batch axis: ``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``.

    Examples:
        >>> Flatten().output_shape((16, 4, 4))
        (256,)
    """

    name = "flatten"

    def apply(self, params, state, x, *, train=False, rng=None):
        return np.reshape(x, (np.shape(x)[0], -1)), state

    def output_shape(self, input_shape):
        return (math.prod(input_shape),)


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014); see :func:`gradkit.nn.functional.dropout`.

    In train mode each entry is zeroed with probability ``rate`` and the survivors are scaled
    by ``1 / (1 - rate)``, so ``E[y] = x``; in eval mode it is the identity. Train mode needs
    ``rng``.

    Args:
        rate: the probability of zeroing an entry, in [0, 1).

    Raises:
        ValueError: for a rate outside [0, 1).

    Examples:
        >>> import numpy as np
        >>> d = Dropout(0.5)
        >>> d.apply({}, {}, np.ones((1, 4)), train=True, rng=np.random.default_rng(0))[0]
        array([[2., 0., 0., 0.]])
    """

    name = "dropout"
    needs_rng = True

    def __init__(self, rate):
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout(rate) needs 0 <= rate < 1; got rate={rate}.")
        self.rate = rate

    def apply(self, params, state, x, *, train=False, rng=None):
        return F.dropout(x, self.rate, rng, train=train), state
