"""all_finite and the monitor's norms: one sum of squares per array, the edge cases honest."""
import math

import numpy as np
import pytest

from gradkit.diagnostics import GradientMonitor
from gradkit.diagnostics.monitor import _norm, all_finite

CASES = [  # (tree, every entry finite?)
    (np.array([1.0, -2.0]), True),
    (np.array([1e200, -1e200]), True),              # squares overflow: still finite entries
    (np.array([1e30], dtype=np.float32), True),     # overflows float32's sum of squares
    (np.array([np.nan, 1.0]), False),
    (np.array([np.inf]), False),
    (np.array([-np.inf, 1e200]), False),
    (np.array([np.inf, -np.inf]), False),           # no inf - inf: squares are >= 0
    (np.array([1e-300, 0.0]), True),                # underflowing squares
    (np.zeros(0), True),
    (np.array([1 + 2j, np.nan + 0j]), False),
    (np.array([1e200 + 1e200j]), True),
    (np.arange(5), True),                           # integers: no wrap-around
    (np.array(3.0), True),
    (2.5, True),
    (float("nan"), False),
    ({"a": np.ones(3), "b": {"c": np.array([np.nan])}}, False),
    ({"a": np.ones(3), "b": [np.full(2, 1e300)]}, True),
    (np.asfortranarray(np.full((3, 2), 1e200)), True),
    (np.full((4, 4), np.nan)[::2, ::3], False),     # a strided view
]


@pytest.mark.parametrize("tree, finite", CASES, ids=[str(i) for i in range(len(CASES))])
def test_all_finite_matches_the_entrywise_check(tree, finite):
    entrywise = all(bool(np.all(np.isfinite(np.asarray(x))))
                    for x in (tree.values() if isinstance(tree, dict) else [tree])
                    for x in (x.values() if isinstance(x, dict) else
                              x if isinstance(x, list) else [x]))
    assert entrywise == finite  # the table itself is right
    assert all_finite(tree) == finite


@pytest.mark.parametrize("values, expected", [
    ([3.0, 4.0], 5.0),
    ([3e200, 4e200], 5e200),                        # rescaled, not inf
    ([1.0, np.nan], math.nan),
    ([1.0, np.inf], math.inf),
])
def test_the_norm_of_one_pass_is_rescaled_on_overflow_and_honest_on_nan(values, expected):
    got = _norm({"w": np.array(values)})
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-15)


def test_an_overflowing_but_finite_gradient_is_not_reported_as_nonfinite():
    mon = GradientMonitor()
    assert mon.record(0, 1.0, {"w": np.array([1e200])}, {"w": np.array([1.0])})
    assert mon.history["nonfinite"] == []
    assert not mon.record(1, 1.0, {"w": np.array([np.nan])}, {"w": np.array([1.0])})
    assert mon.history["nonfinite"][0]["parameter"] == "w"
