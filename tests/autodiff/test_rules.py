"""Every registered gradient rule against finite differences, in both modes, to second order.

The cases live in ``rule_cases/``; a primitive that no case exercises fails the suite, so
coverage cannot drift when rules are added.
"""
import numpy as np
import pytest

import gradkit as gk
from gradkit.autodiff import primitive, trace

from .rule_cases import CASES

@pytest.mark.parametrize("name, fun, args", CASES, ids=[c[0] for c in CASES])
def test_rule_matches_finite_differences(name, fun, args):
    gk.check_grads(fun, args, order=2, modes=("fwd", "rev"), rtol=2e-5, atol=1e-6)

def test_every_registered_rule_has_a_case(monkeypatch):
    """Run every case once through both modes and forward-over-reverse, noting each
    primitive that reaches a trace; every registered primitive must be among them."""
    seen = set()
    for trace_cls in (trace.ReverseTrace, trace.ForwardTrace):
        original = trace_cls.process

        def process(self, prim, args, kwargs, _original=original):
            seen.add(prim)
            return _original(self, prim, args, kwargs)

        monkeypatch.setattr(trace_cls, "process", process)
    original_record = trace.ReverseTrace.record  # the fast paths record without process

    def record(self, prim, *args, **kwargs):
        seen.add(prim)
        return original_record(self, prim, *args, **kwargs)

    monkeypatch.setattr(trace.ReverseTrace, "record", record)
    for _, fun, args in CASES:
        ones = lambda a: np.ones_like(a)  # noqa: E731
        out, pullback = gk.vjp(fun, *args)
        cotangent = gk.tree.tree_map(ones, out)
        gk.jvp(lambda *a: gk.vjp(fun, *a)[1](cotangent), args,
               tuple(gk.tree.tree_map(ones, a) for a in args))
        pullback(cotangent)
    registered = {p for p in primitive.PRIMITIVES.values() if p.vjps or p.jvps}
    missing = sorted(p.name for p in registered - seen)
    assert not missing, f"rules with no test case in rule_cases/: {missing}"


# -- rules whose Python numbers are typed (elementwise._typed): the same bits as the Python
# number, the cotangent's dtype kept, and gk.jit still types the number itself
TYPED_RULES = [
    ("square", np.square, lambda g, ans, x: g * 2.0 * x),
    ("power 2", lambda x: x ** 2, lambda g, ans, x: g * (2.0 * x)),
    ("sqrt", np.sqrt, lambda g, ans, x: g * 0.5 / ans),
    ("expm1", np.expm1, lambda g, ans, x: g * (ans + 1.0)),
    ("log1p", np.log1p, lambda g, ans, x: g / (x + 1.0)),
    ("tan", np.tan, lambda g, ans, x: g * (1.0 + ans * ans)),
    ("arctan", np.arctan, lambda g, ans, x: g / (1.0 + x * x)),
    ("tanh", np.tanh, lambda g, ans, x: g * (1.0 - ans * ans)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("name, fn, partial", TYPED_RULES, ids=[r[0] for r in TYPED_RULES])
def test_typed_numbers_give_the_python_numbers_bits(name, fn, partial, dtype):
    rng = np.random.default_rng(1)
    x = (rng.uniform(0.1, 0.9, 7) + (0.3j * rng.uniform(size=7) if dtype is np.complex128
                                     else 0.0)).astype(dtype)
    g = rng.standard_normal(7).astype(dtype)
    if dtype is not np.complex128:  # (a complex cotangent meets the conjugate partial)
        (got,) = gk.vjp(fn, x)[1](g)
        assert got.dtype == dtype and np.array_equal(got, partial(g, fn(x), x))
    tangent = gk.jvp(fn, (x,), (g,))[1]
    assert tangent.dtype == dtype and np.array_equal(tangent, partial(g, fn(x), x))


def test_typed_numbers_are_numbers_of_the_compiled_program():
    jitted = gk.jit(gk.grad(lambda x: np.sum(np.tanh(x) + np.square(x))))
    x = np.linspace(-1.0, 1.0, 5)
    assert np.array_equal(jitted(x), gk.grad(lambda x: np.sum(np.tanh(x) + np.square(x)))(x))
    assert "num" in jitted.source and "const" not in jitted.source, jitted.source
