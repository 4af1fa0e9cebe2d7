r"""The audit of every rule: real, complex and float32 input, both modes, order 2.

``test_rules.py`` checks every case of ``rule_cases/`` on float64 input against finite
differences (both modes, order 2). Here the same cases, and a table of linear algebra and
edge points, are checked for what that leaves out:

* **complex input**: each case again with complex arguments (all of them, and each one alone
  with the others real). A rule either refuses with a clear error (``NoGradientRuleError``,
  or ``ValueError`` for an eigenvector phase / a repeated eigenvalue) or matches central
  differences in the real *and* the imaginary direction of every entry (reverse mode: the
  cotangent ``dL/dx - i dL/dy`` of ``L = Re sum(u * f)``, JAX's convention), the directional
  derivative along a complex tangent (forward mode), and at order 2 the directional
  derivative of that gradient (forward over reverse) and the gradient of a real function of
  it (reverse over reverse). A real argument's gradient is real.
* **values**: the traced value is NumPy's bit for bit, dtype included (reverse mode on real
  and complex input, forward mode on real input);
* **float32**: output and tangent keep NumPy's dtype; the gradient is float32.

Finally the conventions at kinks and domain edges (the same in both modes), and repeated
eigenvalues: right where the derivative exists, an error where it does not.
"""
import warnings
import zlib

import numpy as np
import pytest
import scipy.special as sc

import gradkit as gk
from gradkit import NoGradientRuleError

from .rule_cases import CASES

EPS = 1e-6
la = np.linalg


def _rng(name, salt=0):
    return np.random.default_rng(zlib.crc32(name.encode()) + salt)


def _leaves(x):
    return gk.tree.tree_flatten(x)[0]


def _like(a, rng, cplx):
    a = np.asarray(a)
    r = rng.standard_normal(a.shape)
    return r + 1j * rng.standard_normal(a.shape) if cplx else r


def _scalarize(f, args, rng):
    """``L(*args) = Re sum(u * f(*args))`` with fixed random weights ``u`` per output leaf."""
    us = [_like(o, rng, np.iscomplexobj(o)) for o in _leaves(f(*args))]

    def L(*a):
        return np.real(sum(np.sum(u * o) for u, o in zip(us, _leaves(f(*a)))))
    return L


def _fd_gradient(L, args, k, eps=EPS):
    """dL/dx - i dL/dy for argument ``k``, entry by entry (both directions for complex)."""
    z = np.array(args[k])
    out = np.zeros(z.shape, dtype=complex if z.dtype.kind == "c" else float)
    for idx in np.ndindex(z.shape):
        for d in ((1.0, 1j) if z.dtype.kind == "c" else (1.0,)):
            zp, zm = z.copy(), z.copy()
            zp[idx] += eps * d
            zm[idx] -= eps * d
            a = list(args)
            a[k] = zp
            fp = L(*a)
            a[k] = zm
            der = (fp - L(*a)) / (2 * eps)
            out[idx] += der if d == 1.0 else -1j * der
    return out


def _fd_directional(f, args, tangents, eps=EPS):
    plus = _leaves(f(*[a + eps * t for a, t in zip(args, tangents)]))
    minus = _leaves(f(*[a - eps * t for a, t in zip(args, tangents)]))
    return [(np.asarray(p) - np.asarray(m)) / (2 * eps) for p, m in zip(plus, minus)]


