r"""K-FAC: Kronecker-factored approximate curvature for ``gradkit.nn`` Linear and Conv2d layers.

Martens & Grosse, "Optimizing neural networks with Kronecker-factored approximate
curvature", ICML 2015. For a Linear layer :math:`s = \bar a \bar W` with
:math:`\bar a = [a, 1]` (the input and a 1 for the bias) and :math:`\bar W = [W; b]`, the
gradient is :math:`\nabla_{\bar W} = E[\bar a^T g]` with :math:`g = \partial L / \partial s`
the pre-activation gradient, and the layer's Fisher block is approximated by

.. math:: F \approx A \otimes G, \qquad A = E[\bar a \bar a^T], \quad G = E[g g^T],

so :math:`F^{-1} \mathrm{vec}(\nabla) = \mathrm{vec}(A^{-1} \nabla G^{-1})`: two small
inverses per layer instead of one of size :math:`(d_{in}+1) d_{out}`.

A Conv2d layer is KFC (Grosse & Martens, "A Kronecker-factored approximate Fisher matrix for
convolution layers", ICML 2016): its weights :math:`\bar W` ((C kh kw + 1) x O) multiply the
patch :math:`\bar a_t` under the kernel at every output position :math:`t \in T`, so
:math:`\nabla_{\bar W} = E[\sum_t \bar a_t^T g_t]`; assuming the pre-activation gradients of
different positions uncorrelated and the statistics alike at every position,

.. math:: F \approx \Omega \otimes \Gamma, \qquad
   \Omega = E\Big[\sum_t \bar a_t \bar a_t^T\Big], \quad
   \Gamma = \frac{1}{|T|} E\Big[\sum_t g_t g_t^T\Big].

Two pieces, explicit about what the factors need:

- :func:`capture` wraps a model and a loss into ``step(params, X, y) -> (loss, grads,
  stats)``: one forward pass that records every layer's input :math:`\bar a`, and
  backward passes that give the pre-activation gradients. ``stats`` is what the factors need.
- :func:`kfac` (and its block :func:`scale_by_kfac`) is a gradient transformation whose
  ``update(grads, state, params, kfac_stats=stats)`` keeps running averages of A and G,
  inverts the damped factors every ``inverse_every`` steps, and preconditions the gradient.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from ..autodiff import grad as _grad
from ..autodiff import value_and_grad as _value_and_grad
from ..autodiff import vjp as _vjp
from ..autodiff.trace import getval
from ..optim.transforms import (GradientTransformationExtraArgs, chain, scale_by_learning_rate,
                                trace)

__all__ = ["capture", "scale_by_kfac", "kfac", "KFACState"]

_FISHERS = ("expected", "sampled", "empirical")
_LOSSES = ("cross_entropy", "binary_cross_entropy", "mse")


def _layers(model):
    """``[(key or None, layer)]``: the model as a list of layers; the Linear and Conv2d ones
    get factors, the others must be free of parameters, state and randomness."""
    from . import Conv2d, Linear, Sequential
    if isinstance(model, (Linear, Conv2d)):
        return [(None, model)]
    if not isinstance(model, Sequential):
        raise TypeError(f"kfac.capture takes a gradkit.nn Linear, Conv2d or Sequential, got "
                        f"{type(model).__name__}.")
    out = []
    for key, layer in zip(model.keys, model.layers):
        if not isinstance(layer, (Linear, Conv2d)):
            probe = layer.init(np.random.default_rng(0), (1,))
            if probe[0] or probe[1] or layer.needs_rng:
                raise ValueError(f"kfac.capture covers Linear and Conv2d layers and "
                                 f"parameter-free layers (activations, Flatten, MaxPool2d); "
                                 f"layer {key} ({type(layer).__name__}) has parameters, state "
                                 "or randomness.")
        out.append((key, layer))
    return out


def _rows(a, layer):
    """A covered layer's input as the rows its weights multiply, with a 1 for the bias:
    ``[a, 1]`` (N, d_in + 1) for a Linear layer; for a Conv2d layer, the patch under the
    kernel at every output position (N * OH * OW, C kh kw + 1), ordered as ``W``'s
    ``(C, kh, kw)`` (im2col, as :func:`gradkit.nn.functional.conv2d` computes)."""
    from . import Conv2d
    from .functional import sliding_windows
    if isinstance(layer, Conv2d):
        if a.ndim != 4:
            raise ValueError(f"kfac.capture needs 4-D inputs (N, C, H, W) to a Conv2d layer; "
                             f"got shape {a.shape}.")
        win = sliding_windows(a, kernel_size=layer.kernel_size, stride=layer.stride,
                              padding=layer.padding)
        a = np.transpose(win, (0, 2, 3, 1, 4, 5)).reshape(-1, int(np.prod(win.shape[1:2]) *
                                                                    np.prod(win.shape[4:])))
    elif a.ndim != 2:
        raise ValueError(f"kfac.capture needs 2-D inputs (N, d) to a Linear layer; got shape "
                         f"{a.shape}.")
    if layer.use_bias:  # abar = [a, 1]: the bias is the weight of a constant 1
        a = np.concatenate([a, np.ones((a.shape[0], 1), a.dtype)], axis=1)
    return a


def _pre_rows(g):
    r"""Pre-activation gradients as rows: (N, d_out) as they are; a Conv2d's (N, O, OH, OW)
    as one row per position, (N * OH * OW, O), times :math:`\sqrt{OH\, OW}` (so that
    ``u^T u / rows(abar)`` is KFC's factor: see :func:`capture`)."""
    if g.ndim == 2:
        return g
    positions = g.shape[2] * g.shape[3]
    return math.sqrt(positions) * np.transpose(g, (0, 2, 3, 1)).reshape(-1, g.shape[1])


def _loss_value(name, z, y):
    if name == "mse":  # the Gaussian negative log-likelihood: Lambda = I
        r = z - y.reshape(z.shape)
        return 0.5 * np.sum(r * r) / z.shape[0]
    if name == "binary_cross_entropy":  # one Bernoulli per output column
        from .losses import binary_cross_entropy
        return binary_cross_entropy(z, y.reshape(z.shape)) * z.shape[1]
    from .losses import cross_entropy
    return cross_entropy(z, y)


def capture(model, loss="cross_entropy", fisher="expected"):
    r"""``step(params, X, y) -> (loss, grads, stats)`` for K-FAC on a Linear / Sequential model.

    The forward pass adds a zero perturbation :math:`e_l` to each Linear layer's output, so
    :math:`\partial L / \partial e_l` is its pre-activation gradient, and records the layer's
    input. ``loss`` is ``"cross_entropy"`` (softmax from logits, integer labels or
    probability rows; mean over the batch), ``"binary_cross_entropy"`` (one sigmoid per
    output column, targets in [0, 1]; summed over the columns, mean over the batch) or
    ``"mse"`` (:math:`\tfrac12 \|z - y\|^2` averaged over the batch: the Gaussian negative
    log-likelihood). ``fisher`` chooses G:

    - ``"expected"``: the Fisher's own :math:`G = \frac1N \sum_n J_n^T \Lambda_n J_n` restricted
      to the layer, with :math:`\Lambda` the loss's Hessian in the outputs (I for mse,
      :math:`\mathrm{diag}(p) - p p^T` for cross-entropy, :math:`\mathrm{diag}(p(1-p))` for
      binary cross-entropy). :math:`\Lambda = L L^T` with
      :math:`L_{:,k} = \sqrt{p_k}(e_k - p)` (or :math:`e_k`, or :math:`\sqrt{p_k(1-p_k)}\,
      e_k`), and each column is back-propagated once (for k outputs, one backward pass of
      the batch repeated k times: k times the work of a gradient), no sampling noise.
    - ``"sampled"``: Martens & Grosse's Monte-Carlo estimate: one target per example drawn
      from the model's predictive distribution (:math:`N(z, I)`,
      :math:`\mathrm{Categorical}(\mathrm{softmax}(z))` or
      :math:`\mathrm{Bernoulli}(\sigma(z))`), one extra backward pass; needs
      ``step(..., rng=generator)``. Unbiased for the same G as ``"expected"``.
    - ``"empirical"``: the pre-activation gradients of the loss at the data's targets (no
      extra pass; the empirical Fisher, which is not the Fisher away from the optimum).

    ``step(params, X, y, rng=None)`` returns the mean loss, its gradient (in params'
    structure) and ``stats``: ``stats[key] = (abar, u)`` with ``abar`` (N, d_in + 1) the
    inputs with a column of ones (for the bias; (N, d_in) without one) and ``u`` (M, d_out)
    rows whose :math:`u^T u / N` is G. The keys are the model's parameter keys (``None`` for
    a single layer). For a Conv2d layer (KFC, module docstring) ``abar`` has one row per
    example and output position, the patch under the kernel (:math:`N |T|` rows of
    :math:`C k_h k_w + 1`, ordered as ``W``'s (C, kh, kw)), and ``u`` one row per position
    times :math:`\sqrt{|T|}`, so that with :math:`R = N |T|` the rows of ``abar``,
    :math:`\bar a^T \bar a / R = \Omega / |T|` and :math:`u^T u / R = |T|\, \Gamma`: their
    Kronecker product is KFC's :math:`\Omega \otimes \Gamma`.

    ``step.statistics(params, X, y, rng=None)`` returns ``stats`` alone, without the loss
    and its gradient (for a training loop that has its own gradient, as the estimators: the
    expected and sampled Fisher then cost one forward pass and their pullback).

    Args:
        model: a :class:`~gradkit.nn.Linear`, a :class:`~gradkit.nn.Conv2d` or a
            :class:`~gradkit.nn.Sequential` of them and of parameter-free layers
            (activations, :class:`~gradkit.nn.Flatten`, :class:`~gradkit.nn.MaxPool2d`).
        loss: ``"cross_entropy"``, ``"binary_cross_entropy"`` or ``"mse"``.
        fisher: ``"expected"``, ``"sampled"`` or ``"empirical"`` (see above).

    Returns:
        ``step``, a function ``step(params, X, y, rng=None) -> (loss, grads, stats)``, with
        ``step.statistics(params, X, y, rng=None) -> stats``.

    Examples:
        >>> import numpy as np
        >>> from gradkit.nn import Linear
        >>> layer = Linear(2); params, _ = layer.init(np.random.default_rng(0), (3,))
        >>> step = capture(layer, loss="mse")
        >>> value, grads, stats = step(params, np.ones((4, 3)), np.zeros((4, 2)))
        >>> stats[None][0].shape, stats[None][1].shape     # abar (N, 3 + 1), u (N * 2, 2)
        ((4, 4), (8, 2))
    """
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}.")
    if fisher not in _FISHERS:
        raise ValueError(f"fisher must be one of {_FISHERS}, got {fisher!r}.")
    layers = _layers(model)
    from . import Conv2d, Linear
    covered = [k for k, layer in layers if isinstance(layer, (Linear, Conv2d))]

    def forward(params, X, eps):
        x = X
        for key, layer in layers:
            p = params if key is None else params.get(key, {})
            x = layer.apply(p, {}, x)[0]
            if key in eps:
                x = x + eps[key]
        return x

    def plain_forward(params, X):
        """The covered layers' input rows and output widths, and the outputs z (untraced)."""
        acts, widths, z = {}, {}, X
        for key, layer in layers:
            p = params if key is None else params.get(key, {})
            if key in covered:
                acts[key] = _rows(z, layer)
            z = layer.apply(p, {}, z)[0]
            if key in covered:
                widths[key] = z.shape[1:]
        return acts, widths, z

    def fisher_rows(params, X, z, widths, rng):
        """The rows u of G for the expected or the sampled Fisher."""
        n, k_out = X.shape[0], z.shape[1]
        if loss == "cross_entropy":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            prob = e / e.sum(axis=1, keepdims=True)
        elif loss == "binary_cross_entropy":
            prob = 0.5 * (1.0 + np.tanh(0.5 * z))  # the sigmoid, without overflow
        if fisher == "sampled":
            if rng is None:
                raise ValueError("fisher='sampled' draws targets from the model: pass "
                                 "step(params, X, y, rng=np.random.default_rng(seed)).")
            if loss == "mse":  # y ~ N(z, I): the gradient at it is z - y = -noise
                columns = [-rng.standard_normal(z.shape)]
            elif loss == "binary_cross_entropy":  # y ~ Bernoulli(p): gradient p - y
                columns = [prob - (rng.random(z.shape) < prob)]
            else:  # y ~ Categorical(p): the gradient of -log p_y is p - onehot(y)
                draw = (prob.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
                columns = [prob - np.eye(k_out)[draw]]
        elif loss == "mse":
            columns = [np.broadcast_to(np.eye(k_out)[k], z.shape) for k in range(k_out)]
        elif loss == "binary_cross_entropy":
            root = np.sqrt(prob * (1.0 - prob))
            columns = [root * np.eye(k_out)[k] for k in range(k_out)]
        else:
            columns = [np.sqrt(prob[:, [k]]) * (np.eye(k_out)[k] - prob)
                       for k in range(k_out)]
        # rows J_n^T C_n for every column C: the layers act on each row alone, so the batch
        # repeated once per column, pulled back once with the columns stacked, is every
        # column's pullback in one pass (one large backward instead of k small ones)
        m = len(columns)
        Xm = np.concatenate([X] * m, axis=0) if m > 1 else X
        em = {k: np.zeros((m * n,) + w) for k, w in widths.items()}
        _, pullback = _vjp(lambda e_: forward(params, Xm, e_), em)
        back = pullback(np.concatenate(columns, axis=0) if m > 1 else columns[0])[0]
        return {k: _pre_rows(getval(back[k])) for k in widths}

    def step(params, X, y, rng=None):
        X = np.asarray(X, dtype=float)
        acts, widths, z = plain_forward(params, X)
        eps = {k: np.zeros((X.shape[0],) + w) for k, w in widths.items()}
        value, g = _value_and_grad(
            lambda tree: _loss_value(loss, forward(tree["params"], X, tree["eps"]), y))(
                {"params": params, "eps": eps})
        if fisher == "empirical":
            # d(mean loss)/ds_n = (per-example gradient) / N: scale back to per-example rows
            us = {k: _pre_rows(X.shape[0] * getval(g["eps"][k])) for k in widths}
        else:
            us = fisher_rows(params, X, z, widths, rng)
        return float(getval(value)), g["params"], {k: (acts[k], us[k]) for k in widths}

    def statistics(params, X, y, rng=None):
        X = np.asarray(X, dtype=float)
        acts, widths, z = plain_forward(params, X)
        if fisher == "empirical":
            eps = {k: np.zeros((X.shape[0],) + w) for k, w in widths.items()}
            pre = _grad(lambda e_: _loss_value(loss, forward(params, X, e_), y))(eps)
            us = {k: _pre_rows(X.shape[0] * getval(pre[k])) for k in widths}
        else:
            us = fisher_rows(params, X, z, widths, rng)
        return {k: (acts[k], us[k]) for k in widths}

    step.statistics = statistics
    return step


class KFACState(NamedTuple):
    """K-FAC's state: ``count``, running factors ``A`` / ``G`` and the damped inverses, per
    layer key.

    Args:
        count: the number of updates made.
        A: ``{layer key: A}``, the running input factors (zeros before the first update).
        G: ``{layer key: G}``, the running pre-activation-gradient factors.
        A_inv: ``{layer key: damped inverse of A}``.
        G_inv: ``{layer key: damped inverse of G}``.

    Examples:
        >>> import numpy as np
        >>> from gradkit.nn import Linear
        >>> params, _ = Linear(2).init(np.random.default_rng(0), (3,))
        >>> state = scale_by_kfac().init(params)
        >>> state.count, state.A[None].shape        # zeros until the first update
        (0, (4, 4))
    """
    count: Any
    A: Any
    G: Any
    A_inv: Any
    G_inv: Any


def _factor_shapes(params):
    """``{layer key: (dim A, dim G)}`` of the Linear and Conv2d layers in ``params`` (a
    layer's ``{"W", "b"}``, key None, or a Sequential's ``{key: {"W", "b"}}``)."""
    def dims(p):
        W = p.get("W") if isinstance(p, dict) else None
        if W is None or np.ndim(W) not in (2, 4):
            return None
        rows, cols = np.shape(_as_matrix(W))
        return (rows + ("b" in p), cols)
    if not isinstance(params, dict):
        return {}
    if "W" in params:
        found = dims(params)
        return {} if found is None else {None: found}
    return {k: d for k, d in ((k, dims(p)) for k, p in params.items()) if d is not None}


def _as_matrix(W):
    """A layer's weights as the (inputs, outputs) matrix the factors act on: a Linear's W as
    it is, a Conv2d's (O, C, kh, kw) as (C kh kw, O)."""
    return W if np.ndim(W) == 2 else np.reshape(W, (np.shape(W)[0], -1)).T


def _from_matrix(M, shape):
    return M if len(shape) == 2 else M.T.reshape(shape)


def _damped_inverse(M, d):
    return np.linalg.inv(M + d * np.eye(M.shape[0]))


def scale_by_kfac(damping=1e-3, decay=0.95, inverse_every=1, pi_correction=True, *,
                  factor_every=1):
    r"""Precondition Linear and Conv2d layers' gradients by their K-FAC (KFC) Fisher blocks.

    With ``stats`` from :func:`capture` (pass ``kfac_stats=stats`` to ``update``), at every
    ``factor_every``-th step t (the first included):
    :math:`A_t = \beta A_{t-1} + (1-\beta) \bar a^T \bar a / N`,
    :math:`G_t = \beta G_{t-1} + (1-\beta) u^T u / N` (the first step takes the batch's
    factors, :math:`\beta` = ``decay``; the other steps keep the factors); every
    ``inverse_every`` steps (and at the first)
    :math:`\hat A^{-1} = (A + \pi \sqrt\lambda I)^{-1}`,
    :math:`\hat G^{-1} = (G + \sqrt\lambda / \pi\, I)^{-1}` with the Tikhonov damping
    :math:`\lambda` = ``damping`` and, with ``pi_correction``,
    :math:`\pi = \sqrt{(\mathrm{tr} A / \dim A) / (\mathrm{tr} G / \dim G)}` (Martens &
    Grosse, sec. 6.3; else :math:`\pi = 1`). The update of :math:`\bar W = [W; b]` is
    :math:`\hat A^{-1} \nabla_{\bar W} \hat G^{-1}` (a Conv2d's W, (O, C, kh, kw), as the
    (C kh kw, O) matrix). Parameters of other layers pass through.

    ``kfac_stats`` may also be a function ``() -> stats``, called only at the steps that
    update the factors: with ``factor_every`` > 1 the other steps then skip
    :func:`capture`'s extra backward passes (the estimators pass it so).

    Args:
        damping: the Tikhonov damping :math:`\lambda`.
        decay: :math:`\beta`, the weight of the previous factors in the running average.
        inverse_every: recompute the damped inverses every this many steps.
        pi_correction: split the damping between the factors by :math:`\pi` (else
            :math:`\pi = 1`).
        factor_every: update the factors from the batch's statistics every this many steps.

    Returns:
        A :class:`~gradkit.optim.GradientTransformation` whose ``update`` takes
        ``kfac_stats=``; its state is a :class:`KFACState`.

    Examples:
        >>> import numpy as np
        >>> from gradkit.nn import Linear
        >>> layer = Linear(2); params, _ = layer.init(np.random.default_rng(0), (3,))
        >>> _, grads, stats = capture(layer, "mse")(params, np.eye(3), np.ones((3, 2)))
        >>> tx = scale_by_kfac(damping=1e-4)
        >>> updates, state = tx.update(grads, tx.init(params), params, kfac_stats=stats)
        >>> updates["W"].shape, int(state.count)
        ((3, 2), 1)
    """
    if not damping > 0:
        raise ValueError(f"damping must be > 0, got {damping!r}.")
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1), got {decay!r}.")
    for name, every in (("inverse_every", inverse_every), ("factor_every", factor_every)):
        if not (isinstance(every, int) and not isinstance(every, bool) and every >= 1):
            raise ValueError(f"{name} must be an integer >= 1, got {every!r}.")

    def init(params):
        # the factors of every Linear layer of params, as zeros, so that the state has one
        # structure from the start (a saved state fits init's); a layer that only appears in
        # the statistics gets its factors at its first update
        shapes = _factor_shapes(params)
        A = {k: np.zeros((a, a)) for k, (a, _) in shapes.items()}
        G = {k: np.zeros((g, g)) for k, (_, g) in shapes.items()}
        return KFACState(count=0, A=A, G=G, A_inv={k: v.copy() for k, v in A.items()},
                         G_inv={k: v.copy() for k, v in G.items()})

    def update(updates, state, params=None, *, kfac_stats=None, **extra):
        if kfac_stats is None:
            raise ValueError("scale_by_kfac needs update(..., kfac_stats=stats) with the stats "
                             "of gradkit.nn.kfac.capture(model, loss)(params, X, y); the "
                             "estimators that pass them are MLPClassifier and MLPRegressor.")
        A, G = dict(state.A), dict(state.G)
        A_inv, G_inv = dict(state.A_inv), dict(state.G_inv)
        refresh = state.count % inverse_every == 0
        stats = {}
        if state.count % factor_every == 0:
            stats = kfac_stats() if callable(kfac_stats) else kfac_stats
        for key, (abar, u) in stats.items():
            n = abar.shape[0]
            a_new, g_new = abar.T @ abar / n, u.T @ u / n
            first = state.count == 0 or key not in A
            A[key] = a_new if first else decay * A[key] + (1 - decay) * a_new
            G[key] = g_new if first else decay * G[key] + (1 - decay) * g_new
        # the layers with factors: those of this step's statistics, or else those updated
        # before (a damped inverse is never zero; init's zeros mean "no factors yet")
        keys = list(stats) or [k for k in A_inv if np.any(A_inv[k])]
        for key in keys:
            if refresh or not np.any(A_inv.get(key, 0.0)):
                pi = 1.0
                if pi_correction:
                    ta = np.trace(A[key]) / A[key].shape[0]
                    tg = np.trace(G[key]) / G[key].shape[0]
                    pi = math.sqrt(ta / tg) if ta > 0 and tg > 0 else 1.0
                root = math.sqrt(damping)
                A_inv[key] = _damped_inverse(A[key], pi * root)
                G_inv[key] = _damped_inverse(G[key], root / pi)
        out = dict(updates)
        for key in keys:
            g = updates if key is None else updates[key]
            has_b = "b" in g
            W = _as_matrix(g["W"])
            Wbar = np.vstack([W, g["b"][None, :]]) if has_b else W
            P = A_inv[key] @ Wbar @ G_inv[key]
            new = {**g, "W": _from_matrix(P[:-1] if has_b else P, np.shape(g["W"]))}
            if has_b:
                new["b"] = P[-1]
            if key is None:
                out = new
            else:
                out[key] = new
        return out, KFACState(state.count + 1, A, G, A_inv, G_inv)

    return GradientTransformationExtraArgs(init, update)


