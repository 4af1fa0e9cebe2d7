"""The gradient-transformation protocol and its core: the types, :func:`chain`,
:func:`apply_updates`, the in-place :func:`step` (with the fused kernels the named optimizers
register) and :func:`global_norm`.

Every other module of the family builds on this one: :mod:`.scaling` (the building blocks
that rescale gradients), :mod:`.clipping`, :mod:`.plateau` (reduce-on-plateau and the
current learning rate) and :mod:`.aliases` (the named optimizers). :mod:`.transforms` is the
one place to import them all from.
"""
from __future__ import annotations

import math
from functools import partial
from operator import is_
from typing import Any, Callable, NamedTuple

import numpy as np

from gradkit.tree import tree_flatten, tree_leaves, tree_map, tree_unflatten

__all__ = ["GradientTransformation", "GradientTransformationExtraArgs", "with_extra_args_support",
           "chain", "apply_updates", "step", "global_norm", "init_empty_state", "stateless",
           "EmptyState", "ScaleByLearningRateState", "ScaleByScheduleState", "Schedule"]

#: A learning rate as a function of the step count (see :mod:`gradkit.optim.schedules`).
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

    Attributes:
        init: ``init(params) -> state``, the state before the first step.
        update: ``update(updates, state, params=None) -> (updates, state)``, one step.

    Examples:
        >>> from gradkit.optim import reduce_on_plateau
        >>> import numpy as np
        >>> halve = GradientTransformation(init_empty_state, lambda u, s, p=None: (u / 2, s))
        >>> opt = chain(halve, reduce_on_plateau())
        >>> opt.update(np.ones(1), opt.init(None), value=1.0)[0]   # value= reaches the plateau
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

    Attributes:
        init: ``init(params) -> state``, the state before the first step.
        update: ``update(updates, state, params=None, **extra_args) -> (updates, state)``.

    Examples:
        >>> import numpy as np
        >>> def update(updates, state, params=None, *, value=None, **extra_args):
        ...     return updates * value, state
        >>> tx = GradientTransformationExtraArgs(init_empty_state, update)
        >>> tx.update(np.ones(1), tx.init(None), value=3.0, unused="ignored")[0]
        array([3.])
    """

    __slots__ = ()


class EmptyState(NamedTuple):
    """The state of a stateless transformation.

    Examples:
        >>> from gradkit.optim import clip
        >>> clip(1.0).init({"w": 0.0})
        EmptyState()
    """


def init_empty_state(params) -> EmptyState:
    """The ``init`` of every transformation without state: ignore ``params``, return
    ``EmptyState()``.

    Args:
        params: the parameters (ignored).

    Returns:
        ``EmptyState()``.

    Examples:
        >>> init_empty_state({"w": 1.0})
        EmptyState()
    """
    return EmptyState()


def stateless(f: Callable[[Any, Any], Any]) -> GradientTransformation:
    """A transformation without state from ``f(updates, params) -> new updates``.

    ``init`` is :func:`init_empty_state`; ``update(updates, state, params=None)`` returns
    ``(f(updates, params), state)``. ``params`` is None when the caller gives none.

    Args:
        f: ``f(updates, params) -> new updates``, a pure function of the update pytree.

    Returns:
        A :class:`GradientTransformation` whose state is :class:`EmptyState`.

    Examples:
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

    Args:
        tx: a :class:`GradientTransformation`.

    Returns:
        A :class:`GradientTransformationExtraArgs` with ``tx``'s ``init``.

    Examples:
        >>> from gradkit.optim import scale
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
# the learning-rate states (read by the fused step and by current_learning_rate)

class ScaleByScheduleState(NamedTuple):
    """The state of :func:`scale_by_schedule`.

    Attributes:
        count: steps taken.
        step_size: the multiplier used at the last step (before the first step, the one the
            first step will use).

    Examples:
        >>> from gradkit.optim import scale_by_schedule
        >>> scale_by_schedule(lambda t: 0.5 ** t).init(None)
        ScaleByScheduleState(count=0, step_size=1.0)
    """

    count: int
    step_size: float


