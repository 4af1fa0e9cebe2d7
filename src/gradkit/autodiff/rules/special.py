"""Rules for the ``scipy.special`` ufuncs of machine learning, and a differentiable polygamma.

scipy.special's functions such as ``expit``, ``erf``, ``gammaln`` or ``xlogy`` are NumPy ufuncs,
so ``scipy.special.erf(traced)`` reaches these rules through ``__array_ufunc__`` like
``np.exp`` does. ``scipy.special.polygamma``, ``logsumexp``, ``softmax`` and ``log_softmax``
are Python functions that convert their argument with ``np.asarray``, so they cannot see a
traced value: use :func:`polygamma` here and ``gradkit.logsumexp`` / ``gradkit.softmax`` /
``gradkit.log_softmax`` (numerically stable primitives) instead.

At ``x = 0``, ``xlogy(x, y)`` and ``xlog1py(x, y)`` are 0 for every ``y``, so their derivative
with respect to ``y`` is 0 there (not ``0 / 0``).
"""
import math

import numpy as np
import scipy.special as sc

from ..tracer import NoGradientRuleError, defjvp, defvjp, differentiable
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
