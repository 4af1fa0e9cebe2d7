"""gk.jit: compiled steps against the eager run (values and gradients equal, to the bit), and
each guard against the wrong answer a replay would give without it (issue 19)."""
from __future__ import annotations

import gc
import tracemalloc
import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import JitWarning
from gradkit import optim

from .mutation_cases import CASES as MUTATION_CASES
from .rule_cases import CASES as RULE_CASES


def same(a, b):
    """Equal pytrees, leaf by leaf: the same type, dtype, shape and bytes (NaN == NaN)."""
    la, ta = gk.tree.tree_flatten(a)
    lb, tb = gk.tree.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        assert type(x) is type(y), (type(x), type(y))
        if isinstance(x, (np.ndarray, np.generic)):
            assert x.dtype == y.dtype and np.shape(x) == np.shape(y)
            assert np.array_equal(x, y, equal_nan=True), (x, y)
        else:
            assert x == y or (x != x and y != y)
    return True


def copies(args):
    return gk.tree.tree_map(lambda a: a.copy() if isinstance(a, np.ndarray) else a, args)


def replayed(fun, args, calls=3):
    """``fun(*args)`` eagerly, then through ``gk.jit`` ``calls`` times (the first traces, the
    rest replay): every result must equal the eager one; returns the Jitted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = fun(*copies(args))
        jitted = gk.jit(fun)
        for _ in range(calls):
            assert same(jitted(*copies(args)), expected)
    return jitted


# ------------------------------------------------------------------ every rule family, compiled
def _vjp_of(fun):
    def pulled(*args):
        out, pullback = gk.vjp(fun, *args)
        return out, pullback(gk.tree.tree_map(np.ones_like, out))
    return pulled


@pytest.mark.parametrize("name, fun, args", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_compiled_equals_eager(name, fun, args):
    """Each rule case: value and VJP, and the forward-mode JVP, compiled and replayed equal
    the eager run bit for bit (or run eagerly with a JitWarning that says why)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitWarning)
        jitted = replayed(_vjp_of(fun), args)
        ones = tuple(gk.tree.tree_map(np.ones_like, a) for a in args)
        replayed(lambda *a: gk.jvp(fun, a, ones), args)
    assert jitted.source is not None or jitted.eager


def test_most_rules_compile():
    """A rule case runs eagerly only for a reason a replay could not honour; nearly all of
    them compile (this counts them, so a regression that poisons many rules shows)."""
    eager = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fun, args in RULE_CASES:
            j = gk.jit(_vjp_of(fun))
            j(*copies(args))
            if j.eager:
                eager.append((name, j.eager[0]))
    assert len(eager) <= len(RULE_CASES) // 10, eager


