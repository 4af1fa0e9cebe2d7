"""Neural networks: layers with pytree parameters, initializers, losses and functional ops.

- :mod:`.layers`: the layer contract (:class:`Layer`), ``Flatten``, ``Dropout``.
- :mod:`.linear`, :mod:`.conv`, :mod:`.pooling`, :mod:`.normalization`, :mod:`.activations`,
  :mod:`.container`: ``Linear``, ``Conv2d``, ``MaxPool2d`` / ``AvgPool2d``, ``BatchNorm``,
  the activations, ``Sequential``.
- :mod:`.embedding`, :mod:`.recurrent`, :mod:`.attention`, :mod:`.residual`: ``Embedding``,
  the cells ``RNNCell`` / ``LSTMCell`` / ``GRUCell`` with ``Recurrent`` and ``unroll``,
  ``MultiHeadSelfAttention`` (causal or not), ``Residual``; ``LayerNorm`` is in
  :mod:`.normalization`.
- :mod:`.init`: Glorot / Xavier, He / Kaiming, LeCun, orthogonal initializers.
- :mod:`.losses`: MSE, MAE, Huber, cross-entropy, hinge, log loss; L1 / L2 / elastic net.
- :mod:`.functional`: the same operations as plain functions (``conv2d``, ``softmax``, ...).

>>> import numpy as np, gradkit as gk
>>> from gradkit import nn
>>> model = nn.Sequential([nn.Linear(16), nn.ReLU(), nn.Linear(3)])
>>> params, state = model.init(np.random.default_rng(0), (4,))
>>> def loss(params, x, y):
...     logits, _ = model.apply(params, state, x)
...     return nn.losses.cross_entropy(logits, y)
>>> grads = gk.grad(loss)(params, np.ones((8, 4)), np.zeros(8, dtype=int))
>>> sorted(grads), grads["00_linear"]["W"].shape
(['00_linear', '02_linear'], (4, 16))
"""
from . import functional, init, losses
from .attention import MultiHeadSelfAttention, scaled_dot_product_attention, sinusoidal_positions
from .activations import ELU, GELU, Activation, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .container import Sequential
from .conv import Conv2d
from .embedding import Embedding
from .init import get_initializer
from .layers import Dropout, Flatten, Layer
from .linear import Linear
from .losses import get_loss
from .normalization import BatchNorm, LayerNorm
from .pooling import AvgPool2d, MaxPool2d
from .recurrent import Cell, GRUCell, LSTMCell, Recurrent, RNNCell, unroll
from .residual import Residual
from . import kfac  # noqa: E402  (K-FAC: the layers' curvature, as a gradient transformation)

__all__ = [
    "Layer", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm", "Dropout", "Flatten",
    "Activation", "ReLU", "LeakyReLU", "ELU", "GELU", "Tanh", "Sigmoid", "Softplus",
    "Sequential", "Embedding", "LayerNorm", "Residual", "Cell", "RNNCell", "LSTMCell",
    "GRUCell", "Recurrent", "unroll", "MultiHeadSelfAttention", "scaled_dot_product_attention",
    "sinusoidal_positions", "functional", "init", "losses", "get_initializer", "get_loss",
    "kfac",
]
