"""Activation layers: ReLU, LeakyReLU, ELU, GELU, Tanh, Sigmoid, Softplus.

Each wraps the function of the same name in :mod:`gradkit.nn.functional`; none has
parameters or state.

>>> import numpy as np
>>> ReLU().apply({}, {}, np.array([-1.0, 2.0]))[0]
array([0., 2.])
"""
from __future__ import annotations

from . import functional as F
from .layers import Layer

__all__ = ["Activation", "ReLU", "LeakyReLU", "ELU", "GELU", "Tanh", "Sigmoid", "Softplus"]


class Activation(Layer):
    """An element-wise function as a layer; subclasses set ``fn`` (and ``name``).

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> class Cube(Activation):
        ...     name = "cube"
        ...     fn = staticmethod(lambda x: x ** 3)
        >>> Cube().apply({}, {}, np.array([-1.0, 2.0]))[0]
        array([-1.,  8.])
        >>> gk.grad(lambda x: np.sum(Cube().apply({}, {}, x)[0]))(np.array([-1.0, 2.0]))  # 3 x^2
        array([ 3., 12.])
    """

    fn = None

    def _call(self, x):
        return type(self).fn(x)

    def apply(self, params, state, x, *, train=False, rng=None):
        return self._call(x), state


class ReLU(Activation):
    """``max(x, 0)``; derivative 0 at 0.

    Examples:
        >>> ReLU().name
        'relu'
    """

    name = "relu"
    fn = staticmethod(F.relu)

    def apply(self, params, state, x, *, train=False, rng=None):
        return F.relu(x), state  # (on every training step: no _call in between)


class LeakyReLU(Activation):
    """``x`` if ``x > 0`` else ``negative_slope * x``.

    Args:
        negative_slope: the slope for ``x <= 0``.

    Examples:
        >>> import numpy as np
        >>> LeakyReLU(0.1).apply({}, {}, np.array([-1.0]))[0]
        array([-0.1])
    """

    name = "leakyrelu"

    def __init__(self, negative_slope=0.01):
        self.negative_slope = float(negative_slope)

    def _call(self, x):
        return F.leaky_relu(x, self.negative_slope)


class ELU(Activation):
    """``x`` if ``x > 0`` else ``alpha (exp(x) - 1)``.

    Args:
        alpha: the scale of the negative part (it tends to ``-alpha``).

    Examples:
        >>> import numpy as np
        >>> ELU(2.0).apply({}, {}, np.array([0.0]))[0]
        array([0.])
    """

    name = "elu"

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def _call(self, x):
        return F.elu(x, self.alpha)


class GELU(Activation):
    """GELU with the tanh approximation ``0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))``.

    Examples:
        >>> GELU().name
        'gelu'
    """

    name = "gelu"
    fn = staticmethod(F.gelu)


class Tanh(Activation):
    """The hyperbolic tangent.

    Examples:
        >>> Tanh().name
        'tanh'
    """

    name = "tanh"
    fn = staticmethod(F.tanh)


class Sigmoid(Activation):
    """The logistic function ``1 / (1 + exp(-x))``.

    Examples:
        >>> Sigmoid().name
        'sigmoid'
    """

    name = "sigmoid"
    fn = staticmethod(F.sigmoid)


class Softplus(Activation):
    """``log(1 + exp(x))``, computed stably.

    Examples:
        >>> Softplus().name
        'softplus'
    """

    name = "softplus"
    fn = staticmethod(F.softplus)
