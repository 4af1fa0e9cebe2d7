"""Sequential: layers applied one after another, with one parameter group per layer.

>>> import numpy as np
>>> from gradkit.nn import Linear, ReLU
>>> model = Sequential([Linear(8), ReLU(), Linear(2)])
>>> params, state = model.init(np.random.default_rng(0), (3,))
>>> sorted(params), state
(['00_linear', '02_linear'], {})
>>> model.apply(params, state, np.ones((5, 3)))[0].shape
(5, 2)
"""
from __future__ import annotations

import numpy as np

from .layers import Layer

__all__ = ["Sequential"]


class Sequential(Layer):
    """A stack of layers: ``y = layer_k(...(layer_1(layer_0(x))))``.

    Parameters and state are dicts with one entry per layer that has any, keyed
    ``f"{i:02d}_{layer.name}"`` (``"00_conv2d"``, ``"01_batchnorm"``, ``"04_linear"``); the
    layers without parameters (or state) are left out. These keys are the *parameter groups*
    that gradient diagnostics report per layer.

    In train mode ``apply`` gives each random layer (``needs_rng``, e.g. Dropout) its own
    generator, spawned from ``rng`` at every call, so two calls draw different masks.

    Args:
        layers: a list (or tuple) of layers.

    Raises:
        TypeError: when ``layers`` is not a list of :class:`~gradkit.nn.Layer`.

    Examples:
        >>> from gradkit.nn import Linear, ReLU
        >>> Sequential([Linear(4), ReLU()]).output_shape((3,))
        (4,)
    """

    name = "sequential"

    def __init__(self, layers):
        if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)):
            raise TypeError("Sequential takes a list of layers: Sequential([Linear(8), ReLU()]).")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a layer "
                                "(an instance of gradkit.nn.Layer such as Linear(8)).")
        self.layers = list(layers)
        self.keys = [f"{i:02d}_{layer.name}" for i, layer in enumerate(self.layers)]

    @property
    def needs_rng(self):
        return any(layer.needs_rng for layer in self.layers)

    def init(self, rng, input_shape, dtype=np.float64):
        params, state = {}, {}
        shape = tuple(input_shape)
        for key, layer in zip(self.keys, self.layers):
            p, s = layer.init(rng, shape, dtype)
            if p:
                params[key] = p
            if s:
                state[key] = s
            shape = layer.output_shape(shape)
        return params, state

    def apply(self, params, state, x, *, train=False, rng=None):
        if not state and not train and rng is None:
            # no running statistics and no randomness (an MLP's training step): each layer
            # called with its parameters only; a layer without state keeps none
            empty = {}
            for key, layer in zip(self.keys, self.layers):
                x = layer.apply(params[key] if key in params else empty, empty, x)[0]
            return x, {}
        rngs = None
        if train and rng is not None:
            rngs = iter(rng.spawn(sum(layer.needs_rng for layer in self.layers)))
        new_state = {}
        for key, layer in zip(self.keys, self.layers):
            # (a training step's hot path: no empty dicts made for the layers that have them,
            # and the keywords passed only when they are not the defaults)
            p = params[key] if key in params else {}
            s = state[key] if key in state else {}
            if train or rngs is not None:
                x, s = layer.apply(p, s, x, train=train,
                                   rng=next(rngs) if rngs is not None and layer.needs_rng
                                   else None)
            else:
                x, s = layer.apply(p, s, x)
            if s:
                new_state[key] = s
        return x, new_state

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    def __repr__(self):
        inner = "".join(f"\n  {k}: {layer!r}," for k, layer in zip(self.keys, self.layers))
        return f"Sequential([{inner}\n])"
