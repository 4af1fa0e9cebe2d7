"""Gradient transformations in the optax style: building blocks, named optimizers, chain.

An optimizer is a :class:`GradientTransformation`, a pair of pure functions::

    state = opt.init(params)
    updates, state = opt.update(grads, state, params, **extra_args)
    params = apply_updates(params, updates)

or, where the caller owns the parameters and the state (a training loop), in place in one
fused pass per array: ``params, state, updates = step(opt, params, grads, state)``.

(``**extra_args``, such as ``value=loss``, only for a :class:`GradientTransformationExtraArgs`;
every named optimizer and every :func:`chain` is one.) ``updates`` are *added* to the
parameters, so a descent step carries the minus sign (it is put there by
:func:`scale_by_learning_rate`). Named optimizers are short :func:`chain` s of building
blocks, exactly as in optax, and follow optax's equations and defaults; blocks without state
are :func:`stateless`. Everything works leafwise on pytrees (see :mod:`gradkit.tree`); arrays
are created with ``*_like`` functions so that the same code runs on CuPy arrays, and
hyperparameters are kept as Python floats so that float32 parameters stay float32.

>>> import numpy as np
>>> opt = chain(clip_by_global_norm(1.0), adam(learning_rate=0.1))
>>> params = {"w": np.array([1.0, -1.0])}
>>> state = opt.init(params)
>>> updates, state = opt.update({"w": np.array([3.0, -4.0])}, state, params)
>>> apply_updates(params, updates)["w"]
array([ 0.9, -0.9])
>>> current_learning_rate(state)
0.1
"""
from __future__ import annotations

import math
import weakref
from typing import Any, Callable, NamedTuple

import numpy as np

from gradkit.tree import tree_flatten, tree_leaves, tree_map, tree_unflatten

__all__ = [
    # the protocol and composition
    "GradientTransformation", "GradientTransformationExtraArgs", "with_extra_args_support",
    "chain", "apply_updates", "step", "current_learning_rate", "global_norm",
    # helpers for writing blocks
    "init_empty_state", "stateless",
    # building blocks
    "identity", "scale", "scale_by_learning_rate", "scale_by_schedule", "trace",
    "scale_by_adam", "scale_by_adamax", "scale_by_rss", "scale_by_rms", "scale_by_stddev",
    "clip", "clip_by_norm", "clip_by_global_norm", "add_decayed_weights", "reduce_on_plateau",
    # named optimizers
    "sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam",
    # states
    "EmptyState", "ScaleByLearningRateState", "ScaleByScheduleState", "TraceState",
    "ScaleByAdamState", "ScaleByRssState", "ScaleByRmsState", "ScaleByRStdDevState",
    "ReduceLROnPlateauState",
]

Schedule = Callable[[int], float]


