"""The rules of issue 13 (part 3): values NumPy's own bit for bit, refusals that name the
argument, and scipy.special functions named by their module in errors.

The derivatives themselves are checked against finite differences (both modes, order 2) by
``test_rules.py`` on the cases of ``rule_cases/issue13.py``; here every one of those cases
also runs plain and traced (forward and reverse mode) and the values must be equal."""
import warnings

import numpy as np
import pytest
import scipy.special as sc

import gradkit as gk

from .rule_cases.issue13 import CASES, A, NAN_AT, POS, S, V, nonfinite

R = np.random.default_rng(131)


def _leaves(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def _same(plain, traced):
    plain, traced = _leaves(plain), _leaves(traced)
    assert len(plain) == len(traced)
    for p, t in zip(plain, traced):
        assert np.shape(p) == np.shape(t)
        assert np.result_type(p) == np.result_type(t), (np.result_type(p), np.result_type(t))
        assert np.array_equal(p, t, equal_nan=True), (p, t)


def _traced_values(f, args):
    ones = tuple(np.ones_like(a) for a in args)
    forward = gk.jvp(f, args, ones)[0]
    reverse = gk.vjp(f, *args)[0]
    return forward, reverse


@pytest.mark.parametrize("name, fun, args", CASES, ids=[c[0] for c in CASES])
def test_values_are_numpys(name, fun, args):
    plain = fun(*args)
    forward, reverse = _traced_values(fun, args)
    _same(plain, forward)
    _same(plain, reverse)


# values only: float32, NaN results, empty slices, large chains (no finite differences)
F32 = R.standard_normal((3, 4)).astype(np.float32)
AN = A.copy()
AN[:, 1] = np.nan
ALL_NAN_COL = np.isnan(AN)
VALUE_CASES = [
    ("linspace-float32", lambda a, b: np.linspace(a, b, 6),
     (np.full(2, 0.3, np.float32), np.array(2.1, np.float32))),
    ("linspace-retstep-no-endpoint", lambda a, b: np.linspace(a, b, 6, endpoint=False,
                                                              retstep=True), (S, S + 1.0)),
    ("linspace-retstep-one", lambda a, b: np.linspace(a, b, 1, retstep=True), (S, S + 1.0)),
    ("linspace-zero-samples", lambda a, b: np.linspace(a, b, 0), (S, S + 1.0)),
    ("nan_to_num-defaults", lambda x: np.nan_to_num(nonfinite(x)), (A,)),
    ("nan_to_num-float32", lambda x: np.nan_to_num(x / np.float32(0.0)), (F32,)),
    ("nanvar-float32", lambda x: np.nanvar(np.where(NAN_AT, np.nan, x), axis=1), (F32,)),
    ("nanstd-float32", lambda x: np.nanstd(np.where(NAN_AT, np.nan, x), axis=0), (F32,)),
    ("nanmean-float32", lambda x: np.nanmean(np.where(NAN_AT, np.nan, x), axis=1), (F32,)),
    ("nanmedian-long-axis", lambda x: np.nanmedian(np.where(x > 1.5, np.nan, x), axis=1),
     (R.standard_normal((3, 700)),)),
    ("median-with-nan", lambda x: np.median(np.where(NAN_AT, np.nan, x), axis=1), (A,)),
    ("median-even", lambda v: np.median(v), (R.standard_normal(6),)),
    ("partition-ties", lambda v: np.partition(v, 3), (np.array([2.0, 1.0, 2.0, 1.0, 3.0, 2.0]),)),
    ("multi_dot-long", lambda *m: np.linalg.multi_dot(list(m)),
     tuple(R.standard_normal(s) for s in ((10, 30), (30, 5), (5, 60), (60, 10), (10, 1)))),
    ("gradient-large", lambda x: np.gradient(np.exp(x), 0.1, edge_order=2),
     (R.standard_normal((20, 30)),)),
    ("average-float32-weights", lambda x, w: np.average(x, axis=0, weights=w),
     (F32, np.abs(F32[:, 0]) + 1)),
    ("cross-large", lambda a, b: np.cross(a, b), (R.standard_normal((50, 3)),
                                                   R.standard_normal((50, 3)))),
]


@pytest.mark.parametrize("name, fun, args", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_more_values_are_numpys(name, fun, args):
    plain = fun(*args)
    forward, reverse = _traced_values(fun, args)
    _same(plain, forward)
    _same(plain, reverse)


@pytest.mark.parametrize("f, message", [
    (lambda x: np.nanmax(np.where(ALL_NAN_COL, np.nan, x), axis=0), "All-NaN slice"),
    (lambda x: np.nanmin(np.where(ALL_NAN_COL, np.nan, x), axis=0), "All-NaN slice"),
    (lambda x: np.nanmedian(np.where(ALL_NAN_COL, np.nan, x), axis=0), "All-NaN slice"),
    (lambda x: np.nanvar(np.where(ALL_NAN_COL, np.nan, x), axis=0), "Degrees of freedom"),
    (lambda x: np.nanstd(np.where(ALL_NAN_COL, np.nan, x), axis=0), "Degrees of freedom"),
    (lambda x: np.nanmean(np.where(ALL_NAN_COL, np.nan, x), axis=0), "Mean of empty slice"),
])
def test_empty_slices_warn_as_numpy_and_pass_no_gradient(f, message):
    with pytest.warns(RuntimeWarning, match=message):
        plain = f(A)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no other warning than NumPy's (no 0/0 of our own)
        with pytest.warns(RuntimeWarning, match=message):
            traced = gk.jvp(f, (A,), (np.ones_like(A),))[0]
    _same(plain, traced)
    with pytest.warns(RuntimeWarning, match=message):
        g = gk.grad(lambda x: np.sum(np.nan_to_num(f(x))))(A)
    assert np.all(g[:, 1] == 0) and np.all(np.isfinite(g))


def test_rgamma_derivative_at_its_zeros_is_exact():
    # 1/Gamma(x) near x = -k is (-1)^k k! (x + k) + O((x + k)^2)
    x = np.array([0.0, -1.0, -2.0, -3.0, -4.0])
    expected = np.array([1.0, -1.0, 2.0, -6.0, 24.0])
    np.testing.assert_allclose(gk.elementwise_grad(sc.rgamma)(x), expected, rtol=1e-12)
    np.testing.assert_allclose(gk.jvp(sc.rgamma, (x,), (np.ones(5),))[1], expected, rtol=1e-12)


def test_gammasgn_has_zero_derivative():
    x = np.array([-2.5, -0.5, 0.5, 3.0])
    assert np.array_equal(gk.elementwise_grad(sc.gammasgn)(x), np.zeros(4))
    assert np.array_equal(gk.elementwise_grad(lambda x: sc.gammasgn(x) * x)(x), sc.gammasgn(x))


# ----------------------------------------------------------------------------- refusals
REFUSALS = [
    ("gammainc-a", lambda a: sc.gammainc(a, 1.5), r"scipy\.special\.gammainc\(a, x\).* in a "),
    ("gammaincc-a", lambda a: sc.gammaincc(a, 1.5), r"scipy\.special\.gammaincc\(a, x\).* in a "),
    ("betainc-a", lambda a: sc.betainc(a, 2.0, 0.3), r"scipy\.special\.betainc.* in a "),
    ("betainc-b", lambda b: sc.betainc(2.0, b, 0.3), r"scipy\.special\.betainc.* in b "),
    ("jv-order", lambda v: sc.jv(v, 1.5), r"scipy\.special\.jv\(v, x\).* order v"),
    ("jn-order", lambda v: sc.jn(v, 1.5), r"scipy\.special\.jv\(v, x\).* order v"),
    ("yv-order", lambda v: sc.yv(v, 1.5), r"scipy\.special\.yv.* order v"),
    ("iv-order", lambda v: sc.iv(v, 1.5), r"scipy\.special\.iv.* order v"),
    ("ive-order", lambda v: sc.ive(v, 1.5), r"scipy\.special\.ive.* order v"),
    ("polygamma-order", lambda n: sc.polygamma(n, 1.5), r"polygamma.* order n"),
]


@pytest.mark.parametrize("name, f, match", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_derivative_in_a_parameter_is_refused_by_name(name, f, match):
    with pytest.raises(gk.NoGradientRuleError, match=match):
        gk.grad(f)(2.0)
    with pytest.raises(gk.NoGradientRuleError, match=match):
        gk.jvp(f, (np.array(2.0),), (np.array(1.0),))


def test_yn_order_is_refused():
    # yn's order is an integer, so only its tracer in a wider computation can reach the rule
    with pytest.raises(gk.NoGradientRuleError, match=r"scipy\.special\.yn.* order n"):
        gk.jvp(lambda n: sc.yn(n, 1.5), (np.array(2.0),), (np.array(1.0),))


def test_scipy_functions_without_rule_are_named_by_module():
    with pytest.raises(gk.NoGradientRuleError, match=r"scipy\.special\.k0\b"):
        gk.grad(lambda x: np.sum(sc.k0(x)))(POS)
    with pytest.raises(gk.NoGradientRuleError, match=r"np\.spacing|np\.nextafter"):
        gk.grad(lambda x: np.sum(np.nextafter(x, 2.0)))(POS)


def test_linspace_to_integers_is_refused():
    with pytest.raises(gk.TracerConversionError, match="linspace"):
        gk.grad(lambda a: np.sum(np.linspace(a, 5.0, 4, dtype=int)))(1.0)


def test_writeable_window_view_is_refused():
    with pytest.raises(gk.NoGradientRuleError, match="writeable"):
        gk.grad(lambda v: np.sum(np.lib.stride_tricks.sliding_window_view(v, 2,
                                                                          writeable=True)))(V)


def test_gradient_of_gradient_matches_its_stencil():
    # np.gradient is linear in f: its reverse-mode gradient is the adjoint stencil
    f = R.standard_normal(6)
    jac = gk.jacobian(lambda v: np.gradient(v, 0.5))(f)
    expected = np.stack([np.gradient(e, 0.5) for e in np.eye(6)], axis=1)
    np.testing.assert_allclose(jac, expected, rtol=1e-14)


def test_average_weights_get_gradients():
    x, w = A, np.abs(A2 := R.standard_normal((3, 4))) + 0.5
    gw = gk.grad(lambda w: np.average(x, weights=w), argnums=0)(w)
    expected = (x - np.average(x, weights=w)) / np.sum(w)
    np.testing.assert_allclose(gw, expected, rtol=1e-12)
