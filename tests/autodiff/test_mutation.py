"""NumPy's mutation semantics under differentiation (issue 13): in-place updates, views, buffers.

Every case in ``mutation_cases.py`` is ordinary NumPy code that writes into arrays. Each runs
twice:

1. **Plain**, on copies of the NumPy inputs: NumPy's own value is the truth.
2. **Traced** by gradkit (``value_and_grad``, ``vjp``, ``jvp``, ``check_grads``, and for the
   smooth scalar cases marked ``hessian`` also ``hessian``, ``hvp`` and ``grad`` of ``grad``):

   - the traced value equals NumPy's **bit for bit** (same dtype, same shape, same bytes);
   - the derivatives equal central finite differences of NumPy's function (every entry of the
     gradient, a random direction of the JVP, ``check_grads`` to order 2 where the function is
     smooth at the input and to order 1 where it is only piecewise smooth);
   - the caller's arrays are bit-identical afterwards (writing into a traced input changes the
     traced value only), and no traced result shares memory with them.

The plain tests (``test_case_runs_in_plain_numpy``, ``test_finite_differences_are_meaningful``,
``test_numpy_itself_raises``, ``test_case_table``) need nothing from gradkit: they check that the
table itself is valid NumPy, deterministic, away from kinks, and that every argument matters.

Two more tables: NumPy's own errors (read-only views, casting, shapes, bounds), which the traced
run must raise with the same exception type; and the **refusals** (a traced value written into a
plain NumPy array, ``np.array`` of traced values, ``float``), which must raise an error that names
the rewrite.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import TracerConversionError

from .case_checks import assert_close, chain_text, cotangent_like, exception_chain
from .mutation_cases import CASES, CATEGORIES, NUMPY_ERRORS

BY_NAME = {c.name: c for c in CASES}
IDS = [c.name for c in CASES]
SCALAR_CASES = [c for c in CASES if np.ndim(c.fun(*c.fresh_args())) == 0]
HESSIAN_CASES = [c for c in CASES if c.hessian]


# ----------------------------------------------------------------------------- helpers
def tol(case):
    """(finite-difference step, rtol, atol) for a case: float32 rounding needs a larger step."""
    return (1e-2, 2e-3, 2e-3) if case.f32 else (1e-6, 1e-5, 1e-6)


def plain_value(case):
    """NumPy's value: the case run on copies of its inputs."""
    return case.fun(*case.fresh_args())


def assert_bitwise(got, want, what):
    """``got`` is ``want`` bit for bit: same dtype, same shape, same bytes (signs of zeros too)."""
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, NumPy gives {w.dtype}"
    assert g.shape == w.shape, f"{what}: shape {g.shape}, NumPy gives {w.shape}"
    assert np.array_equal(g, w), (f"{what}: values differ from NumPy's\n  traced: {g.ravel()[:8]}"
                                  f"\n  numpy:  {w.ravel()[:8]}")
    assert g.tobytes() == w.tobytes(), f"{what}: equal values but different bits (signed zeros?)"


def output_weights(case):
    return cotangent_like(plain_value(case))


def input_tangents(case):
    """Fixed random tangents, one per argument."""
    rng = np.random.default_rng(2)
    return tuple(rng.standard_normal(a.shape) for a in case.args)


def _phi(case, weights, args):
    """The scalar <weights, f(args)>, computed by NumPy on copies."""
    out = case.fun(*(np.array(a, copy=True) for a in args))
    return float(np.sum(np.asarray(out, dtype=np.float64) * weights))


def fd_gradients(case, eps):
    """Central finite-difference gradient of <weights, f> in every argument, entry by entry."""
    weights = np.asarray(output_weights(case), dtype=np.float64)
    grads = []
    for k, a in enumerate(case.args):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = list(case.args), list(case.args)
            plus[k], minus[k] = a.copy(), a.copy()
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (_phi(case, weights, plus) - _phi(case, weights, minus)) / (2 * eps)
        grads.append(g)
    return grads


@functools.lru_cache(maxsize=None)
def fd_reference(name):
    """The finite-difference gradients at the case's own step (cached per case)."""
    case = BY_NAME[name]
    return fd_gradients(case, tol(case)[0])


def fd_directional(case, tangents, eps):
    """Central finite difference of f along ``tangents``, output entry by output entry."""
    plus = case.fun(*(a + eps * t for a, t in zip(case.args, tangents)))
    minus = case.fun(*(a - eps * t for a, t in zip(case.args, tangents)))
    return (np.asarray(plus, np.float64) - np.asarray(minus, np.float64)) / (2 * eps)


