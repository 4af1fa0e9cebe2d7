"""Fitting gradkit estimators on Dask arrays: the same objective, summed block by block where the data lives.

``LogisticRegression().fit(X, y)`` with Dask arrays ``X`` (chunked by rows only) and ``y``
(the same row chunks) runs the estimator's own training loop (:mod:`gradkit.models.base`)
with two substitutions, made by two marked hooks in ``base.py``:

- a **full-batch method** (``"lbfgs"``, ``"newton-cg"``, ``"newton"``, ``"bfgs"``, ``"gd"``,
  ``"proximal"``, ``"subgradient"``) minimizes the same
  ``J = (1/n) [sum_i loss_i + alpha R(w)]`` through
  :func:`gradkit.optim.blockwise_objective`: each block computes ``(n_b / n) *
  mean loss of its rows`` and its gradient (or Hessian-vector product) where it lives, the
  driver adds them and the penalty. The optimizer state stays on the driver. Each value
  and gradient equals the NumPy path's to rounding (the same sum in another order), so the
  fitted parameters of the convex models (linear, logistic, SVM) equal those of
  ``fit(X.compute(), y.compute())`` to about 1e-8. An MLP's loss is not convex and L-BFGS
  amplifies last-bit differences along a run: its iterates agree to 1e-10 over the first
  20 iterations, but a long run ends at a nearby point of about the same loss, not the
  same one (measured: parameters 1e-8 to 1e-1 apart after 60-300 iterations);
- a **gradient transformation** (``"sgd"``, ``"adam"``, ...) draws its mini-batches from the
  blocks with :func:`gradkit.data.distributed.dask_batches` (only the sampled rows of one block
  are computed per step).

The inputs are checked as the NumPy path checks them (:func:`check_dask_input`): numeric
dtypes, 2-D ``X``, known and matching row chunks, and no NaN or infinity, found block by
block where the blocks live (one small flag per block comes back, never the data), in the
same pass that gathers the class labels. The driver holds the parameters, the optimizer state
and a few numbers per block, whatever the number of rows.

What the Dask path does not do (each raises a ValueError that says so): models with state
(batch norm) or dropout, ``early_stopping`` (its held-out split would index rows across
blocks), ``warm_start`` with a different number of outputs. The class labels (``np.unique``
of y) are computed once, before training. Prediction takes NumPy arrays; for Dask data map it
over the blocks: ``X.map_blocks(est.predict, drop_axis=1, dtype=...)``.

``persist()`` X and y first (``X, y = dask.persist(X, y)``), or every gradient recomputes them.
The blocks' tasks get a copy of the estimator without what only the driver uses
(:func:`for_tasks`: the callbacks, the Ctrl-C guard, an earlier fit's history): a callback
may hold what cannot be pickled (a lock, an open file), and the rest would only make every
task larger.
"""
from __future__ import annotations

import copy

import numpy as np

from gradkit.autodiff import hessian
from gradkit.autodiff.trace import getval
from gradkit.data.distributed import is_dask_collection
from gradkit.optim.blockwise import BlockwiseObjective
from gradkit.tree import ravel_pytree

__all__ = ["fit_dask", "blockwise_estimator_objective", "check_dask_input", "for_tasks"]

#: What an estimator holds for the driver only: the callbacks and the Ctrl-C guard (which need
#: not pickle), and what the tasks never read (an earlier fit's history and curves, the best
#: parameters, the optimizer state, the rows kept for ``feature_importances_``).
DRIVER_ONLY = ("callbacks", "_guard", "history_", "loss_curve_", "validation_scores_",
               "_best_params", "_opt_state", "_importance_rows", "_feature_importances")


