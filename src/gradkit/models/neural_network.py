"""Multi-layer perceptrons fit by gradients: MLPClassifier and MLPRegressor."""
from __future__ import annotations

import numbers
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from gradkit import nn
from gradkit.nn import kfac, losses
from gradkit.optim import transforms

from .base import (CLASS_WEIGHT, FULL_BATCH_METHODS, TRANSFORMS, GradientEstimator,
                   GradientRegressor, ProbabilisticClassifier, _Satisfies, _weighted_mean,
                   store_parameters)
from .persistence import register

__all__ = ["MLPClassifier", "MLPRegressor", "ACTIVATIONS"]

#: ``activation`` names (scikit-learn's and gradkit's) and the layer each one builds.
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "sigmoid": nn.Sigmoid,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
               "softplus": nn.Softplus, "identity": None}


def _positive_sizes(sizes):
    try:
        if np.ndim(sizes) > 1:  # a size or a flat list of sizes, not a nested one: ([],)
            return False
        return all(isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1
                   for h in np.ravel(sizes))
    except (TypeError, ValueError):  # not a size list at all
        return False


def _kfac_arguments(network, loss, fisher):
    """The adapter between :mod:`gradkit.nn.kfac` and the training loop: ``(params, X, T,
    rng) -> {"kfac_stats": stats}``, what the K-FAC update needs at each step, as a function
    that the update calls only at the steps that update the factors (``kfac_factor_every``).
    The step's gradient stays the estimator's own (the penalty and the sample weights in it);
    :func:`gradkit.nn.kfac.capture` gives only the factors' statistics
    (``step.statistics``: not its loss and gradient, which would be unpenalized and
    unweighted), so the curvature is that of the unweighted data loss."""
    statistics = kfac.capture(network, loss, fisher).statistics

    def arguments(params, X, T, rng):
        return {"kfac_stats": lambda: statistics(params, X, T, rng)}
    return arguments


def _has_kfac_state(state):
    """Whether an optimizer state holds a :class:`gradkit.nn.kfac.KFACState` (anywhere in a
    chain's tuple of states): how a K-FAC object given as ``optimizer=`` is recognised."""
    if isinstance(state, kfac.KFACState):
        return True
    if isinstance(state, (tuple, list)):
        return any(_has_kfac_state(s) for s in state)
    if isinstance(state, dict):
        return any(_has_kfac_state(s) for s in state.values())
    return False


def _initializer(init):
    try:
        nn.init.get_initializer(init)
    except (TypeError, ValueError):
        return False
    return True


