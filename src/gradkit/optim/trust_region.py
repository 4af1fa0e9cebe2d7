r"""Trust-region Newton: Steihaug-Toint CG on Hessian-vector products, and the exact subproblem.

Both methods share one loop (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Alg. 4.1).
At :math:`x_k` the quadratic model
:math:`m_k(p) = f_k + g_k^T p + \tfrac12 p^T H_k p` is minimized (approximately) over
:math:`\|p\|_2 \le \Delta_k`; the step is judged by the agreement ratio

.. math:: \rho_k = \frac{f(x_k) - f(x_k + p_k)}{m_k(0) - m_k(p_k)},

accepted when :math:`\rho_k > \eta`, and the radius becomes
:math:`\tfrac14 \Delta_k` when :math:`\rho_k < \tfrac14` (or :math:`\tfrac14 \|p_k\|` where
:math:`\tfrac14 \Delta_k` would still hold the interior step that failed, which would only be
tried again), :math:`\min(2 \Delta_k, \Delta_{\max})` when :math:`\rho_k > \tfrac34` and
the step reached the boundary, and stays otherwise.

Only the subproblem differs: ``trust-ncg`` follows the Steihaug-Toint CG path (N&W Alg. 7.2)
and ``trust-exact`` solves it to high accuracy from the Hessian's eigendecomposition (the
characterization of Moré & Sorensen, N&W Thm. 4.1, with the hard case). A rejected step
costs no new Hessian work in either: the CG path does not depend on the radius (its iterates
grow in norm, N&W Thm. 7.3), so a smaller radius is a point on the path already computed, and
the eigendecomposition is reused.
"""
from __future__ import annotations

import math

import numpy as np

from .line_search import ROUNDING
from .minimize import NO_PROGRESS, NONFINITE, inf_norm

__all__ = ["minimize_trust_ncg", "minimize_trust_exact", "SteihaugPath",
           "exact_trust_region_step"]


def _norm(v):
    return math.sqrt(float(v @ v))


def _to_boundary(a, d, radius):
    """The t >= 0 with ||a + t d|| = radius (||a|| <= radius)."""
    ad, dd, aa = float(a @ d), float(d @ d), float(a @ a)
    disc = max(ad * ad + dd * (radius * radius - aa), 0.0)
    return (math.sqrt(disc) - ad) / dd


