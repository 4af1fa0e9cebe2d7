"""Building blocks that rescale gradients: a constant or scheduled step size, momentum
(:func:`trace`), the adaptive per-coordinate scalings of AdaGrad (:func:`scale_by_rss`),
RMSProp (:func:`scale_by_rms`, :func:`scale_by_stddev`), Adam and AdaMax, and decoupled
weight decay (:func:`add_decayed_weights`). Each docstring gives its update equations.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from gradkit.tree import tree_map

from .base import (GradientTransformation, ScaleByLearningRateState, ScaleByScheduleState,
                   Schedule, _check, _check_learning_rate, _check_nonneg, _check_positive,
                   _check_unit, _full_like, _moment, _zeros_like, stateless)

__all__ = ["identity", "scale", "scale_by_learning_rate", "scale_by_schedule", "trace",
           "scale_by_adam", "scale_by_adamax", "scale_by_rss", "scale_by_rms", "scale_by_stddev",
           "add_decayed_weights", "TraceState", "ScaleByAdamState", "ScaleByRssState",
           "ScaleByRmsState", "ScaleByRStdDevState"]


# ---------------------------------------------------------------------------------------------
# scaling


def identity() -> GradientTransformation:
    """Pass updates through unchanged: ``u_t = g_t``.

    Returns:
        A stateless :class:`GradientTransformation`.

    Examples:
        >>> from gradkit.optim import EmptyState
        >>> identity().update([1.0], EmptyState())
        ([1.0], EmptyState())
    """
    return stateless(lambda updates, params: updates)


def scale(step_size: float) -> GradientTransformation:
    """Multiply updates by a constant: ``u_t = step_size * g_t``.

    Args:
        step_size: the constant, a finite number (negative for descent).

    Returns:
        A stateless :class:`GradientTransformation`.

    Raises:
        ValueError: when ``step_size`` is not finite.

    Examples:
        >>> from gradkit.optim import EmptyState
        >>> import numpy as np
        >>> scale(-2.0).update(np.array([1.0, 3.0]), EmptyState())[0]
        array([-2., -6.])
    """
    step_size = _check("step_size", step_size, math.isfinite, "a finite number")

    def mul(g):
        return g * step_size

    return stateless(lambda updates, params: tree_map(mul, updates))


def _scaled(tree, factor, mul):
    """``tree_map(mul, tree)`` where ``mul(g) = g * factor``; parameter dicts (nested or not)
    of arrays are walked without a call per leaf (every SGD step goes through here)."""
    if type(tree) is not dict:
        return tree_map(mul, tree)
    out = {}
    for k, v in tree.items():
        if type(v) is np.ndarray:
            out[k] = v * factor
        elif type(v) is dict:  # a layer's parameters: one level down without a call
            inner = out[k] = {}
            for k2, v2 in v.items():
                inner[k2] = v2 * factor if type(v2) is np.ndarray else _scaled(v2, factor, mul)
        else:
            out[k] = _scaled(v, factor, mul)
    return out


def _scale_by_step_size(step_size, sign: float, state_cls) -> GradientTransformation:
    """Shared body of :func:`scale_by_schedule` and :func:`scale_by_learning_rate`."""
    if not callable(step_size):
        constant = float(step_size)
        factor = sign * constant

        def mul(g):
            return g * factor

        def init(params):
            return state_cls(0, constant)

        def update(updates, state, params=None):
            return _scaled(updates, factor, mul), state_cls(state[0] + 1, constant)

        return GradientTransformation(init, update)

    def init(params):
        return state_cls(0, float(step_size(0)))

    def update(updates, state, params=None):
        # float(): a NumPy float64 from the schedule would upcast float32 updates (NEP 50).
        value = float(step_size(state[0]))
        factor = sign * value
        return tree_map(lambda g: g * factor, updates), state_cls(state[0] + 1, value)

    return GradientTransformation(init, update)


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """Multiply updates by a schedule of the step count: ``u_t = s(t) * g_t``, t = 0, 1, ...

    Args:
        step_size_fn: ``s``, a function of the step count (starting at 0) returning the factor.

    Returns:
        A :class:`GradientTransformation` with state :class:`ScaleByScheduleState`.

    Examples:
        >>> import numpy as np
        >>> tx = scale_by_schedule(lambda t: 0.5 ** t)
        >>> state = tx.init(None)
        >>> u, state = tx.update(np.ones(1), state)
        >>> u, state = tx.update(np.ones(1), state)
        >>> u, state
        (array([0.5]), ScaleByScheduleState(count=2, step_size=0.5))
    """
    if not callable(step_size_fn):
        raise TypeError(f"step_size_fn must be a function of the step count, got "
                        f"{step_size_fn!r}; use scale() for a constant.")
    return _scale_by_step_size(step_size_fn, 1.0, ScaleByScheduleState)


def scale_by_learning_rate(learning_rate, *, flip_sign: bool = True) -> GradientTransformation:
    """Multiply updates by minus the learning rate: ``u_t = -lr(t) * g_t``.

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule (function of the step count,
            starting at 0; see :mod:`gradkit.optim.schedules`).
        flip_sign: when False, multiply by ``+lr`` (for ascent or pre-negated updates).

    Returns:
        A :class:`GradientTransformation` with state :class:`ScaleByLearningRateState`,
        from which :func:`current_learning_rate` reads the rate.

    Raises:
        ValueError: when ``learning_rate`` is a negative or non-finite number.

    Examples:
        >>> import numpy as np
        >>> tx = scale_by_learning_rate(0.1)
        >>> u, state = tx.update(np.array([1.0, -2.0]), tx.init(None))
        >>> u, state
        (array([-0.1,  0.2]), ScaleByLearningRateState(count=1, learning_rate=0.1))
    """
    learning_rate = _check_learning_rate(learning_rate)
    return _scale_by_step_size(learning_rate, -1.0 if flip_sign else 1.0,
                               ScaleByLearningRateState)


# ---------------------------------------------------------------------------------------------
# momentum and adaptive scalings


class TraceState(NamedTuple):
    """The state of :func:`trace`.

    Attributes:
        trace: the momentum buffer, one array per parameter.

    Examples:
        >>> import numpy as np
        >>> trace(0.9).init({"w": np.ones(2)})
        TraceState(trace={'w': array([0., 0.])})
    """

    trace: Any


def trace(decay: float, nesterov: bool = False, accumulator_dtype=None) -> GradientTransformation:
    """Momentum (heavy ball), or Nesterov momentum in optax's form.

    Update equations (``m_0 = 0``)::

        m_t = g_t + decay * m_{t-1}
        u_t = m_t                          (nesterov=False)
        u_t = g_t + decay * m_t            (nesterov=True)

    The momentum is applied to the raw gradient, before the learning rate (as in optax and
    PyTorch; Sutskever et al. 2013 keep the learning rate inside the buffer, which differs when
    the learning rate changes). Nesterov in this form is the one of Sutskever et al. 2013,
    "On the importance of initialization and momentum in deep learning", rewritten to use the
    gradient at the current parameters.

    Args:
        decay: the momentum coefficient, in [0, 1].
        nesterov: use the Nesterov form.
        accumulator_dtype: dtype of the buffer; None uses the parameters' dtype.

    Returns:
        A :class:`GradientTransformation` with state :class:`TraceState`.

    Examples:
        >>> import numpy as np
        >>> tx = trace(0.5)
        >>> state = tx.init(np.zeros(1))
        >>> u, state = tx.update(np.ones(1), state)
        >>> u, state = tx.update(np.ones(1), state)
        >>> u
        array([1.5])
    """
    decay = _check_unit("decay", decay, closed=True)

    def accumulate(g, t):
        return g + decay * t

    def init(params):
        return TraceState(_zeros_like(params, accumulator_dtype))

    def update(updates, state, params=None):
        new_trace = tree_map(accumulate, updates, state.trace)
        out = tree_map(accumulate, updates, new_trace) if nesterov else new_trace
        if accumulator_dtype is not None:
            new_trace = tree_map(lambda t: t.astype(accumulator_dtype, copy=False), new_trace)
        return out, TraceState(new_trace)

    return GradientTransformation(init, update)


class ScaleByAdamState(NamedTuple):
    """The state of :func:`scale_by_adam` and :func:`scale_by_adamax`.

    Attributes:
        count: steps taken.
        mu: the first moment, one array per parameter.
        nu: the second moment (Adam) or the infinity norm (Adamax).

    Examples:
        >>> import numpy as np
        >>> tx = scale_by_adam()
        >>> tx.update(np.array([2.0]), tx.init(np.zeros(1)))[1]
        ScaleByAdamState(count=1, mu=array([0.2]), nu=array([0.004]))
    """

    count: int
    mu: Any
    nu: Any


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0,
                  mu_dtype=None, *, nesterov: bool = False) -> GradientTransformation:
    """Rescale updates by Adam's bias-corrected moment estimates.

    Update equations (``t = 1, 2, ...``; ``m_0 = v_0 = 0``; elementwise)::

        m_t   = b1 * m_{t-1} + (1 - b1) * g_t
        v_t   = b2 * v_{t-1} + (1 - b2) * g_t**2
        mhat  = m_t / (1 - b1**t)                                        (nesterov=False)
        mhat  = b1 * m_t / (1 - b1**(t+1)) + (1 - b1) * g_t / (1 - b1**t)  (nesterov=True)
        vhat  = v_t / (1 - b2**t)
        u_t   = mhat / (sqrt(vhat + eps_root) + eps)

    ``eps`` sits *outside* the square root (as in the paper, optax and PyTorch; Keras and
    TensorFlow 1 put an ``eps_hat`` against the un-corrected ``v``). The Nesterov form is
    NAdam (Dozat 2016) without its extra ``b2`` factor, as in optax and PyTorch.

    Args:
        b1: decay of the first moment, in [0, 1).
        b2: decay of the second moment, in [0, 1).
        eps: added to the denominator outside the square root, > 0 (may be 0 if eps_root > 0).
        eps_root: added inside the square root, >= 0.
        mu_dtype: dtype of the first moment; None uses the parameters' dtype.
        nesterov: use NAdam's Nesterov momentum.

    Returns:
        A :class:`GradientTransformation` with state :class:`ScaleByAdamState`.

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.

    Examples:
        >>> import numpy as np
        >>> tx = scale_by_adam()
        >>> tx.update(np.array([0.5, -3.0]), tx.init(np.zeros(2)))[0].round(6)  # first: sign(g)
        array([ 1., -1.])
    """
    b1, b2 = _check_unit("b1", b1), _check_unit("b2", b2)
    eps_root = _check_nonneg("eps_root", eps_root)
    eps = _check_nonneg("eps", eps) if eps_root > 0 else _check_positive("eps", eps)

    first, second = _moment(b1, 1), _moment(b2, 2)

    def init(params):
        return ScaleByAdamState(0, _zeros_like(params, mu_dtype), _zeros_like(params))

    def root(v, c2):  # sqrt(vhat + eps_root); + 0.0 changes no bit of a v >= 0 (never -0.0)
        return np.sqrt(v * c2 + eps_root) if eps_root else np.sqrt(v * c2)

    def update(updates, state, params=None):
        t = state.count + 1
        mu = tree_map(first, updates, state.mu)
        nu = tree_map(second, updates, state.nu)
        c2 = 1.0 / (1.0 - b2 ** t)
        if nesterov:
            cm, cg = b1 / (1.0 - b1 ** (t + 1)), (1.0 - b1) / (1.0 - b1 ** t)
            out = tree_map(lambda m, v, g: (cm * m + cg * g) / (root(v, c2) + eps),
                           mu, nu, updates)
        else:
            c1 = 1.0 / (1.0 - b1 ** t)
            out = tree_map(lambda m, v: (m * c1) / (root(v, c2) + eps), mu, nu)
        if mu_dtype is not None:
            mu = tree_map(lambda m: m.astype(mu_dtype, copy=False), mu)
        return out, ScaleByAdamState(t, mu, nu)

    return GradientTransformation(init, update)


def scale_by_adamax(b1: float = 0.9, b2: float = 0.999,
                    eps: float = 1e-8) -> GradientTransformation:
    """Rescale updates by Adamax's infinity-norm moment.

    Update equations (``t = 1, 2, ...``; ``m_0 = v_0 = 0``; elementwise)::

        m_t = b1 * m_{t-1} + (1 - b1) * g_t
        v_t = max(b2 * v_{t-1}, |g_t| + eps)
        u_t = m_t / (1 - b1**t) / v_t

    ``eps`` is added inside the maximum, as in optax (the paper has none; PyTorch adds it
    the same way).

    Args:
        b1: decay of the first moment, in [0, 1).
        b2: decay of the infinity norm, in [0, 1).
        eps: > 0, keeps ``v_t`` away from zero.

    Returns:
        A :class:`GradientTransformation` with state :class:`ScaleByAdamState` (``nu`` holds
        the infinity norm).

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, sec. 7.1.

    Examples:
        >>> import numpy as np
        >>> tx = scale_by_adamax(eps=0.5)
        >>> tx.update(np.array([1.5]), tx.init(np.zeros(1)))[0]
        array([0.75])
    """
    b1, b2, eps = _check_unit("b1", b1), _check_unit("b2", b2), _check_positive("eps", eps)

    first = _moment(b1, 1)

    def infinity(g, v):
        return np.maximum(b2 * v, np.abs(g) + eps)

    def init(params):
        return ScaleByAdamState(0, _zeros_like(params), _zeros_like(params))

    def update(updates, state, params=None):
        t = state.count + 1
        mu = tree_map(first, updates, state.mu)
        nu = tree_map(infinity, updates, state.nu)
        c1 = 1.0 / (1.0 - b1 ** t)
        return tree_map(lambda m, v: (m * c1) / v, mu, nu), ScaleByAdamState(t, mu, nu)

    return GradientTransformation(init, update)


class ScaleByRssState(NamedTuple):
    """The state of :func:`scale_by_rss`.

    Attributes:
        sum_of_squares: the running sum of squared gradients (AdaGrad's accumulator).

    Examples:
        >>> import numpy as np
        >>> scale_by_rss(initial_accumulator_value=0.1).init(np.zeros(2))
        ScaleByRssState(sum_of_squares=array([0.1, 0.1]))
    """

    sum_of_squares: Any


def scale_by_rss(initial_accumulator_value: float = 0.1,
                 eps: float = 1e-7) -> GradientTransformation:
    """Rescale updates by the root of the sum of all squared gradients so far (AdaGrad).

    Update equations (``s_0 = initial_accumulator_value``; elementwise)::

        s_t = s_{t-1} + g_t**2
        u_t = g_t / sqrt(s_t + eps)       (and u_t = 0 where s_t = 0)

    ``eps`` sits *inside* the square root (optax; PyTorch adds it outside).

    Args:
        initial_accumulator_value: ``s_0``, >= 0.
        eps: >= 0.

    Returns:
        A :class:`GradientTransformation` with state :class:`ScaleByRssState`.

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011.

    Examples:
        >>> import numpy as np
        >>> tx = scale_by_rss(initial_accumulator_value=0.0, eps=0.0)
        >>> tx.update(np.array([3.0, 0.0]), tx.init(np.zeros(2)))[0]
        array([1., 0.])
    """
    initial = _check_nonneg("initial_accumulator_value", initial_accumulator_value)
    eps = _check_nonneg("eps", eps)

    def init(params):
        return ScaleByRssState(_full_like(params, initial))

    def scaled(g, s):
        # s > 0 keeps 0 / 0 out; where s == 0 the gradient is 0 too.
        return np.where(s > 0, g / np.sqrt(np.where(s > 0, s, 1.0) + eps), 0.0).astype(
            s.dtype, copy=False)

    def update(updates, state, params=None):
        s = tree_map(lambda g, a: g * g + a, updates, state.sum_of_squares)
        return tree_map(scaled, updates, s), ScaleByRssState(s)

    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    """The state of :func:`scale_by_rms`.

    Attributes:
        count: steps taken.
        nu: the moving average of squared gradients, one array per parameter.

    Examples:
        >>> import numpy as np
        >>> scale_by_rms(initial_scale=1.0).init(np.zeros(2))
        ScaleByRmsState(count=0, nu=array([1., 1.]))
    """

    count: int
    nu: Any


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0,
                 eps_in_sqrt: bool = True, bias_correction: bool = False) -> GradientTransformation:
    """Rescale updates by the root of the moving average of squared gradients (RMSProp).

    Update equations (``v_0 = initial_scale``; elementwise)::

        v_t  = decay * v_{t-1} + (1 - decay) * g_t**2
        vhat = v_t / (1 - decay**t)   if bias_correction else v_t
        u_t  = g_t / sqrt(vhat + eps)     (eps_in_sqrt=True, the default, as in optax)
        u_t  = g_t / (sqrt(vhat) + eps)   (eps_in_sqrt=False, as in PyTorch)

    Args:
        decay: moving-average decay, in [0, 1).
        eps: > 0.
        initial_scale: ``v_0``, >= 0 (TensorFlow 1 used 1.0).
        eps_in_sqrt: where eps goes, see above.
        bias_correction: divide by ``1 - decay**t`` as Adam does.

    Returns:
        A :class:`GradientTransformation` with state :class:`ScaleByRmsState`.

    Reference: Tieleman & Hinton, "Lecture 6.5 - RMSProp", COURSERA: Neural Networks for
    Machine Learning, 2012.

    Examples:
        >>> import numpy as np
        >>> tx = scale_by_rms(decay=0.75)
        >>> tx.update(np.array([2.0]), tx.init(np.zeros(1)))[0].round(6)   # 2 / sqrt(0.25 * 4)
        array([2.])
    """
    decay = _check_unit("decay", decay)
    eps = _check_positive("eps", eps)
    initial = _check_nonneg("initial_scale", initial_scale)

    second = _moment(decay, 2)

    def init(params):
        return ScaleByRmsState(0, _full_like(params, initial))

    def update(updates, state, params=None):
        t = state.count + 1
        nu = tree_map(second, updates, state.nu)
        c = 1.0 / (1.0 - decay ** t) if bias_correction else 1.0
        if eps_in_sqrt:
            out = tree_map(lambda g, v: g / np.sqrt(v * c + eps), updates, nu)
        else:
            out = tree_map(lambda g, v: g / (np.sqrt(v * c) + eps), updates, nu)
        return out, ScaleByRmsState(t, nu)

    return GradientTransformation(init, update)


class ScaleByRStdDevState(NamedTuple):
    """The state of :func:`scale_by_stddev`.

    Attributes:
        count: steps taken.
        mu: the moving average of the gradients.
        nu: the moving average of their squares.

    Examples:
        >>> import numpy as np
        >>> scale_by_stddev(initial_scale=1.0).init(np.zeros(1))
        ScaleByRStdDevState(count=0, mu=array([0.]), nu=array([1.]))
    """

    count: int
    mu: Any
    nu: Any


def scale_by_stddev(decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0,
                    eps_in_sqrt: bool = True,
                    bias_correction: bool = False) -> GradientTransformation:
    """Rescale updates by the moving standard deviation of the gradients (centered RMSProp).

    Update equations (``m_0 = 0``, ``v_0 = initial_scale``; elementwise)::

        m_t = decay * m_{t-1} + (1 - decay) * g_t
        v_t = decay * v_{t-1} + (1 - decay) * g_t**2
        u_t = g_t / sqrt(v_t - m_t**2 + eps)             (eps_in_sqrt=True)
        u_t = g_t / (sqrt(max(v_t - m_t**2, 0)) + eps)   (eps_in_sqrt=False)

    (Rounding can make ``v_t - m_t**2`` a little negative where the gradient is steady,
    which would be a NaN outside the square root; inside it ``eps`` covers it, as in optax.)
    ``bias_correction=True`` is refused: with Adam's correction the first step's variance
    ``v_1 / (1 - decay) - (m_1 / (1 - decay))**2`` is ``g**2 - g**2 = 0``, so the first
    update would be ``g / sqrt(eps)``.

    Args:
        decay: moving-average decay, in [0, 1).
        eps: > 0.
        initial_scale: ``v_0``, >= 0.
        eps_in_sqrt: where eps goes, see above.
        bias_correction: refused (see above); kept so that :func:`rmsprop` can say why.

    Returns:
        A :class:`GradientTransformation` with state :class:`ScaleByRStdDevState`.

    Reference: Graves, "Generating Sequences With Recurrent Neural Networks", 2013, eq. 38.

    Examples:
        >>> import numpy as np
        >>> tx = scale_by_stddev(decay=0.5)
        >>> tx.update(np.array([2.0]), tx.init(np.zeros(1)))[0].round(6)   # 2 / sqrt(2 - 1**2)
        array([2.])
    """
    decay = _check_unit("decay", decay)
    eps = _check_positive("eps", eps)
    initial = _check_nonneg("initial_scale", initial_scale)
    if bias_correction:
        raise ValueError("scale_by_stddev (centered RMSProp): bias_correction=True makes the "
                         "first step's variance vhat - mhat**2 = g**2 - g**2 = 0, so its "
                         "update would be g / sqrt(eps); use centered or bias_correction, "
                         "not both.")

    first, second = _moment(decay, 1), _moment(decay, 2)

    def init(params):
        return ScaleByRStdDevState(0, _zeros_like(params), _full_like(params, initial))

    def update(updates, state, params=None):
        t = state.count + 1
        mu = tree_map(first, updates, state.mu)
        nu = tree_map(second, updates, state.nu)
        if eps_in_sqrt:
            out = tree_map(lambda g, m, v: g / np.sqrt(v - m ** 2 + eps), updates, mu, nu)
        else:
            out = tree_map(lambda g, m, v: g / (np.sqrt(np.maximum(v - m ** 2, 0.0)) + eps),
                           updates, mu, nu)
        return out, ScaleByRStdDevState(t, mu, nu)

    return GradientTransformation(init, update)



def add_decayed_weights(weight_decay: float = 0.0, mask=None) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates (decoupled weight decay when placed after
    the adaptive scaling, as in :func:`adamw`; L2 regularization when placed first).

    ``u_t = g_t + weight_decay * p_t`` for the leaves where ``mask`` is True, ``u_t = g_t``
    elsewhere.

    Args:
        weight_decay: >= 0.
        mask: None (decay everything), a pytree of bools with the structure of the
            parameters, or a function ``params -> that pytree`` (e.g. to skip biases).

    Returns:
        A stateless :class:`GradientTransformation` (its ``update`` needs ``params``).


    Raises:
        ValueError: when ``weight_decay`` is negative, or at ``update`` when ``params`` is
            not given.

    Examples:
        >>> from gradkit.optim import EmptyState
        >>> import numpy as np
        >>> tx = add_decayed_weights(0.1, mask={"w": True, "b": False})
        >>> p = {"w": np.array([10.0]), "b": np.array([10.0])}
        >>> u, _ = tx.update({"w": np.zeros(1), "b": np.zeros(1)}, EmptyState(), p)
        >>> u["w"], u["b"]
        (array([1.]), array([0.]))
    """
    weight_decay = _check_nonneg("weight_decay", weight_decay)

    def decay(g, p):
        return g + weight_decay * p

    def decay_masked(g, p, m):
        return g + weight_decay * p if m else g

    def add(updates, params):
        if params is None:
            raise ValueError("add_decayed_weights needs the parameters: call "
                             "update(grads, state, params).")
        if mask is None:
            return tree_map(decay, updates, params)
        m = mask(params) if callable(mask) else mask
        return tree_map(decay_masked, updates, params, m)

    return stateless(add)
