"""Normalization layers: BatchNorm (1-D on (N, F), 2-D on (N, C, H, W), train and eval modes)
and LayerNorm (over the last axis of each sample).

>>> import numpy as np
>>> params, state = BatchNorm().init(np.random.default_rng(0), (3, 4, 4))
>>> sorted(params), sorted(state), params["gamma"].shape
(['beta', 'gamma'], ['mean', 'var'], (3,))
"""
from __future__ import annotations

import numpy as np

from . import functional as F
from .layers import Layer

__all__ = ["BatchNorm", "LayerNorm"]


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

    Args:
        momentum: the weight of the batch statistic in the running update.
        eps: added to the variance before the square root.

    Raises:
        ValueError: for an input shape that is neither ``(F,)`` nor ``(C, H, W)``.

    Examples:
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


class LayerNorm(Layer):
    r"""Layer normalization over the last axis (Ba, Kiros & Hinton, 2016):

    .. math:: y = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta,
       \qquad \mu = \tfrac1F \textstyle\sum_j x_j,\quad
       \sigma^2 = \tfrac1F \textstyle\sum_j (x_j - \mu)^2

    computed for every position separately (each row of the last axis, of size ``F``), with
    the biased variance and ``eps`` inside the square root, as PyTorch's
    ``nn.LayerNorm(F, eps=1e-5)``. The statistics are the same in train and eval mode, so
    there is no state. The gradient flows through ``mu`` and ``sigma``.

    Args:
        eps: added to the variance; PyTorch's default ``1e-5``.
        elementwise_affine: whether to learn ``gamma`` (ones) and ``beta`` (zeros).

    Params ``{"gamma": (F,), "beta": (F,)}`` (or ``{}``); no state.

    Raises:
        ValueError: for a non-positive ``eps``.

    Examples:
        >>> import numpy as np
        >>> ln = LayerNorm()
        >>> params, state = ln.init(np.random.default_rng(0), (5, 3))
        >>> y, _ = ln.apply(params, state, np.array([[[1.0, 2.0, 3.0]]]))
        >>> np.round(y, 4)
        array([[[-1.2247,  0.    ,  1.2247]]])
    """

    name = "layernorm"

    def __init__(self, eps=1e-5, elementwise_affine=True):
        if not float(eps) > 0.0:
            raise ValueError(f"LayerNorm(eps) must be positive; got {eps}.")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)

    def init(self, rng, input_shape, dtype=np.float64):
        if not self.elementwise_affine:
            return {}, {}
        f = int(input_shape[-1])
        return {"gamma": np.ones(f, dtype), "beta": np.zeros(f, dtype)}, {}

    def apply(self, params, state, x, *, train=False, rng=None):
        centered = x - np.mean(x, axis=-1, keepdims=True)
        var = np.mean(centered * centered, axis=-1, keepdims=True)
        y = centered / np.sqrt(var + self.eps)
        if self.elementwise_affine:
            y = y * params["gamma"] + params["beta"]
        return y, state
