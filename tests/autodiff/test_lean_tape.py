"""The lean tape: an entry keeps only the values its rules read (``defvjp(..., needs=)``).

What is not kept is a :class:`~gradkit.autodiff.trace.Shell` (shape and dtype); a rule that
reads a value it did not declare raises instead of computing a wrong gradient; and a long
chain's peak memory stays at the hand-written NumPy forward + backward.
"""
import gc
import tracemalloc

import numpy as np
import pytest

import gradkit as gk
from gradkit.autodiff import trace, tracer
from gradkit.autodiff import trace as trace_module
from gradkit.autodiff.primitive import PRIMITIVES, defvjp, differentiable
from gradkit.autodiff.trace import LEAN_MIN_SIZE, ReverseTrace, Shell

# The rule table and the mutation cases, run again here with every array shelled (their
# arrays are smaller than LEAN_MIN_SIZE, so in their own modules the tape keeps them whole):
# every rule to order 2 in both modes, and every write through reverse mode, Hessians, HVPs
# and grad of grad, on the lean tape.
from .test_mutation import test_check_grads as test_mutation_check_grads_lean  # noqa: F401
from .test_mutation import test_grad_of_grad as test_mutation_grad_of_grad_lean  # noqa: F401
from .test_mutation import test_hessian as test_mutation_hessian_lean  # noqa: F401
from .test_mutation import test_hvp as test_mutation_hvp_lean  # noqa: F401
from .test_mutation import test_reverse_mode as test_mutation_reverse_mode_lean  # noqa: F401
from .test_mutation import (  # noqa: F401
    test_callers_arrays_are_never_modified as test_mutation_inputs_unmodified_lean)
from .test_rules import (  # noqa: F401
    test_rule_matches_finite_differences as test_rule_on_the_lean_tape)


@pytest.fixture(autouse=True)
def shell_every_array(monkeypatch, request):
    """Every test of this module records with LEAN_MIN_SIZE = 0 (the size tests excepted)."""
    if "whole" not in request.node.name:
        monkeypatch.setattr(trace, "LEAN_MIN_SIZE", 0)
        monkeypatch.setattr(tracer, "LEAN_MIN_SIZE", 0)

X = np.linspace(-1.0, 1.0, 6000)  # above LEAN_MIN_SIZE: smaller arrays are kept whole
C = np.linspace(0.5, 2.0, 6000)


def record(f, *arrays):
    """Record ``f`` on a fresh reverse trace with ``arrays`` traced; its tape's last entry."""
    trace = ReverseTrace()
    f(*(trace.new_input(a) for a in arrays))
    return trace.tape[-1]


def kept(value):
    return type(value) is np.ndarray


def test_x_times_a_constant_keeps_the_constant_only():
    prim, x, c, ans, px, pc = record(lambda x: x * C, X)
    assert prim.name == "multiply" and (px, pc) == (0, -1)
    assert type(x) is Shell and x.shape == X.shape and x.dtype == X.dtype
    assert c is C
    assert type(ans) is Shell


def test_a_sum_of_two_traced_values_keeps_nothing():
    _, x, y, ans, px, py = record(lambda x, y: x + y, X, C)
    assert (px, py) == (0, 1)
    assert all(type(v) is Shell for v in (x, y, ans))


def test_x_plus_a_constant_and_negation_keep_nothing():
    _, x, c, ans, _, _ = record(lambda x: x + C, X)
    assert all(type(v) is Shell for v in (x, c, ans))
    _, x, ans, _ = record(lambda x: -x, X)
    assert type(x) is Shell and type(ans) is Shell


def test_exp_keeps_its_output_and_log_its_input():
    _, x, ans, _ = record(np.exp, X)
    assert type(x) is Shell and kept(ans) and np.array_equal(ans, np.exp(X))
    _, x, ans, _ = record(np.log, C)
    assert kept(x) and type(ans) is Shell


