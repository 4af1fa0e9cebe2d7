"""The named optimizers: ``sgd``, ``momentum``, ``adagrad``, ``rmsprop``, ``adam``, ``adamw``,
``adamax``, ``nadam``, each a short :func:`~gradkit.optim.base.chain` of the blocks of
:mod:`.scaling` with optax's equations and defaults; ``sgd``, ``momentum``, ``rmsprop``,
``adam`` and ``adamw`` also register the fused in-place kernel of
:func:`~gradkit.optim.base.step`.
"""
from __future__ import annotations

import math
from math import isfinite

import numpy as np

from .base import (GradientTransformation, ScaleByLearningRateState, _fused_kernel, _new_state,
                   chain)
from .scaling import (ScaleByAdamState, ScaleByRmsState, TraceState, add_decayed_weights,
                      identity, scale_by_adam, scale_by_adamax, scale_by_learning_rate,
                      scale_by_rms, scale_by_rss, scale_by_stddev, trace)

__all__ = ["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam"]


# ---------------------------------------------------------------------------------------------
# named optimizers


def _written(p, p_, u, bufs, *moments):
    """The end of a kernel's one-element step (``one_step``, see
    :func:`~gradkit.optim.base._fused_kernel`): write the new parameter ``p_``, the update
    ``u`` and each moment's new value (``moments``: array, value, ...) and return True, when
    all are finite; else write nothing and return False, leaving the leaf to the array step
    (NumPy's warnings, ``errstate`` and NaN bits)."""
    if not isfinite(p_ + u + sum(moments[1::2])):
        return False
    for m, value in zip(moments[::2], moments[1::2]):
        m.fill(value)
    bufs[0].fill(u)
    p.fill(p_)
    return True


