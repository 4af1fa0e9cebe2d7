"""The shared training loop of every gradkit estimator: objective, optimizer, batches, stopping.

Every estimator in :mod:`gradkit.models` is a model ``f(params, X)`` plus a loss, and is fit by
minimizing one objective (``n`` is the number of training rows)::

    J(params) = (1/n) * [ sum_i loss(f(params, x_i), y_i)  +  alpha * R(w) ]

    R(w) = ||w||_2^2 / 2                                        penalty="l2"
    R(w) = ||w||_1                                              penalty="l1"
    R(w) = l1_ratio * ||w||_1 + (1 - l1_ratio) * ||w||_2^2 / 2  penalty="elasticnet"

where ``w`` are the weights (never the intercepts / biases). Scaling the penalty by ``1/n``
keeps ``alpha`` in scikit-learn's units: ``alpha = 1 / C`` for ``LogisticRegression`` and
``LinearSVC``, ``alpha`` equals ``Ridge``'s and ``MLPClassifier``'s ``alpha``. A mini-batch of
``b`` rows estimates ``J`` without bias: its mean loss plus the same penalty term.

Two ways to minimize ``J``, chosen by ``optimizer``:

- a *full-batch method* (``"lbfgs"``, ``"newton"``, ``"newton-cg"``, ``"bfgs"``, ``"gd"``,
  ``"proximal"``, ``"subgradient"``, ...) is handed to :func:`gradkit.optim.minimize`;
  ``max_iter`` counts its iterations and ``tol`` bounds the gradient norm;
- a *gradient transformation* (a name such as ``"sgd"``, ``"momentum"``, ``"nesterov"``,
  ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``, or any
  :class:`gradkit.optim.GradientTransformation`) takes one step per batch, ``batch_size`` rows
  at a time (``None`` full batch, ``1`` stochastic, ``k`` mini-batch), reshuffled every epoch;
  ``max_iter`` counts epochs and training stops once the epoch loss (or, with
  ``early_stopping``, the validation score) has not improved by ``tol`` for
  ``n_iter_no_change`` epochs, as in scikit-learn's ``MLPClassifier``.

**Sample weights.** ``fit(X, y, sample_weight=s)`` (and ``class_weight`` in the classifiers,
whose weight multiplies each row's) minimizes the weighted objective, with ``S = sum_i s_i``::

    J(params) = (1/S) * [ sum_i s_i loss(f(params, x_i), y_i)  +  alpha * R(w) ]

scikit-learn's convention: a weight of 2 is the row twice, a weight of 0 is the row dropped,
and all weights 1 is the unweighted ``J``. A mini-batch of ``b`` rows estimates it without
bias as ``(1/b) sum_batch (n s_i / S) loss_i`` plus the penalty.

**Why training stopped** is ``stop_reason_``: ``"converged"`` (a full-batch method reached
``tol``), ``"no_improvement"`` (``n_iter_no_change`` epochs without an improvement of
``tol``, or a full-batch method that can make no further progress), ``"max_iter"``,
``"diverged"``, ``"callback"`` (a callback asked to stop) or ``"interrupted"`` (Ctrl-C).

**Divergence.** A NaN or infinite loss, gradient or update, an epoch (iteration) loss above
``DIVERGENCE_FACTOR`` (1e3) times the lowest one and above the first one, or parameters whose
global norm grew ``DIVERGENCE_FACTOR`` times beyond the norm at the lowest loss, stop training
(``on_nan="stop"``: a warning, ``on_nan="raise"``: :class:`FloatingPointError`). The
parameters kept are the best ones seen (the lowest training loss of an epoch, or of an
iteration of a full-batch method; with early stopping, the best validation score), so the
estimator still predicts, and ``diverged_`` / ``diverged_at_`` record what happened.

**Ctrl-C** (:mod:`gradkit.models.interrupt`) during ``fit`` finishes the step being taken and
stops with the best parameters seen, every fitted attribute set, ``stop_reason_ =
"interrupted"`` and a warning.
"""
from __future__ import annotations

import copy
import inspect
import math
import os
import sys
import warnings
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from gradkit.autodiff import stop_gradient, value_and_grad
from gradkit.autodiff.jit import Jitted
from gradkit.backend import require_numpy
from gradkit.data import batches, train_validation_split
from gradkit.data.distributed import dask_batches, is_dask_collection
from gradkit.diagnostics import GradientMonitor
from gradkit.diagnostics.history import thin
from gradkit.diagnostics.monitor import all_finite, group_squares
from gradkit.explain import feature_importances
from gradkit.nn import losses
from gradkit.optim import transforms
from gradkit.optim.minimize import CALLBACK as _CALLBACK
from gradkit.optim.minimize import CONVERGED, MAX_ITER, METHODS, NO_CHANGE, NONFINITE, minimize
from gradkit.tree import tree_leaves, tree_map

from .callbacks import EpochInfo, call_callbacks
from .parameters import (CLASS_WEIGHT, STOP_REASONS, _Satisfies, check_parameters,  # noqa: F401
                         store_parameters)
from .interrupt import InterruptGuard

__all__ = ["GradientEstimator", "GradientClassifier", "GradientRegressor", "FULL_BATCH_METHODS",
           "TRANSFORMS", "OptimizerKind", "check_parameters", "STOP_REASONS",
           "DIVERGENCE_FACTOR", "CLASS_WEIGHT", "check_sample_weight"]

#: How many times its lowest value the loss (or the parameters' norm, the norm at the lowest
#: loss) must grow before training counts as diverged (module doc).
DIVERGENCE_FACTOR = 1e3

#: Optimizer names that run one full-batch solve through :func:`gradkit.optim.minimize`.
FULL_BATCH_METHODS = tuple(m for m in METHODS if m not in ("natural", "frank-wolfe",
                                                           "frank_wolfe", "conditional-gradient"))


def _nesterov(learning_rate):
    return transforms.momentum(learning_rate, nesterov=True)


#: Optimizer names that build a gradient transformation from ``learning_rate``.
TRANSFORMS = {
    "sgd": transforms.sgd, "momentum": transforms.momentum, "nesterov": _nesterov,
    "adagrad": transforms.adagrad, "rmsprop": transforms.rmsprop, "adam": transforms.adam,
    "adamw": transforms.adamw, "adamax": transforms.adamax, "nadam": transforms.nadam,
}

def _to_generator(random_state) -> np.random.Generator:
    """A NumPy Generator from scikit-learn's ``random_state`` (None, int, RandomState or
    Generator)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


def check_sample_weight(sample_weight, n_samples, where="fit"):
    """``sample_weight`` as a new float array of ``n_samples`` finite weights >= 0, not all 0
    (None stays None; a number is that weight for every row).

    Args:
        sample_weight: None, a number, or an array-like of shape ``(n_samples,)``.
        n_samples: the number of rows of ``X``.
        where: the call, named in the error (``"LogisticRegression.fit"``).

    Returns:
        numpy.ndarray or None: the weights (a copy: the caller's array is never written).

    Raises:
        ValueError: one line naming ``sample_weight`` and what is wrong with it.

    Examples:
        >>> check_sample_weight([1, 2], 2)
        array([1., 2.])
        >>> check_sample_weight([1, -2], 2)
        Traceback (most recent call last):
        ...
        ValueError: fit: sample_weight must be >= 0; got -2.0 at row 1.
    """
    if sample_weight is None:
        return None
    try:
        w = np.array(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: sample_weight must be numbers, one per row of X; got "
                         f"{type(sample_weight).__name__}.") from None
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(f"{where}: sample_weight must have shape ({n_samples},), one weight "
                         f"per row of X; got shape {w.shape}.")
    bad = ~np.isfinite(w)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{where}: sample_weight must be finite; got {w[i]} at row {i}.")
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise ValueError(f"{where}: sample_weight must be >= 0; got {w[i]} at row {i}.")
    if not w.any():
        raise ValueError(f"{where}: sample_weight is zero for every row; at least one row "
                         "needs a positive weight.")
    return w


def _columns(X):
    """The number of columns of a 2-d ``X`` (an array, a frame, nested lists), else None
    (validation says what is wrong with it)."""
    try:
        shape = np.shape(X)
    except ValueError:  # ragged lists
        return None
    return shape[1] if len(shape) == 2 else None


def _normalized_weights(w):
    """``(s, W)``: the weights scaled to mean 1 (``s_i = n w_i / W``) and their sum ``W``, or
    ``(None, None)`` without weights."""
    if w is None:
        return None, None
    total = float(np.sum(w))
    return w * (len(w) / total), total


def _weighted_mean(per_row, w):
    """The mean of ``per_row`` (shape ``(n,)`` or ``(n, k)``) with row ``i`` counted ``w_i``
    times (``w`` of mean 1 over the training rows; None: the plain mean)."""
    if w is None:
        return np.mean(per_row)
    if len(np.shape(per_row)) == 2:
        w = w[:, None]
    return np.mean(per_row * w)


class OptimizerKind(NamedTuple):
    """What :meth:`GradientEstimator.optimizer_kind` returns: how ``fit`` will minimize.

    ``kind`` is ``"minimize"`` (one full-batch solve; ``optimizer`` is the method's name, as
    :func:`gradkit.optim.minimize` takes it) or ``"transform"`` (steps per batch; ``optimizer``
    is the :class:`gradkit.optim.GradientTransformation`, with ``clip_norm``'s clipping
    chained in front).

    Attributes:
        kind: ``"minimize"`` or ``"transform"``.
        optimizer: the method's name (``"lbfgs"``, ...) or the gradient transformation.

    Examples:
        >>> from gradkit.models import LinearRegression
        >>> kind, optimizer = LinearRegression(optimizer="sgd").optimizer_kind()
        >>> kind, type(optimizer).__name__
        ('transform', 'GradientTransformationExtraArgs')
    """

    kind: str
    optimizer: Any


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _warn_at_caller(message, category):
    """``warnings.warn`` attributed to the first frame outside gradkit: the user's ``fit`` (or
    ``partial_fit``, or scikit-learn's code calling it), however deep in gradkit the warning
    is raised. Python 3.12 has ``skip_file_prefixes`` for this; on 3.11 the stack level is
    counted here."""
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


class _Progress:
    """The one progress hook of a fit: a tqdm bar on stderr when ``verbose`` (created when the
    ``with`` block opens, before any step can report, and closed however the block ends), and
    nothing at all otherwise (tqdm is not even imported)."""

    def __init__(self, estimator, total, unit):
        self.estimator, self.total, self.unit, self.bar = estimator, total, unit, None

    def __enter__(self):
        if self.estimator.verbose:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=self.total, desc=type(self.estimator).__name__,
                            unit=self.unit, leave=False)
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        return False

    def update(self, count, loss, grads):
        """Advance the bar and show the epoch (iteration), the loss and the global norm of the
        last gradient."""
        if self.bar is None:
            return
        self.bar.update(1)
        self.bar.set_postfix({self.unit: count, "loss": f"{loss:.4g}",
                              "grad_norm": f"{transforms.global_norm(grads):.3g}"})


def _own(params):
    """A copy of a parameter pytree's arrays (the structure rebuilt, leaves copied)."""
    if type(params) is dict and all(type(v) is np.ndarray for v in params.values()):
        return {k: v.copy() for k, v in params.items()}
    return tree_map(lambda a: a.copy() if isinstance(a, np.ndarray) else a, params)


class _Diverged(Exception):
    """A non-finite loss, gradient or update during a stochastic run (internal)."""

    def __init__(self, step, value):
        super().__init__(step, value)
        self.step, self.value = step, value


class _Interrupted(Exception):
    """Ctrl-C was pressed during a step: stop after it (internal)."""


def _exploded(loss, first, lowest, norm, norm_at_lowest):
    """Whether a run diverged although its loss is finite (module doc): the loss above
    ``DIVERGENCE_FACTOR`` times its lowest and above its first value, or the parameters'
    norm ``DIVERGENCE_FACTOR`` times beyond their norm at the lowest loss (at least 1)."""
    if loss > first and loss > DIVERGENCE_FACTOR * lowest:
        return True
    return norm is not None and norm > DIVERGENCE_FACTOR * max(norm_at_lowest, 1.0)


#: With ``record_every="auto"``, about how many steps a stochastic run keeps in ``history_``.
AUTO_RECORDS = 1000


def _by_block(estimator, method, X):
    """``estimator.method(X)`` of a Dask array ``X``, one task per block of rows: a lazy Dask
    array (the rows are never gathered onto the driver; each block is checked as a NumPy
    ``X`` is, when it is computed). The result's shape and dtype are read from the method on
    one row of zeros.

    Raises:
        sklearn.exceptions.NotFittedError: before ``fit``.
        ValueError: for a Dask ``X`` that is not a 2-D array of ``n_features_in_`` columns.
    """
    check_is_fitted(estimator, "params_")
    if getattr(X, "ndim", None) != 2 or not hasattr(X, "map_blocks") or \
            X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"{type(estimator).__name__}.{method} of a Dask collection takes a 2-D "
                         f"Dask array of {estimator.n_features_in_} columns; got "
                         f"{type(X).__name__} of shape {getattr(X, 'shape', '?')}.")
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})  # (whole rows in each block: one prediction per row)
    fn = getattr(estimator, method)
    probe = fn(np.zeros((1, X.shape[1])))
    if probe.ndim == 1:
        return X.map_blocks(fn, drop_axis=1, dtype=probe.dtype, meta=probe[:0])
    return X.map_blocks(fn, chunks=(X.chunks[0], probe.shape[1:]), dtype=probe.dtype,
                        meta=probe[:0])


