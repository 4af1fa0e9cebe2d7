"""Estimators' mini-batch steps compiled with gk.jit (jit=True, the default) fit exactly the
parameters, history and attributes of the eager steps (jit=False)."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from gradkit.models import (LinearRegression, LinearSVM, LogisticRegression, MLPClassifier,
                            MLPRegressor)
from gradkit.models.callbacks import ReduceLROnPlateau

CANCER = load_breast_cancer(return_X_y=True)
IRIS = load_iris(return_X_y=True)
DIABETES = load_diabetes(return_X_y=True)


def _scaled(data):
    X, y = data
    return (X - X.mean(0)) / X.std(0), y


CASES = [
    (LogisticRegression, dict(optimizer="sgd", learning_rate=0.05), CANCER),
    (LogisticRegression, dict(optimizer="adam", learning_rate=0.01), CANCER),
    (LogisticRegression, dict(optimizer="momentum", learning_rate=0.01), IRIS),
    (LinearRegression, dict(optimizer="rmsprop", learning_rate=0.01, penalty="l2"), DIABETES),
    (LinearSVM, dict(optimizer="sgd", learning_rate=0.01), CANCER),
    (MLPClassifier, dict(hidden_layer_sizes=(8,), learning_rate=0.01), IRIS),
    (MLPRegressor, dict(hidden_layer_sizes=(8,), learning_rate=0.01), DIABETES),
]


def _leaves(model):
    from gradkit.tree import tree_leaves
    return tree_leaves(model.params_)


def _fit(cls, params, data, jit, **extra):
    X, y = _scaled(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls(batch_size=32, max_iter=4, random_state=0, jit=jit, **params,
                   **extra).fit(X, y)


@pytest.mark.parametrize("record_every", [1, 3])
@pytest.mark.parametrize("cls, params, data", CASES,
                         ids=[f"{c.__name__}-{p.get('optimizer', 'adam')}" for c, p, _ in CASES])
def test_compiled_steps_fit_what_eager_steps_fit(cls, params, data, record_every, monkeypatch):
    """Both compiled steps (the one the history records, with the monitor's sums, and the
    others, with one finiteness sum) against the eager step."""
    from gradkit.models import base
    made = []
    original = base._StochasticRun._compiled_step
    monkeypatch.setattr(base._StochasticRun, "_compiled_step",
                        lambda self: made.append(original(self)) or made[-1])
    params = dict(params, record_every=record_every)
    compiled, eager = _fit(cls, params, data, True), _fit(cls, params, data, False)
    recorded, plain = made[0]
    assert recorded.source is not None and not recorded.eager and not plain.eager
    assert (plain.source is not None) == (record_every > 1)
    for a, b in zip(_leaves(compiled), _leaves(eager)):
        assert np.array_equal(a, b)
    assert compiled.loss_curve_ == eager.loss_curve_
    for key in ("loss", "grad_norm", "param_norm", "update_ratio", "learning_rate"):
        assert compiled.history_[key] == eager.history_[key], key
    assert compiled.t_ == eager.t_ and compiled.stop_reason_ == eager.stop_reason_


def test_steps_that_cannot_be_replayed_run_eagerly():
    """Dropout draws masks and a callback changes the rate: the same fit as jit=False."""
    for cls, params, data, extra in [
            (MLPClassifier, dict(hidden_layer_sizes=(8,), dropout=0.2), IRIS, {}),
            (LogisticRegression, dict(optimizer="sgd", learning_rate=0.05), CANCER,
             {"callbacks": [ReduceLROnPlateau(patience=0, factor=0.5)]})]:
        a, b = _fit(cls, params, data, True, **extra), _fit(cls, params, data, False, **extra)
        for u, v in zip(_leaves(a), _leaves(b)):
            assert np.array_equal(u, v)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("where", ["grad", "param"])
def test_the_plain_steps_finiteness_probe_sees_every_non_finite_entry(bad, where):
    """A plain compiled step reads one number (the sum of g . p over the arrays) for the
    finiteness of the gradient and the new parameters: it must be non-finite whenever one
    entry is, whatever the other side holds there (0 included: inf * 0 is NaN)."""
    from gradkit.models.base import _finite_probe
    rng = np.random.default_rng(0)
    for other in (0.0, 1.0, -3.0):
        g = {"coef": rng.standard_normal((5, 1)), "intercept": rng.standard_normal(1)}
        p = {"coef": rng.standard_normal((5, 1)), "intercept": rng.standard_normal(1)}
        assert np.isfinite(_finite_probe(g, p))
        side, rest = (g, p) if where == "grad" else (p, g)
        side["coef"][2, 0] = bad
        rest["coef"][2, 0] = other
        assert not np.isfinite(_finite_probe(g, p))
    z = np.array([1.0 + 2.0j, np.inf])  # complex arrays: sums of squares
    assert not np.isfinite(_finite_probe({"w": z}, {"w": np.ones(2, complex)}))


def test_the_epochs_smaller_last_batch_runs_eagerly_not_traced(monkeypatch):
    """569 rows in batches of 32 leave a batch of 25 each epoch: it takes the eager step
    (the same bits, as the test above shows), so each compiled step traces one signature."""
    from gradkit.models import base
    made, eager_rows = [], []
    original, eager = base._StochasticRun._compiled_step, base._StochasticRun._eager
    monkeypatch.setattr(base._StochasticRun, "_compiled_step",
                        lambda self: made.append(original(self)) or made[-1])
    monkeypatch.setattr(base._StochasticRun, "_eager",
                        lambda self, Xb, Tb, wb=None: eager_rows.append(len(Xb))
                        or eager(self, Xb, Tb, wb))
    _fit(LogisticRegression, dict(optimizer="sgd", learning_rate=0.05, record_every=3),
         CANCER, True)
    recorded, plain = made[0]
    assert len(recorded._programs) == 1 and len(plain._programs) == 1
    assert eager_rows == [569 % 32] * 4  # one in each of the 4 epochs
