r"""Complex numbers against finite differences in the real and the imaginary directions.

The convention (gradkit.autodiff.complex, JAX's and autograd's): for a real loss L of
z = x + iy, ``grad(L)(z) == dL/dx - i dL/dy``; the tangent of z is ``dx + i dy``; for a
holomorphic f, ``grad(f, holomorphic=True)(z) == f'(z)``.

For every case ``f`` of the table (one per primitive verified on complex input):

* reverse mode: ``grad`` of the real scalarization ``L(z) = Re sum(u * f(z))`` equals
  ``(L(z + eps e_k) - L(z - eps e_k)) / 2 eps - i (L(z + i eps e_k) - L(z - i eps e_k)) / 2 eps``
  entry by entry (real and imaginary directions perturbed separately);
* forward mode: ``jvp(f, z, t)`` with a complex tangent ``t`` equals the directional
  derivative ``(f(z + eps t) - f(z - eps t)) / 2 eps``;
* order 2 (smooth cases): forward-over-reverse ``jvp(grad(L))`` and reverse-over-reverse
  ``grad(Re <w, grad(L)>)`` against finite differences of ``grad(L)``.

No warning may escape (a ComplexWarning would mean an imaginary part dropped by a cast).
"""
import re

import numpy as np
import pytest

import gradkit as gk
from gradkit import NoGradientRuleError

pytestmark = pytest.mark.filterwarnings("error")

EPS = 1e-6
R = np.random.default_rng(20261206)


def crandn(*shape):
    return R.standard_normal(shape) + 1j * R.standard_normal(shape)


def fd_gradient(L, args, k):
    """dL/dx - i dL/dy for argument k of the real function L, entry by entry."""
    z = np.array(args[k])
    out = np.zeros(z.shape, dtype=complex if np.iscomplexobj(z) else float)
    directions = (1.0, 1j) if np.iscomplexobj(z) else (1.0,)
    for idx in np.ndindex(z.shape):
        for d in directions:
            zp, zm = z.copy(), z.copy()
            zp[idx] += EPS * d
            zm[idx] -= EPS * d
            a = list(args)
            a[k] = zp
            fp = L(*a)
            a[k] = zm
            fm = L(*a)
            deriv = (fp - fm) / (2 * EPS)
            out[idx] += deriv if d == 1.0 else -1j * deriv
    return out


def fd_directional(f, args, tangents):
    plus = f(*[a + EPS * t for a, t in zip(args, tangents)])
    minus = f(*[a - EPS * t for a, t in zip(args, tangents)])
    return (np.asarray(plus) - np.asarray(minus)) / (2 * EPS)


def scalarize(f, args):
    """``L(*args) = Re sum(u * f(*args))`` with a fixed complex (or real) weight ``u``."""
    out = np.asarray(f(*args))
    u = crandn(*out.shape) if np.iscomplexobj(out) else R.standard_normal(out.shape)

    def L(*a):
        return np.real(np.sum(u * f(*a)))
    return L


def tangent_like(a):
    a = np.asarray(a)
    return crandn(*a.shape) if np.iscomplexobj(a) else R.standard_normal(a.shape)


def close(got, want, rtol=2e-5, atol=2e-7, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * max(1.0, np.abs(want).max()),
                               err_msg=what)


# ----------------------------------------------------------------------------- the table
Z = crandn(4)
Z2 = crandn(4)
ZP = np.array([1.2 + 0.5j, 0.7 - 0.3j, 2.0 + 1.0j, 0.4 + 0.9j])  # right half plane: log, sqrt
M = crandn(3, 3) + 3 * np.eye(3)
M2 = crandn(3, 3)
T = crandn(2, 3, 4)
XR = R.standard_normal(4)
_A = crandn(3, 3)
HERM = _A + _A.conj().T + np.diag([0.0, 3.0, 6.0])   # Hermitian, eigenvalues apart
_Q, _ = np.linalg.qr(crandn(3, 3))
GEN = _Q @ np.diag([1.0 + 1j, 2.5 - 0.5j, -1.5 + 2j]) @ np.linalg.inv(_Q + 0.3 * crandn(3, 3))
TALLC = crandn(4, 3)
la = np.linalg