def sgd(learning_rate, momentum: float | None = None, nesterov: bool = False,
        accumulator_dtype=None) -> GradientTransformation:
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    ``chain(trace(momentum, nesterov) if momentum is not None else identity(),
    scale_by_learning_rate(learning_rate))``, i.e. (``m_0 = 0``)::

        m_t = g_t + momentum * m_{t-1}
        u_t = -lr * m_t                            (nesterov=False)
        u_t = -lr * (g_t + momentum * m_t)         (nesterov=True)
        u_t = -lr * g_t                            (momentum=None)

    Same form as PyTorch's ``SGD`` with ``dampening=0``. See :func:`trace`.

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule.
        momentum: None, or the momentum coefficient in [0, 1].
        nesterov: use Nesterov momentum.
        accumulator_dtype: dtype of the momentum buffer (None: the parameters').

    Returns:
        A :class:`GradientTransformation` (a :func:`chain`).

    References: Robbins & Monro 1951; Polyak 1964; Sutskever et al., ICML 2013.

    Examples:
        >>> from gradkit.optim import apply_updates
        >>> import numpy as np
        >>> opt = sgd(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0])}
        >>> updates, state = opt.update({"w": np.array([1.0, 1.0])}, opt.init(params))
        >>> apply_updates(params, updates)["w"]
        array([ 0.9, -2.1])
    """
    first = trace(momentum, nesterov, accumulator_dtype) if momentum is not None else identity()
    tx = chain(first, scale_by_learning_rate(learning_rate))
    if momentum is None:
        def leaf(p, g, moments, c, bufs):
            u = np.multiply(g, c[0], bufs[0])   # u_t = -lr * g_t
            np.add(p, u, p)

        def one(p, g, moments, c, bufs):        # (one float64: the same in Python floats)
            u = g.item() * c[0]
            return _written(p, p.item() + u, u, bufs)

        def states(state):
            if len(state) != 2 or not isinstance(state[1], ScaleByLearningRateState):
                return None
            return 0, ()

        def rebuild(state, t, lr_state):
            return state[0], lr_state

        return _fused_kernel(tx, leaf, learning_rate, states, rebuild, one_step=one)
    if accumulator_dtype is None:
        decay = float(momentum)

        def leaf(p, g, moments, c, bufs):
            m, = moments
            decay_, neg_lr = c
            mul = np.multiply
            mul(m, decay_, m)           # m_t = g_t + decay * m_{t-1}
            np.add(m, g, m)
            if nesterov:                # u_t = -lr * (g_t + decay * m_t)
                u = mul(m, decay_, bufs[0])
                np.add(u, g, u)
                mul(u, neg_lr, u)
            else:                       # u_t = -lr * m_t
                u = mul(m, neg_lr, bufs[0])
            np.add(p, u, p)

        def one(p, g, moments, c, bufs):
            m, = moments
            decay_, neg_lr = c
            m_ = m.item() * decay_ + g.item()
            u = ((m_ * decay_ + g.item()) if nesterov else m_) * neg_lr
            return _written(p, p.item() + u, u, bufs, m, m_)

        def states(state):
            if len(state) != 2 or not isinstance(state[0], TraceState):
                return None
            return 0, (state[0].trace,)

        def rebuild(state, t, lr_state):
            return state[0], lr_state

        return _fused_kernel(tx, leaf, learning_rate, states, rebuild, constants=(decay,),
                             one_step=one)
    return tx


def momentum(learning_rate, beta: float = 0.9, nesterov: bool = False) -> GradientTransformation:
    """SGD with heavy-ball (or Nesterov) momentum: ``sgd(learning_rate, momentum=beta,
    nesterov=nesterov)``; the equations are those of :func:`sgd`::

        m_t = g_t + beta * m_{t-1}
        u_t = -lr * m_t                    (nesterov=False)
        u_t = -lr * (g_t + beta * m_t)     (nesterov=True)

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule.
        beta: the momentum coefficient, in [0, 1].
        nesterov: use Nesterov momentum.

    Returns:
        A :class:`GradientTransformation` (a :func:`chain`).

    Reference: Polyak, "Some methods of speeding up the convergence of iteration methods",
    1964.

    Examples:
        >>> import numpy as np
        >>> opt = momentum(0.1, beta=0.5)
        >>> state = opt.init(np.zeros(1))
        >>> u, state = opt.update(np.ones(1), state)
        >>> u, state = opt.update(np.ones(1), state)
        >>> u   # -0.1 * (1 + 0.5 * 1)
        array([-0.15])
    """
    if beta is None:
        raise ValueError("beta must be a number in [0, 1], got None; use sgd() for no momentum.")
    return sgd(learning_rate, momentum=beta, nesterov=nesterov)


def adagrad(learning_rate, initial_accumulator_value: float = 0.1,
            eps: float = 1e-7) -> GradientTransformation:
    """AdaGrad: ``chain(scale_by_rss(initial_accumulator_value, eps),
    scale_by_learning_rate(learning_rate))``, i.e. (elementwise)::

        s_t = s_{t-1} + g_t**2,      s_0 = initial_accumulator_value
        u_t = -lr * g_t / sqrt(s_t + eps)

    ``eps`` is inside the square root (optax); PyTorch adds it outside and starts at s_0 = 0.

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule.
        initial_accumulator_value: ``s_0``, >= 0.
        eps: >= 0, added inside the square root.

    Returns:
        A :class:`GradientTransformation` (a :func:`chain`).

    Reference: Duchi, Hazan & Singer, JMLR 2011.

    Examples:
        >>> import numpy as np
        >>> opt = adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
        array([-1.])
    """
    return chain(scale_by_rss(initial_accumulator_value, eps),
                 scale_by_learning_rate(learning_rate))


def rmsprop(learning_rate, decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0,
            eps_in_sqrt: bool = True, centered: bool = False, momentum: float | None = None,
            nesterov: bool = False, bias_correction: bool = False) -> GradientTransformation:
    """RMSProp: scale by the root mean square of recent gradients, then by ``-lr``, then an
    optional momentum trace (optax's order: the momentum acts on the scaled step)::

        v_t = decay * v_{t-1} + (1 - decay) * g_t**2,        v_0 = initial_scale
        d_t = g_t / sqrt(v_t + eps)                          (centered=False)
        d_t = g_t / sqrt(v_t - m_t**2 + eps),                (centered=True)
              m_t = decay * m_{t-1} + (1 - decay) * g_t
        u_t = -lr * d_t                                      (momentum=None)
        b_t = -lr * d_t + momentum * b_{t-1};  u_t = b_t     (momentum given; see trace)

    With ``eps_in_sqrt=False`` the denominators are ``sqrt(.) + eps`` (PyTorch's form).

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule.
        decay: moving-average decay, in [0, 1).
        eps: > 0.
        initial_scale: ``v_0``, >= 0.
        eps_in_sqrt: put ``eps`` inside the square root (optax) or, when False, outside
            (PyTorch).
        centered: use the moving standard deviation (:func:`scale_by_stddev`).
        momentum: None, or the momentum coefficient in [0, 1].
        nesterov: Nesterov form of the momentum.
        bias_correction: divide ``v_t`` by ``1 - decay**t`` as Adam does (refused with
            ``centered``, whose first variance would then be 0).

    Returns:
        A :class:`GradientTransformation` (a :func:`chain`).

    Reference: Tieleman & Hinton 2012; Graves 2013 (centered).

    Examples:
        >>> import numpy as np
        >>> opt = rmsprop(0.1, decay=0.75)
        >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]   # -0.1 * 2 / sqrt(1 + eps)
        array([-0.2])
    """
    if centered:
        block = scale_by_stddev(decay, eps, initial_scale, eps_in_sqrt, bias_correction)
    else:
        block = scale_by_rms(decay, eps, initial_scale, eps_in_sqrt, bias_correction)
    last = trace(momentum, nesterov) if momentum is not None else identity()
    tx = chain(block, scale_by_learning_rate(learning_rate), last)
    if centered or momentum is not None:
        return tx
    decay = float(decay)  # (as scale_by_rms takes it: a NumPy float32 would round 1 - decay**t)
    keep = 1.0 - decay

    def leaf(p, g, moments, c, bufs):
        v, = moments
        keep_, decay_, eps_, correction, neg_lr = c
        mul, add = np.multiply, np.add
        u = mul(g, g, bufs[0])               # v_t = decay * v_{t-1} + (1 - decay) * g_t**2
        mul(u, keep_, u)
        mul(v, decay_, v)
        add(v, u, v)
        mul(v, correction, u)                # vhat = v_t / (1 - decay**t), or v_t
        if eps_in_sqrt:                      # d_t = g_t / sqrt(vhat + eps)
            add(u, eps_, u)
            np.sqrt(u, u)
        else:                                # d_t = g_t / (sqrt(vhat) + eps)
            np.sqrt(u, u)
            add(u, eps_, u)
        np.divide(g, u, u)
        mul(u, neg_lr, u)
        add(p, u, p)

    def one(p, g, moments, c, bufs):
        v, = moments
        keep_, decay_, eps_, correction, neg_lr = c
        g_ = g.item()
        v_ = v.item() * decay_ + g_ * g_ * keep_
        u = v_ * correction
        u = math.sqrt(u + eps_) if eps_in_sqrt else math.sqrt(u) + eps_
        u = g_ / u * neg_lr
        return _written(p, p.item() + u, u, bufs, v, v_)

    def step_constants(t, neg_lr):
        return (1.0 / (1.0 - decay ** t) if bias_correction else 1.0), neg_lr

    def states(state):
        if len(state) != 3 or not isinstance(state[0], ScaleByRmsState):
            return None
        return state[0].count + 1, (state[0].nu,)

    def rebuild(state, t, lr_state):
        return _new_state(ScaleByRmsState, (t, state[0].nu)), lr_state, state[2]

    return _fused_kernel(tx, leaf, learning_rate, states, rebuild, (keep, decay, eps),
                         step_constants, one_step=one)


def adam(learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
         eps_root: float = 0.0, mu_dtype=None, *, nesterov: bool = False) -> GradientTransformation:
    """Adam: ``chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
    scale_by_learning_rate(learning_rate))``, i.e. (``t = 1, 2, ...``; elementwise)::

        m_t = b1 * m_{t-1} + (1 - b1) * g_t
        v_t = b2 * v_{t-1} + (1 - b2) * g_t**2
        u_t = -lr * (m_t / (1 - b1**t)) / (sqrt(v_t / (1 - b2**t) + eps_root) + eps)

    ``eps`` is outside the square root and applied to the bias-corrected ``v`` (paper, optax,
    PyTorch). See :func:`scale_by_adam` for the Nesterov form (:func:`nadam`).

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule.
        b1: decay of the first moment, in [0, 1).
        b2: decay of the second moment, in [0, 1).
        eps: added outside the square root, > 0 (may be 0 if ``eps_root > 0``).
        eps_root: added inside the square root, >= 0.
        mu_dtype: dtype of the first moment (None: the parameters').
        nesterov: use Nesterov momentum (:func:`nadam`).

    Returns:
        A :class:`GradientTransformation` (a :func:`chain`).

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.

    Examples:
        >>> from gradkit.optim import apply_updates
        >>> import numpy as np
        >>> opt = adam(0.1)
        >>> params = {"w": np.array([1.0, 1.0])}
        >>> updates, state = opt.update({"w": np.array([2.0, -0.01])}, opt.init(params))
        >>> apply_updates(params, updates)["w"].round(6)   # the first step is -lr * sign(g)
        array([0.9, 1.1])
    """
    tx = chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
               scale_by_learning_rate(learning_rate))
    if mu_dtype is None and not nesterov:
        _fused_adam(tx, learning_rate, b1, b2, eps, eps_root, 0.0, 2)
    return tx


def _fused_adam(tx, learning_rate, b1, b2, eps, eps_root, weight_decay, n):
    """Register the fused step (:func:`step`) of :func:`adam` / :func:`adamw`: the
    equations of :func:`scale_by_adam` (then ``+ weight_decay * p``, then ``* -lr``), in
    the order of operations of ``update``."""
    b1, b2, eps, eps_root = float(b1), float(b2), float(eps), float(eps_root)
    keep1, keep2 = 1.0 - b1, 1.0 - b2
    decays = n == 3  # adamw's chain adds weight_decay * p, even a 0 (inf * 0 is NaN)
    mul, add, sqrt, divide = np.multiply, np.add, np.sqrt, np.divide

    def leaf(p, g, moments, c, bufs):
        m, v = moments
        u, w = bufs
        keep1_, b1_, keep2_, b2_, eps_root_, eps_, decay_, c2, c1, neg_lr = c
        mul(g, keep1_, u)                 # m_t = b1 m_{t-1} + (1 - b1) g_t
        mul(m, b1_, m)
        add(m, u, m)
        mul(g, g, u)                      # v_t = b2 v_{t-1} + (1 - b2) g_t**2
        mul(u, keep2_, u)
        mul(v, b2_, v)
        add(v, u, v)
        mul(v, c2, u)                     # vhat = v_t / (1 - b2**t)
        if eps_root:                      # (+ 0.0 changes no bit of a v >= 0)
            add(u, eps_root_, u)
        sqrt(u, u)                        # sqrt(vhat + eps_root) + eps
        add(u, eps_, u)
        mul(m, c1, w)                     # mhat = m_t / (1 - b1**t)
        divide(w, u, u)                   # mhat / (...)
        if decays:
            mul(p, decay_, w)
            add(u, w, u)
        mul(u, neg_lr, u)
        add(p, u, p)

    def one(p, g, moments, c, bufs):
        m, v = moments
        keep1_, b1_, keep2_, b2_, eps_root_, eps_, decay_, c2, c1, neg_lr = c
        g_, p_ = g.item(), p.item()
        m_ = m.item() * b1_ + g_ * keep1_
        v_ = v.item() * b2_ + g_ * g_ * keep2_
        u = v_ * c2
        if eps_root:
            u += eps_root_
        u = m_ * c1 / (math.sqrt(u) + eps_)
        if decays:
            u += p_ * decay_
        u *= neg_lr
        return _written(p, p_ + u, u, bufs, m, m_, v, v_)

    def step_constants(t, neg_lr):
        return 1.0 / (1.0 - b2 ** t), 1.0 / (1.0 - b1 ** t), neg_lr

    def states(state):  # (adam's, [weight decay's,] learning rate's)
        if len(state) != n or not isinstance(state[0], ScaleByAdamState):
            return None
        a = state[0]
        return a.count + 1, (a.mu, a.nu)

    def rebuild(state, t, lr_state):
        a = state[0]
        adam_state = _new_state(ScaleByAdamState, (t, a.mu, a.nu))
        if n == 2:
            return adam_state, lr_state
        return adam_state, *state[1:n - 1], lr_state

    return _fused_kernel(tx, leaf, learning_rate, states, rebuild,
                         (keep1, b1, keep2, b2, eps_root, eps, weight_decay), step_constants,
                         lr_index=n - 1, one_step=one)


def adamw(learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
          eps_root: float = 0.0, mu_dtype=None, weight_decay: float = 1e-4, mask=None, *,
          nesterov: bool = False) -> GradientTransformation:
    """AdamW, Adam with decoupled weight decay::

        u_t = -lr * (adam_direction_t + weight_decay * p_{t-1})

    with ``adam_direction_t`` as in :func:`adam`; that is ``chain(scale_by_adam(...),
    add_decayed_weights(weight_decay, mask), scale_by_learning_rate(learning_rate))``.
    The decay is multiplied by the learning rate, as in optax and PyTorch (the paper
    multiplies it by the schedule multiplier only: ``weight_decay`` here equals the paper's
    ``lambda / alpha``). The default ``weight_decay=1e-4`` is optax's (PyTorch: 1e-2).

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule.
        b1: decay of the first moment, in [0, 1).
        b2: decay of the second moment, in [0, 1).
        eps: added outside the square root, > 0 (may be 0 if ``eps_root > 0``).
        eps_root: added inside the square root, >= 0.
        mu_dtype: dtype of the first moment (None: the parameters').
        weight_decay: >= 0.
        mask: which parameters to decay, see :func:`add_decayed_weights`.
        nesterov: use Nesterov momentum in the Adam direction.

    Returns:
        A :class:`GradientTransformation` (a :func:`chain`; its ``update`` needs ``params``).

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.

    Examples:
        >>> import numpy as np
        >>> opt = adamw(0.1, weight_decay=0.5)
        >>> params = np.array([2.0])
        >>> opt.update(np.array([1.0]), opt.init(params), params)[0]   # -0.1 * (1 + 0.5 * 2)
        array([-0.2])
    """
    tx = chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
               add_decayed_weights(weight_decay, mask),
               scale_by_learning_rate(learning_rate))
    if mu_dtype is None and not nesterov and mask is None:
        _fused_adam(tx, learning_rate, b1, b2, eps, eps_root, float(weight_decay), 3)
    return tx


def adamax(learning_rate, b1: float = 0.9, b2: float = 0.999,
           eps: float = 1e-8) -> GradientTransformation:
    """Adamax, Adam with the infinity norm: ``chain(scale_by_adamax(b1, b2, eps),
    scale_by_learning_rate(learning_rate))``, i.e. (elementwise)::

        m_t = b1 * m_{t-1} + (1 - b1) * g_t
        v_t = max(b2 * v_{t-1}, |g_t| + eps)
        u_t = -lr * m_t / ((1 - b1**t) * v_t)

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule.
        b1: decay of the first moment, in [0, 1).
        b2: decay of the infinity norm, in [0, 1).
        eps: > 0, keeps ``v_t`` away from zero.

    Returns:
        A :class:`GradientTransformation` (a :func:`chain`).

    Reference: Kingma & Ba, ICLR 2015, section 7.1.

    Examples:
        >>> import numpy as np
        >>> opt = adamax(0.1)
        >>> opt.update(np.array([-3.0]), opt.init(np.zeros(1)))[0]
        array([0.1])
    """
    return chain(scale_by_adamax(b1, b2, eps), scale_by_learning_rate(learning_rate))


def nadam(learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
          eps_root: float = 0.0, mu_dtype=None) -> GradientTransformation:
    """NAdam, Adam with Nesterov momentum: ``adam(..., nesterov=True)``, i.e.::

        m_t = b1 * m_{t-1} + (1 - b1) * g_t
        v_t = b2 * v_{t-1} + (1 - b2) * g_t**2
        mhat = b1 * m_t / (1 - b1**(t+1)) + (1 - b1) * g_t / (1 - b1**t)
        u_t = -lr * mhat / (sqrt(v_t / (1 - b2**t) + eps_root) + eps)

    As optax and PyTorch (without PyTorch's momentum decay schedule, ``momentum_decay``), and
    without the extra ``b2`` factor of Dozat's Algorithm 2.

    Args:
        learning_rate: ``lr``, a number >= 0 or a schedule.
        b1: decay of the first moment, in [0, 1).
        b2: decay of the second moment, in [0, 1).
        eps: added outside the square root, > 0 (may be 0 if ``eps_root > 0``).
        eps_root: added inside the square root, >= 0.
        mu_dtype: dtype of the first moment (None: the parameters').

    Returns:
        A :class:`GradientTransformation` (a :func:`chain`).


    Reference: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR workshop 2016.

    Examples:
        >>> import numpy as np
        >>> opt = nadam(0.1)
        >>> u = opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
        >>> round(float(u[0]), 6)   # -0.1 * (0.9 * 0.2 / 0.19 + 0.1 * 2 / 0.1) / 2
        -0.147368
    """
    return adam(learning_rate, b1, b2, eps, eps_root, mu_dtype, nesterov=True)
