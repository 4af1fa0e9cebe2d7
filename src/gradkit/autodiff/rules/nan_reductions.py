"""NaN-ignoring reductions: nanprod, nanmax, nanmin, nanvar, nanstd, nancumsum, nancumprod,
nanmedian (and np.median), and nanmean (replacing the first version in :mod:`.reductions`,
which kept NumPy's values but not its warnings); nansum is in :mod:`.reductions`.

Each is NumPy's own recipe written with differentiable steps: the NaNs are replaced by the
reduction's identity with ``np.where`` (so they receive a zero cotangent), then the ordinary
reduction runs, and NumPy's value comes out bit for bit. A slice with no valid entry gives
NaN, as in NumPy (with NumPy's RuntimeWarning), and passes no gradient.

- ``nanmax`` / ``nanmin``: ``max(where(isnan, -inf, x))``; ties share the gradient equally.
- ``nanvar``: ``sum(d * d) / (n - ddof)`` with ``d`` the deviations of the valid entries and
  ``n`` their number per slice; ``nanstd`` is its square root, whose derivative at a zero
  variance is taken as 0 (the minimum-norm subgradient, as for ``np.std``).
- ``nanmedian`` / ``median``: the valid entries sorted (NaNs last), the middle one (odd
  count) or the mean of the two middle ones (even count), picked by integer indexing: the
  gradient goes to those entries (1, or 1/2 each).
"""
import warnings

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..primitive import FUNCTION_HANDLERS, NoGradientRuleError, defjvp, defvjp, differentiable
from ..trace import getval
from .shape import astype


def _valid(a, where):
    ok = ~np.isnan(getval(a))
    if where is not None and where is not True and where is not np._NoValue:
        ok = ok & getval(where)
    return ok


def _refuse_out(fname, out):
    if out is not None:
        raise NoGradientRuleError(f"np.{fname} with out= is not differentiable in gradkit; "
                                  "use the returned array.")


def _like_numpy_division(num, count):
    """``num / count`` as NumPy's _divide_by_count computes it: in the count's promotion,
    cast back to ``num``'s dtype (float32 stays float32)."""
    out = num / count
    dtype = getval(num).dtype if hasattr(getval(num), "dtype") else np.result_type(getval(num))
    return astype(out, dtype, copy=False) if getval(out).dtype != dtype else out


def _at_least_one(count):
    """A count with its zeros replaced by 1 (for slices whose result is replaced by NaN)."""
    return np.where(count == 0, 1, count)


# ----------------------------------------------------------------------------- prod, cumulative
def _nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _refuse_out("nanprod", out)
    kw = {} if where is None or where is np._NoValue else {"where": where}
    return np.prod(np.where(np.isnan(getval(a)), 1.0, a), axis=axis, dtype=dtype,
                   keepdims=keepdims, initial=initial, **kw)


def _nancumsum(a, axis=None, dtype=None, out=None):
    _refuse_out("nancumsum", out)
    return np.cumsum(np.where(np.isnan(getval(a)), 0.0, a), axis=axis, dtype=dtype)


def _nancumprod(a, axis=None, dtype=None, out=None):
    _refuse_out("nancumprod", out)
    return np.cumprod(np.where(np.isnan(getval(a)), 1.0, a), axis=axis, dtype=dtype)


# ----------------------------------------------------------------------------- mean
def _nanmean(a, axis=None, dtype=None, out=None, keepdims=np._NoValue, *, where=np._NoValue):
    """NumPy's nanmean: np.mean when there is no NaN, else the sum of the valid entries over
    their count (an empty slice is NaN, with NumPy's warning)."""
    _refuse_out("nanmean", out)
    keepdims = False if keepdims is np._NoValue else keepdims
    has_where = where is not np._NoValue and where is not True
    if not has_where and not np.any(np.isnan(getval(a))):
        return np.mean(a, axis=axis, dtype=dtype, keepdims=keepdims)
    valid = _valid(a, where if has_where else None)
    cnt = np.sum(valid, axis=axis, dtype=np.intp, keepdims=keepdims)
    tot = np.sum(np.where(valid, a, 0.0), axis=axis, dtype=dtype, keepdims=keepdims,
                 where=where if has_where else None)  # (NumPy's masked sum: its bits)
    empty = cnt == 0
    if not np.any(empty):
        return _like_numpy_division(tot, cnt)
    warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    return np.where(empty, np.nan, _like_numpy_division(tot, _at_least_one(cnt)))


# ----------------------------------------------------------------------------- max, min
def _nan_extremum(reduce, fill, fname):
    def extremum(a, axis=None, out=None, keepdims=np._NoValue, initial=np._NoValue,
                 where=np._NoValue):
        _refuse_out(fname, out)
        if where is not np._NoValue and where is not True:
            raise NoGradientRuleError(
                f"np.{fname} with where= is not differentiable in gradkit; use "
                f"np.{fname}(np.where(mask, x, np.nan)).")
        keepdims = False if keepdims is np._NoValue else keepdims
        nan = np.isnan(getval(a))
        res = reduce(np.where(nan, fill, a), axis=axis, keepdims=keepdims,
                     initial=None if initial is np._NoValue else initial)
        if initial is np._NoValue:
            empty = np.all(nan, axis=axis, keepdims=keepdims)
            if np.any(empty):
                warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
                res = np.where(empty, np.nan, res)
        return res
    return extremum


# ----------------------------------------------------------------------------- var, std
@differentiable
def _sqrt_of_variance(v):
    """np.sqrt of a variance; its derivative is 0 where the variance is 0 (see the module)."""
    return np.sqrt(v)


