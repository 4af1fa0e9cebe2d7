"""Every registered gradient rule against finite differences, in both modes, to second order.

The cases live in ``rule_cases/``; a primitive that no case exercises fails the suite, so
coverage cannot drift when rules are added.
"""
import numpy as np
import pytest

import gradkit as gk
from gradkit.autodiff import tracer

from .rule_cases import CASES

SEEN = set()


@pytest.fixture
def record_primitives(monkeypatch):
    """Note every primitive a case sends through a trace."""
    for trace_cls in (tracer.ReverseTrace, tracer.ForwardTrace):
        original = trace_cls.process

        def process(self, prim, args, kwargs, _original=original):
            SEEN.add(prim)
            return _original(self, prim, args, kwargs)

        monkeypatch.setattr(trace_cls, "process", process)


@pytest.mark.parametrize("name, fun, args", CASES, ids=[c[0] for c in CASES])
def test_rule_matches_finite_differences(name, fun, args, record_primitives):
    gk.check_grads(fun, args, order=2, modes=("fwd", "rev"), rtol=2e-5, atol=1e-6)


def test_every_registered_rule_has_a_case():
    if not SEEN:
        pytest.skip("run together with test_rule_matches_finite_differences")
    registered = {p for p in tracer.PRIMITIVES.values() if p.vjps or p.jvps}
    missing = sorted(p.name for p in registered - SEEN)
    assert not missing, f"rules with no test case in rule_cases/: {missing}"
