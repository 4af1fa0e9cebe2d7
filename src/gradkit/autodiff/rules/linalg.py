"""Rules for ``np.linalg``: inv, solve, det, slogdet, cholesky, eigh, norm, pinv, svd, qr.

Every rule works on stacks of matrices (the last two axes). The formulas are the standard ones
(Giles 2008, "Extended collection of matrix derivative results"; Murray 2016 for Cholesky;
Townsend 2016 for the SVD) and are written with differentiable NumPy calls, so Hessians work.

Decompositions that return several arrays (slogdet, eigh, svd, qr) are one primitive per
output, each recomputing the decomposition: the VJP of the whole is the sum of the VJPs of its
parts, so the engine adds them up correctly whichever outputs are used.

Conventions:

- ``cholesky`` and ``eigh`` read only one triangle of their argument (the lower one, or the
  upper with ``UPLO='U'``). Their derivative is the derivative of that function, so a
  gradient is zero above the diagonal and counts each off-diagonal entry twice. For symmetric
  perturbations it agrees with the symmetric gradient of PyTorch and JAX; to get that
  gradient itself, differentiate through ``(a + a.T) / 2``.
- ``eigh`` (eigenvectors), ``eig`` (eigenvectors) and ``svd`` (singular vectors) are
  differentiable only where the eigenvalues / singular values are distinct (and, for ``svd``'s
  vectors, nonzero). Where they repeat (to rounding), a loss that reads the vectors of the
  repeated ones raises ``ValueError`` in reverse mode, and their forward-mode tangent is NaN;
  the eigenvalues and singular values stay differentiable there (the vectors of the other
  eigenvalues too). ``eig`` of a defective matrix raises.
- ``norm`` at zero follows the minimum-norm subgradient convention: its gradient there is 0.
- Complex input (the convention of :mod:`gradkit.autodiff.complex`): ``eigh`` of a Hermitian
  matrix reads one triangle and the real part of the diagonal, as LAPACK does; ``eig`` of a
  general matrix; ``svd`` through ``eigh`` of the Gram matrix; ``norm`` is real. Eigenvectors
  and singular vectors have a free phase each: only losses invariant under it have a
  derivative, and the VJP raises for the others (as PyTorch does). ``inv``, ``solve`` and
  ``det`` are holomorphic. The other decompositions refuse complex input.
"""
import math
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .. import conventions
from ...backend import eye_like
from ..trace import apply, is_ndarray
from .numerical import attach, numpy_value, with_numpy_values
from ..tracer import Tracer
from ..primitive import (
    FUNCTION_HANDLERS, NoGradientRuleError, def_linear, defjvp, defvjp, differentiable)

_T = lambda x: np.swapaxes(x, -1, -2)  # noqa: E731  (transpose of a stack of matrices)


def _cplx(x):
    """Whether ``x`` holds complex numbers (at any depth of tracing)."""
    return getattr(conventions.getval(x), "dtype", np.dtype(float)).kind == "c"


def _c(x):
    """``conj(x)`` for complex ``x``; ``x`` itself for real (no copy, no extra tape step)."""
    return np.conjugate(x) if _cplx(x) else x


def _real_ct(g, ans):
    """A real output's cotangent is real: drop what a product with a complex value left."""
    return np.real(g) if _cplx(g) and not _cplx(ans) else g


def _eye_like(x, n=None):
    return eye_like(x, n)  # on x's device (np.eye would be on the host)


def _mat(g):
    """A scalar-per-matrix array broadcast against the stack of matrices."""
    return np.expand_dims(np.expand_dims(g, -1), -1)


# the namedtuples numpy returns for decompositions
_SlogdetResult = type(np.linalg.slogdet(np.eye(1)))
_EighResult = type(np.linalg.eigh(np.eye(1)))
_SVDResult = type(np.linalg.svd(np.eye(1)))
_QRResult = type(np.linalg.qr(np.eye(1)))


# ----------------------------------------------------------------------------- inv, solve
defvjp(np.linalg.inv, lambda g, ans, a: -_T(ans) @ g @ _T(ans))
defjvp(np.linalg.inv, lambda t, ans, a: -ans @ t @ ans)


def _solve_vector(b):
    # NumPy 2 treats b as a vector only when b.ndim == 1; anything else is a stack of matrices.
    return np.ndim(b) == 1


def _solve_vec(a, v):
    """np.linalg.solve with ``v`` a (stack of) vector(s), whatever its number of axes."""
    return np.linalg.solve(a, np.expand_dims(v, -1))[..., 0]


def _solve_vjp_a(g, ans, a, b):
    gb = _solve_vjp_b(g, ans, a, b)
    if _solve_vector(b):
        return -np.expand_dims(gb, -1) * np.expand_dims(ans, -2)
    return -gb @ _T(ans)


def _solve_vjp_b(g, ans, a, b):
    if _solve_vector(b):
        return _solve_vec(_T(a), g)
    return np.linalg.solve(_T(a), g)


def _solve_jvp_a(t, ans, a, b):
    if _solve_vector(b):
        return -_solve_vec(a, (t @ np.expand_dims(ans, -1))[..., 0])
    return -np.linalg.solve(a, t @ ans)


defvjp(np.linalg.solve, _solve_vjp_a, _solve_vjp_b, broadcasts=True)  # batch axes broadcast
defjvp(np.linalg.solve, _solve_jvp_a)
def_linear(np.linalg.solve, 1)


# ----------------------------------------------------------------------------- det, slogdet
def _trace_product(x, t):
    """trace(x @ t) for stacks of matrices, without forming the product."""
    return np.sum(_T(x) * t, axis=(-2, -1))


def _adjugate(a):
    """adj(A) = det(A) A^-1, defined (and computed stably) for singular A too: with
    A = U diag(s) V^H, adj(A) = det(U) det(V^H) V diag(p) U^H, p_i = prod_{j != i} s_j.
    For plain arrays (a first derivative); det(A) A^-1 would divide 0 by 0 at a singular A,
    and lose all accuracy near one."""
    u, sv, vh = np.linalg.svd(a)
    n = sv.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1, sv[..., None, :])  # row i: s with s_i -> 1
    p = np.prod(others, axis=-1)
    phase = np.linalg.det(u) * np.linalg.det(vh)
    return _mat(phase) * (np.conjugate(_T(vh)) * p[..., None, :]) @ np.conjugate(_T(u))


