"""Cases for np.linalg: well-conditioned matrices, SPD ones with separated eigenvalues for
cholesky / eigh, and full-rank ones with distinct singular values for svd / qr / pinv.

Eigenvectors and singular vectors are determined up to sign, so their cases go through
sign-invariant functions (squares, reconstructions)."""
import numpy as np

R = np.random.default_rng(3)
Q, _ = np.linalg.qr(R.standard_normal((3, 3)))
SPD = Q @ np.diag([1.0, 2.5, 4.5]) @ Q.T            # eigenvalues well apart
A = R.standard_normal((3, 3)) + 3.0 * np.eye(3)     # well conditioned, not symmetric
STACK = R.standard_normal((2, 3, 3)) + 3.0 * np.eye(3)
TALL = R.standard_normal((4, 3))
WIDE = R.standard_normal((2, 4))
V = R.standard_normal(3)
BM = R.standard_normal((3, 2))
X = R.standard_normal((2, 3, 4))
la = np.linalg

CASES = [
    ("inv", la.inv, (A,)),
    ("inv-batched", la.inv, (STACK,)),
    ("solve-vector", la.solve, (A, V)),
    ("solve-matrix", la.solve, (A, BM)),
    ("solve-batched-vector", la.solve, (STACK, V)),
    ("solve-batched-broadcast-matrix", la.solve, (STACK, BM)),
    ("solve-batched-both", la.solve, (STACK, R.standard_normal((2, 3, 2)))),
    ("det", la.det, (A,)),
    ("det-batched", la.det, (STACK,)),
    ("slogdet", lambda a: la.slogdet(a)[1], (A,)),
    ("slogdet-negative-sign", lambda a: (lambda s, l: s * l)(*la.slogdet(a)), (-STACK,)),
    ("cholesky", la.cholesky, (SPD,)),
    ("cholesky-of-gram", lambda x: la.cholesky(x @ x.T + np.eye(3)), (A,)),
    ("eigh-values", lambda a: la.eigh(a)[0], (SPD,)),
    ("eigh-values-upper", lambda a: la.eigh(a, UPLO="U").eigenvalues, (SPD,)),
    ("eigvalsh", la.eigvalsh, (SPD,)),
    ("eigh-vectors", lambda a: la.eigh(a)[1] ** 2, (SPD,)),
    ("eigh-vectors-upper", lambda a: la.eigh(a, "U")[1] ** 2, (SPD,)),
    ("eigh-batched", lambda a: (lambda w, v: v * v * w[..., None, :])(*la.eigh(a)),
     (np.stack([SPD, SPD + np.diag([0.0, 0.5, 1.5])]),)),
    ("norm-vector", la.norm, (V,)),
    ("norm-all-entries", la.norm, (X,)),
    ("norm-keepdims", lambda x: la.norm(x, keepdims=True), (X,)),
    ("norm-ord-1", lambda v: la.norm(v, 1), (V,)),
    ("norm-ord-inf", lambda v: la.norm(v, np.inf), (V,)),
    ("norm-ord--inf", lambda v: la.norm(v, -np.inf), (V,)),
    ("norm-ord-3", lambda v: la.norm(v, 3), (V,)),
    ("norm-ord-0", lambda v: la.norm(v, 0) * v, (V,)),
    ("norm-axis", lambda x: la.norm(x, axis=1), (X,)),
    ("norm-axis-keepdims", lambda x: la.norm(x, 1, axis=-1, keepdims=True), (X,)),
    ("norm-fro", lambda a: la.norm(a, "fro"), (A,)),
    ("norm-fro-axes", lambda x: la.norm(x, "fro", axis=(0, 2)), (X,)),
    ("norm-nuc", lambda a: la.norm(a, "nuc"), (TALL,)),
    ("norm-spectral", lambda a: la.norm(a, 2), (A,)),
    ("norm-spectral-min", lambda x: la.norm(x, -2, axis=(2, 1), keepdims=True), (X,)),
    ("norm-matrix-1", lambda a: la.norm(a, 1), (TALL,)),
    ("norm-matrix--1", lambda x: la.norm(x, -1, axis=(1, 2)), (X,)),
    ("norm-matrix-inf", lambda a: la.norm(a, np.inf), (TALL,)),
    ("norm-matrix--inf", lambda x: la.norm(x, -np.inf, axis=(2, 0)), (X,)),
    ("array-api-norms", lambda x: la.vector_norm(x, axis=(0, 2), ord=3)[:2] + la.matrix_norm(x),
     (X[:, :, :2],)),
    ("array-api-vector_norm-all", lambda x: la.vector_norm(x, keepdims=True), (X,)),
    ("array-api-products", lambda x, y: la.vecdot(la.matmul(x, y), la.tensordot(x, y, axes=1))
     + la.trace(la.outer(x[0], y[:, 0]), offset=1), (A, A.T.copy())),
    ("array-api-diagonal", lambda x: la.diagonal(la.matrix_transpose(x), offset=1), (X,)),
    ("pinv-tall", la.pinv, (TALL,)),
    ("pinv-wide", la.pinv, (WIDE,)),
    ("svd-values", lambda a: la.svd(a, compute_uv=False), (TALL,)),
    ("svd-values-wide-batched", lambda x: la.svd(x, compute_uv=False), (X,)),
    ("svd-U-tall", lambda a: la.svd(a, full_matrices=False)[0] ** 2, (TALL,)),
    ("svd-Vh-tall", lambda a: la.svd(a, full_matrices=False)[2] ** 2, (TALL,)),
    ("svd-U-wide", lambda a: la.svd(a, full_matrices=False)[0] ** 2, (WIDE,)),
    ("svd-Vh-wide", lambda a: la.svd(a, full_matrices=False)[2] ** 2, (WIDE,)),
    ("svd-square-reconstruct", lambda a: (lambda u, s, vh: (u * s) @ vh)(*la.svd(a)), (A,)),
    ("qr-Q", lambda a: la.qr(a)[0], (TALL,)),
    ("qr-R", lambda a: la.qr(a).R, (TALL,)),
    ("qr-square-product", lambda a: (lambda q, r: q * np.sum(r))(*la.qr(a)), (A,)),
    ("qr-mode-r", lambda a: la.qr(a, mode="r"), (TALL,)),
    ("matrix_power", lambda a: la.matrix_power(a, 3), (A,)),
    ("matrix_power-negative", lambda a: la.matrix_power(a, -2), (A,)),
]
