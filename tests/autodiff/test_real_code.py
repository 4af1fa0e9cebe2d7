"""Real code differentiated as written (issue 13): every case of ``real_code_cases.py`` runs
plain (NumPy's value is the truth) and traced by gradkit:

- the traced value is NumPy's **bit for bit** (dtype, shape, bytes), in reverse and forward mode;
- the pullback of a random cotangent and the tangent along a random direction equal central
  finite differences of NumPy's own function;
- ``jacfwd`` (all basis vectors in one batched pass) equals ``jacrev``;
- ``check_grads`` to order 2 where the function is smooth, and ``hessian`` / ``hvp`` against
  second differences where the case is marked;
- the caller's arrays are bit-identical afterwards.

The second table, ``REFUSED``, is real code that cannot be traced because NumPy converts the
value before gradkit sees it (a plain buffer written with a traced value, ``np.array`` of a
list, ``float()``, ``np.vectorize``, ``as_strided``) or that gradkit does not differentiate: each
must raise an error of one line that names the function (and where the user wrote it) and the
rewrite, never return a gradient with a term missing.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import scipy.special as sc

import gradkit as gk
from gradkit import NoGradientRuleError, TracerConversionError

from .case_checks import assert_close, chain_text, cotangent_like
from .real_code_cases import CASES

BY_NAME = {c.name: c for c in CASES}
IDS = [c.name for c in CASES]
SMOOTH = [c for c in CASES if c.smooth and not c.f32]
HESSIAN = [c for c in CASES if c.hessian]


# ----------------------------------------------------------------------------- helpers
def tol(case):
    """(finite-difference step, rtol, atol)."""
    return (1e-2, 3e-3, 3e-3) if case.f32 else (1e-6, 1e-5, 1e-6)


def plain(case):
    return case.fun(*case.fresh_args())


def over_argnums(case):
    """The case as a function of its differentiated arguments only (the rest are data)."""
    def f(*xs):
        full = list(case.fresh_args())
        for k, x in zip(case.argnums, xs):
            full[k] = x
        return case.fun(*full)
    return f, tuple(case.fresh_args()[k] for k in case.argnums)


def assert_bitwise(got, want, what):
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, NumPy gives {w.dtype}"
    assert g.shape == w.shape, f"{what}: shape {g.shape}, NumPy gives {w.shape}"
    assert g.tobytes() == w.tobytes(), (f"{what}: values differ from NumPy's\n"
                                        f"  traced: {g.ravel()[:6]}\n  numpy:  {w.ravel()[:6]}")


def weights(case):
    return cotangent_like(plain(case))


@functools.lru_cache(maxsize=None)
def fd_gradients(name):
    """Central differences of <weights, f> in every differentiated argument, entry by entry."""
    case = BY_NAME[name]
    f, xs = over_argnums(case)
    w = np.asarray(weights(case), np.float64)
    eps = tol(case)[0]

    def phi(args):
        return float(np.sum(np.asarray(f(*args), np.float64) * w))
    grads = []
    for k, x in enumerate(xs):
        g = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            plus, minus = [a.copy() for a in xs], [a.copy() for a in xs]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (phi(plus) - phi(minus)) / (2 * eps)
        grads.append(g)
    return grads


def tangents(case):
    rng = np.random.default_rng(2)
    return tuple(rng.standard_normal(case.args[k].shape) for k in case.argnums)


# ----------------------------------------------------------------------------- the table
def test_case_table():
    """At least 60 cases, unique names, one-line docstrings, small inputs, some Hessians."""
    assert len(CASES) >= 60
    assert len(set(IDS)) == len(IDS)
    for c in CASES:
        assert c.doc and "\n" not in c.doc, f"{c.name}: needs a one-line docstring"
        assert c.argnums, c.name
        assert all(c.args[k].dtype == np.float64 for k in c.argnums), c.name
        assert all(c.args[k].size <= 40 for k in c.argnums), c.name
    assert len(HESSIAN) >= 10


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_case_runs_in_plain_numpy(case):
    """Valid NumPy: deterministic and finite; every differentiated argument matters."""
    first, second = plain(case), plain(case)
    assert_bitwise(second, first, "two plain runs")
    assert np.all(np.isfinite(np.asarray(first)))
    for k, g in zip(case.argnums, fd_gradients(case.name)):
        assert np.max(np.abs(g)) > 1e-3, f"argument {k}: the output does not depend on it"


# ----------------------------------------------------------------------------- traced
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reverse_mode_value_and_cotangents(case):
    """vjp: NumPy's value bit for bit; the pullback equals finite differences."""
    _, rtol, atol = tol(case)
    f, xs = over_argnums(case)
    out, pullback = gk.vjp(f, *xs)
    assert_bitwise(out, plain(case), "vjp's value")
    cts = pullback(weights(case))
    for k, ct, want in zip(case.argnums, cts, fd_gradients(case.name)):
        assert np.shape(ct) == case.args[k].shape
        assert_close(ct, want, rtol, atol, f"cotangent of argument {k}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_mode_value_and_tangent(case):
    """jvp: NumPy's value bit for bit; the tangent equals the finite difference along it."""
    eps, rtol, atol = tol(case)
    f, xs = over_argnums(case)
    ts = tangents(case)
    out, t_out = gk.jvp(f, xs, ts)
    assert_bitwise(out, plain(case), "jvp's value")
    plus = f(*(x + eps * t for x, t in zip(xs, ts)))
    minus = f(*(x - eps * t for x, t in zip(xs, ts)))
    want = (np.asarray(plus, np.float64) - np.asarray(minus, np.float64)) / (2 * eps)
    assert_close(t_out, want, rtol, atol, "tangent")


def flat(case):
    """The case as a function of one vector holding every differentiated argument (so that
    buffers made from any of them stay traced), and that vector."""
    f, xs = over_argnums(case)
    sizes = [x.size for x in xs]

    def g(v):
        parts, start = [], 0
        for x, n in zip(xs, sizes):
            parts.append(np.reshape(v[start:start + n], x.shape))
            start += n
        return f(*parts)
    return g, np.concatenate([x.ravel() for x in xs])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jacfwd_equals_jacrev(case):
    """The Jacobian: forward mode (every basis vector in one batched pass) and reverse mode
    agree, and the weights times it are the finite-difference gradients."""
    g, v = flat(case)
    jf = np.asarray(gk.jacfwd(g)(v))
    jr = np.asarray(gk.jacrev(g)(v))
    _, rtol, atol = tol(case)
    assert_close(jf, jr, rtol, atol, "jacfwd vs jacrev")
    w = np.asarray(weights(case), np.float64)
    contracted = np.tensordot(w, jf, axes=w.ndim) if w.ndim else jf
    want = np.concatenate([d.ravel() for d in fd_gradients(case.name)])
    assert_close(contracted, want, rtol, atol, "w^T J vs finite differences")


@pytest.mark.parametrize("case", SMOOTH, ids=[c.name for c in SMOOTH])
def test_check_grads_to_second_order(case):
    """check_grads: both modes against finite differences along random directions, order 2."""
    f, xs = over_argnums(case)
    gk.check_grads(f, xs, order=2, modes=("fwd", "rev"), rtol=2e-5, atol=1e-6)


@functools.lru_cache(maxsize=None)
def fd_hessian(name, h=1e-4):
    """Second differences of the scalar case in all its differentiated arguments (flat)."""
    g, v0 = flat(BY_NAME[name])
    n = v0.size
    H, e = np.zeros((n, n)), np.eye(n) * h
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (g(v0 + e[i] + e[j]) - g(v0 + e[i] - e[j])
                                 - g(v0 - e[i] + e[j]) + g(v0 - e[i] - e[j])) / (4 * h * h)
    return H


@pytest.mark.parametrize("case", HESSIAN, ids=[c.name for c in HESSIAN])
def test_hessian_and_hvp(case):
    """hessian and hvp (both modes) in every differentiated argument equal second
    differences."""
    g, v0 = flat(case)
    H = np.asarray(gk.hessian(g)(v0))
    want = fd_hessian(case.name)
    assert_close(H, want, 1e-4, 1e-5, "hessian")
    v = np.random.default_rng(3).standard_normal(v0.shape)
    for mode in ("rev-over-fwd", "fwd-over-rev"):
        assert_close(gk.hvp(g, mode=mode)(v0, v), want @ v, 1e-4, 1e-5, f"hvp ({mode})")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_callers_arrays_are_unchanged(case):
    """Differentiating never writes into the caller's arrays (some cases write into their
    arguments), in either mode."""
    args = case.fresh_args()
    before = tuple(a.copy() for a in args)

    def f(*xs):
        full = list(args)
        for k, x in zip(case.argnums, xs):
            full[k] = x
        return case.fun(*full)
    xs = tuple(args[k] for k in case.argnums)
    gk.vjp(f, *xs)
    gk.jvp(f, xs, tangents(case))
    for a, b in zip(args, before):
        assert a.tobytes() == b.tobytes()


# ============================================================================ refusals
X = np.array([0.3, -1.2, 0.8])
W = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6], [0.2, 0.1, 0.9]])