def _det_inverse_term(ans, a):
    """det(A) A^-1, the derivative's matrix: the adjugate on plain arrays; on traced values
    (a second derivative) det(A) inv(A), differentiable, which needs A invertible."""
    if is_ndarray(a):  # (also a value recorded by gk.jit: the same calls as eager)
        return _adjugate(a)
    try:
        return _mat(ans) * np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise NoGradientRuleError(
            "the second derivative of np.linalg.det at a singular matrix is not implemented "
            "(the first derivative, the adjugate, is).") from None


defvjp(np.linalg.det, lambda g, ans, a: _mat(g) * _T(_det_inverse_term(ans, a)))
defjvp(np.linalg.det, lambda t, ans, a: _trace_product(_det_inverse_term(ans, a), t))


@differentiable(name="slogdet (log |det|)")
def _logabsdet(a):
    return np.linalg.slogdet(a)[1]


# log|det A| = Re log det A: d = Re tr(A^-1 dA), cotangent g A^-T (gradkit's convention) for
# real and complex A alike; the tangent takes the real part.
def _inverse_of_nonsingular(a):
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise ValueError("np.linalg.slogdet: the matrix is singular (log |det| = -inf, as NumPy "
                         "gives), so its derivative A^-T does not exist.") from None


defvjp(_logabsdet.primitive,
       lambda g, ans, a: _mat(_real_ct(g, ans)) * _T(_inverse_of_nonsingular(a)))
defjvp(_logabsdet.primitive, lambda t, ans, a: (
    lambda d: np.real(d) if _cplx(d) else d)(_trace_product(_inverse_of_nonsingular(a), t)))


def _slogdet(a):
    if _cplx(a):  # the sign det / |det| moves on the unit circle: differentiable
        d = np.linalg.det(a)
        phase = d / np.abs(d)
        # NumPy's sign (from its LU factors) bit for bit, with the derivative of det / |det|;
        # at a singular matrix NumPy's 0, with no derivative
        sign0, _ = np.linalg.slogdet(conventions.getval(a))
        return _SlogdetResult(sign0 + np.where(sign0 == 0, 0.0, phase - conventions.getval(phase)),
                              _logabsdet(a))
    sign = np.linalg.slogdet(conventions.getval(a))[0]  # piecewise constant: no derivative
    return _SlogdetResult(sign, _logabsdet(a))


FUNCTION_HANDLERS[np.linalg.slogdet] = _slogdet


# ----------------------------------------------------------------------------- symmetric input
def _one_triangle(x, lower):
    """The derivative of a function reading one triangle of a symmetric matrix, given the
    gradient ``x`` of the same function of a full (symmetrized) matrix."""
    both = x + _c(_T(x))  # complex Hermitian input: the other triangle is the conjugate
    off = np.tril(both, -1) if lower else np.triu(both, 1)
    # the diagonal of a Hermitian matrix is real: LAPACK reads only its real part
    return off + (np.real(x) if _cplx(x) else x) * _eye_like(x)


def _symmetric_tangent(t, lower):
    """The symmetric matrix the function actually sees when its argument moves along ``t``."""
    half = np.tril(t, -1) if lower else np.triu(t, 1)
    return half + _c(_T(half)) + (np.real(t) if _cplx(t) else t) * _eye_like(t)


def _lower(kwargs_uplo):
    if kwargs_uplo not in ("L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', got {kwargs_uplo!r}.")
    return kwargs_uplo == "L"


# ----------------------------------------------------------------------------- cholesky
def _phi(x):
    """The lower triangle with the diagonal halved."""
    return np.tril(x) - 0.5 * x * _eye_like(x)


def _cholesky_vjp(g, ans, a, upper=False):
    if upper:
        raise NoGradientRuleError("np.linalg.cholesky(upper=True) is not differentiable in "
                                  "gradkit; use the lower factor L and L.T.")
    # Murray (2016): A_bar = L^-T phi(L^T L_bar) L^-1, symmetrized
    inner = _phi(_T(ans) @ g)
    s = np.linalg.solve(_T(ans), _T(np.linalg.solve(_T(ans), _T(inner))))
    return _one_triangle(s, lower=True)


def _cholesky_jvp(t, ans, a, upper=False):
    if upper:
        raise NoGradientRuleError("np.linalg.cholesky(upper=True) is not differentiable in "
                                  "gradkit; use the lower factor L and L.T.")
    t = _symmetric_tangent(t, lower=True)
    # L_dot = L phi(L^-1 A_dot L^-T)
    x = np.linalg.solve(ans, _T(np.linalg.solve(ans, _T(t))))
    return ans @ _phi(x)


defvjp(np.linalg.cholesky, _cholesky_vjp)
defjvp(np.linalg.cholesky, _cholesky_jvp)


# ----------------------------------------------------------------------------- eigh
@differentiable(name="eigh (eigenvalues)")
def _eigh_w(a, UPLO="L", vectors=True):
    # NumPy's eigvalsh (no vectors computed) and eigh differ in the last bits: each its own
    return np.linalg.eigh(a, UPLO)[0] if vectors else np.linalg.eigvalsh(a, UPLO)


@differentiable(name="eigh (eigenvectors)")
def _eigh_v(a, UPLO="L"):
    return np.linalg.eigh(a, UPLO)[1]


def _degenerate_pairs(w):
    """The pairs ``i != j`` of (plain) eigenvalues equal to rounding, as a boolean mask of
    shape ``w.shape + w.shape[-1:]``, or None when all are distinct. "Equal" is within
    ``64 n eps max|w|`` per matrix: closer than that, the computed eigenvectors of the two are
    an arbitrary basis of their common eigenspace; farther, the derivatives are large but
    right (finite differences agree)."""
    wv = conventions.getval(w)
    if not is_ndarray(wv) or wv.ndim == 0 or wv.shape[-1] < 2:
        return None
    n = wv.shape[-1]
    eps = np.finfo(wv.dtype).eps
    scale = np.max(np.abs(wv), axis=-1, keepdims=True)[..., None]
    mask = np.abs(wv[..., :, None] - wv[..., None, :]) <= 64 * n * eps * scale
    mask &= ~np.eye(n, dtype=bool)
    return mask if mask.any() else None


