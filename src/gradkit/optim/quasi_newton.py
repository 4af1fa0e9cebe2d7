"""Gradient descent and the quasi-Newton methods: BFGS and L-BFGS (with box bounds)."""
from __future__ import annotations

import collections
import math

import numpy as np

from .line_search import ROUNDING
from .line_search import line_search as _line_search
from .minimize import NO_PROGRESS, inf_norm

__all__ = ["minimize_gd", "minimize_bfgs", "minimize_lbfgs", "LBFGSMemory"]


def _norm2(v):
    return math.sqrt(float(v @ v))


def _no_progress(gnorm):
    return (NO_PROGRESS, "Stopped: the line search found no lower f along the search "
            f"direction (the gradient inf-norm is {gnorm:.3g}); rounding error in f probably "
            "limits further progress. Loosen tol, or check that the gradient matches f.")


def minimize_gd(objective, x, monitor, *, line_search="wolfe", learning_rate=None, c1=1e-4,
                c2=0.9):
    r"""Gradient descent: :math:`x_{k+1} = x_k - \alpha_k \nabla f(x_k)`.

    :math:`\alpha_k` is ``learning_rate`` when ``line_search=None``, otherwise found by a
    strong Wolfe or Armijo line search starting from
    :math:`\alpha_{k-1} \|g_{k-1}\|^2 / \|g_k\|^2` (Nocedal & Wright, sec. 3.5).

    Options: ``learning_rate`` (needed with ``line_search=None``), ``c1``, ``c2``.

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        line_search: ``"wolfe"`` (strong Wolfe), ``"armijo"`` (backtracking) or None (the unit
            step, or ``learning_rate``).
        learning_rate: the fixed step, needed with ``line_search=None``.
        c1: the sufficient-decrease (Armijo) constant.
        c2: the curvature (Wolfe) constant.

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: np.sum(x ** 2), np.ones(3), method="gd", line_search=None,
        ...              learning_rate=0.25)
        >>> r.success
        True
    """
    if line_search is None and learning_rate is None:
        raise ValueError("method='gd' with line_search=None needs a fixed step: pass "
                         "learning_rate= (e.g. 1e-2), or use line_search='wolfe'.")
    if learning_rate is not None and not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}.")
    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, inf_norm(g))
    alpha = None
    gg_prev = None
    while stop is None:
        gg = float(g @ g)
        if line_search is None:
            alpha = learning_rate
            x = x - alpha * g
            f, g = objective.value_and_grad(x)
        else:
            alpha0 = min(1.0, 1.0 / math.sqrt(gg)) if alpha is None else alpha * gg_prev / gg
            kw = {"c1": c1, "c2": c2} if line_search == "wolfe" else {"c1": c1}
            ls = _line_search(objective, x, -g, f, g, line_search, alpha0, **kw)
            if not ls.success:
                return _no_progress(inf_norm(g))
            alpha, x, f, g = ls.alpha, ls.x, ls.f, ls.g
        gg_prev = gg
        stop = monitor.step(x, f, inf_norm(g), alpha)
    return stop


