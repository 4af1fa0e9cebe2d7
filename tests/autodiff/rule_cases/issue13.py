"""Cases for the rules of issue 13, part 3 (the missing rules): NumPy functions written with
existing primitives or added as primitives (linspace, np.i0), and the scipy.special
functions. ``test_issue13_rules.py`` also runs every case plain and traced and checks that
the values are NumPy's bit for bit."""
import warnings

import numpy as np
import scipy.special as sc

R = np.random.default_rng(13)
S = np.array(0.6)
V = R.standard_normal(5)
A = R.standard_normal((3, 4))
A2 = R.standard_normal((3, 4))
T = R.standard_normal((2, 3, 4))
W = R.uniform(0.5, 2.0, (3, 4))
POS = R.uniform(0.5, 3.0, (3, 4))
UNIT = R.uniform(0.1, 0.9, (3, 4))
ROW = R.uniform(0.5, 2.0, (1, 4))
P3, Q3, P2 = R.standard_normal((4, 3)), R.standard_normal((4, 3)), R.standard_normal((4, 2))
M1, M2, M3, M4 = (R.standard_normal(s) for s in ((3, 5), (5, 2), (2, 6), (6, 4)))
V3, V4 = R.standard_normal(3), R.standard_normal(4)
COORDS = np.array([0.0, 0.5, 1.5, 1.7, 3.0])
NAN_AT = np.zeros((3, 4), bool)
NAN_AT[0, 1] = NAN_AT[2, 1] = NAN_AT[1, 3] = True
INF_AT = np.zeros((3, 4), bool)
INF_AT[1, 2] = True
NINF_AT = np.zeros((3, 4), bool)
NINF_AT[2, 0] = True
swv = np.lib.stride_tricks.sliding_window_view


def nans(x):
    return np.where(NAN_AT, np.nan, x)


def nonfinite(x):
    return np.where(NAN_AT, np.nan, np.where(INF_AT, np.inf, np.where(NINF_AT, -np.inf, x)))