def _eigen_gaps(w, e=None):
    """F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it. On a degenerate pair (see
    :func:`_degenerate_pairs`) the vectors' derivative exists only along a tangent ``e``
    (V^-1 dA V, forward mode) that does not split the eigenspace: F is 0 there where
    ``e[i, j]`` vanishes and NaN where it does not (the tangent of those vectors is NaN: it does
    not exist, and raising would also refuse the eigenvalues, which are computed alongside)."""
    eye = _eye_like(w)
    deg = _degenerate_pairs(w)
    if deg is None:
        return (1.0 - eye) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye)
    degf = deg.astype(conventions.getval(eye).dtype)
    f = (1.0 - eye - degf) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + eye + degf)
    ev = None if e is None else conventions.getval(e)
    if ev is not None and is_ndarray(ev):
        ae = np.abs(ev)
        split = deg & (ae > 1e-9 * (np.max(ae, axis=(-2, -1), keepdims=True)
                                    + np.finfo(ae.dtype).tiny))
        if split.any():
            f = f + np.where(split, np.nan, 0.0)
    return f


def _check_degenerate(x, w, fname):
    """Reverse mode: raise where a loss depends on the eigenvectors (singular vectors) of a
    repeated eigenvalue (``x`` = V^T g, plain values: a column of a degenerate pair that is not
    zero). Those vectors are an arbitrary basis of their eigenspace, which a perturbation
    rotates by a finite amount: they have no derivative. (A loss that depends on the
    eigenspace only, such as its projector, has one, but it cannot be told apart from the
    cotangent alone, so it is refused too.)"""
    deg = _degenerate_pairs(w)
    xv = conventions.getval(x)
    if deg is None or not is_ndarray(xv):
        return
    ax = np.abs(xv)
    cols = np.any(deg, axis=-2)[..., None, :]
    scale = np.max(ax, axis=(-2, -1), keepdims=True) + np.finfo(ax.dtype).tiny
    if np.any(cols & (ax > 1e-9 * scale)) and np.any(ax > 0):
        raise ValueError(
            f"{fname}: eigenvalues (singular values) are repeated and the loss depends on "
            "their vectors, which are an arbitrary basis of the eigenspace there, so their "
            "derivative is not defined. Differentiate the eigenvalues (singular values), or "
            "perturb the matrix to separate them.")


# Complex Hermitian input (Giles 2008 with conjugate transposes): with A = V diag(w) V^H,
# dw = diag(V^H dA V) (real) and dV = V (F o (V^H dA V)), F[i, j] = 1 / (w_j - w_i) and 0 on
# the diagonal. In gradkit's convention (gradkit.autodiff.complex) the cotangents of the full
# matrix are conj(V) diag(g_w) V^T and conj(V) (F o (V^T g_V)) V^T, read back into the one
# triangle by _one_triangle. Eigenvectors are defined up to a phase each (v_k -> e^{i p} v_k),
# so only losses that do not depend on those phases have a derivative: the VJP checks it
# (Im diag(V^T g_V) = 0), as PyTorch does, and raises otherwise.
def _eigh_w_vjp(g, ans, a, UPLO="L", vectors=True):
    v = _eigh_v(a, UPLO)
    return _one_triangle((_c(v) * np.expand_dims(_real_ct(g, ans), -2)) @ _T(v), _lower(UPLO))


def _eigh_w_jvp(t, ans, a, UPLO="L", vectors=True):
    v = _eigh_v(a, UPLO)
    dw = np.sum(_c(v) * (_symmetric_tangent(t, _lower(UPLO)) @ v), axis=-2)
    return np.real(dw) if _cplx(dw) else dw


def _check_gauge(g, v, fname):
    """Raise unless the loss is invariant under v_k -> e^{i p} v_k: Im diag(V^T g) = 0."""
    gv, vv = conventions.getval(g), conventions.getval(v)
    if not (_cplx(gv) or _cplx(vv)) or type(gv) is not np.ndarray:
        return  # real vectors: the gauge is a sign, no derivative through it
    phase = np.imag(np.sum(gv * vv, axis=-2))
    scale = np.sqrt(np.sum(np.abs(gv) ** 2, axis=-2)) + np.finfo(np.abs(vv).dtype).tiny
    if np.any(np.abs(phase) > 1e-6 * scale):
        raise ValueError(
            f"{fname}: the loss depends on the phase of the complex eigenvectors, which is "
            "arbitrary (each v_k may be multiplied by exp(i phi)), so its derivative is not "
            "defined. Use a phase-invariant quantity: |v|^2, v v^H, or functions of the "
            "eigenvalues.")


def _eigh_v_vjp(g, ans, a, UPLO="L"):
    _check_gauge(g, ans, "np.linalg.eigh")
    w = _eigh_w(a, UPLO)
    vtg = _T(ans) @ g
    _check_degenerate(vtg, w, "np.linalg.eigh")
    return _one_triangle(_c(ans) @ (_eigen_gaps(w) * vtg) @ _T(ans), _lower(UPLO))


def _eigh_v_jvp(t, ans, a, UPLO="L"):
    w = _eigh_w(a, UPLO)
    e = _c(_T(ans)) @ _symmetric_tangent(t, _lower(UPLO)) @ ans
    return ans @ (_eigen_gaps(w, e) * e)


defvjp(_eigh_w.primitive, _eigh_w_vjp)
defjvp(_eigh_w.primitive, _eigh_w_jvp)
defvjp(_eigh_v.primitive, _eigh_v_vjp)
defjvp(_eigh_v.primitive, _eigh_v_jvp)


def _eigh(a, UPLO="L"):
    return _EighResult(_eigh_w(a, UPLO), _eigh_v(a, UPLO))


FUNCTION_HANDLERS[np.linalg.eigh] = _eigh
FUNCTION_HANDLERS[np.linalg.eigvalsh] = lambda a, UPLO="L": _eigh_w(a, UPLO, vectors=False)


