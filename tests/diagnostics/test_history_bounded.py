"""A history stays bounded in memory however long the run: evenly spaced steps, the first and
the latest always kept, and what reads a history (diagnose, figures, the report) still reads it."""
import math

import numpy as np
import pytest

from gradkit.diagnostics import GradientMonitor, diagnose
from gradkit.diagnostics.history import MAX_RECORDS, Thinning, thin


def _grow(n, cap):
    h = {"step": [], "loss": [], "grad_norm": {"a": [], "b": []}, "val_loss": []}
    keep = Thinning(cap)
    for t in range(n):
        h["step"].append(t)
        h["loss"].append(1.0 / (t + 1))
        h["grad_norm"]["a"].append(float(t))
        h["grad_norm"]["b"].append(-float(t))
        keep.recorded(h)
        assert len(h["step"]) <= cap
    return h, keep


@pytest.mark.parametrize("n, cap", [(10, 4), (1000, 64), (1001, 64), (12345, 100), (7, 50)])
def test_thinning_keeps_evenly_spaced_steps_with_the_first_and_the_latest(n, cap):
    h, keep = _grow(n, cap)
    steps = h["step"]
    assert len(steps) <= cap and steps[0] == 0 and steps[-1] == n - 1
    grid = steps[:-1] if (n - 1) % keep.stride else steps
    assert all(s % keep.stride == 0 for s in grid)
    assert np.all(np.diff(grid) == keep.stride)  # evenly spaced: no gap, no crowding
    assert len(steps) >= min(n, cap // 2)  # thinned no more than the rule says
    # every per-step list is thinned alike; the others are left whole
    assert h["grad_norm"]["a"] == [float(s) for s in steps]
    assert h["grad_norm"]["b"] == [-float(s) for s in steps]
    assert h["loss"] == [1.0 / (s + 1) for s in steps]


def test_thin_of_a_finished_history_follows_the_same_rule():
    full = {"step": list(range(1000)), "loss": list(np.linspace(1, 0, 1000)),
            "update_ratio": {"w": list(range(1000))}, "nonfinite": [{"step": 3}],
            "val_step": [0, 500], "val_loss": [1.0, 0.5]}
    small = thin(full, 100)
    assert len(small["step"]) <= 100 and small["step"][0] == 0 and small["step"][-1] == 999
    assert small["update_ratio"]["w"] == small["step"]
    assert small["nonfinite"] == full["nonfinite"] and small["val_loss"] == [1.0, 0.5]
    assert len(full["step"]) == 1000  # the input is left as it was
    assert thin(small, 100) is small


def test_a_million_step_monitor_keeps_at_most_the_cap_and_is_still_read(tmp_path):
    mon = GradientMonitor()
    params = {"layer": np.ones(3)}
    grads = {"layer": np.full(3, 0.1)}
    for t in range(1, 1_000_001):
        mon.record(t, 1.0 / math.sqrt(t), grads, params, learning_rate=0.01)
    h = mon.history
    assert len(h["step"]) <= MAX_RECORDS
    assert h["step"][0] == 1 and h["step"][-1] == 1_000_000
    assert len(h["loss"]) == len(h["grad_norm"]["layer"]) == len(h["learning_rate"]) == \
        len(h["param_norm"]["layer"]) == len(h["update_ratio"]["layer"]) == len(h["step"])
    assert np.all(np.diff(h["step"][:-1]) == np.diff(h["step"][:2]))  # evenly spaced
    assert [f.kind for f in diagnose(h)] == []  # a loss falling as 1/sqrt(t): healthy

    from gradkit import plot
    from gradkit.report import build

    fig = plot.training(h)
    assert fig.axes and max(len(line.get_xdata()) for line in fig.axes[0].lines) > 1000
    path = build(h).write(tmp_path / "r.html")
    assert "data:image/png;base64" in open(path, encoding="utf-8").read()


def test_the_cap_can_be_set_or_lifted_and_is_checked():
    mon = GradientMonitor(max_records=50)
    for t in range(500):
        mon.record(t, 1.0, {"w": np.ones(1)}, {"w": np.ones(1)})
    assert len(mon.history["step"]) <= 50
    free = GradientMonitor(max_records=None)
    for t in range(500):
        free.record(t, 1.0, {"w": np.ones(1)}, {"w": np.ones(1)})
    assert len(free.history["step"]) == 500
    for bad in (2, 0, 3.5, True):
        with pytest.raises(ValueError, match="max_records"):
            GradientMonitor(max_records=bad)
