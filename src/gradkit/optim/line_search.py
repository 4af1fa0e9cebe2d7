"""Line searches along a descent direction: backtracking Armijo and strong Wolfe (zoom)."""
from __future__ import annotations

import math
from typing import NamedTuple

__all__ = ["LineSearchResult", "backtracking_armijo", "strong_wolfe", "line_search", "ROUNDING"]

#: The relative rounding level of f: differences below ``ROUNDING * |f|`` are noise, so the
#: Wolfe search judges such steps by their slope, and the best-point record breaks such ties
#: by the gradient.
ROUNDING = 1e-10


class LineSearchResult(NamedTuple):
    """The accepted step ``alpha`` with f and gradient there; ``success`` is False when no
    step satisfied the conditions (then ``alpha`` is 0 or the best Armijo step found).

    Attributes:
        alpha: the step.
        f: the function's value at ``x``.
        x: the point reached, ``x0 + alpha d``.
        g: the gradient there.
        success: whether the step satisfies the search's conditions.

    Examples:
        >>> import numpy as np
        >>> r = LineSearchResult(0.5, 0.25, np.array([0.5]), np.array([1.0]), True)
        >>> r.alpha, r.success
        (0.5, True)
    """
    alpha: float
    f: float
    x: object
    g: object
    success: bool


def _phi(objective, x, d):
    """phi(alpha) = f(x + alpha d) with its slope; payload = (x_new, g_new)."""
    value_and_grad = objective.value_and_grad

    def phi(alpha):
        # the unit step, a quasi-Newton method's usual one, skips the product (1.0 * d == d)
        x_new = x + d if alpha == 1.0 else x + alpha * d
        f, g = value_and_grad(x_new)
        return f, float(g.dot(d)), (x_new, g)  # .dot: @'s BLAS call without its dispatch
    return phi


def backtracking_armijo(phi, f0, dphi0, alpha0=1.0, c1=1e-4, shrink=0.5, max_evals=40):
    r"""Backtracking line search for the sufficient-decrease (Armijo) condition.

    Finds the first :math:`\alpha = \alpha_0 \rho^j` with
    :math:`\phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0)` (Nocedal & Wright, Alg. 3.1),
    interpolating quadratically (safeguarded to [0.1, 0.5] alpha) instead of halving blindly.
    A non-finite :math:`\phi(\alpha)` counts as too long a step.

    Args:
        phi: ``phi(alpha) -> (value, slope, payload)``.
        f0: phi(0).
        dphi0: phi'(0), which must be < 0 (a descent direction).
        alpha0: the first trial step.
        c1: the sufficient-decrease constant :math:`c_1`.
        shrink: the largest factor :math:`\rho` a step is cut by.
        max_evals: the budget of evaluations of ``phi``.

    Returns:
        ``(alpha, value, payload, success)``.

    Examples:
        >>> phi = lambda a: ((a - 1.0) ** 2, 2 * (a - 1.0), None)
        >>> backtracking_armijo(phi, 1.0, -2.0, alpha0=4.0)[:2]
        (1.0, 0.0)
    """
    alpha = alpha0
    for _ in range(max_evals):
        f, slope, payload = phi(alpha)
        if math.isfinite(f) and f <= f0 + c1 * alpha * dphi0:
            return alpha, f, payload, True
        if math.isfinite(f):  # minimizer of the quadratic through phi(0), phi'(0), phi(alpha)
            a_q = -dphi0 * alpha * alpha / (2.0 * (f - f0 - dphi0 * alpha))
            alpha = min(max(a_q, 0.1 * alpha), shrink * alpha)
        else:
            alpha *= 0.1
    return 0.0, f0, None, False


def _cubic_min(a, fa, da, b, fb, db):
    """Minimizer of the cubic matching values and slopes at a and b (N&W eq. 3.59)."""
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if disc < 0:
        return None
    d2 = math.copysign(math.sqrt(disc), b - a)
    den = db - da + 2.0 * d2
    if den == 0:
        return None
    return b - (b - a) * (db + d2 - d1) / den