CASES = [  # (name, function, args, smooth: check order 2)
    # holomorphic arithmetic and ufuncs
    ("add", lambda a, b: a + b, (Z, Z2), True),
    ("subtract", lambda a, b: a - b, (Z, Z2), True),
    ("multiply", lambda a, b: a * b, (Z, Z2), True),
    ("true_divide", lambda a, b: a / b, (Z, Z2), True),
    ("negative", lambda a: -a, (Z,), True),
    ("positive", lambda a: +a, (Z,), True),
    ("power-int", lambda a: a ** 3, (Z,), True),
    ("power-square", lambda a: a ** 2, (Z,), True),
    ("power-complex-both", lambda a, b: a ** b, (ZP, Z2 * 0.3), True),
    ("np.power-real-exponent", lambda a: np.power(a, 2.5), (ZP,), True),
    ("square", np.square, (Z,), True),
    ("sqrt", np.sqrt, (ZP,), True),
    ("reciprocal", np.reciprocal, (Z,), True),
    ("exp", np.exp, (Z,), True),
    ("expm1", np.expm1, (Z,), True),
    ("exp2", np.exp2, (Z,), True),
    ("log", np.log, (ZP,), True),
    ("log1p", np.log1p, (ZP,), True),
    ("log2", np.log2, (ZP,), True),
    ("log10", np.log10, (ZP,), True),
    ("sin", np.sin, (Z,), True),
    ("cos", np.cos, (Z,), True),
    ("tan", np.tan, (Z * 0.5,), True),
    ("sinh", np.sinh, (Z,), True),
    ("cosh", np.cosh, (Z,), True),
    ("tanh", np.tanh, (Z * 0.5,), True),
    ("arcsin", np.arcsin, (Z,), True),
    ("arccos", np.arccos, (Z,), True),
    ("arctan", np.arctan, (Z * 0.5,), True),
    ("arcsinh", np.arcsinh, (Z,), True),
    ("arccosh", np.arccosh, (Z,), True),
    ("arccosh-left-half-plane", np.arccosh, (np.array([-1.5 + 0.5j, -0.3 - 2j, -2 + 1j]),), True),
    ("arctanh", np.arctanh, (Z * 0.5,), True),
    # the parts of a complex number
    ("conj", np.conj, (Z,), True),
    ("conjugate-method", lambda a: a.conjugate() * a ** 2, (Z,), True),
    ("real", np.real, (Z,), True),
    ("real-attribute", lambda a: a.real * a, (Z,), True),
    ("imag", np.imag, (Z,), True),
    ("imag-attribute", lambda a: a.imag * a, (Z,), True),
    ("abs", np.abs, (Z,), True),
    ("abs-squared", lambda a: np.abs(a) ** 2, (Z,), True),
    ("angle", np.angle, (Z,), True),
    ("angle-deg", lambda a: np.angle(a, deg=True), (Z,), True),
    ("real_if_close-keeps", lambda a: np.real_if_close(a), (Z,), True),
    # reductions
    ("sum", np.sum, (T,), True),
    ("sum-axis", lambda a: np.sum(a, axis=1), (T,), True),
    ("mean", lambda a: np.mean(a, axis=(0, 2)), (T,), True),
    ("prod", np.prod, (Z,), True),
    ("cumsum", lambda a: np.cumsum(a, axis=1), (M,), True),
    ("cumprod", lambda a: np.cumprod(a, axis=0), (M,), True),
    ("cumprod-with-zero", lambda a: np.cumprod(a * np.array([1, 0, 1, 1])), (Z,), False),
    ("prod-with-zero", lambda a: np.prod(a * np.array([1, 0, 1, 1])), (Z,), False),
    ("var", np.var, (Z,), True),
    ("var-axis-ddof", lambda a: np.var(a, axis=0, ddof=1), (M,), True),
    ("std", np.std, (Z,), True),
    ("std-axis", lambda a: np.std(a, axis=1, keepdims=True), (M,), True),
    # contractions
    ("matmul", lambda a, b: a @ b, (M, M2), True),
    ("matmul-vector", lambda a, b: a @ b, (M, Z[:3]), True),
    ("dot", np.dot, (M, M2), True),
    ("vdot", np.vdot, (M, M2), True),
    ("inner", np.inner, (Z, Z2), True),
    ("outer", np.outer, (Z, Z2), True),
    ("tensordot", lambda a, b: np.tensordot(a, b, axes=([1], [0])), (T, crandn(3, 2)), True),
    ("einsum", lambda a, b: np.einsum("ij,jk->ik", a, b), (M, M2), True),
    ("einsum-trace", lambda a: np.einsum("ii->", a), (M,), True),
    ("trace", np.trace, (M,), True),
    ("diagonal", np.diagonal, (M,), True),
    ("diag", lambda a: np.diag(a) @ M2, (Z[:3],), True),
    ("triu-tril", lambda a: np.triu(a) * 2 + np.tril(a, -1), (M,), True),
    # shapes and indexing
    ("reshape", lambda a: np.reshape(a, (4, 6)), (T,), True),
    ("transpose", lambda a: np.transpose(a, (2, 0, 1)), (T,), True),
    ("T", lambda a: a.T @ a, (M,), True),
    ("swapaxes", lambda a: np.swapaxes(a, 0, 2), (T,), True),
    ("broadcast_to", lambda a: np.broadcast_to(a, (3, 4)) * Z2, (Z,), True),
    ("expand_dims", lambda a: np.expand_dims(a, 1) * Z2, (Z,), True),
    ("concatenate", lambda a, b: np.concatenate([a, b, a * b]), (Z, Z2), True),
    ("stack", lambda a, b: np.stack([a, b], axis=1), (Z, Z2), True),
    ("getitem-basic", lambda a: a[1:, ::2], (M,), True),
    ("getitem-advanced", lambda a: a[np.array([0, 2, 2])], (Z,), True),
    ("sort-permutation", np.sort, (Z,), True),
    ("getitem-mask", lambda a: a[np.array([True, False, True, True])], (Z,), True),
    ("where", lambda a, b: np.where(np.array([1, 0, 1, 0], bool), a, b), (Z, Z2), True),
    ("astype-complex64-roundtrip", lambda a: a.astype(np.complex128) * a, (Z,), True),
    ("astype-real-to-complex", lambda x: x.astype(np.complex128) * Z, (XR,), True),
    # mixed real and complex inputs
    ("mixed-product", lambda x, a: x * a + x ** 2, (XR, Z), True),
    ("mixed-matmul", lambda x, a: np.reshape(x[:3], (3, 1)) * (M @ a[:3]), (XR, Z), True),
    ("mixed-abs", lambda x, a: np.abs(x * a * 1j), (XR, Z), True),
    ("mixed-real-loss", lambda x: np.real(np.exp(1j * x) * (1 + 2j)), (XR,), True),
    # linear algebra
    ("norm-2", la.norm, (Z,), True),
    ("norm-1", lambda a: la.norm(a, 1), (Z,), False),
    ("norm-inf", lambda a: la.norm(a, np.inf), (Z,), False),
    ("norm-3", lambda a: la.norm(a, 3), (Z,), True),
    ("norm-axis", lambda a: la.norm(a, axis=1), (M,), True),
    ("norm-fro", lambda a: la.norm(a, "fro"), (M,), True),
    ("norm-nuc", lambda a: la.norm(a, "nuc"), (M,), True),
    ("norm-matrix-2", lambda a: la.norm(a, 2), (M,), True),
    ("norm-matrix-1", lambda a: la.norm(a, 1), (M,), False),
    ("inv", la.inv, (M,), True),
    ("solve-vector", la.solve, (M, Z[:3]), True),
    ("solve-matrix", la.solve, (M, M2), True),
    ("det", la.det, (M,), True),
    ("slogdet-logabsdet", lambda a: la.slogdet(a)[1], (M,), True),
    ("slogdet-sign", lambda a: la.slogdet(a)[0], (M,), True),
    ("eigh-values", lambda a: la.eigh(a)[0], (HERM,), True),
    ("eigh-values-upper", lambda a: la.eigh(a, UPLO="U")[0], (HERM,), True),
    ("eigvalsh", la.eigvalsh, (HERM,), True),
    ("eigh-vectors-abs2", lambda a: np.abs(la.eigh(a)[1]) ** 2, (HERM,), True),
    ("eigh-projector", lambda a: (lambda v: np.outer(v[:, 1], np.conj(v[:, 1])))(la.eigh(a)[1]),
     (HERM,), True),
    ("eigh-vectors-upper", lambda a: np.abs(la.eigh(a, "U")[1]) ** 2, (HERM,), True),
    ("svd-values", lambda a: la.svd(a, compute_uv=False), (TALLC,), True),
    ("svd-values-wide", la.svdvals, (crandn(2, 4),), True),
    ("svd-vectors-abs2-square", lambda a: (lambda u, s, vh: np.abs(u) ** 2 + np.abs(vh) ** 2)(
        *la.svd(a)), (M,), True),
    ("svd-vectors-abs2-tall", lambda a: np.abs(la.svd(a, full_matrices=False)[0]) ** 2,
     (TALLC,), True),
    ("svd-vectors-abs2-wide", lambda a: np.abs(la.svd(a, full_matrices=False)[2]) ** 2,
     (TALLC.T.copy(),), True),
    ("svd-u-vh-product", lambda a: (lambda u, s, vh: u @ vh)(*la.svd(a, full_matrices=False)),
     (TALLC,), True),
    ("svd-reconstruction-wide", lambda a: (lambda u, s, vh: (u * s) @ vh)(
        *la.svd(a, full_matrices=False)), (crandn(2, 4),), True),
    ("svd-left-projector", lambda a: (lambda u: np.outer(u[:, 1], np.conj(u[:, 1])))(
        la.svd(a)[0]), (M,), True),
    ("eig-values", lambda a: la.eig(a)[0], (GEN,), True),
    ("eigvals", la.eigvals, (GEN,), True),
    ("eig-vectors-abs2", lambda a: np.abs(la.eig(a)[1]) ** 2, (GEN,), True),
    ("eig-projector", lambda a: (lambda v: np.outer(v[:, 0], np.conj(v[:, 0])))(la.eig(a)[1]),
     (GEN,), True),
    ("eig-real-input-complex-pair", lambda x: la.eigvals(x) ** 2,
     (np.array([[1.0, -2.0, 0.3], [2.0, 1.0, 0.1], [0.2, 0.4, 3.0]]),), True),
    ("svd-values-with-vectors", lambda a: la.svd(a, full_matrices=False)[1] ** 2, (M,), True),
    # the Fourier transforms: complex to complex, real to complex, complex to real
    ("fft", np.fft.fft, (Z,), True),
    ("fft-n-ortho", lambda a: np.fft.fft(a, 6, norm="ortho"), (Z,), True),
    ("ifft-cut-forward", lambda a: np.fft.ifft(a, 3, norm="forward"), (Z,), True),
    ("fft2", np.fft.fft2, (M,), True),
    ("ifftn-axis", lambda a: np.fft.ifftn(a, axes=(0,)), (M,), True),
    ("rfft-real-input", lambda x: np.fft.rfft(x) * Z[:3], (XR,), True),
    ("irfft", np.fft.irfft, (Z,), True),
    ("irfft-odd-n-ortho", lambda a: np.fft.irfft(a, 5, norm="ortho"), (Z,), True),
    ("hfft", np.fft.hfft, (Z,), True),
    ("irfft2", np.fft.irfft2, (M,), True),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, f, args, smooth", CASES, ids=IDS)
def test_reverse_mode_matches_real_and_imaginary_differences(name, f, args, smooth):
    L = scalarize(f, args)
    nums = tuple(range(len(args)))
    got = gk.grad(L, argnums=nums)(*args)
    for k in nums:
        want = fd_gradient(L, args, k)
        close(got[k], want, what=f"{name}: argument {k}")
        assert np.iscomplexobj(got[k]) == np.iscomplexobj(args[k]), name  # real in, real out


@pytest.mark.parametrize("name, f, args, smooth", CASES, ids=IDS)
def test_forward_mode_matches_directional_differences(name, f, args, smooth):
    tangents = tuple(tangent_like(a) for a in args)
    out, tan = gk.jvp(f, args, tangents)
    close(out, f(*args), what=f"{name}: value")
    close(tan, fd_directional(f, args, tangents), what=f"{name}: jvp")


@pytest.mark.parametrize("name, f, args, smooth", [c for c in CASES if c[3]],
                         ids=[c[0] for c in CASES if c[3]])
def test_second_order(name, f, args, smooth):
    L = scalarize(f, args)
    g = gk.grad(L)
    rest = args[1:]
    z = args[0]
    t = tangent_like(z)
    # forward over reverse: the directional derivative of the gradient
    _, hv = gk.jvp(lambda a: g(a, *rest), (z,), (t,))
    close(hv, fd_directional(lambda a: g(a, *rest), (z,), (t,)), rtol=1e-4, atol=1e-6,
          what=f"{name}: jvp(grad)")
    # reverse over reverse: the gradient of a real function of the gradient
    w = tangent_like(z)

    def inner(a):
        return np.real(np.sum(w * g(a, *rest)))
    close(gk.grad(inner)(z), fd_gradient(lambda a: inner(a), (z,), 0), rtol=1e-4, atol=1e-6,
          what=f"{name}: grad(grad)")


@pytest.mark.parametrize("name, f, args", [
    ("sin", np.sin, (Z,)), ("abs2", lambda a: np.abs(a) ** 2, (Z,)),
    ("mixed", lambda x, a: np.real(x * a) + np.angle(a) * x, (XR, Z)),
    ("eigh", lambda a: np.abs(np.linalg.eigh(a)[1]) ** 2, (HERM,)),
    ("norm", np.linalg.norm, (Z,)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_check_grads_on_complex_input(name, f, args):
    gk.check_grads(f, args, order=2, rtol=1e-5, atol=1e-6)


def test_check_grads_catches_a_wrong_complex_rule():
    wrong = gk.custom_vjp(lambda z: np.sin(z))
    wrong.defvjp(lambda z: (np.sin(z), z), lambda z, g: (g * np.conj(np.cos(z)),))  # conjugated
    with pytest.raises(AssertionError, match="reverse mode"):
        gk.check_grads(wrong, (Z,), order=1, modes=("rev",))


# ----------------------------------------------------------------------------- holomorphic
HOLOMORPHIC = [
    ("sin", np.sin, np.cos),
    ("exp", np.exp, np.exp),
    ("cube", lambda z: z ** 3, lambda z: 3 * z ** 2),
    ("reciprocal", lambda z: 1 / z, lambda z: -1 / z ** 2),
    ("log", np.log, lambda z: 1 / z),
    ("sqrt", np.sqrt, lambda z: 0.5 / np.sqrt(z)),
    ("tanh", np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    ("composite", lambda z: np.exp(np.sin(z) * z) / (1 + z ** 2),
     None),
]


@pytest.mark.parametrize("name, f, df", HOLOMORPHIC, ids=[h[0] for h in HOLOMORPHIC])
def test_holomorphic_grad_is_the_complex_derivative(name, f, df):
    z = 0.7 + 0.4j
    got = gk.grad(f, holomorphic=True)(z)
    fd = (f(z + EPS) - f(z - EPS)) / (2 * EPS)
    fd_i = (f(z + 1j * EPS) - f(z - 1j * EPS)) / (2j * EPS)  # Cauchy-Riemann: the same
    close(got, fd, what=name)
    close(got, fd_i, what=name)
    if df is not None:
        close(got, df(z), what=name)
    value, g2 = gk.value_and_grad(f, holomorphic=True)(z)
    close(value, f(z))
    close(g2, got)


def test_holomorphic_on_arrays_and_second_derivative():
    z = np.array([0.3 + 0.2j, -1.0 + 0.5j])
    close(gk.grad(lambda a: np.sum(a ** 3), holomorphic=True)(z), 3 * z ** 2)
    d2 = gk.grad(gk.grad(lambda a: a ** 3, holomorphic=True), holomorphic=True)(0.5 + 0.5j)
    close(d2, 6 * (0.5 + 0.5j))


def test_jacobian_of_complex_needs_holomorphic():
    z = np.array([0.3 + 0.2j, -1.0 + 0.5j])
    with pytest.raises(TypeError, match="input is complex.*holomorphic=True"):
        gk.jacobian(np.sin)(z)
    with pytest.raises(TypeError, match="output is complex"):
        gk.jacobian(lambda x: x * 1j)(np.ones(2))
    with pytest.raises(TypeError, match="complex"):
        gk.hessian(lambda a: np.sum(np.abs(a) ** 2))(z)
    for mode in ("fwd", "rev"):
        close(gk.jacobian(np.sin, mode=mode, holomorphic=True)(z), np.diag(np.cos(z)))
        close(gk.jacobian(lambda a: np.outer(a, a).ravel(), mode=mode, holomorphic=True)(z),
              gk.jacobian(lambda a: np.outer(a, a).ravel(), mode="fwd", holomorphic=True)(z))


def test_holomorphic_needs_complex_inputs_and_outputs():
    with pytest.raises(TypeError, match="holomorphic=True needs complex inputs"):
        gk.grad(np.sin, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="holomorphic=True needs a complex output"):
        gk.grad(lambda z: np.abs(z), holomorphic=True)(1.0 + 1j)


@pytest.mark.parametrize("f", [np.sin, lambda z: np.sum(z * 1j), lambda z: np.sum(z) + 0j],
                         ids=["sin", "sum-times-i", "constant-imaginary-part"])
def test_grad_of_a_complex_output_raises(f):
    with pytest.raises(TypeError, match="output is complex.*holomorphic=True.*np.real"):
        gk.grad(f)(np.array(1.0 + 2j) if f is np.sin else np.array([1.0, 2.0]) + 0j)


def test_grad_of_a_complex_output_of_a_real_input_raises():
    with pytest.raises(TypeError, match="output is complex"):
        gk.grad(lambda x: np.sum(x * 1j))(np.ones(3))
    with pytest.raises(TypeError, match="output is complex"):
        gk.value_and_grad(lambda x: 1j + 0.0 * np.sum(x))(np.ones(3))
    # a Python complex that does not depend on the input: the same error, not an
    # AttributeError about its dtype
    with pytest.raises(TypeError, match=r"output is complex \(complex128\)"):
        gk.grad(lambda z: 1j)(1.0)
    with pytest.raises(TypeError, match="needs a complex output, but the function returned "
                                        "dtype float64"):
        gk.grad(lambda z: 2.0, holomorphic=True)(1.0 + 1j)


# ----------------------------------------------------------------------------- the issue's cases
def test_issue_examples():
    g = gk.grad(lambda a: np.sum(np.abs(a * 1j)))(np.ones(3))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [1.0, 1.0, 1.0])
    assert gk.grad(lambda z: abs(z) ** 2)(3 + 4j) == 6 - 8j
    # conj is not the identity
    close(gk.grad(lambda z: np.real(np.conj(z) * 1j))(1.0 + 1.0j), -1j)
    close(gk.grad(lambda z: np.real(z * 1j))(1.0 + 1.0j), 1j)
    # norm of a complex vector is real
    v = np.array([3 + 4j, 1j])
    n = gk.value_and_grad(np.linalg.norm)(v)[0]
    assert not np.iscomplexobj(n) and np.isclose(n, np.sqrt(26.0))
    out, tan = gk.jvp(np.linalg.norm, (v,), (np.array([1.0 + 0j, 0j]),))
    assert not np.iscomplexobj(out) and not np.iscomplexobj(tan)
    close(tan, 3 / np.sqrt(26.0))


def test_gradient_of_real_input_is_real_and_warning_free():
    g = gk.grad(lambda x: np.real(np.sum(np.exp(1j * x) * (2 - 1j))))(np.linspace(0, 1, 5))
    assert g.dtype == np.float64
    x = np.linspace(0, 1, 5)
    close(g, np.real(1j * np.exp(1j * x) * (2 - 1j)))
    g32 = gk.grad(lambda x: np.real(np.sum(x * (1 + 1j))))(np.ones(3, np.float32))
    assert g32.dtype == np.float32
    (gx,) = gk.vjp(lambda x: x * 1j, np.ones(3))[1](np.full(3, 2.0 - 1j))
    assert gx.dtype == np.float64
    close(gx, np.real((2.0 - 1j) * 1j) * np.ones(3))


def test_real_if_close_that_drops_is_real():
    """Where NumPy drops the imaginary part (it is below tol * machine epsilon), the function
    is np.real in that neighbourhood: its derivative is real's. (Finite differences with a
    larger step in the imaginary direction leave the neighbourhood, so only the real direction
    is compared.)"""
    z = XR + 0j
    L = lambda a: np.sum(np.real_if_close(a) * XR)  # noqa: E731
    g = gk.grad(L)(z)
    assert np.iscomplexobj(g)
    close(np.real(g), np.real(fd_gradient(lambda a: np.sum(np.real(a) * XR), (z,), 0)))
    close(g, XR + 0j)  # the derivative of np.real: nothing along the imaginary axis
    out, tan = gk.jvp(np.real_if_close, (z,), (1j * XR + XR,))
    assert not np.iscomplexobj(out) and not np.iscomplexobj(tan)
    close(tan, XR)


def test_abs_and_angle_at_zero_are_zero():
    close(gk.grad(lambda z: np.abs(z))(0j), 0j)
    close(gk.grad(lambda z: np.angle(z))(0j), 0j)


def test_full_sum_of_a_large_real_array_times_i():
    x = np.ones(5000)
    g = gk.grad(lambda a: np.real(1j * (1 + 1j) * np.sum(a)))(x)
    assert g.dtype == np.float64
    close(g, -np.ones(5000))


# ----------------------------------------------------------------------------- gauges
def test_eigenvector_phase_dependent_loss_raises():
    with pytest.raises(ValueError, match="phase of the complex eigenvectors"):
        gk.grad(lambda a: np.real(np.sum(np.linalg.eigh(a)[1])))(HERM)
    with pytest.raises(ValueError, match="phase of the complex eigenvectors"):
        gk.grad(lambda a: np.real(np.sum(np.linalg.eig(a)[1])))(GEN)


# ----------------------------------------------------------------------------- refusals
REFUSED = [
    ("maximum", lambda z: np.real(np.sum(np.maximum(z, 0.5 + 0j)))),
    ("fmax", lambda z: np.real(np.sum(np.fmax(z, 0.5 + 0j)))),
    ("max", lambda z: np.real(np.max(z))),
    ("cholesky", lambda z: np.real(np.sum(np.linalg.cholesky(np.outer(z, np.conj(z))
                                                             + 4 * np.eye(4))))),
    ("qr", lambda z: np.sum(np.abs(np.linalg.qr(np.reshape(z, (2, 2)))[1]) ** 2)),
    ("logsumexp", lambda z: np.real(gk.logsumexp(z))),
]


@pytest.mark.parametrize("name, f", REFUSED, ids=[r[0] for r in REFUSED])
def test_unverified_primitive_refuses_complex_input(name, f):
    with pytest.raises(NoGradientRuleError, match="has not verified .* on complex input"):
        gk.grad(f)(Z)
    with pytest.raises(NoGradientRuleError, match="has not verified .* on complex input"):
        gk.jvp(f, (Z,), (tangent_like(Z),))


def test_complex_svd_values_are_numpys_and_phase_dependent_loss_raises():
    a = crandn(4, 3)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    seen = {}

    def f(m):
        tu, ts, tvh = np.linalg.svd(m, full_matrices=False)
        seen["values"] = tuple(gk.stop_gradient(x) for x in (tu, ts, tvh))
        return np.sum(ts)
    gk.grad(f)(a)
    for got, want in zip(seen["values"], (u, s, vh)):
        assert np.array_equal(got, want)
    with pytest.raises(ValueError, match="phase of the complex eigenvectors"):
        gk.grad(lambda m: np.real(np.sum(np.linalg.svd(m, full_matrices=False)[0])))(a)


@pytest.mark.parametrize("f, name", [
    (lambda z: np.real(np.sum(np.maximum(z, 0j))), "np.maximum"),
    (lambda z: np.real(np.sum(np.linalg.cholesky(np.outer(z, np.conj(z)) + 4 * np.eye(4)))),
     "np.linalg.cholesky"),
    (lambda z: np.real(np.sum(np.linalg.pinv(np.outer(z, np.conj(z)) + np.eye(4)))),
     "np.linalg.pinv"),
])
def test_refusal_names_the_function(f, name):
    with pytest.raises(NoGradientRuleError, match=f"has not verified {name.replace('.', '[.]')} "
                                                  "on complex input"):
        gk.grad(f)(Z)


def test_unverified_primitive_still_works_on_real_input():
    x = np.array([0.2, 0.9, -0.3])
    np.testing.assert_allclose(gk.grad(lambda a: np.sum(np.maximum(a, 0.5)))(x), [0, 1, 0])
    np.testing.assert_allclose(gk.grad(lambda a: np.sum(np.arctan(a)))(x), 1 / (1 + x * x))


def test_guard_is_idempotent_and_verified_rules_are_unwrapped():
    from gradkit.autodiff import complex as cx, primitive as tracer
    before = {p: (p.vjps, p.jvps) for p in tracer.PRIMITIVES.values()}
    cx.guard_unverified()
    assert all((p.vjps, p.jvps) == before[p] for p in before)  # nothing wrapped twice
    assert cx.is_verified(np.sin) and cx.is_verified(np.linalg.inv)
    assert not cx.is_verified(np.arctan2) and not cx.is_verified(np.maximum)
    assert tracer.PRIMITIVES[np.add].vjps == (tracer.identity_rule, tracer.identity_rule)
    arctan = tracer.PRIMITIVES[np.arctan2]
    assert hasattr(arctan.vjps[0], "__wrapped_rule__") and arctan.arity == 2


def test_a_complex_tangent_for_a_real_primal_is_refused():
    with pytest.raises(TypeError, match="tangent is complex but its primal is real"):
        gk.jvp(np.sin, (np.ones(2),), (np.ones(2) * 1j,))


def test_writing_through_the_real_or_imaginary_part_of_a_complex_array_is_refused():
    """NumPy's z.real is a writable view; the engine cannot write half of a complex entry
    through a view's scatter, so it refuses instead of silently dropping the write."""
    def write_real(z):
        r = z.real
        r[0] = 5.0
        return np.sum(np.abs(z) ** 2)

    def write_imag(z):
        np.imag(z)[1] = 0.0
        return np.sum(np.abs(z) ** 2)

    for f, rewrite in ((write_real, "new_real + 1j * z.imag"),
                       (write_imag, "z.real + 1j * new_imag")):
        with pytest.raises(gk.NoGradientRuleError, match=re.escape(rewrite)):
            gk.grad(f)(np.array([1 + 2j, 3 - 1j]))


def test_the_real_part_of_a_real_array_is_a_view_that_writes_through():
    def f(x):
        x.real[0] = 5.0
        return np.sum(x ** 2)
    x = np.array([1.0, 2.0])
    value, g = gk.value_and_grad(f)(x)
    assert value == f(x.copy()) and np.array_equal(g, [0.0, 4.0])
