"""The full-batch training loop: run a gradient transformation on f for a number of steps."""
from __future__ import annotations

import numbers
import time

import numpy as np

from .minimize import MAX_ITER, Monitor, Objective, OptimizeResult, _SUCCESS, inf_norm
from .transforms import GradientTransformation, apply_updates, current_learning_rate, \
    with_extra_args_support

__all__ = ["run"]


def run(optimizer, fun, x0, max_iter=1000, *, tol=0.0, value_and_grad=None, grad=None,
        callback=None, ftol=0.0, n_iter_no_change=None, record_path=False, jit=True):
    r"""Run an optax-style optimizer on :math:`f` with full-batch gradients from the engine.

    Each step is one evaluation of f and its gradient at the current point ``x_t``, then::

        updates, state = optimizer.update(grad f(x_t), state, x_t, value=f(x_t))
        x_{t+1} = apply_updates(x_t, updates)

    (``value=`` reaches only the blocks that take it, such as
    :func:`~gradkit.optim.transforms.reduce_on_plateau`; a plain
    :class:`~gradkit.optim.transforms.GradientTransformation` is called without it, see
    :func:`~gradkit.optim.transforms.with_extra_args_support`). The run shares
    :func:`minimize`'s stopping vocabulary and result: it stops after ``max_iter`` steps,
    when the gradient's inf-norm is <= ``tol``, after ``n_iter_no_change`` steps without a
    lower f, when ``callback(info)`` returns True (``info`` has ``x``, ``fun``,
    ``grad_norm``, ``nit``), or at the first NaN / inf (keeping the last finite point).
    ``step_size`` in the history is the learning rate the step used
    (:func:`~gradkit.optim.transforms.current_learning_rate`).

    Args:
        optimizer: a :class:`~gradkit.optim.transforms.GradientTransformation`
            (e.g. ``adam(0.01)``).
        fun: ``fun(x) -> scalar`` in plain NumPy.
        x0: the start: an array or a pytree of arrays; the optimizer sees this structure.
        max_iter: the number of steps (>= 0).
        tol: stop when the gradient inf-norm is <= tol (0: run every step).
        value_and_grad: ``value_and_grad(x) -> (f, g)``, as for :func:`minimize`.
        grad: ``grad(x) -> g``, as for :func:`minimize` (f is then evaluated separately).
        callback: ``callback(info) -> bool``, called after every step; True stops the run.
        ftol: the relative decrease of f counted as an improvement, as for :func:`minimize`.
        n_iter_no_change: stop after this many steps without a lower f, as for
            :func:`minimize`.
        record_path: also record every iterate in ``history["path"]`` (x0 first).
        jit: compile the engine's ``value_and_grad(fun)`` with :func:`gradkit.jit` (traced
            once, then replayed as plain NumPy calls; it runs eagerly, with a warning, where
            a replay could be wrong). ``False`` calls the engine on every step. Python side
            effects inside ``fun`` (``print``) then happen on the first step only.

    Returns:
        OptimizeResult with ``x`` (the best point seen), ``fun``, ``grad_norm``, ``nit``,
        ``nfev``, ``ngev``, ``success`` (also True when ``tol=0`` and every step ran),
        ``status``, ``message``, ``state`` (the optimizer's last state) and ``history``
        (``f``, ``grad_norm``, ``step_size``, ``time`` in seconds since the start, and
        ``path`` with ``record_path``).

    Raises:
        TypeError: when ``optimizer`` is not a GradientTransformation.
        ValueError: for a negative ``max_iter`` or ``tol``.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim import adam
        >>> r = run(adam(0.1), lambda x: np.sum((x - 1.0) ** 2), np.zeros(2), 500, tol=1e-8)
        >>> r.success, np.round(r.x, 6)
        (True, array([1., 1.]))
    """
    if not isinstance(optimizer, GradientTransformation):
        raise TypeError(f"optimizer must be a GradientTransformation such as adam(0.01), got "
                        f"{type(optimizer).__name__}; for the full-batch methods use "
                        "minimize(f, x0, method=...).")
    if not (isinstance(max_iter, (int, np.integer)) and not isinstance(max_iter, bool)
            and max_iter >= 0):
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}.")
    if not (isinstance(tol, numbers.Real) and not isinstance(tol, bool) and tol >= 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}.")
    objective = Objective(fun, x0, grad=grad, value_and_grad=value_and_grad, jit=jit)
    monitor = Monitor(objective, tol, max_iter, callback, ftol, n_iter_no_change)
    unravel, ravel = objective.unravel, objective.ravel
    update = with_extra_args_support(optimizer).update
    x = objective.x0
    params = unravel(x)
    state = optimizer.init(params)
    start = time.perf_counter()
    record = {"path": unravel(x.copy())} if record_path else {}
    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, inf_norm(g), time=0.0, **record)
    while stop is None:
        grads = unravel(g)
        updates, state = update(grads, state, params, value=f)
        params = apply_updates(params, updates)
        x = ravel(params)
        f, g = objective.value_and_grad(x)
        if record_path:
            record["path"] = unravel(x.copy())
        rate = current_learning_rate(state)
        stop = monitor.step(x, f, inf_norm(g), float("nan") if rate is None else rate,
                            time=time.perf_counter() - start, **record)
    status, message = stop
    success = status in _SUCCESS or (status == MAX_ITER and tol == 0)
    if status == MAX_ITER and tol == 0:
        message = f"Finished the max_iter={max_iter} steps (tol=0: no convergence test)."
    best = monitor.best_x if monitor.best_x is not None else objective.x0
    return OptimizeResult(
        x=unravel(best), fun=monitor.best_f, grad_norm=monitor.best_gnorm, nit=monitor.nit,
        nfev=objective.nfev, ngev=objective.ngev, nhev=0, success=success,
        status=status, message=message, history=monitor.history, state=state)
