"""Rules for the ``scipy.special`` ufuncs (sigmoid, error, gamma, beta, Bessel families) and np.i0.

scipy.special's functions such as ``expit``, ``erf``, ``gammaln`` or ``xlogy`` are NumPy ufuncs,
so ``scipy.special.erf(traced)`` reaches these rules through ``__array_ufunc__`` like
``np.exp`` does. ``scipy.special.logsumexp``, ``softmax`` and ``log_softmax`` are Python
functions that convert their argument with ``np.asarray``, which no NumPy protocol reaches:
importing gradkit wraps those three in ``scipy.special`` so that a traced argument goes to
gradkit's stable primitives (untraced calls run scipy's code unchanged). A reference taken
before gradkit was imported (``from scipy.special import logsumexp`` first) is scipy's own
function and raises gradkit's conversion error on a traced value; ``gradkit.logsumexp`` always
works. ``scipy.special.polygamma`` and ``multigammaln`` are the same kind of function and are
routed the same way, to :func:`polygamma` and :func:`multigammaln` here (scipy's values).

Functions with a parameter that has no derivative here (the order of a Bessel function, the
``a`` and ``b`` of ``betainc`` / ``gammainc`` / ``gammaincc``, polygamma's ``n``) are
differentiable in ``x``; a derivative through the parameter raises NoGradientRuleError naming
it. ``gammasgn`` is flat (derivative 0). ``np.i0`` is NumPy's function with I0' = I1.

At ``x = 0``, ``xlogy(x, y)`` and ``xlog1py(x, y)`` are 0 for every ``y``, so their derivative
with respect to ``y`` is 0 there (not ``0 / 0``).
"""
import functools
import itertools
import math

import numpy as np
import scipy.special as sc

from .. import stable
from ..primitive import (MISSING, NONDIFF_UFUNCS, NoGradientRuleError, defjvp, defvjp,
                         differentiable)
from ..trace import getval
from ..tracer import Tracer
from ..batching import BatchTracer
from .elementwise import def_elementwise
from .numerical import attach
from ...tree import tree_flatten, tree_map

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


@differentiable(broadcasts=True)
def polygamma(n, x):
    """The polygamma function psi^(n)(x), the n-th derivative of digamma (differentiable in x).

    ``scipy.special.polygamma`` converts its arguments to plain arrays; this is the same
    function as a gradkit primitive, differentiable to any order in ``x`` (``n`` is an integer
    order with no derivative).

    >>> import numpy as np, gradkit as gk
    >>> from gradkit.autodiff.rules.special import polygamma
    >>> round(float(gk.grad(lambda x: polygamma(1, x))(1.0)), 6)  # psi''(1) = -2 zeta(3)
    -2.404114
    """
    return sc.polygamma(n, x)


def _no_order_derivative(g, ans, n, x):
    raise NoGradientRuleError("polygamma(n, x) is not differentiable in its integer order n; "
                              "pass n as a plain integer (wrap it with gradkit.stop_gradient).")


_next_polygamma = lambda g, ans, n, x: g * polygamma(n + 1, x)  # noqa: E731
defvjp(polygamma.primitive, _no_order_derivative, _next_polygamma)
defjvp(polygamma.primitive, _no_order_derivative, _next_polygamma)

# -- sigmoid family
def_elementwise(sc.expit, lambda g, ans, x: g * ans * sc.expit(-x))
def_elementwise(sc.logit, lambda g, ans, x: g / (x * (1.0 - x)))
def_elementwise(sc.log_expit, lambda g, ans, x: g * sc.expit(-x))

# -- error function and the normal distribution
def_elementwise(sc.erf, lambda g, ans, x: g * _TWO_OVER_SQRT_PI * np.exp(-x * x))
def_elementwise(sc.erfc, lambda g, ans, x: -g * _TWO_OVER_SQRT_PI * np.exp(-x * x))
def_elementwise(sc.erfinv, lambda g, ans, x: g * _SQRT_PI_OVER_TWO * np.exp(ans * ans))
def_elementwise(sc.erfcinv, lambda g, ans, x: -g * _SQRT_PI_OVER_TWO * np.exp(ans * ans))
def_elementwise(sc.ndtr, lambda g, ans, x: g * np.exp(-0.5 * x * x) / _SQRT_2PI)
def_elementwise(sc.ndtri, lambda g, ans, x: g * _SQRT_2PI * np.exp(0.5 * ans * ans))
# pdf / cdf computed in logs: finite where ndtr(x) underflows (x << 0)
def_elementwise(sc.log_ndtr, lambda g, ans, x: g * np.exp(-0.5 * x * x - _LOG_SQRT_2PI - ans))

