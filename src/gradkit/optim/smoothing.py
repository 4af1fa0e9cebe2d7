r"""Smoothing of non-smooth losses (Nesterov 2005; Beck & Teboulle 2012), with continuation.

A non-smooth convex piece :math:`h(x) = \max_{u \in U} \{u^T x - \phi(u)\}` is replaced by
:math:`h_\mu(x) = \max_{u \in U} \{u^T x - \phi(u) - \mu\, d(u)\}` with a strongly convex
prox-function :math:`d` (Nesterov, "Smooth minimization of non-smooth functions", Math.
Program. 103, 2005). :math:`h_\mu` has a :math:`1/\mu`-Lipschitz gradient and
:math:`h_\mu \le h \le h_\mu + \mu D` with :math:`D = \max_U d`; with
:math:`d(u) = u^2/2` it is the Moreau envelope of :math:`h` (Beck & Teboulle, "Smoothing and
first order methods: a unified framework", SIAM J. Optim. 22, 2012). The three pieces here:

- :func:`smooth_abs`, :math:`|x|` with :math:`U = [-1, 1]`, :math:`d = u^2/2`: the Huber
  function :math:`x^2/(2\mu)` for :math:`|x| \le \mu`, :math:`|x| - \mu/2` beyond
  (:math:`0 \le |x| - h_\mu(x) \le \mu/2`).
- :func:`smooth_hinge`, :math:`\max(0, 1 - z)` with :math:`U = [0, 1]`, :math:`d = u^2/2`:
  with :math:`t = 1 - z`, 0 for :math:`t \le 0`, :math:`t^2/(2\mu)` for :math:`0 \le t \le \mu`,
  :math:`t - \mu/2` beyond (error :math:`\le \mu/2`).
- :func:`smooth_max`, :math:`\max_i x_i` with :math:`U` the simplex and the entropy
  :math:`d(u) = \sum_i u_i \log u_i + \log n`: :math:`\mu \log \sum_i e^{x_i/\mu}`
  (log-sum-exp; error :math:`\le \mu \log n`).

Each takes ``mu``; ``mu=0`` is the exact non-smooth function. :func:`smoothed` minimizes
``fun(x, mu)`` written with them for a decreasing sequence :math:`\mu_k = \mu_0 \gamma^k`,
each stage warm-started from the last (continuation): early stages are well conditioned and
find the region, late ones sharpen it, so the whole path costs far fewer iterations than
one solve at the final :math:`\mu` or than the subgradient method.
"""
from __future__ import annotations

import math

import numpy as np

from .minimize import _SUCCESS, OptimizeResult, minimize

__all__ = ["smooth_abs", "smooth_hinge", "smooth_max", "smoothed"]


def _check_mu(mu):
    if not (isinstance(mu, (int, float, np.floating)) and mu >= 0):
        raise ValueError(f"mu must be a number >= 0, got {mu!r}.")


def smooth_abs(x, mu):
    r"""The Huber smoothing of :math:`|x|`: :math:`x^2/(2\mu)` if :math:`|x| \le \mu`, else
    :math:`|x| - \mu/2`; elementwise, ``mu=0`` gives :math:`|x|`.

    Written as :math:`a(|x| - a/2)/\mu` with :math:`a = \min(|x|, \mu)`, one expression for
    both branches (so its derivatives come from the engine without a ``where``).

    Args:
        x: an array (or a traced value).
        mu: the smoothing :math:`\mu \ge 0`.

    Returns:
        The smoothed :math:`|x|`, elementwise, of ``x``'s shape.

    Examples:
        >>> import numpy as np
        >>> smooth_abs(np.array([-2.0, 0.5, 0.0]), 1.0)
        array([1.5  , 0.125, 0.   ])
    """
    _check_mu(mu)
    ax = np.abs(x)
    if mu == 0:
        return ax
    a = np.minimum(ax, mu)
    return a * (ax - 0.5 * a) / mu


def smooth_hinge(z, mu):
    r"""The smoothed hinge :math:`\max(0, 1 - z)`: with :math:`t = 1 - z`, 0 for
    :math:`t \le 0`, :math:`t^2 / (2\mu)` for :math:`0 \le t \le \mu`, :math:`t - \mu/2`
    beyond; elementwise, ``mu=0`` gives the hinge. (For an SVM, ``z`` is the margin
    :math:`y_i x_i^T w`.)

    Args:
        z: the margins, an array.
        mu: the smoothing :math:`\mu \ge 0`.

    Returns:
        The smoothed hinge of each margin, of ``z``'s shape.

    Examples:
        >>> import numpy as np
        >>> smooth_hinge(np.array([2.0, 0.75, -1.0]), 0.5)
        array([0.    , 0.0625, 1.75  ])
    """
    _check_mu(mu)
    t = 1.0 - z
    if mu == 0:
        return np.maximum(t, 0.0)
    tp = np.maximum(t, 0.0)
    a = np.minimum(tp, mu)
    return a * (tp - 0.5 * a) / mu