@pytest.mark.parametrize("case", MUTATION_CASES, ids=[c.name for c in MUTATION_CASES])
def test_mutation_case_compiled(case):
    """NumPy code as written (writes, views, buffers), plain and differentiated, compiled."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitWarning)
        replayed(case.fun, case.args)
        replayed(gk.value_and_grad(lambda *a: np.sum(case.fun(*a)), argnums=tuple(
            range(len(case.args)))), case.args)


def test_the_caller_arrays_are_written_as_numpy_writes_them():
    """A function that writes into its argument does so on every replay, as f does."""
    def f(x):
        x *= 2.0
        x[0] = -1.0
        return x.sum()
    j = gk.jit(f)
    for _ in range(3):
        a, b = np.arange(4.0), np.arange(4.0)
        assert j(a) == f(b) and np.array_equal(a, b)


# ------------------------------------------------------------------ transformations, compiled
def test_hvp_jacobian_hessian_vmap_compiled():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 4))
    x, v = rng.standard_normal(4), rng.standard_normal(4)

    def f(x):
        return np.sum(np.log1p(np.exp(A @ x))) + 0.5 * np.sum(x * x)
    replayed(gk.hvp(f), (x, v))
    replayed(gk.hvp(f, mode="fwd-over-rev"), (x, v))
    replayed(gk.jacobian(lambda x: np.tanh(A @ x)), (x,))
    replayed(gk.hessian(f), (x,))
    X = rng.standard_normal((5, 4))
    replayed(gk.vmap(gk.grad(lambda w, xi: np.sum(np.tanh(xi @ w))), in_axes=(None, 0)),
             (x, X))


def test_training_step_compiled_is_the_eager_step():
    """The nn step (fused layers and cross-entropy) and an optax-style update, replayed."""
    rng = np.random.default_rng(0)
    model = gk.nn.Sequential([gk.nn.Linear(16), gk.nn.ReLU(), gk.nn.Linear(3)])
    params, state = model.init(rng, (5,))
    X, y = rng.standard_normal((32, 5)), rng.integers(0, 3, 32)
    opt = optim.adam(1e-2)

    def step(params, opt_state, X, y):
        def loss(p):
            logits, _ = model.apply(p, state, X)
            return gk.nn.losses.cross_entropy(logits, y)
        value, g = gk.value_and_grad(loss)(params)
        updates, opt_state = opt.update(g, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, value

    eager = (params, opt.init(params))
    compiled = (params, opt.init(params))
    jstep = gk.jit(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitWarning)
        for _ in range(5):
            p, s, loss = step(*eager, X, y)
            eager = (p, s)
            q, t, jloss = jstep(*compiled, X, y)
            compiled = (q, t)
            assert same((p, s, loss), (q, t, jloss))
    assert len(jstep._programs) == 1  # the optimizer's count is an array: one signature


# ------------------------------------------------------------------ the guards
def test_branch_on_a_value_is_a_guard():
    """Without the guard the replay would take the trace's branch for every input."""
    def f(x):
        if np.sum(x) > 0:
            return np.sum(x ** 2)
        return np.sum(x ** 3)
    j = gk.jit(gk.grad(f))
    x = np.array([0.5, -1.0, 2.0])
    assert same(j(x), gk.grad(f)(x))
    assert same(j(-x), gk.grad(f)(-x))  # the other branch: checked, run eagerly
    assert same(j(x), gk.grad(f)(x))


def test_a_branch_that_keeps_changing_runs_eagerly_with_a_warning():
    def f(x):
        return x * 2.0 if np.sum(x) > 0 else x * 3.0
    j = gk.jit(f)
    x = np.ones(3)
    j(x)
    with pytest.warns(JitWarning, match="branch"):
        for s in [-1, -1, -1, -1]:
            assert same(j(s * x), f(s * x))
    assert j.eager


def test_random_numbers_inside_run_eagerly():
    """A replay would repeat the trace's noise."""
    def f(x):
        return np.sum(x * np.random.normal(size=x.shape))
    j = gk.jit(gk.grad(f))
    with pytest.warns(JitWarning, match="random"):
        a = j(np.ones(3))
    b = j(np.ones(3))
    assert not np.array_equal(a, b)

    rng = np.random.default_rng(0)

    def g(x):
        return x + rng.standard_normal(x.shape)
    jg = gk.jit(g)
    with pytest.warns(JitWarning, match="random"):
        a = jg(np.zeros(2))
    assert not np.array_equal(a, jg(np.zeros(2)))


def test_closure_changed_in_place_retraces():
    """``c.sum()`` is computed with plain NumPy at trace time: without the byte check the
    replay would use the old sum."""
    c = np.array([1.0, 2.0, 3.0])

    def f(x):
        return np.sum(x * c.sum() * c)
    j = gk.jit(gk.grad(f))
    x = np.ones(3)
    j(x)
    c[0] = 10.0
    with pytest.warns(JitWarning, match="changed in place"):
        assert same(j(x), gk.grad(f)(x))


def test_large_closure_read_live_sees_changes_in_place():
    """A large array used only by recorded calls is read by the program itself."""
    A = np.random.default_rng(0).standard_normal((300, 300))

    def f(x):
        return np.sum(np.tanh(A @ x))
    j = gk.jit(gk.grad(f))
    x = np.ones(300)
    j(x)
    A *= 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitWarning)
        assert same(j(x), gk.grad(f)(x))


def test_large_closure_with_a_derived_constant_is_compared():
    A = np.random.default_rng(0).standard_normal((300, 300))

    def f(x):
        scale = A.std(axis=0)  # plain NumPy on the closure: a constant of the program
        return np.sum((A @ x) * scale)
    j = gk.jit(gk.grad(f))
    x = np.ones(300)
    j(x)
    A[0, 0] = 100.0
    with pytest.warns(JitWarning, match="changed in place"):
        assert same(j(x), gk.grad(f)(x))