class SteihaugPath:
    r"""The Steihaug-Toint CG path for :math:`\min_p g^T p + \tfrac12 p^T H p`,
    :math:`\|p\| \le \Delta` (Nocedal & Wright, Alg. 7.2), built once and cut at any radius.

    CG from :math:`z_0 = 0`, :math:`r_0 = g`, :math:`d_0 = -g`:
    :math:`\alpha_j = r_j^T r_j / d_j^T H d_j`, :math:`z_{j+1} = z_j + \alpha_j d_j`,
    :math:`r_{j+1} = r_j + \alpha_j H d_j`, :math:`d_{j+1} = -r_{j+1} + \beta_j d_j` with
    :math:`\beta_j = r_{j+1}^T r_{j+1} / r_j^T r_j`; it stops at :math:`\|r_j\| \le`
    ``cg_tol``, at negative curvature :math:`d_j^T H d_j \le 0` (then the path follows
    :math:`d_j` to the boundary), or where it leaves the region. Calling the path with a radius
    returns ``(p, predicted_decrease, on_boundary)``; Hessian-vector products are computed only
    when the path has to be extended past what is stored. It keeps 4 vectors per CG step, up
    to ``max_stored`` floats (then a smaller radius reruns CG).

    Args:
        hvp: ``v -> H v``.
        g: the gradient.
        cg_tol: CG stops at a residual norm this small.
        max_iter: the most CG iterations.

    Examples:
        >>> import numpy as np
        >>> H = np.diag([1.0, 10.0]); g = np.array([1.0, 1.0])
        >>> path = SteihaugPath(lambda v: H @ v, g, cg_tol=1e-12, max_iter=10)
        >>> p, dec, on_boundary = path(10.0)     # the Newton step lies inside
        >>> np.round(p, 6), on_boundary
        (array([-1. , -0.1]), False)
        >>> p, dec, on_boundary = path(0.5)      # a point on the same path, no new products
        >>> round(float(np.linalg.norm(p)), 6), on_boundary, path.n_hvp
        (0.5, True, 2)
    """

    #: the most floats a path keeps for reuse (4 vectors a CG step); past it only the last
    #: piece is kept, and a smaller radius runs CG again from the start (as scipy does)
    max_stored = 1 << 26

    def __init__(self, hvp, g, cg_tol, max_iter):
        self.hvp, self.g, self.cg_tol, self.max_iter = hvp, g, cg_tol, max_iter
        self.n_hvp = 0
        self._reset()

    def _reset(self):
        g = self.g
        # pieces: (start z, start residual r = g + H z, direction d, H d, t_max) with
        # z(t) = z + t d for 0 <= t <= t_max (t_max = inf: negative curvature, to the boundary)
        self.pieces = []
        self.complete = True  # every piece from z = 0 is kept
        self._radius = 0.0  # the radius the path was last extended to
        self._steps = 0
        self.end = None  # the interior end point (CG converged or out of iterations)
        self._z, self._r, self._d = np.zeros_like(g), g.copy(), -g
        self._rr = float(g @ g)
        self._done = self._rr <= self.cg_tol * self.cg_tol
        if self._done:
            self.end = (self._z, self._r)

    def _keep(self, piece):
        self.pieces.append(piece)
        self._steps += 1
        if 4 * self.g.shape[0] * len(self.pieces) > self.max_stored and len(self.pieces) > 1:
            del self.pieces[:-1]  # earlier pieces end inside every radius asked so far
            self.complete = False

    def _extend(self, radius):
        """Run CG until the path leaves the ball of this radius or ends."""
        if not self.complete and radius < self._radius:
            self._reset()  # the pieces this radius needs were not kept
        self._radius = radius
        while not self._done and _norm(self._z) < radius:
            if self._steps >= self.max_iter:
                self._done, self.end = True, (self._z, self._r)
                break
            z, r, d = self._z, self._r, self._d
            Hd = self.hvp(d)
            self.n_hvp += 1
            curv = float(d @ Hd)
            if not curv > 0:  # negative (or zero) curvature: follow d to any boundary
                self._keep((z, r, d, Hd, math.inf))
                self._done = True
                break
            alpha = self._rr / curv
            self._keep((z, r, d, Hd, alpha))
            self._z, self._r = z + alpha * d, r + alpha * Hd
            rr = float(self._r @ self._r)
            if math.sqrt(rr) <= self.cg_tol:
                self._done, self.end = True, (self._z, self._r)
                break
            self._d = -self._r + (rr / self._rr) * d
            self._rr = rr

    def _model_decrease(self, z, r, d=None, Hd=None, t=0.0):
        # H z = r - g on the path, so m(p) - f = g.p + p.Hp / 2 needs no new product
        g = self.g
        p, Hp = (z, r - g) if d is None else (z + t * d, r - g + t * Hd)
        return p, -(float(g @ p) + 0.5 * float(p @ Hp))

    def __call__(self, radius):
        self._extend(radius)
        for z, r, d, Hd, t_max in self.pieces:
            if t_max == math.inf or _norm(z + t_max * d) >= radius:
                t = _to_boundary(z, d, radius)
                p, dec = self._model_decrease(z, r, d, Hd, min(t, t_max))
                return p, dec, True
        z, r = self.end
        p, dec = self._model_decrease(z, r)
        return p, dec, False


