"""Frank-Wolfe (conditional gradient) over sets given by linear minimization oracles."""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_namespace, to_numpy
from .minimize import CONVERGED

__all__ = ["Simplex", "L1Ball", "L2Ball", "Box", "NuclearNormBall", "minimize_frank_wolfe"]

_TOL = 1e-9  # relative slack of the membership tests


def _check_radius(radius, name):
    if not (isinstance(radius, (int, float, np.floating, np.integer)) and radius > 0):
        raise ValueError(f"{name}: radius must be a number > 0, got {radius!r}.")
    return float(radius)


def _project_simplex(v, radius):
    """Euclidean projection onto {x >= 0, sum x = radius} (Duchi et al. 2008)."""
    flat = v.reshape(-1)
    u = np.sort(flat)[::-1]
    css = np.cumsum(u) - radius
    ind = array_namespace(flat).arange(1, flat.shape[0] + 1, dtype=flat.dtype)
    rho = int(np.nonzero(u - css / ind > 0)[0][-1])
    theta = css[rho] / (rho + 1.0)
    return np.maximum(v - theta, 0.0)


class Simplex:
    r"""The scaled probability simplex :math:`\{x : x_i \ge 0, \sum_i x_i = r\}`.

    LMO: :math:`\arg\min_{s} \langle g, s \rangle = r e_{i^*}`, :math:`i^* = \arg\min_i g_i`.

    Args:
        radius: :math:`r > 0`, the sum of the coordinates.

    Examples:
        >>> Simplex().lmo(np.array([0.3, -1.0, 2.0]))
        array([0., 1., 0.])
    """

    def __init__(self, radius=1.0):
        self.radius = _check_radius(radius, "Simplex")

    def lmo(self, g):
        s = np.zeros_like(g)
        s.reshape(-1)[int(np.argmin(g))] = self.radius
        return s

    def contains(self, x, atol=_TOL):
        return bool((x >= -atol * self.radius).all()
                    and abs(float(x.sum()) - self.radius) <= atol * max(1.0, self.radius) * 10)

    def project(self, x):
        return _project_simplex(x, self.radius)

    def __repr__(self):
        return f"Simplex(radius={self.radius:g})"


class L1Ball:
    r"""The L1 ball :math:`\{x : \|x\|_1 \le r\}`.

    LMO: :math:`-r\,\mathrm{sign}(g_{i^*}) e_{i^*}`, :math:`i^* = \arg\max_i |g_i|`.

    Args:
        radius: :math:`r > 0`.

    Examples:
        >>> L1Ball(2.0).lmo(np.array([0.5, -3.0]))
        array([0., 2.])
    """

    def __init__(self, radius=1.0):
        self.radius = _check_radius(radius, "L1Ball")

    def lmo(self, g):
        s = np.zeros_like(g)
        i = int(np.argmax(abs(g)))
        gi = g.reshape(-1)[i]
        s.reshape(-1)[i] = -self.radius if gi > 0 else self.radius
        return s

    def contains(self, x, atol=_TOL):
        return float(abs(x).sum()) <= self.radius * (1 + atol)

    def project(self, x):
        if self.contains(x, 0.0):
            return x.copy()
        return np.sign(x) * _project_simplex(abs(x), self.radius)

    def __repr__(self):
        return f"L1Ball(radius={self.radius:g})"


class L2Ball:
    r"""The Euclidean ball :math:`\{x : \|x\|_2 \le r\}`.

    LMO: :math:`-r\, g / \|g\|_2` (0 when g = 0).

    Args:
        radius: :math:`r > 0`.

    Examples:
        >>> L2Ball(2.0).lmo(np.array([3.0, 4.0]))
        array([-1.2, -1.6])
    """

    def __init__(self, radius=1.0):
        self.radius = _check_radius(radius, "L2Ball")

    def lmo(self, g):
        norm = math.sqrt(float((g * g).sum()))
        return np.zeros_like(g) if norm == 0 else g * (-self.radius / norm)

    def contains(self, x, atol=_TOL):
        return math.sqrt(float((x * x).sum())) <= self.radius * (1 + atol)

    def project(self, x):
        norm = math.sqrt(float((x * x).sum()))
        return x * (self.radius / norm) if norm > self.radius else x.copy()

    def __repr__(self):
        return f"L2Ball(radius={self.radius:g})"