def test_closure_rebound_and_number_changed_retrace():
    k = 2.0
    c = np.ones(3)

    def f(x):
        return np.sum(c * x ** k)
    j = gk.jit(gk.grad(f))
    x = np.array([1.0, 2.0, 3.0])
    j(x)
    k = 3.0
    with pytest.warns(JitWarning, match="changed from 2.0 to 3.0"):
        assert same(j(x), gk.grad(f)(x))
    c = np.full(3, 2.0)
    with pytest.warns(JitWarning, match="another array"):
        assert same(j(x), gk.grad(f)(x))


def test_write_into_an_outside_array_runs_eagerly():
    buf = np.zeros(3)

    def f(x):
        np.multiply(x, 2.0, out=buf)
        return buf.sum() + x.sum()
    j = gk.jit(f)
    with pytest.warns(JitWarning, match="not made from the arguments"):
        j(np.ones(3))
    buf[:] = 0
    assert j(np.full(3, 2.0)) == 18.0 and buf.sum() == 12.0


def test_conversions_to_python_values():
    """``float()`` becomes a guard (a replay with another value runs eagerly); np.asarray
    of a traced value and a Python number returned by NumPy run eagerly."""
    def f(x):
        return x * float(x[0])
    j = gk.jit(f)
    assert same(j(np.array([2.0, 3.0])), np.array([4.0, 6.0]))
    assert same(j(np.array([3.0, 3.0])), np.array([9.0, 9.0]))

    def g(x):
        return np.asarray(x) + np.array_equal(x, x)
    jg = gk.jit(g)
    with pytest.warns(JitWarning, match="runs eagerly"):
        jg(np.ones(2))
    assert same(jg(np.zeros(2)), np.ones(2))


def test_guard_with_writes_into_arguments_runs_eagerly():
    """A replay that stopped at a guard after writing into x could not be undone."""
    def f(x):
        x += 1.0
        return x * 2 if np.sum(x) > 0 else x * 3
    j = gk.jit(f)
    with pytest.warns(JitWarning, match="writes into its arguments"):
        j(np.zeros(2))
    a = -np.ones(2) * 5
    assert same(j(a), np.array([-12.0, -12.0])) and same(a, np.array([-4.0, -4.0]))


# ------------------------------------------------------------------ signatures and results
def test_signature_shapes_dtypes_structure_and_statics():
    f = gk.jit(lambda x, n: x * n)
    assert same(f(np.ones(2), 3), np.full(2, 3.0))
    assert same(f(np.ones(2), 4), np.full(2, 4.0))  # a Python number is traced (as in JAX)
    assert same(f(np.ones(3, np.float32), 2), np.full(3, 2.0, np.float32))
    assert same(f(np.ones(2), 2.5), np.full(2, 2.5))  # a float: another signature
    assert len(f._programs) == 3
    g = gk.jit(lambda d: {"b": d["a"] * 2, "a": d["b"]})
    out = g({"a": np.ones(2), "b": np.zeros(2)})
    assert list(out) == ["b", "a"]
    h = gk.jit(lambda x, mode: x * 2 if mode == "double" else x, static_argnums=1)
    assert same(h(np.ones(2), "double"), np.full(2, 2.0))
    assert same(h(np.ones(2), "same"), np.ones(2))
    k = gk.jit(lambda x, *, scale: x * scale)
    assert same(k(np.ones(2), scale=np.float64(2.0)), np.full(2, 2.0))


def test_results_are_fresh_arrays():
    """Writing into a result does not change the next one (a constant is copied)."""
    j = gk.jit(lambda x: (x * 2, np.zeros(2)))
    a, z = j(np.ones(2))
    a[:] = 7
    z[:] = 7
    b, z2 = j(np.ones(2))
    assert same(b, np.full(2, 2.0)) and same(z2, np.zeros(2))
    gradients = gk.jit(gk.grad(lambda x, y: np.sum(x + y), argnums=(0, 1)))
    for _ in range(2):
        gx, gy = gradients(np.ones(2), np.ones(2))
        gx[:] = 5
        assert same(gy, np.ones(2))


def test_inside_other_transformations_it_runs_as_the_function():
    f = gk.jit(lambda x: np.sum(np.sin(x)))
    x = np.array([0.1, 0.2])
    assert same(gk.grad(f)(x), np.cos(x))
    assert same(gk.jit(lambda x: f(x) * 2)(x), 2 * np.sum(np.sin(x)))