def exact_trust_region_step(lam, Q, g, radius):
    r"""The global minimizer of :math:`g^T p + \tfrac12 p^T H p` over :math:`\|p\| \le \Delta`,
    with :math:`H = Q\,\mathrm{diag}(\lambda)\,Q^T`.

    By Moré & Sorensen's characterization (Nocedal & Wright, Thm. 4.1) it is
    :math:`p(\mu) = -(H + \mu I)^{-1} g` with :math:`\mu \ge \max(0, -\lambda_{\min})` and
    :math:`\mu (\Delta - \|p\|) = 0`. In the eigenbasis
    :math:`\|p(\mu)\|^2 = \sum_i \tilde g_i^2 / (\lambda_i + \mu)^2`, and :math:`\mu` solves the
    secular equation :math:`1/\Delta - 1/\|p(\mu)\| = 0` by Newton's method (N&W Alg. 4.3),
    safeguarded by bisection. In the hard case (g orthogonal to the lowest eigenspace and
    :math:`\|p(-\lambda_{\min})\| < \Delta`) the step is :math:`p(-\lambda_{\min}) + \tau q_1`
    on the boundary (N&W eq. 4.45).

    Returns:
        ``(p, predicted_decrease, on_boundary)``.

    Args:
        lam: the eigenvalues :math:`\lambda` of H (ascending, as ``np.linalg.eigh`` gives them).
        Q: its eigenvectors, as columns.
        g: the gradient.
        radius: the region's radius :math:`\Delta`.

    Examples:
        >>> import numpy as np
        >>> lam, Q = np.linalg.eigh(np.diag([-1.0, 2.0]))
        >>> p, dec, on_boundary = exact_trust_region_step(lam, Q, np.array([0.0, 2.0]), 2.0)
        >>> np.round(np.abs(p), 6), on_boundary       # the hard case: along q_1 to the boundary
        (array([1.885618, 0.666667]), True)
    """
    gt = Q.T @ g
    scale = max(float(np.abs(lam).max()), 1e-300)
    lo = max(0.0, -float(lam[0]))

    def step(mu):
        return -gt / (lam + mu)

    def finish(pt, on_boundary):
        return Q @ pt, -(float(gt @ pt) + 0.5 * float(pt @ (lam * pt))), on_boundary

    if lam[0] > 0:
        pt = step(0.0)
        if _norm(pt) <= radius:
            return finish(pt, False)
    # the hard case: the components on the lowest eigenspace vanish
    low = lam + lo <= 1e-12 * scale
    gnorm = _norm(gt)
    if np.all(np.abs(gt[low]) <= 1e-12 * max(gnorm, 1e-300)):
        pt = np.zeros_like(gt)
        pt[~low] = -gt[~low] / (lam[~low] + lo)
        pn = _norm(pt)
        if pn <= radius:
            tau = math.sqrt(max(radius * radius - pn * pn, 0.0))
            pt[np.argmax(low)] += tau
            return finish(pt, True)
    # ||p(mu)|| decreases from > radius at mu -> lo to <= radius at mu = hi
    hi = lo + gnorm / radius + scale
    a, b = lo, hi
    mu = hi
    for _ in range(200):
        pt = step(mu)
        pn = _norm(pt)
        if abs(pn - radius) <= 1e-10 * radius:
            break
        if pn > radius:
            a = mu
        else:
            b = mu
        # Newton on phi(mu) = 1/radius - 1/||p||: phi' = -sum(gt^2 / (lam + mu)^3) / ||p||^3
        dq = -float(np.sum(gt * gt / (lam + mu) ** 3))
        newton = mu - (1.0 / radius - 1.0 / pn) / (-dq / pn ** 3)
        mu = newton if a < newton < b else 0.5 * (a + b)
        if b - a <= 1e-15 * max(b, 1.0):
            pt = step(b)  # the bracket collapsed: the side with ||p|| <= radius
            break
    return finish(pt, True)


def _trust_region(objective, x, monitor, subproblem, initial_trust_radius, max_trust_radius,
                  eta, name):
    if not 0 < initial_trust_radius <= max_trust_radius:
        raise ValueError(f"Need 0 < initial_trust_radius <= max_trust_radius, got "
                         f"{initial_trust_radius!r} and {max_trust_radius!r}.")
    if not 0 <= eta < 0.25:
        raise ValueError(f"eta must be in [0, 0.25), got {eta!r}.")
    radius = float(initial_trust_radius)
    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, inf_norm(g))
    while stop is None:
        solve = subproblem(x, g)
        if solve is None:
            return (NONFINITE, f"Stopped at iteration {monitor.nit}: the Hessian has NaN or "
                    "inf entries. The best finite point is returned.")
        while True:
            p, predicted, on_boundary = solve(radius)
            pnorm = _norm(p)
            noise = ROUNDING * max(abs(f), 1e-300)
            if not predicted > 0 or pnorm <= 1e-15 * max(_norm(x), 1.0):
                return (NO_PROGRESS, f"Stopped: the {name} model predicts no decrease "
                        f"(trust radius {radius:.3g}, gradient inf-norm {inf_norm(g):.3g}); "
                        "rounding error probably limits further progress.")
            x_new = x + p
            f_new, g_new = objective.value_and_grad(x_new)
            if not math.isfinite(f_new):
                rho = -math.inf
            elif predicted <= noise and abs(f - f_new) <= noise:
                # f's differences are rounding noise: judge the step by the gradient instead
                rho = 1.0 if _norm(g_new) < _norm(g) else -math.inf
            else:
                rho = (f - f_new) / predicted
            if rho < 0.25:
                # N&W's quarter of the radius, unless that would try the same interior step
                radius = 0.25 * radius if 0.25 * radius < pnorm else 0.25 * pnorm
            elif rho > 0.75 and on_boundary:
                radius = min(2.0 * radius, max_trust_radius)
            if rho > eta:
                break
        x, f, g = x_new, f_new, g_new
        stop = monitor.step(x, f, inf_norm(g), pnorm, trust_radius=radius)
    return stop