# ----------------------------------------------------------------------------- eig
# A general (diagonalizable) matrix, real or complex: A = V diag(w) V^-1, with NumPy's
# normalization: each eigenvector has unit 2-norm; its phase (its sign, for a real one) is
# arbitrary. With E = V^-1 dA V (Giles 2008):
#   dw = diag(E),   dV = dV0 - V Re(diag(V^H dV0)),   dV0 = V (F o E),  F[i, j] = 1/(w_j - w_i)
# (the second term keeps each column at unit norm; the phase is left unchanged). The VJPs are
# the transposes in gradkit's convention (gradkit.autodiff.complex):
#   A_bar = V^-T (diag(w_bar) + F o (V^T V0_bar)) V^T,   V0_bar = V_bar - conj(V) Re(diag(V^T V_bar))
# and their real part for a real A. Only losses that do not depend on the arbitrary phases have
# a derivative (functions of w, |v|^2, v v^H / (v^H v), ...): the VJP checks it as eigh's does.
# Eigenvalues must be distinct; w and V come out complex for a real A with complex eigenvalues.
_EigResult = type(np.linalg.eig(np.eye(1)))


@differentiable(name="eig (eigenvalues)")
def _eig_w(a, vectors=True):
    return np.linalg.eig(a)[0] if vectors else np.linalg.eigvals(a)  # (their bits differ)


@differentiable(name="eig (eigenvectors)")
def _eig_v(a):
    return np.linalg.eig(a)[1]


def _real_if_real(ct, a):
    return np.real(ct) if _cplx(ct) and not _cplx(a) else ct


def _check_defective(w, v):
    """A repeated eigenvalue whose eigenvectors are parallel (a defective matrix, such as
    [[1, 1], [0, 1]]): the eigenvalues are not differentiable there (they move as a square
    root of the perturbation), so raise instead of returning V^-1's rounding noise."""
    deg = _degenerate_pairs(w)
    vv = conventions.getval(v)
    if deg is None or not is_ndarray(vv):
        return
    cos = np.abs(np.conjugate(np.swapaxes(vv, -1, -2)) @ vv)
    if np.any(deg & (cos > 1.0 - 1e-7)):
        raise ValueError(
            "np.linalg.eig: the matrix is defective (a repeated eigenvalue with fewer "
            "independent eigenvectors than its multiplicity), so its eigenvalues are not "
            "differentiable there.")


def _eig_w_vjp(g, ans, a, vectors=True):
    v = _eig_v(a)
    _check_defective(ans, v)
    return _real_if_real(_T(np.linalg.inv(v)) @ (np.expand_dims(_real_ct(g, ans), -1) * _T(v)), a)


def _eig_w_jvp(t, ans, a, vectors=True):
    v = _eig_v(a)
    _check_defective(ans, v)
    return np.sum(_T(np.linalg.inv(v)) * (t @ v), axis=-2)


def _eig_v_vjp(g, ans, a):
    g = _real_ct(g, ans)
    _check_gauge(g, ans, "np.linalg.eig")
    v = ans
    w = _eig_w(a)
    _check_defective(w, v)
    c = np.real(np.sum(g * v, axis=-2))
    g0 = g - _c(v) * np.expand_dims(c, -2)
    _check_degenerate(_T(v) @ g, w, "np.linalg.eig")  # (g itself: any cotangent on them)
    return _real_if_real(_T(np.linalg.inv(v)) @ (_eigen_gaps(w) * (_T(v) @ g0)) @ _T(v), a)


def _eig_v_jvp(t, ans, a):
    v = ans
    w = _eig_w(a)
    _check_defective(w, v)
    e = np.linalg.inv(v) @ t @ v
    dv0 = v @ (_eigen_gaps(w, e) * e)
    r = np.sum(_c(v) * dv0, axis=-2)
    return dv0 - v * np.expand_dims(np.real(r) if _cplx(r) else r, -2)


defvjp(_eig_w.primitive, _eig_w_vjp)
defjvp(_eig_w.primitive, _eig_w_jvp)
defvjp(_eig_v.primitive, _eig_v_vjp)
defjvp(_eig_v.primitive, _eig_v_jvp)

FUNCTION_HANDLERS[np.linalg.eig] = lambda a: _EigResult(_eig_w(a), _eig_v(a))
FUNCTION_HANDLERS[np.linalg.eigvals] = lambda a: _eig_w(a, vectors=False)


# ----------------------------------------------------------------------------- svd
# ``how``: the call of np.linalg.svd whose values these are ("values": compute_uv=False,
# "reduced", "full": a square matrix with full_matrices=True). LAPACK computes the factors
# differently in each, to the last bits, and the traced values are NumPy's for the user's call.
def _svd_factor(a, how, k):
    if how == "values":
        return np.linalg.svd(a, compute_uv=False)
    return np.linalg.svd(a, full_matrices=how == "full")[k]


@differentiable(name="svd (singular values)")
def _svd_s(a, how="values"):
    return _svd_factor(a, how, 1)


@differentiable(name="svd (U)")
def _svd_u(a, how="reduced"):
    return _svd_factor(a, how, 0)


@differentiable(name="svd (Vh)")
def _svd_vh(a, how="reduced"):
    return _svd_factor(a, how, 2)


def _svd_gaps(s, e=None):
    """F[i, j] = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it (see :func:`_eigen_gaps`)."""
    return _eigen_gaps(s * s, e)


# Singular values of a complex matrix: ds = Re diag(U^H dA V), so the cotangent (gradkit's
# convention) is conj(U diag(g) V^H). The rules of _svd_u / _svd_vh are written for real
# matrices and refuse complex input (np.linalg.svd of a complex matrix goes through
# _complex_svd below instead), so for complex A the factors come from eigh, whose complex
# rules are verified to any order, in a form free of the phases:
# with A^H A = V diag(s^2) V^H (m >= n), U diag(c) V^H = A V diag(c / s) V^H; with
# A A^H = U diag(s^2) U^H (m < n), U diag(c) V^H = U diag(c / s) U^H A. Needs s > 0.
def _complex_svd_side(a, s):
    """``(side, wide)``: the eigenvectors of A^H A (or A A^H for a wide A), ordered as the
    singular values (descending), and whether A is wide."""
    m, n = np.shape(a)[-2:]
    wide = m < n
    gram = a @ _c(_T(a)) if wide else _c(_T(a)) @ a
    side = np.linalg.eigh(gram)[1]
    return side[..., ::-1], wide