def test_source_is_readable_python():
    j = gk.jit(gk.grad(lambda x: np.sum(np.exp(x) * x)))
    j(np.ones(3))
    assert j.source.startswith("def ") and "exp(x0)" in j.source
    compile(j.source, "<test>", "exec")


_REDUCED = [np.arange(24.0).reshape(2, 3, 4) / 7, (np.arange(24.0).reshape(2, 3, 4) / 7).astype(
    np.float32), np.arange(24).reshape(2, 3, 4), np.arange(24).reshape(2, 3, 4) % 3 == 0,
    (np.arange(24.0) / 7 + 1j).reshape(2, 3, 4), np.arange(24.0).reshape(2, 3, 4)[:, ::2].T]


@pytest.mark.parametrize("x", _REDUCED, ids=["f64", "f32", "int", "bool", "c128", "view"])
@pytest.mark.parametrize("how", [{}, {"axis": 0}, {"axis": -1, "keepdims": True},
                                 {"axis": (0, 2)}, {"keepdims": True}])
def test_sums_and_means_replay_as_add_reduce(x, how):
    """np.sum / np.mean and the methods replay as np.add.reduce (their own C routine): the
    same bits and types as NumPy's wrappers, for every dtype, axis and keepdims."""
    for kind, fun in (("sum", lambda a: np.sum(a * 1, **how)),
                      ("mean", lambda a: np.mean(a * 1, **how)),
                      ("sum", lambda a: (a * 1).sum(**how)),
                      ("mean", lambda a: (a * 1).mean(**how))):
        jitted = replayed(fun, (x,))
        if kind == "sum" or x.dtype in (np.float64, np.float32):
            assert "add.reduce(" in jitted.source, jitted.source
    # other arguments keep NumPy's own call
    jitted = replayed(lambda a: np.sum(a * 1, dtype=np.float32), (x,))
    assert "add.reduce(" not in jitted.source


def test_what_the_backward_pass_makes_from_its_seed_alone_is_a_constant():
    """The seed (ones) and a mean's 1/n or a sum's broadcast of it are computed once, at
    trace time: the program holds them; results stay fresh arrays; with a large array the
    function closes over (compared by identity, read live) the seed is recorded instead."""
    x = np.arange(1.0, 33.0)
    j = replayed(gk.grad(lambda x: np.mean(np.tanh(x)) + 0.5 * np.sum(x ** 2)), (x,))
    assert "ones_like" not in j.source and "empty_like" not in j.source, j.source
    g = gk.jit(gk.grad(lambda x: 2.0 * np.sum(x)))
    first = g(x)
    first += 1.0  # the caller owns each result
    assert np.array_equal(g(x), np.full(32, 2.0))
    big = np.random.default_rng(0).standard_normal((200, 200))
    j = replayed(gk.grad(lambda x: np.sum(np.tanh(big @ x))), (np.ones(200),))
    # made on every call instead (no constant array: `big` is not compared byte for byte),
    # and still without the sum it does not need
    assert "ones((), dtype=" in j.source and "reduce" not in j.source, j.source
    with warnings.catch_warnings():
        warnings.simplefilter("error", JitWarning)
        big *= 0.5  # read live: seen, no retrace
        assert same(j(np.ones(200)), gk.grad(lambda x: np.sum(np.tanh(big @ x)))(np.ones(200)))