def _sqrt_of_variance_rule(g, ans, v):
    zero = getval(ans) == 0
    return g * np.where(zero, 0.0, 0.5 / np.where(zero, 1.0, ans))


defvjp(_sqrt_of_variance.primitive, _sqrt_of_variance_rule)
defjvp(_sqrt_of_variance.primitive, _sqrt_of_variance_rule)


def _nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=np._NoValue, *,
            where=np._NoValue, mean=np._NoValue, correction=np._NoValue):
    _refuse_out("nanvar", out)
    if mean is not np._NoValue:
        raise NoGradientRuleError("np.nanvar with mean= is not differentiable in gradkit; "
                                  "leave it out: gradkit computes the mean itself.")
    if correction is not np._NoValue:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    keepdims = False if keepdims is np._NoValue else keepdims
    if dtype is not None:
        a = astype(a, dtype, copy=False)
    has_where = where is not np._NoValue and where is not True
    cplx = np.iscomplexobj(getval(a))
    if not has_where and not cplx and not np.any(np.isnan(getval(a))):
        return np.var(a, axis=axis, ddof=ddof, keepdims=keepdims)  # the same bits as NumPy's
    # (NumPy's nanvar squares complex deviations as d * conj(d), np.var as re^2 + im^2: their
    # bits differ, so complex data always takes this path, which is NumPy's nanvar)
    valid = _valid(a, where if has_where else None)
    arr = np.where(valid, a, 0.0)
    cnt = np.sum(valid, axis=axis, dtype=np.intp, keepdims=True)
    # NumPy's sums skip the entries outside where= (a masked sum has its own bits)
    mask = where if has_where else None
    # (an empty slice divides by 1 instead of 0: its deviations are 0 either way, and no
    # 0 / 0 reaches the backward pass)
    avg = _like_numpy_division(np.sum(arr, axis=axis, keepdims=True, where=mask),
                               _at_least_one(cnt))
    dev = np.where(valid, arr - avg, 0.0)
    # |dev|^2, as NumPy writes it for complex input (the variance of complex data is real)
    sq = np.real(dev * np.conjugate(dev)) if np.iscomplexobj(getval(dev)) else dev * dev
    var = np.sum(sq, axis=axis, keepdims=keepdims, where=mask)
    if not keepdims:
        cnt = np.sum(valid, axis=axis, dtype=np.intp)
    dof = cnt - ddof
    bad = dof <= 0
    if not np.any(bad):
        return _like_numpy_division(var, dof)
    # NumPy replaces these slices by NaN; dividing them by 1 keeps 0 / 0 out of the gradient
    warnings.warn("Degrees of freedom <= 0 for slice.", RuntimeWarning, stacklevel=3)
    return np.where(bad, np.nan, _like_numpy_division(var, np.where(bad, 1, dof)))


def _nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=np._NoValue, *,
            where=np._NoValue, mean=np._NoValue, correction=np._NoValue):
    _refuse_out("nanstd", out)
    return _sqrt_of_variance(_nanvar(a, axis, dtype, None, ddof, keepdims, where=where,
                                     mean=mean, correction=correction))


# ----------------------------------------------------------------------------- median
def _median_of(a, axis, keepdims, skip_nan):
    """The median along ``axis`` (None, an int or a tuple) of the valid entries of ``a``."""
    nd = np.ndim(a)
    shape = np.shape(a)
    axes = tuple(range(nd)) if axis is None else normalize_axis_tuple(axis, nd)
    rest = [d for d in range(nd) if d not in axes]
    x = np.transpose(a, rest + list(axes)) if axes != tuple(range(nd - len(axes), nd)) else a
    x = np.reshape(x, tuple(shape[d] for d in rest) + (-1,))
    nan = np.isnan(getval(x))
    ordered = np.sort(x, axis=-1)  # NaNs last; the gradient follows the sort's permutation
    length = np.shape(x)[-1]
    n = length - np.sum(nan, axis=-1, keepdims=True) if skip_nan else \
        np.full(np.shape(x)[:-1] + (1,), length)
    lo = np.clip((n - 1) // 2, 0, max(length - 1, 0))
    hi = np.clip(n // 2, 0, max(length - 1, 0))
    low = np.take_along_axis(ordered, lo, axis=-1)
    high = np.take_along_axis(ordered, hi, axis=-1)
    med = np.where(n % 2 == 1, low, (low + high) / 2.0)[..., 0]
    if skip_nan:
        empty = n[..., 0] == 0
        if np.any(empty):
            for _ in range(int(np.count_nonzero(empty))):
                warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=4)
            med = np.where(empty, np.nan, med)
    else:
        med = np.where(np.any(nan, axis=-1), np.nan, med)
    if keepdims:
        med = np.reshape(med, tuple(1 if d in axes else s for d, s in enumerate(shape)))
    return med


def _nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=np._NoValue):
    _refuse_out("nanmedian", out)
    return _median_of(a, axis, keepdims is not np._NoValue and keepdims, skip_nan=True)


def _median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    _refuse_out("median", out)
    return _median_of(a, axis, keepdims, skip_nan=False)


# ----------------------------------------------------------------------------- routing
FUNCTION_HANDLERS.update({
    np.nanprod: _nanprod, np.nancumsum: _nancumsum, np.nancumprod: _nancumprod,
    np.nanmax: _nan_extremum(np.max, -np.inf, "nanmax"),
    np.nanmin: _nan_extremum(np.min, np.inf, "nanmin"),
    np.nanmean: _nanmean, np.nanvar: _nanvar, np.nanstd: _nanstd, np.nanmedian: _nanmedian,
    np.median: _median,
})
