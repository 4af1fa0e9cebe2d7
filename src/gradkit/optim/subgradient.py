"""The subgradient method with diminishing steps, for non-smooth objectives (hinge, L1)."""
from __future__ import annotations

import math

import numpy as np

from .minimize import inf_norm

__all__ = ["minimize_subgradient"]

_SCHEDULES = {"sqrt": lambda a, k: a / math.sqrt(k + 1.0),
              "harmonic": lambda a, k: a / (k + 1.0)}


def minimize_subgradient(objective, x, monitor, *, learning_rate=1.0, schedule="sqrt",
                         normalize=False):
    r"""Subgradient method: :math:`x_{k+1} = x_k - a_k g_k`, g_k any subgradient.

    The engine returns the minimum-norm subgradient at kinks (``|x|'(0) = 0``,
    ``relu'(0) = 0``). Steps diminish: :math:`a_k = a / \sqrt{k + 1}` (``schedule="sqrt"``)
    or :math:`a / (k + 1)` (``"harmonic"``), or any ``schedule(k) -> a_k``; with
    ``normalize=True`` the step is :math:`a_k g_k / \|g_k\|_2`. f does not decrease
    monotonically, so the best point seen is what the result returns (f at the best point
    converges to f* for convex f with :math:`\sum a_k = \infty`, :math:`\sum a_k^2 < \infty`
    or the sqrt rule, at rate :math:`O(1/\sqrt{k})`).

    Options: ``learning_rate`` (a), ``schedule``, ``normalize``. ``learning_rate`` may also
    be a pytree shaped like ``x0`` (or a flat array): a base step per coordinate, a fixed
    diagonal preconditioner ``D`` (:math:`x_{k+1} = x_k - a_k D g_k`, the same method in the
    metric of :math:`D^{-1}`), which the linear models use to suit each feature's scale.

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        learning_rate: a, the base step (a number, or one per coordinate: see above).
        schedule: ``"sqrt"``, ``"harmonic"`` or a function ``k -> a_k``.
        normalize: divide each step by :math:`\|g_k\|_2`.

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: np.sum(np.abs(x - 1.0)), np.zeros(2), method="subgradient",
        ...              learning_rate=0.5, max_iter=500)
        >>> bool(r.fun < 1e-2)
        True
    """
    scale = None  # (a per-coordinate rate: the rates over their largest)
    if not isinstance(learning_rate, (int, float, np.number)):
        flat = isinstance(learning_rate, np.ndarray) and learning_rate.shape == x.shape
        rates = np.asarray(learning_rate if flat else objective.ravel(learning_rate),
                           dtype=np.float64)
        if rates.shape != x.shape or not np.all(np.isfinite(rates)) or not np.all(rates > 0):
            raise ValueError(f"learning_rate per coordinate must be finite numbers > 0, one per "
                             f"entry of x0 ({x.size}); got shape {rates.shape}.")
        learning_rate = float(rates.max())
        scale = rates / learning_rate
    if callable(schedule):
        step_of = lambda k: float(schedule(k))  # noqa: E731
    elif schedule in _SCHEDULES:
        step_of = lambda k: _SCHEDULES[schedule](learning_rate, k)  # noqa: E731
    else:
        raise ValueError(f"schedule must be 'sqrt', 'harmonic' or a function of the "
                         f"iteration, got {schedule!r}.")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}.")
    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, inf_norm(g))
    k = 0
    while stop is None:
        a = step_of(k)
        d = g if scale is None else scale * g
        if normalize:
            gn = math.sqrt(float(d @ d))
            a = a / gn if gn > 0 else 0.0
        x = x - a * d
        f, g = objective.value_and_grad(x)
        k += 1
        stop = monitor.step(x, f, inf_norm(g), a)
    return stop