def test_long_training_loop_keeps_memory_flat():
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((8, 4)), "b": np.zeros(4)}
    X, y = rng.standard_normal((16, 8)), rng.standard_normal((16, 4))
    opt = optim.sgd(1e-3)
    opt_state = opt.init(params)

    @gk.jit
    def step(params, opt_state):
        value, g = gk.value_and_grad(lambda p: np.mean((np.tanh(X @ p["W"] + p["b"]) - y)
                                                       ** 2))(params)
        updates, opt_state = opt.update(g, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, value

    for _ in range(200):
        params, opt_state, _ = step(params, opt_state)
    gc.collect()
    tracemalloc.start()
    for _ in range(1000):
        params, opt_state, _ = step(params, opt_state)
    first = tracemalloc.get_traced_memory()[0]
    for _ in range(9000):
        params, opt_state, _ = step(params, opt_state)
    gc.collect()
    last = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert last - first < 20_000, (first, last)
    assert len(step._programs) == 1


def test_the_last_signature_check_tells_signatures_apart():
    """The generated check of the latest program lets nothing else through: a dict with
    another key, order or dtype, a list for a tuple, an int for a float, a kwarg."""
    f = gk.jit(lambda p, s: {k: v * s for k, v in p.items()})
    base = {"a": np.ones(2), "b": np.zeros(2)}
    assert same(f(base, 2.0), {"a": np.full(2, 2.0), "b": np.zeros(2)})
    calls = [({"b": np.zeros(2), "a": np.ones(2)}, 2.0),
             ({"a": np.ones(2, np.float32), "b": np.zeros(2)}, 2.0),
             ({"a": np.ones(2), "b": np.zeros(2), "c": np.ones(1)}, 2.0),
             ({"a": np.ones(2), "b": np.zeros(2)}, 3),
             ({"a": np.ones(4)[::2], "b": np.zeros(2)}, 2.0),  # other strides
             (base, 5.0)]
    for p, s in calls:
        expected = {k: v * s for k, v in p.items()}
        assert same(f(p, s), expected)
        assert same(f(p, s), expected)
    assert len(f._programs) == 6


def test_the_optax_style_loop_compiles_its_step_by_default():
    """``optim.run`` replays the compiled gradient: the same iterates as the eager run."""
    A = np.random.default_rng(1).standard_normal((20, 5))

    def f(w):
        return np.sum(np.log1p(np.exp(A @ w))) + 0.1 * np.sum(w ** 2)
    compiled = optim.run(optim.adam(0.05), f, np.zeros(5), 300)
    eager = optim.run(optim.adam(0.05), f, np.zeros(5), 300, jit=False)
    assert same(compiled.x, eager.x) and compiled.history["f"] == eager.history["f"]

    calls = []

    def noisy(w):  # appends to a list it reaches: not replayable, so run eagerly
        calls.append(1)
        return np.sum(w ** 2)
    with pytest.warns(JitWarning, match="closes over"):
        optim.run(optim.sgd(0.1), noisy, np.ones(2), 5)
    assert len(calls) == 6


def test_a_dying_large_operand_lends_its_buffer_but_not_under_a_live_view():
    x = np.linspace(0.0, 1.0, 20_000)

    def f(x):
        a = x * 2.0
        b = a + 1.0  # a dies here: b may take its buffer
        c = b * 3.0
        view = c[::2]  # c's memory is still read below through the view
        d = c - 1.0
        return d * 1.0, view * 1.0
    j = replayed(f, (x,))
    assert "out=" in j.source
    assert j.source.count("out=") == 3  # a, b and d's operand (never c, whose view lives)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64,
                                   np.complex128])
def test_python_numbers_become_arrays_of_the_operands_dtype_with_numpys_bits(dtype):
    """`x * 0.1`, `3 - x`, `x / 7` and `y /= 3.0`: the program holds each number as a 0-d
    array of the array's dtype (Recording.typed_number); the values are NumPy's, bit for bit,
    and the dtype stays (a float32 array times a Python float is float32)."""
    def f(x):
        y = x * 0.1 + (3 - x) / 7
        y /= 3.0
        return y - 1e-3 * x

    x = (np.linspace(-2.0, 2.0, 9) * (1 + 1j if np.dtype(dtype).kind == "c" else 1)) \
        .astype(dtype)
    j = gk.jit(f)
    for _ in range(2):
        got, want = j(x), f(x)
        assert got.dtype == want.dtype == dtype and same(got, want)
    assert "num1" in j.source and "0.1" not in j.source
    assert j(x.astype(np.int64) if dtype is np.float64 else x).dtype == \
        f(x.astype(np.int64) if dtype is np.float64 else x).dtype  # an int array: as written


def test_namedtuple_results_keep_their_class_and_its_own_new():
    """A plain namedtuple in the result is built by tuple.__new__ (no Python constructor);
    one with a __new__ of its own is built by it."""
    from collections import namedtuple
    Plain = namedtuple("Plain", "a b")

    class Own(namedtuple("OwnBase", "a b")):
        calls = 0

        def __new__(cls, a, b):
            cls.calls += 1
            return super().__new__(cls, a, b)

    def f(x):
        return Plain(x * 2.0, x + 1.0), Own(x - 1.0, np.sin(x))

    j = gk.jit(f)
    x = np.arange(3.0)
    for _ in range(3):
        (p, o), (wp, wo) = j(x), f(x)
        assert type(p) is Plain and type(o) is Own
        assert all(same(a, b) for a, b in zip(p + o, wp + wo))
    assert "tuple_new(Plain" in j.source and "tuple_new(Own" not in j.source
    before = Own.calls
    j(x)  # a replay
    assert Own.calls == before + 1


