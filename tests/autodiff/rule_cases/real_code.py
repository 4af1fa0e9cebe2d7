"""Cases for the rules added for real code (issue 13: code differentiated as written):
weighted bincount, eigvalsh and the singular values computed with the vectors (their own
primitives, so the values are NumPy's), the Fourier transforms, sinc, the functions whose
values are NumPy's own with the derivative of a composition (correlate, convolve, interp,
quantile, norms, running extrema, logaddexp.reduce) and the compositions (polyval,
ufunc.outer, trapezoid, cov, corrcoef, meshgrid, ediff1d, insert, delete, apply_along_axis;
np.piecewise, whose masks differ per example, is a case of test_real_code.py, not of vmap's). Points are away from kinks (interp's sample points, ties)."""
import numpy as np

R = np.random.default_rng(1313)
V = R.standard_normal(5)
V8 = R.standard_normal(8)
V7 = R.standard_normal(7)
M = R.standard_normal((4, 6))
LABELS = np.array([0, 2, 2, 1, 0])
_spd = R.standard_normal((3, 3))
SPD = _spd @ _spd.T + 3.0 * np.eye(3)
TALL = R.standard_normal((4, 3))
XP = np.array([0.0, 0.3, 0.55, 0.8, 1.0])
XQ = np.array([0.1, 0.42, 0.7, 0.95, -0.2, 1.3])
DISTINCT = np.array([0.3, -1.2, 2.1, 0.9, -0.4])

import scipy.special as sc  # noqa: E402

