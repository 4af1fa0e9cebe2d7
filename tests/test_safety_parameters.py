"""Booleans where numbers belong (``learning_rate=True``) are refused, not read as 1."""
from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.utils._param_validation import Interval, StrOptions, make_constraint

from gradkit.safety import bool_as_number

RATE = [Interval(Real, 0, None, closed="neither"), callable]
COUNT = [Interval(Integral, 1, None, closed="left")]
FLAG = ["boolean"]


@pytest.mark.parametrize("value, constraints, refused", [
    (True, RATE, True), (False, [Interval(Real, 0, 1, closed="both")],
     True),
    (True, COUNT, True), (True, [Real], True),
    (0.1, RATE, False), (1, COUNT, False), (np.float64(0.5), RATE, False),
    (True, FLAG, False), (True, COUNT + FLAG, False),  # a parameter that may be a bool
    (True, [StrOptions({"auto"})], False),  # not accepted at all: the table's check says so
    ("auto", RATE, False), (None, COUNT, False),
    (np.True_, RATE, False),  # not a Real: scikit-learn's Interval refuses it already
])
def test_a_bool_accepted_only_as_a_number_is_flagged(value, constraints, refused):
    constraints = [make_constraint(c) for c in constraints]
    assert bool_as_number(value, constraints) is refused


@pytest.mark.parametrize("name", ["learning_rate", "clip_norm", "max_iter", "tol", "alpha"])
def test_estimators_refuse_a_bool_for_a_number_in_one_line(name):
    from gradkit.models import LinearRegression

    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20.0)
    est = LinearRegression(optimizer="sgd", **{name: True})
    with pytest.raises(ValueError) as info:
        est.fit(X, y)
    message = str(info.value)
    assert f"'{name}' parameter of LinearRegression" in message and f"{name}=True" in message
    assert "\n" not in message