class GradientTransformation(NamedTuple):
    """An optimizer or a building block: ``init(params) -> state`` and
    ``update(updates, state, params=None) -> (updates, state)``.

    A plain ``GradientTransformation`` takes no other arguments: :func:`chain`,
    :func:`gradkit.optim.run` and the estimators call its ``update`` as
    ``update(updates, state, params)`` and keep extra keyword arguments such as ``value=loss``
    from it (even when its ``update`` happens to accept ``**kwargs``: the kind is read from
    the type, never from the signature). A transformation that needs them is a
    :class:`GradientTransformationExtraArgs`. So a user-written
    ``GradientTransformation(init, update)`` keeps working wherever extras are passed;
    :func:`with_extra_args_support` makes it callable with them on its own.

    >>> import numpy as np
    >>> halve = GradientTransformation(init_empty_state, lambda u, s, p=None: (u / 2, s))
    >>> opt = chain(halve, reduce_on_plateau())
    >>> opt.update(np.ones(1), opt.init(None), value=1.0)[0]   # value= reaches only the plateau
    array([0.5])
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple]


class GradientTransformationExtraArgs(GradientTransformation):
    """A :class:`GradientTransformation` whose ``update`` takes extra keyword arguments::

        update(updates, state, params=None, **extra_args) -> (updates, state)

    It reads the ones it knows (:func:`reduce_on_plateau` reads ``value=``) and ignores the
    rest, so one call can feed every block of a :func:`chain`. Being a subclass, it is
    accepted wherever a ``GradientTransformation`` is; :func:`chain` returns one.

    >>> import numpy as np
    >>> def update(updates, state, params=None, *, value=None, **extra_args):
    ...     return updates * value, state
    >>> tx = GradientTransformationExtraArgs(init_empty_state, update)
    >>> tx.update(np.ones(1), tx.init(None), value=3.0, unused="ignored")[0]
    array([3.])
    """

    __slots__ = ()


class EmptyState(NamedTuple):
    """The state of a stateless transformation."""


def init_empty_state(params) -> EmptyState:
    """The ``init`` of every transformation without state: ignore ``params``, return
    ``EmptyState()``.

    >>> init_empty_state({"w": 1.0})
    EmptyState()
    """
    return EmptyState()


def stateless(f: Callable[[Any, Any], Any]) -> GradientTransformation:
    """A transformation without state from ``f(updates, params) -> new updates``.

    ``init`` is :func:`init_empty_state`; ``update(updates, state, params=None)`` returns
    ``(f(updates, params), state)``. ``params`` is None when the caller gives none.

    >>> import numpy as np
    >>> double = stateless(lambda updates, params: 2.0 * updates)
    >>> double.update(np.array([1.0, -3.0]), double.init(None))
    (array([ 2., -6.]), EmptyState())
    """

    def update(updates, state, params=None):
        return f(updates, params), state

    return GradientTransformation(init_empty_state, update)


def with_extra_args_support(tx: GradientTransformation) -> GradientTransformationExtraArgs:
    """``tx`` itself when it is a :class:`GradientTransformationExtraArgs`; otherwise ``tx``
    with an ``update`` that accepts extra keyword arguments and drops them before calling
    ``tx.update(updates, state, params)``.

    >>> import numpy as np
    >>> tx = with_extra_args_support(scale(2.0))
    >>> tx.update(np.ones(1), tx.init(None), value=1.0)[0]
    array([2.])
    >>> with_extra_args_support(tx) is tx
    True
    """
    if isinstance(tx, GradientTransformationExtraArgs):
        return tx
    plain = tx.update

    def update(updates, state, params=None, **extra_args):
        return plain(updates, state, params)

    return GradientTransformationExtraArgs(tx.init, update)


# ---------------------------------------------------------------------------------------------
# helpers

def _check(name: str, value, ok: Callable[[Any], bool], requirement: str) -> float:
    """Return ``float(value)`` or raise ValueError naming the hyperparameter and its value."""
    try:
        good = bool(ok(value))
    except TypeError:
        good = False
    if not good or isinstance(value, bool):
        raise ValueError(f"{name} must be {requirement}, got {value!r}.")
    return float(value)


def _check_unit(name, value, *, closed: bool = False) -> float:
    if closed:
        return _check(name, value, lambda v: 0.0 <= v <= 1.0, "in [0, 1]")
    return _check(name, value, lambda v: 0.0 <= v < 1.0, "in [0, 1)")


def _check_nonneg(name, value) -> float:
    return _check(name, value, lambda v: 0.0 <= v < math.inf, "a finite number >= 0")


def _check_positive(name, value) -> float:
    return _check(name, value, lambda v: 0.0 < v < math.inf, "a finite number > 0")


def _check_learning_rate(learning_rate):
    if callable(learning_rate):
        return learning_rate
    return _check("learning_rate", learning_rate, lambda v: 0.0 <= v < math.inf,
                  "a finite number >= 0 or a schedule (a function step -> learning rate)")


def _moment(decay: float, order: int) -> Callable:
    """The leaf rule of an exponential moving average of the ``order``-th power of the
    gradients, ``(g_t, m_{t-1}) -> m_t``::

        m_t = (1 - decay) * g_t**order + decay * m_{t-1}        (order 1 or 2)

    Adam's, RMSProp's and centered RMSProp's moments are all this rule; each block builds
    its rules once, when it is made, not at every step."""
    keep = 1.0 - decay
    if order == 1:
        return lambda g, m: keep * g + decay * m
    return lambda g, m: keep * (g * g) + decay * m


def _zeros_like(tree, dtype=None):
    return tree_map(lambda p: np.zeros_like(p, dtype=dtype), tree)


def _full_like(tree, value: float):
    return tree_map(lambda p: np.full_like(p, value), tree)


# ---------------------------------------------------------------------------------------------
# composition


def chain(*transforms: GradientTransformation) -> GradientTransformationExtraArgs:
    """Compose transformations: the updates of each feed the next, left to right.

    With ``T_1, ..., T_k = transforms`` and ``u^0 = g``::

        u^i, s_i' = T_i.update(u^{i-1}, s_i, params[, **extra_args]),   i = 1..k
        update(g, (s_1, ..., s_k), params, **extra_args) = (u^k, (s_1', ..., s_k'))

    The state is the tuple of the states of ``transforms``. Extra keyword arguments (such as
    ``value=loss`` for :func:`reduce_on_plateau`) go to every
    :class:`GradientTransformationExtraArgs` among ``transforms`` and to none of the plain
    :class:`GradientTransformation` s (see :func:`with_extra_args_support`); which is which
    is read from their type, once, here.

    Args:
        *transforms: the :class:`GradientTransformation` s, applied in order.

    Returns:
        A :class:`GradientTransformationExtraArgs`.

    Raises:
        TypeError: when an argument is not a GradientTransformation.
        ValueError: at ``update`` when the state does not have one entry per transformation.

    >>> import numpy as np
    >>> opt = chain(clip(1.0), scale(-0.5))   # clip first, then scale
    >>> updates, _ = opt.update({"w": np.array([4.0, 0.5])}, opt.init(None))
    >>> updates["w"]
    array([-0.5 , -0.25])
    """
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(f"chain: argument {i} is a {type(t).__name__}, not a "
                            "GradientTransformation; build it with a gradkit.optim function.")
    inits = tuple(t.init for t in transforms)
    updates_fns = tuple(t.update for t in transforms)
    # with_extra_args_support's rule, read once here rather than wrapped around every plain
    # block: a wrapper would cost a call per block per training step
    takes_extra = tuple(isinstance(t, GradientTransformationExtraArgs) for t in transforms)

    def init(params):
        return tuple(fn(params) for fn in inits)

    def update(updates, state, params=None, **extra_args):
        if len(state) != len(updates_fns):
            raise ValueError(f"chain: the state has {len(state)} entries but the chain has "
                             f"{len(updates_fns)} transformations; pass the state that this "
                             "chain's init returned.")
        new_state = []
        if extra_args:
            for fn, s, extra in zip(updates_fns, state, takes_extra):
                updates, s = (fn(updates, s, params, **extra_args) if extra
                              else fn(updates, s, params))
                new_state.append(s)
        else:
            for fn, s in zip(updates_fns, state):
                updates, s = fn(updates, s, params)
                new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformationExtraArgs(init, update)


def _apply_one(p, u):
    r = p + u
    if type(p) is np.ndarray and type(r) is np.ndarray:  # the hot case, attributes direct
        dtype = p.dtype
        return r if r.dtype is dtype else r.astype(dtype, copy=False)
    dtype = getattr(p, "dtype", None)  # None: a Python number as parameter
    return r if dtype is None or r.dtype is dtype else r.astype(dtype, copy=False)


def _apply_updates(params, updates):
    """The functional ``params + updates`` of :func:`apply_updates`."""
    if type(params) is dict and type(updates) is dict and params.keys() == updates.keys():
        # parameter dicts (nested or not) of arrays, without a call per leaf; a dict of
        # layers' dicts (a Sequential's parameters) without a call per layer
        out = {}
        for k, p in params.items():
            u = updates[k]
            if type(p) is np.ndarray and type(u) is np.ndarray:
                r = p + u
                out[k] = r if r.dtype is p.dtype else r.astype(p.dtype, copy=False)
            elif type(p) is dict and type(u) is dict and p.keys() == u.keys():
                inner = out[k] = {}
                for k2, p2 in p.items():
                    u2 = u[k2]
                    if type(p2) is np.ndarray and type(u2) is np.ndarray:
                        r = p2 + u2
                        inner[k2] = r if r.dtype is p2.dtype else r.astype(p2.dtype, copy=False)
                    else:
                        inner[k2] = _apply_updates(p2, u2)
            else:
                out[k] = _apply_updates(p, u)
        return out
    return tree_map(_apply_one, params, updates)


def _inplace_leaves(params, *trees):
    """The leaves of ``params`` and of each tree in ``trees`` when all are float NumPy
    arrays of matching shapes and ``params``' leaves are writable, else None (a case for the
    functional path)."""
    flat = type(params) is dict
    if flat:
        keys = params.keys()
        for v in params.values():
            if type(v) is not np.ndarray:  # nested: the tree walk below
                flat = False
                break
        for t in trees if flat else ():
            if type(t) is not dict or t.keys() != keys:
                flat = False
                break
    if flat:  # a parameter dict, aligned by key without a tree walk
        out = [list(params.values())]
        for t in trees:
            out.append([t[k] for k in keys])
    else:
        leaves, structure = tree_flatten(params)
        out = [leaves]
        for tree in trees:
            other, other_structure = tree_flatten(tree)
            if other_structure != structure:  # never pair the leaves of different trees
                return None
            out.append(other)
    for group in zip(*out):
        p = group[0]
        if type(p) is not np.ndarray or p.dtype.kind != "f" or not p.flags.writeable:
            return None
        for a in group[1:]:
            if type(a) is not np.ndarray or a.shape != p.shape or a.dtype != p.dtype:
                return None
    return out


def apply_updates(params, updates, *, inplace: bool = False):
    """Return ``params + updates`` leafwise, keeping the dtype of each parameter.

    With ``inplace=True`` the sum is written into ``params``' own arrays (``p += u``, the
    same rounding) and ``params`` is returned: for a caller that owns them, such as a
    training loop; leaves that are not writable float NumPy arrays of the updates' shape
    and dtype make it fall back to the functional sum for the whole tree.

    Raises ValueError when the two pytrees have different structures.

    >>> import numpy as np
    >>> apply_updates({"w": np.ones(2, np.float32)}, {"w": np.full(2, -0.5)})["w"]
    array([0.5, 0.5], dtype=float32)
    >>> p = {"w": np.ones(2)}
    >>> apply_updates(p, {"w": np.full(2, -0.5)}, inplace=True) is p, p["w"]
    (True, array([0.5, 0.5]))
    """
    if inplace:
        both = _inplace_leaves(params, updates)
        if both is not None:
            for p, u in zip(*both):
                p += u
            return params
    return _apply_updates(params, updates)


#: ``tx.update -> kernel``: the fused in-place step of each named optimizer (see :func:`step`)
_FUSED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def step(tx: GradientTransformation, params, grads, state, **extra_args):
    """One optimizer step applied in place: ``params += u`` where ``u, state =
    tx.update(grads, state, params, **extra_args)``; returns ``(params, state, u)``.

    For the caller that owns ``params`` and ``state`` (a training loop), as PyTorch's fused
    optimizers: ``params``' arrays and the state's moment arrays are overwritten, so the
    ``state`` passed in must not be used again, and ``u`` is a buffer of the optimizer,
    valid until its next step. :func:`sgd`, :func:`momentum`, :func:`rmsprop` (not
    centered), :func:`adam` and :func:`adamw` (without ``mu_dtype``, not Nesterov) run as
    one fused kernel per parameter array: their moments and the parameters are updated in
    place with no temporary arrays beyond two scratch buffers per parameter kept by the
    optimizer, computing the documented equations with the same floating-point operations
    in the same order as ``update``, so the result is bit-identical to
    ``apply_updates(params, tx.update(grads, state, params)[0])`` (tested). Any other
    transformation (a :func:`chain` of blocks, a schedule, clipping, ...) or parameters
    that are not writable float NumPy arrays take ``tx.update`` and
    ``apply_updates(..., inplace=True)``.

    >>> import numpy as np
    >>> opt = adam(0.1)
    >>> params = {"w": np.array([1.0, 1.0])}
    >>> params, state, u = step(opt, params, {"w": np.array([2.0, -0.01])}, opt.init(params))
    >>> params["w"].round(6)
    array([0.9, 1.1])
    """
    try:
        kernel = _FUSED.get(tx.update)
    except TypeError:  # an update that cannot be weakly referenced is no named optimizer
        kernel = None
    if kernel is not None:
        done = kernel(params, grads, state)
        if done is not None:
            updates, state = done
            return params, state, updates
    if extra_args:
        updates, state = with_extra_args_support(tx).update(grads, state, params, **extra_args)
    else:
        updates, state = tx.update(grads, state, params)
    return apply_updates(params, updates, inplace=True), state, updates


def _fused_kernel(tx, leaf_step, learning_rate, states, lr_index=1):
    """Register the fused step of the named optimizer ``tx`` (a :func:`chain` whose state is
    ``(block state, ..., ScaleByLearningRateState[, ...])``).

    ``leaf_step(p, g, moments, t, lr_factor, scratch)`` updates one parameter array ``p`` and
    its moment arrays in place and returns its update buffer; ``states(state)`` gives
    ``(t, moment trees, rebuild)`` (or None for a state of another shape), where
    ``rebuild(t, new learning-rate state)`` is the new chain state; ``state[lr_index]`` is
    the :class:`ScaleByLearningRateState`."""
    learning_rate = _check_learning_rate(learning_rate)
    schedule = learning_rate if callable(learning_rate) else None
    scratch: dict = {}

    def kernel(params, grads, state):
        parts = states(state) if type(state) is tuple else None
        if parts is None:  # not this optimizer's state: the functional path says why
            return None
        t, moments, rebuild = parts
        leaves = _inplace_leaves(params, grads, *moments)
        if leaves is None:
            return None
        lr_state = state[lr_index]
        lr = float(schedule(lr_state.count)) if schedule is not None else lr_state.learning_rate
        updates = []
        for i, (p, g, *m) in enumerate(zip(*leaves)):
            bufs = scratch.get(i)
            if bufs is None or bufs[0].shape != p.shape or bufs[0].dtype != p.dtype:
                bufs = scratch[i] = (np.empty_like(p), np.empty_like(p))
            updates.append(leaf_step(p, g, m, t, -lr, bufs))
        new_lr = ScaleByLearningRateState(lr_state.count + 1, lr)
        return _unflatten_like(params, updates), rebuild(t, new_lr)

    _FUSED[tx.update] = kernel
    return tx


def _unflatten_like(tree, leaves):
    """``leaves`` put back in ``tree``'s structure (internal)."""
    if type(tree) is dict:
        for v in tree.values():
            if type(v) is not np.ndarray:
                break
        else:
            return dict(zip(tree, leaves))
    return tree_unflatten(tree_flatten(tree)[1], leaves)