def _svd_s_vjp(g, ans, a, how="values"):
    g = _real_ct(g, ans)
    if not _cplx(a):
        return (_svd_u(a) * np.expand_dims(g, -2)) @ _svd_vh(a)
    side, wide = _complex_svd_side(a, ans)
    scaled = side * np.expand_dims(g / ans, -2)
    return np.conjugate(scaled @ _c(_T(side)) @ a if wide else a @ scaled @ _c(_T(side)))


def _svd_s_jvp(t, ans, a, how="values"):
    if not _cplx(a) and not _cplx(t):
        return np.sum(_svd_u(a) * (t @ _T(_svd_vh(a))), axis=-2)
    if not _cplx(a):  # a real matrix moved along a complex direction
        ds = np.sum(_svd_u(a) * (t @ _T(_svd_vh(a))), axis=-2)
        return np.real(ds)
    side, wide = _complex_svd_side(a, ans)
    if wide:  # Re diag(U^H dA A^H U) / s
        ds = np.sum(np.conjugate(side) * (t @ (_c(_T(a)) @ side)), axis=-2)
    else:  # Re diag(V^H A^H dA V) / s
        ds = np.sum(np.conjugate(a @ side) * (t @ side), axis=-2)
    return np.real(ds) / ans


def _check_nonzero_singular(s, fname="np.linalg.svd"):
    """The singular vectors of a non-square matrix have a derivative with 1 / s_k in it (the
    part outside the span of the other factor): raise where a singular value is exactly 0
    (those vectors are then not unique) rather than return inf or NaN."""
    sv = conventions.getval(s)
    if is_ndarray(sv) and np.any(sv == 0):
        raise ValueError(
            f"{fname}: a singular value of this non-square matrix is 0, so its singular "
            "vectors are not unique and have no derivative. Differentiate the singular values "
            "(np.linalg.svd(a, compute_uv=False)), or perturb the matrix.")


def _svd_u_vjp(g, ans, a, how="reduced"):
    u, s, v = ans, _svd_s(a), _T(_svd_vh(a, how))  # (U and V of the same call)
    utg = _T(u) @ g
    _check_degenerate(utg, s * s, "np.linalg.svd")
    inner = _svd_gaps(s) * (utg - _T(utg)) * np.expand_dims(s, -2)
    out = u @ inner @ _T(v)
    m, n = np.shape(a)[-2:]
    if m > n:  # the part of g outside the span of U
        _check_nonzero_singular(s)
        out = out + (g - u @ utg) @ (_T(v) / np.expand_dims(s, -1))
    return out


def _svd_vh_vjp(g, ans, a, how="reduced"):
    u, s, v = _svd_u(a, how), _svd_s(a), _T(ans)
    gv = _T(g)
    vtg = _T(v) @ gv
    _check_degenerate(vtg, s * s, "np.linalg.svd")
    inner = np.expand_dims(s, -1) * (_svd_gaps(s) * (vtg - _T(vtg)))
    out = u @ inner @ _T(v)
    m, n = np.shape(a)[-2:]
    if m < n:
        _check_nonzero_singular(s)
        out = out + (u / np.expand_dims(s, -2)) @ (_T(gv) - (_T(gv) @ v) @ _T(v))
    return out


def _svd_dS(t, a, how):
    u, v = _svd_u(a, how), _T(_svd_vh(a, how))
    return u, v, _T(u) @ t @ v


def _svd_u_jvp(t, ans, a, how="reduced"):
    u, v, ds = _svd_dS(t, a, how)
    s = _svd_s(a)
    dss = ds * np.expand_dims(s, -2)
    du = u @ (_svd_gaps(s, ds) * (dss + _T(dss)))
    m, n = np.shape(a)[-2:]
    if m > n:
        _check_nonzero_singular(s)
        dav = t @ v
        du = du + (dav - u @ (_T(u) @ dav)) / np.expand_dims(s, -2)
    return du


def _svd_vh_jvp(t, ans, a, how="reduced"):
    u, v, ds = _svd_dS(t, a, how)
    s = _svd_s(a)
    sds = np.expand_dims(s, -1) * ds
    dv = v @ (_svd_gaps(s, ds) * (sds + _T(sds)))
    m, n = np.shape(a)[-2:]
    if n > m:
        _check_nonzero_singular(s)
        dau = _T(t) @ u
        dv = dv + (dau - v @ (_T(v) @ dau)) / np.expand_dims(s, -2)
    return _T(dv)


defvjp(_svd_s.primitive, _svd_s_vjp)
defjvp(_svd_s.primitive, _svd_s_jvp)
defvjp(_svd_u.primitive, _svd_u_vjp)
defjvp(_svd_u.primitive, _svd_u_jvp)
defvjp(_svd_vh.primitive, _svd_vh_vjp)
defjvp(_svd_vh.primitive, _svd_vh_jvp)


def _hermitian_svd(a, compute_uv):
    """np.linalg.svd(hermitian=True) with NumPy's steps: eigh (which reads the lower triangle
    only), the eigenvalues' absolute values sorted descending, the signs moved into Vh."""
    if not compute_uv:
        return np.sort(np.abs(_eigh_w(a, "L", vectors=False)))[..., ::-1]
    s, u = _eigh(a)
    sgn = np.copysign(1.0, conventions.getval(s))  # (no zero sign)
    s = np.abs(s)
    sidx = np.argsort(conventions.getval(s))[..., ::-1]
    sgn = np.take_along_axis(sgn, sidx, axis=-1)
    s = np.take_along_axis(s, sidx, axis=-1)
    u = np.take_along_axis(u, sidx[..., None, :], axis=-1)
    vt = np.conjugate(np.swapaxes(u * sgn[..., None, :], -1, -2))
    return _SVDResult(u, s, vt)


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        return _hermitian_svd(a, compute_uv)
    if not compute_uv:
        return _svd_s(a)
    m, n = np.shape(a)[-2:]
    if full_matrices and m != n:
        raise NoGradientRuleError(
            f"np.linalg.svd with full_matrices=True of a {m}x{n} matrix is not differentiable: "
            "the extra singular vectors are not unique. Pass full_matrices=False.")
    how = "full" if full_matrices else "reduced"
    if _cplx(a):
        return _complex_svd(a, how)
    return _SVDResult(_svd_u(a, how), _svd_s(a, how), _svd_vh(a, how))