def _no_dask_batch(estimator, X, y):
    """``partial_fit`` trains on one batch held in memory: a Dask collection would be
    gathered onto the driver whole, so it is refused (``fit`` takes Dask data block by block).

    Raises:
        TypeError: for a Dask ``X`` or ``y``.
    """
    if is_dask_collection(X) or is_dask_collection(y):
        raise TypeError(f"{type(estimator).__name__}.partial_fit takes NumPy arrays (one batch "
                        "in memory); a Dask collection would be gathered onto the driver "
                        "whole. Call partial_fit on X.blocks[i].compute() block by block, or "
                        "fit(X, y), which trains on Dask data block by block.")


def _epoch_info(estimator, **values):
    """The :class:`gradkit.models.callbacks.EpochInfo` of one epoch (iteration)."""
    info = EpochInfo(epoch=None, step=None, loss=None, val_loss=None, val_score=None,
                     params=None, model_state=None, lr=None, set_learning_rate=None,
                     estimator=estimator)
    info.update(values)
    return info


def _finite_sums(values):
    return all(math.isfinite(float(v)) for v in values)


def _finite_probe(grads, new_params):
    """One number, finite when every entry of the gradient and of the new parameters is: the
    sum over the arrays of ``g . p`` (of ``|g|^2 + |p|^2`` for complex ones). A non-finite
    entry on either side makes its dot non-finite (inf * 0 and inf - inf are NaN), so a finite
    probe proves both finite; a non-finite one (maybe an overflow) sends the step's checks to
    the arrays themselves. Written with NumPy calls, so a compiled step computes it."""
    total = None
    for g, p in zip(tree_leaves(grads), tree_leaves(new_params)):
        if g.dtype.kind == "c" or p.dtype.kind == "c":
            dot = np.vdot(g, g).real + np.vdot(p, p).real
        else:
            dot = np.vdot(g, p)
        total = dot if total is None else total + dot
    return total