# -- gamma family
def_elementwise(sc.gammaln, lambda g, ans, x: g * sc.digamma(x))
def_elementwise(sc.gamma, lambda g, ans, x: g * ans * sc.digamma(x))
def _in_dtype_of(d, ans):
    """``d`` in the float dtype of the output ``ans`` (scipy computes polygamma, and betaln of
    Python floats, in float64: a float32 input keeps float32 derivatives, as its value)."""
    dtype = getattr(getval(ans), "dtype", None)
    if dtype is not None and dtype.kind == "f" and getval(d).dtype != dtype:
        return d.astype(dtype)
    return d


def_elementwise(sc.digamma, lambda g, ans, x: g * _in_dtype_of(polygamma(1, x), ans))


# -- x log y and entropies: 0 log 0 = 0, so the derivative in y vanishes where x == 0
def _x_over(x, y, singular):
    """x / y, with 0 where x == 0 and y is singular (the limit along x == 0)."""
    return x / np.where((x == 0) & singular, 1.0, y)


def_elementwise(sc.xlogy, lambda g, ans, x, y: g * np.log(y),
                lambda g, ans, x, y: g * _x_over(x, y, y == 0))
def_elementwise(sc.xlog1py, lambda g, ans, x, y: g * np.log1p(y),
                lambda g, ans, x, y: g * _x_over(x, 1.0 + y, y == -1))
def_elementwise(sc.entr, lambda g, ans, x: -g * (np.log(x) + 1.0))
def_elementwise(sc.rel_entr, lambda g, ans, x, y: g * (np.log(x / y) + 1.0),
                lambda g, ans, x, y: -g * x / y)
def_elementwise(sc.kl_div, lambda g, ans, x, y: g * np.log(x / y),
                lambda g, ans, x, y: g * (1.0 - x / y))


# -- scipy.special's Python-level functions: logsumexp, softmax, log_softmax
# They convert their input with np.asarray, which no NumPy protocol can intercept, so gradkit
# wraps them in scipy.special once, at import: a call that sees a traced value goes to
# gradkit's stable primitive with scipy's defaults (softmax over *all* entries when axis is
# None); any other call goes to scipy's own function unchanged.
def _scipy_logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    axis = tuple(axis) if isinstance(axis, list) else axis
    if not return_sign and (b is None or np.all(getval(b) >= 0)):
        return stable.logsumexp(a, axis=axis, keepdims=keepdims, b=b)
    # signed weights or return_sign: log|sum b e^(a - m)| + m, with m held constant
    m = getval(a).max(axis=axis, keepdims=True) if np.size(getval(a)) else 0.0
    m = np.where(np.isfinite(m), m, 0.0)
    total = np.sum((1.0 if b is None else b) * np.exp(a - m), axis=axis, keepdims=True)
    out = np.log(np.abs(total)) + m
    sign = np.sign(getval(total))
    if not keepdims:
        squeeze = tuple(range(np.ndim(out))) if axis is None else axis
        out, sign = np.squeeze(out, axis=squeeze), np.squeeze(sign, axis=squeeze)
    if return_sign:
        return out, sign
    return np.where(sign < 0, np.nan, out)  # scipy: the log of a negative sum is nan


def _route_scipy(name, traced_version):
    original = getattr(sc, name)
    original = getattr(original, "__wrapped__", original)  # imported twice: wrap once

    @functools.wraps(original)
    def routed(*args, **kwargs):
        for v in itertools.chain(args, kwargs.values()):
            if isinstance(v, (Tracer, BatchTracer)):
                traced = traced_version(*args, **kwargs)
                plain = (tree_map(getval, args), tree_map(getval, kwargs))
                if any(isinstance(p, BatchTracer) for p in tree_flatten(plain)[0]):
                    return traced  # (inside gk.vmap scipy cannot compute the values)
                # scipy's own values (its sums round differently), the primitives' derivatives
                value = original(*plain[0], **plain[1])
                if isinstance(value, tuple):  # (return_sign=True: the sign has none)
                    return tuple(attach(v, d) for v, d in zip(value, traced))
                return attach(value, traced)
        return original(*args, **kwargs)

    routed.__doc__ = (f"scipy.special.{name}, differentiable by gradkit on traced values "
                      f"(see gradkit.autodiff.rules.special).\n\n{original.__doc__ or ''}")
    setattr(sc, name, routed)


