"""vmap's pending factors (``batching.py``): a batched value times an unbatched factor keeps the
factor pending until a rule reads the value. The law is vmap's own: every result equals the
loop over the examples (to rounding), writes behave as NumPy's, dtypes are NumPy's, and a
chain that would overflow or underflow when combined is computed one product at a time.
"""
import numpy as np
import pytest

import gradkit as gk
from gradkit.autodiff import batching

R = np.random.default_rng(41)


@pytest.fixture(autouse=True)
def pending_at_every_size(monkeypatch):
    """Small batches skip the mechanism (a pass costs less than its bookkeeping); these
    tests use small ones, so the threshold is lifted for them."""
    monkeypatch.setattr(batching, "PENDING_MIN_SIZE", 0)
XS = R.standard_normal((4, 6))
A = R.uniform(0.5, 2.0, 6)
C = R.uniform(0.5, 2.0, 6)


def loop(f, *args):
    return np.stack([f(*(a[b] for a in args)) for b in range(len(args[0]))])


CHAINS = {
    "product-chain": lambda x: ((x * A) * C) / 3.0 * -1.5,
    "factor-first": lambda x: A * (C * (2.0 * x)),
    "negate-and-divide": lambda x: -(x / A) * C,
    "two-batched": lambda x: (x * A) * (x * C),
    "same-array-sum": lambda x: x * A + x * C - (x * C) * 2.0,
    "sum-of-pending": lambda x: np.sum(x * A * C) + np.mean(x * A),
    "sum-with-axis": lambda x: np.sum(np.reshape(x * A, (2, 3)) * 2.0, axis=0),
    "then-another-rule": lambda x: np.tanh(x * A) @ np.ones(6),
    "broadcast-factor": lambda x: np.reshape(x, (2, 3)) * C[:3] * np.array([[2.0], [3.0]]),
    "python-scalars": lambda x: x * 2 * 0.5 / 4 * 3.0,
}


@pytest.mark.parametrize("name", CHAINS)
def test_a_chain_of_factors_equals_the_loop(name):
    f = CHAINS[name]
    got = gk.vmap(f)(XS)
    want = loop(f, XS)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_a_chain_stays_pending_until_it_is_read():
    """The mechanism itself: three products make one pass over the batch (on reading)."""
    seen = {}

    def f(x):
        y = (x * A) * C / 2.0
        seen["pending"] = type(y) is batching.BatchTracer and y._factor is not None
        seen["shared"] = y._core is x._core
        return y

    got = gk.vmap(f)(XS)
    assert seen == {"pending": True, "shared": True}
    np.testing.assert_allclose(got, np.stack([(x * A) * C / 2.0 for x in XS]), rtol=1e-15)


@pytest.mark.parametrize("x, factors", [
    (1e-300, (1e200, 1e200, 1e-250)),   # combined 1e400 overflows; one at a time it does not
    (1e300, (1e-200, 1e-200, 1e250)),   # combined 1e-400 underflows
    (1e300, (1e-300, 1e-20, 1e10)),     # combined 1e-310 is subnormal: digits lost
], ids=["overflow", "underflow", "subnormal"])
def test_a_combined_factor_out_of_range_is_applied_one_product_at_a_time(x, factors):
    xs = np.full((3, 2), x)

    def f(v):
        for a in factors:
            v = v * np.full(2, a)
        return v

    want = loop(f, xs)
    assert np.all(np.isfinite(want)) and np.all(want != 0)
    np.testing.assert_allclose(gk.vmap(f)(xs), want, rtol=1e-13)


@pytest.mark.parametrize("x, a", [(1e200, 1e-150), (1e-200, 1e150)], ids=["overflow", "underflow"])
def test_a_product_of_two_pending_values_out_of_range_is_computed_as_numpy_does(x, a):
    """(x a)(x a): the arrays' product x x is out of range, the factors' a a is not."""
    xs = np.full((3, 2), x)
    f = lambda v: (v * np.full(2, a)) * (v * np.full(2, a))  # noqa: E731
    want = loop(f, xs)
    assert np.all(np.isfinite(want)) and np.all(want != 0)
    np.testing.assert_allclose(gk.vmap(f)(xs), want, rtol=1e-13)


def test_zeros_and_infinities_in_a_factor_give_numpys_values():
    xs = np.array([[1.0, np.inf, 0.0, -2.0], [np.nan, 3.0, -np.inf, 1.0]])
    a = np.array([0.0, 0.0, np.inf, np.inf])
    f = lambda v: (v * a) * np.array([2.0, 1.0, 0.0, -1.0])  # noqa: E731
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(gk.vmap(f)(xs), loop(f, xs))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_are_numpys(dtype):
    xs = XS.astype(dtype)
    cases = [lambda x: x * A * 2.0, lambda x: x * A.astype(np.float32) * 0.5,
             lambda x: x * np.float64(2.0), lambda x: (x * 3) / 2]
    for f in cases:
        got, want = gk.vmap(f)(xs), loop(f, xs)
        assert got.dtype == want.dtype, f
        np.testing.assert_allclose(got, want, rtol=1e-6 if dtype is np.float32 else 1e-15)