class _MLP(GradientEstimator):
    """``Linear -> [BatchNorm] -> activation -> [Dropout]`` per hidden layer, then ``Linear``,
    as one :class:`gradkit.nn.Sequential`; its parameter groups (``"00_linear"``, ...) are the
    groups of ``history_``. The penalty applies to the weight matrices ``W`` only."""

    _parameter_constraints: dict = {
        **GradientEstimator._parameter_constraints,
        "optimizer": [StrOptions({"auto", *FULL_BATCH_METHODS, *TRANSFORMS, "kfac"}),
                      transforms.GradientTransformation],
        "hidden_layer_sizes": [_Satisfies(_positive_sizes, "a positive integer or a sequence "
                                          "of positive integers")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "init": [_Satisfies(_initializer, "a name of gradkit.nn.init (" + ", ".join(
            sorted(nn.init.INITIALIZERS)) + ") or a function init(rng, shape, dtype)")],
        "batch_norm": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "augment": [callable, None],
        "kfac_damping": [Interval(Real, 0, None, closed="neither")],
        "kfac_decay": [Interval(Real, 0, 1, closed="left")],
        "kfac_factor_every": [Interval(numbers.Integral, 1, None, closed="left")],
        "kfac_inverse_every": [Interval(numbers.Integral, 1, None, closed="left")],
        "kfac_momentum": [Interval(Real, 0, 1, closed="left")],
        "kfac_fisher": [StrOptions({"expected", "sampled", "empirical"})],
    }

    def _network(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        layers = []
        for h in sizes:
            layers.append(nn.Linear(int(h), init=self.init))
            if self.batch_norm:
                layers.append(nn.BatchNorm())
            if ACTIVATIONS[self.activation] is not None:
                layers.append(ACTIVATIONS[self.activation]())
            if self.dropout:
                layers.append(nn.Dropout(self.dropout))
        layers.append(nn.Linear(self._n_outputs, init=self.init))
        return nn.Sequential(layers)

    def _init_params(self, n_features, rng):
        return self._network().init(rng, (n_features,))

    def _apply(self, params, model_state, X, train=False, rng=None):
        return self._network().apply(params, model_state, X, train=train, rng=rng)

    def _named_transform(self, name, learning_rate):
        if name != "kfac":
            return super()._named_transform(name, learning_rate)
        return kfac.kfac(learning_rate, damping=self.kfac_damping, decay=self.kfac_decay,
                         inverse_every=self.kfac_inverse_every,
                         factor_every=self.kfac_factor_every, momentum=self.kfac_momentum)

    def _update_arguments(self):
        if isinstance(self.optimizer, str):
            if self.optimizer != "kfac":
                return None
            what = "optimizer='kfac'"
        elif _has_kfac_state(self.optimizer.init(self.params_)):
            what = "a K-FAC optimizer (gradkit.nn.kfac)"
        else:
            return None
        uncovered = [layer for layer, on in (("batch_norm=True", self.batch_norm),
                                             (f"dropout={self.dropout!r}", self.dropout)) if on]
        if uncovered:
            raise ValueError(f"{type(self).__name__}: {what} covers Linear layers and "
                             f"activations, not the layers {' and '.join(uncovered)} adds "
                             "(BatchNorm's statistics, Dropout's random masks); turn them off "
                             "or choose another optimizer.")
        return _kfac_arguments(self._network(), self._kfac_loss(), self.kfac_fisher)

    def _set_public_attributes(self):
        linear = [g for g in self.params_.values() if "W" in g]
        self.coefs_ = [np.array(g["W"]) for g in linear]
        self.intercepts_ = [np.array(g["b"]) for g in linear]
        self.n_layers_ = len(linear) + 1
        self.n_outputs_ = self._n_outputs


_MLP_DOC = r"""
    The objective, the optimizers and the stopping rules are those of
    :mod:`gradkit.models.base`; the defaults are scikit-learn's (Adam, ``learning_rate=1e-3``,
    ``batch_size="auto"`` = ``min(200, n)``, ``max_iter=200`` epochs, ``alpha=1e-4``, Glorot
    uniform initialization), and ``alpha`` has scikit-learn's meaning.

    Args:
        hidden_layer_sizes: the width of each hidden layer.
        activation: ``"relu"``, ``"tanh"``, ``"logistic"`` (= ``"sigmoid"``), ``"leaky_relu"``,
            ``"elu"``, ``"gelu"``, ``"softplus"`` or ``"identity"``.
        init: initializer of the weights, a name of :mod:`gradkit.nn.init` (``"he_normal"``,
            ``"lecun_uniform"``, ...).
        batch_norm: a :class:`gradkit.nn.BatchNorm` after each hidden linear layer.
        dropout: a :class:`gradkit.nn.Dropout` of this rate after each hidden activation.
        augment: None, or a data augmentation ``augment(X, y, rng) -> (X, y)`` applied to
            each training mini-batch before its step, never to validation rows, ``predict``
            or ``score``; it draws from the estimator's generator, so a fit with
            ``random_state`` is reproducible. One of :mod:`gradkit.data.augment`
            (``GaussianNoise(0.1)``, ``Mixup(0.2)``, ``Compose(...)``) or any function of that
            form. ``y`` holds the batch's targets as the loss sees them (one-hot rows for
            more than two classes, a 0/1 column for two, a regressor's target columns), so
            ``Mixup`` mixes them; both must keep their shapes. Needs a gradient
            transformation as ``optimizer``.
        optimizer: a gradient transformation name (``"adam"``, ``"sgd"``, ``"momentum"``,
            ``"nesterov"``, ``"adagrad"``, ``"rmsprop"``, ``"adamw"``, ...), ``"kfac"``, any
            :class:`gradkit.optim.GradientTransformation`, or a full-batch method
            (``"lbfgs"``, ...). ``"kfac"`` is K-FAC (:mod:`gradkit.nn.kfac`, Martens &
            Grosse 2015): each Linear layer's gradient preconditioned by its Kronecker-factored
            Fisher block, :math:`\bar W \leftarrow \bar W - \eta\, m`, :math:`m = \hat A^{-1}
            \nabla_{\bar W} \hat G^{-1} + \mu\, m_{\mathrm{prev}}`, with the factors of the
            Fisher of the model's loss (softmax, sigmoid or Gaussian) from each batch, without
            the sample weights, as :func:`gradkit.nn.kfac.kfac` with the ``kfac_*`` settings
            below, and :math:`\eta` = ``learning_rate``, far larger than Adam's (0.1 is a good
            start); the gradient is the objective's, penalty and sample weights included. A
            K-FAC object such as ``gradkit.nn.kfac.kfac(0.1, damping=1e-2)`` works as
            ``optimizer=`` as well (alone or in a ``chain``), with its own settings (of the
            ``kfac_*`` ones only ``kfac_fisher`` applies to it). K-FAC needs
            ``batch_norm=False`` and ``dropout=0``, and its steps run eagerly.
        kfac_damping: (K-FAC only) the Tikhonov damping :math:`\lambda` of the factors,
            > 0; larger is closer to plain gradient steps of size :math:`\eta / \lambda`.
        kfac_decay: (K-FAC only) the weight of the previous factors in their running
            average, in [0, 1).
        kfac_factor_every: (K-FAC only) update the factors every this many steps (the other
            steps skip the extra backward passes of the factors' statistics).
        kfac_inverse_every: (K-FAC only) recompute the damped inverses every this many steps.
        kfac_momentum: (K-FAC only) :math:`\mu`, heavy-ball momentum on the preconditioned
            gradient, in [0, 1); 0: none.
        kfac_fisher: (K-FAC only) the factor :math:`G`: ``"expected"`` (the Fisher's own: a
            pullback per output, done as one over the batch repeated once per output),
            ``"sampled"`` (Martens & Grosse's, from targets drawn from the model: one
            pullback) or ``"empirical"`` (at the data's targets); see
            :func:`gradkit.nn.kfac.capture`.
        learning_rate: a number or a schedule ``step -> rate``.
        batch_size: ``"auto"``, ``None`` (full batch), ``1`` (stochastic) or ``k``.
        max_iter: epochs of a transformation, iterations of a full-batch method.
        tol: the improvement that counts (see :class:`gradkit.models.LogisticRegression`).
        n_iter_no_change: epochs without an improvement of ``tol`` before stopping.
        early_stopping: hold out ``validation_fraction`` of the rows and stop on its score.
        validation_fraction: the share of rows held out, in (0, 1).
        penalty: ``"l2"``, ``"l1"``, ``"elasticnet"`` or None, on the weight matrices only.
        alpha: the penalty's strength (scikit-learn's meaning), >= 0.
        l1_ratio: the L1 share of the elastic net, in [0, 1].
        clip_norm: clip each step's gradient to this global norm (None: no clipping).
        random_state: seeds initialization, shuffling, dropout and the validation split.
        verbose: show a progress bar on stderr.
        warm_start: ``fit`` continues from the last solution.
        on_nan: ``"stop"`` (warn and keep the last finite parameters) or ``"raise"``.
        record_every: put every k-th step in ``history_`` (divergence is checked at every
            step); ``"auto"`` (default): every step of a run of up to 1,000 steps, else
            every ``ceil(steps / 1000)``-th (about 1,000 records per run).
        callbacks: a list of callbacks (:mod:`gradkit.models.callbacks`), called after
            every epoch.
        jit: compile each mini-batch step with :func:`gradkit.jit` (with ``dropout`` a step
            draws random masks, so it runs eagerly).
        class_weight: (``MLPClassifier`` only) as in :class:`gradkit.models.LogisticRegression`.

    Attributes:
        coefs_: the weight matrix of each layer, as scikit-learn's.
        intercepts_: the bias vector of each layer.
        n_layers_: the number of layers, input and output included.
        n_outputs_: the number of outputs.
        n_iter_: the epochs (or iterations) run.
        loss_curve_: the objective per epoch.
        best_loss_: the lowest of them.
        validation_scores_: the validation score per epoch (with ``early_stopping``).
        best_validation_score_: the best of them.
        n_features_in_: the number of features seen by ``fit``.
        params_: the parameter pytree, one entry per layer (``"00_linear"``, ...).
        model_state_: the batch-norm running statistics, one entry per layer
            (``"01_batchnorm"``, ...).
        history_: per step loss, learning rate and gradient norm per layer.
        diverged_: whether training diverged (as in :class:`gradkit.models.LogisticRegression`).
        diverged_at_: the step at which it diverged (None when it did not).
        stop_reason_: why training stopped (as in :class:`gradkit.models.LogisticRegression`).
        feature_importances_: mean absolute integrated gradients of the output (the predicted
            class for classifiers) from the mean training row, over up to 256 evenly spaced
            training rows (``gradkit.explain.feature_importances``), computed on first
            access and cached, so that ``fit`` does not pay for it.
"""


@register
class MLPClassifier(ProbabilisticClassifier, _MLP):
    _parameter_constraints: dict = {**_MLP._parameter_constraints, "class_weight": CLASS_WEIGHT}

    __doc__ = r"""A multi-layer perceptron classifier trained by backpropagation.

    ``f(x) = W_L a(... a(x W_1 + b_1) ...) + b_L``; two classes get one logit and the binary
    cross-entropy, more get one logit per class and the softmax cross-entropy.
    """ + _MLP_DOC + """
    Examples:
        >>> import numpy as np
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
        >>> clf = MLPClassifier(hidden_layer_sizes=(4,), learning_rate=0.1, max_iter=50,
        ...                     random_state=0).fit(X, y)
        >>> clf.predict(np.array([[-3.0], [3.0]]))
        array([0, 1])
        >>> [W.shape for W in clf.coefs_], clf.n_layers_
        ([(1, 4), (4, 1)], 3)
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, init="glorot_uniform",
                 batch_norm=False, dropout=0.0, augment=None, optimizer="adam",
                 learning_rate=1e-3, kfac_damping=1e-3, kfac_decay=0.95, kfac_factor_every=1,
                 kfac_inverse_every=1, kfac_momentum=0.0, kfac_fisher="expected",
                 batch_size="auto", max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, penalty="l2", alpha=1e-4,
                 l1_ratio=0.15, clip_norm=None, random_state=None, verbose=False,
                 warm_start=False, on_nan="stop",
                 record_every="auto", class_weight=None, callbacks=None, jit=True):
        store_parameters(self, locals())

    def _kfac_loss(self):
        return "binary_cross_entropy" if self._n_outputs == 1 else "cross_entropy"


@register
class MLPRegressor(GradientRegressor, _MLP):
    __doc__ = r"""A multi-layer perceptron regressor trained by backpropagation.

    ``f(x) = W_L a(... a(x W_1 + b_1) ...) + b_L`` (identity output), minimizing half the
    squared error summed over the targets, as scikit-learn's ``MLPRegressor`` for one target.
    """ + _MLP_DOC + """
    Examples:
        >>> import numpy as np
        >>> X = np.linspace(-1, 1, 20)[:, None]; y = 3 * X[:, 0]
        >>> reg = MLPRegressor(hidden_layer_sizes=(8,), learning_rate=0.05, max_iter=200,
        ...                    random_state=0).fit(X, y)
        >>> bool(reg.score(X, y) > 0.95)
        True
    """


    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, init="glorot_uniform",
                 batch_norm=False, dropout=0.0, augment=None, optimizer="adam",
                 learning_rate=1e-3, kfac_damping=1e-3, kfac_decay=0.95, kfac_factor_every=1,
                 kfac_inverse_every=1, kfac_momentum=0.0, kfac_fisher="expected",
                 batch_size="auto", max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, penalty="l2", alpha=1e-4,
                 l1_ratio=0.15, clip_norm=None, random_state=None, verbose=False,
                 warm_start=False, on_nan="stop",
                 record_every="auto", callbacks=None, jit=True):
        store_parameters(self, locals())

    def _kfac_loss(self):
        return "mse"  # half the squared error summed over the targets: kfac's Gaussian loss

    def _data_loss(self, out, T, w=None):
        if w is None:
            return 0.5 * T.shape[1] * losses.mse(out, T)
        return 0.5 * T.shape[1] * _weighted_mean(losses.mse(out, T, reduction="none"), w)
