"""Reduce-on-plateau (the learning rate cut when the loss stops falling, fed ``value=loss``)
and :func:`current_learning_rate`, which reads the rate a step used from any optimizer's state.
"""
from __future__ import annotations

import math
from typing import NamedTuple

from gradkit.tree import tree_map

from .base import (GradientTransformationExtraArgs, ScaleByLearningRateState,
                   ScaleByScheduleState, _check, _check_nonneg)

__all__ = ["reduce_on_plateau", "current_learning_rate", "ReduceLROnPlateauState"]


# ---------------------------------------------------------------------------------------------
# reduce on plateau


class ReduceLROnPlateauState(NamedTuple):
    """The state of :func:`reduce_on_plateau`.

    Attributes:
        scale: the factor applied to the updates.
        best_value: the best (averaged) loss seen.
        plateau_count: evaluations since the last improvement.
        cooldown_count: evaluations left in cooldown.
        count: the loss values accumulated since the last evaluation.
        avg_value: their mean.

    Examples:
        >>> reduce_on_plateau().init(None)
        ReduceLROnPlateauState(scale=1.0, best_value=inf, plateau_count=0, cooldown_count=0,
                               count=0, avg_value=0.0)
    """


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

    The count is optax's: the scale is cut at the ``patience``-th evaluation in a row without
    improvement. PyTorch's ``ReduceLROnPlateau(mode="min", threshold_mode="rel")`` cuts at
    the ``patience + 1``-th (it waits for more than ``patience`` bad epochs), so its
    ``patience=p`` is ``patience=p + 1`` here. ``patience=0`` (optax's rule taken literally)
    cuts after every evaluation *that improves* and never on a plateau; it is kept for
    optax's code, and is rarely what is meant.

    Args:
        factor: in (0, 1), the multiplier applied on a plateau.
        patience: the number of evaluations in a row without improvement at which the
            scale is cut, >= 0 (see above for 0 and for PyTorch's count).
        rtol: relative improvement needed, >= 0 (``rtol`` and ``atol`` not both 0).
        atol: absolute improvement needed, >= 0.
        cooldown: evaluations to wait after a reduction before counting again, >= 0.
        accumulation_size: number of values averaged into one evaluation, >= 1.
        min_scale: the scale never goes below this, >= 0.

    Returns:
        A :class:`GradientTransformationExtraArgs` whose state is a
        :class:`ReduceLROnPlateauState`; its ``update`` needs ``value=loss``.

    Raises:
        ValueError: when a hyperparameter is out of its range, when ``rtol`` and ``atol``
            are both 0, and at ``update`` when no ``value=`` is passed.

    Examples:
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
    the rate the first step will use.

    Args:
        state: the state of an optimizer (any nesting of tuples, lists and dicts of states).

    Returns:
        The learning rate as a Python float, or None when the state holds no learning rate.

    Examples:
        >>> from gradkit.optim import adam
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