def for_tasks(estimator):
    """A shallow copy of ``estimator`` for the blocks' tasks: the settings, the fitted
    structure and the class labels they read, without :data:`DRIVER_ONLY` (``callbacks`` is
    None in the copy).

    Args:
        estimator: a gradkit estimator, during or after ``fit``.

    Returns:
        The copy (the estimator itself is not changed).

    Examples:
        >>> import threading
        >>> from gradkit.models import LogisticRegression
        >>> from gradkit.models.callbacks import Callback
        >>> class Locked(Callback):
        ...     lock = None
        >>> est = LogisticRegression(callbacks=[Locked()])
        >>> est.callbacks[0].lock = threading.Lock()
        >>> copy_ = for_tasks(est)
        >>> copy_.callbacks, len(est.callbacks)
        (None, 1)
    """
    clone = copy.copy(estimator)
    for name in DRIVER_ONLY:
        clone.__dict__.pop(name, None)
    clone.callbacks = None
    return clone


class _BlockLoss:
    """``(n_b / n) * mean loss of a block``: the block's share of the estimator's J (picklable)."""

    def __init__(self, estimator, n, state, seed):
        self.estimator, self.n, self.state, self.seed = estimator, n, state, seed

    def __call__(self, params, Xb, Tb):
        est = self.estimator
        out, _ = est._apply(params, self.state, Xb, train=True,
                            rng=np.random.default_rng(self.seed))
        return est._data_loss(out, Tb) * (Xb.shape[0] / self.n)


def _block_flat_hess(loss, flat, Xb, Tb, unravel):
    """The Hessian of one block's loss in the flat coordinates of the parameters."""
    return np.asarray(getval(hessian(lambda f: loss(unravel(f), Xb, Tb))(flat)))


class _EstimatorObjective(BlockwiseObjective):
    """A :class:`gradkit.optim.blockwise.BlockwiseObjective` over an estimator's parameters (a
    pytree), whose :meth:`hess` is the ``(n, n)`` Hessian in their flat coordinates (the
    order of :func:`gradkit.tree.ravel_pytree`, which ``minimize`` uses): each block
    computes its own, and the driver adds them and the penalty's."""

    def hess(self, params):
        flat, unravel = ravel_pytree(params)
        H = self._sum(self._map_blocks(_block_flat_hess, flat, after=(unravel,)))
        return H + np.asarray(getval(hessian(lambda f: self.penalty(unravel(f)))(flat)))


def blockwise_estimator_objective(estimator, X, T, n, state, seed, smooth_only):
    """The estimator's full-batch objective J (module doc of :mod:`gradkit.models.base`) over
    Dask blocks: a :class:`gradkit.optim.blockwise.BlockwiseObjective` whose Hessian takes
    the estimator's parameters as they are (a pytree), for ``optimizer="newton"``.

    Args:
        estimator: the estimator being fitted (its model, loss and penalty; a copy
            without its callbacks goes to the tasks, :func:`for_tasks`).
        X: the Dask array of features.
        T: the Dask array of encoded targets (one column per output).
        n: the number of rows the loss is averaged over.
        state: the model's state (``model_state_``).
        seed: the seed of the dropout masks (fixed per objective, so line searches see one
            deterministic function).
        smooth_only: leave the non-smooth L1 part out (a proximal method applies it itself).

    Returns:
        BlockwiseObjective: with ``value_and_grad(params)``, ``hvp`` and ``hess`` over the
        blocks.

    Examples:
        >>> import dask.array as da
        >>> from gradkit.models import LinearRegression
        >>> X = da.from_array(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]]), chunks=2)
        >>> y = X @ np.array([1.0, -2.0]) + 0.5
        >>> est = LinearRegression().fit(X, y)     # the fit itself uses this objective
        >>> obj = blockwise_estimator_objective(est, X, y[:, None], 4, est.model_state_, 0, False)
        >>> obj
        BlockwiseObjective(_BlockLoss, X.shape=(4, 2), Dask, 2 blocks)
        >>> f, g = obj.value_and_grad(est.params_)    # at the fitted point: J and its gradient ~ 0
        >>> bool(f < 1e-8), bool(np.abs(g["coef"]).max() < 1e-4)
        (True, True)
        >>> H = obj.hess(est.params_)    # for optimizer="newton": the flat (3, 3) Hessian
        >>> H.shape, bool(np.allclose(H, H.T))
        ((3, 3), True)
    """
    def penalty(params):
        return estimator._penalty(params, n, smooth_only)
    return _EstimatorObjective(_BlockLoss(for_tasks(estimator), n, state, seed), X, T,
                               penalty=penalty)