def strong_wolfe(phi, f0, dphi0, alpha0=1.0, c1=1e-4, c2=0.9, alpha_max=1e10, max_evals=30,
                 epsilon=ROUNDING, strong=True, f_ref=None):
    r"""Line search for the strong (or weak) Wolfe conditions (Nocedal & Wright, Alg. 3.5, 3.6).

    Finds :math:`\alpha` with sufficient decrease
    :math:`\phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0)` and the curvature condition
    :math:`|\phi'(\alpha)| \le c_2 |\phi'(0)|`: the step grows (doubling) until it brackets
    such a point, then ``zoom`` narrows the bracket by safeguarded cubic interpolation, as
    scipy's ``line_search_wolfe2``. A non-finite value counts as too long a step.

    Near a minimizer the decrease a step makes, about :math:`\alpha|\phi'(0)|/2`, falls
    below the rounding error of f, and a test on values alone can no longer tell a good step
    from a bad one. A step whose value is within rounding of :math:`\phi(0)`
    (:math:`|\phi(\alpha) - \phi(0)| \le \epsilon|\phi(0)|`) is therefore judged by its
    slope, with Hager and Zhang's approximate Wolfe conditions
    :math:`c_2\phi'(0) \le \phi'(\alpha) \le (2c_1 - 1)\phi'(0)` (the Armijo condition
    of the quadratic that interpolates the two slopes; Hager & Zhang, SIAM J. Optim. 16,
    2005, eq. 4.1). The zoom also stops when the bracket has shrunk to a relative width of
    ``1e-12`` (Moré & Thuente's interval test). When the budget runs out, the best
    sufficient-decrease step found is returned (success=True, curvature possibly unmet) or,
    if there is none, ``alpha=0`` (success=False).

    Two relaxations serve quasi-Newton methods, whose unit step is usually right:
    ``strong=False`` asks only the weak Wolfe curvature condition
    :math:`\phi'(\alpha) \ge c_2 \phi'(0)`, so a step that overshoots the minimizer along
    the line but decreases f enough is kept rather than cut back (it still gives
    :math:`s^T y > 0`); ``f_ref`` > ``f0`` makes the decrease test nonmonotone,
    :math:`\phi(\alpha) \le f_{ref} + c_1 \alpha \phi'(0)` with, say, the highest of the
    last few values of f (Grippo, Lampariello & Lucidi, SIAM J. Numer. Anal. 23, 1986), so a
    step may climb a little along a curved valley.

    Args:
        phi: ``phi(alpha) -> (value, slope, payload)``.
        f0: phi(0).
        dphi0: phi'(0), which must be < 0.
        alpha0: the first trial step.
        c1: the sufficient-decrease constant, 0 < c1 < c2.
        c2: the curvature constant, c1 < c2 < 1.
        alpha_max: the largest step.
        max_evals: the budget of evaluations of ``phi``.
        epsilon: the relative rounding level of f below which slopes decide (``ROUNDING``,
            1e-10; 0 turns the approximate conditions off).
        strong: True for the strong Wolfe curvature condition, False for the weak one.
        f_ref: the value the sufficient-decrease test measures from (default ``f0``).

    Returns:
        ``(alpha, value, payload, success)``.

    Examples:
        >>> phi = lambda a: ((a - 3.0) ** 2, 2 * (a - 3.0), None)
        >>> alpha, value, _, ok = strong_wolfe(phi, 9.0, -6.0)
        >>> ok and abs(2 * (alpha - 3.0)) <= 0.9 * 6.0
        True
    """
    flat = epsilon * abs(f0)  # |f - f0| <= flat: f cannot tell the steps apart
    f_ref = f0 if f_ref is None else f_ref
    c1_slope, c2_slope = c1 * dphi0, c2 * dphi0

    def sufficient(a, f):  # a non-finite value counts as too long a step
        return f <= f_ref + a * c1_slope and math.isfinite(f)

    def curvature(d):
        return abs(d) <= -c2_slope if strong else d >= c2_slope

    def approx_wolfe(f, d):
        return abs(f - f0) <= flat and c2_slope <= d <= (2.0 * c1 - 1.0) * dphi0

    a_prev, f_prev, d_prev, p_prev = 0.0, f0, dphi0, None
    alpha, evals = min(alpha0, alpha_max), 0
    while evals < max_evals:
        f, d, payload = phi(alpha)
        evals += 1
        if not sufficient(alpha, f) or (evals > 1 and f >= f_prev):
            if approx_wolfe(f, d):
                return alpha, f, payload, True
            return _zoom(phi, f0, dphi0, sufficient, curvature, approx_wolfe, a_prev, f_prev,
                         d_prev, p_prev, alpha, f, d, max_evals - evals)
        if curvature(d) or approx_wolfe(f, d):
            return alpha, f, payload, True
        if d >= 0:
            return _zoom(phi, f0, dphi0, sufficient, curvature, approx_wolfe, alpha, f, d,
                         payload, a_prev, f_prev, d_prev, max_evals - evals)
        if alpha >= alpha_max:
            return alpha, f, payload, True
        a_prev, f_prev, d_prev, p_prev = alpha, f, d, payload
        alpha = min(2.0 * alpha, alpha_max)
    if a_prev > 0:
        return a_prev, f_prev, p_prev, True
    return 0.0, f0, None, False


