"""Numerically stable primitives: logsumexp, softmax, log_softmax, sigmoid, log_sigmoid, softplus.

Written naively (``np.log(np.sum(np.exp(x)))``, ``1 / (1 + np.exp(-x))``) these overflow to
``inf`` or ``nan`` for inputs of a few hundred (float64) or about 90 (float32), and so do their
gradients. Each function here is one primitive: its value is computed with the usual shifts
(``x - max(x)``, ``exp(-|x|)``) and its VJP and JVP are written in terms of its own stable
output, so values and derivatives of every order stay finite at ``|x| = 1000``. They take plain
arrays too (no tracing needed), keep float32 as float32, and agree with ``scipy.special``.
"""
import numpy as np

from .primitive import defjvp, defvjp, differentiable

__all__ = ["logsumexp", "softmax", "log_softmax", "sigmoid", "log_sigmoid", "softplus"]


def _axis(axis):
    return tuple(int(a) for a in axis) if isinstance(axis, (tuple, list)) else axis


def _keep(ans, axis, keepdims):
    """A reduced result with the reduced axes put back as size-1 axes (a full reduction is a
    0-d array already broadcasting against everything)."""
    if keepdims or axis is None:
        return ans
    return np.expand_dims(ans, axis)


def _shift(x, axis):
    """max(x) over ``axis`` (kept), or 0 where it is not finite (all -inf: nothing to shift).

    Primitive bodies see plain arrays, so array methods (cheaper than NumPy's Python-level
    wrappers on the small arrays of a loss) are safe here."""
    if x.size == 0:
        return np.zeros_like(x)
    m = x.max(axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    return m


def _as_float(x):
    x = x if hasattr(x, "dtype") else np.asarray(x)  # arrays stay on their device
    return x if x.dtype.kind in "fc" else x.astype(float)


# ----------------------------------------------------------------------------- logsumexp
@differentiable(name="logsumexp", broadcasts=True)  # x and the weights b broadcast together
def _logsumexp(x, b, axis, keepdims):
    x = _as_float(x)
    m = _shift(x, axis)
    e = np.exp(x - m)
    if b is not None:
        e = b * e
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(e, axis=axis, keepdims=True)) + m
    return out if keepdims else (np.squeeze(out, axis=axis) if axis is not None
                                 else np.reshape(out, ()))


def _lse_weights(ans, x, axis, keepdims):
    """exp(x - logsumexp(x)): at most 1, so it cannot overflow."""
    return np.exp(x - _keep(ans, axis, keepdims))


def _lse_vjp_x(g, ans, x, b, axis, keepdims):
    w = _lse_weights(ans, x, axis, keepdims)
    w = w if b is None else b * w
    return _keep(g, axis, keepdims) * w


def _lse_vjp_b(g, ans, x, b, axis, keepdims):
    return _keep(g, axis, keepdims) * _lse_weights(ans, x, axis, keepdims)


defvjp(_logsumexp.primitive, _lse_vjp_x, _lse_vjp_b)
defjvp(_logsumexp.primitive,
       lambda t, ans, x, b, axis, keepdims: np.sum(
           t * _lse_weights(ans, x, axis, keepdims) * (1.0 if b is None else b),
           axis=axis, keepdims=keepdims),
       lambda t, ans, x, b, axis, keepdims: np.sum(
           t * _lse_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False, b=None):
    r"""The log of the sum of exponentials, computed without overflow.

    .. math:: \operatorname{logsumexp}(x) = \log \sum_i b_i e^{x_i}
              = m + \log \sum_i b_i e^{x_i - m}, \qquad m = \max_i x_i

    Its gradient is the softmax: :math:`\partial / \partial x_i = b_i e^{x_i - \text{lse}}`, and
    :math:`\partial / \partial b_i = e^{x_i - \text{lse}}`.

    Args:
        x: array (plain or traced).
        axis: int, tuple of ints, or None (all axes), as in ``np.sum``.
        keepdims: keep the reduced axes with size 1.
        b: optional non-negative weights broadcastable with ``x`` (``scipy.special.logsumexp``'s
            ``b``); differentiable too.

    Returns:
        The reduced array (same float dtype as ``x``).

    ``scipy.special.logsumexp`` called on a traced value comes here too (gradkit routes it;
    see :mod:`gradkit.autodiff.rules.special`).

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> from gradkit.autodiff.stable import logsumexp
        >>> round(float(logsumexp(np.array([1000.0, 1000.0]))), 6)
        1000.693147
        >>> gk.grad(logsumexp)(np.array([1000.0, 1000.0]))
        array([0.5, 0.5])
    """
    return _logsumexp(x, b, axis=_axis(axis), keepdims=keepdims)


# ----------------------------------------------------------------------------- softmax
@differentiable(name="softmax")
def _softmax(x, axis):
    x = _as_float(x)
    e = np.exp(x - _shift(x, axis))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_vjp(g, ans, x, axis):
    # the Jacobian diag(s) - s s^T is symmetric: the same formula serves both modes
    return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))


defvjp(_softmax.primitive, _softmax_vjp)
defjvp(_softmax.primitive, _softmax_vjp)


