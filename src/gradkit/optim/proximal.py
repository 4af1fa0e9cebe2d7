"""Proximal gradient methods, ISTA and FISTA, for smooth + L1 / elastic-net objectives."""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_namespace
from ..tree import tree_leaves, tree_structure
from .minimize import inf_norm

__all__ = ["soft_threshold", "prox_elastic_net", "minimize_proximal"]


def soft_threshold(v, t):
    r"""The proximal operator of :math:`t\|x\|_1`: :math:`\mathrm{sign}(v)\max(|v| - t, 0)`.

    Entries with :math:`|v_i| \le t` become exactly 0.

    Args:
        v: the point, an array.
        t: the threshold :math:`t \ge 0` (a step size times the L1 weight).

    Returns:
        :math:`\mathrm{prox}_{t\|\cdot\|_1}(v)`, an array of ``v``'s shape.

    Examples:
        >>> soft_threshold(np.array([-2.0, 0.5, 3.0]), 1.0)
        array([-1.,  0.,  2.])
    """
    return np.sign(v) * np.maximum(abs(v) - t, 0.0)


def prox_elastic_net(v, t, l1, l2):
    r"""The proximal operator of :math:`t\sum_i(l_{1,i}|x_i| + \tfrac{l_{2,i}}{2}x_i^2)`:

    .. math:: \mathrm{prox}(v)_i = \mathrm{sign}(v_i)\max(|v_i| - t\,l_{1,i},\ 0)
              \,/\,(1 + t\,l_{2,i})

    ``l1`` and ``l2`` are numbers (the same weight for every coordinate) or arrays of
    per-coordinate weights >= 0 broadcastable to ``v``; a coordinate with zero weights is
    left as it is.

    Args:
        v: the point, an array.
        t: the step size :math:`t > 0`.
        l1: the L1 weights :math:`l_1`.
        l2: the L2 weights :math:`l_2`.

    Returns:
        The proximal point, an array of ``v``'s shape.

    Examples:
        >>> prox_elastic_net(np.array([3.0]), 1.0, 1.0, 1.0)
        array([1.])
        >>> prox_elastic_net(np.array([3.0, 3.0]), 1.0, np.array([1.0, 0.0]), 0.0)
        array([2., 3.])
    """
    out = soft_threshold(v, t * l1) if np.any(l1) else v
    return out / (1.0 + t * l2) if np.any(l2) else out