class _Logged:
    """An array type of its own (as a CuPy array is): NumPy functions dispatch to it."""

    calls = []

    def __init__(self, a):
        self.a = a

    def __array_function__(self, func, types, args, kwargs):
        _Logged.calls.append(func.__name__)
        return func(*(a.a if isinstance(a, _Logged) else a for a in args), **kwargs)


def test_numpy_functions_of_plain_arrays_replay_past_the_dispatch():
    """A call that saw only NumPy values replays as the function's implementation (no
    __array_function__ dispatch, the same values); one that saw an array type of its own
    keeps the dispatch, so that type still sees the call."""
    x = np.linspace(-1.0, 1.0, 5)
    j = gk.jit(lambda x: np.vdot(x, x) + np.sum(np.concatenate([x, x])))
    for _ in range(2):
        assert same(j(x), np.vdot(x, x) + np.sum(np.concatenate([x, x])))
    namespace = list(j._programs.values())[0].fn.__globals__
    assert namespace["vdot"] is np.vdot._implementation
    assert namespace["concatenate"] is np.concatenate._implementation
    assert "vdot(x0, x0)" in j.source

    other = _Logged(np.arange(5.0))
    k = gk.jit(lambda x: np.vdot(x, other))
    _Logged.calls.clear()
    for _ in range(3):
        assert k(x) == np.vdot(x, np.arange(5.0))
    assert _Logged.calls == ["vdot"] * 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_python_numbers_of_two_input_ufuncs_are_typed_where_the_loop_allows(dtype):
    """`logaddexp(0.0, z)`, `maximum(z, 0.5)`, `power(z, 2)`, `arctan2(1, z)`: the number as a
    0-d array of z's dtype, NumPy's bits; `ldexp(z, 2)` has no loop for two floats and keeps
    its number."""
    def f(z):
        return (np.logaddexp(0.0, z) + np.ldexp(z, 2) + np.maximum(z, 0.5) + np.power(z, 2)
                + np.arctan2(1, z))

    z = np.linspace(-2.0, 2.0, 7).astype(dtype)
    j = gk.jit(f)
    for _ in range(2):
        got, want = j(z), f(z)
        assert got.dtype == want.dtype == dtype and same(got, want)
    assert "logaddexp(num" in j.source and "maximum(x0, num" in j.source, j.source
    assert "ldexp(x0, 2)" in j.source, j.source


def test_a_program_traced_again_reuses_its_compiled_code():
    """Two traces that write the same source (another fit of the same shapes) share one code
    object; their namespaces (the constants) stay their own."""
    def f(x, c):
        return np.tanh(x) * c
    x = np.linspace(-1.0, 1.0, 4)
    a, b = gk.jit(f), gk.jit(f)
    assert same(a(x, 2.0), f(x, 2.0)) and same(b(x, 3.0), f(x, 3.0))
    (pa,), (pb,) = a._programs.values(), b._programs.values()
    assert pa.fn.__code__ is pb.fn.__code__ and pa.fn is not pb.fn
    assert same(a(x, 5.0), f(x, 5.0)) and same(b(x, 7.0), f(x, 7.0))


def _adam_like(p, m, v, g, t):
    """An Adam step on one-element arrays (a model's intercept): scalar steps under gk.jit."""
    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * (g * g)
    u = (m / (1.0 - 0.9 ** t)) / (np.sqrt(v / (1.0 - 0.999 ** t)) + 1e-8)
    return p - 0.01 * u, m, v, -u / g


