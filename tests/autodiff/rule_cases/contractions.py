"""Cases for products and contractions: dot, vdot, inner, outer, tensordot, einsum, kron, and
the diagonal family (trace, diagonal, diag, triu, tril)."""
import numpy as np

R = np.random.default_rng(2)
S = np.array(0.8)
V = R.standard_normal(3)
W = R.standard_normal(3)
A = R.standard_normal((2, 3))
B = R.standard_normal((3, 4))
SQ = R.standard_normal((3, 3))
T = R.standard_normal((2, 3, 4))
U = R.standard_normal((4, 3, 2))

CASES = [
    # dot in every case numpy distinguishes
    ("dot-scalar", lambda s, x: np.dot(s, x), (S, A)),
    ("dot-scalar-right", lambda x, s: np.dot(x, s), (V, S)),
    ("dot-vec-vec", lambda v, w: np.dot(v, w) ** 2, (V, W)),
    ("dot-mat-vec", lambda x, v: np.dot(x, v), (A, V)),
    ("dot-vec-mat", lambda v, y: np.dot(v, y), (V, B)),
    ("dot-mat-mat", lambda x, y: np.dot(x, y), (A, B)),
    ("dot-nd-nd", lambda t, u: np.dot(t, u), (T, np.swapaxes(U, 0, 1))),
    ("dot-nd-vec", lambda t, v: np.dot(np.swapaxes(t, 1, 2), v), (T, V)),
    ("dot-method", lambda x, y: x.dot(y) ** 2, (A, B)),
    ("vdot", lambda x, y: np.vdot(x, y) ** 2, (A, np.reshape(B[:, :2], (2, 3)))),
    ("inner-vec", lambda v, w: np.inner(v, w) ** 2, (V, W)),
    ("inner-nd", lambda t, x: np.inner(t, x), (T, B)),
    ("inner-scalar", lambda s, x: np.inner(s, x), (S, A)),
    ("outer", lambda x, v: np.outer(x, v), (A, V)),
    ("tensordot-int", lambda t, u: np.tensordot(t, u, 1), (T, U)),
    ("tensordot-2", lambda t, x: np.tensordot(t, x, 2), (T, B)),
    ("tensordot-0", lambda v, w: np.tensordot(v, w, 0), (V, W)),
    ("tensordot-pairs", lambda t, u: np.tensordot(t, u, ([2, 1], [0, 1])), (T, U)),
    ("tensordot-pairs-unordered", lambda t, u: np.tensordot(t, u, ([1, 0], [1, 2])), (T, U)),
    ("kron-2d", lambda x, y: np.kron(x, y), (A, SQ[:2])),
    ("kron-mixed-ndim", lambda v, x: np.kron(v, x), (V, A)),
    ("vecdot", lambda t, v: np.vecdot(t, v), (T, R.standard_normal(4))),
    ("matvec", lambda t, v: np.matvec(t, v), (T, R.standard_normal(4))),
    ("vecmat", lambda v, t: np.vecmat(v, t), (V, T)),
    # einsum: explicit, implicit, ellipsis, diagonals, sums, 1..3 operands, sublist form
    ("einsum-matmul", lambda x, y: np.einsum("ij,jk->ik", x, y), (A, B)),
    ("einsum-implicit", lambda x, y: np.einsum("ij,jk", x, y), (A, B)),
    ("einsum-transpose", lambda x: np.einsum("ij->ji", x) ** 2, (A,)),
    ("einsum-sum-axis", lambda x: np.einsum("ij->i", x) ** 2, (A,)),
    ("einsum-total", lambda x: np.einsum("ij->", x ** 2), (A,)),
    ("einsum-diag", lambda x: np.einsum("ii->i", x) ** 2, (SQ,)),
    ("einsum-trace", lambda x: np.einsum("ii", x) ** 2, (SQ,)),
    ("einsum-repeated-with-other", lambda x, v: np.einsum("iij,j->i", x, v),
     (np.stack([SQ, SQ.T], axis=-1), R.standard_normal(2))),
    ("einsum-ellipsis", lambda t, x: np.einsum("...ij,jk->...ik", t, x), (T, B.T.copy())),
    ("einsum-ellipsis-broadcast", lambda x, y: np.einsum("...i,...i->...", x, y),
     (R.standard_normal((1, 3)), R.standard_normal((4, 3)))),
    ("einsum-three", lambda x, y, v: np.einsum("ij,jk,i->k", x, y, v[:2]), (A, B, V)),
    ("einsum-same-operand", lambda v: np.einsum("i,i,i->", v, v, v), (V,)),
    ("einsum-sublist", lambda x, y: np.einsum(x, [0, 1], y, [1, 2], [0, 2]), (A, B)),
    ("einsum-optimize", lambda x, y, v: np.einsum("ij,jk,k->i", x, y, v, optimize=True),
     (A, B, R.standard_normal(4))),
    # the diagonal family
    ("trace", lambda x: np.trace(x) ** 2, (SQ,)),
    ("trace-offset-axes", lambda t: np.trace(t, 1, 0, 2), (T,)),
    ("trace-method", lambda x: x.trace() ** 2, (SQ,)),
    ("diagonal", lambda x: np.diagonal(x) ** 2, (A,)),
    ("diagonal-offset-axes", lambda t: np.diagonal(t, -1, 2, 1) ** 2, (T,)),
    ("diagonal-method", lambda x: x.diagonal(1) ** 2, (SQ,)),
    ("diag-vec", lambda v: np.diag(v ** 2, 1), (V,)),
    ("diag-mat", lambda x: np.diag(x, -1) ** 2, (B,)),
    ("triu", lambda x: np.triu(x) ** 2, (SQ,)),
    ("triu-batched-k", lambda t: np.triu(t, 1) ** 2, (T,)),
    ("triu-vector", lambda v: np.triu(v, -1) ** 2, (V,)),
    ("tril", lambda x: np.tril(x, -1) ** 2, (B,)),
    ("tril-vector", lambda v: np.tril(v) ** 2, (V,)),
]
