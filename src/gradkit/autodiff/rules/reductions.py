"""Rules for reductions: sum, mean, prod, max, min, std, var, cumsum, cumprod (axis, keepdims).

Each NumPy reduction has a handler that takes NumPy's own signature, turns the options that
change the value (``where=``, ``initial=``, ``dtype=``) into other differentiable steps, and
calls the primitive with ``axis`` and ``keepdims`` only, so the rules see one calling form.

Kinks and zeros:

- ``max`` / ``min`` / ``amax`` / ``amin`` / ``ptp``: tied entries share the gradient equally
  (:func:`gradkit.autodiff.conventions.tie_weights`).
- ``prod``: the derivative for an entry is the product of the *other* entries, computed from
  exclusive cumulative products, so it is exact with any number of zeros (``ans / x`` is only
  used when no entry is zero).
- ``cumprod``: ``reverse_cumsum(g * ans) / x`` when no entry is zero; otherwise the exact
  Jacobian of each slice is formed (``n * n`` per slice along the axis).
"""
import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .. import conventions
from ..primitive import (
    FUNCTION_HANDLERS, NoGradientRuleError, UFUNC_METHODS, def_linear, defjvp, defvjp,
    differentiable)
from ..trace import Shell, apply, getval, is_ndarray, shape_of
from ..tracer import Tracer
from ..batching import BatchTracer
from .shape import astype, flip_axis
from .numerical import numpy_value, with_numpy_values


# ----------------------------------------------------------------------------- helpers
def _restore(g, x, axis, keepdims):
    """Broadcast a reduced cotangent ``g`` back to the shape of ``x``."""
    if type(g) is not Tracer and type(g) is not BatchTracer:  # (not batched by vmap)
        # a plain cotangent (every first-order gradient, and the first reverse pass of a
        # Hessian): one filled array, without np.expand_dims / np.broadcast_to's overhead
        shape = shape_of(x)
        if axis is not None and not keepdims:
            axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
            g = np.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(shape)))
        out = np.empty_like(g, shape=shape)  # *_like: on g's device (NumPy or CuPy)
        out[...] = g
        return out
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(x))


def _expand(ans, axis, keepdims):
    """``ans`` with the reduced axes put back as length-1 axes (broadcasts against ``x``)."""
    return np.expand_dims(ans, axis) if axis is not None and not keepdims else ans


def _count(x, ans):
    return math.prod(shape_of(x)) // max(math.prod(shape_of(ans)), 1)


def _no_kwarg(fname, name, value, instead):
    if value is not None:
        raise NoGradientRuleError(
            f"np.{fname} with {name}= is not differentiable in gradkit; {instead}.")


def _masked(a, where, fill):
    """``a`` with the entries outside ``where`` replaced by the reduction's identity."""
    if where is None or where is True:
        return a
    return np.where(where, a, fill)


def _cast(a, dtype):
    return a if dtype is None else astype(a, dtype, copy=False)


def _along_last(x, axis):
    """Move the reduced axes of ``x`` last and merge them into one; return (x2, undo)."""
    nd = np.ndim(x)
    axes = tuple(range(nd)) if axis is None else normalize_axis_tuple(axis, nd)
    perm = [a for a in range(nd) if a not in axes] + list(axes)
    xt = np.transpose(x, perm)
    shape = np.shape(xt)
    merged = np.reshape(xt, shape[:nd - len(axes)] + (-1,))
    inverse = tuple(np.argsort(perm))
    return merged, lambda y: np.transpose(np.reshape(y, shape), inverse)


def _exclusive_cumprod(x):
    """``[1, x0, x0 x1, ...]`` along the last axis (the product of the entries before each)."""
    ones = np.ones_like(getval(x), shape=np.shape(x)[:-1] + (1,))
    return np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)


def _product_of_others(x, axis):
    """For each entry of ``x``, the product of the other entries of its reduced slice."""
    merged, undo = _along_last(x, axis)
    before = _exclusive_cumprod(merged)
    after = _exclusive_cumprod(merged[..., ::-1])[..., ::-1]
    return undo(before * after)


def _has_zero(x):
    return not np.all(getval(x) != 0)


# ----------------------------------------------------------------------------- sum, mean
def _sum_vjp(g, ans, x, axis=None, keepdims=False):
    if axis is None and not keepdims and _plain(x, g):
        return _spread(g, x)  # the full sum of a loss
    return _restore(g, x, axis, keepdims)


