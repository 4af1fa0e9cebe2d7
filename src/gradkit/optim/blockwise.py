r"""Blockwise objectives: a loss summed over row blocks of data, computed where each block lives (Dask).

The user writes the loss of a *block of rows* in plain NumPy, as a **sum** over its rows::

    def loss(w, X, y):
        return np.sum(np.logaddexp(0.0, -y * (X @ w)))

and, separately, a penalty on the parameters only (``penalty(w)``, e.g. ``0.5 * lam * w @ w``).
:func:`blockwise_objective` turns them into

.. math::  F(w) = \sum_b \mathrm{loss}(w, X_b, y_b) + \mathrm{penalty}(w)

with the derivatives every full-batch solver needs: ``value_and_grad(w)``, ``hvp(w, v)`` and
``hess(w)``. Pass the result to :func:`gradkit.optim.minimize` as ``fun``; minimize takes the
derivatives from it (gd, lbfgs, bfgs, newton, newton-cg, proximal and subgradient all work)::

    obj = blockwise_objective(loss, X, y, penalty=lambda w: 0.5 * w @ w)
    res = gk.minimize(obj, np.zeros(X.shape[1]), method="lbfgs")

**Natural gradient.** Give the model separately, ``model(w, X_b) -> outputs``, and the loss as
a function of the outputs, ``loss(outputs, y_b) -> scalar`` (the negative log-likelihood,
summed over the rows); then the block loss is ``loss(model(w, X_b), y_b)`` and the objective
also has ``fvp(w, v)``, the Fisher-vector product

.. math::  F(w) v = \sum_b J_b^T \Lambda_b J_b v

(:func:`gradkit.optim.natural_gradient.fisher_vector_product` on each block, J_b the Jacobian
of the block's outputs in w, Lambda_b the Hessian of its loss in the outputs). ``minimize``
with ``method="natural"`` takes its curvature from ``fvp`` (no ``model=`` / ``loss=``
options)::

    obj = blockwise_objective(nll, X, y, penalty=ridge, model=lambda w, X: X @ w)
    res = gk.minimize(obj, np.zeros(X.shape[1]), method="natural")

How it runs:

- **NumPy** ``X`` / ``y``: one engine pass over the whole arrays (``loss(w, X, y) +
  penalty(w)``), exactly what ``minimize(lambda w: loss(w, X, y) + penalty(w), ...)`` does.
- **Dask** ``X`` / ``y`` (row chunks must match; ``X`` may have one column chunk only): every
  evaluation builds one task per block pair, ``gk.value_and_grad(loss)(w, X_b, y_b)`` (or
  ``gk.hvp``), which the Dask scheduler runs where the block lives (the worker holding it after
  ``X.persist()``); only ``w`` (and ``v``) travel to the workers and only one scalar and one
  gradient per block travel back. The driver adds them **in block order** (so the result is
  deterministic: the same ``w`` gives bit-identical sums run after run) and adds the penalty
  and its derivatives, computed on the driver (``fvp`` leaves the penalty out: the natural
  gradient's curvature is the likelihood's, and its ``damping`` stands in for the penalty's). The optimizer state (L-BFGS memory, CG vectors)
  never leaves the driver. The active ``dask.distributed.Client`` is used if there is one
  (otherwise Dask's default scheduler), or the ``client=`` given.

Results equal the NumPy path up to rounding of the summation order (about 1e-15 relative per
evaluation), so deterministic solvers follow the same iterates to ~1e-10.

Notes for Dask users:

- ``persist()`` X and y before fitting (``X, y = dask.persist(X, y)``): otherwise every
  gradient recomputes them from their source.
- With process workers (``LocalCluster(processes=True)`` or a real cluster) the loss is
  pickled: define it at module level, or rely on cloudpickle (which ``dask.distributed``
  uses) for lambdas and closures; everything they capture is shipped with every task, so
  capture nothing big.
- The loss must be a *sum* over rows (not a mean): the blocks' values are added. Divide by
  ``n`` yourself if you want the mean (``n = X.shape[0]`` is known without computing).

>>> import numpy as np
>>> X, y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 2.0])
>>> obj = blockwise_objective(lambda w, X, y: 0.5 * np.sum((X @ w - y) ** 2), X, y)
>>> f, g = obj.value_and_grad(np.zeros(2))
>>> float(f), g
(2.5, array([-1., -4.]))
"""
from __future__ import annotations