class _StochasticRun:
    """One call of the stochastic loop: ``fit``'s epochs, a warm start's, or one
    ``partial_fit`` epoch of a gradient transformation.

    Each concern is its own method: :meth:`_step` trains on one batch, feeds the monitor and
    detects a divergence (reported by ``GradientEstimator._diverged``); :meth:`_epoch` makes
    one shuffled pass; :meth:`_record_epoch` and :meth:`_record_validation` keep the loss
    curve, the validation curves, the best parameters and the callbacks' say;
    :meth:`_out_of_patience` decides to stop. :meth:`run` returns why training ended (a
    ``stop_reason_``); the run's ``params``, ``model_state``, ``opt_state`` and ``step`` are
    then the estimator's to take (``GradientEstimator._fit_stochastic``).
    """

    def __init__(self, estimator, X, T, tx, rng, validation, incremental, weights=None,
                 rate=None):
        est = self.estimator = estimator
        self.X, self.T, self.tx, self.rng = X, T, tx, rng
        self.validation, self.incremental = validation, incremental
        self.weights, total = _normalized_weights(weights)
        self.rate = rate  # the learning-rate scale callbacks may change, or None
        n = X.shape[0]
        self.n_penalty = n if total is None else total
        self.batch_size, self.drop_last = est._batches_for(n)
        n_penalty = self.n_penalty

        def objective(params, model_state, Xb, Tb, drop_rng, wb=None):
            return est._objective(params, model_state, Xb, Tb, n_penalty, drop_rng, train=True,
                                  w=wb)

        self.value_and_grad = value_and_grad(objective, has_aux=True)
        structured = est._value_and_grad_function(n_penalty)
        if structured is not None:  # the model's own gradient (tested equal to the engine's)
            def run_structured(params, model_state, Xb, Tb, drop_rng, wb=None):
                loss, grads = structured(params, Xb, Tb, wb)
                return (loss, model_state), grads
            self.value_and_grad = run_structured
        # the run owns its parameters and optimizer state (copies, once per run: a user may
        # hold the last fit's), so each step updates them in place (transforms.step)
        self.params, self.model_state = _own(est.params_), est.model_state_
        self.opt_state = (tx.init(self.params) if est._opt_state is None
                          else copy.deepcopy(est._opt_state))
        # the parameters whose loss was the last finite one, and the best epoch's (its loss,
        # parameters, state and their norm), kept for a divergence or an interrupt
        self.last_good = (self.params, self.model_state)
        self.start = (_own(self.params), self.model_state)
        self.best = self.best_epoch = None
        self.first_loss = None
        self.epochs = 0
        self.first_step_loss, self.step_losses = None, 0.0
        self.step = est.t_
        self.grads = None
        self.monitor = est._new_monitor()
        self.record_every = 1  # (set by run, from the number of steps it may take)
        self.guard = getattr(est, "_guard", None)
        self.callbacks = est._callbacks()
        self.augment = getattr(est, "augment", None)
        self.update_arguments = est._update_arguments()
        self.compiled = self._compiled_step() if getattr(est, "jit", False) else None

    def _compiled_step(self):
        """The whole mini-batch step as functions compiled by :func:`gradkit.jit`: the
        gradient and the optimizer's update (``update`` + ``apply_updates``: the fused in-place
        kernel of :func:`transforms.step` is bit-identical to it), then for a step the
        history records (``recorded``) the monitor's sums of squares, and for the others
        (``plain``) one number, finite only when the gradient and the new parameters are
        (:func:`_finite_probe`; a non-finite one is looked at entry by entry). None where a
        replay could not follow the step (a learning rate a callback changes, Dask batches, dropout's random
        masks, an update that takes the batch's statistics (K-FAC): the step then runs
        eagerly); else the pair ``(recorded, plain)``."""
        est = self.estimator
        if self.rate is not None or is_dask_collection(self.X) or \
                float(getattr(est, "dropout", 0.0) or 0.0) > 0.0 or \
                self.update_arguments is not None:
            return None
        vg, update = self.value_and_grad, transforms.with_extra_args_support(self.tx).update

        def core(params, opt_state, model_state, Xb, Tb, rng, wb):
            if wb is None:
                (loss, new_state), grads = vg(params, model_state, Xb, Tb, rng)
            else:
                (loss, new_state), grads = vg(params, model_state, Xb, Tb, rng, wb)
            updates, opt_state = update(grads, opt_state, params, value=loss)
            return loss, new_state, grads, transforms.apply_updates(params, updates), \
                opt_state, updates

        def recorded(params, opt_state, model_state, Xb, Tb, rng, wb):
            loss, new_state, grads, new_params, opt_state, updates = core(
                params, opt_state, model_state, Xb, Tb, rng, wb)
            g, p, u = group_squares(grads), group_squares(params), group_squares(updates)
            return (loss, new_state, grads, new_params, opt_state, updates,
                    {k: (g[k], p[k], u[k]) for k in g}, group_squares(new_params))

        def plain(params, opt_state, model_state, Xb, Tb, rng, wb):
            loss, new_state, grads, new_params, opt_state, _ = core(
                params, opt_state, model_state, Xb, Tb, rng, wb)
            return loss, new_state, grads, new_params, opt_state, _finite_probe(grads,
                                                                               new_params)
        # (what the steps close over, the estimator's hyperparameters, is fixed for the fit)
        return (Jitted(recorded, check_closure=False, quiet=True),
                Jitted(plain, check_closure=False, quiet=True))

    def run(self, epochs, progress):
        """Up to ``epochs`` epochs; returns the ``stop_reason_``: ``"max_iter"``,
        ``"no_improvement"``, ``"diverged"``, ``"callback"`` or ``"interrupted"``."""
        est = self.estimator
        n = self.X.shape[0]
        per_epoch = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        self.record_every = est._record_stride(epochs * per_epoch)
        for _ in range(epochs):
            try:
                try:
                    epoch_loss = self._epoch()
                except _Diverged as exc:
                    self._restore_best()
                    est._diverged(exc.step, exc.value, self._best_loss())
                    return "diverged"
                except _Interrupted:
                    return self._interrupted()
                est.n_iter_ += 1
                progress.update(est.n_iter_, epoch_loss, self.grads)
                # the validation score is the estimator's own score, of these parameters
                est.params_, est.model_state_ = self.params, self.model_state
                ended = self._record_epoch(epoch_loss)
                if ended is not None:
                    return ended
                if self.guard is not None and self.guard.interrupted:
                    return self._interrupted()
                if not self.incremental and self._out_of_patience():
                    return "no_improvement"
            except KeyboardInterrupt:  # raised by a callback, or no handler installed
                if self.guard is not None and self.guard.forced_out():
                    raise
                return self._interrupted(mid_step=True)
        return "max_iter"

    def _interrupted(self, mid_step=False):
        """Ctrl-C: keep the best epoch's parameters (of the epochs that ended; ``self.best``
        may be the run's start, judged by one batch), else the last step's (before it, when
        the interrupt came ``mid_step`` and may have left a step half applied)."""
        if self.best_epoch is not None:
            self.params, self.model_state = _own(self.best_epoch[1]), self.best_epoch[2]
        elif mid_step:
            self.params, self.model_state = self.last_good
        self.estimator._interrupted(self.step)
        return "interrupted"

    def _best_loss(self):
        return self.first_step_loss if self.best is None else self.best[0]

    def _restore_best(self):
        """Back to the best epoch's parameters (or, before any epoch ended, to those the run
        started from)."""
        if self.best is not None:
            self.params, self.model_state = _own(self.best[1]), self.best[2]
        else:
            self.params, self.model_state = _own(self.start[0]), self.start[1]

    def _epoch(self):
        """One pass over reshuffled batches; the mean loss of its rows (weighted, with
        sample weights). Compiled steps run under one ``errstate`` for the epoch (the eager
        step sets its own): a non-finite value is the divergence checks' business."""
        if self.compiled is None:
            return self._batches()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._batches()

    def _batches(self):
        total, seen = 0.0, 0
        if self.weights is not None:
            X, T, w = self.X, self.T, self.weights
            for idx, _ in batches(np.arange(X.shape[0]), None, self.batch_size, self.rng,
                                  drop_last=self.drop_last):
                wb = w[idx]
                total += self._step(*self._augmented(X[idx], T[idx]), wb) * float(np.sum(wb))
                seen += float(np.sum(wb))
            return total / max(seen, 1e-300)
        batch_iter = dask_batches if is_dask_collection(self.X) else batches
        step = self._step if self.compiled is None else self._compiled
        if self.augment is not None:
            plain_step = step
            step = lambda Xb, Tb: plain_step(*self._augmented(Xb, Tb))  # noqa: E731
        for Xb, Tb in batch_iter(self.X, self.T, self.batch_size, self.rng,
                                 drop_last=self.drop_last):
            rows = Xb.shape[0]
            total += step(Xb, Tb) * rows
            seen += rows
        return total / max(seen, 1)

    def _augmented(self, Xb, Tb):
        """The training batch through the estimator's ``augment``, drawn from the run's
        generator (so a seeded fit stays reproducible), before the step, which therefore still
        compiles; the result must keep the batch's shapes (the network's input and the loss's
        targets are fixed).

        Raises:
            ValueError: when ``augment`` returns something else than ``(X, y)`` of the shapes
                it was given.
        """
        if self.augment is None:
            return Xb, Tb
        out = self.augment(Xb, Tb, self.rng)
        shapes = (np.shape(Xb), np.shape(Tb))
        if not (isinstance(out, tuple) and len(out) == 2
                and (np.shape(out[0]), np.shape(out[1])) == shapes):
            got = (f"shapes {(np.shape(out[0]), np.shape(out[1]))}"
                   if isinstance(out, tuple) and len(out) == 2 else type(out).__name__)
            raise ValueError(f"{type(self.estimator).__name__}: augment(X, y, rng) must return "
                             f"a pair (X, y) of the shapes it was given, {shapes}; got {got}.")
        return np.asarray(out[0], dtype=np.float64), np.asarray(out[1], dtype=np.float64)

    def _step(self, Xb, Tb, wb=None):
        """One transformation step on one batch, recorded by the monitor; returns its loss.

        Raises:
            _Diverged: for a non-finite loss or gradient (``params`` go back to those of the
                last finite loss) or non-finite new parameters (``params`` stay).
            _Interrupted: after the step, when Ctrl-C was pressed.
        """
        if self.compiled is not None:
            return self._compiled(Xb, Tb, wb)
        return self._eager(Xb, Tb, wb)

    def _eager(self, Xb, Tb, wb=None):
        """:meth:`_step` through the engine's trace (and the fused in-place update)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if wb is None:
                (loss, new_state), grads = self.value_and_grad(self.params, self.model_state,
                                                               Xb, Tb, self.rng)
            else:
                (loss, new_state), grads = self.value_and_grad(self.params, self.model_state,
                                                               Xb, Tb, self.rng, wb)
        loss = float(loss)
        self._checked(loss, grads)
        # the point this loss and gradient belong to, kept for a divergence: the step below
        # overwrites the parameters (one fused pass for the named optimizers, bit-identical
        # to update + apply_updates)
        extra = {} if self.update_arguments is None else \
            self.update_arguments(self.params, Xb, Tb, self.rng)
        previous = _own(self.params)
        new_params, self.opt_state, updates = transforms.step(
            self.tx, self.params, grads, self.opt_state, value=loss, **extra)
        return self._stepped(loss, grads, previous, updates, new_params,
                             stop_gradient(new_state))

    def _stepped(self, loss, grads, previous, updates, new_params, new_state, squares=None,
                 finite=None):
        """After the update (both paths): count the step, record it (from the compiled
        step's ``squares`` where given), check the new parameters (``finite``: already
        known finite), and take them; returns the loss."""
        self.step += 1
        self.grads = grads
        if (self.step - 1) % self.record_every == 0:
            rate = transforms.current_learning_rate(self.opt_state)
            if squares is None or not self.monitor.record_squares(self.step, loss, squares,
                                                                  rate, params=previous):
                self.monitor.record(self.step, loss=loss, grads=grads, params=previous,
                                    updates=updates, learning_rate=rate)
        if not (finite or all_finite(new_params)):
            self.params = previous
            raise _Diverged(self.step + 1, float("inf"))
        self.last_good = (previous, self.model_state)
        self.params, self.model_state = new_params, new_state
        if self.guard is not None and self.guard.interrupted:
            raise _Interrupted
        return loss

    def _checked(self, loss, grads, finite=None):
        """The divergence checks of a step's loss, before the update (:meth:`_step`): a
        non-finite loss or gradient (``finite``: the gradient already known finite) rolls
        back to the last finite loss; after 10 steps, a batch loss DIVERGENCE_FACTOR^2 times
        the mean of the run's batch losses so far explodes within an epoch (far beyond the
        noise of one batch). The first step's loss makes the run's start its first best
        point."""
        if not math.isfinite(loss) or not (finite or all_finite(grads)):
            self.params, self.model_state = self.last_good
            raise _Diverged(self.step + 1, loss if not math.isfinite(loss) else float("nan"))
        done = self.step - self.estimator.t_
        if done >= 10 and loss > self.first_step_loss and \
                loss > DIVERGENCE_FACTOR ** 2 * (self.step_losses / done):
            raise _Diverged(self.step + 1, loss)
        if self.first_step_loss is None:
            self.first_step_loss = loss
            if self.best is None and self.validation is None:
                self.best = (loss, self.start[0], self.start[1],
                             float(transforms.global_norm(self.start[0])))
                self.first_loss = loss
        self.step_losses += loss

    def _compiled(self, Xb, Tb, wb=None):
        """:meth:`_step` with the compiled steps (:meth:`_compiled_step`): the same checks,
        records and results, the finiteness read from the steps' sums of squares (run under
        :meth:`_epoch`'s ``errstate``)."""
        if len(Xb) != self.batch_size:
            # the epoch's last, smaller batch: a shape of its own, met once an epoch, which
            # would cost a trace (a few ms) to save a few µs; eager gives the same bits
            return self._eager(Xb, Tb, wb)
        recorded, plain = self.compiled
        if self.step % self.record_every:  # a step the history does not record
            loss, new_state, grads, new_params, opt_state, total = plain(
                self.params, self.opt_state, self.model_state, Xb, Tb, self.rng, wb)
            loss = float(loss)
            finite = math.isfinite(total) or None  # (None: look at the arrays)
            self._checked(loss, grads, finite)
            self.opt_state = opt_state
            return self._stepped(loss, grads, self.params, None, new_params, new_state,
                                 None, finite)
        (loss, new_state, grads, new_params, opt_state, updates, squares,
         new_squares) = recorded(self.params, self.opt_state, self.model_state, Xb, Tb,
                                 self.rng, wb)
        loss = float(loss)
        self._checked(loss, grads, _finite_sums(v[0] for v in squares.values()))
        self.opt_state = opt_state
        # (the compiled update makes new arrays: the old parameters are the previous point)
        return self._stepped(loss, grads, self.params, updates, new_params, new_state,
                             squares, _finite_sums(new_squares.values()))

    def _record_epoch(self, epoch_loss):
        """Append the epoch's loss (and validation curves), keep the best parameters, detect
        a divergence, ask the callbacks, and count the epochs without an improvement of
        ``tol``: in the validation score with early stopping, else in the training loss
        (scikit-learn's rule). Returns a ``stop_reason_`` to stop, or None."""
        est = self.estimator
        est.loss_curve_.append(epoch_loss)
        improved = val_loss = val_score = None
        if self.validation is not None:
            improved, val_loss, val_score = self._record_validation()
        if improved is None:
            improved = epoch_loss < est.best_loss_ - est.tol
        est.best_loss_ = min(est.best_loss_, epoch_loss)
        est._no_improvement = 0 if improved else est._no_improvement + 1
        if self._keep_best(epoch_loss, val_loss):
            self._restore_best()
            est._diverged(self.step, epoch_loss, self._best_loss())
            return "diverged"
        if self.callbacks:
            info = _epoch_info(est, epoch=est.n_iter_, step=self.step, loss=epoch_loss,
                               val_loss=val_loss, val_score=val_score, params=self.params,
                               model_state=self.model_state, lr=self._rate(),
                               set_learning_rate=self._set_rate())
            if call_callbacks(self.callbacks, "on_epoch_end", info):
                return "callback"
        return None

    def _keep_best(self, epoch_loss, val_loss):
        """Keep the parameters of the best epoch (by validation loss when there is one, else
        by training loss); returns whether the run diverged (:func:`_exploded`)."""
        one_step = self.batch_size >= self.X.shape[0] and val_loss is None
        # with one step per epoch the epoch's loss is that of the parameters before the step
        params, state = self.last_good if one_step else (self.params, self.model_state)
        criterion = epoch_loss if val_loss is None else val_loss
        if self.first_loss is None:
            self.first_loss = criterion
        norm = float(transforms.global_norm(params))
        kept = params if one_step else None
        if self.best_epoch is None or criterion < self.best_epoch[0]:
            kept = _own(params) if kept is None else kept
            self.best_epoch = (criterion, kept, state)
        self.epochs += 1
        if self.best is None or criterion < self.best[0]:
            self.best = (criterion, _own(params) if kept is None else kept, state, norm)
            return False
        # judged between epochs: the first epoch's mean is compared with the epochs after it,
        # not with the one batch the start was judged on (so the history holds the two epochs
        # a per-epoch divergence finding needs)
        return self.epochs >= 2 and _exploded(criterion, self.first_loss, self.best[0], norm,
                                              self.best[3])

    def _rate(self):
        rate = transforms.current_learning_rate(self.opt_state)
        if rate is not None and self.rate is not None and self.rate.scales_updates:
            rate *= self.rate.scale
        return rate

    def _set_rate(self):
        if self.rate is None:
            return None

        def set_learning_rate(new):
            current = self._rate()
            if current:
                self.rate.scale *= float(new) / current
        return set_learning_rate

    def _record_validation(self):
        """Append the validation loss and score to the history (and the score to
        ``validation_scores_`` with early stopping), keep the parameters of the best score
        so far; returns ``(improved, loss, score)``: ``improved`` says, with early stopping,
        whether the score beat the best by more than ``tol`` (None without: patience then
        counts the training loss)."""
        est = self.estimator
        Xv, Tv, yv, wv = self.validation
        score = float(est._score_validation(Xv, yv, wv))
        s, _ = _normalized_weights(wv)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            val_loss, _ = est._objective(est.params_, est.model_state_, Xv, Tv, self.n_penalty,
                                         None, train=False, w=s)
        val_loss = float(val_loss)
        self.monitor.record_validation(self.step, val_loss)
        self.monitor.history.setdefault("val_score", []).append(score)
        if not est.early_stopping:
            return None, val_loss, score
        est.validation_scores_.append(score)
        if score > est.best_validation_score_:
            est._best_params = (_own(est.params_), est.model_state_)  # steps write params
        improved = score > est.best_validation_score_ + est.tol
        est.best_validation_score_ = max(est.best_validation_score_, score)
        return improved, val_loss, score

    def _out_of_patience(self):
        """Whether ``n_iter_no_change`` epochs in a row did not improve (reads, never writes)."""
        return self.estimator._no_improvement > self.estimator.n_iter_no_change