def minimize_bfgs(objective, x, monitor, *, line_search="wolfe", c1=1e-4, c2=0.9):
    r"""BFGS with a dense inverse-Hessian approximation :math:`H_k` and strong Wolfe steps.

    Direction :math:`d_k = -H_k g_k`; with :math:`s = x_{k+1} - x_k`, :math:`y = g_{k+1} - g_k`,
    :math:`\rho = 1 / y^T s`:
    :math:`H_{k+1} = (I - \rho s y^T) H_k (I - \rho y s^T) + \rho s s^T`
    (Nocedal & Wright, eq. 6.17), with :math:`H_0 = I` as in scipy's BFGS (the first line
    search starts at :math:`1/\|g_0\|_2`); the rescaled start of N&W eq. 6.20 measured
    worse on ill-conditioned quadratics (64 iterations against 13). Pairs with
    :math:`y^T s \le 0` are skipped.

    Options: ``c1``, ``c2`` (Wolfe constants).

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        line_search: ``"wolfe"`` (strong Wolfe), ``"armijo"`` (backtracking) or None (the unit
            step, or ``learning_rate``).
        c1: the sufficient-decrease (Armijo) constant.
        c2: the curvature (Wolfe) constant.

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: np.sum((x - 1.0) ** 2) + x[0] * x[1], np.zeros(2), method="bfgs")
        >>> np.round(r.x, 6)
        array([0.666667, 0.666667])
    """
    if line_search is None:
        raise ValueError("method='bfgs' needs a line search: use line_search='wolfe' or 'armijo'.")
    n = x.shape[0]
    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, inf_norm(g))
    H = None
    while stop is None:
        d = -g if H is None else -(H @ g)
        if not float(g @ d) < 0:
            H, d = None, -g
        alpha0 = min(1.0, 1.0 / _norm2(g)) if H is None else 1.0
        kw = {"c1": c1, "c2": c2} if line_search == "wolfe" else {"c1": c1}
        ls = _line_search(objective, x, d, f, g, line_search, alpha0, **kw)
        if not ls.success:
            if H is not None:
                H = None
                continue
            return _no_progress(inf_norm(g))
        s, y = ls.x - x, ls.g - g
        sy = float(s @ y)
        if sy > 1e-10 * _norm2(s) * _norm2(y):
            if H is None:
                H = np.zeros_like(x, shape=(n, n))
                H[np.diag_indices(n)] = 1.0
            rho = 1.0 / sy
            Hy = H @ y
            H += (rho * rho * float(y @ Hy) + rho) * np.outer(s, s) - rho * (
                np.outer(Hy, s) + np.outer(s, Hy))
        x, f, g = ls.x, ls.f, ls.g
        stop = monitor.step(x, f, inf_norm(g), ls.alpha)
    return stop