class Box:
    r"""The box :math:`\{x : l \le x \le u\}` (finite bounds, scalars or arrays).

    LMO: :math:`s_i = l_i` where :math:`g_i > 0`, else :math:`u_i`.

    Args:
        lower: :math:`l`, a number or an array of ``x``'s shape (finite).
        upper: :math:`u`, a number or an array of ``x``'s shape (finite, >= ``lower``).

    Examples:
        >>> Box(-1.0, 2.0).lmo(np.array([1.0, -1.0]))
        array([-1.,  2.])
    """

    def __init__(self, lower, upper):
        lo, up = to_numpy(lower).astype(float), to_numpy(upper).astype(float)
        if not (np.isfinite(lo).all() and np.isfinite(up).all()):
            raise ValueError("Box: Frank-Wolfe needs finite bounds (the oracle must return a "
                             "vertex); for half-infinite bounds use method='lbfgs' with bounds=.")
        if (lo > up).any():
            raise ValueError("Box: some lower bound exceeds its upper bound.")
        self.lower, self.upper = lower, upper

    def lmo(self, g):
        return np.where(g > 0, self.lower, self.upper).astype(g.dtype)

    def contains(self, x, atol=_TOL):
        span = np.maximum(abs(np.subtract(self.upper, self.lower)), 1.0)
        return bool(((x >= self.lower - atol * span) & (x <= self.upper + atol * span)).all())

    def project(self, x):
        return np.clip(x, self.lower, self.upper)

    def __repr__(self):
        return f"Box({self.lower!r}, {self.upper!r})"


class NuclearNormBall:
    r"""The nuclear-norm ball :math:`\{X : \sum_i \sigma_i(X) \le r\}` of matrices.

    LMO: :math:`-r\, u_1 v_1^T` with :math:`(u_1, v_1)` the top singular pair of G, a rank-one
    matrix (so Frank-Wolfe iterates are low-rank sums).

    Args:
        radius: :math:`r > 0`, the bound on the sum of the singular values.

    Examples:
        >>> NuclearNormBall(1.0).lmo(np.diag([3.0, 1.0]))
        array([[-1., -0.],
               [-0., -0.]])
    """

    def __init__(self, radius=1.0):
        self.radius = _check_radius(radius, "NuclearNormBall")

    def _check(self, G):
        if G.ndim != 2:
            raise ValueError(f"NuclearNormBall works on matrices; x0 has shape {G.shape}. "
                             "Pass a 2-D x0.")

    def lmo(self, G):
        self._check(G)
        u, _, vt = np.linalg.svd(G, full_matrices=False)
        return np.outer(u[:, 0], vt[0]) * (-self.radius)

    def contains(self, x, atol=_TOL):
        self._check(x)
        return float(np.linalg.svd(x, compute_uv=False).sum()) <= self.radius * (1 + atol)

    def project(self, x):
        self._check(x)
        u, s, vt = np.linalg.svd(x, full_matrices=False)
        if s.sum() <= self.radius:
            return x.copy()
        s = _project_simplex(s, self.radius)
        return (u * s) @ vt

    def __repr__(self):
        return f"NuclearNormBall(radius={self.radius:g})"


