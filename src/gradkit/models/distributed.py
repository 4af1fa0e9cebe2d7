"""Fitting gradkit estimators on Dask arrays: the same objective, summed block by block where the data lives.

``LogisticRegression().fit(X, y)`` with Dask arrays ``X`` (chunked by rows only) and ``y``
(the same row chunks) runs the estimator's own training loop (:mod:`gradkit.models.base`)
with two substitutions, made by two marked hooks in ``base.py``:

- a **full-batch method** (``"lbfgs"``, ``"newton-cg"``, ``"newton"``, ``"bfgs"``, ``"gd"``,
  ``"proximal"``, ``"subgradient"``) minimizes the same
  ``J = (1/n) [sum_i loss_i + alpha R(w)]`` through
  :func:`gradkit.optim.blockwise_objective`: each block computes ``(n_b / n) *
  mean loss of its rows`` and its gradient (or Hessian-vector product) where it lives, the
  driver adds them and the penalty. The optimizer state stays on the driver. The fitted
  parameters equal those of ``fit(X.compute(), y.compute())`` to about 1e-8;
- a **gradient transformation** (``"sgd"``, ``"adam"``, ...) draws its mini-batches from the
  blocks with :func:`gradkit.data.distributed.dask_batches` (only the sampled rows of one block
  are computed per step).

What the Dask path does not do (each raises a ValueError that says so): models with state
(batch norm) or dropout, ``early_stopping`` (its held-out split would index rows across
blocks), ``warm_start`` with a different number of outputs. The class labels (``np.unique``
of y) are computed once, before training. Prediction takes NumPy arrays; for Dask data map it
over the blocks: ``X.map_blocks(est.predict, drop_axis=1, dtype=...)``.

``persist()`` X and y first (``X, y = dask.persist(X, y)``), or every gradient recomputes them.
With process workers the estimator is pickled into each block's task (it is small: its
parameters and settings).
"""
from __future__ import annotations

import numpy as np

from gradkit.data.distributed import is_dask_collection
from gradkit.optim.blockwise import blockwise_objective

__all__ = ["fit_dask", "blockwise_estimator_objective"]


class _BlockLoss:
    """``(n_b / n) * mean loss of a block``: the block's share of the estimator's J (picklable)."""

    def __init__(self, estimator, n, state, seed):
        self.estimator, self.n, self.state, self.seed = estimator, n, state, seed

    def __call__(self, params, Xb, Tb):
        est = self.estimator
        out, _ = est._apply(params, self.state, Xb, train=True,
                            rng=np.random.default_rng(self.seed))
        return est._data_loss(out, Tb) * (Xb.shape[0] / self.n)


def blockwise_estimator_objective(estimator, X, T, n, state, seed, smooth_only):
    """The estimator's full-batch objective J (module doc of :mod:`gradkit.models.base`) over
    Dask blocks, as a :class:`gradkit.optim.blockwise.BlockwiseObjective`."""
    def penalty(params):
        return estimator._penalty(params, n, smooth_only)
    return blockwise_objective(_BlockLoss(estimator, n, state, seed), X, T, penalty=penalty)


def _targets(yb, estimator):
    return estimator._prepare_targets(yb, fitting=False)


def fit_dask(estimator, X, y):
    """``estimator.fit(X, y)`` for Dask arrays (see the module doc); returns the estimator."""
    est = estimator
    if not (is_dask_collection(y) and hasattr(X, "chunks") and hasattr(y, "chunks")):
        raise TypeError(f"{type(est).__name__}.fit got a Dask X; y must be a Dask array with "
                        f"the same row chunks too (got {type(y).__name__}). Use "
                        "dask.array.from_array(y, chunks=X.chunks[0]).")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}.")
    if y.chunks[0] != X.chunks[0]:
        raise ValueError(f"X and y must have the same row chunks; got {X.chunks[0]} and "
                         f"{y.chunks[0]}. Rechunk y: y.rechunk({{0: X.chunks[0]}}).")
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    if est.early_stopping:
        raise ValueError(f"{type(est).__name__}: early_stopping=True is not supported on Dask "
                         "arrays (its validation split would gather rows from every block); "
                         "hold out a validation set yourself.")
    X = X.astype(np.float64)
    if est._is_classifier():
        import dask.array as da
        classes = da.unique(y).compute()
        k = est._prepare_targets(classes, fitting=True).shape[1]  # learns classes_
    else:
        k = est._prepare_targets(y[:1].compute(), fitting=True).shape[1]  # learns _y_ndim
    warm = est.warm_start and hasattr(est, "params_") and \
        getattr(est, "_fitted_n_outputs", None) == k
    est._n_outputs = k
    y_in = y if y.ndim == 1 else y.rechunk({1: -1})
    T = y_in.map_blocks(_targets, est, dtype=np.float64, chunks=(y.chunks[0], (k,)),
                        **({"new_axis": 1} if y.ndim == 1 else {}))
    est.n_features_in_ = int(X.shape[1])
    if not warm:
        est._start(X.shape[1], np.random.default_rng(0))  # only to inspect the model
        if est._has_state():
            raise ValueError(f"{type(est).__name__} with batch norm has no Dask path: its "
                             "running statistics need every row in one pass.")
        if getattr(est, "dropout", 0):
            raise ValueError(f"{type(est).__name__} with dropout has no Dask path yet; set "
                             "dropout=0 or fit on NumPy data.")
    est._train(X, T, None, fresh=not warm, epochs=est.max_iter, incremental=False)
    return est