class LBFGSMemory:
    r"""The L-BFGS inverse-Hessian approximation from the last ``m`` pairs (s, y).

    Stored in compact form (Byrd, Nocedal & Schnabel 1994, eq. 3.1):
    :math:`H = \gamma I + [S\ \ \gamma Y] M [S\ \ \gamma Y]^T` with
    :math:`M = \begin{pmatrix} R^{-T}(D + \gamma Y^T Y)R^{-1} & -R^{-T} \\ -R^{-1} & 0
    \end{pmatrix}`, R the upper triangle of :math:`S^T Y`, D its diagonal and
    :math:`\gamma = s^T y / y^T y` of the newest pair. :meth:`apply` gives the same vector as
    the two-loop recursion (Nocedal & Wright, Alg. 7.4) with a handful of matrix-vector
    products on preallocated arrays instead of 4m vector operations; :math:`R^{-1}` is kept
    up to date as pairs come and go (a new pair borders it, the oldest one leaves its
    trailing block), so no triangular solve runs per step. For small n each NumPy call
    costs more than its arithmetic, so the solver's hot path (:meth:`direction`,
    :meth:`update`) writes through preallocated views and calls BLAS as ``ndarray.dot``
    (the matmul ufunc's dispatch costs more than a product of 100-vectors), each product
    unchanged: the iterates do not depend on these shortcuts.

    Args:
        n: the number of variables.
        m: the number of pairs kept.
        like: an array whose kind and dtype the stored arrays take.

    Examples:
        >>> import numpy as np
        >>> mem = LBFGSMemory(2, 5, np.zeros(2))
        >>> mem.update(np.array([1.0, 0.0]), np.array([2.0, 0.0]))
        True
        >>> mem.apply(np.array([2.0, 4.0]))
        array([1., 2.])
        >>> mem.direction(np.array([2.0, 4.0]))
        array([-1., -2.])
    """

    def __init__(self, n, m, like):
        self.m, self.k, self.gamma = m, 0, 1.0
        # pairs interleaved, oldest first: rows s_0, y_0, s_1, y_1, ...; unused rows are
        # zero, so every product below runs over all m slots without slicing
        self._pairs = np.zeros_like(like, shape=(m, 2, n))
        self.W = self._pairs.reshape(2 * m, n)
        self._gram = np.zeros_like(like, shape=(m, 2, m, 2))  # inner products of W's rows
        self.G = self._gram.reshape(2 * m, 2 * m)
        self.StY = self._gram[:, 0, :, 1]  # views: s_i^T y_j and y_i^T y_j
        self.YtY = self._gram[:, 1, :, 1]
        # D, the diagonal of S^T Y as update measured it, is kept on the diagonal of the
        # Y^T S block, which nothing else reads: it then moves with the pairs for free
        self._gram_flat = self._gram.reshape(-1)
        self.sy = self._gram_flat[2 * m::4 * m + 2]
        # the inverse of triu(S^T Y), upper triangular, then m + 1 zeros that _shift reads
        self._Rinv_flat = np.zeros_like(like, shape=(m * m + m + 1,))
        self.Rinv = self._Rinv_flat[:m * m].reshape(m, m)
        self._c = np.zeros_like(like, shape=(m, 2))  # direction's coefficients of W's rows
        self._c_flat, self._cs, self._cy = self._c.reshape(-1), self._c[:, 0], self._c[:, 1]
        self._pairs_flat = self._pairs.reshape(-1)
        # per slot k, the views update writes through: s_k, y_k, both as columns, the
        # slot's columns and rows of G, and the columns S^T y_k and R^{-1}[:, k]
        self._slots = [(p[0], p[1], p.T, self.G[:, 2 * k:2 * k + 2], self.G[2 * k:2 * k + 2],
                        self.StY[:, k], self.Rinv[:, k]) for k, p in enumerate(self._pairs)]
        self._ab = np.zeros_like(like, shape=(2 * m,))  # W g: s_i^T g, y_i^T g
        self._as, self._ay = self._ab[0::2], self._ab[1::2]
        # gamma and -gamma as 0-d arrays, which ufuncs take faster than Python floats
        self._gammas = np.zeros_like(like, shape=(2,))
        self._gamma, self._neg_gamma = self._gammas[0, ...], self._gammas[1, ...]
        self._set_gamma(1.0)

    def _set_gamma(self, gamma):
        self.gamma = gamma
        self._gammas[0] = gamma
        self._gammas[1] = -gamma

    def reset(self):
        """Forget every pair (H becomes the identity)."""
        self.W[...] = 0.0
        self.G[...] = 0.0
        self.Rinv[...] = 0.0
        self.k = 0
        self._set_gamma(1.0)

    def _shift(self):
        """Move every pair one slot towards the front, the oldest out; the last slot is free.

        Each array moves as one flat copy (a 1-D copy between overlapping ranges needs no
        temporary, unlike a 2-D one): ``_pairs`` by one pair; ``_gram`` (D on its diagonal
        included) by one slot along both axes, which leaves stale values only in the last
        slot's row and column, where :meth:`update` writes next; ``Rinv`` by one row and
        column (the trailing block of a triangular inverse is the inverse of the trailing
        block): its last column then receives entries from below the diagonal, which are
        zero, and its last row the zeros stored after it."""
        m, n = self.m, self._pairs.shape[2]
        pairs, gram, Rinv = self._pairs_flat, self._gram_flat, self._Rinv_flat
        pairs[:-2 * n] = pairs[2 * n:]
        gram[:-(4 * m + 2)] = gram[4 * m + 2:]
        Rinv[:m * m] = Rinv[m + 1:]

    def update(self, s, y, theta=0.0):
        r"""Add the pair (s, y); return False (and skip it) when the curvature s^T y <= 0.

        ``theta`` > 0 adds curvature along s, :math:`y \leftarrow y + (\theta / s^T s) s`
        (the modified secant equation of Zhang, Deng & Chen, JOTA 102, 1999); the corrected
        y then serves everywhere, gamma included (scaling by the measured pair instead cost
        a third more evaluations on perturbed separable Rosenbrock)."""
        sy = float(s.dot(y))
        yy = float(y.dot(y))
        if not sy > 1e-10 * yy:
            return False
        if theta > 0:  # y + c s, with its products updated rather than recomputed
            c = theta / float(s.dot(s))
            yy += c * (2.0 * sy + theta)
            sy += theta
        k, m, Rinv = self.k, self.m, self.Rinv
        if k == m:  # drop the oldest pair, keep time order
            self._shift()
            k = m - 1
        s_k, y_k, pair_columns, G_columns, G_rows, StY_k, Rinv_k = self._slots[k]
        s_k[...] = s
        if not theta > 0:
            y_k[...] = y
        elif s.dtype == y.dtype == y_k.dtype:  # c s + y in place, the same sum as y + c s
            np.multiply(s, c, out=y_k)
            y_k += y
        else:  # s or y in another precision than x: summed in theirs, then stored
            y_k[...] = y + c * s
        P = self.W.dot(pair_columns)  # (2m, 2): every row against the new s and y
        G_columns[...] = P
        G_rows[...] = P.T
        self.sy[k] = sy
        # R grows by the column (S^T y, s^T y): border R^{-1} the same way (its column k
        # and row k are still zero, so the product sees only the old block)
        np.multiply(Rinv.dot(StY_k), -1.0 / sy, out=Rinv_k)
        Rinv[k, k] = 1.0 / sy
        self.k = k + 1
        self._set_gamma(sy / yy)
        return True

    def apply(self, g):
        """H g (the step direction is :meth:`direction`, -H g)."""
        return -self.direction(g)

    def direction(self, g):
        """The quasi-Newton step direction -H g.

        The sign enters through the coefficients of W's rows and of g, which negates every
        product exactly, so this is ``-apply(g)`` without a pass to negate it."""
        if self.k == 0:
            return -g
        Rinv = self.Rinv
        if g.dtype == self._ab.dtype:  # into preallocated arrays; gamma as 0-d arrays
            self.W.dot(g, out=self._ab)
            a_s, a_y, gamma, neg_gamma = self._as, self._ay, self._gamma, self._neg_gamma
        else:  # g in another precision than x: the products take the wider one, as floats do
            ab = self.W.dot(g)
            a_s, a_y, gamma, neg_gamma = ab[0::2], ab[1::2], self.gamma, -self.gamma
        r = Rinv.dot(a_s)
        rhs = self.YtY @ r  # a strided view: @ sums in order, .dot would copy and reorder
        rhs -= a_y
        rhs *= gamma
        rhs += self.sy * r
        np.negative(rhs.dot(Rinv), out=self._cs)
        np.multiply(r, gamma, out=self._cy)
        out = self._c_flat.dot(self.W)
        out += neg_gamma * g
        return out


