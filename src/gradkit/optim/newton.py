"""Newton's method with a modified Hessian, and truncated Newton-CG on Hessian-vector products."""
from __future__ import annotations

import math

import numpy as np

from scipy.linalg import cho_solve

from .line_search import line_search as _line_search
from .minimize import NO_PROGRESS, inf_norm

__all__ = ["minimize_newton", "minimize_newton_cg", "modified_cholesky_shift"]


def modified_cholesky_shift(H, beta=1e-3, max_tries=60):
    r"""The Cholesky factor of :math:`H + \tau I` for the smallest tried :math:`\tau \ge 0`
    that makes it positive definite (Nocedal & Wright, Alg. 3.3).

    :math:`\tau_0 = 0` if :math:`\min_i H_{ii} > 0`, else
    :math:`\beta \|H\|_F - \min_i H_{ii}`; then
    :math:`\tau \leftarrow \max(2\tau, \beta \|H\|_F)` until the factorization succeeds.

    Returns:
        ``(L, tau)`` with :math:`L L^T = H + \tau I`.

    Raises:
        ValueError: if H has NaN / inf entries.

    Args:
        H: a symmetric matrix.
        beta: the smallest shift tried when the diagonal has a non-positive entry, and the
            scale of the later ones.
        max_tries: how many shifts to try before giving up.

    Examples:
        >>> import numpy as np
        >>> L, tau = modified_cholesky_shift(np.array([[1.0, 0.0], [0.0, -1.0]]))
        >>> tau > 1.0
        True
    """
    if not np.isfinite(H).all():
        raise ValueError("The Hessian has NaN or inf entries; Newton's method cannot use it.")
    n = H.shape[0]
    min_diag = float(H.diagonal().min()) if n else 1.0
    scale = None  # ||H||_F, needed only when H itself is not positive definite
    if min_diag > 0:
        tau = 0.0
    else:
        scale = max(float(np.sqrt((H * H).sum())), 1e-12)
        tau = beta * scale - min_diag
    for _ in range(max_tries):
        try:
            return np.linalg.cholesky(_shifted(H, tau)), tau
        except np.linalg.LinAlgError:
            if scale is None:
                scale = max(float(np.sqrt((H * H).sum())), 1e-12)
            tau = max(2.0 * tau, beta * scale)
    raise np.linalg.LinAlgError("Could not make the Hessian positive definite.")


def _shifted(H, tau):
    """``H + tau I`` (``H`` itself for ``tau = 0``), on ``H``'s device."""
    if tau == 0.0:
        return H
    out = H.copy()  # contiguous: its diagonal is every (n + 1)-th entry of the flat view
    out.reshape(-1)[::H.shape[0] + 1] += tau
    return out


def _cho_solve(L, b):
    """``x`` with ``L L^T x = b`` (``L`` lower triangular): two triangular solves (scipy's
    for NumPy arrays, O(n^2) each; the general solver elsewhere, e.g. CuPy)."""
    if type(L) is np.ndarray and type(b) is np.ndarray:
        return cho_solve((L, True), b, check_finite=False)
    return np.linalg.solve(L.T, np.linalg.solve(L, b))


def minimize_newton(objective, x, monitor, *, line_search="wolfe", beta=1e-3):
    r"""Newton's method with a modified Hessian and a line search.

    :math:`d_k = -(H_k + \tau_k I)^{-1} g_k` with :math:`\tau_k \ge 0` the smallest shift that
    lets Cholesky succeed (:func:`modified_cholesky_shift`; 0 when H is positive definite),
    then :math:`x_{k+1} = x_k + \alpha_k d_k` with a line search starting at
    :math:`\alpha = 1` (or :math:`\alpha = 1` always when ``line_search=None``). On a strictly
    convex quadratic the first step lands on the minimizer. The Hessian is ``minimize``'s
    ``hess=`` when given (the linear estimators pass theirs, :math:`Z^T \mathrm{diag}(h) Z / n`,
    built in one pass from their loss), else built by the engine (forward-over-reverse), so
    keep n to a few thousand.

    Options: ``beta`` (the shift's scale, default 1e-3).

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        line_search: ``"wolfe"`` (strong Wolfe), ``"armijo"`` (backtracking) or None (the unit
            step, or ``learning_rate``).
        beta: the scale of the Hessian's shift (:func:`modified_cholesky_shift`).

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: np.sum((x - 1.0) ** 2), np.zeros(3), method="newton")
        >>> r.nit, r.x
        (1, array([1., 1., 1.]))
    """
    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, inf_norm(g))
    while stop is None:
        H = objective.hess(x)
        if not np.isfinite(H).all():
            return (3, f"Stopped at iteration {monitor.nit}: the Hessian has NaN or inf "
                    "entries. The best finite point is returned.")
        L, _ = modified_cholesky_shift(H, beta)
        d = -_cho_solve(L, g)
        step = _step(objective, x, d, f, g, line_search, 1.0, "Newton")
        if len(step) == 2:
            return step
        alpha, x, f, g = step
        stop = monitor.step(x, f, inf_norm(g), alpha)
    return stop