def kfac(learning_rate=0.1, damping=1e-3, decay=0.95, inverse_every=1, pi_correction=True, *,
         factor_every=1, momentum=0.0):
    r"""K-FAC: :math:`\bar W \leftarrow \bar W - \eta\, m` per Linear layer, with the natural
    gradient :math:`\Delta = \hat A^{-1} \nabla_{\bar W} \hat G^{-1}` (:func:`scale_by_kfac`)
    and :math:`m_t = \Delta_t + \mu\, m_{t-1}` (heavy-ball momentum on it, Martens & Grosse's
    :math:`\delta = \alpha \Delta + \mu \delta_{\mathrm{prev}}` with fixed coefficients;
    :math:`\mu` = ``momentum``, 0: none; :math:`\eta` = ``learning_rate``).

    Use it with :func:`capture`::

        step = capture(model, "cross_entropy")
        tx = kfac(0.1); state = tx.init(params)
        loss, grads, stats = step(params, X, y)
        updates, state = tx.update(grads, state, params, kfac_stats=stats)
        params = apply_updates(params, updates)

    or as the ``optimizer=`` of :class:`~gradkit.models.MLPClassifier` /
    :class:`~gradkit.models.MLPRegressor`, which pass it the statistics of each batch.

    Args:
        learning_rate: :math:`\eta`, a number or a schedule ``step -> rate``.
        damping: the Tikhonov damping :math:`\lambda`.
        decay: :math:`\beta`, the weight of the previous factors in the running average.
        inverse_every: recompute the damped inverses every this many steps.
        pi_correction: split the damping between the factors by :math:`\pi` (else
            :math:`\pi = 1`).
        factor_every: update the factors every this many steps.
        momentum: :math:`\mu`, in [0, 1).

    Returns:
        A :class:`~gradkit.optim.GradientTransformation`: ``chain(scale_by_kfac(...),
        trace(momentum), scale_by_learning_rate(learning_rate))`` (without the ``trace``
        when ``momentum`` is 0).

    Examples:
        >>> import numpy as np
        >>> from gradkit.nn import Linear
        >>> from gradkit.optim import apply_updates
        >>> X = np.random.default_rng(0).normal(size=(50, 3)); Y = X @ np.ones((3, 1))
        >>> layer = Linear(1); params, _ = layer.init(np.random.default_rng(0), (3,))
        >>> step, tx = capture(layer, "mse"), kfac(1.0, damping=1e-8)
        >>> state = tx.init(params)
        >>> for _ in range(2):
        ...     loss, grads, stats = step(params, X, Y)
        ...     updates, state = tx.update(grads, state, params, kfac_stats=stats)
        ...     params = apply_updates(params, updates)
        >>> bool(step(params, X, Y)[0] < 1e-10)      # least squares: one natural step solves it
        True
    """
    if not (isinstance(momentum, numbers.Real) and not isinstance(momentum, bool)
            and 0 <= momentum < 1):
        raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}.")
    blocks = [scale_by_kfac(damping, decay, inverse_every, pi_correction,
                            factor_every=factor_every)]
    if momentum:
        blocks.append(trace(momentum))
    return chain(*blocks, scale_by_learning_rate(learning_rate))