@functools.lru_cache(maxsize=None)
def _fd_hessian(name, h=1e-4):
    case = BY_NAME[name]
    x0, rest = case.args[0], case.args[1:]
    n = x0.size

    def f(flat):
        return float(case.fun(flat.reshape(x0.shape).copy(), *(r.copy() for r in rest)))

    H = np.zeros((n, n))
    e = np.eye(n) * h
    base = x0.ravel()
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (f(base + e[i] + e[j]) - f(base + e[i] - e[j])
                                 - f(base - e[i] + e[j]) + f(base - e[i] - e[j])) / (4 * h * h)
    return H.reshape(x0.shape + x0.shape)


def fd_hessian(case):
    """Finite-difference Hessian of the scalar case in its first argument (second differences)."""
    return _fd_hessian(case.name).copy()


def snapshot(args):
    return tuple(np.array(a, copy=True) for a in args)


def assert_unchanged(args, before, what):
    for k, (a, b) in enumerate(zip(args, before)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{what}: argument {k} was replaced"
        assert np.array_equal(a, b) and a.tobytes() == b.tobytes(), (
            f"{what}: the caller's argument {k} was modified by differentiating")


def argnums(case):
    return tuple(range(len(case.args)))


def chain_types(exc):
    return [type(e) for e in exception_chain(exc)]


# ============================================================================ the table itself
def test_case_table():
    """At least 70 cases; every category has some; names unique; one-line docstrings."""
    assert len(CASES) >= 70
    assert {c.category for c in CASES} == set(CATEGORIES)
    assert len(set(IDS)) == len(IDS)
    for c in CASES:
        assert c.doc and "\n" not in c.doc, f"{c.name}: needs a one-line docstring"
        assert all(a.dtype == np.float64 for a in c.args), c.name
        assert all(a.size <= 36 for a in c.args), c.name
    assert len(HESSIAN_CASES) >= 5
    assert all(c.smooth and not c.f32 for c in HESSIAN_CASES)
    assert all(c in SCALAR_CASES for c in HESSIAN_CASES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_runs_in_plain_numpy(case):
    """The case is valid NumPy: deterministic, finite, float output; its table inputs are never
    written (every run gets copies)."""
    before = snapshot(case.args)
    first, second = plain_value(case), plain_value(case)
    assert_unchanged(case.args, before, "the plain run")
    assert_bitwise(second, first, "two plain runs")
    out = np.asarray(first)
    assert out.dtype in ((np.float32, np.float64) if case.f32 else (np.float64,)), out.dtype
    assert np.all(np.isfinite(out))
    assert out.size >= 1


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_finite_differences_are_meaningful(case):
    """Every argument matters (its finite-difference gradient is not zero) and the input is away
    from any kink (steps two to three orders of magnitude apart agree)."""
    eps = tol(case)[0]
    fine = fd_reference(case.name)
    coarse = fd_gradients(case, eps * (3 if case.f32 else 1000))
    rtol, atol = (1e-2, 1e-3) if case.f32 else (1e-4, 1e-6)
    for k, (g_fine, g_coarse) in enumerate(zip(fine, coarse)):
        assert np.max(np.abs(g_fine)) > 1e-3, f"argument {k}: the output does not depend on it"
        assert_close(g_coarse, g_fine, rtol, atol, f"argument {k}: finite differences at two "
                                                   "steps (a kink near the input?)")


# ============================================================================ traced: values
@pytest.mark.parametrize("case", SCALAR_CASES, ids=[c.name for c in SCALAR_CASES])
def test_value_and_grad(case):
    """value_and_grad: NumPy's value bit for bit; every gradient entry equals finite
    differences."""
    _, rtol, atol = tol(case)
    value, grads = gk.value_and_grad(case.fun, argnums=argnums(case))(*case.fresh_args())
    assert_bitwise(value, plain_value(case), "value_and_grad's value")
    for k, (g, want) in enumerate(zip(grads, fd_reference(case.name))):
        assert np.shape(g) == case.args[k].shape
        assert np.asarray(g).dtype == np.float64
        assert_close(g, want, rtol, atol, f"gradient in argument {k}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reverse_mode(case):
    """vjp: NumPy's value bit for bit; the pullback of a random cotangent equals finite
    differences of <cotangent, f>."""
    _, rtol, atol = tol(case)
    out, pullback = gk.vjp(case.fun, *case.fresh_args())
    assert_bitwise(out, plain_value(case), "vjp's value")
    cts = pullback(output_weights(case))
    assert len(cts) == len(case.args)
    for k, (ct, want) in enumerate(zip(cts, fd_reference(case.name))):
        assert_close(ct, want, rtol, atol, f"cotangent of argument {k}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_mode(case):
    """jvp: NumPy's value bit for bit; the tangent equals the finite difference along it."""
    eps, rtol, atol = tol(case)
    tangents = input_tangents(case)
    out, t_out = gk.jvp(case.fun, case.fresh_args(), tangents)
    assert_bitwise(out, plain_value(case), "jvp's value")
    assert_close(t_out, fd_directional(case, tangents, max(eps, 1e-5)), rtol, atol,
                 "jvp's tangent")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_grads(case):
    """check_grads in both modes: order 2 where the case is smooth, 1 where piecewise (marked
    ``smooth=False``: masks from the inputs, sort, //, %, int casts) or rounded through
    float32."""
    if case.f32:
        gk.check_grads(case.fun, case.fresh_args(), order=1, modes=("fwd", "rev"),
                       eps=1e-2, rtol=2e-3, atol=2e-3)
    else:
        gk.check_grads(case.fun, case.fresh_args(), order=2 if case.smooth else 1,
                       modes=("fwd", "rev"), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_callers_arrays_are_never_modified(case):
    """Differentiating a function that writes into its arguments leaves the caller's arrays
    bit-identical, and the results never share memory with them."""
    args = tuple(np.array(a, copy=True) for a in case.args)
    before = snapshot(args)
    out, pullback = gk.vjp(case.fun, *args)
    assert_unchanged(args, before, "vjp")
    pullback(output_weights(case))
    assert_unchanged(args, before, "vjp's pullback")
    out_f, _ = gk.jvp(case.fun, args, input_tangents(case))
    assert_unchanged(args, before, "jvp")
    if case in SCALAR_CASES:
        gk.value_and_grad(case.fun, argnums=argnums(case))(*args)
        assert_unchanged(args, before, "value_and_grad")
    for result in (out, out_f):
        for a in args:
            assert not np.shares_memory(np.asarray(result), a), "a result is the caller's array"
    # the plain function does write into its arguments (where it does), so this is a real test
    assert_bitwise(out, case.fun(*snapshot(args)), "vjp's value after the other calls")


# ============================================================================ traced: nesting
@pytest.mark.parametrize("case", HESSIAN_CASES, ids=[c.name for c in HESSIAN_CASES])
def test_hessian(case):
    """gk.hessian (forward over reverse) equals the finite-difference Hessian in argument 0."""
    H = gk.hessian(case.fun)(*case.fresh_args())
    assert_close(H, fd_hessian(case), 1e-5, 1e-5, "hessian")


@pytest.mark.parametrize("mode", ["rev-over-fwd", "fwd-over-rev"])
@pytest.mark.parametrize("case", HESSIAN_CASES, ids=[c.name for c in HESSIAN_CASES])
def test_hvp(case, mode):
    """gk.hvp in both nestings equals the finite-difference Hessian times v."""
    x0 = case.args[0]
    v = np.random.default_rng(3).standard_normal(x0.shape)
    Hv = gk.hvp(case.fun, mode=mode)(*case.fresh_args(), v)
    want = (fd_hessian(case).reshape(x0.size, x0.size) @ v.ravel()).reshape(x0.shape)
    assert_close(Hv, want, 1e-5, 1e-5, f"hvp ({mode})")


@pytest.mark.parametrize("case", HESSIAN_CASES, ids=[c.name for c in HESSIAN_CASES])
def test_grad_of_grad(case):
    """Reverse over reverse: grad of <grad f, v> equals the finite-difference Hessian times v;
    the inner trace's writes do not leak into the outer one."""
    args = case.fresh_args()
    x0, rest = args[0], args[1:]
    v = np.random.default_rng(4).standard_normal(x0.shape)

    def directional(x):
        return np.sum(gk.grad(case.fun)(x, *rest) * v)
    before = snapshot(args)
    got = gk.grad(directional)(x0)
    assert_unchanged(args, before, "grad of grad")
    want = (fd_hessian(case).reshape(x0.size, x0.size) @ v.ravel()).reshape(x0.shape)
    assert_close(got, want, 1e-5, 1e-5, "grad of grad")


# ============================================================================ NumPy's own errors
ERROR_IDS = [n for n, _, _ in NUMPY_ERRORS]


def _plain_exception(fun, args):
    try:
        fun(*snapshot(args))
    except Exception as e:  # noqa: BLE001  (any exception NumPy raises is the spec)
        return e
    return None


@pytest.mark.parametrize("name, fun, args", NUMPY_ERRORS, ids=ERROR_IDS)
def test_numpy_itself_raises(name, fun, args):
    """The error cases do raise in plain NumPy (ValueError, TypeError or IndexError)."""
    e = _plain_exception(fun, args)
    assert e is not None, f"{name}: NumPy does not raise"
    assert isinstance(e, (ValueError, TypeError, IndexError))
    assert not isinstance(e, TracerConversionError)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("name, fun, args", NUMPY_ERRORS, ids=ERROR_IDS)
def test_traced_run_raises_numpys_exception(name, fun, args, mode):
    """Read-only views (np.diagonal, np.broadcast_to), casting (int buffer += float, copyto's
    same_kind), shapes, bounds: the traced run raises NumPy's exception type (or a subclass),
    not a gradkit refusal, and leaves the caller's arrays alone."""
    expected = type(_plain_exception(fun, args))
    before = snapshot(args)
    with pytest.raises(expected) as e:
        if mode == "rev":
            gk.value_and_grad(fun)(*args)
        else:
            gk.jvp(fun, args, tuple(np.ones_like(a) for a in args))
    assert not isinstance(e.value, TracerConversionError), chain_text(e.value)
    assert_unchanged(args, before, "the failed traced run")


# ============================================================================ refusals
# What NumPy gives no hook for: an error that names the rewrite.
def _setitem_into_np_zeros(x):
    buf = np.zeros(3)
    buf[0] = x[0]
    return np.sum(buf)


def _slice_setitem_into_np_empty(x):
    buf = np.empty(3)
    buf[:] = x[:3]
    return np.sum(buf)


def _iadd_into_np_zeros(x):
    buf = np.zeros(4)
    buf += x
    return np.sum(buf)


def _out_into_np_zeros(x):
    buf = np.zeros(4)
    np.exp(x, out=buf)
    return np.sum(buf)


def _copyto_np_zeros(x):
    buf = np.zeros(4)
    np.copyto(buf, x)
    return np.sum(buf)


def _add_at_np_zeros(x):
    buf = np.zeros(4)
    np.add.at(buf, [0, 0], x[:2])
    return np.sum(buf)


def _np_array_of_traced(x):
    return np.sum(np.array([x[0], x[1]]))


def _np_mean_of_list(x):
    return np.mean([x[0], x[1]])


def _float_of_traced(x):
    return float(x[0]) + np.sum(x)


def _math_exp_of_traced(x):
    return math.exp(x[0]) + np.sum(x)


ZEROS_LIKE = ("np.zeros_like",)
# (name, function, exception class, phrases: at least one must appear in the exception chain)
REFUSALS = [
    ("setitem_traced_into_np_zeros", _setitem_into_np_zeros, Exception, ZEROS_LIKE),
    ("slice_setitem_traced_into_np_empty", _slice_setitem_into_np_empty, Exception, ZEROS_LIKE),
    ("iadd_traced_into_np_zeros", _iadd_into_np_zeros, Exception, ZEROS_LIKE),
    ("out_traced_into_np_zeros", _out_into_np_zeros, Exception,
     ("np.zeros_like", "np.empty_like")),
    ("copyto_traced_into_np_zeros", _copyto_np_zeros, Exception, ZEROS_LIKE),
    ("add_at_traced_into_np_zeros", _add_at_np_zeros, Exception, ZEROS_LIKE),
    ("np_array_of_traced_values", _np_array_of_traced, Exception, ("np.stack",)),
    ("np_mean_of_a_list_of_traced", _np_mean_of_list, Exception, ("np.stack",)),
    ("float_of_traced", _float_of_traced, TracerConversionError, ("stop_gradient",)),
    ("math_exp_of_traced", _math_exp_of_traced, TracerConversionError, ("stop_gradient",)),
]
X_REFUSE = np.array([0.3, -0.7, 1.1, 0.2])


def test_refusals_are_valid_numpy():
    """Each refused function runs in plain NumPy (the refusal is about tracing, not the code)."""
    for name, fun, _, _ in REFUSALS:
        assert np.isfinite(fun(X_REFUSE.copy())), name


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("name, fun, exc, phrases", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusal_names_the_rewrite(name, fun, exc, phrases, mode):
    """A traced value written into a plain NumPy array, np.array / np.mean of a list of traced
    values, float() / math.exp(): a clear error (possibly wrapped by NumPy, then found in its
    __cause__) that names the rewrite; a gradkit TracerConversionError somewhere in the chain."""
    x = X_REFUSE.copy()
    with pytest.raises(exc) as e:
        if mode == "rev":
            gk.value_and_grad(fun)(x)
        else:
            gk.jvp(fun, (x,), (np.ones_like(x),))
    text = chain_text(e.value)
    assert any(p in text for p in phrases), f"{name}: the error should mention {phrases}:\n{text}"
    assert any(issubclass(t, TracerConversionError) for t in chain_types(e.value)), text
    assert np.array_equal(x, X_REFUSE)
