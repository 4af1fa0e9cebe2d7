"""Gradient transformations in the optax style: building blocks, named optimizers, chain.

This module gathers the family, which lives by kind as in optax: :mod:`.base` (the
protocol, :func:`chain`, :func:`apply_updates`, :func:`step`), :mod:`.scaling` (step sizes,
momentum, the adaptive scalings, weight decay), :mod:`.clipping`, :mod:`.plateau`
(reduce-on-plateau, :func:`current_learning_rate`) and :mod:`.aliases` (the named
optimizers); every name is importable from here and from :mod:`gradkit.optim`.

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

from . import aliases, base, clipping, plateau, scaling
from .aliases import *  # noqa: F401,F403
from .base import *  # noqa: F401,F403
from .clipping import *  # noqa: F401,F403
from .plateau import *  # noqa: F401,F403
from .scaling import *  # noqa: F401,F403

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