def rnn_plain_buffer(Wh):
    h = np.zeros((4, 3))                 # a plain buffer: NumPy converts what is written in
    for t in range(3):
        h[t + 1] = np.tanh(Wh @ h[t] + X)
    return h.sum()


def euler_np_empty(k):
    ys = np.empty((5, 3))
    ys[0] = X
    for t in range(4):
        ys[t + 1] = ys[t] - 0.1 * k @ ys[t]
    return ys.sum()


def array_of_list(Wh):
    return np.array([np.sum(row ** 2) for row in Wh]).sum()


def float_in_arithmetic(Wh):
    return float(np.sum(Wh)) * np.sum(Wh ** 2)


def math_exp(Wh):
    return math.exp(Wh[0, 0]) + np.sum(Wh)


def vectorized_python(Wh):
    return np.vectorize(lambda t: t * t if t > 0 else 0.0)(Wh).sum()


def as_strided_windows(x):
    win = np.lib.stride_tricks.as_strided(x, shape=(2, 2), strides=x.strides * 2)
    return win.sum()


def plain_array_dot_method(w):
    return np.sum(W.dot(w))


def asarray_at_the_top(Wh):
    Wh = np.asarray(Wh, dtype=float)
    return np.sum(Wh ** 2)


def list_mean(Wh):
    return np.mean([Wh[0, 0], Wh[1, 1]])


