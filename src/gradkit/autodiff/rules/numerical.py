"""Rules for NumPy functions computed in C with an order of operations no composition of
primitives reproduces bit for bit: ``correlate``, ``convolve``, ``interp``, ``quantile``,
``percentile``, ``np.maximum.accumulate`` / ``np.minimum.accumulate`` (running extrema) and
``np.logaddexp.reduce``.

Each returns NumPy's own value and the derivative of an equivalent composition of primitives
(:func:`numpy_value`), so the values are NumPy's and derivatives of every order follow from
rules that are already tested:

- ``correlate(a, v, mode)``: the windows of ``a`` zero-padded by ``len(v) - 1`` on each side,
  times ``v``, sliced for ``"valid"`` / ``"same"`` as NumPy slices; ``convolve``: NumPy's own
  reduction to ``correlate`` (the longer argument first, ``v`` reversed). Real input only.
- ``interp(x, xp, fp, left, right, period)``: ``fp[j] + s (x - xp[j])`` on the segment ``j``
  NumPy picks, differentiable in ``x``, ``xp``, ``fp``, ``left`` and ``right``. At a sample
  point ``x == xp[j]`` the slope ``s`` is the minimum-norm subgradient of the two segments'
  slopes (:mod:`gradkit.autodiff.conventions`; outside ``[xp[0], xp[-1]]`` the slope is 0).
- ``quantile`` / ``percentile`` (and their ``nan`` forms) with ``method="linear"`` (the
  default): the sorted values (the gradient follows the sort's permutation; NaNs sort last
  and are not counted by the ``nan`` forms) at the two ranks around ``q (n - 1)``, weighted
  linearly.
"""
import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..primitive import (FUNCTION_HANDLERS, UFUNC_METHODS, NoGradientRuleError, defjvp,
                         defvjp, differentiable, identity_rule)
from ..trace import getval, shape_of
from ..tracer import Tracer
from ..batching import BatchTracer
from ...tree import tree_map


@differentiable(name="NumPy's value")
def _numpy_value(value, composite):
    return value


defvjp(_numpy_value.primitive, None, identity_rule, needs=("", ""))
defjvp(_numpy_value.primitive, None, lambda t, ans, value, composite: t)


def numpy_value(fn, composite, *args, **kwargs):
    """``fn(*args, **kwargs)`` computed by NumPy on the plain values, carrying the derivative
    of ``composite(*args, **kwargs)`` (an equivalent computation with differentiable steps).

    Args:
        fn: the NumPy function.
        composite: the same function written with primitives.
        *args, **kwargs: the call's arguments (traced or not).

    Returns:
        NumPy's value, traced with the composite's derivative.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> f = lambda x: numpy_value(np.cumsum, lambda y: np.cumsum(y), x)[-1]
        >>> gk.grad(f)(np.array([1.0, 2.0]))
        array([1., 1.])
    """
    value = fn(*tree_map(getval, args), **tree_map(getval, kwargs))
    return attach(value, composite(*args, **kwargs))


def attach(value, derivative):
    """The plain ``value`` carrying the derivative of ``derivative`` (equal to it up to
    rounding): what :func:`numpy_value` returns."""
    if np.result_type(getval(derivative)) != np.result_type(value):
        derivative = np.astype(derivative, np.result_type(value))
    return _numpy_value(value, derivative)


def with_numpy_values(fn, handler):
    """A handler for ``fn`` whose values are ``fn``'s own and whose derivatives are
    ``handler``'s (an equivalent composition of primitives), called with ``fn``'s arguments."""
    def exact(*args, **kwargs):
        return numpy_value(fn, handler, *args, **kwargs)
    return exact


def _refuse_complex(fname, *args):
    for a in args:
        if a is not None and np.iscomplexobj(getval(a)):
            raise NoGradientRuleError(
                f"gradkit differentiates np.{fname} on real input only; for complex input "
                "write it with np.fft or with slices and sums.")


# ----------------------------------------------------------------------------- correlate
def _correlation(a, v, mode):
    """NumPy's ``correlate(a, v, mode)`` of 1-D arrays, from windows of the padded ``a``."""
    n, m = shape_of(a)[0], shape_of(v)[0]
    padded = np.pad(a, (m - 1, m - 1))
    full = np.lib.stride_tricks.sliding_window_view(padded, m) @ v
    if mode == "full":
        return full
    if mode == "valid":
        return full[min(n, m) - 1:min(n, m) - 1 + abs(n - m) + 1]
    start = (m - 1) // 2 if n >= m else n // 2  # "same": NumPy's centring
    return full[start:start + max(n, m)]


