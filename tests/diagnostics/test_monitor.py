"""GradientMonitor: what it records per layer and step, and NaN / inf caught where they appear."""
import json
import math

import numpy as np
import pytest

import gradkit as gk
from gradkit.diagnostics import GradientMonitor, diagnose


def _quadratic_step(mon, step, params, lr=0.1, **kw):
    loss, grads = gk.value_and_grad(lambda p: sum(np.sum(v ** 2) for v in gk.tree.tree_leaves(p)))(params)
    return mon.record(step, loss, grads, params, learning_rate=lr, **kw)


def test_history_has_the_contract_keys_and_one_entry_per_step():
    mon = GradientMonitor()
    params = {"hidden": {"w": np.ones((2, 2)), "b": np.zeros(2)}, "out": np.ones(3)}
    for t in range(4):
        assert _quadratic_step(mon, t, params)
    h = mon.history
    assert {"step", "loss", "learning_rate", "grad_norm", "update_ratio"} <= set(h)
    assert h["step"] == [0, 1, 2, 3] and h["learning_rate"] == [0.1] * 4
    assert list(h["grad_norm"]) == ["hidden", "out"]
    # grad of sum w^2 is 2w: ||2 * ones(2, 2)|| = 4, ||2 * ones(3)|| = 2 sqrt(3)
    assert h["grad_norm"]["hidden"] == pytest.approx([4.0] * 4)
    assert h["grad_norm"]["out"] == pytest.approx([2 * math.sqrt(3)] * 4)
    assert h["update_ratio"]["out"] == pytest.approx([0.2] * 4)  # lr * ||g|| / ||w||


@pytest.mark.parametrize("params, groups", [
    (np.ones(3), ["params"]),
    ({"layer1": np.ones(1), "layer2": np.ones(1), "layer10": np.ones(1)},
     ["layer1", "layer2", "layer10"]),                       # the user's order, not sorted
    ([np.ones(2), {"w": np.ones(2)}], ["0", "1"]),
])
def test_groups_are_the_top_level_entries_in_the_users_order(params, groups):
    mon = GradientMonitor()
    _quadratic_step(mon, 0, params)
    assert list(mon.history["grad_norm"]) == groups


@pytest.mark.parametrize("updates, lr, expected", [
    ({"w": np.array([0.03, 0.04])}, None, 0.05 / 5.0),     # ||u|| / ||w||
    (None, 0.5, 0.5 * 10.0 / 5.0),                         # lr * ||g|| / ||w||
    (None, None, math.nan),
])
def test_update_ratio(updates, lr, expected):
    mon = GradientMonitor()
    params = {"w": np.array([3.0, 4.0])}
    mon.record(0, 1.0, {"w": np.array([6.0, 8.0])}, params, updates=updates, learning_rate=lr)
    got = mon.history["update_ratio"]["w"][0]
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


@pytest.mark.parametrize("loss, grads, params, what, parameter, value", [
    (1.0, {"a": {"w": np.ones(2)}, "b": {"w": np.array([1.0, np.nan])}}, None, "gradient", "b/w", "nan"),
    (1.0, {"a": {"w": np.array([np.inf, 1.0])}, "b": {"w": np.ones(2)}}, None, "gradient", "a/w", "inf"),
    (float("nan"), None, None, "loss", None, "nan"),
    (1.0, None, {"a": {"w": np.ones(2)}, "b": {"w": np.array([np.inf, 0.0])}}, "parameter", "b/w", "inf"),
])
def test_nonfinite_values_are_caught_at_their_step_with_the_parameter(loss, grads, params, what,
                                                                      parameter, value):
    mon = GradientMonitor()
    good = {"a": {"w": np.ones(2)}, "b": {"w": np.ones(2)}}
    assert mon.record(0, 1.0, good, good)
    assert mon.record(1, 1.0, good, good)
    assert not mon.record(2, loss, grads or good, params or good)
    event = mon.history["nonfinite"][0]
    assert (event["step"], event["what"], event["parameter"], event["value"]) == \
        (2, what, parameter, value)
    assert mon.last_good_step == 1 and mon.last_good_params is good
    [finding] = [f for f in mon.findings() if f.kind == "nan"]
    assert finding.step == 2 and finding.layer == parameter and finding.remedy


def test_an_overflowing_norm_of_finite_entries_is_measured_not_reported_as_nan():
    mon = GradientMonitor()
    g = {"w": np.full(4, 1e200)}
    assert mon.record(0, 1.0, g, {"w": np.ones(4)})
    assert mon.history["grad_norm"]["w"][0] == pytest.approx(2e200)
    assert mon.history["nonfinite"] == []


def test_grads_without_a_group_of_params_raise_a_clear_error():
    mon = GradientMonitor()
    with pytest.raises(TypeError, match="no group 'b'"):
        mon.record(0, 1.0, {"a": np.ones(1)}, {"a": np.ones(1), "b": np.ones(1)})


def test_a_saved_history_diagnoses_like_the_live_one():
    mon = GradientMonitor()
    for t in range(5):
        grads = {f"l{i}": np.full(2, 10.0 ** (-8 + 4 * i)) for i in range(3)}
        mon.record(t, 1.0 - 0.1 * t, grads, {f"l{i}": np.ones(2) for i in range(3)})
    mon.record(5, float("nan"), grads, {f"l{i}": np.ones(2) for i in range(3)})
    saved = json.loads(json.dumps(mon.history, allow_nan=True))
    assert [(f.kind, f.layer, f.step) for f in diagnose(saved)] == \
        [(f.kind, f.layer, f.step) for f in mon.findings()]
    assert {f.kind for f in mon.findings()} >= {"vanishing", "nan"}


def test_validation_losses_are_kept():
    mon = GradientMonitor()
    mon.record_validation(3, 0.5)
    assert mon.history["val_step"] == [3] and mon.history["val_loss"] == [0.5]