class ScaleByLearningRateState(NamedTuple):
    """The state of :func:`scale_by_learning_rate`.

    Attributes:
        count: steps taken.
        learning_rate: the (positive) learning rate used at the last step (before the first
            step, the one the first step will use).

    Examples:
        >>> from gradkit.optim import scale_by_learning_rate
        >>> scale_by_learning_rate(0.1).init(None)
        ScaleByLearningRateState(count=0, learning_rate=0.1)
    """

    count: int
    learning_rate: float



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

    Examples:
        >>> from gradkit.optim import clip, scale
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
    """``(leaves, structure)``: the leaves of ``params`` and of each tree in ``trees``, one
    list per tree, and ``params``' tree structure (None for a flat dict of arrays, whose
    leaves are its values in order), when all are float NumPy arrays of matching shapes and
    ``params``' leaves are writable; else None (a case for the functional path)."""
    out = structure = None
    if type(params) is dict:  # a parameter dict, aligned by key without a tree walk
        out = [list(params.values())]
        for tree in trees:
            if type(tree) is not dict or tree.keys() != params.keys():
                out = None
                break
            out.append(list(map(tree.__getitem__, params)))
    if out is not None:
        for p in out[0]:
            if type(p) is not np.ndarray:  # nested: the tree walk below
                out = None
                break
    if out is None:
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
        shape, dtype = p.shape, p.dtype
        for a in group:
            if type(a) is not np.ndarray or a.shape != shape or a.dtype != dtype:
                return None
    return out, structure


def apply_updates(params, updates, *, inplace: bool = False):
    """Return ``params + updates`` leafwise, keeping the dtype of each parameter.

    With ``inplace=True`` the sum is written into ``params``' own arrays (``p += u``, the
    same rounding) and ``params`` is returned: for a caller that owns them, such as a
    training loop; leaves that are not writable float NumPy arrays of the updates' shape
    and dtype make it fall back to the functional sum for the whole tree.

    Args:
        params: the parameter pytree.
        updates: a pytree of the same structure (what an optimizer's ``update`` returns).
        inplace: write the sum into ``params``' arrays when they allow it.

    Returns:
        The new parameters (``params`` itself when written in place).

    Raises:
        ValueError: when the two pytrees have different structures.

    Examples:
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
            for p, u in zip(*both[0]):
                p += u
            return params
    return _apply_updates(params, updates)


#: ``_new_state(cls, fields)`` is ``cls(*fields)`` for a NamedTuple ``cls``, the same object,
#: without the Python-level ``__new__`` that NamedTuple generates (it costs about 0.2 us, and
#: a fused step makes two states)
_new_state = tuple.__new__

#: The attribute of a named optimizer's ``update`` function that holds its fused in-place
#: step (see :func:`step`; an attribute of the function, read in about 50 ns, where a weak
#: dictionary keyed by it took about 250 ns of a 10 us step at 1e3 floats)
FUSED_STEP = "_gradkit_fused_step"


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

    Args:
        tx: the optimizer.
        params: the parameter pytree, updated in place where it can be.
        grads: the gradients, a pytree of ``params``' structure.
        state: ``tx``'s state (not to be used again afterwards).
        **extra_args: extra keyword arguments of ``update`` (such as ``value=loss``).

    Returns:
        ``(params, state, updates)``: the new parameters, the new state and the updates
        that were added.

    Examples:
        >>> from gradkit.optim import adam
        >>> import numpy as np
        >>> opt = adam(0.1)
        >>> params = {"w": np.array([1.0, 1.0])}
        >>> params, state, u = step(opt, params, {"w": np.array([2.0, -0.01])}, opt.init(params))
        >>> params["w"].round(6)
        array([0.9, 1.1])
    """
    update = tx.update
    fused = getattr(update, FUSED_STEP, None)  # (owner, kernel): not a copy functools.wraps
    kernel = fused[1] if fused is not None and fused[0] is update else None  # made of it
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


class _Plan(NamedTuple):
    """What a fused kernel checked and made for one tree of parameters (see
    :func:`_fused_kernel`): the arguments of ``leaf_step`` but the gradients, one list each."""

    arrays: tuple  # the parameters' arrays, then each moment tree's (checked by identity)
    params: list
    moments: list  # per leaf, its moment arrays
    constants: list  # per leaf, its dtype's 0-d constants (a one-element leaf's: floats)
    scratch: list  # per leaf, its two scratch arrays, the first holding the update
    steps: list  # per dtype, the array behind the step's constants
    updates: list  # per leaf, its update (the first scratch array)
    structure: Any  # the parameters' tree structure (None: a flat dict)
    calls: Any  # per leaf, the step that updates it; None: leaf_step for every leaf
    floats: Any  # the one-element leaves' Python-float constants (a list), or None


