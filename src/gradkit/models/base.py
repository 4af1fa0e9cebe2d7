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

A NaN or infinite loss stops training at the step where it appears (``on_nan="stop"``: a
warning, ``on_nan="raise"``: :class:`FloatingPointError`); the parameters are those of the
last step whose loss was finite, so the estimator still predicts, and ``diverged_`` /
``diverged_at_`` record what happened.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from gradkit.autodiff import stop_gradient, value_and_grad
from gradkit.backend import require_numpy
from gradkit.data import batches, train_validation_split
from gradkit.data.distributed import dask_batches, is_dask_collection
from gradkit.diagnostics import GradientMonitor
from gradkit.explain import feature_importances
from gradkit.nn import losses
from gradkit.optim import transforms
from gradkit.optim.minimize import METHODS, minimize
from gradkit.tree import tree_leaves, tree_map

__all__ = ["GradientEstimator", "GradientClassifier", "GradientRegressor", "FULL_BATCH_METHODS",
           "TRANSFORMS"]

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

_PENALTIES = ("l2", "l1", "elasticnet", None)


def _to_generator(random_state) -> np.random.Generator:
    """A NumPy Generator from scikit-learn's ``random_state`` (None, int, RandomState or
    Generator)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


def _finite(tree) -> bool:
    return all(np.all(np.isfinite(leaf)) for leaf in tree_leaves(tree))


def store_parameters(estimator, arguments):
    """Store an ``__init__``'s arguments as attributes of the same names, unchanged (the
    scikit-learn contract: ``__init__`` only stores; validation happens in ``fit``).

    Every estimator's ``__init__`` lists its parameters explicitly, as ``get_params`` reads
    them from the signature, then calls ``store_parameters(self, locals())``.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class GradientEstimator(BaseEstimator):
    """Base class: fits ``params_`` by gradients of the penalized mean loss (see module doc).

    Subclasses define the model and the loss through these hooks:

    - ``_prepare_targets(y, fitting)`` -> the array the loss needs (also sets ``classes_``);
    - ``_n_outputs`` -> the number of model outputs (set by ``_prepare_targets``);
    - ``_init_params(n_features, rng)`` -> ``(params, model_state)``;
    - ``_apply(params, model_state, X, train, rng)`` -> ``(raw output, new model_state)``;
    - ``_data_loss(output, targets)`` -> the mean loss of the rows, a scalar.

    The penalty applies to the leaves that :func:`gradkit.nn.losses.penalty_mask` marks: every
    leaf except those under a key of ``UNPENALIZED_KEYS`` (``"b"``, ``"bias"``,
    ``"intercept"``, ...), in the smooth penalty and in the proximal step alike.

    and may override ``_score_validation`` (default: ``self.score``), ``_default_method``
    (what ``optimizer="auto"`` means) and ``_set_public_attributes``.
    """

    # ----------------------------------------------------------------------- validation
    def _check_settings(self):
        def positive_int(name, allow_none=False):
            v = getattr(self, name)
            if allow_none and v is None:
                return
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer"
                                 f"{' or None' if allow_none else ''}; got {name}={v!r}.")

        positive_int("max_iter")
        positive_int("n_iter_no_change")
        if not (isinstance(self.tol, numbers.Real) and self.tol >= 0):
            raise ValueError(f"tol must be a number >= 0; got tol={self.tol!r}.")
        if not (isinstance(self.alpha, numbers.Real) and self.alpha >= 0):
            raise ValueError(f"alpha must be a number >= 0; got alpha={self.alpha!r}.")
        if self.penalty not in _PENALTIES:
            raise ValueError(f"penalty must be one of {_PENALTIES}; got "
                             f"penalty={self.penalty!r}.")
        if not (isinstance(self.l1_ratio, numbers.Real) and 0 <= self.l1_ratio <= 1):
            raise ValueError(f"l1_ratio must be in [0, 1]; got l1_ratio={self.l1_ratio!r}.")
        bs = self.batch_size
        if not (bs is None or (isinstance(bs, str) and bs == "auto") or
                (isinstance(bs, numbers.Integral) and not isinstance(bs, bool) and bs >= 1)):
            raise ValueError("batch_size must be None (full batch), 'auto' (min(200, n)) or a "
                             f"positive integer; got batch_size={bs!r}.")
        if self.on_nan not in ("stop", "raise"):
            raise ValueError(f"on_nan must be 'stop' or 'raise'; got on_nan={self.on_nan!r}.")
        if self.clip_norm is not None and not (isinstance(self.clip_norm, numbers.Real)
                                               and self.clip_norm > 0):
            raise ValueError(f"clip_norm must be None or a number > 0; got "
                             f"clip_norm={self.clip_norm!r}.")
        if not (isinstance(self.validation_fraction, numbers.Real)
                and 0 < self.validation_fraction < 1):
            raise ValueError("validation_fraction must be in (0, 1); got "
                             f"validation_fraction={self.validation_fraction!r}.")
        lr = self.learning_rate
        if not callable(lr) and not (isinstance(lr, numbers.Real) and lr > 0):
            raise ValueError("learning_rate must be a number > 0 or a schedule (step -> rate); "
                             f"got learning_rate={lr!r}.")

    def _method(self):
        """('minimize', method name) or ('transform', GradientTransformation)."""
        opt = self.optimizer
        if isinstance(opt, str) and opt == "auto":
            opt = self._default_method()
        if isinstance(opt, transforms.GradientTransformation):
            tx = transforms.with_extra_args_support(opt)  # the loop passes value=loss
        elif isinstance(opt, str) and opt in FULL_BATCH_METHODS:
            return "minimize", opt
        elif isinstance(opt, str) and opt in TRANSFORMS:
            tx = TRANSFORMS[opt](self.learning_rate)
        else:
            raise ValueError(
                "optimizer must be 'auto', a full-batch method "
                f"{FULL_BATCH_METHODS}, a transformation name {tuple(TRANSFORMS)} or a "
                f"gradkit.optim.GradientTransformation; got optimizer={opt!r}.")
        if self.clip_norm is not None:
            tx = transforms.chain(transforms.clip_by_global_norm(self.clip_norm), tx)
        return "transform", tx

    def _default_method(self):
        return "lbfgs"

    # ----------------------------------------------------------------------- the objective
    def _penalty(self, params, n, smooth_only=False):
        """``alpha * R(w) / n`` (module doc); ``smooth_only`` drops the L1 part (for the
        proximal method, which handles it exactly)."""
        if self.penalty is None or self.alpha == 0:
            return 0.0
        w = losses.penalized_leaves(params)
        if self.penalty == "l2":
            R = losses.l2(w)
        elif smooth_only:
            R = (1.0 - self.l1_ratio) * losses.l2(w) if self.penalty == "elasticnet" else 0.0
        elif self.penalty == "l1":
            R = losses.l1(w)
        else:
            R = losses.elastic_net(w, 1.0, self.l1_ratio)
        return R * (self.alpha / n)

    def _objective(self, params, model_state, X, T, n, rng, train, smooth_only=False):
        """The penalized mean loss of a batch, and the new model state (running statistics)."""
        out, new_state = self._apply(params, model_state, X, train=train, rng=rng)
        loss = self._data_loss(out, T) + self._penalty(params, n, smooth_only)
        return loss, new_state

    def _forward(self, X):
        """The raw model output (logits, decision values or regression values) for ``X``.

        Plain differentiable NumPy of ``X`` with the fitted ``params_`` (``X`` may be a traced
        value, so :mod:`gradkit.explain` can differentiate it); no validation.
        """
        out, _ = self._apply(self.params_, self.model_state_, X, train=False, rng=None)
        return out

    # ----------------------------------------------------------------------- fitting
    def fit(self, X, y):
        """Fit the model to ``X`` (n_samples, n_features) and ``y``; returns ``self``."""
        self._check_settings()
        if is_dask_collection(X):  # Dask arrays: see gradkit.models.distributed
            from .distributed import fit_dask
            return fit_dask(self, X, y)
        require_numpy(f"{type(self).__name__}.fit", X, y)  # estimators run on host arrays
        X, y = self._validate_Xy(X, y, reset=True)
        T = self._prepare_targets(y, fitting=True)
        warm = self.warm_start and hasattr(self, "params_") and \
            getattr(self, "_fitted_n_outputs", None) == self._n_outputs
        self._train(X, T, y, fresh=not warm, epochs=self.max_iter, incremental=False)
        return self

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
        self._no_improvement = 0
        for attr in ("validation_scores_", "best_validation_score_"):
            self.__dict__.pop(attr, None)

    def _train(self, X, T, y, *, fresh, epochs, incremental):
        """The training loop shared by every estimator (``fit``, warm starts, ``partial_fit``)."""
        rng = _to_generator(self.random_state)
        if fresh or not hasattr(self, "params_"):
            self._start(X.shape[1], rng)
        elif not incremental:
            self._no_improvement = 0
            self.diverged_, self.diverged_at_ = False, None
        kind, how = self._method()
        if kind == "minimize":
            self._fit_full_batch(X, T, how, rng)
        else:
            self._fit_stochastic(X, T, y, how, rng, epochs, incremental)
        self._set_public_attributes()
        self.feature_importances_ = self._importances(X)

    _IMPORTANCE_ROWS = 256

    def _importances(self, X):
        """``feature_importances_``: the mean absolute integrated gradients (16 Gauss-Legendre
        nodes, from the mean training row) over at most 256 evenly spaced training rows, so
        that it costs a small fraction of the fit (see gradkit.explain.feature_importances)."""
        rows = X
        if len(X) > self._IMPORTANCE_ROWS:
            rows = X[np.linspace(0, len(X) - 1, self._IMPORTANCE_ROWS).astype(int)]
        return feature_importances(self, rows, baseline=X.mean(axis=0), steps=16)

    def _new_monitor(self):
        return GradientMonitor()

    def _keep_history(self, monitor):
        history = monitor.history
        if self.history_ and self.history_.get("step"):  # continue a warm start
            merged = {}
            for key, old in self.history_.items():
                new = history.get(key, [] if isinstance(old, list) else {})
                if isinstance(old, dict):
                    groups = list(old) + [g for g in new if g not in old]  # keep layer order
                    merged[key] = {g: list(old.get(g, [])) + list(new.get(g, []))
                                   for g in groups}
                else:
                    merged[key] = list(old) + list(new)
            history = merged
        self.history_ = history

    def _diverged(self, step, value):
        self.diverged_, self.diverged_at_ = True, int(step)
        message = (f"{type(self).__name__}: the loss became {value} at step {step}; training "
                   "stopped and the parameters of the last step with a finite loss were kept. "
                   "Lower learning_rate, set clip_norm, or standardize the features.")
        if self.on_nan == "raise":
            raise FloatingPointError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=5)

    # .......................................................................... full batch
    def _fit_full_batch(self, X, T, method, rng):
        n = X.shape[0]
        state = self.model_state_
        seed = int(rng.integers(np.iinfo(np.int32).max))
        smooth_only = method == "proximal"

        def objective(params):
            # a fresh generator per call: dropout masks are fixed, so the objective is a
            # deterministic function that line searches can trust
            loss, _ = self._objective(params, state, X, T, n, np.random.default_rng(seed),
                                      train=True, smooth_only=smooth_only)
            return loss

        options = {}
        if method == "proximal" and self.penalty in ("l1", "elasticnet") and self.alpha > 0:
            l1 = float(self.alpha * (1.0 if self.penalty == "l1" else self.l1_ratio) / n)
            # one weight per leaf, from the rule of the smooth penalty: intercepts and biases
            # get 0, so the soft threshold never shrinks them
            options["l1"] = tree_map(lambda penalized: l1 if penalized else 0.0,
                                     losses.penalty_mask(self.params_))
        monitor = self._new_monitor()
        engine_vg = value_and_grad(objective)
        if is_dask_collection(X):  # Dask: the same J, summed block by block
            from .distributed import blockwise_estimator_objective
            objective = blockwise_estimator_objective(self, X, T, n, state, seed, smooth_only)
            engine_vg = objective.value_and_grad
        last = {}

        def objective_and_grad(params):
            # remembered, so the monitor reads the gradient of an accepted point for free
            last["x"], last["fg"] = params, engine_vg(params)
            return last["fg"]

        def callback(info):
            params = info.x
            same = "x" in last and all(np.array_equal(a, b) for a, b in
                                       zip(tree_leaves(last["x"]), tree_leaves(params)))
            f, g = last["fg"] if same else objective_and_grad(params)
            monitor.record(self.t_ + info.nit, loss=float(f), grads=g, params=params,
                           updates=None, learning_rate=None)
            if bar is not None:
                self._show_progress(bar, info.nit, float(f), g)

        bar = self._progress(self.max_iter, "iteration")
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                res = minimize(objective, self.params_, method=method, tol=self.tol,
                               max_iter=self.max_iter, callback=callback,
                               value_and_grad=objective_and_grad, **options)
        finally:
            if bar is not None:
                bar.close()
        curve = [float(f) for f in res.history["f"]]
        good = [f for f in curve if np.isfinite(f)]
        if not np.isfinite(res.fun) or not _finite(res.x):
            self._diverged(len(good), float(res.fun))
        else:
            self.params_ = res.x
            if len(good) < len(curve):
                self._diverged(len(good), next(f for f in curve if not np.isfinite(f)))
        self.loss_curve_ = list(self.loss_curve_) + good
        self.best_loss_ = min([self.best_loss_, *good]) if good else self.best_loss_
        self.n_iter_ = int(res.nit)
        self.t_ += self.n_iter_
        if self._has_state():  # one pass in train mode sets the running statistics
            _, self.model_state_ = self._apply(self.params_, state, X, train=True,
                                               rng=np.random.default_rng(seed))
        self._keep_history(monitor)
        if not self.diverged_ and not res.success:
            warnings.warn(f"{type(self).__name__}: {method} stopped before reaching tol="
                          f"{self.tol}: {res.message}",
                          ConvergenceWarning, stacklevel=4)

    def _has_state(self):
        return bool(tree_leaves(self.model_state_))

    # .......................................................................... stochastic
    def _batch_size(self, n):
        bs = self.batch_size
        if isinstance(bs, str):  # "auto", as scikit-learn's MLP
            return min(200, n)
        return n if bs is None else min(int(bs), n)

    def _fit_stochastic(self, X, T, y, tx, rng, epochs, incremental):
        Xv = Tv = yv = None
        if self.early_stopping and not incremental:
            X, T, y, Xv, Tv, yv = self._split_validation(X, T, y, rng)
            self._best_params = None
            if not hasattr(self, "validation_scores_"):
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
        n = X.shape[0]
        bs = self._batch_size(n)
        if self._has_state() and bs < 2:  # batch norm estimates a variance per batch
            raise ValueError(f"{type(self).__name__} with batch norm needs at least 2 samples "
                             f"per batch; got batch_size={self.batch_size!r} and n_samples={n}.")
        # a last batch of one sample would leave batch norm without a variance: skip it (the
        # shuffle puts that sample in a full batch in another epoch)
        drop_last = self._has_state() and n % bs == 1
        if self._opt_state is None:
            self._opt_state = tx.init(self.params_)
        monitor = self._new_monitor()

        def objective(params, model_state, Xb, Tb, drop_rng):
            return self._objective(params, model_state, Xb, Tb, n, drop_rng, train=True)

        grad_fn = value_and_grad(objective, has_aux=True)
        params, opt_state, model_state = self.params_, self._opt_state, self.model_state_
        step = self.t_
        last_good = (params, model_state)
        stopped_early = False
        bar = self._progress(epochs, "epoch")
        try:
            for _ in range(epochs):
                total, seen, bad = 0.0, 0, None
                # Dask: mini-batches drawn from the blocks
                batch_iter = dask_batches if is_dask_collection(X) else batches
                for Xb, Tb in batch_iter(X, T, bs, rng, drop_last=drop_last):
                    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                        (loss, new_state), grads = grad_fn(params, model_state, Xb, Tb, rng)
                    loss = float(loss)
                    if not np.isfinite(loss) or not _finite(grads):
                        # the previous step's parameters were the last with a finite loss
                        bad = loss if not np.isfinite(loss) else float("nan")
                        params, model_state = last_good
                        break
                    updates, opt_state = tx.update(grads, opt_state, params, value=loss)
                    new_params = transforms.apply_updates(params, updates)
                    step += 1
                    monitor.record(step, loss=loss, grads=grads, params=params,
                                   updates=updates,
                                   learning_rate=transforms.current_learning_rate(opt_state))
                    if not _finite(new_params):
                        bad = float("inf")
                        break
                    last_good = (params, model_state)
                    params, model_state = new_params, stop_gradient(new_state)
                    total += loss * Xb.shape[0]
                    seen += Xb.shape[0]
                if bad is not None:
                    self._diverged(step + 1, bad)
                    break
                self.n_iter_ += 1
                epoch_loss = total / max(seen, 1)
                self.loss_curve_.append(epoch_loss)
                if bar is not None:
                    self._show_progress(bar, self.n_iter_, epoch_loss, grads)
                self.params_, self.model_state_ = params, model_state
                if self._should_stop(epoch_loss, Xv, yv, incremental):
                    stopped_early = True
                    break
        finally:
            if bar is not None:
                bar.close()
        # after a divergence ``params`` are those of the last step with a finite loss
        self.params_, self._opt_state, self.model_state_ = params, opt_state, model_state
        self.t_ = step
        if self.early_stopping and not incremental and self._best_params is not None:
            self.params_, self.model_state_ = self._best_params
        self._keep_history(monitor)
        if not (stopped_early or incremental or self.diverged_) and epochs == self.max_iter:
            warnings.warn(f"{type(self).__name__}: stochastic optimizer: maximum iterations "
                          f"(max_iter={self.max_iter}) reached and the optimization hasn't "
                          "converged yet.", ConvergenceWarning, stacklevel=4)

    def _progress(self, total, unit):
        """A tqdm progress bar on stderr when ``verbose``, else None (and no cost at all)."""
        if not self.verbose:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=total, desc=type(self).__name__, unit=unit, leave=False)

    @staticmethod
    def _show_progress(bar, count, loss, grads):
        """The per-epoch (per-iteration for a full-batch method) progress hook: advance the
        bar and show the epoch, the loss and the global norm of the last gradient."""
        bar.update(1)
        bar.set_postfix({bar.unit: count, "loss": f"{loss:.4g}",
                         "grad_norm": f"{transforms.global_norm(grads):.3g}"})

    def _split_validation(self, X, T, y, rng):
        idx = np.arange(X.shape[0])
        stratify = y if self._is_classifier() else None
        tr, va, _, _ = train_validation_split(idx, idx, self.validation_fraction, rng=rng,
                                              stratify=stratify)
        return X[tr], T[tr], y[tr], X[va], T[va], y[va]

    def _should_stop(self, epoch_loss, Xv, yv, incremental):
        """scikit-learn's rule: stop after ``n_iter_no_change`` epochs without an improvement
        of ``tol`` in the training loss, or in the validation score with early stopping."""
        if self.early_stopping and not incremental:
            score = float(self._score_validation(Xv, yv))
            self.validation_scores_.append(score)
            if score > self.best_validation_score_:
                self._best_params = (self.params_, self.model_state_)
            improved = score > self.best_validation_score_ + self.tol
            self.best_validation_score_ = max(self.best_validation_score_, score)
        else:
            improved = epoch_loss < self.best_loss_ - self.tol
        self.best_loss_ = min(self.best_loss_, epoch_loss)
        self._no_improvement = 0 if improved else self._no_improvement + 1
        return (not incremental) and self._no_improvement > self.n_iter_no_change

    def _score_validation(self, X, y):
        self._set_public_attributes()
        return self.score(X, y)

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
        self._n_outputs = 1 if K == 2 else K
        if K == 2:
            return self._binary_targets(idx)
        return np.eye(K)[idx]

    def _binary_targets(self, idx):
        return idx.astype(np.float64)[:, None]

    def _validate_Xy(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64)
        return X, y

    def decision_function(self, X):
        """Raw scores: shape (n_samples,) for two classes (positive means ``classes_[1]``),
        (n_samples, n_classes) for more."""
        out = self._forward(self._check_fitted_X(X))
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """The predicted class of each row."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

    @available_if(_stochastic_optimizer)
    def partial_fit(self, X, y, classes=None):
        """One epoch of the stochastic optimizer on ``(X, y)``; ``classes`` (every label that
        will ever be seen) is required on the first call. Returns ``self``."""
        self._check_settings()
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
        T = self._prepare_targets(y, fitting=first, classes=classes)
        self._train(X, T, y, fresh=first, epochs=1, incremental=True)
        return self


class GradientRegressor(RegressorMixin, GradientEstimator):
    """A :class:`GradientEstimator` over real targets, one output per target column."""

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
        self._n_outputs = T.shape[1]
        return T

    def predict(self, X):
        """The predicted targets: shape (n_samples,) or (n_samples, n_targets)."""
        out = self._forward(self._check_fitted_X(X))
        return out[:, 0] if self._y_ndim == 1 else out

    @available_if(_stochastic_optimizer)
    def partial_fit(self, X, y):
        """One epoch of the stochastic optimizer on ``(X, y)``. Returns ``self``."""
        self._check_settings()
        first = not hasattr(self, "params_")
        X, y = self._validate_Xy(X, y, reset=first)
        T = self._prepare_targets(y, fitting=first)
        self._train(X, T, y, fresh=first, epochs=1, incremental=True)
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

    def _data_loss(self, out, T):
        if T.shape[1] == 1:
            return losses.binary_cross_entropy(out, T)
        return losses.cross_entropy(out, T)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))