def _zoom(phi, f0, dphi0, sufficient, curvature, approx_wolfe, a_lo, f_lo, d_lo, p_lo, a_hi,
          f_hi, d_hi, budget):
    for _ in range(max(budget, 0)):
        delta = a_hi - a_lo
        a = None
        if math.isfinite(f_hi) and math.isfinite(d_hi):
            a = _cubic_min(a_lo, f_lo, d_lo, a_hi, f_hi, d_hi)
        lo_edge, hi_edge = min(a_lo, a_hi), max(a_lo, a_hi)
        if a is None or not math.isfinite(a):
            a = a_lo + 0.5 * delta
        else:  # clamp (not bisect) so a good interpolant near an end is kept
            a = min(max(a, lo_edge + 0.05 * abs(delta)), hi_edge - 0.05 * abs(delta))
        if abs(delta) <= 1e-12 * max(1.0, abs(a_lo)):
            break
        f, d, payload = phi(a)
        if approx_wolfe(f, d):
            return a, f, payload, True
        if not sufficient(a, f) or f >= f_lo:
            a_hi, f_hi, d_hi = a, f, d
        else:
            if curvature(d):
                return a, f, payload, True
            if d * (a_hi - a_lo) >= 0:
                a_hi, f_hi, d_hi = a_lo, f_lo, d_lo
            a_lo, f_lo, d_lo, p_lo = a, f, d, payload
    if a_lo > 0 and p_lo is not None:
        return a_lo, f_lo, p_lo, True
    return 0.0, f0, None, False


def line_search(objective, x, d, f0, g0, method="wolfe", alpha0=1.0, dphi0=None, **kwargs):
    r"""Search along ``d`` from ``x`` for a step :math:`\alpha` and return the new point.

    Args:
        objective: an :class:`~gradkit.optim.minimize.Objective` (f and gradient in one pass).
        x: the point (flat).
        d: a descent direction (``g0 @ d < 0``).
        f0: f at x.
        g0: the gradient at x.
        method: ``"wolfe"`` (:func:`strong_wolfe`) or ``"armijo"``
            (:func:`backtracking_armijo`).
        alpha0: the first trial step.
        dphi0: ``g0 @ d``, if the caller has it already.
        **kwargs: constants passed on (c1, c2, max_evals, ...).

    Returns:
        LineSearchResult ``(alpha, f, x_new, g_new, success)``; on failure x and g are the
        inputs and alpha is 0.

    Raises:
        ValueError: if ``d`` is not a descent direction.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import Objective
        >>> obj = Objective(lambda x: np.sum(x ** 2), np.ones(2))
        >>> f0, g0 = obj.value_and_grad(np.ones(2))
        >>> line_search(obj, np.ones(2), -g0, f0, g0).x
        array([0., 0.])
    """
    if dphi0 is None:
        dphi0 = float(g0.dot(d))
    if not dphi0 < 0:
        raise ValueError(f"line_search: the direction is not a descent direction "
                         f"(g @ d = {dphi0:g} >= 0); pass d with g @ d < 0, e.g. d = -g.")
    phi = _phi(objective, x, d)
    if method == "wolfe":
        alpha, f, payload, ok = strong_wolfe(phi, f0, dphi0, alpha0, **kwargs)
    elif method == "armijo":
        alpha, f, payload, ok = backtracking_armijo(phi, f0, dphi0, alpha0, **kwargs)
    else:
        raise ValueError(f"line_search method must be 'wolfe' or 'armijo', got {method!r}.")
    if not ok or payload is None:
        return LineSearchResult(0.0, f0, x, g0, False)
    return LineSearchResult(alpha, f, payload[0], payload[1], True)