def global_norm(tree) -> float:
    """The Euclidean norm of all the leaves of ``tree`` taken together, as a Python float.

    >>> import numpy as np
    >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
    5.0
    """
    return math.sqrt(sum(float(np.vdot(x, x).real) for x in tree_leaves(tree)))


# ---------------------------------------------------------------------------------------------
# scaling


def identity() -> GradientTransformation:
    """Pass updates through unchanged: ``u_t = g_t``.

    >>> identity().update([1.0], EmptyState())
    ([1.0], EmptyState())
    """
    return stateless(lambda updates, params: updates)


def scale(step_size: float) -> GradientTransformation:
    """Multiply updates by a constant: ``u_t = step_size * g_t``.

    >>> import numpy as np
    >>> scale(-2.0).update(np.array([1.0, 3.0]), EmptyState())[0]
    array([-2., -6.])
    """
    step_size = _check("step_size", step_size, math.isfinite, "a finite number")

    def mul(g):
        return g * step_size

    return stateless(lambda updates, params: tree_map(mul, updates))


class ScaleByScheduleState(NamedTuple):
    """``count``: steps taken; ``step_size``: the multiplier used at the last step
    (before the first step, the one the first step will use)."""

    count: int
    step_size: float


class ScaleByLearningRateState(NamedTuple):
    """``count``: steps taken; ``learning_rate``: the (positive) learning rate used at the last
    step (before the first step, the one the first step will use)."""

    count: int
    learning_rate: float


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
    """``trace``: the momentum buffer, one array per parameter."""

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
    """``count``: steps taken; ``mu``: first moment; ``nu``: second moment (Adam) or
    infinity norm (Adamax)."""

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

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.

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

    def update(updates, state, params=None):
        t = state.count + 1
        mu = tree_map(first, updates, state.mu)
        nu = tree_map(second, updates, state.nu)
        c2 = 1.0 / (1.0 - b2 ** t)
        if nesterov:
            cm, cg = b1 / (1.0 - b1 ** (t + 1)), (1.0 - b1) / (1.0 - b1 ** t)
            out = tree_map(lambda m, v, g: (cm * m + cg * g) / (np.sqrt(v * c2 + eps_root) + eps),
                       mu, nu, updates)
        else:
            c1 = 1.0 / (1.0 - b1 ** t)
            out = tree_map(lambda m, v: (m * c1) / (np.sqrt(v * c2 + eps_root) + eps), mu, nu)
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

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, sec. 7.1.

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
    """``sum_of_squares``: the running sum of squared gradients (AdaGrad's accumulator)."""

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

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011.

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
    """``count``: steps taken; ``nu``: the moving average of squared gradients."""

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

    Reference: Tieleman & Hinton, "Lecture 6.5 - RMSProp", COURSERA: Neural Networks for
    Machine Learning, 2012.

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
    """``count``: steps taken; ``mu``: moving average of gradients; ``nu``: of their squares."""

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
        (mhat, vhat = m_t / (1 - decay**t), v_t / (1 - decay**t) if bias_correction)
        u_t = g_t / sqrt(vhat - mhat**2 + eps)      (eps_in_sqrt=True)
        u_t = g_t / (sqrt(vhat - mhat**2) + eps)    (eps_in_sqrt=False)

    Args: as :func:`scale_by_rms`.

    Reference: Graves, "Generating Sequences With Recurrent Neural Networks", 2013, eq. 38.

    >>> import numpy as np
    >>> tx = scale_by_stddev(decay=0.5)
    >>> tx.update(np.array([2.0]), tx.init(np.zeros(1)))[0].round(6)   # 2 / sqrt(2 - 1**2)
    array([2.])
    """
    decay = _check_unit("decay", decay)
    eps = _check_positive("eps", eps)
    initial = _check_nonneg("initial_scale", initial_scale)

    first, second = _moment(decay, 1), _moment(decay, 2)

    def init(params):
        return ScaleByRStdDevState(0, _zeros_like(params), _full_like(params, initial))

    def update(updates, state, params=None):
        t = state.count + 1
        mu = tree_map(first, updates, state.mu)
        nu = tree_map(second, updates, state.nu)
        c = 1.0 / (1.0 - decay ** t) if bias_correction else 1.0
        if eps_in_sqrt:
            out = tree_map(lambda g, m, v: g / np.sqrt(v * c - (m * c) ** 2 + eps), updates, mu, nu)
        else:
            out = tree_map(lambda g, m, v: g / (np.sqrt(v * c - (m * c) ** 2) + eps),
                       updates, mu, nu)
        return out, ScaleByRStdDevState(t, mu, nu)

    return GradientTransformation(init, update)


# ---------------------------------------------------------------------------------------------
# clipping and weight decay


def clip(max_delta: float) -> GradientTransformation:
    """Clip each update coordinate to ``[-max_delta, max_delta]`` (gradient clipping by value).

    ``u_t = min(max(g_t, -max_delta), max_delta)`` elementwise; ``max_delta >= 0``.

    >>> import numpy as np
    >>> clip(1.0).update(np.array([-3.0, 0.5, 2.0]), EmptyState())[0]
    array([-1. ,  0.5,  1. ])
    """
    max_delta = _check_nonneg("max_delta", max_delta)

    def one(g):
        return np.clip(g, -max_delta, max_delta)

    return stateless(lambda updates, params: tree_map(one, updates))


def _clip_factor(norm: float, max_norm: float) -> float:
    return 1.0 if norm <= max_norm else max_norm / norm


def clip_by_norm(max_norm: float) -> GradientTransformation:
    """Rescale each leaf separately so that its Euclidean norm is at most ``max_norm``.

    ``u = g * min(1, max_norm / ||g||)`` for every leaf ``g`` (PyTorch's ``clip_grad_norm_``
    applied per tensor). See :func:`clip_by_global_norm` for one norm over all leaves.

    >>> import numpy as np
    >>> tx = clip_by_norm(1.0)
    >>> u, _ = tx.update({"a": np.array([3.0, 4.0]), "b": np.array([0.5])}, EmptyState())
    >>> u["a"], u["b"]
    (array([0.6, 0.8]), array([0.5]))
    """
    max_norm = _check_positive("max_norm", max_norm)

    def one(g):
        return g * _clip_factor(float(np.sqrt(np.vdot(g, g).real)), max_norm)

    return stateless(lambda updates, params: tree_map(one, updates))


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Rescale all updates together so that their global norm is at most ``max_norm``.

    ``u = g * min(1, max_norm / ||g||)`` where ``||g||`` is :func:`global_norm` of the whole
    pytree (Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural
    networks", ICML 2013).

    >>> import numpy as np
    >>> tx = clip_by_global_norm(1.0)
    >>> u, _ = tx.update({"a": np.array([3.0]), "b": np.array([4.0])}, EmptyState())
    >>> u["a"], u["b"]
    (array([0.6]), array([0.8]))
    """
    max_norm = _check_positive("max_norm", max_norm)

    def rescale(updates, params):
        factor = _clip_factor(global_norm(updates), max_norm)
        if factor == 1.0:
            return updates
        return tree_map(lambda g: g * factor, updates)

    return stateless(rescale)