def smooth_max(x, mu, axis=None):
    r"""The entropy smoothing of :math:`\max_i x_i`: :math:`\mu \log \sum_i e^{x_i / \mu}`
    (computed as :math:`m + \mu \log \sum_i e^{(x_i - m)/\mu}` with :math:`m = \max_i x_i`, so
    it does not overflow); ``mu=0`` gives the max. It lies in
    :math:`[\max_i x_i, \max_i x_i + \mu \log n]`.

    Args:
        x: an array.
        mu: the smoothing :math:`\mu \ge 0`.
        axis: the axis to take the maximum over (None: all entries).

    Returns:
        The smoothed maximum: a scalar, or an array without ``axis``.

    Examples:
        >>> import numpy as np
        >>> round(float(smooth_max(np.array([1.0, 1.0]), 0.1)), 6)   # 1 + 0.1 log 2
        1.069315
    """
    _check_mu(mu)
    m = np.max(x, axis=axis, keepdims=True)
    if mu == 0:
        return np.max(x, axis=axis)
    out = m + mu * np.log(np.sum(np.exp((x - m) / mu), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def smoothed(fun, x0, *, mu0=1.0, mu_min=1e-6, decay=0.1, method="lbfgs", tol=1e-6,
             max_iter=10000, **options):
    r"""Minimize a non-smooth ``fun(x, 0)`` through its smoothings ``fun(x, mu)``, by
    continuation on :math:`\mu`.

    Stage k minimizes :math:`f_{\mu_k}` with ``minimize(method=...)`` from the previous
    stage's point, :math:`\mu_k = \max(\mu_0 \gamma^k, \mu_{\min})`, stopping at the stage tol
    :math:`\max(\mathrm{tol}, \mu_k)` on the smoothed gradient's inf-norm (an early stage
    needs only to find the region the next one starts in) and at ``tol`` in the last stage,
    :math:`\mu = \mu_{\min}`. After each stage the exact objective ``fun(x, 0)`` is evaluated
    and the best point by it is what the result returns. For pieces built from
    :func:`smooth_abs`, :func:`smooth_hinge` and :func:`smooth_max` (and any convex
    combination of them), :math:`f_\mu \le f \le f_\mu + \mu D` (module docstring), so the
    final point is within :math:`\mu_{\min} D` of optimal up to the last stage's tol.

    Args:
        fun: ``fun(x, mu) -> scalar`` in plain NumPy, using the smoothed pieces with
            ``mu``; ``fun(x, 0)`` must be the exact objective.
        x0: the start (an array or a pytree).
        mu0: :math:`\mu_0`, the first smoothing (default 1, the scale of a unit margin or
            residual; set it to the typical size of the kinked quantity).
        mu_min: :math:`\mu_{\min}`, the last stage's smoothing.
        decay: :math:`\gamma \in (0, 1)`, the factor :math:`\mu` shrinks by per stage.
        method: the smooth solver of each stage (default ``"lbfgs"``).
        tol: the last stage's tol.
        max_iter: the total budget of solver iterations over all stages.
        **options: passed to every stage's :func:`minimize`.

    Returns:
        OptimizeResult: ``x``, ``fun`` (the exact objective there), ``grad_norm`` (the
        smoothed gradient's inf-norm at that stage), ``nit`` / ``nfev`` / ``ngev`` / ``nhev``
        summed over the stages, ``mu`` (the final :math:`\mu`), ``success`` (the last stage
        converged), ``status``, ``message``, and ``history`` with one entry per stage, x0
        first: ``f`` (exact objective), ``grad_norm``, ``mu``, ``nit``.

    Examples:
        >>> import numpy as np
        >>> f = lambda x, mu: np.sum(smooth_abs(x - np.array([1.0, -2.0]), mu))
        >>> r = smoothed(f, np.zeros(2))
        >>> r.success, bool(r.fun < 1e-5), np.round(r.x, 4)
        (True, True, array([ 1., -2.]))
    """
    for name, v in (("mu0", mu0), ("mu_min", mu_min)):
        if not (isinstance(v, (int, float)) and v > 0):
            raise ValueError(f"{name} must be a number > 0, got {v!r}.")
    if mu_min > mu0:
        raise ValueError(f"mu_min={mu_min!r} must be <= mu0={mu0!r}.")
    if not 0 < decay < 1:
        raise ValueError(f"decay must be in (0, 1), got {decay!r}.")
    exact = lambda x: float(fun(x, 0.0))  # noqa: E731
    history = {"f": [exact(x0)], "grad_norm": [math.nan], "mu": [math.nan], "nit": [0]}
    best_x, best_f, best_gnorm = x0, history["f"][0], math.inf
    x, mu = x0, float(mu0)
    totals = dict(nit=0, nfev=1, ngev=0, nhev=0)
    while True:
        last = mu <= mu_min
        budget = max_iter - totals["nit"]
        r = minimize(lambda v, _mu=mu: fun(v, _mu), x, method=method,
                     tol=tol if last else max(tol, mu), max_iter=budget, **options)
        for k in ("nit", "nfev", "ngev", "nhev"):
            totals[k] += r[k]
        x = r.x
        f = exact(x)
        totals["nfev"] += 1
        for k, v in (("f", f), ("grad_norm", r.grad_norm), ("mu", mu), ("nit", r.nit)):
            history[k].append(v)
        if math.isfinite(f) and f <= best_f:
            best_x, best_f, best_gnorm = x, f, r.grad_norm
        if last or totals["nit"] >= max_iter or r.status not in _SUCCESS:
            break
        mu = max(mu * decay, mu_min)
    if last and r.status in _SUCCESS:
        status, message = r.status, (f"Converged at mu={mu:g}: {r.message}")
    elif r.status in _SUCCESS:  # the budget ran out before the last stage
        status, message = 1, (f"Stopped: max_iter={max_iter} solver iterations used before "
                              f"mu reached mu_min={mu_min:g} (mu={mu:g}); raise max_iter.")
    else:
        status, message = r.status, f"Stage mu={mu:g} stopped: {r.message}"
    return OptimizeResult(x=best_x, fun=best_f, grad_norm=best_gnorm, mu=mu,
                          success=status in _SUCCESS, status=status, message=message,
                          history=history, method="smoothing", **totals)