def _step(objective, x, d, f, g, line_search, alpha0, name):
    """The step along d: ``(alpha, x, f, g)``, a unit step when ``line_search`` is None, or
    ``(status, message)`` when the line search finds no acceptable step."""
    if line_search is None:
        x = x + d
        return (1.0, x, *objective.value_and_grad(x))
    ls = _line_search(objective, x, d, f, g, line_search, alpha0)
    if not ls.success:
        return (NO_PROGRESS, f"Stopped: the line search found no lower f along the {name} "
                f"direction (gradient inf-norm {inf_norm(g):.3g}); rounding error probably "
                "limits further progress.")
    return ls.alpha, ls.x, ls.f, ls.g


def truncated_cg(hvp, g, eta, max_iter):
    r"""Approximately solve :math:`H d = -g` by conjugate gradient, stopping early.

    Stops when :math:`\|r\| \le \eta \|g\|` or at negative curvature
    :math:`p^T H p \le 0`; then returns the current iterate, or :math:`-g` if that happens
    on the first iteration (Nocedal & Wright, Alg. 7.1).

    Returns:
        ``(d, n_hvp)``.

    >>> import numpy as np
    >>> A = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> truncated_cg(lambda v: A @ v, np.array([2.0, 4.0]), 1e-10, 10)[0]
    array([-1., -1.])
    """
    z = np.zeros_like(g)
    r = g.copy()
    p = -r
    rr = float(r @ r)
    tol = eta * math.sqrt(rr)
    for j in range(max_iter):
        Hp = hvp(p)
        curv = float(p @ Hp)
        if curv <= 0:
            return (-g if j == 0 else z), j + 1
        a = rr / curv
        z = z + a * p
        r = r + a * Hp
        rr_new = float(r @ r)
        if math.sqrt(rr_new) <= tol:
            return z, j + 1
        p = -r + (rr_new / rr) * p
        rr = rr_new
    return z, max_iter


def minimize_newton_cg(objective, x, monitor, *, line_search="wolfe", cg_max_iter=None):
    r"""Truncated Newton (Newton-CG): Newton steps solved inexactly by CG on H v products.

    Each step runs :func:`truncated_cg` on :math:`H_k d = -g_k` with the forcing term
    :math:`\eta_k = \min(0.5, \sqrt{\|g_k\|})` (superlinear convergence) and exits at negative
    curvature; Hessian-vector products come from the engine (forward-over-reverse), so the
    Hessian is never stored. Then a line search from :math:`\alpha = 1`.

    Options: ``cg_max_iter`` (CG iterations per step, default ``max(10, 2 n)``).

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        line_search: ``"wolfe"`` (strong Wolfe), ``"armijo"`` (backtracking) or None (the unit
            step, or ``learning_rate``).
        cg_max_iter: CG iterations per step (default ``max(10, 2 n)``).

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: np.sum((x - 1.0) ** 2), np.zeros(3), method="newton-cg")
        >>> np.round(r.x, 8)
        array([1., 1., 1.])
    """
    n = x.shape[0]
    cg_max_iter = max(10, 2 * n) if cg_max_iter is None else cg_max_iter
    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, inf_norm(g))
    f_prev = f + 0.5 * math.sqrt(float(g @ g))
    while stop is None:
        gnorm2 = math.sqrt(float(g @ g))
        eta = min(0.5, math.sqrt(gnorm2))
        xk = x
        d, _ = truncated_cg(lambda v: objective.hvp(xk, v), g, eta, cg_max_iter)
        dphi = float(g @ d)
        if not dphi < 0:
            d = -g
            dphi = -gnorm2 * gnorm2
        # scipy's start (line_search_wolfe1): no longer than the step that would repeat the
        # last decrease on a quadratic, which saves evaluations where H is indefinite
        alpha0 = min(1.0, 2.02 * (f_prev - f) / -dphi) if f_prev > f else 1.0
        f_prev = f
        step = _step(objective, x, d, f, g, line_search, alpha0, "Newton-CG")
        if len(step) == 2:
            return step
        alpha, x, f, g = step
        stop = monitor.step(x, f, inf_norm(g), alpha)
    return stop