POSITIVE = np.array([0.4, 1.3, 2.2, 0.9, 3.1])
CASES = [
    ("bincount-weights", lambda w: np.bincount(LABELS, weights=w) ** 2, (V,)),
    ("bincount-weights-minlength", lambda w: np.bincount(LABELS, w, minlength=5) * V, (V,)),
    ("eigvalsh-own-values", lambda a: np.linalg.eigvalsh(a) ** 2, (SPD,)),
    ("svd-values-with-vectors", lambda a: np.linalg.svd(a, full_matrices=False)[1] ** 2,
     (TALL,)),
    ("fft-abs2", lambda x: np.abs(np.fft.fft(x)) ** 2, (V8,)),
    ("fft-n-pad-and-cut", lambda x: np.abs(np.fft.fft(x, 11)) ** 2 + np.abs(np.fft.fft(x, 5)).sum(),
     (V7,)),
    ("ifft-ortho", lambda x: np.real(np.fft.ifft(np.fft.fft(x) ** 2, norm="ortho")), (V8,)),
    ("rfft-power", lambda x: np.abs(np.fft.rfft(x, norm="forward")) ** 2, (V7,)),
    ("irfft-of-square", lambda x: np.fft.irfft(np.fft.rfft(x) ** 2), (V8,)),
    ("irfft-odd-n", lambda x: np.fft.irfft(np.fft.rfft(x) ** 2, 7, norm="ortho"), (V7,)),
    ("rfft-irfft-resized", lambda x: np.fft.irfft(np.fft.rfft(x, 6), 10), (V7,)),
    ("hfft-ihfft", lambda x: np.fft.hfft(np.fft.rfft(x) * 1j + x[:5])
     + np.abs(np.fft.ihfft(x)).sum(), (V8,)),
    ("fft2-abs2", lambda x: np.abs(np.fft.fft2(x)) ** 2, (M,)),
    ("rfft2-irfft2", lambda x: np.fft.irfft2(np.fft.rfft2(x) ** 2, s=M.shape), (M,)),
    ("rfftn-axes", lambda x: np.abs(np.fft.rfftn(x, axes=(1, 0))) ** 2, (M,)),
    ("fftshift", lambda x: np.fft.fftshift(np.abs(np.fft.fft(x)) ** 2) * np.arange(8)
     + np.fft.ifftshift(x), (V8,)),
    ("sinc", np.sinc, (np.array([0.0, 0.01, 0.3, -1.5, 2.2]),)),
    ("correlate-modes", lambda a, v: np.concatenate([np.correlate(a, v, m) for m in
                                                      ("valid", "same", "full")]), (V7, V[:3])),
    ("convolve-longer-second", lambda a, v: np.convolve(a, v, "same"), (V[:3], V7)),
    ("interp", lambda x, fp: np.interp(x, XP, fp), (XQ, V)),
    ("interp-knots-and-bounds", lambda xp, fp, lo: np.interp(XQ, xp, fp, left=lo[0], right=3.0),
     (XP, V, V[:1])),
    ("interp-period", lambda x, fp: np.interp(x, XP[:4] + 0.05, fp[:4], period=1.0), (XQ, V)),
    ("quantile", lambda x: np.quantile(x, [0.2, 0.5, 0.9]) * np.percentile(x, 35), (DISTINCT,)),
    ("quantile-axis", lambda a: np.quantile(a, 0.3, axis=1, keepdims=True), (M,)),
    ("cond", lambda a: np.linalg.cond(a) + np.linalg.cond(a, 1) + np.linalg.cond(a, -2),
     (SPD,)),
    ("norm-numpy-values", lambda a: np.linalg.norm(a, axis=0) + np.linalg.norm(a[0]), (M,)),
    ("vecdot-vecmat-matvec", lambda a, b: np.vecdot(a, b) + np.vecmat(a[0], b.T[:, :4])[:1]
     + np.matvec(b, a[1])[:1], (M, M)),
    ("maximum-accumulate", lambda x: np.maximum.accumulate(x) + np.minimum.accumulate(x),
     (DISTINCT,)),
    ("logaddexp-reduce", lambda a: np.logaddexp.reduce(a, axis=1), (M,)),
    ("polyval", np.polyval, (V[:4], V7)),
    ("reshape-fortran-order", lambda a: np.reshape(a, (3, 8), order="F") * np.arange(8.0), (M,)),
    ("vander", lambda x: np.vander(x) + np.vander(x, 3, increasing=True).sum(), (V,)),
    ("ufunc-outer", lambda x, y: np.subtract.outer(x, y) ** 2 + np.multiply.outer(x, y),
     (V, V[:3])),
    ("trapezoid", lambda y, x: np.trapezoid(y, x=np.cumsum(np.exp(x))) + np.trapezoid(y ** 2),
     (V, V)),
    ("cov-corrcoef", lambda a: np.cov(a) + np.corrcoef(a.T[:3].T), (M[:3, :4],)),
    ("meshgrid", lambda x, y: np.meshgrid(x, y)[0] * np.meshgrid(x, y)[1], (V, V[:3])),
    ("ediff1d", lambda x: np.ediff1d(x, to_begin=x[:1] ** 2, to_end=2.0), (V,)),
    ("insert-delete", lambda a: np.insert(a, [1, 1], a[:, :1] ** 2, axis=1)[:, :5]
     + np.delete(a, 0, axis=1), (M,)),
    ("apply-along-axis", lambda a: np.apply_along_axis(lambda v: v / np.sum(v ** 2), 0, a),
     (M,)),
    ("scipy-elementary", lambda x: sc.expm1(x) + sc.log1p(x) + sc.cbrt(x) + sc.exp10(x)
     + sc.exp2(x) + sc.loggamma(x), (POSITIVE,)),
    ("scipy-scaled", lambda x: sc.erfcx(x) + sc.i0e(x) + sc.i1e(x), (V,)),
    ("scipy-huber", lambda d, r: sc.huber(d, r) + sc.pseudo_huber(d, r), (POSITIVE, V * 2.0)),
    ("scipy-binom-poch", lambda n, k: sc.binom(n + 3.0, k) + sc.poch(n, k), (POSITIVE, POSITIVE[::-1].copy())),
    ("scipy-boxcox", lambda x: sc.boxcox(x, 0.5) + sc.boxcox(x, 0.0) + sc.inv_boxcox(x, 0.3)
     + sc.inv_boxcox(x, 0.0), (POSITIVE,)),
]