def quiet(f):
    """f with NumPy's deprecation of 2-vectors in np.cross silenced."""
    def g(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return f(*args)
    return g


CASES = [
    # -- shape family
    ("append", lambda x, v: np.append(x, v) ** 2, (A, V)),
    ("append-axis", lambda x: np.append(x, x ** 2, axis=1), (A,)),
    ("rollaxis", lambda t: np.rollaxis(t, 2) ** 2, (T,)),
    ("rollaxis-start", lambda t: np.rollaxis(t, 0, 3) ** 2, (T,)),
    ("rollaxis-same", lambda t: np.rollaxis(t, 1, 2) ** 2, (T,)),
    ("block", lambda x, y: np.block([[x, y], [y, x]]) ** 2, (A, A2)),
    ("block-1d", lambda v: np.block([v, 1.0, v]) ** 2, (V,)),
    ("block-mixed-ndim", lambda x, v: np.block([[x], [v[:4]]]) ** 2, (A, V)),
    ("block-single", lambda x: np.block(x) ** 2, (A,)),
    ("partition", lambda x: np.partition(x, 2) ** 2, (A,)),
    ("partition-axis0-kths", lambda x: np.partition(x, (0, 2), axis=0) ** 2, (A,)),
    ("partition-None", lambda x: np.partition(x, 3, axis=None) ** 2, (A,)),
    ("sliding_window_view", lambda v: swv(v, 3) ** 2, (V,)),
    ("sliding_window_view-2d", lambda x: swv(x, (2, 2)) ** 2, (A,)),
    ("sliding_window_view-axis", lambda x: swv(x, 2, axis=0) ** 2, (A,)),
    ("linspace", lambda a, b: np.linspace(a, b, 7) ** 2, (S, np.array(2.1))),
    ("linspace-no-endpoint", lambda a, b: np.linspace(a, b, 7, endpoint=False) ** 2,
     (S, np.array(2.1))),
    ("linspace-array-endpoints", lambda a, b: np.linspace(a, b, 5, axis=1) ** 2, (V[:3], A[:, :1])),
    ("linspace-axis-last", lambda x: np.linspace(x, 3.0, 4, axis=-1) ** 2, (A,)),
    ("linspace-start-only", lambda a: np.linspace(a, 2.0, 6) ** 2, (V,)),
    ("linspace-one-sample", lambda a, b: np.linspace(a, b, 1) ** 2, (S, np.array(2.1))),
    ("linspace-retstep", lambda a, b: np.linspace(a, b, 6, retstep=True), (S, np.array(2.1))),
    ("gradient", lambda v: np.gradient(v ** 3), (V,)),
    ("gradient-2d", lambda x: np.gradient(x ** 3), (A,)),
    ("gradient-spacing-axis", lambda x: np.gradient(x ** 3, 0.5, axis=1), (A,)),
    ("gradient-edge-order-2", lambda x: np.gradient(x ** 3, edge_order=2), (A,)),
    ("gradient-coordinates", lambda v: np.gradient(v ** 3, COORDS), (V,)),
    ("gradient-coordinates-edge2", lambda v: np.gradient(v ** 3, COORDS, edge_order=2), (V,)),
    ("gradient-traced-coordinates", lambda v, c: np.gradient(v ** 3, c, edge_order=2),
     (V, COORDS)),
    ("gradient-uniform-coordinates", lambda v: np.gradient(v ** 3, 0.3 * np.arange(5.0)), (V,)),
    # -- element-wise family
    ("copysign", lambda x, y: np.copysign(x, y) ** 2 * x, (A, A2)),
    ("copysign-broadcast", lambda x, y: np.copysign(x ** 3, y), (A, V[:4])),
    ("nan_to_num", lambda x: np.nan_to_num(nans(x)) ** 2, (A,)),
    ("nan_to_num-values", lambda x: np.nan_to_num(nonfinite(x), nan=1.5, posinf=2.0,
                                                  neginf=-3.0) ** 2, (A,)),
    ("nan_to_num-traced-value", lambda x, v: np.nan_to_num(nonfinite(x), nan=v, posinf=2.0,
                                                           neginf=-3.0) ** 2, (A, S)),
    ("select", lambda x, y: np.select([x > 0, y > 0.5], [x ** 2, y ** 3], default=-1.0),
     (A, A2)),
    ("select-traced-default", lambda x, y: np.select([x > 0], [x ** 2], default=y), (A, A2)),
    # -- contractions
    ("cross", lambda a, b: np.cross(a, b), (P3, Q3)),
    ("cross-broadcast", lambda a, b: np.cross(a, b) ** 2, (P3, Q3[0])),
    ("cross-axes", lambda a, b: np.cross(a, b, axisa=0, axisb=0, axisc=0) ** 2, (P3.T, Q3.T)),
    ("cross-axis", lambda a, b: np.cross(a, b, axis=0) ** 2, (P3.T, Q3.T)),
    ("cross-2-3", quiet(lambda a, b: np.cross(a, b) ** 2), (P2, Q3)),
    ("cross-3-2", quiet(lambda a, b: np.cross(a, b) ** 2), (P3, P2)),
    ("cross-2-2", quiet(lambda a, b: np.cross(a, b) ** 2), (P2, P2[::-1])),
    ("multi_dot-2", lambda a, b: np.linalg.multi_dot([a, b]), (M1, M2)),
    ("multi_dot-3", lambda a, b, c: np.linalg.multi_dot([a, b, c]), (M1, M2, M3)),
    ("multi_dot-3-other-order", lambda a, b, c: np.linalg.multi_dot([a, b, c]),
     (M2.T, M1.T, M1)),
    ("multi_dot-4", lambda a, b, c, d: np.linalg.multi_dot([a, b, c, d]), (M1, M2, M3, M4)),
    ("multi_dot-vector-first", lambda a, b, c, d, e: np.linalg.multi_dot([a, b, c, d, e]),
     (V3, M1, M2, M3, M4)),
    ("multi_dot-vectors", lambda a, b, c, d, e, f: np.linalg.multi_dot([a, b, c, d, e, f]) ** 2,
     (V3, M1, M2, M3, M4, V4)),
    # -- reductions
    ("average", lambda x: np.average(x ** 2), (A,)),
    ("average-axis", lambda x: np.average(x ** 2, axis=1), (A,)),
    ("average-weights", lambda x, w: np.average(x, weights=w), (A, W)),
    ("average-1d-weights", lambda x, w: np.average(x ** 2, axis=1, weights=w), (A, W[0])),
    ("average-1d-weights-keepdims", lambda x, w: np.average(x ** 2, axis=0, weights=w,
                                                            keepdims=True), (A, W[:, 0])),
    ("average-returned", lambda x, w: np.average(x ** 2, axis=0, weights=w, returned=True),
     (A, W)),
    ("average-returned-no-weights", lambda x: np.average(x ** 2, axis=0, returned=True)[0], (A,)),
    ("average-axes-weights", lambda t, w: np.average(t ** 2, axis=(2, 0), weights=w),
     (T, W[:2].T)),
    ("nanprod", lambda x: np.nanprod(nans(x), axis=1), (A,)),
    ("nanprod-all", lambda x: np.nanprod(nans(x)), (A,)),
    ("nanmax", lambda x: np.nanmax(nans(x), axis=1), (A,)),
    ("nanmin-keepdims", lambda x: np.nanmin(nans(x) ** 2, axis=0, keepdims=True), (A,)),
    ("nanmax-all", lambda x: np.nanmax(nans(x)), (A,)),
    ("nanmax-initial", lambda x: np.nanmax(nans(x), axis=0, initial=0.5), (A,)),
    ("nancumsum", lambda x: np.nancumsum(nans(x) ** 2, axis=1), (A,)),
    ("nancumsum-flat", lambda x: np.nancumsum(nans(x) ** 2), (A,)),
    ("nancumprod", lambda x: np.nancumprod(nans(x), axis=0), (A,)),
    ("nanmean-issue13", lambda x: np.nanmean(nans(x) ** 2, axis=1), (A,)),
    ("nanmean-no-nan", lambda x: np.nanmean(x ** 2, axis=0), (A,)),
    ("nanmean-where", lambda x: np.nanmean(nans(x) ** 2, axis=1, where=W > 1), (A,)),
    ("nanvar", lambda x: np.nanvar(nans(x), axis=1), (A,)),
    ("nanvar-ddof", lambda x: np.nanvar(nans(x), axis=1, ddof=1), (A,)),
    ("nanvar-all-keepdims", lambda x: np.nanvar(nans(x), keepdims=True), (A,)),
    ("nanvar-no-nan", lambda x: np.nanvar(x, axis=0), (A,)),
    ("nanvar-where", lambda x: np.nanvar(nans(x), axis=1, where=W > 1), (A,)),
    ("nanstd", lambda x: np.nanstd(nans(x), axis=1), (A,)),
    ("nanstd-all", lambda x: np.nanstd(nans(x)), (A,)),
    ("nanstd-no-nan", lambda x: np.nanstd(x, axis=1, ddof=1), (A,)),
    ("nanmedian", lambda x: np.nanmedian(nans(x), axis=1), (A,)),
    ("nanmedian-axis0", lambda x: np.nanmedian(nans(x), axis=0), (A,)),
    ("nanmedian-all", lambda x: np.nanmedian(nans(x)), (A,)),
    ("nanmedian-axes-keepdims", lambda t: np.nanmedian(t ** 2, axis=(0, 2), keepdims=True), (T,)),
    ("median", lambda x: np.median(x ** 2, axis=1), (A,)),
    ("median-all", lambda x: np.median(x ** 2), (A,)),
    ("median-axes", lambda t: np.median(t, axis=(0, 2)), (T,)),
    # -- scipy.special and np.i0
    ("beta", lambda a, b: sc.beta(a, b), (POS, ROW)),
    ("betaln", lambda a, b: sc.betaln(a, b), (POS, POS[::-1])),
    ("betainc-x", lambda x: sc.betainc(1.5, 2.5, x), (UNIT,)),
    ("betainc-x-a-one", lambda x: sc.betainc(1.0, ROW, x), (UNIT,)),
    ("gammainc-x", lambda x: sc.gammainc(POS[::-1], x), (POS,)),
    ("gammaincc-x", lambda x: sc.gammaincc(1.5, x), (POS,)),
    ("jv", lambda x: sc.jv(1.5, x), (POS,)),
    ("jn", lambda x: sc.jn(np.array([[0], [1], [3]]), x), (A,)),
    ("yv", lambda x: sc.yv(0.3, x), (POS,)),
    ("yn", lambda x: sc.yn(np.array([[0], [1], [2]]), x), (POS,)),
    ("j0", sc.j0, (A,)),
    ("j1", sc.j1, (A,)),
    ("y0", sc.y0, (POS,)),
    ("y1", sc.y1, (POS,)),
    ("i0", sc.i0, (A,)),
    ("i1", sc.i1, (A,)),
    ("np.i0", np.i0, (A,)),
    ("iv", lambda x: sc.iv(2.5, x), (POS,)),
    ("iv-integer-order-negative-x", lambda x: sc.iv(2, x), (A,)),
    ("ive", lambda x: sc.ive(1.5, 5.0 * x), (POS,)),
    ("ive-negative-x", lambda x: sc.ive(np.array([[0], [1], [2]]), 3.0 * x), (A,)),
    ("gammasgn", lambda x: sc.gammasgn(x) * x ** 2, (A,)),
    ("rgamma", sc.rgamma, (3.0 * A,)),
    ("rgamma-at-its-zeros", sc.rgamma, (np.array([0.0, -1.0, -2.0, -3.0, 0.5, 1.0]),)),
    ("scipy-polygamma", lambda x: sc.polygamma(2, x), (POS,)),
    ("scipy-polygamma-orders", lambda x: sc.polygamma(np.array([[0], [1], [3]]), x), (ROW,)),
    ("multigammaln", lambda a: sc.multigammaln(a + 2.0, 3), (POS,)),
    ("multigammaln-d1", lambda a: sc.multigammaln(a, 1), (POS,)),
]
