"""The detectors on histories built by hand: each law on the cases that must and must not fire."""
import math
import warnings

import numpy as np

import pytest

from gradkit.diagnostics import (REMEDIES, Finding, diagnose, divergence, exploding_gradients,
                                 learning_rate_too_high, nan_or_inf, plateau,
                                 vanishing_gradients)


def hist(loss, **norms):
    return {"step": list(range(len(loss))), "loss": list(loss), "grad_norm": norms}


N = 8
DECREASING = [1.0 / (t + 1) for t in range(N)]


@pytest.mark.parametrize("detector, history, expected", [
    # vanishing: below 1e-3 of the last layer at every step to the end
    (vanishing_gradients, hist(DECREASING, a=[1e-7] * N, b=[1e-2] * N, c=[1.0] * N), [("a", 0)]),
    (vanishing_gradients, hist(DECREASING, a=[1e-1] * 4 + [1e-6] * 4, b=[1.0] * N, c=[1.0] * N),
     [("a", 4)]),
    (vanishing_gradients, hist(DECREASING, a=[1e-6] * 4 + [1e-1] * 4, b=[1.0] * N, c=[1.0] * N),
     []),                                                   # recovered: not vanishing now
    (vanishing_gradients, hist(DECREASING, a=[1e-7] * N, c=[1.0] * N), []),  # too shallow
    # exploding: growth by 100x while the loss gets worse, or overflow
    (exploding_gradients, hist([1, 2, 4, 8, 16, 32, 64, 128], w=[10.0 ** t for t in range(N)]),
     [("w", 2)]),
    (exploding_gradients, hist(DECREASING, w=[10.0 ** t for t in range(N)]), []),  # loss falls
    (exploding_gradients, hist([1, 2, 3, 4, 5, 6, 7, 8], w=[1, 1, 1, math.inf, 1, 1, 1, 1]),
     [("w", 3)]),
    (exploding_gradients, hist(DECREASING, w=[1.0] * N), []),
    # NaN from the norms when no events were recorded
    (nan_or_inf, hist([1, 1, 1, math.nan, 1, 1, 1, 1], w=[1, 1, 1, math.nan, 1, 1, 1, 1]),
     [("w", 3)]),
    (nan_or_inf, hist(DECREASING, w=[1.0] * N), []),
    # plateau: 20 steps varying by less than 1e-3 relative, then a fall (or never moving)
    (plateau, hist([2.0, 1.0] + [0.5] * 25 + [0.1]), [(None, 2)]),
    (plateau, hist([2.0, 1.0] + [0.5] * 10 + [0.1]), []),
    (plateau, hist([1.0 / (t + 1) for t in range(60)]), []),
    (plateau, hist([2.0, 1.0] + [0.5] * 25), []),             # flat at the end: converged
    (plateau, hist([0.7] * 30), [(None, 0)]),                 # never moved
    # divergence: the loss reaches ten times its start
    (divergence, hist([1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 9.0, 17.0]), [(None, 0)]),
    (divergence, hist([1.0, 0.5, 0.4, 0.6, 2.0, 8.0, 30.0, 90.0]), [(None, 2)]),
    (divergence, hist([1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 3.0, 3.0]), []),
    # too-high learning rate: the loss rises above its start, gives progress back, or zig-zags
    (learning_rate_too_high, hist([1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 3.0, 3.0]), [(None, 1)]),
    (learning_rate_too_high, hist([1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 9.0, 17.0]), []),  # diverged
    (learning_rate_too_high, hist([1.0, 0.5, 0.3, 0.2, 0.2, 0.6, 0.8, 0.9, 0.9, 0.9]),
     [(None, 5)]),
    (learning_rate_too_high, hist([1.0, 0.8] + [0.5 + 0.1 * (-1) ** t * (1 + 0.05 * t)
                                                 for t in range(16)]), [(None, 2)]),
    (learning_rate_too_high, hist([1.0, 0.8] + [0.5 + 0.1 * (-1) ** t * 0.8 ** t
                                                 for t in range(16)]), []),  # dies out
    (learning_rate_too_high, hist([1.0, 0.8] + [0.5 + 0.1 * (-1) ** t for t in range(6)]),
     []),                                                   # too short to tell from noise
    (learning_rate_too_high, hist(DECREASING), []),
])
def test_detector(detector, history, expected):
    found = detector(history)
    assert [(f.layer, f.step) for f in found] == expected
    for f in found:
        assert isinstance(f, Finding) and f.remedy == REMEDIES[f.kind] and f.message