# ----------------------------------------------------------------------------- writes
def test_a_write_into_the_array_a_pending_value_reads_does_not_change_that_value():
    def f(x):
        y = x * A          # pending on x's array
        z = (x * C)[1:]    # read, then a view of its own array
        x[0] = 100.0       # NumPy: y and z keep the values they had
        v = x[2:]
        v *= 2.0           # a write through a view of x
        return y, z, x

    got, want = gk.vmap(f)(XS.copy()), [loop(lambda x: f(x.copy())[i], XS) for i in range(3)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-15)


def test_a_write_into_a_factor_array_after_the_product_does_not_change_it():
    def f(x):
        a = np.ones(6) * 3.0   # a plain array, written after it scaled x
        y = x * a
        a[:] = -1.0
        return y * 2.0

    np.testing.assert_allclose(gk.vmap(f)(XS), loop(f, XS), rtol=1e-15)


def test_a_write_into_a_pending_value_itself():
    def f(x):
        y = x * A
        y[0] = 7.0             # y's own array is written: its factor applied first
        y += 1.0
        return y, x

    got = gk.vmap(f)(XS.copy())
    want = [loop(lambda x: f(x.copy())[i], XS) for i in range(2)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-15)


def test_an_in_place_application_does_not_reach_another_value():
    """The factor is applied in place only where nothing else holds the array."""
    def f(x):
        k = x * x              # a fresh array
        y = k * A
        z = y * C              # y and z both pending on k's array
        first = z + 0.0        # applies z's factor (k's array also held by y and k)
        return first, y, k

    got = gk.vmap(f)(XS)
    want = [loop(lambda x: f(x)[i], XS) for i in range(3)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-15)


# ----------------------------------------------------------------------------- derivatives
def test_hessian_and_jacobian_through_pending_factors_equal_the_column_loop():
    X = R.standard_normal((30, 5))
    y = np.sign(R.standard_normal(30))
    w = R.standard_normal(5) * 0.3

    def loss(w):
        return np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.05 * np.sum(w * w)

    g = gk.grad(loss)
    cols = [gk.jvp(g, (w,), (e,))[1] for e in np.eye(5)]
    np.testing.assert_allclose(gk.hessian(loss)(w), np.stack(cols, axis=1), rtol=1e-12,
                               atol=1e-15)
    f = lambda w: np.tanh(X @ w) * y  # noqa: E731
    J = np.stack([gk.jvp(f, (w,), (e,))[1] for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(gk.jacfwd(f)(w), J, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gk.jacrev(f)(w), J, rtol=1e-12, atol=1e-15)


def test_the_default_threshold_on_a_batch_large_enough():
    """Without the fixture's threshold: a batch of 2^16 entries or more is pending, a smaller
    one is computed at once; the values are the loop's either way."""
    batching.PENDING_MIN_SIZE = 1 << 16  # (the fixture restores its own value afterwards)
    for rows, pending in [(4, False), (64, True)]:
        xs = R.standard_normal((rows, 1024))
        a = R.uniform(0.5, 2.0, 1024)
        seen = []

        def f(x):
            y = x * a * 3.0
            seen.append(y._factor is not None)
            return y

        np.testing.assert_allclose(gk.vmap(f)(xs), xs * a * 3.0, rtol=1e-15)
        assert seen == [pending]


def test_a_factor_is_applied_in_place_only_where_nothing_else_holds_the_array():
    seen = {}

    def f(x):
        y = (x * x) * A            # the product's array is held by y alone
        z = x * A                  # pending on x's array, which x holds too
        address = lambda a: a.__array_interface__["data"][0]  # noqa: E731
        before_y, before_z = address(y._core), address(z._core)
        seen["y in place"] = address(y._value) == before_y
        seen["z in place"] = address(z._value) == before_z
        return y, z

    y, z = gk.vmap(f)(XS)
    assert seen == {"y in place": True, "z in place": False}
    np.testing.assert_allclose(y, XS * XS * A, rtol=1e-15)
    np.testing.assert_allclose(z, XS * A, rtol=1e-15)


def test_compiled_hessian_and_jacobian_through_pending_factors_equal_the_eager_run():
    """gk.jit records the same NumPy calls as the eager run (pending factors included), so its
    replays give the same bits."""
    X = R.standard_normal((30, 5))
    y = np.sign(R.standard_normal(30))
    w = R.standard_normal(5) * 0.3

    def loss(w):
        return np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.05 * np.sum(w * w)

    for fun in (gk.hessian(loss), gk.jacfwd(lambda w: np.tanh(X @ w) * y / 3.0),
                gk.jacrev(lambda w: np.tanh(X @ w) * y / 3.0)):
        eager = fun(w.copy())
        jitted = gk.jit(fun)
        for _ in range(3):
            got = jitted(w.copy())
            assert got.dtype == eager.dtype and np.array_equal(got, eager)
        assert jitted.source is not None  # compiled, not run eagerly
