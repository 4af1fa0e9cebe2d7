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