_route_scipy("logsumexp", _scipy_logsumexp)
_route_scipy("softmax", lambda x, axis=None: stable.softmax(x, axis=axis))
_route_scipy("log_softmax", lambda x, axis=None: stable.log_softmax(x, axis=axis))


# ============================================================================ issue 13: more
# scipy.special (and np.i0). Orders and shape parameters that scipy computes with no usable
# derivative (the order v of a Bessel function, the a and b of the incomplete functions) are
# refused with a sentence naming the function and the argument, when a derivative would flow
# through them (in reverse mode, during the backward pass).
def _refuse(fname, argname, argnum, why=""):
    def rule(g, ans, *args, **kwargs):
        raise NoGradientRuleError(
            f"{fname} is not differentiable in {argname} (argument {argnum}) in gradkit{why}: "
            f"only the derivative in x is written. Pass {argname} as a plain number or array, "
            f"or wrap it with gradkit.stop_gradient.")
    return rule


# -- beta: d/da log B(a, b) = psi(a) - psi(a + b) (DLMF 5.12.1 and 5.15.1), the same in b
def _dbetaln(g, ans, a, b):
    return g * (sc.digamma(a) - sc.digamma(a + b))


def_elementwise(sc.betaln, _dbetaln, lambda g, ans, a, b: _dbetaln(g, ans, b, a))
def_elementwise(sc.beta, lambda g, ans, a, b: _dbetaln(g * ans, ans, a, b),
                lambda g, ans, a, b: _dbetaln(g * ans, ans, b, a))

# -- regularized incomplete functions, in x only. d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b)
# (DLMF 8.17.2); d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a) = -d/dx Q(a, x) (DLMF 8.2.4, 8.8.13).
# Written in logs (xlogy: a == 1 at x == 0 is 0 log 0 = 0, so the density is finite there).
def _betainc_dx(g, ans, a, b, x):
    return g * _in_dtype_of(np.exp(sc.xlogy(a - 1.0, x) + sc.xlog1py(b - 1.0, -x)
                                   - sc.betaln(a, b)), ans)


def _gammainc_density(a, x):
    return np.exp(sc.xlogy(a - 1.0, x) - x - sc.gammaln(a))


def_elementwise(sc.betainc, _refuse("scipy.special.betainc(a, b, x)", "a", 0),
                _refuse("scipy.special.betainc(a, b, x)", "b", 1), _betainc_dx)
def_elementwise(sc.gammainc, _refuse("scipy.special.gammainc(a, x)", "a", 0),
                lambda g, ans, a, x: g * _gammainc_density(a, x))
def_elementwise(sc.gammaincc, _refuse("scipy.special.gammaincc(a, x)", "a", 0),
                lambda g, ans, a, x: -g * _gammainc_density(a, x))

# -- Bessel functions, in x (DLMF 10.6.1 and 10.29.1): C_v' = (C_{v-1} - C_{v+1}) / 2 for
# C = J, Y; I_v' = (I_{v-1} + I_{v+1}) / 2. ive(v, x) = iv(v, x) e^(-|x|), so
# ive' = (ive(v-1, x) + ive(v+1, x)) / 2 - sign(x) ive(v, x) (at x == 0, where e^(-|x|) has a
# kink, sign(0) = 0: the minimum-norm subgradient of the conventions). jn is jv in scipy.
# The first-order functions use recurrences without 1/x, so they are finite at x == 0.
def_elementwise(sc.jv, _refuse("scipy.special.jv(v, x)", "the order v", 0),
                lambda g, ans, v, x: g * (sc.jv(v - 1.0, x) - sc.jv(v + 1.0, x)) * 0.5)