def softmax(x, axis=-1):
    r"""Softmax along ``axis``: :math:`s_i = e^{x_i - m} / \sum_j e^{x_j - m}` with
    :math:`m = \max_j x_j`, which never overflows.

    VJP: :math:`\bar x = s \odot (\bar s - \langle \bar s, s \rangle)` (and the same for JVP).

    Args:
        x: array (plain or traced).
        axis: int, tuple of ints, or None (all entries); default the last axis.

    Returns:
        An array shaped like ``x`` whose entries along ``axis`` are positive and sum to 1.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.stable import softmax
        >>> softmax(np.array([1000.0, 1000.0, -1000.0]))
        array([0.5, 0.5, 0. ])
    """
    return _softmax(x, axis=_axis(axis))


@differentiable(name="log_softmax")
def _log_softmax(x, axis):
    x = _as_float(x)
    shifted = x - _shift(x, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


defvjp(_log_softmax.primitive,
       lambda g, ans, x, axis: g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True))
defjvp(_log_softmax.primitive,
       lambda t, ans, x, axis: t - np.sum(np.exp(ans) * t, axis=axis, keepdims=True))


def log_softmax(x, axis=-1):
    r"""Log of the softmax along ``axis``: :math:`x_i - \operatorname{logsumexp}(x)`, finite
    even where the softmax itself underflows to 0.

    VJP: :math:`\bar x = \bar y - \operatorname{softmax}(x) \sum_j \bar y_j`.

    Args:
        x: array (plain or traced).
        axis: int, tuple of ints, or None (all entries); default the last axis.

    Returns:
        An array shaped like ``x``.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.stable import log_softmax
        >>> log_softmax(np.array([0.0, -2000.0]))
        array([    0., -2000.])
    """
    return _log_softmax(x, axis=_axis(axis))


# ----------------------------------------------------------------------------- sigmoid family
@differentiable(name="sigmoid")
def _sigmoid(x):
    x = _as_float(x)
    z = np.exp(-np.abs(x))  # in (0, 1]: no overflow on either side
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


# sigma'(x) = sigma(x) sigma(-x): exact in both tails, where 1 - sigma(x) would round to 0
_sigmoid_partial = lambda g, ans, x: g * ans * sigmoid(-x)  # noqa: E731
defvjp(_sigmoid.primitive, _sigmoid_partial)
defjvp(_sigmoid.primitive, _sigmoid_partial)


def sigmoid(x):
    r"""The logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})` (``scipy.special.expit``),
    computed as :math:`1 / (1 + e^{-|x|})` or :math:`e^{-|x|} / (1 + e^{-|x|})` by sign.

    Derivative: :math:`\sigma'(x) = \sigma(x)\,\sigma(-x)`.

    Args:
        x: an array or number (traced values differentiate).

    Returns:
        :math:`\sigma(x)` elementwise, an array of ``x``'s shape.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.stable import sigmoid
        >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        array([0. , 0.5, 1. ])
    """
    return _sigmoid(x)


@differentiable(name="log_sigmoid")
def _log_sigmoid(x):
    x = _as_float(x)
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


_log_sigmoid_partial = lambda g, ans, x: g * sigmoid(-x)  # noqa: E731
defvjp(_log_sigmoid.primitive, _log_sigmoid_partial)
defjvp(_log_sigmoid.primitive, _log_sigmoid_partial)


def log_sigmoid(x):
    r""":math:`\log \sigma(x) = -\operatorname{softplus}(-x) = \min(x, 0) - \log(1 + e^{-|x|})`
    (``scipy.special.log_expit``), finite for every finite ``x``.

    Derivative: :math:`\sigma(-x)`.

    Args:
        x: an array or number (traced values differentiate).

    Returns:
        :math:`\log\sigma(x)` elementwise, an array of ``x``'s shape.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.stable import log_sigmoid
        >>> log_sigmoid(np.array([-1000.0, 1000.0]))
        array([-1000.,     0.])
    """
    return _log_sigmoid(x)


@differentiable(name="softplus")
def _softplus(x):
    x = _as_float(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


_softplus_partial = lambda g, ans, x: g * sigmoid(x)  # noqa: E731
defvjp(_softplus.primitive, _softplus_partial)
defjvp(_softplus.primitive, _softplus_partial)


def softplus(x):
    r""":math:`\operatorname{softplus}(x) = \log(1 + e^x) = \max(x, 0) + \log(1 + e^{-|x|})`,
    the smooth ReLU, finite for every finite ``x``.

    Derivative: :math:`\sigma(x)`.

    Args:
        x: an array or number (traced values differentiate).

    Returns:
        :math:`\log(1 + e^x)` elementwise, an array of ``x``'s shape.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.stable import softplus
        >>> [round(float(v), 6) for v in softplus(np.array([-1000.0, 0.0, 1000.0]))]
        [0.0, 0.693147, 1000.0]
    """
    return _softplus(x)


# complex input: these rules are written for real numbers and refuse it
from .complex import guard_unverified as _guard  # noqa: E402

_guard()