import numpy as np

from ..autodiff import hessian as _hessian
from ..autodiff import hvp as _hvp
from ..autodiff import value_and_grad as _value_and_grad
from ..autodiff.trace import getval
from ..backend import to_numpy
from ..tree import tree_map
from .natural_gradient import fisher_vector_product

__all__ = ["blockwise_objective", "BlockwiseObjective", "is_dask_array"]


def is_dask_array(x) -> bool:
    """True for a ``dask.array.Array`` (never imports Dask).

    Args:
        x: any value.

    Returns:
        bool.

    Examples:
        >>> is_dask_array(np.zeros(2))
        False
    """
    return type(x).__module__.startswith("dask.") and hasattr(x, "chunks") and \
        hasattr(x, "to_delayed")


# ------------------------------------------------------------------ the work done on a block
# Module-level functions, so that process workers unpickle them by reference. Results go to
# the driver as NumPy arrays (blocks of CuPy arrays are copied to the host here, on the worker).
def _block_value_and_grad(loss, w, Xb, yb):
    f, g = _value_and_grad(loss)(w, Xb, yb)
    return float(getval(f)), tree_map(to_numpy, g)


def _block_hvp(loss, w, Xb, yb, v):
    return tree_map(to_numpy, _hvp(loss)(w, Xb, yb, v))


def _block_hess(loss, w, Xb, yb):
    return to_numpy(_hessian(loss)(w, Xb, yb))


def _block_fvp(composed, w, Xb, yb, v):
    fvp = fisher_vector_product(lambda p: composed.model(p, Xb),
                                lambda z: composed.output_loss(z, yb), w)
    return tree_map(to_numpy, fvp(v))


class _ModelLoss:
    """``loss(model(w, X), y)``: the block loss of an objective built with ``model=``
    (picklable when model and loss are)."""

    def __init__(self, model, output_loss):
        self.model, self.output_loss = model, output_loss

    def __call__(self, w, X, y):
        return self.output_loss(self.model(w, X), y)


def _add(a, b):
    return tree_map(lambda p, q: p + q, a, b)