def _phases(x, ref):
    """exp(i arg(sum_i conj(x_ik) ref_ik)) per column k (plain values): the phase that turns
    the columns of ``x`` into those of ``ref`` when they are equal up to a phase."""
    d = np.sum(np.conjugate(x) * ref, axis=-2)
    return d / np.where(np.abs(d) == 0, 1.0, np.abs(d))


def _complex_svd(a, how="reduced"):
    """The reduced SVD of a complex ``a``: NumPy's values, with derivatives of singular vectors
    built from eigh (verified on complex input to any order) rather than the real-only rules.

    With A^H A = V diag(s^2) V^H (m >= n; A A^H for m < n), U = A V diag(1/s). The columns of
    V are phase-aligned to NumPy's by constant phases D (any fixed choice of phases is a valid
    gauge), and the traced outputs are NumPy's factors carrying X's derivative
    (:func:`~.numerical.attach`). So the values are NumPy's bit for bit, and the derivatives are
    right for every loss invariant under the joint phase change u_k, v_k -> e^{ip} u_k,
    e^{ip} v_k (|U|^2, U diag(s) V^H, U[:, k] U[:, k]^H, ...); for any other loss eigh's VJP
    raises. Needs distinct, nonzero singular values."""
    av = conventions.getval(a)
    u0, s0, vh0 = np.linalg.svd(av, full_matrices=how == "full")
    s = _svd_s(a)
    m, n = np.shape(a)[-2:]
    ah = np.conjugate(_T(a))
    if m >= n:
        v = np.linalg.eigh(ah @ a)[1][..., ::-1]
        v = v * np.expand_dims(_phases(conventions.getval(v), np.conjugate(_T(vh0))), -2)
        u = (a @ v) / np.expand_dims(s, -2)
        vh = np.conjugate(_T(v))
    else:
        u = np.linalg.eigh(a @ ah)[1][..., ::-1]
        u = u * np.expand_dims(_phases(conventions.getval(u), u0), -2)
        vh = (np.conjugate(_T(u)) @ a) / np.expand_dims(s, -1)
    return _SVDResult(attach(u0, u), attach(s0, s), attach(vh0, vh))


FUNCTION_HANDLERS[np.linalg.svd] = _svd
if hasattr(np.linalg, "svdvals"):
    FUNCTION_HANDLERS[np.linalg.svdvals] = lambda x: _svd_s(x)


# ----------------------------------------------------------------------------- pinv
def _pinv_vjp(g, ans, a, *args, **kwargs):
    # the transpose of the JVP below, term by term
    p, pt, gt = ans, _T(ans), _T(g)
    return (-pt @ g @ pt
            + (_eye_like(a, np.shape(a)[-2]) - a @ p) @ gt @ p @ pt
            + pt @ p @ gt @ (_eye_like(a) - p @ a))


def _pinv_jvp(t, ans, a, *args, **kwargs):
    # constant rank: dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P
    p, tt = ans, _T(t)
    return (-p @ t @ p
            + p @ _T(p) @ tt @ (_eye_like(a, np.shape(a)[-2]) - a @ p)
            + (_eye_like(a) - p @ a) @ tt @ _T(p) @ p)


P_PINV = defvjp(np.linalg.pinv, _pinv_vjp)
defjvp(np.linalg.pinv, _pinv_jvp)


def _pinv(a, *args, **kwargs):
    """np.linalg.pinv; with hermitian=True NumPy reads the lower triangle only (eigh), so the
    derivative is that of the pseudo-inverse of the Hermitian matrix that triangle defines."""
    hermitian = kwargs.get("hermitian", args[1] if len(args) > 1 else False)
    if not hermitian:
        return apply(P_PINV, a, *args, **kwargs)
    full = np.tril(a) + np.conjugate(np.swapaxes(np.tril(a, -1), -1, -2))
    return numpy_value(lambda a: np.linalg.pinv(a, *args, **kwargs),
                       lambda a: apply(P_PINV, full, *args, **kwargs), a)


FUNCTION_HANDLERS[np.linalg.pinv] = _pinv


# ----------------------------------------------------------------------------- qr
@differentiable(name="qr (Q)")
def _qr_q(a):
    return np.linalg.qr(a)[0]


@differentiable(name="qr (R)")
def _qr_r(a):
    return np.linalg.qr(a)[1]


def _qr_vjp(q, r, gq, gr):
    """A_bar = (Q_bar + Q copyltu(M)) R^-T with M = R R_bar^T - Q_bar^T Q (m >= n)."""
    n_mat = 0.0
    if gr is not None:
        n_mat = gr @ _T(r)
    if gq is not None:
        n_mat = n_mat - _T(q) @ gq
    k = np.triu(n_mat) + np.tril(_T(n_mat), -1)
    y = q @ k if gq is None else gq + q @ k
    return _T(np.linalg.solve(r, _T(y)))


def _qr_tangents(t, q, r):
    t_rinv = _T(np.linalg.solve(_T(r), _T(t)))  # t @ R^-1
    x = _T(q) @ t_rinv
    low = np.tril(x, -1)
    omega = low - _T(low)
    return t_rinv, x, omega


defvjp(_qr_q.primitive, lambda g, ans, a: _qr_vjp(ans, _qr_r(a), g, None))
defjvp(_qr_q.primitive, lambda t, ans, a: (lambda tr, x, om: ans @ (om - x) + tr)(
    *_qr_tangents(t, ans, _qr_r(a))))
defvjp(_qr_r.primitive, lambda g, ans, a: _qr_vjp(_qr_q(a), ans, None, g))
defjvp(_qr_r.primitive, lambda t, ans, a: (lambda tr, x, om: (x - om) @ ans)(
    *_qr_tangents(t, _qr_q(a), ans)))


