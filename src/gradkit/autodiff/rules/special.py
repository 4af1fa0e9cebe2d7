"""Rules for the ``scipy.special`` ufuncs of machine learning, and a differentiable polygamma.

scipy.special's functions such as ``expit``, ``erf``, ``gammaln`` or ``xlogy`` are NumPy ufuncs,
so ``scipy.special.erf(traced)`` reaches these rules through ``__array_ufunc__`` like
``np.exp`` does. ``scipy.special.logsumexp``, ``softmax`` and ``log_softmax`` are Python
functions that convert their argument with ``np.asarray``, which no NumPy protocol reaches:
importing gradkit wraps those three in ``scipy.special`` so that a traced argument goes to
gradkit's stable primitives (untraced calls run scipy's code unchanged). A reference taken
before gradkit was imported (``from scipy.special import logsumexp`` first) is scipy's own
function and raises gradkit's conversion error on a traced value; ``gradkit.logsumexp`` always
works. ``scipy.special.polygamma`` is the same kind of function: use :func:`polygamma` here.

At ``x = 0``, ``xlogy(x, y)`` and ``xlog1py(x, y)`` are 0 for every ``y``, so their derivative
with respect to ``y`` is 0 there (not ``0 / 0``).
"""
import functools
import itertools
import math

import numpy as np
import scipy.special as sc

from .. import stable
from ..primitive import NoGradientRuleError, defjvp, defvjp, differentiable
from ..trace import getval
from ..tracer import Tracer
from .elementwise import def_elementwise

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
def_elementwise(sc.digamma, lambda g, ans, x: g * polygamma(1, x))


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
            if isinstance(v, Tracer):
                return traced_version(*args, **kwargs)
        return original(*args, **kwargs)

    routed.__doc__ = (f"scipy.special.{name}, differentiable by gradkit on traced values "
                      f"(see gradkit.autodiff.rules.special).\n\n{original.__doc__ or ''}")
    setattr(sc, name, routed)


_route_scipy("logsumexp", _scipy_logsumexp)
_route_scipy("softmax", lambda x, axis=None: stable.softmax(x, axis=axis))
_route_scipy("log_softmax", lambda x, axis=None: stable.log_softmax(x, axis=axis))
