"""Dask-backed data: mini-batches drawn from the blocks of Dask arrays, without materialising them.

Full-batch gradients over Dask arrays are in :mod:`gradkit.optim.blockwise` (computed where
each block lives and summed). Mini-batch methods need rows on the driver instead, a few at a
time: :func:`dask_batches` draws each batch from **one block**, so only that block's slice is
computed and sent to the driver; the array as a whole is never loaded.

Sampling scheme (the price of not shuffling across blocks): for each batch, a block ``b`` is
drawn with probability ``n_b / n`` (its share of the rows), then ``batch_size`` rows are drawn
without replacement inside it (all of it if the block is smaller). Every row is therefore
equally likely to be in a batch, and the mini-batch gradient is an unbiased estimate of the
full one, but rows in one batch come from the same block: if the blocks differ systematically
(data sorted by class or time), shuffle the rows once before chunking. An "epoch" is
``ceil(n / batch_size)`` batches drawn this way, not a permutation of the rows.

>>> import numpy as np, dask.array as da
>>> X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=(5, 2))
>>> y = da.from_array(np.arange(10.0), chunks=5)
>>> [(xb.shape, type(xb).__name__) for xb, yb in dask_batches(X, y, 4, rng=0)]
[((4, 2), 'ndarray'), ((4, 2), 'ndarray'), ((4, 2), 'ndarray')]
"""
from __future__ import annotations

import math

import numpy as np

from .batching import check_batch_size, num_samples

__all__ = ["dask_batches", "is_dask_collection"]


def is_dask_collection(x) -> bool:
    """True for a Dask array or DataFrame (without importing Dask).

    Args:
        x: any value.

    Returns:
        bool.

    Examples:
        >>> is_dask_collection(np.zeros(2))
        False
    """
    return type(x).__module__.startswith(("dask.", "dask_expr")) and \
        hasattr(x, "__dask_graph__")


def dask_batches(X, y=None, batch_size=None, rng=None, n_batches=None, drop_last=False):
    """One epoch of mini-batches ``(X_batch, y_batch)`` as NumPy arrays, each from one block.

    See the module doc for the sampling scheme. Each batch costs one small Dask computation
    (the chosen rows of one block of X and of y, computed together where they live), so
    ``persist()`` X and y first, or every batch recomputes its block from the source.

    Args:
        X: a Dask array chunked by rows only (one chunk across the columns).
        y: a Dask array with the same row chunks, or None (then ``y_batch`` is None).
        batch_size: rows per batch (``None``: the whole of one block per batch).
        rng: a :class:`numpy.random.Generator` or a seed for one.
        n_batches: how many batches to yield (default ``ceil(n / batch_size)``, one epoch).
        drop_last: accepted for the signature of :func:`gradkit.data.batches`; batches are
            never short unless a block is smaller than ``batch_size``.

    Yields:
        ``(X_batch, y_batch)`` NumPy arrays.

    Raises:
        TypeError: if X is not a Dask array.
        ValueError: mismatched row chunks, X chunked across columns, bad batch_size.

    Examples:
        >>> import dask.array as da
        >>> X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=(5, 2))  # two blocks of 5 rows
        >>> y = da.from_array(np.arange(10.0), chunks=5)
        >>> batches = list(dask_batches(X, y, batch_size=4, rng=0))
        >>> len(batches), batches[0][0].shape, type(batches[0][1]).__name__
        (3, (4, 2), 'ndarray')
    """
    import dask

    if not is_dask_collection(X) or not hasattr(X, "blocks"):
        raise TypeError(f"dask_batches needs a Dask array X; got {type(X).__name__}. For "
                        "NumPy arrays use gradkit.data.batches.")
    n = num_samples(X)
    if any(len(c) != 1 for c in X.chunks[1:]):
        raise ValueError("X must be chunked along rows only; rechunk with X.rechunk({1: -1}).")
    if y is not None:
        if not is_dask_collection(y) or y.chunks[0] != X.chunks[0]:
            raise ValueError("y must be a Dask array with the same row chunks as X; got "
                             f"{getattr(y, 'chunks', type(y).__name__)!r} against "
                             f"{X.chunks[0]}. Rechunk y: y.rechunk({{0: X.chunks[0]}}).")
    sizes = np.asarray(X.chunks[0])
    size = n if batch_size is None else check_batch_size(batch_size, n)
    rng = np.random.default_rng(rng)
    if n_batches is None:
        n_batches = math.ceil(n / size)
    p = sizes / sizes.sum()
    for _ in range(n_batches):
        b = int(rng.choice(len(sizes), p=p))
        nb = int(sizes[b])
        idx = np.sort(rng.choice(nb, size=min(size, nb), replace=False))
        Xb = X.blocks[b][idx]
        if y is None:
            (xb,) = dask.compute(Xb)
            yield xb, None
        else:
            xb, yb = dask.compute(Xb, y.blocks[b][idx])
            yield xb, yb