def _close(got, want, what, rtol=1e-4, atol=1e-6):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    scale = max(1.0, float(np.nanmax(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, equal_nan=True,
                               err_msg=what)


def _same_value(plain, traced, what):
    for p, t in zip(_leaves(plain), _leaves(traced)):
        p, t = np.asarray(p), np.asarray(t)
        assert p.dtype == t.dtype, (what, p.dtype, t.dtype)
        assert np.array_equal(p, t, equal_nan=True), (what, p, t)


def _floats(args):
    return [i for i, a in enumerate(args)
            if isinstance(a, np.ndarray) and a.dtype.kind in "fc"]


def check_against_differences(name, f, args, order2=True, forward_bits=True):
    """Both modes (and order 2) of ``f`` at ``args`` against central differences; the traced
    values NumPy's bit for bit."""
    rng = _rng(name)
    nums = tuple(_floats(args))

    def sub(*xs):
        a = list(args)
        for i, x in zip(nums, xs):
            a[i] = x
        return f(*a)
    xs = [args[i] for i in nums]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (NumPy's own warnings at the points of the table)
        plain = f(*args)
        L = _scalarize(sub, xs, rng)
        out, pullback = gk.vjp(sub, *xs)
        _same_value(plain, out, f"{name}: reverse-mode value")
        grads = gk.grad(L, argnums=tuple(range(len(xs))))(*xs)
        for k, g in enumerate(grads):
            _close(g, _fd_gradient(L, xs, k), f"{name}: grad of argument {nums[k]}")
            assert np.iscomplexobj(g) == np.iscomplexobj(xs[k]), (name, "gradient dtype")
        ts = [_like(x, rng, np.iscomplexobj(x)) for x in xs]
        out, tan = gk.jvp(sub, tuple(xs), tuple(ts))
        if forward_bits:
            _same_value(plain, out, f"{name}: forward-mode value")
        for t, want in zip(_leaves(tan), _fd_directional(sub, xs, ts)):
            _close(t, want, f"{name}: jvp")
        if not order2:
            return
        g0 = gk.grad(L)
        x0, rest = xs[0], xs[1:]
        t = _like(x0, rng, np.iscomplexobj(x0))
        _, hv = gk.jvp(lambda a: g0(a, *rest), (x0,), (t,))
        want = _fd_directional(lambda a: g0(a, *rest), [x0], [t], eps=1e-5)[0]
        _close(hv, want, f"{name}: jvp(grad)", rtol=1e-3, atol=1e-5)
        w = _like(x0, rng, np.iscomplexobj(x0))

        def inner(a):
            return np.real(np.sum(w * g0(a, *rest)))
        _close(gk.grad(inner)(x0), _fd_gradient(inner, [x0], 0, eps=1e-5),
               f"{name}: grad(grad)", rtol=1e-3, atol=1e-5)


# ----------------------------------------------------------------------------- complex input
def _complexified():
    out = []
    for name, f, args in CASES:
        fl = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        variants = [tuple(fl)] + ([(i,) for i in fl] if len(fl) > 1 else [])
        for which in variants:
            rng = _rng(name, 1 + sum(which))
            cargs = tuple(np.asarray(a + 0.3j * rng.standard_normal(a.shape)) if i in which
                          else a for i, a in enumerate(args))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f(*cargs)
            except Exception:  # noqa: BLE001  (NumPy itself refuses complex input here)
                continue
            out.append((f"{name}-complex{list(which)}", f, cargs))
    return out


COMPLEX_CASES = _complexified()
# What a rule may raise instead of an answer on complex input (each names the function)
REFUSALS = (NoGradientRuleError, ValueError)


@pytest.mark.parametrize("name, f, args", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_input_refused_or_right(name, f, args):
    try:
        # forward-mode values of complex `**` and scalar products are np.power's and
        # np.multiply's, which differ from NumPy's operators in the last bit (not asserted)
        check_against_differences(name, f, args, forward_bits=False)
    except REFUSALS as exc:
        message = str(exc)
        assert ("not verified" in message or "no gradient rule" in message
                or "not differentiable" in message or "phase" in message
                or "repeated" in message or "defective" in message
                or "on real input only" in message), message


def test_complex_audit_covers_the_verified_rules():
    """Most complexified cases run (are not refused), and every refusal is one of the
    documented kinds (the test above)."""
    ran = 0
    for name, f, args in COMPLEX_CASES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gk.grad(_scalarize(f, args, _rng(name)), argnums=tuple(_floats(args)))(*args)
            ran += 1
        except REFUSALS:
            pass
    assert ran > 0.6 * len(COMPLEX_CASES), (ran, len(COMPLEX_CASES))


# ----------------------------------------------------------------------------- float32 input
def _float32(args):
    return tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64
                 else a for a in args)


@pytest.mark.parametrize("name, f, args", CASES, ids=[c[0] for c in CASES])
def test_float32_keeps_numpys_dtypes_and_values(name, f, args):
    args = _float32(args)
    nums = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype == np.float32]
    if not nums:
        pytest.skip("no float32 argument")

    def sub(*xs):
        a = list(args)
        for i, x in zip(nums, xs):
            a[i] = x
        return f(*a)
    xs = tuple(args[i] for i in nums)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = f(*args)
        out, tan = gk.jvp(sub, xs, tuple(np.ones_like(x) for x in xs))
        _same_value(plain, out, f"{name}: float32 forward value")
        _same_value(plain, gk.vjp(sub, *xs)[0], f"{name}: float32 reverse value")
        for p, t in zip(_leaves(plain), _leaves(tan)):
            if np.asarray(p).dtype.kind == "f":
                assert np.asarray(t).dtype == np.asarray(p).dtype, (name, np.asarray(t).dtype)
        g = gk.grad(_scalarize(sub, xs, _rng(name)))(*xs)
        assert np.asarray(g).dtype == np.float32


# ----------------------------------------------------------------------------- linear algebra
def _table():
    rng = np.random.default_rng(20261207)
    cases = []
    for cplx in (False, True):
        tag = "complex" if cplx else "real"

        def mk(*s):
            r = rng.standard_normal(s)
            return r + 1j * rng.standard_normal(s) if cplx else r

        v, m, b = mk(5), mk(4, 3), mk(2, 4, 3)
        for o in (None, 0, 1, 2, np.inf, -np.inf, -1, -2, 3, 0.5):
            smooth = o in (None, 2, 3)
            cases.append((f"norm-vector-{o}-{tag}", lambda x, o=o: la.norm(x, o), (v,), smooth))
            cases.append((f"norm-axis-{o}-{tag}", lambda x, o=o: la.norm(x, o, axis=1), (m,),
                          smooth))
        for o in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
            smooth = o in (None, "fro", "nuc", 2, -2)
            cases.append((f"norm-matrix-{o}-{tag}", lambda x, o=o: la.norm(x, o), (m,), smooth))
            cases.append((f"norm-stacked-{o}-{tag}",
                          lambda x, o=o: la.norm(x, o, axis=(2, 0), keepdims=True), (b,), smooth))
        sq, st = mk(3, 3) + 3 * np.eye(3), mk(2, 3, 3) + 3 * np.eye(3)
        q, _ = la.qr(mk(3, 3))
        herm = (q * np.array([1.0, 2.0, 3.5])) @ q.conj().T
        stacked_herm = np.stack([herm, herm + np.diag([0.0, 1.0, 2.5])])
        cases += [
            (f"inv-stacked-{tag}", la.inv, (st,), True),
            (f"det-stacked-{tag}", la.det, (st,), True),
            (f"slogdet-{tag}", lambda a: la.slogdet(a)[1], (st,), True),
            (f"solve-stacked-{tag}", la.solve, (st, mk(2, 3, 2)), True),
            (f"matrix_power-3-{tag}", lambda a: la.matrix_power(a, 3), (sq,), True),
            (f"matrix_power-5-{tag}", lambda a: la.matrix_power(a, 5), (sq,), True),
            (f"matrix_power--2-{tag}", lambda a: la.matrix_power(a, -2), (sq,), True),
            (f"matrix_power-stacked-{tag}", lambda a: la.matrix_power(a, 2), (st,), True),
            (f"eigh-values-stacked-{tag}", lambda a: la.eigh(a)[0], (stacked_herm,), True),
            (f"eigvalsh-{tag}", la.eigvalsh, (herm,), True),
            (f"eigh-abs2-stacked-{tag}", lambda a: np.abs(la.eigh(a)[1]) ** 2,
             (stacked_herm,), True),
            (f"eigvals-stacked-{tag}", la.eigvals, (mk(2, 3, 3),), True),
            (f"eig-abs2-{tag}", lambda a: np.abs(la.eig(a)[1]) ** 2, (mk(3, 3),), True),
            (f"svd-values-stacked-{tag}", lambda a: la.svd(a, compute_uv=False), (b,), True),
            (f"svd-abs2-stacked-{tag}",
             lambda a: np.abs(la.svd(a, full_matrices=False)[0]) ** 2, (b,), True),
            (f"svd-square-full-{tag}", lambda a: (lambda u, s, vh: (u * s) @ vh)(*la.svd(a)),
             (sq,), True),
            (f"svd-reconstruct-{tag}",
             lambda a: (lambda u, s, vh: (u * s) @ vh)(*la.svd(a, full_matrices=False)),
             (m,), True),
            (f"vecdot-{tag}", np.vecdot, (mk(2, 3), mk(2, 3)), True),
            (f"linalg-vecdot-axis-{tag}", lambda a, c: la.vecdot(a, c, axis=0),
             (mk(3, 2), mk(3, 2)), True),
            (f"vecmat-{tag}", np.vecmat, (mk(3), mk(2, 3, 2)), True),
            (f"matvec-{tag}", np.matvec, (mk(2, 3), mk(3)), True),
            (f"sign-{tag}", lambda a: np.sign(a) * a, (mk(4),), True),
            (f"nanvar-{tag}", lambda a: np.nanvar(np.where(np.arange(4) == 1, np.nan, a)),
             (mk(4),), True),
            (f"power-of-a-real-base-{tag}",
             lambda y, base=np.array([-2.0, -0.5, 3.0]) if cplx else np.array([2.0, 0.5, 3.0]):
             np.power(base, y), (mk(3),), True),
        ]
        for name in ("gamma", "gammaln", "digamma", "erf", "erfc", "expit", "xlogy"):
            fn = getattr(sc, name)
            cases.append((f"scipy.special.{name}-{tag}", fn,
                          tuple(mk(3) * 0.3 + 1.5 for _ in range(fn.nin)), True))
        cases += [(f"cholesky-stacked-{tag}", la.cholesky, (stacked_herm,), True),
                  (f"pinv-{tag}", la.pinv, (mk(4, 3),), True),
                  (f"lstsq-{tag}", lambda a, y: la.lstsq(a, y, rcond=None)[0],
                   (mk(5, 3), mk(5)), True),
                  (f"qr-tall-{tag}", lambda a: np.abs(la.qr(a)[1]) ** 2, (mk(4, 3),), True)]
    return cases


TABLE = _table()


@pytest.mark.parametrize("name, f, args, smooth", TABLE, ids=[c[0] for c in TABLE])
def test_linear_algebra_and_special_refused_or_right(name, f, args, smooth):
    complex_case = any(np.iscomplexobj(a) for a in args)
    try:
        f(*args)
    except TypeError:
        pytest.skip("NumPy / scipy itself refuses this input")
    try:
        check_against_differences(name, f, args, order2=smooth, forward_bits=not complex_case)
    except NoGradientRuleError as exc:
        assert complex_case and "not verified" in str(exc), str(exc)


def test_the_real_table_is_never_refused_and_verified_complex_rules_run():
    refused = []
    for name, f, args, _ in TABLE:
        try:
            f(*args)
        except TypeError:
            continue
        try:
            gk.grad(_scalarize(f, args, _rng(name)))(*args)
        except NoGradientRuleError:
            refused.append(name)
    assert all(n.endswith("-complex") for n in refused), refused
    assert not [n for n in refused if n.startswith(("norm", "inv", "det", "slogdet", "solve",
                                                    "matrix_power", "eig", "svd", "vec",
                                                    "matvec", "sign", "nanvar", "power"))]


# ----------------------------------------------------------------------------- regressions
def test_vecdot_and_vecmat_conjugate_their_first_argument():
    z, w = np.array([1 + 2j, 3 - 1j]), np.array([0.5 - 1j, 2 + 1j])
    for f in (np.vecdot, la.vecdot, lambda a, b: np.vecmat(a, np.outer(b, b))):
        out, tan = gk.jvp(f, (z, w), (z, w))
        assert np.array_equal(out, f(z, w))
        _close(tan, _fd_directional(f, [z, w], [z, w])[0], "vecdot tangent")


def test_complex_nanvar_is_real_as_numpys():
    z = np.array([1 + 2j, np.nan, 3 - 1j, 0.5j])
    value, g = gk.value_and_grad(np.nanvar)(z)
    assert value == np.nanvar(z) and not np.iscomplexobj(value)
    _close(g[[0, 2, 3]], _fd_gradient(lambda a: np.nanvar(np.insert(a, 1, np.nan)),
                                      [z[[0, 2, 3]]], 0), "nanvar gradient")


def test_complex_sign_has_the_derivative_of_z_over_abs_z():
    z = np.array([3 + 4j, -1j, 0j])
    L = lambda a: np.real(np.sum(np.sign(a) * np.array([1.0, 2j, 1.0])))  # noqa: E731
    assert np.array_equal(gk.vjp(np.sign, z)[0], np.sign(z))
    g = gk.grad(L)(z)
    _close(g[:2], _fd_gradient(L, [z], 0)[:2], "sign gradient")
    assert g[2] == 0  # at 0, where z / |z| jumps
    assert gk.grad(lambda x: np.sum(np.sign(x) * x))(np.array([-2.0, 3.0])).tolist() == [-1, 1]


def test_float32_np_gradient_keeps_float32():
    x = np.linspace(0, 1, 5).astype(np.float32)
    coords = np.array([0.0, 0.1, 0.3, 0.6, 1.0])
    out = gk.jvp(lambda a: np.gradient(a ** 2, coords), (x,), (np.ones_like(x),))[0]
    assert out.dtype == np.gradient(x ** 2, coords).dtype == np.float32


def test_values_of_a_product_of_complex_scalars_are_numpys():
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))

        def f(x):
            s = np.sum(x)
            return np.real(x[2, 1] * x[1, 1]) + np.real(s * np.conj(s))
        assert gk.value_and_grad(f)(a)[0] == f(a)