def test_small_arrays_are_kept_whole():
    small = X[:LEAN_MIN_SIZE - 1]
    _, x, c, ans, _, _ = record(lambda x: x * 2.0, small)
    assert kept(x) and kept(ans)
    _, x, ans, _ = record(np.exp, small)
    assert kept(x) and kept(ans)


def test_a_small_trace_records_whole_until_a_large_value_arrives():
    """The trace leans from its first large value on (ReverseTrace.widen): an outer product
    of a small input, a broadcast against a large constant, a large buffer, a nested trace."""
    v = np.linspace(0.1, 1.0, 100)
    trace = ReverseTrace()
    x = trace.new_input(v)
    y = np.exp(np.sin(x) * 2.0)
    assert type(trace.tape) is list and all(kept(a) for a in trace.tape[-1][1:3])
    outer = y[:, None] * y[None, :]  # 10,000 entries: from here on the tape is lean
    assert type(trace.tape) is trace_module.LeanTape
    e = np.exp(outer)
    _, xs, ans, _ = trace.tape[-1]
    assert type(xs) is Shell and kept(ans)  # exp keeps its output only
    assert kept(trace.tape[1][2]), "entries recorded before stay as they were (sin's output)"
    np.sum(e)
    for make in (lambda t: t[:, None] * C, lambda t: np.zeros_like(t, shape=(LEAN_MIN_SIZE,)) + t[0],
                 lambda t: np.outer(t, t)):
        fresh = ReverseTrace()
        make(fresh.new_input(v))
        assert type(fresh.tape) is trace_module.LeanTape
    fresh = ReverseTrace()
    fresh.new_input(np.ones(LEAN_MIN_SIZE))
    assert type(fresh.tape) is trace_module.LeanTape

    def f(v):
        w = np.exp(np.sin(v) * 2.0)
        return np.sum(np.exp(w[:, None] * w[None, :] / 10.0))
    gk.check_grads(f, (v,), modes=("rev",), order=2)


def test_a_small_trace_stays_a_plain_list_whole():
    trace = ReverseTrace()
    x = trace.new_input(np.ones(16))
    np.sum(np.tanh(x * x + 1.0) @ np.ones(16))
    assert type(trace.tape) is list


def test_a_product_of_two_traced_values_keeps_both():
    _, x, y, ans, _, _ = record(lambda x, y: x * y, X, C)
    assert kept(x) and kept(y) and type(ans) is Shell


def test_reductions_and_reshapes_keep_shapes_only():
    prim, args, kwargs, ans, parents = record(lambda x: np.sum(x, axis=0), X.reshape(2, 3000))
    assert prim.name == "sum" and type(args[0]) is Shell and args[0].shape == (2, 3000)
    assert kwargs["axis"] == 0
    _, args, _, _, _ = record(lambda x: np.reshape(x, (3000, 2)), X)
    assert type(args[0]) is Shell and args[1] == (3000, 2)


def test_a_write_keeps_its_index_not_the_array():
    def write(x):
        out = np.zeros_like(x)
        out[2:5000] = x[2:5000] * 3.0
        return out
    prim, args, _, ans, _ = record(write, X)
    assert prim.name == "setitem" and args[1] == slice(2, 5000)
    assert type(args[0]) is Shell and type(args[2]) is Shell and type(ans) is Shell


# the lean rows for a constant on either side: the full table (every argument traced) is
# checked by test_rules.py
BINARY = [np.add, np.subtract, np.multiply, np.true_divide, np.power, np.logaddexp,
          np.logaddexp2, np.hypot, np.arctan2, np.maximum, np.minimum, np.remainder]