def item_accumulator(Wh):
    return Wh.sum().item() + np.sum(Wh)


def ndarray_flat(Wh):
    return np.sum(Wh.flat[:2])


def quantile_nearest(Wh):
    return np.quantile(Wh, 0.3, method="nearest")


def cov_with_weights(Wh):
    return np.cov(Wh, aweights=np.ones(3)).sum()


def scipy_linalg_solve(Wh):
    import scipy.linalg
    return scipy.linalg.solve(Wh + 2 * np.eye(3), X).sum()


def histogram_weights(Wh):
    return np.histogram(Wh[0], bins=2, weights=Wh[1])[0].sum()


def numpy_polynomial_polyval(x):
    return np.polynomial.polynomial.polyval(0.5, x)


def correlate_complex(x):
    return np.abs(np.correlate(x * 1j, x)).sum()


# (name, function, argument, error, words the message must contain)
REFUSED = [
    ("rnn-into-np-zeros", rnn_plain_buffer, W, TracerConversionError,
     ["plain NumPy array", "rnn_plain_buffer", "np.zeros_like(x, shape="]),
    ("euler-into-np-empty", euler_np_empty, W, TracerConversionError,
     ["plain NumPy array", "euler_np_empty", "np.zeros_like"]),
    ("np.array-of-list", array_of_list, W, TracerConversionError,
     ["np.array", "np.stack", "array_of_list"]),
    ("float()", float_in_arithmetic, W, TracerConversionError,
     ["float()", "float_in_arithmetic", "stop_gradient"]),
    ("math.exp", math_exp, W, TracerConversionError, ["math.*", "np.exp", "math_exp"]),
    ("np.vectorize", vectorized_python, W, TracerConversionError,
     ["np.vectorize", "array operations", "np.where"]),
    ("as_strided", as_strided_windows, X, TracerConversionError,
     ["np.lib.stride_tricks.as_strided", "sliding_window_view"]),
    ("plain-X.dot(w)", plain_array_dot_method, X, TracerConversionError,
     ["W.dot(w)", "plain_array_dot_method", "np.dot(W, ...)", "W @ ..."]),
    ("np.asarray", asarray_at_the_top, W, TracerConversionError,
     ["np.asarray", "asarray_at_the_top"]),
    ("np.mean-of-list", list_mean, W, TracerConversionError, ["np.mean", "np.stack"]),
    (".item()", item_accumulator, W, TracerConversionError, [".item()", "stop_gradient"]),
    ("ndarray.flat", ndarray_flat, W, AttributeError, ["ndarray.flat", "x.ravel()"]),
    ("quantile-nearest", quantile_nearest, W, NoGradientRuleError,
     ["np.quantile", "method='linear'"]),
    ("cov-aweights", cov_with_weights, W, NoGradientRuleError, ["np.cov", "aweights"]),
    ("scipy.linalg.solve", scipy_linalg_solve, W, TracerConversionError,
     ["scipy.linalg", "solve", "np.asarray"]),
    ("np.histogram", histogram_weights, W, NoGradientRuleError, ["np.histogram", "custom_vjp"]),
    ("np.polynomial.polynomial.polyval", numpy_polynomial_polyval, X, TracerConversionError,
     ["np.polynomial.polynomial.polyval converts its input"]),
    ("correlate-complex", correlate_complex, X, NoGradientRuleError,
     ["np.correlate", "real input"]),
]


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("name, f, x, error, words", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_code_raises_one_line_naming_the_function_and_rewrite(name, f, x, error, words,
                                                                      mode):
    with pytest.raises(Exception) as info:
        if mode == "rev":
            gk.grad(f)(x.copy())
        else:
            gk.jvp(f, (x.copy(),), (np.ones_like(x),))
    # NumPy may raise its own error from gradkit's (a write into a plain array): the chain
    # holds gradkit's
    text = chain_text(info.value)
    errors = []
    exc = info.value
    while exc is not None and exc not in errors:
        errors.append(exc)
        exc = exc.__cause__ or exc.__context__
    ours = [e for e in errors if isinstance(e, error)]
    assert ours, f"{name}: raised {type(info.value).__name__}: {text[:200]}"
    message = str(ours[0])
    assert "\n" not in message, f"{name}: the message is not one line"
    for w in words:
        assert w in message, f"{name}: the message does not say {w!r}: {message}"


def test_a_refused_write_into_a_plain_buffer_leaves_nothing_half_done():
    """After the refusal the same function, rewritten with np.zeros_like, differentiates and
    matches finite differences (the rewrite the message names works)."""
    def rnn(Wh):
        h = np.zeros_like(Wh, shape=(4, 3))
        for t in range(3):
            h[t + 1] = np.tanh(Wh @ h[t] + X)
        return h.sum()
    with pytest.raises(TracerConversionError):
        gk.grad(rnn_plain_buffer)(W.copy())
    gk.check_grads(rnn, (W.copy(),), order=2)


def test_peers_agree_on_a_few_known_values():
    """Values checked by hand (the peers give the same): softmax regression's gradient sums
    to zero over classes; d/dx sinc at 0 is 0 and its second derivative -pi^2/3; the weighted
    bincount's gradient is the weight's bin's cotangent (it was silently zero before)."""
    case = BY_NAME["softmax_regression"]
    g = gk.grad(case.fun)(*case.fresh_args())
    assert_close(g.sum(axis=1), np.zeros(3), 0, 1e-12, "softmax gradient rows")
    assert float(gk.grad(np.sinc)(0.0)) == 0.0
    assert_close(gk.hessian(np.sinc)(0.0), -np.pi ** 2 / 3, 1e-12, 0, "sinc''(0)")
    seg = np.array([0, 1, 1, 2])
    got = gk.grad(lambda w: np.sum(np.bincount(seg, weights=w) * np.array([1.0, 2.0, 3.0])))(
        np.ones(4))
    assert np.array_equal(got, [1.0, 2.0, 2.0, 3.0])
    assert_close(gk.grad(lambda z: sc.logsumexp(z))(np.zeros(4)), np.full(4, 0.25), 0, 1e-15,
                 "logsumexp")