def add_decayed_weights(weight_decay: float = 0.0, mask=None) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates (decoupled weight decay when placed after
    the adaptive scaling, as in :func:`adamw`; L2 regularization when placed first).

    ``u_t = g_t + weight_decay * p_t`` for the leaves where ``mask`` is True, ``u_t = g_t``
    elsewhere.

    Args:
        weight_decay: >= 0.
        mask: None (decay everything), a pytree of bools with the structure of the
            parameters, or a function ``params -> that pytree`` (e.g. to skip biases).

    Raises:
        ValueError: when ``weight_decay`` is negative, or at ``update`` when ``params`` is
            not given.

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


# ---------------------------------------------------------------------------------------------
# reduce on plateau


class ReduceLROnPlateauState(NamedTuple):
    """``scale``: the factor applied to the updates; ``best_value``: best (averaged) loss seen;
    ``plateau_count``: evaluations since the last improvement; ``cooldown_count``: evaluations
    left in cooldown; ``count`` and ``avg_value``: the loss values accumulated so far."""

    scale: float
    best_value: float
    plateau_count: int
    cooldown_count: int
    count: int
    avg_value: float


def reduce_on_plateau(factor: float = 0.1, patience: int = 10, rtol: float = 1e-4,
                      atol: float = 0.0, cooldown: int = 0, accumulation_size: int = 1,
                      min_scale: float = 0.0) -> GradientTransformationExtraArgs:
    """Scale updates down by ``factor`` when the loss stops improving (optax.contrib's rule).

    Call ``update(updates, state, params, value=loss)``. Every ``accumulation_size`` calls, the
    mean ``v`` of the values received is compared with the best so far::

        improved  = v < (1 - rtol) * best - atol
        if improved: best = v, plateau_count = 0
        else:        plateau_count += 1
        if in cooldown: cooldown_count -= 1, plateau_count = 0
        elif plateau_count == patience:
            scale = max(scale * factor, min_scale), plateau_count = 0,
            cooldown_count = cooldown
        u_t = scale * g_t

    Place it after the optimizer: ``chain(adam(1e-3), reduce_on_plateau())``; the effective
    learning rate (see :func:`current_learning_rate`) is then ``1e-3 * scale``.

    Args:
        factor: in (0, 1), the multiplier applied on a plateau.
        patience: number of non-improving evaluations before reducing, >= 0.
        rtol, atol: relative and absolute improvement needed, >= 0, not both 0.
        cooldown: evaluations to wait after a reduction before counting again, >= 0.
        accumulation_size: number of values averaged into one evaluation, >= 1.
        min_scale: the scale never goes below this, >= 0.

    Like PyTorch's ``ReduceLROnPlateau(mode="min", threshold_mode="rel")``.

    >>> import numpy as np
    >>> tx = reduce_on_plateau(factor=0.5, patience=1)
    >>> state = tx.init(None)
    >>> for loss in [1.0, 1.0]:
    ...     u, state = tx.update(np.ones(1), state, value=loss)
    >>> state.scale
    0.5
    """
    factor = _check(name="factor", value=factor, ok=lambda v: 0.0 < v < 1.0,
                    requirement="in (0, 1)")
    patience = int(_check("patience", patience, lambda v: v >= 0 and v == int(v),
                          "an integer >= 0"))
    cooldown = int(_check("cooldown", cooldown, lambda v: v >= 0 and v == int(v),
                          "an integer >= 0"))
    accumulation_size = int(_check("accumulation_size", accumulation_size,
                                   lambda v: v >= 1 and v == int(v), "an integer >= 1"))
    rtol, atol = _check_nonneg("rtol", rtol), _check_nonneg("atol", atol)
    if rtol == 0.0 and atol == 0.0:
        raise ValueError("rtol and atol are both 0, so any tiny decrease counts as an "
                         "improvement; set at least one of them > 0.")
    min_scale = _check_nonneg("min_scale", min_scale)

    def init(params):
        return ReduceLROnPlateauState(1.0, math.inf, 0, 0, 0, 0.0)

    def evaluate(state, v):
        scale_, best, plateau, cool = state.scale, state.best_value, state.plateau_count, \
            state.cooldown_count
        if v < (1.0 - rtol) * best - atol:
            best, plateau = v, 0
        else:
            plateau += 1
        if cool > 0:
            cool, plateau = cool - 1, 0
        elif plateau == patience:
            scale_, plateau, cool = max(scale_ * factor, min_scale), 0, cooldown
        return ReduceLROnPlateauState(scale_, best, plateau, cool, 0, 0.0)

    def update(updates, state, params=None, *, value=None, **extra_args):
        if value is None:
            raise ValueError("reduce_on_plateau needs the loss: call "
                             "update(grads, state, params, value=loss).")
        n = state.count + 1
        avg = (state.count * state.avg_value + float(value)) / n
        state = (evaluate(state, avg) if n == accumulation_size
                 else state._replace(count=n, avg_value=avg))
        s = state.scale
        return (updates if s == 1.0 else tree_map(lambda g: g * s, updates)), state

    return GradientTransformationExtraArgs(init, update)