def _fused_kernel(tx, leaf_step, learning_rate, states, rebuild, constants=(),
                  step_constants=None, lr_index=1, one_step=None):
    """Register the fused step of the named optimizer ``tx`` (a :func:`chain` whose state is
    ``(block state, ..., ScaleByLearningRateState[, ...])``).

    ``leaf_step(p, g, moments, c, scratch)`` updates one parameter array ``p`` and its moment
    arrays in place, leaving its update in ``scratch[0]``, with ``c`` the optimizer's
    ``constants`` followed by ``step_constants(t, -lr)`` (default ``(-lr,)``), Python floats
    given as 0-d arrays of ``p``'s dtype: a ufunc converts a Python number operand at every
    call (about 0.2 us of the 0.55 us of ``g * 0.9`` at 1e3 floats) and a 0-d array not at
    all, while the value is the same (NEP 50: a Python float operand takes the array's
    dtype), so is every rounding. ``states(state)`` gives ``(t, moment trees)`` (or None for
    a state of another shape), and ``rebuild(state, t, new learning-rate state)`` the new
    chain state; ``state[lr_index]`` is the :class:`ScaleByLearningRateState`.

    ``one_step`` (optional) is ``leaf_step`` for a one-element float64 leaf (a model's
    intercept), with ``c`` as Python floats: Python's float arithmetic is IEEE double
    arithmetic, so the same operations in the same order give the same bits, at about
    50 ns each, where NumPy takes its slow path for an in-place ufunc on one element (a
    stride-0 operand that is also the output: about 0.8 us a call instead of 0.25 us; 14
    calls an Adam step). It reads every value first (``.item()``) and writes only at the
    end (``.fill``), and only when every new value is finite (it returns True): anything
    else, and wherever Python raises instead of giving an inf or a NaN (a division by zero,
    the square root of a negative number), is left to ``leaf_step`` from the leaf's start,
    so NumPy's warnings, its ``errstate`` and its NaN bits stay as they are. (Python's
    arithmetic does not see ``errstate``, nor does it raise on an underflow to a subnormal
    number that ``np.errstate(under="raise")`` would stop.)

    A step is the leaves' arithmetic and a few microseconds of Python (at 1e3 floats the
    arithmetic is about 6 us): the checks of a known plan (below), two state tuples, one
    update dict. Keep it so."""
    learning_rate = _check_learning_rate(learning_rate)
    schedule = learning_rate if callable(learning_rate) else None
    constants = tuple(float(c) for c in constants)
    scratch: dict = {}  # leaf index -> its two scratch arrays
    # dtype -> (c, the step's slots): 0-d arrays made once, the step's ones views of one
    # array that each step writes in one assignment
    coefficients: dict = {}
    # The plan of the last flat dict of parameters whose arrays and moment dicts passed the
    # checks (it keeps those arrays, so that no other array can take their ids). When the
    # very same arrays come back (the in-place loop; compared by identity, in C, in one
    # pass), only the gradients, new at every step, and the parameters' writability are
    # checked again.
    planned: list = [None]
    n_constants = len(constants)
    float64 = np.dtype(np.float64)

    def one_leaf(arrays, p, g, moments, floats, bufs):  # (arrays: the leaf's 0-d constants)
        try:
            if one_step(p, g, moments, floats, bufs):
                return
        except (ZeroDivisionError, ValueError):  # (x / 0, math.sqrt of a negative)
            pass
        leaf_step(p, g, moments, arrays, bufs)

    def known_plan(params, grads, moments):
        """``(plan, gradient leaves)`` when ``params`` and ``moments`` hold the arrays of the
        last plan; None for a new plan; False for the functional path (bad gradients)."""
        plan = planned[0]
        if plan is None or type(params) is not dict or type(grads) is not dict:
            return None
        P = plan.params
        n = len(P)
        seen = [*params.values()]
        for m in moments:
            if type(m) is not dict or len(m) != n:
                return None
            seen += m.values()
        # every moment dict has n arrays, so the lengths agree when params has n too
        if len(seen) != len(plan.arrays) or not all(map(is_, seen, plan.arrays)):
            return None
        try:  # as many keys as params and each of params': the same keys
            G = list(map(grads.__getitem__, params))
        except KeyError:
            return False
        if len(grads) != n:
            return False
        for p, g, u in zip(P, G, plan.updates):
            if (type(g) is not np.ndarray or g.shape != p.shape
                    or (g.dtype is not p.dtype and g.dtype != p.dtype)
                    or not p.flags.writeable or g is u):  # (u: the last step's update buffer)
                return False
        return plan, G

    def new_plan(params, grads, moments, n_step):
        """``(plan, gradient leaves)``, or None for the functional path
        (:func:`_inplace_leaves`)."""
        found = _inplace_leaves(params, grads, *moments)
        if found is None:
            return None
        leaves, structure = found
        M, C, B, steps, calls = [], [], [], [], []
        floats = None
        for i, (p, g, *m) in enumerate(zip(*leaves)):
            dtype = p.dtype
            slot = coefficients.get(dtype)
            if slot is None:
                step = np.zeros(n_step, dtype)
                slot = coefficients[dtype] = (
                    tuple(np.array(v, dtype) for v in constants)
                    + tuple(step[j, ...] for j in range(step.shape[0])), step)
            if not any(slot[1] is step for step in steps):
                steps.append(slot[1])
            bufs = scratch.get(i)
            if bufs is None or bufs[0].shape != p.shape or bufs[0].dtype != dtype:
                bufs = scratch[i] = (np.empty_like(p), np.empty_like(p))
            M.append(tuple(m))
            B.append(bufs)
            if one_step is not None and p.size == 1 and dtype == float64:
                if floats is None:
                    floats = [*constants, *(0.0,) * n_step]  # (the step's: at every step)
                C.append(floats)
                calls.append(partial(one_leaf, slot[0]))
            else:
                C.append(slot[0])
                calls.append(leaf_step)
        plan = _Plan(tuple(a for tree in (leaves[0], *leaves[2:]) for a in tree), leaves[0],
                     M, C, B, steps, [b[0] for b in B], structure,
                     calls if floats is not None else None, floats)
        if structure is None:  # a flat dict, and so is every moment tree
            planned[0] = plan
        return plan, leaves[1]

    def kernel(params, grads, state):
        parts = states(state) if type(state) is tuple else None
        if parts is None:  # not this optimizer's state: the functional path says why
            return None
        t, moments = parts
        lr_state = state[lr_index]
        lr = float(schedule(lr_state.count)) if schedule is not None else learning_rate
        now = (-lr,) if step_constants is None else step_constants(t, -lr)
        found = known_plan(params, grads, moments)
        if found is None:
            found = new_plan(params, grads, moments, len(now))
        if not found:
            return None
        plan, G = found
        for step in plan.steps:
            step[...] = now  # (an index of ..., not of :, takes NumPy's fast path)
        if plan.calls is None:
            for _ in map(leaf_step, plan.params, G, plan.moments, plan.constants, plan.scratch):
                pass  # (map makes the calls from C)
        else:
            plan.floats[n_constants:] = now
            for leaf, *args in zip(plan.calls, plan.params, G, plan.moments, plan.constants,
                                   plan.scratch):
                leaf(*args)
        updates = (dict(zip(params, plan.updates)) if plan.structure is None
                   else tree_unflatten(plan.structure, plan.updates))
        new_lr = _new_state(ScaleByLearningRateState, (lr_state.count + 1, lr))
        return updates, rebuild(state, t, new_lr)

    setattr(tx.update, FUSED_STEP, (tx.update, kernel))  # (chain's update: its own function)
    return tx


def global_norm(tree) -> float:
    """The Euclidean norm of all the leaves of ``tree`` taken together, as a Python float.

    ``||g|| = sqrt(sum over leaves x of sum_i |x_i|**2)``.

    Args:
        tree: a pytree of arrays or numbers.

    Returns:
        The norm, a Python float.


    Examples:
        >>> import numpy as np
        >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
        5.0
    """
    return math.sqrt(sum(float(np.vdot(x, x).real) for x in tree_leaves(tree)))
