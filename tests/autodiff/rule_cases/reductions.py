"""Cases for reductions: every axis form (None, int, negative, tuple) with and without keepdims.

Values are drawn so that no two entries of a max / min slice are close (finite differences
would straddle the kink); ties appear only where they are built in (``x`` next to ``x``),
which keeps the function smooth.
"""
import numpy as np

R = np.random.default_rng(2)
S = np.array(0.8)
V = R.standard_normal(5)
A = R.standard_normal((3, 4))
T = R.standard_normal((2, 3, 4))
POS = R.uniform(0.5, 1.5, (2, 3, 4))
ONE_ZERO = np.array([[0.7, 0.0, -1.2, 0.9], [1.1, -0.6, 0.8, 1.3], [0.5, 0.9, 0.0, 0.0]])
NAN_AT = np.zeros((3, 4), dtype=bool)
NAN_AT[0, 1] = NAN_AT[2, 3] = True
AXES = [None, 1, -1, (0, 2), (-1, 0)]


def _reduce_cases(name, fn, x):
    cases = []
    for axis in AXES:
        for keepdims in (False, True):
            cases.append((f"{name}-axis{axis}-keep{keepdims}",
                          lambda x, fn=fn, axis=axis, keepdims=keepdims:
                          fn(x, axis=axis, keepdims=keepdims), (x,)))
    return cases


CASES = [("sum-where", lambda x: np.sum(x, axis=1, where=A > 0), (A,)),
         ("sum-initial", lambda x: np.sum(x * x, initial=2.0), (A,)),
         ("mean-where", lambda x: np.mean(x, axis=0, where=A > -0.5), (A,)),
         ("mean-negative-axis", lambda x: np.mean(x * x, axis=-2), (T,))]

# -- prod: the product of the other entries, exact when entries are zero
CASES += _reduce_cases("prod", np.prod, POS)
CASES += [
    ("prod-scalar", lambda x: np.prod(x), (S,)),
    ("prod-one-zero", lambda x: np.prod(x, axis=1), (ONE_ZERO,)),
    ("prod-zeros-all-axes", lambda x: np.prod(x), (ONE_ZERO,)),
    ("prod-two-zeros-keepdims", lambda x: np.prod(x, axis=1, keepdims=True) * x, (ONE_ZERO,)),
    ("prod-method", lambda x: x.prod(axis=0), (A,)),
    ("prod-initial-where", lambda x: np.prod(x, axis=1, initial=2.0, where=A > 0), (A,)),
    ("multiply.reduce", lambda x: np.multiply.reduce(x, axis=-1), (A,)),
]

# -- max, min (ties share the gradient: see conventions)
for _fn in (np.max, np.min, np.amax, np.amin):
    CASES += _reduce_cases(_fn.__name__, lambda x, axis, keepdims, f=_fn:
                           f(x * x, axis=axis, keepdims=keepdims), T)
CASES += [
    ("max-scalar", lambda x: np.max(x), (S,)),
    ("max-method", lambda x: x.max(axis=1, keepdims=True) * x.min(axis=0, keepdims=True), (A,)),
    ("max-initial", lambda x: np.max(x, axis=0, initial=0.0), (A,)),
    ("max-built-in-ties", lambda v: np.max(np.stack([v, v]), axis=0), (V,)),
    ("min-built-in-ties", lambda v: np.min(np.concatenate([v, v])), (V,)),
    ("maximum.reduce", lambda x: np.maximum.reduce(x, axis=None, keepdims=True), (T,)),
    ("minimum.reduce", lambda x: np.minimum.reduce(x), (A,)),
    ("ptp", lambda x: np.ptp(x, axis=(0, 2)), (T,)),
    ("ptp-keepdims", lambda x: np.ptp(x, axis=-1, keepdims=True), (A,)),
]

# -- var, std (ddof, the array-API correction=)
for _fn in (np.var, np.std):
    CASES += _reduce_cases(_fn.__name__, _fn, T)
    CASES += [
        (f"{_fn.__name__}-ddof1", lambda x, f=_fn: f(x, axis=0, ddof=1), (A,)),
        (f"{_fn.__name__}-correction", lambda x, f=_fn: f(x, correction=1.5), (V,)),
    ]
CASES += [("var-std-methods", lambda x: x.var(axis=1) + x.std(ddof=1), (A,))]

# -- cumulative sums and products
for _fn, _x in ((np.cumsum, T), (np.cumprod, POS)):
    CASES += [(f"{_fn.__name__}-axis{axis}", lambda x, f=_fn, axis=axis: f(x, axis=axis), (_x,))
              for axis in (None, 0, 1, -1)]
CASES += [
    ("cumsum-scalar", lambda x: np.cumsum(x), (S,)),
    ("cumprod-vector", lambda x: np.cumprod(x), (V,)),
    ("cumprod-zeros", lambda x: np.cumprod(x, axis=1), (ONE_ZERO,)),
    ("cumprod-zeros-axis0", lambda x: np.cumprod(x, axis=0), (ONE_ZERO,)),
    ("cumprod-zeros-flat", lambda x: np.cumprod(x), (ONE_ZERO,)),
    ("cumsum-cumprod-methods", lambda x: x.cumsum(axis=0) * x.cumprod(axis=1), (A,)),
    ("add.accumulate", lambda x: np.add.accumulate(x, axis=1), (A,)),
    ("multiply.accumulate", lambda x: np.multiply.accumulate(x), (A,)),
    ("cumulative_sum", lambda v: np.cumulative_sum(v, include_initial=True), (V,)),
    ("cumulative_prod", lambda x: np.cumulative_prod(x, axis=0, include_initial=True), (A,)),
]

# -- nan-aware reductions: the NaNs come from a constant mask, so the function stays finite
CASES += [
    ("nansum", lambda x: np.nansum(np.where(NAN_AT, np.nan, x), axis=1), (A,)),
    ("nanmean", lambda x: np.nanmean(np.where(NAN_AT, np.nan, x) ** 2, axis=0), (A,)),
    ("nanmean-all", lambda x: np.nanmean(np.where(NAN_AT, np.nan, x)), (A,)),
]