def_elementwise(sc.yv, _refuse("scipy.special.yv(v, x)", "the order v", 0),
                lambda g, ans, v, x: g * (sc.yv(v - 1.0, x) - sc.yv(v + 1.0, x)) * 0.5)
def_elementwise(sc.yn, _refuse("scipy.special.yn(n, x)", "the order n", 0),
                lambda g, ans, n, x: g * (sc.yn(n - 1, x) - sc.yn(n + 1, x)) * 0.5)
def_elementwise(sc.iv, _refuse("scipy.special.iv(v, x)", "the order v", 0),
                lambda g, ans, v, x: g * (sc.iv(v - 1.0, x) + sc.iv(v + 1.0, x)) * 0.5)
def_elementwise(sc.ive, _refuse("scipy.special.ive(v, x)", "the order v", 0),
                lambda g, ans, v, x: g * ((sc.ive(v - 1.0, x) + sc.ive(v + 1.0, x)) * 0.5
                                          - np.sign(getval(x)) * ans))
def_elementwise(sc.j0, lambda g, ans, x: -g * sc.j1(x))                       # J0' = -J1
def_elementwise(sc.j1, lambda g, ans, x: g * (sc.j0(x) - sc.jv(2.0, x)) * 0.5)
def_elementwise(sc.y0, lambda g, ans, x: -g * sc.y1(x))                       # Y0' = -Y1
def_elementwise(sc.y1, lambda g, ans, x: g * (sc.y0(x) - sc.yv(2.0, x)) * 0.5)
def_elementwise(sc.i0, lambda g, ans, x: g * sc.i1(x))                        # I0' = I1
def_elementwise(sc.i1, lambda g, ans, x: g * (sc.i0(x) + sc.iv(2.0, x)) * 0.5)
# NumPy's own np.i0 (a Python function, reached through __array_function__): the same I0,
# computed by NumPy (its values are NumPy's), with I0' = I1 from scipy.
def_elementwise(np.i0, lambda g, ans, x: g * sc.i1(x))

# -- gamma's sign: constant between the poles, so its derivative is 0 (a flat ufunc, like
# np.sign: it returns a plain array)
NONDIFF_UFUNCS.add(sc.gammasgn)


# -- rgamma = 1 / Gamma. For x >= 1/2: rgamma' = -rgamma(x) psi(x). For x < 1/2 psi has poles
# where rgamma has zeros (x = 0, -1, -2, ...), so the product would be 0 * inf; there the
# reflection formula 1/Gamma(x) = Gamma(1 - x) sin(pi x) / pi (DLMF 5.5.3) is differentiated:
#   rgamma'(x) = Gamma(1 - x) (cos(pi x) - psi(1 - x) sin(pi x) / pi),
# finite everywhere on x < 1/2 and exact at the zeros: rgamma'(-k) = (-1)^k k!. Each branch
# sees a harmless stand-in where it is not used, so no nan leaks into the other's derivative.
def _rgamma_dx(g, ans, x):
    right = getval(x) >= 0.5
    xr = np.where(right, x, 1.0)
    xl = np.where(right, 0.0, x)
    d_right = -sc.rgamma(xr) * sc.digamma(xr)
    d_left = sc.gamma(1.0 - xl) * (np.cos(np.pi * xl)
                                   - sc.digamma(1.0 - xl) * np.sin(np.pi * xl) / np.pi)
    return g * np.where(right, d_right, d_left)


def_elementwise(sc.rgamma, _rgamma_dx)

# -- scipy.special.polygamma and multigammaln are Python functions that call np.asarray:
# routed, like logsumexp above, to gradkit primitives computing scipy's own values.
_route_scipy("polygamma", polygamma)
_SCIPY_MULTIGAMMALN = getattr(sc.multigammaln, "__wrapped__", sc.multigammaln)


@differentiable
def multigammaln(a, d):
    """scipy.special.multigammaln(a, d), differentiable in ``a`` (``d``, the integer dimension,
    has no derivative). log Gamma_d(a) = d(d-1)/4 log(pi) + sum_{j<d} gammaln(a - j/2), so
    d/da = sum_{j<d} digamma(a - j/2)."""
    return _SCIPY_MULTIGAMMALN(a, d)