# ----------------------------------------------------------------------------- kinks and edges
def _both_modes(f, x, t=None):
    """(value, reverse-mode gradient of sum(f), forward-mode derivative along t)."""
    t = np.ones_like(x) if t is None else t
    value, g = gk.value_and_grad(lambda a: np.sum(f(a)))(x)
    _, d = gk.jvp(lambda a: np.sum(f(a)), (x,), (t,))
    return value, g, d


EDGES = [  # name, f, x, the documented gradient of sum(f)
    ("abs-at-0", np.abs, np.array([0.0, 2.0]), [0.0, 1.0]),
    ("complex-abs-at-0", np.abs, np.array([0j, 3 + 4j]), [0.0, 0.6 - 0.8j]),
    ("relu-at-0", lambda x: np.maximum(x, 0.0), np.array([0.0, 1.0]), [0.0, 1.0]),
    ("maximum-tie", lambda x: np.maximum(x[0], x[1]), np.array([1.0, 1.0]), [0.5, 0.5]),
    ("minimum-tie", lambda x: np.minimum(x[:2], x[2:]), np.array([1.0, 2.0, 1.0, 3.0]),
     [0.5, 1.0, 0.5, 0.0]),
    ("max-ties", np.max, np.array([1.0, 3.0, 3.0]), [0.0, 0.5, 0.5]),
    ("clip-at-bounds", lambda x: np.clip(x, 0.0, 1.0), np.array([0.0, 0.5, 1.0]), [0, 1, 0]),
    ("sort-ties", lambda x: np.sort(x) * np.array([0.0, 1.0, 2.0]), np.array([2.0, 1.0, 2.0]),
     [1.0, 0.0, 2.0]),
    ("median-even", np.median, np.array([4.0, 1.0, 3.0, 2.0]), [0.0, 0.0, 0.5, 0.5]),
    ("median-ties", np.median, np.array([1.0, 2.0, 2.0, 2.0, 5.0]), [0, 0, 1, 0, 0]),
    ("norm-at-0", la.norm, np.zeros(3), [0.0, 0.0, 0.0]),
    ("hypot-at-0", lambda x: np.hypot(x, x), np.array([0.0, 1.0]), [0.0, np.sqrt(2.0)]),
    ("std-of-a-constant", np.std, np.ones(3), [0.0, 0.0, 0.0]),
    ("sqrt-at-0", np.sqrt, np.array([0.0, 4.0]), [np.inf, 0.25]),
    ("log-at-0", np.log, np.array([0.0, 2.0]), [np.inf, 0.5]),
    ("spectral-norm-tie", lambda a: la.norm(a, 2), np.diag([2.0, 1.0, 2.0]),
     np.diag([0.5, 0.0, 0.5])),
    ("degenerate-eigenvalues-symmetric-function",
     lambda a: np.sum(la.eigvalsh(a) ** 2), np.diag([1.0, 1.0, 2.0]), np.diag([2.0, 2.0, 4.0])),
]