class _RateScale:
    """The factor callbacks apply to the learning rate (``ReduceLROnPlateau``): a named
    optimizer is built with the schedule ``step -> learning_rate(step) * scale``; a given
    transformation gets its updates multiplied by ``scale`` (``scales_updates``)."""

    def __init__(self, scales_updates):
        self.scale, self.scales_updates = 1.0, scales_updates

    def schedule(self, learning_rate):
        if callable(learning_rate):
            return lambda count: learning_rate(count) * self.scale
        return lambda count: learning_rate * self.scale

    def transformation(self):
        def init(params):
            return transforms.EmptyState()

        def update(updates, state, params=None, **extra):
            return tree_map(lambda u: u * self.scale, updates), state
        return transforms.GradientTransformation(init, update)


class _FullBatchWatch:
    """What a full-batch solve's callback does at each iteration beyond the monitor: the
    validation curves, the best point (by validation loss where there is one, else by the
    objective), divergence (:func:`_exploded`), the callbacks and Ctrl-C. :meth:`iteration`
    returns True to stop ``minimize``, with :attr:`reason` saying why."""

    def __init__(self, estimator, validation, n_penalty, monitor):
        self.estimator, self.validation = estimator, validation
        self.n_penalty, self.monitor = n_penalty, monitor
        self.callbacks = estimator._callbacks()
        self.start = estimator.params_  # _validate sets params_ to each iterate it scores
        self.reason = None
        self.best = None  # (criterion, params, norm)
        self.first = None
        self.curve, self.nit, self.last_loss = [], 0, None

    def iteration(self, nit, step, loss, params):
        est = self.estimator
        self.nit, self.last_loss = nit, loss
        if np.isfinite(loss):
            self.curve.append(loss)
        val_loss = val_score = None
        if self.validation is not None:
            val_loss, val_score = self._validate(step, params)
        criterion = loss if val_loss is None else val_loss
        if not np.isfinite(criterion):
            return None  # minimize stops on a non-finite loss itself
        norm = float(transforms.global_norm(params))
        if self.first is None:
            self.first = criterion
        if self.best is None or criterion < self.best[0]:
            self.best = (criterion, params, norm)
        elif _exploded(criterion, self.first, self.best[0], norm, self.best[2]):
            self.reason = "diverged"
            return True
        if self.callbacks:
            info = _epoch_info(est, epoch=nit, step=step, loss=loss, val_loss=val_loss,
                               val_score=val_score, params=params,
                               model_state=est.model_state_)
            try:
                stop = call_callbacks(self.callbacks, "on_epoch_end", info)
            except KeyboardInterrupt:
                guard = getattr(est, "_guard", None)
                if guard is not None and guard.forced_out():
                    raise
                self.reason = "interrupted"
                return True
            if stop:
                self.reason = "callback"
                return True
        guard = getattr(est, "_guard", None)
        if guard is not None and guard.interrupted:
            self.reason = "interrupted"
            return True
        return None

    def _validate(self, step, params):
        """The validation loss and score of ``params``, recorded in the history."""
        est = self.estimator
        Xv, Tv, yv, wv = self.validation
        est.params_ = params  # the score is the estimator's own, of these parameters
        score = float(est._score_validation(Xv, yv, wv))
        s, _ = _normalized_weights(wv)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            val_loss, _ = est._objective(params, est.model_state_, Xv, Tv, self.n_penalty,
                                         None, train=False, w=s)
        val_loss = float(val_loss)
        self.monitor.record_validation(step, val_loss)
        self.monitor.history.setdefault("val_score", []).append(score)
        return val_loss, score


