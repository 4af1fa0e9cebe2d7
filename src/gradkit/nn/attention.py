r"""Attention: scaled dot-product attention, MultiHeadSelfAttention (with an optional causal
mask) and sinusoidal position encodings (Vaswani et al., 2017).

>>> import numpy as np
>>> attn = MultiHeadSelfAttention(num_heads=2, causal=True)
>>> params, state = attn.init(np.random.default_rng(0), (5, 8))
>>> sorted(params), attn.apply(params, state, np.ones((3, 5, 8)))[0].shape
(['W_o', 'W_qkv', 'b_o', 'b_qkv'], (3, 5, 8))
"""
from __future__ import annotations

import math

import numpy as np

from ..autodiff.trace import getval
from . import functional as F
from .init import get_initializer, zeros
from .layers import Layer

__all__ = ["scaled_dot_product_attention", "causal_mask", "MultiHeadSelfAttention",
           "sinusoidal_positions"]


def causal_mask(length):
    """``(T, T)`` booleans, True where a query may attend: key position <= query position.

    Args:
        length: T, the sequence length.

    Returns:
        numpy.ndarray: the lower-triangular boolean mask.

    Examples:
        >>> causal_mask(3).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    return np.tril(np.ones((int(length), int(length)), dtype=bool))


def scaled_dot_product_attention(q, k, v, mask=None, causal=False):
    r"""``softmax(q k^T / sqrt(d) + M) v`` over the last two axes.

    .. math:: \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\Big(\frac{Q K^T}{\sqrt{d}}
       + M\Big) V, \qquad M_{ij} = 0 \text{ where allowed}, -\infty \text{ elsewhere}

    Args:
        q: queries ``(..., T_q, d)``.
        k: keys ``(..., T_k, d)``.
        v: values ``(..., T_k, d_v)``.
        mask: optional booleans broadcastable to ``(..., T_q, T_k)``, True where a query may
            attend to a key (PyTorch's boolean ``attn_mask`` convention).
        causal: also forbid keys after the query (``T_q == T_k``).

    Returns:
        ``(..., T_q, d_v)``, equal to PyTorch's
        ``torch.nn.functional.scaled_dot_product_attention`` with the same mask.

    A masked entry gets weight exactly 0 and no gradient. A query with every key masked (a
    padding position) has no distribution to take: its weights are all 0, so its output is 0
    and it sends no gradient, as PyTorch's kernels give (2.5 and later; a NaN row there
    would make NaN every gradient, the other rows' too).

    Examples:
        >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> np.round(scaled_dot_product_attention(q, q, np.array([[1.0], [3.0]]), causal=True), 4)
        array([[1.    ],
               [2.3395]])
    """
    scores = (q @ np.swapaxes(k, -1, -2)) * (1.0 / math.sqrt(np.shape(q)[-1]))
    if causal:
        tq, tk = np.shape(scores)[-2:]
        if tq != tk:
            raise ValueError(f"causal attention needs as many queries as keys; got {tq} "
                             f"queries and {tk} keys. Pass a mask instead.")
        # made like the scores, so it lives on their device (NumPy or CuPy)
        future = np.tril(np.ones_like(getval(scores), shape=(tq, tk), dtype=bool))
        mask = future if mask is None else np.logical_and(mask, future)
    if mask is None:
        return F.softmax(scores, axis=-1) @ v
    scores = np.where(mask, scores, -np.inf)
    some = np.any(mask, axis=-1, keepdims=True)  # the queries with a key to attend to
    # the others' scores made 0 (a finite uniform softmax), then their weights 0 (no branch
    # on the mask's values: it may be batched under vmap; the other rows' bits are the same)
    weights = np.where(some, F.softmax(np.where(some, scores, 0.0), axis=-1), 0.0)
    return weights @ v


class MultiHeadSelfAttention(Layer):
    r"""Multi-head self-attention on batch-first sequences ``(N, T, D)``:

    .. math::
        [Q, K, V] &= X W_{qkv} + b_{qkv}, \qquad
        \mathrm{head}_j = \mathrm{Attention}(Q_j, K_j, V_j) \\
        Y &= [\mathrm{head}_1, \ldots, \mathrm{head}_h] W_o + b_o

    ``Q_j`` is the ``j``-th block of ``D / h`` columns of ``Q`` (likewise ``K_j``, ``V_j``);
    Attention is :func:`scaled_dot_product_attention`, with the causal mask when
    ``causal=True`` (position ``t`` sees positions ``<= t`` only, for autoregressive
    models). The layout is PyTorch's ``nn.MultiheadAttention`` transposed:
    ``in_proj_weight = W_qkv.T``, ``out_proj.weight = W_o.T``.

    Args:
        num_heads: ``h``; it must divide the model width ``D`` (the input's last axis).
        causal: whether to apply the causal mask.
        init: initializer of ``W_qkv`` and ``W_o`` (Glorot uniform, as PyTorch's in-projection).

    Params ``{"W_qkv": (D, 3D), "b_qkv": (3D,), "W_o": (D, D), "b_o": (D,)}``, biases zero
    at initialization; no state.

    Raises:
        ValueError: when ``num_heads`` does not divide ``D``.

    Examples:
        >>> import numpy as np
        >>> attn = MultiHeadSelfAttention(num_heads=4)
        >>> params, state = attn.init(np.random.default_rng(0), (6, 16))
        >>> params["W_qkv"].shape, attn.output_shape((6, 16))
        ((16, 48), (6, 16))
    """

    name = "attention"

    def __init__(self, num_heads, causal=False, init="glorot_uniform"):
        if int(num_heads) < 1:
            raise ValueError(f"MultiHeadSelfAttention(num_heads) must be a positive int; got "
                             f"{num_heads}.")
        self.num_heads = int(num_heads)
        self.causal = bool(causal)
        self.init_fn = get_initializer(init)

    def init(self, rng, input_shape, dtype=np.float64):
        d = int(input_shape[-1])
        if d % self.num_heads:
            raise ValueError(f"MultiHeadSelfAttention: num_heads={self.num_heads} does not "
                             f"divide the model width {d} (the input's last axis).")
        return {"W_qkv": self.init_fn(rng, (d, 3 * d), dtype),
                "b_qkv": zeros(rng, (3 * d,), dtype),
                "W_o": self.init_fn(rng, (d, d), dtype),
                "b_o": zeros(rng, (d,), dtype)}, {}

    def apply(self, params, state, x, *, train=False, rng=None):
        n, t, d = np.shape(x)
        h = self.num_heads
        qkv = F.linear(x, params["W_qkv"], params["b_qkv"])
        # (N, T, 3, h, d/h) -> (3, N, h, T, d/h): the heads become a batch axis
        qkv = np.transpose(np.reshape(qkv, (n, t, 3, h, d // h)), (2, 0, 3, 1, 4))
        heads = scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], causal=self.causal)
        merged = np.reshape(np.transpose(heads, (0, 2, 1, 3)), (n, t, d))
        return F.linear(merged, params["W_o"], params["b_o"]), state


def sinusoidal_positions(length, dim, dtype=np.float64):
    r"""The fixed position encodings of Vaswani et al. (2017), ``(length, dim)``:
    :math:`P_{t, 2i} = \sin(t / 10000^{2i/d})`, :math:`P_{t, 2i+1} = \cos(t / 10000^{2i/d})`.

    Args:
        length: the number of positions ``T``.
        dim: the encoding size ``d`` (even).
        dtype: the dtype of the result.

    Returns:
        An array of shape ``(length, dim)``.

    Examples:
        >>> np.round(sinusoidal_positions(2, 4), 4)
        array([[0.    , 1.    , 0.    , 1.    ],
               [0.8415, 0.5403, 0.01  , 1.    ]])
    """
    t = np.arange(int(length))[:, None]
    freq = 10000.0 ** (-np.arange(0, int(dim), 2) / int(dim))
    out = np.zeros((int(length), int(dim)), dtype)
    out[:, 0::2] = np.sin(t * freq)
    out[:, 1::2] = np.cos(t * freq)[:, : int(dim) // 2]
    return out