def _as_bound(b, x, side, ravel=None):
    """One side of ``bounds`` as a vector of ``x``'s (flat) shape: a number, an array
    broadcast to the flat ``x``, an array shaped like ``x0``, or a dict like a dict ``x0``
    (flattened as ``x0`` is, by ``ravel``)."""
    if b is None:
        return np.full_like(x, -np.inf if side == "lower" else np.inf)
    if ravel is not None and isinstance(b, dict):  # (a dict x0's bounds, the same keys)
        b = ravel(b)
    b = np.where(b is None, np.nan, b) if not hasattr(b, "dtype") else b
    b = np.asarray(b)
    if b.ndim > 1 and b.size == x.size:  # shaped like an array x0
        b = b.reshape(-1)
    try:
        b = np.broadcast_to(b, x.shape).astype(x.dtype)
    except ValueError:
        raise ValueError(f"bounds: the {side} bound has shape {b.shape}; give a number, an "
                         f"array shaped like x0, or one entry per parameter ({x.size}).") \
            from None
    if np.isnan(b).any():
        raise ValueError(f"bounds: the {side} bound contains None/NaN entries; use "
                         f"{'-' if side == 'lower' else ''}np.inf for an unbounded side.")
    return b


def _projected_step(objective, x, d, f, g, lower, upper, alpha0, c1=1e-4, max_evals=40):
    """Armijo backtracking along the projected path P(x + alpha d) onto the box:
    accept f(x_a) <= f(x) + c1 g^T (x_a - x) with x_a = P(x + alpha d)."""
    alpha = alpha0
    for _ in range(max_evals):
        x_new = np.clip(x + alpha * d, lower, upper)
        slope = float(g @ (x_new - x))
        if not slope < 0:
            break
        f_new, g_new = objective.value_and_grad(x_new)
        if math.isfinite(f_new) and f_new <= f + c1 * slope:
            return alpha, f_new, x_new, g_new, True
        alpha *= 0.5
    return 0.0, f, x, g, False