def _plain(x, g):
    """Whether ``x`` is a plain NumPy array (or the lean tape's Shell of one: then a host
    cotangent ``g`` says that it was) and ``g`` not traced: the first-order case."""
    t, tg = type(x), type(g)
    return t is np.ndarray and tg is not Tracer and tg is not BatchTracer or \
        t is Shell and isinstance(g, (np.ndarray, np.generic, float, int, complex))


def _spread(g, x):
    """A plain scalar cotangent ``g`` over the shape of the plain array ``x``. On a large x a
    read-only broadcast view, so that the next rule multiplies by it without a pass filling
    an array (value_and_grad copies a gradient that is still such a view); on a small one
    a filled array, cheaper than building the view."""
    if x.dtype.kind != "c" and getattr(g, "dtype", None) is not None and g.dtype.kind == "c":
        g = g.real  # a real x moves along the real axis only (gradkit.autodiff.complex)
    if x.size >= 4096:
        return np.broadcast_to(np.asarray(g, dtype=x.dtype), x.shape)
    out = np.empty(x.shape, x.dtype)  # (x may be a Shell: shape and dtype only)
    out.fill(g)
    return out


def _mean_vjp(g, ans, x, axis=None, keepdims=False):
    if axis is None and not keepdims and _plain(x, g):
        return _spread(g / max(x.size, 1), x)  # the full mean of a loss
    if type(g) is not Tracer and type(g) is not BatchTracer:  # scale the reduced cotangent
        return _restore(g / _count(x, ans), x, axis, keepdims)
    return _restore(g, x, axis, keepdims) / _count(x, ans)


_add_reduce = np.add.reduce


def _plain_float(x):  # (the common case first: one type test on the hot path)
    return (type(x) is np.ndarray or is_ndarray(x)) and x.dtype.kind == "f" and x.size


def _fast_sum(x, axis=None, keepdims=False):
    """np.sum of plain values; an array goes straight to the C reduction, the call np.sum
    makes for it (np.sum's Python-level wrapper is most of the cost on small arrays)."""
    if type(x) is np.ndarray:
        return _add_reduce(x, axis, None, None, keepdims)
    if _plain_float(x):  # (gk.jit's recorded values: the call as it records it)
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