def minimize_frank_wolfe(objective, x, monitor, *, constraint=None, step="backtracking",
                         lipschitz=None):
    r"""Frank-Wolfe / conditional gradient: move toward the oracle's vertex, never leave the set.

    With :math:`s_k = \mathrm{LMO}(\nabla f(x_k)) = \arg\min_{s \in C} \langle \nabla f(x_k),
    s\rangle` and :math:`d_k = s_k - x_k`:
    :math:`x_{k+1} = x_k + \gamma_k d_k`, :math:`\gamma_k \in [0, 1]`, a convex combination of
    points of C. The duality gap :math:`g_k = \langle \nabla f(x_k), x_k - s_k \rangle \ge
    f(x_k) - f^*` (for convex f) is recorded in ``history["gap"]`` and the run stops when
    :math:`g_k \le` ``tol``.

    Step rules (``step=``):

    - ``"classic"``: :math:`\gamma_k = 2 / (k + 2)`.
    - ``"short"``: :math:`\gamma_k = \min(1, g_k / (L \|d_k\|^2))` with ``lipschitz=L`` (the
      gradient's Lipschitz constant; exact line search for a quadratic with L its curvature).
    - ``"backtracking"`` (default): the same step with L estimated and adapted each
      iteration (Pedregosa, Negiar, Askari & Jaggi 2020): L shrinks by 0.9, then doubles until
      :math:`f(x_k + \gamma d_k) \le f(x_k) - \gamma g_k + \tfrac{1}{2}\gamma^2 L \|d_k\|^2`.
      ``"short"`` without ``lipschitz`` uses this too.

    Args (options): ``constraint`` (a set with ``lmo`` and ``contains``: :class:`Simplex`,
    :class:`L1Ball`, :class:`L2Ball`, :class:`Box`, :class:`NuclearNormBall`), ``step``,
    ``lipschitz``.

    Raises:
        ValueError: no constraint, an unknown step rule, or x0 outside the set.

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        constraint: the set: an object with ``lmo(g)`` and ``contains(x)`` (:class:`Simplex`,
            :class:`L1Ball`, :class:`L2Ball`, :class:`Box`, :class:`NuclearNormBall`).
        step: ``"classic"``, ``"short"`` or ``"backtracking"`` (see above).
        lipschitz: the gradient's Lipschitz constant L for ``step="short"``.

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: np.sum((x - 0.5) ** 2), np.array([1.0, 0.0, 0.0]),
        ...              method="frank-wolfe", constraint=Simplex(), tol=1e-8)
        >>> np.round(r.x, 6)
        array([0.333333, 0.333333, 0.333333])
    """
    if constraint is None or not hasattr(constraint, "lmo"):
        raise ValueError("method='frank-wolfe' needs constraint=, a set with a linear "
                         "minimization oracle, e.g. gradkit.optim.frank_wolfe.Simplex() or "
                         "L1Ball(radius=1.0).")
    if step not in ("classic", "short", "backtracking"):
        raise ValueError(f"step must be 'classic', 'short' or 'backtracking', got {step!r}.")
    if lipschitz is not None and not lipschitz > 0:
        raise ValueError(f"lipschitz must be > 0, got {lipschitz!r}.")
    if objective.is_tree:
        raise ValueError("method='frank-wolfe' needs x0 to be an array (the constraint set "
                         "acts on it), not a pytree.")
    unravel, ravel = objective.unravel, objective.ravel
    if not constraint.contains(unravel(x)):
        hint = " e.g. constraint.project(x0)" if hasattr(constraint, "project") else ""
        raise ValueError(f"x0 lies outside the constraint set {constraint!r}; Frank-Wolfe "
                         f"needs a feasible starting point:{hint}.")
    f, g = objective.value_and_grad(x)
    s = ravel(constraint.lmo(unravel(g)))
    gap = float(g @ (x - s))
    stop = monitor.start(x, f, gap, gap=gap)
    adaptive = step == "backtracking" or (step == "short" and lipschitz is None)
    L = lipschitz
    k = 0
    while stop is None:
        d = s - x
        dd = float(d @ d)
        if dd == 0.0:
            return (CONVERGED, "Converged: the oracle returned the current point (gap 0).")
        if step == "classic":
            gamma = 2.0 / (k + 2.0)
            x = x + gamma * d
            f, g = objective.value_and_grad(x)
        elif not adaptive:
            gamma = min(1.0, gap / (L * dd))
            x = x + gamma * d
            f, g = objective.value_and_grad(x)
        else:
            if L is None:  # estimate L from the gradient change over a tiny step
                eps = 1e-3
                _, g_eps = objective.value_and_grad(x + eps * d)
                diff = g_eps - g
                L = max(math.sqrt(float(diff @ diff)) / (eps * math.sqrt(dd)), 1e-12)
            L *= 0.9
            for _ in range(60):
                gamma = min(1.0, gap / (L * dd))
                x_new = x + gamma * d
                f_new, g_new = objective.value_and_grad(x_new)
                if f_new <= f - gamma * gap + 0.5 * gamma * gamma * L * dd + 1e-12 * abs(f):
                    break
                L *= 2.0
            x, f, g = x_new, f_new, g_new
        k += 1
        s = ravel(constraint.lmo(unravel(g)))
        gap = float(g @ (x - s))
        stop = monitor.step(x, f, gap, gamma, gap=gap)
    return stop