class BlockwiseObjective:
    """``F(w) = sum_b loss(w, X_b, y_b) + penalty(w)`` with its derivatives; see the module doc.

    Calling it, ``obj(w)``, gives F(w); :meth:`value_and_grad`, :meth:`hvp` and :meth:`hess`
    give the derivatives, and :attr:`fvp` the Fisher-vector product when it was built with
    ``model=``. Build it with :func:`blockwise_objective`.

    Args:
        loss: ``loss(w, X_block, y_block) -> scalar``, a sum over the block's rows (with
            ``model``: ``loss(outputs, y_block)``).
        X: the inputs, a NumPy array or a Dask array chunked by rows.
        y: the targets, with ``X``'s rows (and row chunks).
        penalty: ``penalty(w) -> scalar`` computed on the driver, or None.
        client: a ``dask.distributed.Client``, or None.
        model: ``model(w, X_block) -> outputs``, or None.

    Examples:
        >>> import numpy as np
        >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); y = np.array([1.0, 2.0, 3.0])
        >>> obj = blockwise_objective(lambda w, X, y: 0.5 * np.sum((X @ w - y) ** 2), X, y)
        >>> obj
        BlockwiseObjective(<lambda>, X.shape=(3, 2), NumPy)
        >>> w = np.zeros(2)
        >>> f, g = obj.value_and_grad(w)   # X^T (X w - y) at w = 0
        >>> float(f), g
        (7.0, array([-4., -5.]))
        >>> obj.hess(w)                    # X^T X
        array([[2., 1.],
               [1., 2.]])
    """

    def __init__(self, loss, X, y, penalty=None, client=None, model=None):
        self.model = model
        if model is not None:
            loss = _ModelLoss(model, loss)
        self.loss, self.penalty, self.client = loss, penalty, client
        self._fisher_at = (None, None)  # (w, fvp closure) of the last NumPy-path call
        self.X, self.y = X, y
        self.distributed = is_dask_array(X)
        if self.distributed:
            self._blocks = _block_pairs(X, y)
        else:
            if is_dask_array(y):
                raise TypeError("blockwise_objective: X is a NumPy array but y is a Dask "
                                "array; pass both as Dask arrays (same row chunks) or both "
                                "as NumPy arrays.")
            self._blocks = None
        self._vg = _value_and_grad(self._total)

    @property
    def n_blocks(self) -> int:
        """How many row blocks the data has (1 for NumPy data)."""
        return 1 if self._blocks is None else len(self._blocks)

    def _total(self, w):
        """The whole objective on in-memory data (the NumPy path)."""
        f = self.loss(w, self.X, self.y)
        return f + self.penalty(w) if self.penalty is not None else f

    # ------------------------------------------------------------- running blocks on Dask
    def _map_blocks(self, fn, *before, after=()):
        """``[fn(self.loss, *before, X_b, y_b, *after) for every block]``, run where the
        blocks live."""
        import dask
        from dask import delayed
        # wrap w / v once so each appears in the graph one time, not once per block. Keys are
        # fresh (pure=False): a line search may ask for the same w twice in a row, and reusing
        # the keys of a computation the scheduler is still releasing makes it reschedule
        before = [delayed(a, pure=False) for a in before]
        after = [delayed(a, pure=False) for a in after]
        tasks = [delayed(fn, pure=False)(self.loss, *before, Xb, yb, *after)
                 for Xb, yb in self._blocks]
        if self.client is not None:
            return self.client.compute(tasks, sync=True)
        return list(dask.compute(*tasks))

    @staticmethod
    def _sum(parts):
        total = parts[0]
        for p in parts[1:]:  # block order: deterministic, the same w gives the same sum
            total = _add(total, p)
        return total

    # ------------------------------------------------------------------ the derivatives
    def __call__(self, w):
        """F(w) as a float."""
        return self.value_and_grad(w)[0]

    def value_and_grad(self, w):
        """``(F(w), grad F(w))``: one pass over every block; the gradient has w's structure."""
        if not self.distributed:
            f, g = self._vg(w)
            return float(getval(f)), getval(g)
        parts = self._map_blocks(_block_value_and_grad, w)
        f = sum(p[0] for p in parts)
        g = self._sum([p[1] for p in parts])
        if self.penalty is not None:
            fp, gp = _value_and_grad(self.penalty)(w)
            f, g = f + float(getval(fp)), _add(g, getval(gp))
        return float(f), g

    def hvp(self, w, v):
        """The Hessian-vector product ``H(w) v``, summed over blocks (``gk.hvp`` per block)."""
        if not self.distributed:
            return getval(_hvp(self._total)(w, v))
        hv = self._sum(self._map_blocks(_block_hvp, w, after=(v,)))
        if self.penalty is not None:
            hv = _add(hv, getval(_hvp(self.penalty)(w, v)))
        return hv

    def hess(self, w):
        """The Hessian (w must be a flat array), summed over blocks; for ``method="newton"``."""
        if not hasattr(w, "ndim") or w.ndim != 1:
            raise TypeError("BlockwiseObjective.hess needs a flat 1-D parameter vector; use "
                            "method='newton-cg' (Hessian-vector products) for pytrees.")
        if not self.distributed:
            return getval(_hessian(self._total)(w))
        H = self._sum(self._map_blocks(_block_hess, w))
        if self.penalty is not None:
            H = H + getval(_hessian(self.penalty)(w))
        return H

    @property
    def fvp(self):
        r"""``fvp(w, v) -> F(w) v``, the Fisher-vector product :math:`\sum_b J_b^T \Lambda_b
        J_b v` summed over blocks (the penalty left out), or None when the objective was
        built without ``model=``. ``method="natural"`` uses it when it is not None."""
        return None if self.model is None else self._fvp

    def _fvp(self, w, v):
        if not self.distributed:
            # the model's pullback at w is recorded once and reused for every v the CG
            # solve asks about (the solver passes the same w object for one iteration)
            at, fvp = self._fisher_at
            if at is not w:
                loss = self.loss
                fvp = fisher_vector_product(lambda p: loss.model(p, self.X),
                                            lambda z: loss.output_loss(z, self.y), w)
                self._fisher_at = (w, fvp)
            return getval(fvp(v))
        return self._sum(self._map_blocks(_block_fvp, w, after=(v,)))

    def __repr__(self):
        where = f"Dask, {self.n_blocks} blocks" if self.distributed else "NumPy"
        loss = self.loss.output_loss if self.model is not None else self.loss
        name = getattr(loss, "__name__", type(loss).__name__)
        return f"BlockwiseObjective({name}, X.shape={tuple(self.X.shape)}, {where})"