def _coordinate_weights(name, value, objective, x):
    """``l1`` / ``l2`` as the solver uses them: a float when every coordinate has the same
    weight, else one weight per coordinate of the flat ``x`` (on ``x``'s device)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not value >= 0:
            raise ValueError(f"{name} must be a number >= 0 or per-coordinate weights >= 0 in "
                             f"the structure of x0; got {name}={value!r}.")
        return float(value)
    x0 = objective.unravel(x)
    try:
        if objective.is_tree:
            if tree_structure(value) != tree_structure(x0):
                raise ValueError(f"{name} has the structure {tree_structure(value)!r} but x0 "
                                 f"has {tree_structure(x0)!r}")
            leaves = [np.broadcast_to(np.asarray(w, dtype=float), np.shape(p))
                      for w, p in zip(tree_leaves(value), tree_leaves(x0))]
            flat = np.concatenate([w.ravel() for w in leaves]) if leaves else np.zeros(0)
        else:
            flat = np.broadcast_to(np.asarray(value, dtype=float), x0.shape).ravel()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be a number >= 0, or weights >= 0 with the structure "
                         "of x0 (an array broadcastable to x0's shape, or a pytree like x0 "
                         f"whose leaves broadcast to its leaves); {exc}.") from None
    if not np.all(flat >= 0):  # NaN fails too
        raise ValueError(f"{name} must be a number >= 0 or per-coordinate weights >= 0; "
                         f"{name} has {int(np.sum(~(flat >= 0)))} negative or NaN weight(s).")
    if flat.size == 0 or np.all(flat == flat[0]):
        return float(flat[0]) if flat.size else 0.0
    return array_namespace(x).asarray(flat)


def _estimate_lipschitz(objective, x, g):
    gn = math.sqrt(float(g @ g))
    if gn == 0.0:
        return 1.0
    h = 1e-4 * max(1.0, math.sqrt(float(x @ x))) / gn
    _, g2 = objective.value_and_grad(x - h * g)
    diff = g2 - g
    return max(math.sqrt(float(diff @ diff)) / (h * gn), 1e-12)


def minimize_proximal(objective, x, monitor, *, l1=0.0, l2=0.0, accelerated=True,
                      lipschitz=None, restart=True):
    r"""ISTA / FISTA for :math:`F(x) = f(x) + \sum_i (l_{1,i}|x_i| + \tfrac{l_{2,i}}{2}x_i^2)`,
    f smooth.

    ``l1`` and ``l2`` are numbers (one weight for all coordinates: :math:`l_1\|x\|_1 +
    \tfrac{l_2}{2}\|x\|_2^2`) or per-coordinate weights >= 0 with the structure of ``x0``:
    an array broadcastable to ``x0``'s shape, or for a pytree ``x0`` a pytree of the same
    structure whose leaves (numbers or arrays) broadcast to its leaves. A weight of 0 leaves
    its coordinate unpenalized, as an intercept or bias should be:
    ``l1={"coef": 0.1, "intercept": 0.0}``.

    ISTA (``accelerated=False``): :math:`x_{k+1} = \mathrm{prox}_{1/L}(x_k - \nabla f(x_k)/L)`
    with :func:`prox_elastic_net`. FISTA (``accelerated=True``, Beck & Teboulle 2009): the
    prox step is taken from :math:`y_k = x_k + \frac{t_{k-1} - 1}{t_k}(x_k - x_{k-1})`,
    :math:`t_{k+1} = (1 + \sqrt{1 + 4 t_k^2}) / 2`; with ``restart=True`` momentum is reset
    when F increases (O'Donoghue & Candes 2015). L is found by backtracking (doubling until
    :math:`f(x^+) \le f(y) + \nabla f(y)^T(x^+ - y) + \tfrac{L}{2}\|x^+ - y\|^2`) from
    ``lipschitz`` or an estimate. The soft threshold gives exact zeros. The stopping measure
    is the gradient mapping :math:`L\|y - x^+\|_\infty` (0 exactly at a minimizer of F);
    ``fun`` and ``history["f"]`` are values of F.

    Options: ``l1``, ``l2`` (>= 0, numbers or per-coordinate weights), ``accelerated``,
    ``lipschitz``, ``restart``. The aliases ``method="ista"`` / ``"fista"`` set
    ``accelerated``.

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        l1: the L1 weights :math:`l_1` (a number or per-coordinate, >= 0).
        l2: the L2 weights :math:`l_2` (a number or per-coordinate, >= 0).
        accelerated: FISTA (True) or ISTA (False).
        lipschitz: the starting estimate of L (default: estimated).
        restart: reset the momentum when F increases.

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: 0.5 * np.sum((x - np.array([3.0, 0.5])) ** 2), np.zeros(2),
        ...              method="fista", l1=1.0)
        >>> r.x
        array([2., 0.])
        >>> r = minimize(lambda p: 0.5 * np.sum((p["w"] - 3.0) ** 2) + 0.5 * (p["b"] - 3.0) ** 2,
        ...              {"w": np.zeros(2), "b": 0.0}, method="fista", l1={"w": 1.0, "b": 0.0})
        >>> np.round(r.x["w"], 6), round(float(r.x["b"]), 6)  # the unpenalized "b" is not shrunk
        (array([2., 2.]), 3.0)
    """
    l1 = _coordinate_weights("l1", l1, objective, x)
    l2 = _coordinate_weights("l2", l2, objective, x)
    if lipschitz is not None and not lipschitz > 0:
        raise ValueError(f"lipschitz must be > 0, got {lipschitz!r}.")
    xp = array_namespace(x)
    has_l1, has_l2 = bool(np.any(l1)), bool(np.any(l2))

    def penalty(v):
        p = float(xp.sum(l1 * abs(v))) if has_l1 else 0.0
        return p + 0.5 * float(xp.sum(l2 * (v * v))) if has_l2 else p

    f, g = objective.value_and_grad(x)
    L = lipschitz if lipschitz is not None else _estimate_lipschitz(objective, x, g)
    F = f + penalty(x)
    x_plus = prox_elastic_net(x - g / L, 1.0 / L, l1, l2)
    stop = monitor.start(x, F, L * inf_norm(x - x_plus))
    y, fy, gy = x, f, g
    t = 1.0
    while stop is None:
        for _ in range(100):
            x_plus = prox_elastic_net(y - gy / L, 1.0 / L, l1, l2)
            diff = x_plus - y
            if accelerated:
                f_plus = objective.value(x_plus)
                g_plus = None
            else:
                f_plus, g_plus = objective.value_and_grad(x_plus)
            bound = fy + float(gy @ diff) + 0.5 * L * float(diff @ diff)
            if not math.isfinite(f_plus) or f_plus > bound + 1e-12 * abs(fy):
                L *= 2.0
                continue
            break
        gmap = L * inf_norm(diff)
        F_plus = f_plus + penalty(x_plus)
        if accelerated:
            if restart and F_plus > F:
                t_next, beta = 1.0, 0.0
            else:
                t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
                beta = (t - 1.0) / t_next
            y = x_plus + beta * (x_plus - x) if beta else x_plus
            t = t_next
            fy, gy = objective.value_and_grad(y)
        else:
            y, fy, gy = x_plus, f_plus, g_plus
        x, F = x_plus, F_plus
        stop = monitor.step(x, F, gmap, 1.0 / L)
    return stop
