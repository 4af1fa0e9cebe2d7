"""Optimization: gradient transformations (optax style) and full-batch solvers (scipy style).

- :mod:`.transforms`: ``sgd``, ``momentum``, ``adagrad``, ``rmsprop``, ``adam``, ``adamw``, ...
  as ``GradientTransformation(init, update)`` chains of small blocks.
- :mod:`.schedules`: learning rates as functions of the step.
"""
from . import schedules, transforms
from .schedules import *  # noqa: F401,F403
from .schedules import __all__ as _schedules_all
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all

__all__ = ["schedules", "transforms", *_transforms_all, *_schedules_all]
