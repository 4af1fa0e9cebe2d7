"""The linear estimators' docstrings: one shared argument list, each estimator's own parts."""
import re

import pytest

from gradkit.models import LinearRegression, LinearSVM, LogisticRegression


@pytest.mark.parametrize("cls", [LinearRegression, LogisticRegression, LinearSVM])
def test_every_parameter_is_documented_once_under_args(cls):
    doc = cls.__doc__
    args = doc[doc.index("    Args:"):doc.index("    Attributes:")]
    for name in cls().get_params():
        assert len(re.findall(rf"^        (?:\w+, )*{name}\b[\w, ]*:", args, re.M)) == 1, name
    assert ">>> " in doc[doc.index("    Attributes:"):]  # the example comes last


def test_each_estimator_says_what_auto_means():
    assert '``"auto"`` (``"lbfgs"``; ``"proximal"`` with an L1 part' in LogisticRegression.__doc__
    assert '``"auto"`` (see above)' in LinearSVM.__doc__
    assert '"subgradient"`` steps' in LinearSVM.__doc__