@pytest.mark.parametrize("name, f, x, want", EDGES, ids=[e[0] for e in EDGES])
def test_kinks_follow_the_conventions_in_both_modes(name, f, x, want):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, g, d = _both_modes(f, x)
        assert value == np.sum(f(x))
    np.testing.assert_allclose(g, np.asarray(want), atol=1e-12)
    if not np.iscomplexobj(x):  # the forward derivative along ones is the sum of the gradient
        np.testing.assert_allclose(d, np.sum(np.asarray(want)), atol=1e-12)


REPEATED = np.diag([1.0, 1.0, 2.0])
_Q, _ = la.qr(np.random.default_rng(7).standard_normal((3, 3)))
REPEATED_ROTATED = (_Q * np.array([1.0, 1.0, 2.0])) @ _Q.T


@pytest.mark.parametrize("a", [REPEATED, REPEATED_ROTATED], ids=["diagonal", "rotated"])
@pytest.mark.parametrize("loss", [
    lambda a: np.sum(la.eigh(a)[1] ** 2 * np.arange(9.0).reshape(3, 3)),
    lambda a: np.sum(la.eigh(a)[1][:, 0] ** 2),
    lambda a: np.sum(np.abs(la.svd(a)[0]) ** 2 * np.arange(9.0).reshape(3, 3)),
    lambda a: np.sum(np.abs(la.eig(a)[1]) ** 2 * np.arange(9.0).reshape(3, 3)),
], ids=["eigh", "eigh-column", "svd", "eig"])
def test_vectors_of_repeated_eigenvalues_raise_in_reverse_mode(a, loss):
    with pytest.raises(ValueError, match="repeated"):
        gk.grad(loss)(a)