class GradientEstimator(BaseEstimator):
    """Base class: fits ``params_`` by gradients of the penalized mean loss (see module doc).

    Subclasses define the model and the loss through these hooks:

    - ``_prepare_targets(y, fitting)`` -> the array the loss needs, one column per model
      output (when ``fitting``, it also learns the target encoding: ``classes_``); ``fit``
      sets ``_n_outputs``, the number of model outputs, from its columns;
    - ``_init_params(n_features, rng)`` -> ``(params, model_state)``;
    - ``_apply(params, model_state, X, train, rng)`` -> ``(raw output, new model_state)``;
    - ``_data_loss(output, targets)`` -> the mean loss of the rows, a scalar;
    - ``_parameter_constraints``: the parameter table (:func:`check_parameters`), extended
      with the subclass's own parameters.

    and may override ``_score_validation`` (default: ``self.score``), ``_default_method``
    (what ``optimizer="auto"`` means) and ``_set_public_attributes`` (``coef_``, ...).

    The penalty applies to the leaves that :func:`gradkit.nn.losses.penalty_mask` marks: every
    leaf except those under a key of ``UNPENALIZED_KEYS`` (``"b"``, ``"bias"``,
    ``"intercept"``, ...), in the smooth penalty and in the proximal step alike.

    A subclass's constructor takes its settings as keyword arguments and only stores them
    (:func:`store_parameters`), as scikit-learn requires; ``fit`` checks them.

    Examples:
        >>> from gradkit.models import GradientEstimator, LinearRegression, MLPClassifier
        >>> issubclass(LinearRegression, GradientEstimator)
        True
        >>> sorted(GradientEstimator._parameter_constraints)[:4]
        ['alpha', 'batch_size', 'callbacks', 'clip_norm']
        >>> MLPClassifier().optimizer_kind().kind
        'transform'
    """

    #: The parameters every estimator shares, and what each may be (:func:`check_parameters`).
    _parameter_constraints: dict = {
        "optimizer": [StrOptions({"auto", *FULL_BATCH_METHODS, *TRANSFORMS}),
                      transforms.GradientTransformation],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), callable],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "on_nan": [StrOptions({"stop", "raise"})],
        "record_every": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "callbacks": [_Satisfies(lambda v: isinstance(v, (list, tuple)) and all(
            any(callable(getattr(c, m, None)) for m in ("on_train_begin", "on_epoch_end",
                                                         "on_train_end")) for c in v),
            "a list of callbacks (objects with on_epoch_end, on_train_begin or "
            "on_train_end; see gradkit.models.callbacks)"), None],
        "jit": ["boolean"],
    }

    def _record_stride(self, steps):
        """Record every k-th step: ``record_every``, or for ``"auto"`` every step of a
        full-batch method (``steps`` None) and of a stochastic run of up to AUTO_RECORDS
        steps, else ``k = ceil(steps / AUTO_RECORDS)``, so that a run keeps about
        AUTO_RECORDS records (the monitor's work is then a small part of a step's)."""
        if self.record_every != "auto":
            return self.record_every
        return 1 if steps is None else max(1, -(-steps // AUTO_RECORDS))

    def optimizer_kind(self) -> OptimizerKind:
        """How ``fit`` will minimize, from ``optimizer`` (``"auto"`` resolved), ``learning_rate``
        and ``clip_norm``: ``OptimizerKind("minimize", name)`` for a full-batch method of
        :func:`gradkit.optim.minimize`, ``OptimizerKind("transform", tx)`` for a gradient
        transformation (a named one built from ``learning_rate``, or the one given), with
        clipping to ``clip_norm`` chained in front.

        Returns:
            OptimizerKind: ``(kind, optimizer)``.

        Raises:
            ValueError: for a bad ``optimizer``, ``learning_rate`` or ``clip_norm``, naming it.

        >>> from gradkit.models import LogisticRegression
        >>> LogisticRegression().optimizer_kind()
        OptimizerKind(kind='minimize', optimizer='lbfgs')
        >>> LogisticRegression(optimizer="adam").optimizer_kind().kind
        'transform'
        """
        return self._optimizer_kind()

    def _optimizer_kind(self, rate=None):
        """:meth:`optimizer_kind`, with the learning rate scaled by ``rate`` (a
        :class:`_RateScale`, for callbacks that change the rate) when one is given."""
        check_parameters(self, ("optimizer", "learning_rate", "clip_norm"))
        opt = self.optimizer
        if isinstance(opt, str) and opt == "auto":
            opt = self._default_method()
        if isinstance(opt, str) and opt in FULL_BATCH_METHODS:
            return OptimizerKind("minimize", opt)
        if isinstance(opt, str):
            lr = self.learning_rate if rate is None else rate.schedule(self.learning_rate)
            tx = self._named_transform(opt, lr)
        else:
            tx = transforms.with_extra_args_support(opt)  # the loop passes value=loss
            if rate is not None:
                tx = transforms.chain(tx, rate.transformation())
        if self.clip_norm is not None:
            tx = transforms.chain(transforms.clip_by_global_norm(self.clip_norm), tx)
        return OptimizerKind("transform", tx)

    def _default_method(self):
        return "lbfgs"

    def _named_transform(self, name, learning_rate):
        """The gradient transformation an ``optimizer`` name stands for (``TRANSFORMS``;
        the MLPs add ``"kfac"``)."""
        return TRANSFORMS[name](learning_rate)

    def _update_arguments(self):
        """None, or a function ``(params, X, T, rng) -> dict``: the extra keyword arguments
        the optimizer's ``update`` needs at each step, from the batch (K-FAC's statistics,
        ``kfac_stats=``). A step that needs them runs eagerly."""
        return None

    def _value_and_grad_function(self, n):
        """A function ``(params, X, T) -> (J, gradient)`` of the penalized mean loss of a
        batch (``n`` training rows), written from the model's own structure, or None (the
        default) to let the engine differentiate ``_objective``. See
        ``_LinearModel._value_and_grad_function``."""
        return None

    def _hvp_function(self, X, T, n, w=None, n_penalty=None):
        """For ``optimizer="newton-cg"`` / ``"trust-ncg"``: a function ``(params, v) -> H v``
        in ``minimize``'s flat coordinates from the model's own structure, or None (the
        default) to let the engine compute it. See ``_LinearModel._hvp_function``."""
        return None

    def _hessian_function(self, X, T, n, w=None, n_penalty=None):
        """For ``optimizer="newton"``: a function ``params -> the Hessian of J`` in
        ``minimize``'s flat coordinates, built from the model's own structure, or None (the
        default) to let the engine build it. See ``_LinearModel._hessian_function``."""
        return None

    # ----------------------------------------------------------------------- the objective
    def _penalty(self, params, n, smooth_only=False):
        """``alpha * R(w) / n`` (module doc); ``smooth_only`` drops the L1 part (for the
        proximal method, which handles it exactly).

        Which leaves are weights (:func:`gradkit.nn.losses.penalty_mask`) and the constants
        are worked out once per fit (:meth:`_penalty_plan`), not at every step; the
        arithmetic is that of :func:`gradkit.nn.losses.l2` / ``l1`` / ``elastic_net``."""
        plan = self._penalty_plan(params, n, smooth_only)
        if plan is None:
            return 0.0
        keep, l1_part, l2_part, scale = plan
        w = [leaf for leaf, k in zip(tree_leaves(params), keep) if k]
        if l1_part == 0.0:
            R = sum((0.5 * np.sum(v * v) for v in w), 0.0)
            R = R if l2_part == 1.0 else l2_part * R
        elif l2_part == 0.0:
            R = sum((np.sum(np.abs(v)) for v in w), 0.0)
        else:  # losses.elastic_net(w, 1.0, l1_ratio)
            R = 1.0 * (l1_part * sum((np.sum(np.abs(v)) for v in w), 0.0)
                       + l2_part * sum((0.5 * np.sum(v * v) for v in w), 0.0))
        return R * scale

    def _penalty_plan(self, params, n, smooth_only):
        """``(keep, l1 weight, l2 weight, alpha / n)`` of :meth:`_penalty`, or None for no
        penalty: ``keep`` flags the penalized leaves in ``tree_leaves`` order. Cached per
        ``(n, smooth_only)`` until the next ``fit`` / ``partial_fit`` (``_train`` clears it),
        as the parameters' structure does not change within one."""
        cache = self.__dict__.setdefault("_penalty_plans", {})
        key = (n, smooth_only)
        if key in cache:
            return cache[key]
        plan = None
        if self.penalty is not None and self.alpha != 0:
            if self.penalty == "l2":
                parts = (0.0, 1.0)
            elif smooth_only:
                parts = (0.0, 1.0 - self.l1_ratio) if self.penalty == "elasticnet" else None
            elif self.penalty == "l1":
                parts = (1.0, 0.0)
            else:
                parts = (float(self.l1_ratio), 1.0 - float(self.l1_ratio))
            if parts is not None and parts != (0.0, 0.0):
                keep = tuple(bool(k) for k in tree_leaves(losses.penalty_mask(params)))
                plan = (keep, *parts, self.alpha / n)
        cache[key] = plan
        return plan

    def _objective(self, params, model_state, X, T, n, rng, train, smooth_only=False, w=None):
        """The penalized mean loss of a batch, and the new model state (running statistics);
        ``w``: the batch's sample weights scaled to mean 1 over the training rows, and ``n``
        their sum (module doc), or None."""
        out, new_state = self._apply(params, model_state, X, train=train, rng=rng)
        data = self._data_loss(out, T) if w is None else self._data_loss(out, T, w)
        loss = data + self._penalty(params, n, smooth_only)
        return loss, new_state

    def _forward(self, X):
        """The raw model output (logits, decision values or regression values) for ``X``.

        Plain differentiable NumPy of ``X`` with the fitted ``params_`` (``X`` may be a traced
        value, so :mod:`gradkit.explain` can differentiate it); no validation.
        """
        out, _ = self._apply(self.params_, self.model_state_, X, train=False, rng=None)
        return out

    # ----------------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Fit the model to ``X`` and ``y``.

        Args:
            X: the training rows, shape (n_samples, n_features).
            y: the targets, shape (n_samples,) (or (n_samples, n_targets) for regressors).
            sample_weight: None, or one weight >= 0 per row: the weighted objective of the
                module doc (a weight of 2 counts the row twice, 0 drops it). The
                classifiers' ``class_weight`` multiplies it.
            validation_data: None, or ``(X_val, y_val)`` / ``(X_val, y_val,
                sample_weight_val)``: held-out rows whose loss and score are recorded each
                epoch (``history_["val_loss"]``, ``["val_score"]``; every iteration of a
                full-batch method), given to the callbacks, and used, instead of a split of
                ``validation_fraction``, by ``early_stopping``.

        Returns:
            self

        Raises:
            ValueError: for bad data, weights or validation data, naming which.

        >>> import numpy as np
        >>> from gradkit.models import LinearRegression
        >>> X = np.array([[0.0], [1.0], [2.0]]); y = np.array([0.0, 1.0, 5.0])
        >>> a = LinearRegression().fit(X, y, sample_weight=[1, 1, 2])
        >>> b = LinearRegression().fit(X[[0, 1, 2, 2]], y[[0, 1, 2, 2]])
        >>> bool(np.allclose(a.coef_, b.coef_)), a.stop_reason_
        (True, 'converged')
        """
        check_parameters(self)
        name = f"{type(self).__name__}.fit"
        if getattr(self, "penalty", "l2") is None and hasattr(self, "alpha") and \
                self.alpha != inspect.signature(type(self)).parameters["alpha"].default:
            _warn_at_caller(f"{name}: penalty=None ignores alpha={self.alpha!r}; set penalty="
                            "'l2' (as Ridge), 'l1' or 'elasticnet' for alpha to count.",
                            UserWarning)
        if is_dask_collection(X):  # Dask arrays: see gradkit.models.distributed
            given = [k for k, v in (("sample_weight", sample_weight),
                                    ("validation_data", validation_data),
                                    ("class_weight", getattr(self, "class_weight", None)))
                     if v is not None]
            if given:
                raise ValueError(f"{name}: {' and '.join(given)} are not supported on Dask "
                                 "arrays yet; fit on NumPy arrays or leave them unset.")
            from .distributed import fit_dask
            return fit_dask(self, X, y)
        require_numpy(name, X, y)  # estimators run on host arrays
        fitted_with = getattr(self, "n_features_in_", None)
        columns = _columns(X) if self.warm_start and hasattr(self, "params_") else None
        if columns not in (None, fitted_with):  # (before validation resets n_features_in_)
            raise ValueError(f"{name}: X has {columns} features, but the model was fitted "
                             f"with {fitted_with}, and warm_start=True continues from those "
                             f"parameters; pass X with {fitted_with} features, or set "
                             "warm_start=False to start over.")
        X, y = self._validate_Xy(X, y, reset=True)
        weights = check_sample_weight(sample_weight, X.shape[0], name)
        T = self._prepare_targets(y, fitting=True)
        weights = self._row_weights(y, weights)
        warm = self.warm_start and hasattr(self, "params_") and \
            getattr(self, "_fitted_n_outputs", None) == T.shape[1]
        self._n_outputs = T.shape[1]
        validation = self._validation_set(validation_data, name)
        self._train(X, T, y, fresh=not warm, epochs=self.max_iter, incremental=False,
                    weights=weights, validation=validation)
        return self

    def _row_weights(self, y, sample_weight, training=True):
        """The weight of each training row: ``sample_weight`` (None: none; the classifiers
        multiply in ``class_weight``). All weights 1 count as none, so that the unweighted
        fit is the one taken."""
        if sample_weight is not None and np.all(sample_weight == 1.0):
            return None
        return sample_weight

    def _validation_set(self, validation_data, where):
        """``(X_val, T_val, y_val, w_val)`` from ``fit``'s ``validation_data``, checked as
        the training data are, or None."""
        if validation_data is None:
            return None
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3)):
            raise ValueError(f"{where}: validation_data must be a tuple (X_val, y_val) or "
                             f"(X_val, y_val, sample_weight_val); got "
                             f"{type(validation_data).__name__}"
                             + (f" of length {len(validation_data)}"
                                if isinstance(validation_data, (tuple, list)) else "") + ".")
        Xv, yv = validation_data[0], validation_data[1]
        try:
            Xv, yv = self._validate_Xy(Xv, yv, reset=False)
            Tv = self._prepare_targets(yv, fitting=False)
        except ValueError as exc:
            raise ValueError(f"{where}: validation_data: {exc}") from None
        wv = check_sample_weight(validation_data[2] if len(validation_data) == 3 else None,
                                 Xv.shape[0], f"{where}: validation_data")
        return Xv, Tv, yv, self._row_weights(yv, wv, training=False)

    def _callbacks(self):
        return list(getattr(self, "callbacks", None) or ())

    def _validate_Xy(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64,
                             y_numeric=not self._is_classifier(),
                             multi_output=self._multi_output())
        return X, y

    def _is_classifier(self):
        return is_classifier(self)

    def _multi_output(self):
        return False

    def _start(self, n_features, rng):
        self.params_, self.model_state_ = self._init_params(n_features, rng)
        self._fitted_n_outputs = self._n_outputs
        self._opt_state = None
        self.loss_curve_ = []
        self.history_ = {}
        self.best_loss_ = np.inf
        self.n_iter_ = 0
        self.t_ = 0
        self.diverged_ = False
        self.diverged_at_ = None
        self.stop_reason_ = None
        self._no_improvement = 0
        for attr in ("validation_scores_", "best_validation_score_"):
            self.__dict__.pop(attr, None)

    def _train(self, X, T, y, *, fresh, epochs, incremental, weights=None, validation=None):
        """The training loop shared by every estimator (``fit``, warm starts, ``partial_fit``):
        the callbacks told of the start and the end, Ctrl-C caught (:class:`InterruptGuard`),
        the fitted attributes set however training ended."""
        if getattr(self, "augment", None) is not None and \
                self._optimizer_kind().kind == "minimize":
            raise ValueError(f"{type(self).__name__}: augment= changes each mini-batch of a "
                             f"gradient transformation, and optimizer={self.optimizer!r} is a "
                             "full-batch method (its line searches need one fixed objective); "
                             "choose a gradient transformation such as 'adam', or set "
                             "augment=None.")
        rng = _to_generator(self.random_state)
        for stale in ("_feature_importances", "_importance_rows", "_penalty_plans"):
            self.__dict__.pop(stale, None)
        if fresh or not hasattr(self, "params_"):
            self._start(X.shape[1], rng)
        elif not incremental:
            self._no_improvement = 0
            self.diverged_, self.diverged_at_ = False, None
        callbacks = self._callbacks()
        rate = None
        if callbacks and self._optimizer_kind().kind == "transform":
            rate = _RateScale(scales_updates=not isinstance(self.optimizer, str))
        kind, how = self._optimizer_kind(rate)
        if callbacks:
            call_callbacks(callbacks, "on_train_begin", _epoch_info(
                self, set_learning_rate=None if rate is None else (lambda lr: None)))
        # the guard covers the attributes set after training too: a Ctrl-C there waits until
        # the estimator is complete, then goes on as a KeyboardInterrupt
        with InterruptGuard() as guard:
            self._guard = guard
            try:
                if kind == "minimize":
                    self._fit_full_batch(X, T, how, rng, weights, validation)
                else:
                    self._fit_stochastic(X, T, y, how, rng, epochs, incremental, weights,
                                         validation, rate)
            finally:  # also after an error (on_nan="raise"): a logger closes its file
                self.__dict__.pop("_guard", None)
                if callbacks:
                    call_callbacks(callbacks, "on_train_end", _epoch_info(
                        self, epoch=self.n_iter_, step=self.t_, params=self.params_,
                        model_state=self.model_state_, stop_reason=self.stop_reason_))
            self._set_public_attributes()
            self._keep_importance_rows(X)
        if guard.interrupted and self.stop_reason_ != "interrupted":
            raise KeyboardInterrupt

    _IMPORTANCE_ROWS = 256

    def _keep_importance_rows(self, X):
        """Keep what :attr:`feature_importances_` needs: at most 256 evenly spaced training
        rows (a copy: the user's ``X`` may change after ``fit``) and the mean training row,
        the baseline; the integrated gradients themselves wait for the first access."""
        rows = X
        if len(X) > self._IMPORTANCE_ROWS:
            rows = X[np.linspace(0, len(X) - 1, self._IMPORTANCE_ROWS).astype(int)]
        baseline = X.mean(axis=0)
        if is_dask_collection(X):  # both in one pass over the blocks
            import dask
            rows, baseline = dask.compute(rows, baseline)
        self._importance_rows = (np.array(rows, dtype=np.float64),
                                 np.array(baseline, dtype=np.float64))
        self.__dict__.pop("_feature_importances", None)

    @property
    def feature_importances_(self):
        """The mean absolute integrated gradients of the output (16 Gauss-Legendre nodes, from
        the mean training row) over at most 256 evenly spaced training rows of the last
        ``fit`` / ``partial_fit`` (:func:`gradkit.explain.feature_importances`): a fitted
        attribute, computed on first access from the rows ``fit`` kept and then cached, so
        that a fit does not pay for it.

        Raises:
            sklearn.exceptions.NotFittedError: (an AttributeError) before ``fit``.
            AttributeError: for an estimator loaded from a file, which has no training rows.
        """
        cached = self.__dict__.get("_feature_importances")
        if cached is not None:
            return cached
        check_is_fitted(self, "params_")
        kept = self.__dict__.get("_importance_rows")
        if kept is None:
            raise AttributeError(f"{type(self).__name__}.feature_importances_ needs the "
                                 "training rows that fit keeps, and this estimator has none "
                                 "(it was loaded from a file); compute them with "
                                 "gradkit.explain.feature_importances(estimator, X).")
        rows, baseline = kept
        value = feature_importances(self, rows, baseline=baseline, steps=16)
        self._feature_importances = value
        return value

    def _new_monitor(self):
        return GradientMonitor()

    def _keep_history(self, monitor):
        history = monitor.history
        if self.history_ and self.history_.get("step"):  # continue a warm start
            merged = {}
            for key in list(self.history_) + [k for k in history if k not in self.history_]:
                new = history.get(key)
                old = self.history_.get(key, [] if isinstance(new, list) else {})
                if new is None:
                    new = [] if isinstance(old, list) else {}
                if isinstance(old, dict):
                    groups = list(old) + [g for g in new if g not in old]  # keep layer order
                    merged[key] = {g: list(old.get(g, [])) + list(new.get(g, []))
                                   for g in groups}
                else:
                    merged[key] = list(old) + list(new)
            history = thin(merged)  # two runs within the cap each may exceed it together
        self.history_ = history

    def _diverged(self, step, value, best=None):
        """Record a divergence at ``step`` (the loss ``value`` there; ``best`` the loss of the
        parameters kept) and warn, or raise with ``on_nan="raise"``."""
        self.diverged_, self.diverged_at_ = True, int(step)
        self.stop_reason_ = "diverged"
        kept = ("the best parameters seen were kept" if best is None else
                f"the best parameters seen (loss {best:.6g}) were kept")
        at = "" if value is None else f" (loss {value:.6g})"  # (None: before any loss)
        message = (f"{type(self).__name__}: training diverged at step {step}{at}; "
                   f"it stopped and {kept}. Lower learning_rate, set clip_norm, or "
                   "standardize the features.")
        if self.on_nan == "raise":
            raise FloatingPointError(message)
        _warn_at_caller(message, RuntimeWarning)

    def _interrupted(self, step):
        """Record a Ctrl-C at ``step`` and warn."""
        self.stop_reason_ = "interrupted"
        _warn_at_caller(f"{type(self).__name__}: fit was interrupted (Ctrl-C) at step {step}; "
                        "the best parameters seen were kept and the estimator is fitted "
                        "(stop_reason_='interrupted').", RuntimeWarning)

    def _has_state(self):
        return bool(tree_leaves(self.model_state_))

    # .......................................................................... full batch
    def _fit_full_batch(self, X, T, method, rng, weights=None, validation=None):
        """One solve of :func:`gradkit.optim.minimize` from ``params_``, watched every
        iteration (:class:`_FullBatchWatch`: validation, best point, divergence, callbacks,
        Ctrl-C)."""
        n = X.shape[0]
        w, total = _normalized_weights(weights)
        n_penalty = n if total is None else total
        state = self.model_state_
        seed = int(rng.integers(np.iinfo(np.int32).max))
        monitor = self._new_monitor()
        watch = _FullBatchWatch(self, validation, n_penalty, monitor)
        with _Progress(self, self.max_iter, "iteration") as progress:
            objective, objective_and_grad, callback = self._full_batch_functions(
                X, T, method, state, seed, monitor, progress, w, n_penalty, watch)
            hess = hvp = None  # the model's own, from its structure, where it knows them
            if method == "newton":
                hess = self._hessian_function(X, T, n) if w is None else \
                    self._hessian_function(X, T, n, w, n_penalty)
            elif method in ("newton-cg", "trust-ncg"):
                hvp = self._hvp_function(X, T, n) if w is None else \
                    self._hvp_function(X, T, n, w, n_penalty)
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    res = minimize(objective, self.params_, method=method, tol=self.tol,
                                   max_iter=self.max_iter, callback=callback,
                                   value_and_grad=objective_and_grad, hess=hess, hvp=hvp,
                                   **self._proximal_options(method, n_penalty),
                                   **self._solver_options(method, X, w))
            except KeyboardInterrupt:  # raised by a callback, or no handler installed
                if self._guard.forced_out():
                    raise
                res = None
        if res is None:
            watch.reason = "interrupted"
            self._take_interrupted_solve(watch, X, state, seed)
        else:
            self._take_full_batch_result(res, X, state, seed, watch)
        self._keep_history(monitor)
        if self.stop_reason_ == "interrupted":
            self._interrupted(self.t_)
        elif not self.diverged_ and not res.success and res.status != _CALLBACK:
            _warn_at_caller(f"{type(self).__name__}: {method} stopped before reaching tol="
                            f"{self.tol}: {res.message}", ConvergenceWarning)

    def _full_batch_functions(self, X, T, method, state, seed, monitor, progress, w=None,
                              n_penalty=None, watch=None):
        """``(objective, value_and_grad, callback)`` for ``minimize``: J, J and its gradient in
        one engine pass (both summed block by block for Dask data), and the per-iteration hook
        that feeds the monitor, the progress bar and ``watch``."""
        n = X.shape[0] if n_penalty is None else n_penalty
        smooth_only = method == "proximal"

        def objective(params):
            # a fresh generator per call: dropout masks are fixed, so the objective is a
            # deterministic function that line searches can trust
            loss, _ = self._objective(params, state, X, T, n, np.random.default_rng(seed),
                                      train=True, smooth_only=smooth_only, w=w)
            return loss

        engine_vg = value_and_grad(objective)
        structured = None if smooth_only else self._value_and_grad_function(n)
        if structured is not None and not is_dask_collection(X):
            def engine_vg(params):  # the model's own gradient (tested equal to the engine's)
                return structured(params, X, T, w)
        if is_dask_collection(X):  # Dask: the same J, summed block by block
            from .distributed import blockwise_estimator_objective
            objective = blockwise_estimator_objective(self, X, T, n, state, seed, smooth_only)
            engine_vg = objective.value_and_grad
        last = {}

        def objective_and_grad(params):
            # remembered, so the monitor reads the gradient of an accepted point for free
            last["x"], last["fg"] = params, engine_vg(params)
            return last["fg"]

        stride = self._record_stride(None)

        def callback(info):
            params = info.x
            step = self.t_ + info.nit
            due = (step - 1) % stride == 0
            if due or progress.bar is not None:
                same = "x" in last and all(np.array_equal(a, b) for a, b in
                                           zip(tree_leaves(last["x"]), tree_leaves(params)))
                f, g = last["fg"] if same else objective_and_grad(params)
                if smooth_only:  # the proximal method's objective: f + its L1 term
                    f = info.fun
                if due:
                    monitor.record(step, loss=float(f), grads=g, params=params,
                                   updates=None, learning_rate=None)
                progress.update(info.nit, float(f), g)
            return None if watch is None else watch.iteration(info.nit, step, float(info.fun),
                                                              params)

        return objective, objective_and_grad, callback

    def _solver_options(self, method, X, w=None):
        """Further options of ``minimize`` for ``method`` on the data ``X`` with the rows'
        weights ``w`` (none here; the linear models scale the subgradient method's step to
        the data)."""
        return {}

    def _proximal_options(self, method, n):
        """``minimize``'s ``l1`` weights for the proximal method (an L1 part in the penalty),
        one per leaf from the rule of the smooth penalty: intercepts and biases get 0, so the
        soft threshold never shrinks them."""
        if not (method == "proximal" and self.penalty in ("l1", "elasticnet") and self.alpha > 0):
            return {}
        l1 = float(self.alpha * (1.0 if self.penalty == "l1" else self.l1_ratio) / n)
        return {"l1": tree_map(lambda penalized: l1 if penalized else 0.0,
                               losses.penalty_mask(self.params_))}

    def _take_full_batch_result(self, res, X, state, seed, watch=None):
        """The solve's point (the best it saw; unless it is not finite: a divergence), loss
        curve, counts and ``stop_reason_``, and for batch norm the running statistics of one
        pass in train mode. After a divergence or an interrupt with validation data, the
        point of the best validation loss is kept instead."""
        curve = [float(f) for f in res.history["f"]]
        good = [f for f in curve if np.isfinite(f)]
        reason = {CONVERGED: "converged", MAX_ITER: "max_iter", NONFINITE: "diverged",
                  NO_CHANGE: "no_improvement"}.get(res.status, "no_improvement")
        if res.status == _CALLBACK:
            reason = (watch.reason if watch is not None else None) or "callback"
        self.stop_reason_ = reason
        self.n_iter_ = int(res.nit)
        step = self.t_ + self.n_iter_
        best = min(good) if good else None
        if not np.isfinite(res.fun) or not all_finite(res.x):
            if watch is not None:
                self.params_ = watch.start
            self._diverged(len(good), float(res.fun), best)
        else:
            self.params_ = res.x
            if watch is not None and watch.validation is not None and watch.best is not None \
                    and reason in ("diverged", "interrupted"):
                self.params_ = watch.best[1]
            if len(good) < len(curve):
                self._diverged(len(good), next(f for f in curve if not np.isfinite(f)), best)
            elif reason == "diverged":
                self._diverged(step, watch.last_loss, best)
        self.loss_curve_ = list(self.loss_curve_) + good
        self.best_loss_ = min([self.best_loss_, *good]) if good else self.best_loss_
        self.t_ += self.n_iter_
        if self._has_state():
            _, self.model_state_ = self._apply(self.params_, state, X, train=True,
                                               rng=np.random.default_rng(seed))

    def _take_interrupted_solve(self, watch, X, state, seed):
        """After a ``KeyboardInterrupt`` out of ``minimize``: the best point the watch saw
        (the starting point when no iteration ended), its curve and counts."""
        if watch.best is not None:
            self.params_ = watch.best[1]
        self.stop_reason_ = "interrupted"
        self.loss_curve_ = list(self.loss_curve_) + watch.curve
        self.best_loss_ = min([self.best_loss_, *watch.curve])
        self.n_iter_ = watch.nit
        self.t_ += self.n_iter_
        if self._has_state():
            _, self.model_state_ = self._apply(self.params_, state, X, train=True,
                                               rng=np.random.default_rng(seed))

    # .......................................................................... stochastic
    def _batch_size(self, n):
        bs = self.batch_size
        if isinstance(bs, str):  # "auto", as scikit-learn's MLP
            return min(200, n)
        return n if bs is None else min(int(bs), n)

    def _batches_for(self, n):
        """``(batch size, drop_last)`` for ``n`` training rows.

        Raises:
            ValueError: batch norm with batches of one row (it estimates a variance per batch).
        """
        bs = self._batch_size(n)
        if self._has_state() and bs < 2:
            raise ValueError(f"{type(self).__name__} with batch norm needs at least 2 samples "
                             f"per batch; got batch_size={self.batch_size!r} and n_samples={n}.")
        # a last batch of one sample would leave batch norm without a variance: skip it (the
        # shuffle puts that sample in a full batch in another epoch)
        return bs, self._has_state() and n % bs == 1

    def _fit_stochastic(self, X, T, y, tx, rng, epochs, incremental, weights=None,
                        validation=None, rate=None):
        """Epochs of ``tx`` steps (a :class:`_StochasticRun`), then its result taken. With
        ``early_stopping`` and no ``validation`` given, ``validation_fraction`` of the rows
        is held out."""
        early = self.early_stopping and not incremental
        if early and validation is None:
            X, T, y, weights, validation = self._split_validation(X, T, y, weights, rng)
        if early:
            self._best_params = None
            if not hasattr(self, "validation_scores_"):
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
        run = _StochasticRun(self, X, T, tx, rng, validation, incremental, weights, rate)
        with _Progress(self, epochs, "epoch") as progress:
            ended = run.run(epochs, progress)
        # after a divergence or an interrupt the run's params are the best epoch's
        self.params_, self._opt_state, self.model_state_ = run.params, run.opt_state, \
            run.model_state
        self.t_ = run.step
        self.stop_reason_ = ended
        if early and self._best_params is not None:
            self.params_, self.model_state_ = self._best_params
        self._keep_history(run.monitor)
        if ended == "max_iter" and not incremental and epochs == self.max_iter:
            _warn_at_caller(f"{type(self).__name__}: stochastic optimizer: maximum iterations "
                            f"(max_iter={self.max_iter}) reached and the optimization hasn't "
                            "converged yet.", ConvergenceWarning)

    def _split_validation(self, X, T, y, w, rng):
        """``(X, T, y, w)`` of the training rows and ``(X, T, y, w)`` of the held-out ones."""
        idx = np.arange(X.shape[0])
        stratify = y if self._is_classifier() else None
        tr, va, _, _ = train_validation_split(idx, idx, self.validation_fraction, rng=rng,
                                              stratify=stratify)
        if w is None:
            return X[tr], T[tr], y[tr], None, (X[va], T[va], y[va], None)
        return X[tr], T[tr], y[tr], w[tr], (X[va], T[va], y[va], w[va])

    def _score_validation(self, X, y, sample_weight=None):
        self._set_public_attributes()
        if sample_weight is None:
            return self.score(X, y)
        return self.score(X, y, sample_weight=sample_weight)

    # ----------------------------------------------------------------------- helpers
    def _set_public_attributes(self):
        """Derive scikit-learn's attributes (``coef_``, ...) from ``params_``."""

    def _check_fitted_X(self, X):
        check_is_fitted(self, "params_")
        return validate_data(self, X, reset=False, dtype=np.float64)

    def save(self, path):
        """Write the fitted estimator to ``path``, one ``.npz`` file (see
        :mod:`gradkit.models.persistence`); read it back with :func:`gradkit.models.load`."""
        from .persistence import save
        return save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def _class_weights(class_weight, classes, idx, who, sample_weight=None):
    """The weight of each class (in ``classes`` order) from ``class_weight``; for
    ``"balanced"`` scikit-learn's ``compute_class_weight``: the rows counted with their
    ``sample_weight`` (a weight of 2 is the row twice), ``total / (n_classes * count_k)``."""
    if isinstance(class_weight, str):  # "balanced"
        counts = np.bincount(idx, weights=sample_weight, minlength=len(classes))
        counts = counts.astype(np.float64)
        # a class absent from these rows (or of weight 0) has no rows to weigh: its weight
        # does not matter
        return counts.sum() / (len(classes) * np.where(counts > 0, counts, 1.0))
    unknown = [k for k in class_weight if not np.any(classes == k)]
    if unknown:
        raise ValueError(f"{who}: class_weight names labels {unknown} that are not in the "
                         f"classes of y ({classes.tolist()}).")
    out = np.ones(len(classes))
    for k, v in class_weight.items():
        if not (isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(v) and v >= 0):
            raise ValueError(f"{who}: class_weight[{k!r}] must be a finite number >= 0; got "
                             f"{v!r}.")
        out[int(np.flatnonzero(classes == k)[0])] = float(v)
    return out


def _stochastic_optimizer(estimator):
    """``partial_fit`` exists only with a gradient transformation (as scikit-learn's MLP)."""
    opt = estimator.optimizer
    method = estimator._default_method() if isinstance(opt, str) and opt == "auto" else opt
    if isinstance(method, str) and method in FULL_BATCH_METHODS:
        raise AttributeError(f"partial_fit is only available for stochastic optimizers (a "
                             f"gradient transformation such as 'sgd' or 'adam'); "
                             f"optimizer={opt!r} is a full-batch method.")
    return True


class GradientClassifier(ClassifierMixin, GradientEstimator):
    """A :class:`GradientEstimator` over class labels: ``classes_``, ``predict``, ``partial_fit``.

    Two classes give one output column (a logit or decision value for ``classes_[1]``), more
    give one column per class.

    Examples:
        >>> import numpy as np
        >>> from gradkit.models import GradientClassifier, LogisticRegression
        >>> X, y = np.array([[-1.0], [0.0], [1.0]]), np.array(["a", "b", "c"])
        >>> clf = LogisticRegression().fit(X, y)
        >>> isinstance(clf, GradientClassifier), clf.classes_.tolist(), clf.coef_.shape
        (True, ['a', 'b', 'c'], (3, 1))
    """

    def _prepare_targets(self, y, fitting, classes=None):
        check_classification_targets(y)
        if fitting:
            self.classes_ = np.unique(y if classes is None else classes)
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes "
                                 f"in the data, but the data contains only one class: "
                                 f"{self.classes_[0]!r}.")
        idx = np.searchsorted(self.classes_, y)
        idx = np.minimum(idx, len(self.classes_) - 1)
        unknown = self.classes_[idx] != y
        if np.any(unknown):
            raise ValueError(f"y contains labels {np.unique(y[unknown]).tolist()} that are not "
                             f"in classes_={self.classes_.tolist()}.")
        K = len(self.classes_)
        if K == 2:
            return self._binary_targets(idx)
        return np.eye(K)[idx]

    def _binary_targets(self, idx):
        return idx.astype(np.float64)[:, None]

    def _row_weights(self, y, sample_weight, training=True):
        """``sample_weight`` times ``class_weight[y_i]``: ``"balanced"`` gives class ``k``
        the weight ``n_samples / (n_classes * n_k)`` (scikit-learn's formula, on the training
        rows, counted with their sample weights; validation rows get the training rows'
        class weights), a dict ``{label: weight}`` its weights (1 for the labels it does not
        name)."""
        cw = getattr(self, "class_weight", None)
        if cw is not None:
            idx = np.searchsorted(self.classes_, y)
            if training or "_class_weight_table" not in self.__dict__:
                self._class_weight_table = _class_weights(cw, self.classes_, idx,
                                                          type(self).__name__, sample_weight)
            row = self._class_weight_table[idx]
            sample_weight = row if sample_weight is None else sample_weight * row
            if training and not np.any(sample_weight):
                raise ValueError(f"{type(self).__name__}.fit: the weights are zero for every "
                                 "row (sample_weight times class_weight); give some rows a "
                                 "weight > 0.")
        return super()._row_weights(y, sample_weight, training)

    def _validate_Xy(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64)
        return X, y

    def decision_function(self, X):
        """Raw scores: shape (n_samples,) for two classes (positive means ``classes_[1]``),
        (n_samples, n_classes) for more."""
        if is_dask_collection(X):
            return _by_block(self, "decision_function", X)
        out = self._forward(self._check_fitted_X(X))
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """The predicted class of each row."""
        if is_dask_collection(X):
            return _by_block(self, "predict", X)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(_stochastic_optimizer)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of the stochastic optimizer on ``(X, y)``; ``classes`` (every label that
        will ever be seen) is required on the first call; ``sample_weight`` as in ``fit``
        (``class_weight`` multiplies it; ``"balanced"`` counts the classes of this call).
        Returns ``self``."""
        check_parameters(self)
        _no_dask_batch(self, X, y)
        first = not hasattr(self, "params_")
        if first and classes is None:
            raise ValueError(f"classes must be passed on the first call to "
                             f"{type(self).__name__}.partial_fit (all labels that will be seen); "
                             "got classes=None.")
        X, y = self._validate_Xy(X, y, reset=first)
        if not first and classes is not None and not np.array_equal(np.unique(classes),
                                                                    self.classes_):
            raise ValueError(f"classes={list(classes)} differs from classes_="
                             f"{self.classes_.tolist()} of the first partial_fit call.")
        weights = check_sample_weight(sample_weight, X.shape[0],
                                      f"{type(self).__name__}.partial_fit")
        T = self._prepare_targets(y, fitting=first, classes=classes)
        weights = self._row_weights(y, weights)
        if first:
            self._n_outputs = T.shape[1]
        self._train(X, T, y, fresh=first, epochs=1, incremental=True, weights=weights)
        return self


class GradientRegressor(RegressorMixin, GradientEstimator):
    """A :class:`GradientEstimator` over real targets, one output per target column.

    Examples:
        >>> import numpy as np
        >>> from gradkit.models import GradientRegressor, LinearRegression
        >>> X = np.array([[0.0], [1.0], [2.0]]); Y = np.column_stack([X[:, 0], -X[:, 0]])
        >>> reg = LinearRegression().fit(X, Y)
        >>> isinstance(reg, GradientRegressor), reg.predict(X).shape, reg.coef_.round(3).tolist()
        (True, (3, 2), [[1.0], [-1.0]])
    """


    def _multi_output(self):
        return True

    def _prepare_targets(self, y, fitting, classes=None):
        y = np.asarray(y, dtype=np.float64)
        if fitting:
            self._y_ndim = y.ndim
        elif y.ndim != self._y_ndim and not (y.ndim == 2 and y.shape[1] == 1):
            raise ValueError(f"y has {y.ndim} dimension(s) but the model was fit on "
                             f"{self._y_ndim}-dimensional targets.")
        T = y.reshape(len(y), -1)
        if not fitting and T.shape[1] != self._n_outputs:
            raise ValueError(f"y has {T.shape[1]} target columns but the model was fit on "
                             f"{self._n_outputs}.")
        return T

    def predict(self, X):
        """The predicted targets: shape (n_samples,) or (n_samples, n_targets)."""
        if is_dask_collection(X):
            return _by_block(self, "predict", X)
        out = self._forward(self._check_fitted_X(X))
        return out[:, 0] if self._y_ndim == 1 else out

    @available_if(_stochastic_optimizer)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of the stochastic optimizer on ``(X, y)`` (``sample_weight`` as in
        ``fit``). Returns ``self``."""
        check_parameters(self)
        _no_dask_batch(self, X, y)
        first = not hasattr(self, "params_")
        X, y = self._validate_Xy(X, y, reset=first)
        weights = self._row_weights(y, check_sample_weight(
            sample_weight, X.shape[0], f"{type(self).__name__}.partial_fit"))
        T = self._prepare_targets(y, fitting=first)
        if first:
            self._n_outputs = T.shape[1]
        self._train(X, T, y, fresh=first, epochs=1, incremental=True, weights=weights)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class ProbabilisticClassifier(GradientClassifier):
    """A classifier whose outputs are logits: cross-entropy training and ``predict_proba``.

    One output column is the logit of ``classes_[1]`` (sigmoid, binary cross-entropy); more
    are the logits of each class (softmax, multiclass cross-entropy).
    """

    def _data_loss(self, out, T, w=None):
        if w is None:
            if T.shape[1] == 1:
                return losses.binary_cross_entropy(out, T)
            return losses.cross_entropy(out, T)
        if T.shape[1] == 1:
            return _weighted_mean(losses.binary_cross_entropy(out, T, reduction="none"), w)
        return _weighted_mean(losses.cross_entropy(out, T, reduction="none"), w)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        if is_dask_collection(X):
            return _by_block(self, "predict_proba", X)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))