def _targets(yb, estimator):
    return estimator._prepare_targets(yb, fitting=False)


def _block_flags(block, check_finite):
    """``[[has NaN, has inf]]`` of one block (numbers only; labels are never NaN-checked
    unless ``check_finite``)."""
    if not check_finite or block.dtype.kind not in "fc":
        return np.zeros((1, 2), dtype=bool)
    return np.array([[np.isnan(block).any(), np.isinf(block).any()]])


def _flags(a, check_finite=True):
    """A lazy ``(n_blocks, 2)`` array of :func:`_block_flags`, one row per row-block."""
    a = a if a.ndim == 1 else a.rechunk({i: -1 for i in range(1, a.ndim)})
    return a.map_blocks(lambda b: _block_flags(b, check_finite), dtype=bool,
                        chunks=((1,) * a.numblocks[0], (2,)),
                        **({"new_axis": 1} if a.ndim == 1 else {}),
                        **({"drop_axis": list(range(2, a.ndim))} if a.ndim > 2 else {}))


def _first_bad(flags, chunks):
    """``(what, block, first row of the block)`` of the first NaN or inf, or None."""
    starts = np.concatenate([[0], np.cumsum(chunks)])
    for b, (nan, inf) in enumerate(flags):
        if nan or inf:
            return ("NaN" if nan else "infinity"), b, int(starts[b])
    return None


def check_dask_input(estimator, X, y):
    """Check Dask ``X`` and ``y`` as the NumPy path checks arrays (scikit-learn's
    ``validate_data``), without bringing the data to the driver; returns the sorted class
    labels of a classifier's ``y`` (None for a regressor), gathered in the same pass.

    The dtypes, shapes and chunks are read from the arrays' metadata; NaN and infinity are
    looked for in every block where it lives (``map_blocks`` to one pair of flags per
    block), so the driver receives a few booleans per block and the labels.

    Args:
        estimator: the gradkit estimator being fitted (its name is in the messages).
        X: a 2-D Dask array of numbers (booleans and integers are taken as floats).
        y: a Dask array with the same row chunks.

    Returns:
        numpy.ndarray or None: the classes of ``y`` for a classifier.

    Raises:
        TypeError: ``y`` is not a Dask array, or an array holds text or complex numbers.
        ValueError: a wrong number of dimensions, unknown or mismatched row chunks, no rows
            or no features, or a NaN / infinity, naming the array and the first bad block.

    Examples:
        >>> import dask.array as da
        >>> from gradkit.models import LinearRegression
        >>> X = da.from_array(np.array([[0.0], [1.0], [np.nan], [3.0]]), chunks=2)
        >>> check_dask_input(LinearRegression(), X, da.arange(4.0, chunks=2))
        Traceback (most recent call last):
        ...
        ValueError: Input X contains NaN, first in block 1 (rows from 2) of the Dask array; LinearRegression takes no missing values: drop or impute them first.
    """
    import dask
    import dask.array as da

    name = type(estimator).__name__
    for what, a in (("X", X), ("y", y)):
        if is_dask_collection(a) and not hasattr(a, "chunks"):  # a DataFrame or Series
            raise TypeError(f"{name}.fit takes Dask arrays; {what} is a Dask "
                            f"{type(a).__name__}. Convert it with "
                            f"{what}.to_dask_array(lengths=True) (gradkit.data.tabular_dask."
                            "prepare_dask encodes a table with text columns).")
    if not is_dask_collection(y):
        raise TypeError(f"{name}.fit got a Dask X; y must be a Dask array with the same row "
                        f"chunks too (got {type(y).__name__}). Use "
                        "dask.array.from_array(y, chunks=X.chunks[0]).")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}.")
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D (or 2-D for several outputs); got shape {y.shape}.")
    for what, a in (("X", X), ("y", y)):
        if any(np.isnan(c) for c in a.chunks[0]):
            raise ValueError(f"{what} has unknown chunk sizes (a Dask array made from a "
                             "DataFrame without lengths); call "
                             f"{what}.compute_chunk_sizes() or to_dask_array(lengths=True).")
    if X.shape[0] != y.shape[0]:
        raise ValueError("Found input variables with inconsistent numbers of samples: "
                         f"X has {X.shape[0]} rows and y {y.shape[0]}.")
    if y.chunks[0] != X.chunks[0]:
        raise ValueError(f"X and y must have the same row chunks; got {X.chunks[0]} and "
                         f"{y.chunks[0]}. Rechunk y: y.rechunk({{0: X.chunks[0]}}).")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"Found array with shape {X.shape}: {name} needs at least one row "
                         "and one feature.")
    classifier = estimator._is_classifier()
    for what, a, labels in (("X", X, False), ("y", y, classifier)):
        kind = a.dtype.kind
        if kind == "c" or (kind not in "biuf" and not labels):
            raise TypeError(f"{what} has dtype {a.dtype}; {name} on Dask takes real numbers"
                            + (" (encode text columns first, e.g. with "
                               "gradkit.data.tabular_dask.prepare_dask)." if kind in "OUS"
                               else "."))
    lazy = [_flags(X), _flags(y, check_finite=y.dtype.kind in "fc")]
    if classifier:
        lazy.append(da.unique(y))
    got = dask.compute(*lazy)
    for what, flags in (("X", got[0]), ("y", got[1])):
        bad = _first_bad(flags, X.chunks[0])
        if bad is not None:
            kind, block, start = bad
            raise ValueError(f"Input {what} contains {kind}, first in block {block} (rows from "
                             f"{start}) of the Dask array; {name} takes no missing values: "
                             "drop or impute them first." if kind == "NaN" else
                             f"Input {what} contains {kind}, first in block {block} (rows from "
                             f"{start}) of the Dask array; {name} needs finite values.")
    return got[2] if classifier else None