def _block_pairs(X, y):
    """The (X_b, y_b) delayed pairs of matching row blocks; clear errors otherwise."""
    if not is_dask_array(y):
        raise TypeError("blockwise_objective: X is a Dask array, so y must be one too, with the "
                        "same row chunks (e.g. dask.array.from_array(y, chunks=X.chunks[0])).")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows; got {X.shape[0]} and "
                         f"{y.shape[0]}.")
    if X.chunks[0] != y.chunks[0]:
        raise ValueError(f"X and y must have the same row chunks so that each block of X "
                         f"meets its own targets; got {X.chunks[0]} and {y.chunks[0]}. "
                         "Rechunk y: y = y.rechunk({0: X.chunks[0]}).")
    if any(len(c) != 1 for c in X.chunks[1:]) or any(len(c) != 1 for c in y.chunks[1:]):
        raise ValueError("X (and y) must be chunked along rows only (one chunk across the "
                         "columns); rechunk with X.rechunk({1: -1}).")
    Xd = X.to_delayed().reshape(-1)
    yd = y.to_delayed().reshape(-1)
    return list(zip(Xd, yd))


def blockwise_objective(loss, X, y, penalty=None, client=None, *, model=None):
    r"""The objective :math:`F(w) = \sum_b \mathrm{loss}(w, X_b, y_b) + \mathrm{penalty}(w)`
    over the row blocks of ``X`` and ``y``, for :func:`gradkit.optim.minimize`.

    See the module doc for how it runs on NumPy and on Dask arrays.

    Args:
        loss: ``loss(w, X_block, y_block) -> scalar``, plain NumPy, a **sum** over the block's
            rows. ``w`` may be an array or a pytree. Must be picklable for process workers
            (module-level function, or anything cloudpickle handles). With ``model=``:
            ``loss(outputs, y_block) -> scalar``, the loss of the model's outputs.
        X: the inputs, a NumPy array or a Dask array chunked by rows only.
        y: the targets, of the same kind as ``X`` with its rows (and row chunks).
        penalty: ``penalty(w) -> scalar`` computed on the driver, or None.
        client: a ``dask.distributed.Client`` to run on (default: the active one, else
            Dask's default scheduler).
        model: ``model(w, X_block) -> outputs`` (picklable, as ``loss``), or None. Given,
            the block loss is ``loss(model(w, X_b), y_b)`` and the objective has ``fvp`` for
            ``method="natural"``.

    Returns:
        BlockwiseObjective: callable as ``F(w)``, with ``value_and_grad(w)``, ``hvp(w, v)``,
        ``hess(w)`` and (with ``model=``) ``fvp(w, v)``; ``minimize`` uses them when it is
        passed as ``fun``.

    Raises:
        TypeError: when one of X, y is a Dask array and the other is not.
        ValueError: mismatched rows or row chunks, or X chunked across columns.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim import minimize
        >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]); y = np.array([1.0, 2.0, 3.0])
        >>> obj = blockwise_objective(lambda w, X, y: 0.5 * np.sum((X @ w - y) ** 2), X, y)
        >>> np.round(minimize(obj, np.zeros(2), method="newton-cg").x, 6)
        array([1., 2.])
        >>> obj = blockwise_objective(lambda z, y: 0.5 * np.sum((z - y) ** 2), X, y,
        ...                           model=lambda w, X: X @ w)
        >>> np.round(minimize(obj, np.zeros(2), method="natural").x, 6)
        array([1., 2.])
    """
    if not callable(loss):
        raise TypeError(f"loss must be a callable loss(w, X, y) -> scalar, got "
                        f"{type(loss).__name__}.")
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty must be None or a callable penalty(w) -> scalar, got "
                        f"{type(penalty).__name__}.")
    if model is not None and not callable(model):
        raise TypeError(f"model must be None or a callable model(w, X) -> outputs, got "
                        f"{type(model).__name__}.")
    return BlockwiseObjective(loss, X, y, penalty=penalty, client=client, model=model)