@pytest.mark.parametrize("ufunc", BINARY, ids=[u.__name__ for u in BINARY])
def test_a_constant_on_either_side_matches_finite_differences_to_order_two(ufunc):
    x = np.array([0.7, 1.3, 2.1])
    c = np.array([1.1, 0.6, 1.7])
    gk.check_grads(lambda x: ufunc(x, c), (x,), order=2, rtol=2e-5)
    gk.check_grads(lambda x: ufunc(c, x), (x,), order=2, rtol=2e-5)
    gk.check_grads(lambda x: ufunc(np.exp(x), x * 0.5), (x,), order=2, rtol=2e-5)


def test_nested_derivatives_of_a_chain_with_constants():
    """hessian, grad(grad) and hvp of f(x) = sum(exp(c x) + 1 / (x + 2)), whose Hessian is
    diag(c^2 exp(c x) + 2 / (x + 2)^3)."""
    x = np.array([0.3, -0.4, 0.9])
    c = np.array([0.5, 1.5, -1.0])

    def f(x):
        return np.sum(np.exp(c * x) + 1.0 / (x + 2.0))

    h = c * c * np.exp(c * x) + 2.0 / (x + 2.0) ** 3
    np.testing.assert_allclose(gk.hessian(f)(x), np.diag(h), rtol=1e-12)
    np.testing.assert_allclose(gk.grad(lambda x: gk.grad(f)(x)[1])(x), np.diag(h)[1],
                               rtol=1e-12)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(gk.hvp(f)(x, v), h * v, rtol=1e-12)


@pytest.fixture
def scratch_rules():
    """Primitives made by a test leave the rule table afterwards (test_rules.py requires a
    case for every registered one)."""
    before = dict(PRIMITIVES)
    yield
    PRIMITIVES.clear()
    PRIMITIVES.update(before)


def test_a_rule_that_reads_what_it_did_not_declare_raises(scratch_rules):
    @differentiable
    def cube(x):
        return x ** 3

    defvjp(cube.primitive, lambda g, ans, x: g * 3.0 * x * x, needs="ans")  # wrong: reads x
    with pytest.raises(RuntimeError, match="needs"):
        gk.grad(lambda x: np.sum(cube(x)))(X)
    defvjp(cube.primitive, lambda g, ans, x: g * 3.0 * x * x, needs="x")
    np.testing.assert_allclose(gk.grad(lambda x: np.sum(cube(x)))(X), 3.0 * X * X)


def test_needs_must_name_the_rules_own_parameters(scratch_rules):
    @differentiable
    def double(x):
        return 2.0 * x

    with pytest.raises(ValueError, match="'y' is not a positional parameter"):
        defvjp(double.primitive, lambda g, ans, x: 2.0 * g, needs="y")


def chain(np_x, steps):
    """The benchmark's elementwise chain: tanh and a scaling, alternately."""
    y = np_x
    for _ in range(steps // 2):
        y = np.tanh(y) * 1.5
    return y


def chain_by_hand(x, steps):
    """Forward keeping what backward needs (each tanh's output), then backward."""
    saved, y = [], x
    for _ in range(steps // 2):
        t = np.tanh(y)
        saved.append(t)
        y = t * 1.5
    g = np.ones_like(y)
    for t in reversed(saved):
        g = g * 1.5 * (1.0 - t * t)
    return g


def peak(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_chain_peaks_at_the_hand_written_forward_and_backward():
    """2,000 operations on 10,000 floats: the tape keeps each tanh's output (what its rule
    reads) and a Shell for everything else, as the hand-written gradient keeps its list."""
    x = np.linspace(-1.0, 1.0, 10_000)
    steps = 2_000
    grad = gk.grad(lambda x: np.sum(chain(x, steps)))
    np.testing.assert_allclose(grad(x), chain_by_hand(x, steps), rtol=1e-12)
    by_hand = peak(lambda: chain_by_hand(x, steps))
    traced = peak(lambda: grad(x))
    arrays = steps // 2 * x.nbytes
    assert by_hand >= arrays  # the measurement sees the saved arrays
    assert traced <= 1.2 * by_hand, f"peak {traced / 1e6:.1f} MB vs {by_hand / 1e6:.1f} MB"