def fit_dask(estimator, X, y):
    """``estimator.fit(X, y)`` for Dask arrays (see the module doc); returns the estimator.

    Args:
        estimator: a gradkit estimator (its parameters say how to fit).
        X: a 2-D Dask array, chunked by rows.
        y: a Dask array with the same row chunks.

    Returns:
        The fitted estimator.

    Raises:
        ValueError: ``early_stopping``, batch norm or dropout (no Dask path), or bad input
            (:func:`check_dask_input`).

    Examples:
        >>> import dask.array as da
        >>> from gradkit.models import LinearRegression
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
        >>> y = X @ np.array([1.0, -2.0]) + 0.5
        >>> est = fit_dask(LinearRegression(), da.from_array(X, chunks=2), da.from_array(y, chunks=2))
        >>> np.round(est.coef_, 4), round(float(est.intercept_), 4)
        (array([ 1., -2.]), 0.5)
    """
    est = estimator
    if est.early_stopping:
        raise ValueError(f"{type(est).__name__}: early_stopping=True is not supported on Dask "
                         "arrays (its validation split would gather rows from every block); "
                         "hold out a validation set yourself.")
    classes = check_dask_input(est, X, y)
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    X = X.astype(np.float64)
    if est._is_classifier():
        k = est._prepare_targets(classes, fitting=True).shape[1]  # learns classes_
    else:
        k = est._prepare_targets(y[:1].compute(), fitting=True).shape[1]  # learns _y_ndim
    warm = est.warm_start and hasattr(est, "params_") and \
        getattr(est, "_fitted_n_outputs", None) == k
    est._n_outputs = k
    y_in = y if y.ndim == 1 else y.rechunk({1: -1})
    T = y_in.map_blocks(_targets, for_tasks(est), dtype=np.float64, chunks=(y.chunks[0], (k,)),
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
