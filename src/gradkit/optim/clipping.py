"""Gradient clipping: by value (:func:`clip`), by the norm of each array
(:func:`clip_by_norm`) and by the global norm of all of them (:func:`clip_by_global_norm`,
Pascanu et al. 2013), the remedy for exploding gradients.
"""
from __future__ import annotations

import numpy as np

from gradkit.tree import tree_map

from .base import GradientTransformation, _check_nonneg, _check_positive, global_norm, stateless

__all__ = ["clip", "clip_by_norm", "clip_by_global_norm"]


# ---------------------------------------------------------------------------------------------
# clipping and weight decay


def clip(max_delta: float) -> GradientTransformation:
    """Clip each update coordinate to ``[-max_delta, max_delta]`` (gradient clipping by value).

    ``u_t = min(max(g_t, -max_delta), max_delta)`` elementwise; ``max_delta >= 0``.

    Args:
        max_delta: the largest absolute value an update coordinate keeps, >= 0.

    Returns:
        A stateless :class:`GradientTransformation`.

    Raises:
        ValueError: when ``max_delta`` is negative or not finite.

    Examples:
        >>> from gradkit.optim import EmptyState
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

    Args:
        max_norm: the largest Euclidean norm a leaf keeps, > 0.

    Returns:
        A stateless :class:`GradientTransformation`.

    Raises:
        ValueError: when ``max_norm`` is not a finite number > 0.

    Examples:
        >>> from gradkit.optim import EmptyState
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

    Args:
        max_norm: the largest global norm the updates keep, > 0.

    Returns:
        A stateless :class:`GradientTransformation`.

    Raises:
        ValueError: when ``max_norm`` is not a finite number > 0.


    Examples:
        >>> from gradkit.optim import EmptyState
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