def _qr(a, mode="reduced"):
    m, n = np.shape(a)[-2:]
    if m < n:
        raise NoGradientRuleError(
            f"np.linalg.qr of a {m}x{n} matrix (fewer rows than columns) is not differentiable "
            "in gradkit; differentiate the QR of the transpose (an LQ factorization) instead.")
    if mode == "r":
        return _qr_r(a)
    if mode == "complete" and m != n:
        raise NoGradientRuleError("np.linalg.qr(mode='complete') of a non-square matrix is not "
                                  "differentiable: the extra columns of Q are not unique. Use "
                                  "mode='reduced'.")
    if mode not in ("reduced", "complete"):
        raise NoGradientRuleError(f"np.linalg.qr(mode={mode!r}) is not differentiable in "
                                  "gradkit; use mode='reduced'.")
    return _QRResult(_qr_q(a), _qr_r(a))


FUNCTION_HANDLERS[np.linalg.qr] = _qr


# ----------------------------------------------------------------------------- norm
def _vector_norm_plain(x, ord, axis, keepdims):
    ax = np.abs(x)
    if ord == 2:
        sq = np.real(x * np.conjugate(x)) if x.dtype.kind == "c" else x * x  # |x|^2, real
        return np.sqrt(np.sum(sq, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return np.max(ax, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(ax, axis=axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(ax != 0, axis=axis, keepdims=keepdims).astype(ax.dtype)
    if ord == 1:
        return np.sum(ax, axis=axis, keepdims=keepdims)
    with np.errstate(divide="ignore"):
        return np.sum(ax ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


@differentiable(name="norm")
def _vector_norm(x, ord, axis, keepdims):
    """The ``ord``-norm of ``x`` over ``axis`` (None: all entries; or a tuple of axes),
    computed by np.linalg.norm wherever it computes the same norm (so its bits: it sums
    squares with a dot product on its fast path)."""
    if axis is None and (ord == 2 or np.ndim(x) == 1):
        return np.linalg.norm(x, None if ord == 2 else ord, None, keepdims)
    if axis is not None and len(axis) == 1:
        return np.linalg.norm(x, ord, axis, keepdims)
    if axis is not None and len(axis) == 2 and ord == 2:
        return np.linalg.norm(x, "fro", axis, keepdims)
    return _vector_norm_plain(x, ord, axis, keepdims)


def _sign(x):
    """sign(x) for real x; conj(z) / |z| (0 at 0) for complex z: the cotangent of |z|."""
    if _cplx(x):
        ax = np.abs(x)
        return np.conjugate(x) / np.where(ax == 0, 1.0, ax)
    return np.sign(x)


def _norm_partial(ans, x, ord, axis, keepdims):
    """d norm / d x, broadcast to x's shape: 0 wherever the norm is 0 (minimum norm). For
    complex x it is the cotangent direction c (VJP g c, JVP Re sum(t c)): conj(x) / |x| where
    a real x has sign(x)."""
    n = ans if keepdims or axis is None else np.expand_dims(ans, axis)
    if ord == 0:
        return 0.0 * x
    if ord == 1:
        return _sign(x)
    if ord in (np.inf, -np.inf):
        ax = np.abs(conventions.getval(x))
        hit = np.equal(ax, conventions.getval(n))
        share = hit / np.sum(hit, axis=axis, keepdims=True)  # ties share (float32 stays)
        return _sign(x) * (share.astype(ax.dtype) if ax.dtype.kind == "f" else share)
    safe = np.where(n == 0, 1.0, n)
    if ord == 2:
        return _c(x) / safe
    return _sign(x) * (np.abs(x) / safe) ** (ord - 1.0)


def _vector_norm_vjp(g, ans, x, ord, axis, keepdims):
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return _real_ct(g, ans) * _norm_partial(ans, x, ord, axis, keepdims)


def _vector_norm_jvp(t, ans, x, ord, axis, keepdims):
    dn = t * _norm_partial(ans, x, ord, axis, keepdims)
    return np.sum(np.real(dn) if _cplx(dn) else dn, axis=axis, keepdims=keepdims)


defvjp(_vector_norm.primitive, _vector_norm_vjp)
defjvp(_vector_norm.primitive, _vector_norm_jvp)


def _keep(out, axes, keepdims):
    return np.expand_dims(out, axes) if keepdims else out


def _norm(x, ord=None, axis=None, keepdims=False):
    nd = np.ndim(x)
    if axis is None and (ord is None or nd == 1):
        return _vector_norm(x, 2 if ord is None else ord, None, keepdims)
    if axis is None:
        if nd != 2:
            raise ValueError(f"np.linalg.norm with ord={ord!r} needs a 1-D or 2-D array or an "
                             f"axis, got a {nd}-D array.")
        if ord == "fro":  # NumPy's fast path for all entries (its bits)
            return _vector_norm(x, 2, None, keepdims)
        axis = (0, 1)
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    axis = tuple(int(a) % nd for a in axis)
    if len(axis) == 1:
        ord = 2 if ord is None else ord
        if isinstance(ord, str):
            raise ValueError(f"np.linalg.norm: ord={ord!r} is a matrix norm; give two axes.")
        return _vector_norm(x, ord, axis, keepdims)
    if len(axis) != 2:
        raise ValueError("np.linalg.norm takes one axis (vector norms) or two (matrix norms).")
    r, c = axis
    if ord in (None, "fro"):
        return _vector_norm(x, 2, axis, keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x| (inf: row sum); -1 / -inf: the smallest
        summed, other = (r, c) if ord in (1, -1) else (c, r)
        sums = np.sum(np.abs(x), axis=summed)
        out = _vector_norm(sums, np.inf if ord > 0 else -np.inf,
                           (other - (other > summed),), False)
    elif ord in ("nuc", 2, -2):
        perm = [i for i in range(nd) if i not in axis] + [r, c]
        s = _svd_s(np.transpose(x, perm) if perm != list(range(nd)) else x)
        # (np.max / np.min, as NumPy: tied singular values share the derivative equally, the
        # minimum-norm subgradient of the conventions)
        out = np.sum(s, axis=-1) if ord == "nuc" else np.max(s, axis=-1) if ord == 2 else \
            np.min(s, axis=-1)
    else:
        raise ValueError(f"np.linalg.norm: invalid ord={ord!r} for a matrix norm.")
    return _keep(out, axis, keepdims)


# NumPy computes norms with its own calls (x.dot(x), add.reduce, ...), whose sums round
# differently from the primitives': the values are NumPy's, the derivatives _norm's
FUNCTION_HANDLERS[np.linalg.norm] = with_numpy_values(np.linalg.norm, _norm)


# ----------------------------------------------------------------------------- compositions
def _cond(x, p=None):
    """np.linalg.cond: the ratio of the extreme singular values (p None, 2, -2), else
    norm(x, p) norm(inv(x), p), as NumPy computes it."""
    if p is None or p == 2 or p == -2:
        s = _svd_s(x)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    return _norm(x, p, axis=(-2, -1)) * _norm(np.linalg.inv(x), p, axis=(-2, -1))


FUNCTION_HANDLERS[np.linalg.cond] = with_numpy_values(np.linalg.cond, _cond)


def _matrix_power(a, n):
    """NumPy's own sequence of products (so the values are NumPy's bit for bit)."""
    n = operator.index(n)
    if n == 0:
        return np.broadcast_to(_eye_like(a), np.shape(a)) + 0.0 * a
    if n < 0:
        a, n = np.linalg.inv(a), -n
    if n == 1:
        return a
    if n == 2:
        return a @ a
    if n == 3:
        return (a @ a) @ a
    z = result = None
    while n > 0:
        z = a if z is None else z @ z
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else result @ z
    return result


FUNCTION_HANDLERS[np.linalg.matrix_power] = _matrix_power


def _lstsq(a, b, rcond=None):
    """``np.linalg.lstsq``: NumPy's values, with the derivatives of ``x = pinv(a) b`` (the
    minimum-norm least-squares solution lstsq computes, with its singular-value cutoff), of
    the residuals ``sum((b - a x)^2)`` and of the singular values. Each traced output is
    NumPy's value carrying X's derivative (:func:`~.numerical.attach`), as for the complex
    SVD. Differentiable where the rank is constant (pinv's condition); ``rank``
    is an integer and has none."""
    av, bv = conventions.getval(a), conventions.getval(b)
    x0, res0, rank, s0 = np.linalg.lstsq(av, bv, rcond=rcond)
    m, n = np.shape(av)
    cutoff = np.finfo(np.result_type(av, bv, np.float64)).eps * max(m, n) if rcond is None \
        else rcond
    x = np.linalg.pinv(a, rcond=cutoff) @ b
    out_x = attach(x0, x)
    out_res = res0
    if np.size(res0):  # NumPy gives residuals only for full column rank and m > n
        r = b - a @ x
        # |r|^2: NumPy's residuals are real for complex input too
        res = np.sum(np.real(np.conjugate(r) * r), axis=0, keepdims=np.ndim(bv) == 1)
        out_res = attach(res0, res)
    return out_x, out_res, rank, attach(s0, _svd_s(a))


FUNCTION_HANDLERS[np.linalg.lstsq] = _lstsq


def _polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """np.polyfit: NumPy's coefficients, with the derivative of its least-squares steps (the
    Vandermonde matrix with unit columns, lstsq, the scale undone)."""
    if full or cov or w is not None:
        raise NoGradientRuleError("np.polyfit with full=, w= or cov= is not differentiable in "
                                  "gradkit; fit with np.linalg.lstsq(np.vander(x, deg + 1), y).")
    x, y = (v if isinstance(v, Tracer) else np.asarray(v) for v in (x, y))

    def composite(x, y):
        x, y = x + 0.0, y + 0.0
        rc = len(x) * np.finfo(np.result_type(conventions.getval(x))).eps if rcond is None \
            else rcond
        lhs = np.vander(x, int(deg) + 1)
        scale = np.sqrt(np.sum(lhs * lhs, axis=0))
        c = np.linalg.lstsq(lhs / scale, y, rcond=rc)[0]
        return np.transpose(np.transpose(c) / scale)
    return numpy_value(lambda x, y: np.polyfit(x, y, deg, rcond), composite, x, y)


FUNCTION_HANDLERS[np.polyfit] = _polyfit


# ----------------------------------------------------------------------------- array-API names
# np.linalg's array-API spellings of functions that have rules elsewhere
def _vector_norm_api(x, axis=None, keepdims=False, ord=2):
    """np.linalg.vector_norm as NumPy writes it (so its bits): the axes moved first and merged
    into one, then np.linalg.norm over axis 0."""
    shape = list(np.shape(x))
    if axis is None:
        y, along = np.ravel(x), 0
    elif isinstance(axis, tuple):
        axes = normalize_axis_tuple(axis, len(shape))
        rest = tuple(i for i in range(len(shape)) if i not in axes)
        y = np.reshape(np.transpose(x, axis + rest),
                       (math.prod(shape[i] for i in axis),) + tuple(shape[i] for i in rest))
        along = 0
    else:
        y, along = x, axis
    out = _norm(y, ord, along)
    if keepdims:
        for i in normalize_axis_tuple(range(len(shape)) if axis is None else axis, len(shape)):
            shape[i] = 1
        out = np.reshape(out, tuple(shape))
    return out


_ARRAY_API = {
    "matmul": lambda x1, x2: np.matmul(x1, x2),
    "outer": lambda x1, x2: np.outer(x1, x2),
    "tensordot": lambda x1, x2, axes=2: np.tensordot(x1, x2, axes),
    "vecdot": lambda x1, x2, axis=-1: np.vecdot(np.moveaxis(x1, axis, -1),
                                                np.moveaxis(x2, axis, -1)),
    "diagonal": lambda x, offset=0: np.diagonal(x, offset, -2, -1),
    "trace": lambda x, offset=0, dtype=None: np.trace(x, offset, -2, -1, dtype),
    "matrix_transpose": lambda x: np.swapaxes(x, -1, -2),
    "matrix_norm": lambda x, keepdims=False, ord="fro": _norm(x, ord, (-2, -1), keepdims),
    "vector_norm": _vector_norm_api,
}
for _name, _handler in _ARRAY_API.items():
    if hasattr(np.linalg, _name):
        _fn = getattr(np.linalg, _name)
        FUNCTION_HANDLERS[_fn] = with_numpy_values(_fn, _handler) if _name in (
            "vecdot", "matrix_norm", "vector_norm") else _handler