def test_vectors_of_repeated_eigenvalues_are_nan_in_forward_mode_values_are_right():
    t = np.ones((3, 3))
    w, v = gk.jvp(lambda a: la.eigh(a), (REPEATED,), (t,))[1]
    assert np.all(np.isfinite(w)) and np.isnan(v).any()
    # the eigenvalue that does not repeat, and the sum of the repeated pair, are smooth
    np.testing.assert_allclose([w[0] + w[1], w[2]], [2.0, 1.0], atol=1e-12)
    # a vector of an eigenvalue that does not repeat has a derivative
    g = gk.grad(lambda a: np.sum(la.eigh(a)[1][:, 2] ** 2 * np.array([1.0, 2.0, 3.0])))
    _close(g(REPEATED_ROTATED), _fd_gradient(
        lambda a: np.sum(la.eigh(a)[1][:, 2] ** 2 * np.array([1.0, 2.0, 3.0])),
        [REPEATED_ROTATED], 0), "non-repeated eigenvector")


def test_defective_matrix_raises():
    with pytest.raises(ValueError, match="defective"):
        gk.grad(lambda a: np.sum(np.real(la.eigvals(a))))(np.array([[1.0, 1.0], [0.0, 1.0]]))


def test_near_degenerate_eigenvectors_are_right():
    a = np.diag([1.0, 1.0 + 1e-4, 2.0])
    L = lambda m: np.sum(la.eigh(m)[1] ** 2 * np.arange(9.0).reshape(3, 3))  # noqa: E731
    g = gk.grad(L)(a)
    fd = _fd_gradient(L, [a], 0, eps=1e-8)
    np.testing.assert_allclose(g, fd, rtol=1e-3, atol=1e-3 * np.abs(fd).max())


