"""The trace is freed after each call: gradient calls in a loop leave memory flat, and no traced
value outlives the transformation that made it."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import gradkit as gk
from gradkit.autodiff import trace as tracer

W = np.random.default_rng(4).standard_normal((8, 8))


def mlp_loss(params, x):
    h = np.tanh(x @ params["w"] + params["b"])
    return np.mean((h @ W - 1.0) ** 2)


PARAMS = {"w": np.eye(8) * 0.5, "b": np.zeros(8)}
BATCH = np.random.default_rng(5).standard_normal((4, 8))


def test_ten_thousand_gradient_calls_leave_memory_flat():
    step = gk.value_and_grad(mlp_loss)
    for _ in range(50):  # warm caches (dtype and dispatch tables) outside the measurement
        step(PARAMS, BATCH)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(1_000):
            step(PARAMS, BATCH)
        gc.collect()
        after_1k, _ = tracemalloc.get_traced_memory()
        for _ in range(9_000):
            step(PARAMS, BATCH)
        gc.collect()
        after_10k, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    growth = after_10k - after_1k
    assert growth < 1_000_000, f"memory grew by {growth / 1e6:.2f} MB over 9,000 gradient calls"


def live_tracers():
    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, tracer.Tracer)]


def live_traces():
    gc.collect()
    return [o for o in gc.get_objects()
            if isinstance(o, (tracer.ReverseTrace, tracer.ForwardTrace))]


def f(x):
    return np.sum(np.sin(x) * x ** 2)


def g(x):
    return np.sin(x) * x[::-1]


TRANSFORMS = [
    ("grad", lambda x: gk.grad(f)(x)),
    ("value_and_grad", lambda x: gk.value_and_grad(f)(x)),
    ("grad has_aux", lambda x: gk.grad(lambda t: (f(t), {"h": np.tanh(t)}), has_aux=True)(x)),
    ("vjp", lambda x: gk.vjp(g, x)[1](np.ones(3))),
    ("jvp", lambda x: gk.jvp(g, (x,), (np.ones(3),))),
    ("jacobian", lambda x: gk.jacobian(g)(x)),
    ("hessian", lambda x: gk.hessian(f)(x)),
    ("hvp", lambda x: gk.hvp(f)(x, np.ones(3))),
    ("grad-of-grad", lambda x: gk.grad(lambda t: np.sum(gk.grad(f)(t)))(x)),
    ("check_grads", lambda x: gk.check_grads(f, (x,), order=2)),
]


def live_counts():
    """(number of live tracers, number of live traces), in one pass over the heap."""
    gc.collect()
    kinds = (tracer.ReverseTrace, tracer.ForwardTrace)
    objects = gc.get_objects()
    return (sum(isinstance(o, tracer.Tracer) for o in objects),
            sum(isinstance(o, kinds) for o in objects))


@pytest.mark.parametrize("name, call", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_no_tracer_or_trace_survives_a_call(name, call):
    before = live_counts()
    result = call(np.array([0.3, -1.2, 2.0]))
    assert not any(isinstance(leaf, tracer.Tracer) for leaf in gk.tree.tree_leaves(result))
    del result
    assert live_counts() == before


def test_tracers_are_freed_without_the_cycle_collector():
    refs = []

    def spy(x):
        y = np.tanh(x) * x
        refs.extend([weakref.ref(x), weakref.ref(y)])
        return np.sum(y)

    gc.disable()
    try:
        gk.grad(spy)(np.ones(3))
        assert refs and all(r() is None for r in refs), "a reference cycle keeps the trace alive"
    finally:
        gc.enable()


def test_a_pullback_keeps_its_trace_only_while_it_is_alive():
    out, pullback = gk.vjp(g, np.array([0.3, -1.2, 2.0]))
    pullback(np.ones(3))
    assert live_traces()  # the pullback may be called again
    before = len(live_tracers())
    del pullback
    assert len(live_tracers()) <= before and not [
        t for t in live_traces() if isinstance(t, tracer.ReverseTrace)]


def test_an_error_inside_the_function_does_not_leak_the_trace():
    before = len(live_tracers())

    def fails(x):
        y = x * 2.0
        raise RuntimeError("boom")

    for _ in range(3):
        with pytest.raises(RuntimeError):
            gk.grad(fails)(np.ones(3))
    assert len(live_tracers()) == before
