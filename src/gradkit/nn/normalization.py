"""Batch normalization, BatchNorm: 1-D on (N, F) and 2-D on (N, C, H, W), train and eval modes.

>>> import numpy as np
>>> params, state = BatchNorm().init(np.random.default_rng(0), (3, 4, 4))
>>> sorted(params), sorted(state), params["gamma"].shape
(['beta', 'gamma'], ['mean', 'var'], (3,))
"""
from __future__ import annotations

import numpy as np

from . import functional as F
from .layers import Layer

__all__ = ["BatchNorm"]


class BatchNorm(Layer):
    """Batch normalization: ``y = gamma * (x - mu) / sqrt(var + eps) + beta`` per feature.

    The kind follows ``input_shape``: ``(F,)`` normalizes each feature over the batch
    (BatchNorm1d), ``(C, H, W)`` each channel over the batch and the image (BatchNorm2d).
    In train mode ``mu`` and ``var`` are the batch's mean and biased variance, the gradient
    flows through them, and the running statistics in the state are updated with PyTorch's
    convention ``running = (1 - momentum) running + momentum batch_stat`` (variance
    unbiased); in eval mode the running statistics are used. See
    :func:`gradkit.nn.functional.batch_norm`.

    Params ``{"gamma": ones, "beta": zeros}``; state ``{"mean": zeros, "var": ones}``.

    Raises:
        ValueError: for an input shape that is neither ``(F,)`` nor ``(C, H, W)``.

    >>> import numpy as np
    >>> bn = BatchNorm()
    >>> params, state = bn.init(np.random.default_rng(0), (2,))
    >>> y, state = bn.apply(params, state, np.array([[0.0, 1.0], [2.0, 5.0]]), train=True)
    >>> state["mean"], state["var"]
    (array([0.1, 0.3]), array([1.1, 1.7]))
    """

    name = "batchnorm"

    def __init__(self, momentum=0.1, eps=1e-5):
        if not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(f"BatchNorm(momentum) must be in [0, 1]; got {momentum}.")
        if not float(eps) > 0.0:
            raise ValueError(f"BatchNorm(eps) must be positive; got {eps}.")
        self.momentum = float(momentum)
        self.eps = float(eps)

    def init(self, rng, input_shape, dtype=np.float64):
        if len(input_shape) not in (1, 3):
            raise ValueError(f"BatchNorm normalizes samples of shape (F,) or (C, H, W); got "
                             f"input_shape {tuple(input_shape)}. Flatten the input first.")
        c = int(input_shape[0])
        params = {"gamma": np.ones(c, dtype), "beta": np.zeros(c, dtype)}
        state = {"mean": np.zeros(c, dtype), "var": np.ones(c, dtype)}
        return params, state

    def apply(self, params, state, x, *, train=False, rng=None):
        y, mean, var = F.batch_norm(x, params["gamma"], params["beta"], state["mean"],
                                    state["var"], train=train, momentum=self.momentum,
                                    eps=self.eps)
        return y, {"mean": mean, "var": var}