def current_learning_rate(state) -> float | None:
    """The learning rate that the last step used, read from an optimizer's state.

    It is the product of the learning rates of all :func:`scale_by_learning_rate` blocks in
    the state (or, when there are none, the step sizes of :func:`scale_by_schedule` blocks),
    times the scales of all :func:`reduce_on_plateau` blocks. Before the first step it is
    the rate the first step will use. Returns None when the state holds no learning rate.

    >>> import numpy as np
    >>> opt = adam(0.01)
    >>> current_learning_rate(opt.init({"w": np.zeros(2)}))
    0.01
    """
    rates: list[float] = []
    steps: list[float] = []
    scales: list[float] = []

    def walk(s):
        if isinstance(s, ScaleByLearningRateState):
            rates.append(s.learning_rate)
        elif isinstance(s, ScaleByScheduleState):
            steps.append(s.step_size)
        elif isinstance(s, ReduceLROnPlateauState):
            scales.append(s.scale)
        elif isinstance(s, (tuple, list)):
            for c in s:
                walk(c)
        elif isinstance(s, dict):
            for c in s.values():
                walk(c)

    walk(state)
    found = rates or steps
    if not found:
        return None
    return math.prod(found) * math.prod(scales)


# ---------------------------------------------------------------------------------------------
# named optimizers


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

    References: Robbins & Monro 1951; Polyak 1964; Sutskever et al., ICML 2013.

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
        def leaf(p, g, moments, t, neg_lr, bufs):
            u = np.multiply(g, neg_lr, out=bufs[0])
            p += u
            return u

        def states(state):
            if len(state) != 2 or not isinstance(state[1], ScaleByLearningRateState):
                return None
            return 0, (), lambda t, lr_state: (state[0], lr_state)

        return _fused_kernel(tx, leaf, learning_rate, states)
    if accumulator_dtype is None:
        decay = float(momentum)

        def leaf(p, g, moments, t, neg_lr, bufs):
            m, = moments
            m *= decay          # m_t = g_t + decay * m_{t-1}
            m += g
            if nesterov:        # u_t = -lr * (g_t + decay * m_t)
                u = np.multiply(m, decay, out=bufs[0])
                u += g
                u *= neg_lr
            else:               # u_t = -lr * m_t
                u = np.multiply(m, neg_lr, out=bufs[0])
            p += u
            return u

        def states(state):
            if len(state) != 2 or not isinstance(state[0], TraceState):
                return None
            tr = state[0].trace
            return 0, (tr,), lambda t, lr_state: (state[0], lr_state)

        return _fused_kernel(tx, leaf, learning_rate, states)
    return tx


