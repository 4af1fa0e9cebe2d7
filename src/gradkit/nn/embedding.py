"""Embedding: a lookup table from integer indices (tokens) to learned vectors.

>>> import numpy as np
>>> emb = Embedding(10, 4)
>>> params, state = emb.init(np.random.default_rng(0), (7,))
>>> params["W"].shape, emb.output_shape((7,))
((10, 4), (7, 4))
"""
from __future__ import annotations

import numpy as np

from ..autodiff.batching import BatchTracer, every_example
from ..autodiff.trace import apply, getval
from ..autodiff.tracer import P_GETITEM
from .init import get_initializer
from .layers import Layer

__all__ = ["Embedding"]


class Embedding(Layer):
    """``y[..., :] = W[x[...], :]``: each integer index in ``x`` picks a row of ``W``.

    The lookup is NumPy's integer indexing, so the gradient is the transpose of the
    gather: a scatter-add, ``dW[k] = sum over the positions p with x[p] = k of dy[p]``, and a
    token that appears several times in a batch accumulates all its contributions (PyTorch's
    ``nn.Embedding`` with ``sparse=False``). Indices are never differentiated.

    Args:
        num_embeddings: the size of the vocabulary (rows of ``W``).
        embedding_dim: the size of each vector (columns of ``W``).
        init: initializer of ``W``; ``"normal"`` (``N(0, 1)``) as in PyTorch.

    Params: ``{"W": (num_embeddings, embedding_dim)}``; no state. Input: an integer array
    of any shape ``(N, ...)``; output ``(N, ..., embedding_dim)``.

    Raises:
        TypeError: at ``apply``, for indices that are not integers.
        IndexError: at ``apply``, for an index outside ``[0, num_embeddings)``; a negative
            index is refused rather than counted from the end as NumPy would.

    Examples:
        >>> import numpy as np
        >>> emb = Embedding(3, 2, init="ones")
        >>> params, state = emb.init(np.random.default_rng(0), (2,))
        >>> emb.apply(params, state, np.array([[0, 2]]))[0].shape
        (1, 2, 2)
    """

    name = "embedding"

    def __init__(self, num_embeddings, embedding_dim, init="normal"):
        if int(num_embeddings) < 1 or int(embedding_dim) < 1:
            raise ValueError(f"Embedding(num_embeddings, embedding_dim) must be positive ints; "
                             f"got {num_embeddings}, {embedding_dim}.")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.init_fn = get_initializer(init)

    def init(self, rng, input_shape, dtype=np.float64):
        shape = (self.num_embeddings, self.embedding_dim)
        return {"W": self.init_fn(rng, shape, dtype)}, {}

    def apply(self, params, state, x, *, train=False, rng=None):
        idx = getval(x)
        batched = type(idx) is BatchTracer  # (gk.vmap: per-example gradients)
        idx = idx if batched else np.asarray(idx)
        values = every_example(idx)  # every example's indices checked at once
        if not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"Embedding takes integer indices (token ids); got an array of "
                            f"dtype {values.dtype}. Convert with x.astype(int).")
        if np.size(values) and (values.min() < 0 or values.max() >= self.num_embeddings):
            low = values.min()
            raise IndexError(f"Embedding({self.num_embeddings}, ...) got index "
                             f"{int(low) if low < 0 else int(values.max())}; indices "
                             f"must be in [0, {self.num_embeddings}).")
        W = params["W"]
        if batched and type(W) is np.ndarray:
            return apply(P_GETITEM, W, idx), state  # (a plain W[idx] gives vmap no hook)
        return W[idx], state

    def output_shape(self, input_shape):
        return tuple(input_shape) + (self.embedding_dim,)