def _mode_name(mode):
    names = {0: "valid", 1: "same", 2: "full"}
    mode = names.get(mode, mode)
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
    return mode


def _as_1d(a, fname):
    if len(shape_of(a)) > 1:
        raise ValueError(f"np.{fname}: object too deep for desired array")
    return np.reshape(a, (-1,)) if len(shape_of(a)) == 0 else a


def _vectors(fname, a, v, mode):
    """``(a, v, mode)`` checked as NumPy checks np.correlate / np.convolve's: real (else
    refused), 1-D (a scalar becomes one), not empty; ``mode`` by name."""
    _refuse_complex(fname, a, v)
    mode = _mode_name(mode)
    a, v = _as_1d(a, fname), _as_1d(v, fname)
    if shape_of(a)[0] == 0 or shape_of(v)[0] == 0:
        raise ValueError("v cannot be empty" if shape_of(v)[0] == 0 else "a cannot be empty")
    return a, v, mode


def _correlate(a, v, mode="valid"):
    a, v, mode = _vectors("correlate", a, v, mode)
    return numpy_value(lambda a, v: np.correlate(a, v, mode),
                       lambda a, v: _correlation(a, v, mode), a, v)


def _convolve(a, v, mode="full"):
    a, v, mode = _vectors("convolve", a, v, mode)

    def composite(a, v):  # NumPy: the longer one first, then correlate with v reversed
        if shape_of(v)[0] > shape_of(a)[0]:
            a, v = v, a
        return _correlation(a, v[::-1], mode)
    return numpy_value(lambda a, v: np.convolve(a, v, mode), composite, a, v)


# ----------------------------------------------------------------------------- interp
def _min_norm(a, b):
    """The element of [a, b] (or [b, a]) closest to zero."""
    return np.where(a * b <= 0, 0.0, np.where(np.abs(a) <= np.abs(b), a, b))


def _interpolation(x, xp, fp, left, right, period):
    if period is not None:  # NumPy's steps: both onto one period, sorted, one point added
        x = x % period
        xp = xp % period
        order = np.argsort(getval(xp))
        xp, fp = xp[order], fp[order]
        xp = np.concatenate([xp[-1:] - period, xp, xp[0:1] + period])
        fp = np.concatenate([fp[-1:], fp, fp[0:1]])
        left = right = None
    xv, xpv = getval(x), getval(xp)
    n = shape_of(xp)[0]
    k = np.searchsorted(xpv, xv, side="right")  # xp[k - 1] <= x < xp[k]
    j = np.clip(k - 1, 0, n - 1)

    def at(a, index):  # a[index], written so that under gk.vmap index may differ per example
        flat = np.take_along_axis(a, np.reshape(index, (-1,)), axis=0)
        return np.reshape(flat, np.shape(index))
    below, above = k == 0, (k == n) & (xv != xpv[n - 1])
    if n == 1:
        inside = at(fp, j) + 0.0 * x
    else:
        zero = np.zeros_like(fp, shape=(1,))
        slopes = np.concatenate([zero, (fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1]), zero])
        hit = xv == at(xpv, j)  # on a sample point: the kink between segments j - 1 and j
        slope = np.where(hit, _min_norm(at(slopes, j), at(slopes, np.minimum(j + 1, n))),
                         at(slopes, np.minimum(k, n)))
        inside = at(fp, j) + slope * (x - at(xp, j))
    low = fp[0] if left is None else left
    high = fp[n - 1] if right is None else right
    return np.where(below, low, np.where(above, high, inside))


def _plain_float(a):
    """A plain argument as the float array NumPy's C code reads (lists, ints)."""
    if isinstance(a, (Tracer, BatchTracer)) or a is None:
        return a
    return np.asarray(a, dtype=np.result_type(np.asarray(a), np.float64))


def _interp(x, xp, fp, left=None, right=None, period=None):
    _refuse_complex("interp", x, xp, fp, left, right)
    x, xp, fp, left, right = map(_plain_float, (x, xp, fp, left, right))
    if shape_of(xp) != shape_of(fp) or len(shape_of(xp)) != 1:
        return np.interp(*tree_map(getval, (x, xp, fp, left, right, period)))  # NumPy raises
    if period is not None and not isinstance(period, (int, float, np.number)):
        raise NoGradientRuleError("np.interp: gradkit does not differentiate in period; pass "
                                  "it as a plain number.")
    return numpy_value(np.interp, _interpolation, x, xp, fp, left, right, period)