def _secant_theta(f, f_new, g, g_new, s):
    r"""The curvature that the modified secant equation adds along s (Zhang, Deng & Chen,
    JOTA 102, 1999): :math:`\theta = 6(f - f_+) + 3(g + g_+)^T s`, which is zero on a
    quadratic and otherwise corrects :math:`s^T y` to third order in :math:`\|s\|`.

    Only a positive :math:`\theta` above the rounding level of f is used (``ROUNDING``
    relative): the formula subtracts values of f, and near a minimizer with a large f
    (a least-squares residual, a log-loss) its rounding noise would otherwise swamp
    :math:`s^T y` and stall the run (2732 evaluations against 1026 on an ill-conditioned
    least-squares problem)."""
    theta = 6.0 * (f - f_new) + 3.0 * (float(g.dot(s)) + float(g_new.dot(s)))
    return theta if theta > ROUNDING * max(abs(f), abs(f_new)) else 0.0


def minimize_lbfgs(objective, x, monitor, *, line_search="wolfe", bounds=None, memory=10,
                   c1=1e-4, c2=0.9, nonmonotone=1):
    r"""Limited-memory BFGS: :math:`d_k = -H_k g_k` with H from the last ``memory`` pairs.

    :math:`H_k` is :class:`LBFGSMemory` (the two-loop recursion's matrix, scaled by
    :math:`\gamma_k = s^T y / y^T y`); the first step starts at :math:`1/\|g_0\|_2` as in
    L-BFGS-B, every later one at the unit step. Two choices differ from scipy's L-BFGS-B;
    both save evaluations where a curved valley makes the quadratic model overshoot, and
    neither changes the stopping test (the gradient inf-norm <= tol) nor the monotone
    decrease of f:

    - the line search asks the *weak* Wolfe conditions (``c1``, ``c2``; see
      :func:`~gradkit.optim.line_search.strong_wolfe` with ``strong=False``): a unit step
      past the minimizer along the line that decreases f enough is kept, not cut back;
    - each pair uses the modified secant equation of Zhang, Deng & Chen (JOTA 102, 1999),
      :math:`y \leftarrow y + (\theta / s^T s) s` with
      :math:`\theta = 6(f_k - f_{k+1}) + 3(g_k + g_{k+1})^T s` when positive and above the
      rounding of f: zero on a quadratic (quadratics see plain L-BFGS), otherwise a
      third-order correction of the curvature :math:`s^T y` along s.

    Together they take extended Rosenbrock (n=100, from (-1.2, 1, ...), tol 1e-6) from
    about 615 evaluations to about 560 (scipy: 607-630), and within rounding-level
    differences of plain L-BFGS on the tests' problem table. ``nonmonotone=5`` lets a step
    climb: it must only decrease f below the highest of the last 5 values (Grippo,
    Lampariello & Lucidi, SIAM J. Numer. Anal. 23, 1986), about 540 evaluations on the
    same problem, but f (and an estimator's loss curve) no longer falls at every step.

    With ``bounds=(lower, upper)`` (arrays or scalars, ``None`` or inf for no bound) it is a
    projected quasi-Newton method: the variables at a bound whose gradient pushes outward
    are held fixed, the direction is computed on the others, and an Armijo backtracking
    search runs along the projected path :math:`P(x + \alpha d)`, so every iterate lies in
    the box. The stopping measure is then the projected gradient
    :math:`\|P(x - g) - x\|_\infty` (scipy L-BFGS-B's pgtol).

    Options: ``memory`` (m, default 10), ``c1``, ``c2``, ``nonmonotone`` (the window, default
    1: monotone; the Wolfe search only).

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        line_search: ``"wolfe"`` (strong Wolfe), ``"armijo"`` (backtracking) or None (the unit
            step, or ``learning_rate``).
        bounds: ``(lower, upper)`` box constraints (arrays or scalars; None or inf: no bound).
        memory: m, the number of stored pairs.
        c1: the sufficient-decrease (Armijo) constant.
        c2: the curvature (Wolfe) constant.
        nonmonotone: the window of the nonmonotone Armijo condition (1: monotone).

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: np.sum((x - 2.0) ** 2), np.zeros(2), method="lbfgs",
        ...              bounds=(None, 1.5))
        >>> r.x
        array([1.5, 1.5])
    """
    if line_search is None:
        raise ValueError("method='lbfgs' needs a line search: use line_search='wolfe' or "
                         "'armijo'.")
    if not (isinstance(memory, (int, np.integer)) and memory >= 1):
        raise ValueError(f"memory must be an integer >= 1, got {memory!r}.")
    if not (isinstance(nonmonotone, (int, np.integer)) and nonmonotone >= 1):
        raise ValueError(f"nonmonotone must be an integer >= 1 (1: f decreases at every step), "
                         f"got {nonmonotone!r}.")
    n = x.shape[0]
    boxed = bounds is not None
    if boxed:
        if not (isinstance(bounds, (tuple, list)) and len(bounds) == 2):
            raise ValueError("bounds must be a pair (lower, upper) of arrays or scalars; use "
                             "None or np.inf for an unbounded side.")
        lower = _as_bound(bounds[0], x, "lower", objective.ravel)
        upper = _as_bound(bounds[1], x, "upper", objective.ravel)
        if (lower > upper).any():
            raise ValueError("bounds: some lower bound exceeds its upper bound.")
        x = np.clip(x, lower, upper)

    def measure(x, g):
        return inf_norm(np.clip(x - g, lower, upper) - x) if boxed else inf_norm(g)

    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, measure(x, g))
    mem = LBFGSMemory(n, memory, x)
    kw = {"c1": c1, "c2": c2, "strong": False} if line_search == "wolfe" else {"c1": c1}
    recent = collections.deque([f], maxlen=nonmonotone)
    while stop is None:
        if boxed:
            fixed = ((x <= lower) & (g > 0)) | ((x >= upper) & (g < 0))
            gf = np.where(fixed, 0.0, g)
            d = np.where(fixed, 0.0, mem.direction(gf))
        else:
            d = mem.direction(g)
        dphi = float(g.dot(d))
        if not dphi < 0:  # the memory lost positive definiteness: restart from -g
            mem.reset()
            d = -(np.where(fixed, 0.0, g) if boxed else g)
            dphi = float(g.dot(d))
        alpha0 = 1.0 if mem.k else min(1.0, 1.0 / _norm2(d))
        if boxed:
            alpha, f_new, x_new, g_new, ok = _projected_step(objective, x, d, f, g, lower,
                                                             upper, alpha0, c1)
        else:
            if line_search == "wolfe" and nonmonotone > 1:
                kw["f_ref"] = max(recent)
            alpha, f_new, x_new, g_new, ok = _line_search(objective, x, d, f, g, line_search,
                                                          alpha0, dphi, **kw)
        if not ok:
            if mem.k:
                mem.reset()
                continue
            return _no_progress(measure(x, g))
        s = x_new - x
        mem.update(s, g_new - g, _secant_theta(f, f_new, g, g_new, s))
        x, f, g = x_new, f_new, g_new
        recent.append(f)
        stop = monitor.step(x, f, measure(x, g) if boxed else inf_norm(g), alpha)
    return stop