def minimize_trust_ncg(objective, x, monitor, *, initial_trust_radius=1.0,
                       max_trust_radius=1000.0, eta=0.15, cg_max_iter=None):
    r"""Trust-region Newton-CG (Steihaug-Toint) on Hessian-vector products.

    The loop of :mod:`gradkit.optim.trust_region` with the subproblem solved by
    :class:`SteihaugPath` to the forcing tolerance
    :math:`\|r\| \le \min(0.5, \sqrt{\|g_k\|})\,\|g_k\|` (as scipy's ``trust-ncg``);
    Hessian-vector products come from the engine (forward-over-reverse), and a rejected step
    reuses the CG path (no new products). Unlike ``newton-cg`` there is no line search, and
    negative curvature is followed to the region's boundary instead of discarded.

    Options (scipy's names): ``initial_trust_radius`` (1.0), ``max_trust_radius`` (1000.0),
    ``eta`` (accept when :math:`\rho > \eta`, 0.15), ``cg_max_iter`` (CG iterations per step,
    default ``max(10, 2 n)``). scipy's ``gtol`` is ``tol`` (on the gradient's inf-norm). The
    history has ``trust_radius``.

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        initial_trust_radius: the first radius.
        max_trust_radius: the largest radius.
        eta: a step is accepted when the actual over the predicted decrease exceeds it.
        cg_max_iter: CG iterations per step (default ``max(10, 2 n)``).

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> rosen = lambda x: 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2
        >>> r = minimize(rosen, np.array([-1.2, 1.0]), method="trust-ncg")
        >>> r.success, np.round(r.x, 4)
        (True, array([1., 1.]))
    """
    n = x.shape[0]
    cg_max_iter = max(10, 2 * n) if cg_max_iter is None else cg_max_iter

    def subproblem(xk, g):
        gnorm = _norm(g)
        return SteihaugPath(lambda v: objective.hvp(xk, v), g,
                            min(0.5, math.sqrt(gnorm)) * gnorm, cg_max_iter)
    return _trust_region(objective, x, monitor, subproblem, initial_trust_radius,
                         max_trust_radius, eta, "trust-ncg")


def minimize_trust_exact(objective, x, monitor, *, initial_trust_radius=1.0,
                         max_trust_radius=1000.0, eta=0.15):
    r"""Trust-region Newton with the subproblem solved exactly (Moré-Sorensen).

    The loop of :mod:`gradkit.optim.trust_region`; each iterate builds the Hessian (from the
    engine, or ``hess=``), eigendecomposes it once, and :func:`exact_trust_region_step` finds
    the global minimizer of the model in the region, the hard case included, for every radius
    the loop tries. Indefinite Hessians are handled without a shift; n should stay in the
    few thousands (a dense Hessian and an O(n^3) eigendecomposition per iteration).

    Options (scipy's names): ``initial_trust_radius`` (1.0), ``max_trust_radius`` (1000.0),
    ``eta`` (0.15). ``tol`` plays scipy's ``gtol``.

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        initial_trust_radius: the first radius.
        max_trust_radius: the largest radius.
        eta: a step is accepted when the actual over the predicted decrease exceeds it.

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> rosen = lambda x: 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2
        >>> r = minimize(rosen, np.array([-1.2, 1.0]), method="trust-exact")
        >>> r.success, np.round(r.x, 6)
        (True, array([1., 1.]))
    """
    def subproblem(xk, g):
        H = objective.hess(xk)
        if not np.isfinite(H).all():
            return None
        lam, Q = np.linalg.eigh(0.5 * (H + H.T))
        return lambda radius: exact_trust_region_step(lam, Q, g, radius)
    return _trust_region(objective, x, monitor, subproblem, initial_trust_radius,
                         max_trust_radius, eta, "trust-exact")