# ----------------------------------------------------------------------------- quantile
def _quantile_composite(a, q, axis, keepdims, skip_nan=False):
    nd = len(shape_of(a))
    shape = shape_of(a)
    axes = tuple(range(nd)) if axis is None else normalize_axis_tuple(axis, nd)
    rest = [d for d in range(nd) if d not in axes]
    x = np.transpose(a, rest + list(axes))
    x = np.reshape(x, tuple(shape[d] for d in rest) + (-1,))
    ordered = np.sort(x, axis=-1)  # NaNs last; the gradient follows the sort's permutation
    length = shape_of(x)[-1]
    n = length - np.sum(np.isnan(getval(x)), axis=-1, keepdims=True) if skip_nan else \
        np.full(shape_of(x)[:-1] + (1,), length)
    q = np.asarray(q, dtype=np.float64)
    qs = np.reshape(q, q.shape + (1,) * len(shape_of(ordered)))  # q's axes first, as NumPy
    rank = qs * (np.maximum(n, 1) - 1)
    lo = np.clip(np.floor(rank), 0, max(length - 1, 0)).astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    weight = rank - lo
    full = np.broadcast_to(ordered, q.shape + shape_of(ordered))
    low = np.take_along_axis(full, lo, axis=-1)
    high = np.take_along_axis(full, hi, axis=-1)
    out = (low + (high - low) * weight)[..., 0]
    if keepdims:
        out = np.reshape(out, q.shape + tuple(1 if d in axes else s for d, s in enumerate(shape)))
    return out


def _quantile_handler(fname, scale, skip_nan=False):
    def handler(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
        if method != "linear" or interpolation is not None or weights is not None:
            raise NoGradientRuleError(
                f"gradkit differentiates np.{fname} with method='linear' (the default) and no "
                "weights only.")
        if out is not None:
            raise NoGradientRuleError(f"np.{fname} with out= is not differentiable in "
                                      "gradkit; assign the result instead.")
        if isinstance(q, (Tracer, BatchTracer)):
            raise NoGradientRuleError(f"np.{fname}: gradkit does not differentiate in q.")
        _refuse_complex(fname, a)
        qv = np.true_divide(q, 100) if scale else q
        return numpy_value(
            lambda a, q: getattr(np, fname)(a, q, axis=axis, keepdims=keepdims),
            lambda a, q: _quantile_composite(a, qv, axis, keepdims, skip_nan), a, q)
    return handler


FUNCTION_HANDLERS.update({
    np.correlate: _correlate, np.convolve: _convolve, np.interp: _interp,
    np.quantile: _quantile_handler("quantile", False),
    np.percentile: _quantile_handler("percentile", True),
    np.nanquantile: _quantile_handler("nanquantile", False, skip_nan=True),
    np.nanpercentile: _quantile_handler("nanpercentile", True, skip_nan=True),
})


# ----------------------------------------------------------------------------- ufunc methods
def _running_extremum(ufunc, reduce, fill):
    """``np.maximum.accumulate`` / ``np.minimum.accumulate``: entry i is the extremum of the
    entries up to i, written as ``reduce`` over a triangle of masked copies (n * n per slice),
    so ties share the gradient as ``np.max`` / ``np.min`` do."""
    def accumulate(a, axis=0, dtype=None, out=None):
        if dtype is not None or out is not None:
            raise NoGradientRuleError(f"np.{ufunc.__name__}.accumulate with dtype= or out= is "
                                      "not differentiable in gradkit.")

        def composite(a):
            x = np.moveaxis(a, axis, -1)
            n = shape_of(x)[-1]
            upto = np.tril(np.ones((n, n), dtype=bool))
            masked = np.where(upto, np.expand_dims(x, -2), fill)
            return np.moveaxis(reduce(masked, axis=-1), -1, axis)
        return numpy_value(lambda a: ufunc.accumulate(a, axis=axis), composite, a)
    return accumulate


def _logaddexp_reduce(a, axis=0, dtype=None, out=None, keepdims=False, **kwargs):
    """``np.logaddexp.reduce``: NumPy's pairwise values, the derivative of log-sum-exp
    (the softmax weights of the entries)."""
    if dtype is not None or out is not None or kwargs:
        raise NoGradientRuleError("np.logaddexp.reduce with dtype=, out=, where= or initial= "
                                  "is not differentiable in gradkit.")

    def composite(a):
        top = np.max(getval(a), axis=axis, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        total = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
        return total if keepdims else np.squeeze(total, axis=axis)
    return numpy_value(lambda a: np.logaddexp.reduce(a, axis=axis, keepdims=keepdims),
                       composite, a)


UFUNC_METHODS.update({
    (np.maximum, "accumulate"): _running_extremum(np.maximum, np.max, -np.inf),
    (np.minimum, "accumulate"): _running_extremum(np.minimum, np.min, np.inf),
    (np.logaddexp, "reduce"): _logaddexp_reduce,
})