def _multigammaln_da(g, ans, a, d):
    half_steps = 0.5 * np.arange(int(getval(d)))
    return g * np.sum(sc.digamma(np.expand_dims(a, -1) - half_steps), axis=-1)


defvjp(multigammaln.primitive, _multigammaln_da, None)
defjvp(multigammaln.primitive, _multigammaln_da, None)
_route_scipy("multigammaln", multigammaln)


# ============================================================================ real code
# scipy.special's versions of NumPy's elementary ufuncs, and more of what likelihoods use.
# An argument with no rule written (MISSING) refuses to be differentiated, never drops it.
_LN10 = float(np.log(10.0))
def_elementwise(sc.expm1, lambda g, ans, x: g * (ans + 1.0), needs="ans")
def_elementwise(sc.log1p, lambda g, ans, x: g / (x + 1.0), needs="x")
def_elementwise(sc.cbrt, lambda g, ans, x: g / (3.0 * ans * ans), needs="ans")
def_elementwise(sc.exp10, lambda g, ans, x: g * ans * _LN10, needs="ans")
def_elementwise(sc.exp2, lambda g, ans, x: g * ans * float(np.log(2.0)), needs="ans")
def_elementwise(sc.loggamma, lambda g, ans, x: g * sc.digamma(x), needs="x")  # (real x > 0)
# erfcx(x) = exp(x^2) erfc(x): erfcx' = 2 x erfcx - 2 / sqrt(pi)
def_elementwise(sc.erfcx, lambda g, ans, x: g * (2.0 * x * ans - _TWO_OVER_SQRT_PI),
                needs="ans x")
# i0e(x) = exp(-|x|) I0(x): i0e' = i1e(x) - sign(x) i0e(x)
def_elementwise(sc.i0e, lambda g, ans, x: g * (sc.i1e(x) - np.sign(x) * ans), needs="ans x")
# i1e(x) = exp(-|x|) I1(x): i1e' = (i0e(x) + ive(2, x)) / 2 - sign(x) i1e(x)
def_elementwise(sc.i1e, lambda g, ans, x: g * ((sc.i0e(x) + sc.ive(2.0, x)) * 0.5
                                               - np.sign(x) * ans), needs="ans x")
# huber(d, r) = r^2 / 2 (|r| <= d), d (|r| - d / 2) otherwise
def_elementwise(sc.huber,
                lambda g, ans, d, r: g * np.where(np.abs(r) <= d, 0.0, np.abs(r) - d),
                lambda g, ans, d, r: g * np.clip(r, -d, d), needs=("d r", "d r"))
# pseudo_huber(d, r) = d^2 (sqrt(1 + (r / d)^2) - 1)
def_elementwise(sc.pseudo_huber,
                lambda g, ans, d, r: g * (2.0 * ans / d - r * r / (
                    d * np.sqrt(1.0 + (r / d) ** 2))),
                lambda g, ans, d, r: g * r / np.sqrt(1.0 + (r / d) ** 2),
                needs=("ans d r", "d r"))
# binom(n, k) = Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1)), poch(z, m) = Gamma(z + m) / Gamma(z)
def_elementwise(sc.binom,
                lambda g, ans, n, k: g * ans * (sc.digamma(n + 1.0) - sc.digamma(n - k + 1.0)),
                lambda g, ans, n, k: g * ans * (sc.digamma(n - k + 1.0) - sc.digamma(k + 1.0)),
                needs=("ans n k", "ans n k"))
def_elementwise(sc.poch,
                lambda g, ans, z, m: g * ans * (sc.digamma(z + m) - sc.digamma(z)),
                lambda g, ans, z, m: g * ans * sc.digamma(z + m), needs=("ans z m", "ans z m"))
# boxcox(x, l) = (x^l - 1) / l (log x at l = 0); inv_boxcox(y, l) = (1 + l y)^(1 / l)
def_elementwise(sc.boxcox, lambda g, ans, x, lmbda: g * x ** (lmbda - 1.0), MISSING,
                needs=("x lmbda", ""))
def_elementwise(sc.inv_boxcox, lambda g, ans, y, lmbda: g * np.where(
    lmbda == 0, ans, ans / (1.0 + lmbda * y)), MISSING, needs=("ans y lmbda", ""))