def momentum(learning_rate, beta: float = 0.9, nesterov: bool = False) -> GradientTransformation:
    """SGD with heavy-ball (or Nesterov) momentum: ``sgd(learning_rate, momentum=beta,
    nesterov=nesterov)``; the equations are those of :func:`sgd`.

    Reference: Polyak, "Some methods of speeding up the convergence of iteration methods",
    1964.

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

    Reference: Duchi, Hazan & Singer, JMLR 2011.

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
        decay, eps, initial_scale, eps_in_sqrt, bias_correction: see :func:`scale_by_rms`.
        centered: use the moving standard deviation (:func:`scale_by_stddev`).
        momentum: None, or the momentum coefficient in [0, 1].
        nesterov: Nesterov form of the momentum.

    Reference: Tieleman & Hinton 2012; Graves 2013 (centered).

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
    keep = 1.0 - decay

    def leaf(p, g, moments, t, neg_lr, bufs):
        v, = moments
        u = np.multiply(g, g, out=bufs[0])   # v_t = decay * v_{t-1} + (1 - decay) * g_t**2
        u *= keep
        v *= decay
        v += u
        np.multiply(v, 1.0 / (1.0 - decay ** t) if bias_correction else 1.0, out=u)
        if eps_in_sqrt:                      # d_t = g_t / sqrt(vhat + eps)
            u += eps
            np.sqrt(u, out=u)
        else:                                # d_t = g_t / (sqrt(vhat) + eps)
            np.sqrt(u, out=u)
            u += eps
        np.divide(g, u, out=u)
        u *= neg_lr
        p += u
        return u

    def states(state):
        if len(state) != 3 or not isinstance(state[0], ScaleByRmsState):
            return None
        rms = state[0]
        return (rms.count + 1, (rms.nu,),
                lambda t, lr_state: (ScaleByRmsState(t, rms.nu), lr_state, state[2]))

    return _fused_kernel(tx, leaf, learning_rate, states)


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
        b1, b2: moment decays in [0, 1).
        eps: > 0; eps_root: >= 0.
        mu_dtype: dtype of the first moment (None: the parameters').

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.

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

    def leaf(p, g, moments, t, neg_lr, bufs):
        m, v = moments
        u, w = bufs
        np.multiply(g, keep1, out=u)      # m_t = b1 m_{t-1} + (1 - b1) g_t
        m *= b1
        m += u
        np.multiply(g, g, out=u)          # v_t = b2 v_{t-1} + (1 - b2) g_t**2
        u *= keep2
        v *= b2
        v += u
        np.multiply(v, 1.0 / (1.0 - b2 ** t), out=u)
        if eps_root:                       # (+ 0.0 changes no bit of a v >= 0)
            u += eps_root
        np.sqrt(u, out=u)                 # sqrt(vhat + eps_root) + eps
        u += eps
        np.multiply(m, 1.0 / (1.0 - b1 ** t), out=w)
        np.divide(w, u, out=u)            # mhat / (...)
        if weight_decay:
            np.multiply(p, weight_decay, out=w)
            u += w
        u *= neg_lr
        p += u
        return u

    def states(state):  # (adam's, [weight decay's,] learning rate's)
        if len(state) != n or not isinstance(state[0], ScaleByAdamState):
            return None
        a = state[0]
        return (a.count + 1, (a.mu, a.nu),
                lambda t, lr_state: (ScaleByAdamState(t, a.mu, a.nu), *state[1:n - 1],
                                     lr_state))

    return _fused_kernel(tx, leaf, learning_rate, states, lr_index=n - 1)


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
        b1, b2, eps, eps_root, mu_dtype, nesterov: see :func:`adam`.
        weight_decay: >= 0.
        mask: which parameters to decay, see :func:`add_decayed_weights`.

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.

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

    Reference: Kingma & Ba, ICLR 2015, section 7.1.

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

    Reference: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR workshop 2016.

    >>> import numpy as np
    >>> opt = nadam(0.1)
    >>> u = opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
    >>> round(float(u[0]), 6)   # -0.1 * (0.9 * 0.2 / 0.19 + 0.1 * 2 / 0.1) / 2
    -0.147368
    """
    return adam(learning_rate, b1, b2, eps, eps_root, mu_dtype, nesterov=True)
