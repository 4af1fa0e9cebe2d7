"""GradientMonitor.record_squares keeps the history record keeps, from sums of squares."""
import math

import numpy as np

from gradkit.diagnostics.monitor import GradientMonitor, group_squares


def test_record_squares_equals_record():
    rng = np.random.default_rng(0)
    a, b = GradientMonitor(), GradientMonitor()
    for step in range(1, 6):
        params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2),
                  "layer": [rng.standard_normal(4), rng.standard_normal(1)]}
        grads = {k: (v * 0.5 if isinstance(v, np.ndarray) else [x * 2 for x in v])
                 for k, v in params.items()}
        updates = {k: (v * -0.1 if isinstance(v, np.ndarray) else [x * 3 for x in v])
                   for k, v in grads.items()}
        assert a.record(step, 0.1 * step, grads, params, updates, learning_rate=0.1)
        g, p, u = group_squares(grads), group_squares(params), group_squares(updates)
        assert b.record_squares(step, 0.1 * step, {k: (g[k], p[k], u[k]) for k in g},
                                learning_rate=0.1, params=params)
    for key in ("step", "loss", "learning_rate", "grad_norm", "param_norm", "update_ratio"):
        assert a.history[key] == b.history[key], key


def test_record_squares_records_nothing_when_not_finite():
    m = GradientMonitor()
    assert not m.record_squares(1, 0.5, {"w": (math.inf, 1.0, 0.1)})
    assert not m.record_squares(1, math.nan, {"w": (1.0, 1.0, 0.1)})
    assert m.history["step"] == [] and m.history["grad_norm"] == {}


def test_record_squares_keeps_the_history_bounded():
    m, ref = GradientMonitor(max_records=64), GradientMonitor(max_records=64)
    params = {"w": np.ones(2)}
    for step in range(1, 1001):
        m.record_squares(step, 1.0 / step, {"w": (4.0, 2.0, 0.01)})
        ref.record(step, 1.0 / step, {"w": np.full(2, 2 ** 0.5)}, params,
                   {"w": np.full(2, 0.1 / 2 ** 0.5)})
    assert len(m.history["step"]) <= 64
    assert m.history["step"] == ref.history["step"]