@pytest.mark.parametrize("shape", [(1,), (1, 1), ()], ids=["1", "1x1", "0-d"])
def test_one_element_float64_values_are_computed_as_scalars_with_numpys_bits(shape):
    jitted = gk.jit(_adam_like)
    values = [0.3, -0.0, 0.0, 1e-310, 1e300, np.inf, -np.inf, np.nan, -2.5]
    rng = np.random.default_rng(3)
    with np.errstate(all="ignore"):
        for g in values:
            args = [np.full(shape, x) for x in (rng.normal(), abs(rng.normal()) * 0.1,
                                                abs(rng.normal()) * 0.1, g)] + [np.int64(3)]
            want = _adam_like(*args)
            got = jitted(*args)
            for a, b in zip(got, want):
                assert type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
                assert a.tobytes() == b.tobytes() or (np.isnan(a).all() and np.isnan(b).all())
    if shape:  # (a 0-d array's arithmetic gives NumPy scalars already)
        assert " = array([" in jitted.source and "sqrt(s" in jitted.source, jitted.source
    args = [np.full(shape, 0.5) for _ in range(4)] + [np.int64(1)]
    for a, b in zip(jitted(*args), _adam_like(*args)):  # arrays of their own, as NumPy's
        assert type(a) is type(b)
        if type(a) is np.ndarray:
            assert a.flags.writeable and a.flags.owndata


def test_a_scalar_value_read_after_a_write_through_its_view_is_the_array():
    def f(a, b):
        c = a * b
        d = c[:]         # a view of c: c is made an array here
        d[...] = 7.0     # written through the view
        return c + 1.0, a / b

    jitted = gk.jit(f)
    for _ in range(2):
        out = jitted(np.array([2.0]), np.array([3.0]))
        np.testing.assert_array_equal(out[0], [8.0])
    with np.errstate(divide="raise"):  # NumPy's scalars keep errstate, as arrays do
        with pytest.raises(FloatingPointError):
            jitted(np.array([2.0]), np.array([0.0]))
    with np.errstate(divide="ignore"):
        assert jitted(np.array([2.0]), np.array([0.0]))[1][0] == np.inf


def test_one_element_values_of_other_dtypes_stay_arrays():
    jitted = gk.jit(lambda a, b: a * b + a)
    for dtype in (np.float32, np.complex128, np.int64):
        a, b = np.ones(1, dtype), np.full(1, 3, dtype)
        out = jitted(a, b)
        assert out.dtype == dtype and out.tobytes() == (a * b + a).tobytes()
        assert "s" not in "".join(line.split("=")[0] for line in jitted.source.splitlines()[1:])


def test_list_and_tuple_operands_and_signed_zero_numbers_replay_as_numpy():
    fs = [lambda a: [1.0] + a * 2.0, lambda a: (a + 1.0) * a.shape,
          lambda a: np.add(a * 2.0, [1.0]), lambda a: [[1.0]] - a,
          lambda a: (a * 0.0, a * -0.0, a + 0.0, a + -0.0)]
    for f in fs:
        jitted = gk.jit(f)
        for v in (1.5, -2.0, -0.0, 0.0):
            a = np.array([v])
            for got, want in zip(gk.tree.tree_leaves(jitted(a)), gk.tree.tree_leaves(f(a))):
                assert got.shape == want.shape and got.tobytes() == want.tobytes(), (f, v)


@pytest.mark.parametrize("shape", [(1,), (3,)])
def test_an_errstate_block_inside_the_function_is_replayed(shape):
    def f(a, b):
        with np.errstate(divide="ignore"):
            d = a / b     # the block's setting
        return d, a / b   # the caller's

    jitted = gk.jit(f)
    ones, zeros = np.ones(shape), np.zeros(shape)
    for _ in range(3):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            jitted(ones, zeros)
        assert [str(w.message) for w in seen] == ["divide by zero encountered in divide"] or \
            [str(w.message) for w in seen] == ["divide by zero encountered in scalar divide"]
        with np.errstate(divide="raise"):  # the block still ignores; the caller's raises
            with pytest.raises(FloatingPointError):
                jitted(ones, zeros)
    assert "with errstate(divide='ignore'):" in jitted.source, jitted.source


def test_a_call_that_records_no_step_inside_an_errstate_block_tags_no_other_step():
    def f(a, b):
        c = a / b  # recorded under the caller's settings
        with np.errstate(divide="ignore"):
            d = np.atleast_1d(c)  # hands c back: no step of its own
        return d

    jitted = gk.jit(f)
    jitted(np.ones(3), np.full(3, 2.0))
    assert "errstate" not in jitted.source, jitted.source
    for _ in range(2):
        with pytest.warns(RuntimeWarning, match="divide by zero"):
            jitted(np.ones(3), np.zeros(3))