def test_diagnose_orders_findings_by_step_and_accepts_thresholds():
    h = hist([1, 2, 4, 8, 16, 32, 64, math.nan], a=[1e-5] * N,
             b=[10.0 ** t for t in range(N)], c=[1.0] * N)
    kinds = [f.kind for f in diagnose(h)]
    assert {"vanishing", "exploding", "nan", "divergence"} <= set(kinds)
    steps = [f.step for f in diagnose(h)]
    assert steps == sorted(steps)
    assert not [f for f in diagnose(h, vanishing_ratio=1e-6) if f.kind == "vanishing"]


@pytest.mark.parametrize("bad", [None, [1.0, 2.0], {"step": [0]}])
def test_diagnose_rejects_what_is_not_a_history(bad):
    with pytest.raises(TypeError, match="history dict"):
        diagnose(bad)


def test_findings_print_with_their_remedy():
    f = vanishing_gradients(hist(DECREASING, a=[1e-7] * N, b=[1.0] * N, c=[1.0] * N))[0]
    assert str(f).startswith("[vanishing]") and "Glorot" in str(f)


def test_a_brief_explosion_inside_the_first_window_is_found_as_a_spike():
    """A norm that jumps 100-fold while the loss doubles its start, within the first few
    steps of a short run (too brief for the windows), is an explosion: the spike rule."""
    from gradkit.diagnostics.findings import exploding_gradients
    norms = [0.02, 0.07, 0.3, 0.9, 0.6, 0.5, 2.8, 0.6, 0.3, 0.2] + [0.2] * 110
    loss = [3.3, 3.1, 6.3, 10.2, 5.2, 6.3, 21.0, 10.1, 7.6, 4.8] + [3.0] * 110
    h = {"step": list(range(120)), "loss": loss, "grad_norm": {"emb": norms}}
    found = exploding_gradients(h)
    assert [(f.layer, f.step) for f in found] == [("emb", 6)]
    assert found[0].evidence["loss then"] == 21.0
    calm = dict(h, loss=[3.3] + [3.0] * 119)  # the same norms while the loss falls: no spike
    assert exploding_gradients(calm) == []


def test_a_first_norm_of_zero_is_no_reference_for_a_spike():
    """An intercept's first gradient on a balanced batch is 0: a later noisy batch (loss 1.5
    against a start of 0.7) is no explosion 'inf-fold'."""
    from gradkit.diagnostics.findings import exploding_gradients
    rng = np.random.default_rng(0)
    loss = list(0.7 * np.exp(-np.arange(100) / 50.0))
    loss[61] = 1.5
    h = {"step": list(range(100)), "loss": loss,
         "grad_norm": {"coef": list(0.5 + 0.05 * rng.random(100)),
                       "intercept": [0.0] + list(0.1 + 0.05 * rng.random(99))}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert exploding_gradients(h) == []


def test_the_growth_per_step_counts_steps_not_records():
    from gradkit.diagnostics.findings import exploding_gradients
    h = {"step": [1, 11, 21, 31, 41], "loss": [1.0, 2.0, 50.0, 1e3, 1e4],
         "grad_norm": {"w": [1.0, 10.0, 100.0, 1e3, 1e4]}}
    found = exploding_gradients(h, steps_per_epoch=1)
    assert found and "100-fold (about 1.26x per step)" in found[0].message, found