def _fast_mean(x, axis=None, keepdims=False):
    """np.mean of plain values: the same sum divided by the count, without np.mean's wrapper."""
    if _plain_float(x):
        total = np.add.reduce(x, axis=axis, keepdims=keepdims)
        return total / (x.size // max(total.size, 1))  # total: an array or a NumPy scalar
    return np.mean(x, axis=axis, keepdims=keepdims)


P_SUM = defvjp(np.sum, _sum_vjp, needs="")
def_linear(np.sum, 0)
P_MEAN = defvjp(np.mean, _mean_vjp, needs="")
def_linear(np.mean, 0)
P_SUM.fn, P_MEAN.fn = _fast_sum, _fast_mean


def _numpy_options(where, initial):
    """The where= / initial= keywords to give NumPy (plain values; left out when unset)."""
    return {k: getval(v) for k, v in (("where", where), ("initial", initial)) if v is not None}


def _sum_steps(a, axis, dtype, keepdims, initial, where):
    a = _cast(_masked(a, where, 0.0), dtype)
    out = apply(P_SUM, a, axis=axis, keepdims=keepdims)
    return out if initial is None else out + initial


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    if where is not None or initial is not None:
        # NumPy's loop starts from initial and skips masked entries, so its sums round
        # differently from the steps': its value, the steps' derivative
        opts = _numpy_options(where, initial)
        return numpy_value(
            lambda a, i: np.sum(a, axis=axis, dtype=dtype, keepdims=keepdims, **opts),
            lambda a, i: _sum_steps(a, axis, dtype, keepdims, i, where), a, initial)
    if dtype is not None:  # (the plain call is a hot path: kept short)
        a = _cast(a, dtype)
    # the defaults are left out of the call: the tape keeps a keyword-free entry
    return apply(P_SUM, a) if axis is None and not keepdims else \
        apply(P_SUM, a, axis=axis, keepdims=keepdims)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    if where is None or where is True:
        if axis is None and not keepdims:
            return apply(P_MEAN, _cast(a, dtype))
        return apply(P_MEAN, _cast(a, dtype), axis=axis, keepdims=keepdims)
    a = _cast(a, dtype)
    count = np.sum(np.broadcast_to(getval(where), np.shape(a)), axis=axis, keepdims=keepdims)
    return numpy_value(
        lambda a: np.mean(a, axis=axis, keepdims=keepdims, where=getval(where)),
        lambda a: _sum_steps(a, axis, None, keepdims, None, where) / count.astype(
            getval(a).dtype), a)


# ----------------------------------------------------------------------------- prod
def _prod_partial(ans, x, axis, keepdims):
    if _has_zero(x):
        return _product_of_others(x, axis)
    return _expand(ans, axis, keepdims) / x


defvjp(np.prod, lambda g, ans, x, axis=None, keepdims=False:
       _restore(g, x, axis, keepdims) * _prod_partial(ans, x, axis, keepdims), needs="ans x")
P_PROD = defjvp(np.prod, lambda t, ans, x, axis=None, keepdims=False:
                np.sum(t * _prod_partial(ans, x, axis, keepdims), axis=axis, keepdims=keepdims))


def _prod_steps(a, axis, dtype, keepdims, initial, where):
    out = apply(P_PROD, _cast(_masked(a, where, 1.0), dtype), axis=axis, keepdims=keepdims)
    return out if initial is None else out * initial


def _prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    if initial is None:
        return _prod_steps(a, axis, dtype, keepdims, None, where)
    opts = _numpy_options(where, initial)  # (NumPy multiplies from initial: its value)
    return numpy_value(
        lambda a, i: np.prod(a, axis=axis, dtype=dtype, keepdims=keepdims, **opts),
        lambda a, i: _prod_steps(a, axis, dtype, keepdims, i, where), a, initial)


# ----------------------------------------------------------------------------- max, min
def _tie_weights(x, ans, axis, keepdims):
    # conventions.tie_weights divides booleans by counts (float64): keep x's dtype.
    return conventions.tie_weights(x, ans, axis, keepdims).astype(getval(x).dtype, copy=False)


def _extremum_vjp(g, ans, x, axis=None, keepdims=False):
    return _restore(g, x, axis, keepdims) * _tie_weights(x, ans, axis, keepdims)


def _extremum_jvp(t, ans, x, axis=None, keepdims=False):
    return np.sum(t * _tie_weights(x, ans, axis, keepdims), axis=axis, keepdims=keepdims)


P_MAX = defvjp(np.max, _extremum_vjp, needs="ans x")
defjvp(np.max, _extremum_jvp)
P_MIN = defvjp(np.min, _extremum_vjp, needs="ans x")
defjvp(np.min, _extremum_jvp)


def _extremum(prim, bound, fname):
    def reduce(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        _no_kwarg(fname, "where", None if where is True else where,
                  f"use np.{fname}(np.where(mask, x, {'-' if bound is np.maximum else ''}np.inf))")
        if initial is not None and np.size(a) == 0:  # NumPy's answer: initial, no derivative
            return prim.fn(np.zeros(np.shape(a), np.result_type(a)), axis=axis,
                           keepdims=keepdims, initial=initial)
        out = apply(prim, a, axis=axis, keepdims=keepdims)
        return out if initial is None else bound(out, initial)
    return reduce


_max = _extremum(P_MAX, np.maximum, "max")
_min = _extremum(P_MIN, np.minimum, "min")


def _ptp(a, axis=None, out=None, keepdims=False):
    return _max(a, axis, keepdims=keepdims) - _min(a, axis, keepdims=keepdims)


# ----------------------------------------------------------------------------- var, std
def _centered(x, axis):
    return x - np.mean(x, axis=axis, keepdims=True)


def _dof(x, ans, ddof):
    return float(_count(x, ans) - ddof)


def _conj_centered(x, axis):
    """conj(x - mean): for complex x, var = mean |x - mean|^2 is real and its cotangent is
    2 g conj(x - mean) / dof (the convention of gradkit.autodiff.complex); x - mean for real."""
    c = _centered(x, axis)
    return np.conjugate(c) if np.iscomplexobj(getval(x)) else c


def _re(v):
    return np.real(v) if np.iscomplexobj(getval(v)) else v


def _real_g(g):
    return np.real(g) if np.iscomplexobj(getval(g)) else g


defvjp(np.var, lambda g, ans, x, axis=None, ddof=0, keepdims=False:
       _restore(_real_g(g), x, axis, keepdims) * _conj_centered(x, axis)
       * (2.0 / _dof(x, ans, ddof)), needs="x")
P_VAR = defjvp(np.var, lambda t, ans, x, axis=None, ddof=0, keepdims=False:
               np.sum(_re(t * _conj_centered(x, axis)), axis=axis, keepdims=keepdims)
               * (2.0 / _dof(x, ans, ddof)))
def _nonzero(ans):
    # std is a norm of the centred values: at a constant input (std 0) the minimum-norm
    # subgradient is 0, and the centred values are 0 there, so any nonzero divisor gives it.
    return np.where(ans == 0, 1.0, ans)


defvjp(np.std, lambda g, ans, x, axis=None, ddof=0, keepdims=False:
       _restore(_real_g(g), x, axis, keepdims) * _conj_centered(x, axis)
       / (_expand(_nonzero(ans), axis, keepdims) * _dof(x, ans, ddof)), needs="ans x")
P_STD = defjvp(np.std, lambda t, ans, x, axis=None, ddof=0, keepdims=False:
               np.sum(_re(t * _conj_centered(x, axis)), axis=axis, keepdims=keepdims)
               / (_nonzero(ans) * _dof(x, ans, ddof)))


def _moment(prim, fname):
    def reduce(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
               mean=None, correction=None):
        _no_kwarg(fname, "where", None if where is True else where,
                  "compute the moment from np.sum and np.where instead")
        _no_kwarg(fname, "mean", mean, "leave it out: gradkit computes the mean itself")
        if correction is not None:
            ddof = correction
        return apply(prim, _cast(a, dtype), axis=axis, ddof=ddof, keepdims=keepdims)
    return reduce


# ----------------------------------------------------------------------------- cumsum, cumprod
def _reverse_cumsum(g, axis):
    return flip_axis(np.cumsum(flip_axis(g, axis), axis=axis), axis)


defvjp(np.cumsum, lambda g, ans, x, axis: _reverse_cumsum(g, axis), needs="")
P_CUMSUM = def_linear(np.cumsum, 0)


def _cumprod_jacobian(x):
    """``J[..., i, j] = d cumprod(x)[j] / d x[i]`` along the last axis, exact with zeros."""
    n = np.shape(x)[-1]
    ones = np.ones_like(getval(x), shape=(n, n))  # *_like: on x's device
    held = np.where(np.tril(np.triu(ones)) > 0, 1.0, np.expand_dims(x, -2))  # row i: x_i := 1
    return np.cumprod(held, axis=-1) * np.triu(ones)


def _cumprod_vjp(g, ans, x, axis):
    if not _has_zero(x):
        return _reverse_cumsum(g * ans, axis) / x
    jac = _cumprod_jacobian(np.swapaxes(x, axis, -1))
    gl = np.expand_dims(np.swapaxes(g, axis, -1), -2)
    return np.swapaxes(np.sum(jac * gl, axis=-1), axis, -1)


def _cumprod_jvp(t, ans, x, axis):
    if not _has_zero(x):
        return ans * np.cumsum(t / x, axis=axis)
    jac = _cumprod_jacobian(np.swapaxes(x, axis, -1))
    tl = np.expand_dims(np.swapaxes(t, axis, -1), -1)
    return np.swapaxes(np.sum(tl * jac, axis=-2), axis, -1)


defvjp(np.cumprod, _cumprod_vjp)
P_CUMPROD = defjvp(np.cumprod, _cumprod_jvp)


def _cumulative(prim):
    def accumulate(a, axis=None, dtype=None, out=None):
        a = _cast(a, dtype)
        if axis is None:
            a, axis = np.reshape(a, (-1,)), 0
        return apply(prim, a, axis=normalize_axis_index(axis, np.ndim(a)))
    return accumulate


_sum.plain, _mean.plain = P_SUM, P_MEAN  # np.sum(x), np.mean(x): apply(P_SUM, x), ...


# ----------------------------------------------------------------------------- nan-aware
def _nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    out = _sum(np.where(np.isnan(getval(a)), 0.0, a), axis, dtype, keepdims=keepdims,
               initial=initial, where=where)
    return out


# ----------------------------------------------------------------------------- routing
FUNCTION_HANDLERS.update({
    np.sum: _sum, np.mean: _mean, np.prod: _prod, np.max: _max, np.amax: _max, np.min: _min,
    np.amin: _min, np.ptp: _ptp, np.var: _moment(P_VAR, "var"), np.std: _moment(P_STD, "std"),
    np.cumsum: _cumulative(P_CUMSUM), np.cumprod: _cumulative(P_CUMPROD), np.nansum: _nansum,
})  # (np.nanmean and the other NaN-ignoring reductions: nan_reductions.py)


def _array_api_cumulative(accumulate, identity):
    """``np.cumulative_sum`` / ``np.cumulative_prod`` (NumPy 2.1+, the array-API names)."""
    def cumulative(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
        if axis is None and np.ndim(x) > 1:
            raise ValueError("axis must be given for arrays of more than one dimension.")
        axis = 0 if axis is None else normalize_axis_index(axis, np.ndim(x))
        out = accumulate(x, axis, dtype)
        if include_initial:
            shape = list(np.shape(out))
            shape[axis] = 1
            first = np.full_like(getval(out), identity, shape=tuple(shape))
            out = np.concatenate([first, out], axis=axis)
        return out
    return cumulative


for _name, _func, _identity in (("cumulative_sum", np.cumsum, 0.0),
                                ("cumulative_prod", np.cumprod, 1.0)):
    if hasattr(np, _name):
        FUNCTION_HANDLERS[getattr(np, _name)] = _array_api_cumulative(
            FUNCTION_HANDLERS[_func], _identity)

UFUNC_METHODS.update({
    (np.add, "reduce"): lambda x, axis=0, **kw: np.sum(x, axis=axis, **kw),
    (np.multiply, "reduce"): lambda x, axis=0, **kw: np.prod(x, axis=axis, **kw),
    (np.maximum, "reduce"): lambda x, axis=0, dtype=None, **kw: np.max(x, axis=axis, **kw),
    (np.minimum, "reduce"): lambda x, axis=0, dtype=None, **kw: np.min(x, axis=axis, **kw),
    (np.add, "accumulate"): lambda x, axis=0, **kw: np.cumsum(x, axis=axis, **kw),
    (np.multiply, "accumulate"): lambda x, axis=0, **kw: np.cumprod(x, axis=axis, **kw),
})


# ============================================================================ issue 13: more
def _average(a, axis=None, weights=None, returned=False, *, keepdims=np._NoValue):
    """np.average with NumPy's steps: the mean without weights; with weights
    sum(a * w) / sum(w) (1-D weights along ``axis`` reshaped to broadcast, as NumPy does),
    so the weights are differentiated too. ``returned=True`` also gives the sum of weights."""
    nd = np.ndim(a)
    if axis is not None:
        axis = normalize_axis_tuple(axis, nd)
    kw = {} if keepdims is np._NoValue else {"keepdims": keepdims}
    if weights is None:
        avg = np.mean(a, axis, **kw)
        scl = np.result_type(getval(avg)).type(  # (getval: avg may be batched by vmap)
            math.prod(shape_of(a)) / max(math.prod(shape_of(avg)), 1))
    else:
        wgt = weights if isinstance(weights, Tracer) or hasattr(weights, "dtype") else \
            np.asarray(weights)  # a list of weights
        if shape_of(a) != shape_of(wgt):
            if axis is None:
                raise TypeError("Axis must be specified when shapes of a and weights differ.")
            if shape_of(wgt) != tuple(shape_of(a)[ax] for ax in axis):
                raise ValueError("Shape of weights must be consistent with shape of a along "
                                 "specified axis.")
            wgt = np.transpose(wgt, tuple(np.argsort(axis).tolist()))
            wgt = np.reshape(wgt, tuple(s if ax in axis else 1
                                        for ax, s in enumerate(shape_of(a))))
        adt, wdt = np.result_type(getval(a)), np.result_type(getval(wgt))
        result_dtype = np.result_type(adt, wdt, "f8") if adt.kind in "iub" else \
            np.result_type(adt, wdt)
        scl = np.sum(wgt, axis=axis, dtype=result_dtype, **kw)
        if np.any(getval(scl) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = np.sum(_cast(np.multiply(a, wgt), result_dtype), axis, **kw) / scl
    if returned:
        if shape_of(scl) != shape_of(avg):
            scl = np.broadcast_to(scl, shape_of(avg))
            scl = np.positive(scl) if isinstance(scl, Tracer) else scl.copy()
        return avg, scl
    return avg


FUNCTION_HANDLERS[np.average] = _average


# ----------------------------------------------------------------------------- bincount
@differentiable(name="bincount (weights)")
def _weighted_bincount(weights, x, minlength=0):
    return np.bincount(x, weights, minlength)


# linear in the weights: each weight lands in the bin of its label
defvjp(_weighted_bincount.primitive, lambda g, ans, weights, x, minlength=0: g[x], None,
       needs=("x", ""))
def_linear(_weighted_bincount.primitive, 0)


def _bincount(x, weights=None, minlength=0):
    """np.bincount: the counts carry no derivative; the sums of traced weights do (the
    labels themselves are integers)."""
    x = getval(x)
    if weights is None or not isinstance(weights, (Tracer, BatchTracer)):
        return np.bincount(x, weights, minlength)
    return _weighted_bincount(weights, x, minlength)


FUNCTION_HANDLERS[np.bincount] = _bincount


# ============================================================================ real code
def _trapezoid(y, x=None, dx=1.0, axis=-1):
    """np.trapezoid with NumPy's steps: (d * (y[1:] + y[:-1]) / 2).sum(axis), d = diff(x)
    (a 1-D x reshaped along ``axis``) or dx."""
    nd = np.ndim(y)
    if x is None:
        d = dx
    else:
        x = x if isinstance(x, (Tracer, BatchTracer)) else np.asanyarray(x)
        if np.ndim(x) == 1:
            d = np.diff(x)
            shape = [1] * nd
            shape[axis] = shape_of(d)[0]
            d = np.reshape(d, shape)
        else:
            d = np.diff(x, axis=axis)
    upper, lower = [slice(None)] * nd, [slice(None)] * nd
    upper[axis], lower[axis] = slice(1, None), slice(None, -1)
    return np.sum(d * (y[tuple(upper)] + y[tuple(lower)]) / 2.0, axis)


FUNCTION_HANDLERS[np.trapezoid] = _trapezoid


def _cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
         dtype=None):
    """np.cov with NumPy's steps (without frequency or analytic weights): rows are variables,
    the mean of each row subtracted, X X^T / (N - ddof)."""
    if fweights is not None or aweights is not None:
        raise NoGradientRuleError("np.cov with fweights= or aweights= is not differentiable "
                                  "in gradkit; weight the centred rows yourself: "
                                  "(X * w) @ X.T / w.sum().")
    if dtype is None:
        dtype = np.result_type(getval(m), np.float64) if y is None else \
            np.result_type(getval(m), getval(y), np.float64)
    X = astype(np.atleast_2d(m), dtype)
    if not rowvar and shape_of(X)[0] != 1:
        X = np.transpose(X)
    if y is not None:
        y = astype(np.atleast_2d(y), dtype)
        if not rowvar and shape_of(y)[0] != 1:
            y = np.transpose(y)
        X = np.concatenate((X, y), axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    fact = shape_of(X)[1] - ddof
    if fact <= 0:
        import warnings
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
        fact = 0.0
    X = X - np.mean(X, axis=1)[:, None]
    c = np.dot(X, np.conjugate(np.transpose(X)))
    c = c * np.true_divide(1, fact)
    return np.squeeze(c)


def _corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """np.corrcoef with NumPy's steps: the covariance divided by the standard deviations on
    both sides, clipped to [-1, 1]."""
    c = _cov(x, y, rowvar, dtype=dtype)
    if np.ndim(c) == 0:
        return c / c
    stddev = np.sqrt(np.real(np.diagonal(c)))
    c = c / stddev[:, None]
    c = c / stddev[None, :]
    return np.clip(c, -1, 1)


# (NumPy's own values: its dot of the centred rows rounds differently from the primitives')
FUNCTION_HANDLERS[np.cov] = with_numpy_values(np.cov, _cov)
FUNCTION_HANDLERS[np.corrcoef] = with_numpy_values(np.corrcoef, _corrcoef)