def test_slogdet_of_a_singular_matrix_keeps_numpys_value_and_raises_for_the_derivative():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    seen = {}

    def f(m):
        sign, logabs = la.slogdet(m)
        seen["value"] = (gk.stop_gradient(sign), gk.stop_gradient(logabs))
        return logabs
    with pytest.raises(ValueError, match="singular"):
        gk.grad(f)(a)
    assert seen["value"] == tuple(la.slogdet(a))
    with pytest.raises(ValueError, match="singular"):
        gk.jvp(f, (a,), (np.ones((2, 2)),))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64])
def test_masked_and_nan_reductions_are_numpys_bit_for_bit(dtype):
    rng = np.random.default_rng(11)
    for i in range(20):
        a = rng.standard_normal((4, 9)) + (1j * rng.standard_normal((4, 9))
                                           if np.dtype(dtype).kind == "c" else 0)
        a = a.astype(dtype)
        if i % 2:
            a[rng.random((4, 9)) > 0.8] = np.nan
        m = rng.random((4, 9)) > 0.3
        for f in (lambda x: np.sum(x, where=m), lambda x: np.mean(x, axis=0, where=m),
                  lambda x: np.nansum(x, axis=1, where=m), lambda x: np.nanmean(x, where=m),
                  lambda x: np.nanvar(x, axis=1, ddof=1), lambda x: np.nanstd(x, where=m),
                  lambda x: np.nanvar(x, keepdims=True)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                plain = f(a)
                _same_value(plain, gk.vjp(f, a)[0], "reverse")
                _same_value(plain, gk.jvp(f, (a,), (a,))[0], "forward")


def test_array_api_vector_norm_is_numpys_bit_for_bit():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5)) + 1j * rng.standard_normal((3, 4, 5))
    for f in (la.vector_norm, lambda a: la.vector_norm(a, axis=(0, 2)),
              lambda a: la.vector_norm(a, axis=(-1, 0), keepdims=True, ord=3),
              lambda a: la.vector_norm(a, axis=-2, ord=1)):
        for a in (x, x.real.copy()):
            _same_value(f(a), gk.vjp(f, a)[0], "vector_norm")
            check_against_differences("vector_norm", f, (a,), order2=False)


@pytest.mark.parametrize("wide", [False, True])
def test_singular_vectors_of_a_rank_deficient_non_square_matrix_raise(wide):
    """A zero singular value of a non-square matrix leaves its vectors non-unique (their
    derivative has 1 / s in it): both modes raise instead of returning inf or NaN, and the
    singular values themselves keep their derivative."""
    a = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    a = a.T if wide else a
    k = 2 if wide else 0  # Vh of the wide matrix, U of the tall one

    def loss(m):
        return np.sum(np.linalg.svd(m, full_matrices=False)[k] ** 3)

    for transform in (gk.grad, gk.jacfwd):
        with pytest.raises(ValueError, match="singular value of this non-square matrix is 0"):
            transform(loss)(a)
    g = gk.grad(lambda m: np.sum(np.linalg.svd(m, compute_uv=False)))(a)
    assert np.all(np.isfinite(g))
    gk.check_grads(loss, (np.random.default_rng(0).standard_normal(a.shape),), order=2)
