"""Learning-rate schedules against their formulas, written out independently, at several steps
including the boundaries."""
import math

import numpy as np
import pytest

from gradkit.optim.schedules import (
    constant_schedule, cosine_decay_schedule, cosine_restarts, exponential_decay,
    inverse_time_decay, join_schedules, linear_schedule, linear_warmup,
    piecewise_constant_schedule, polynomial_schedule, sgdr_schedule, step_schedule,
    warmup_cosine_decay_schedule, warmup_exponential_decay_schedule)


def cos_anneal(hi, lo, k, n):
    return lo + (hi - lo) * 0.5 * (1 + math.cos(math.pi * k / n))


# (id, schedule, formula(t)); the steps checked are listed in STEPS
CASES = [
    ("constant", constant_schedule(0.3), lambda t: 0.3),
    ("piecewise", piecewise_constant_schedule(0.8, {3: 0.5, 6: 0.1}),
     lambda t: 0.8 * (0.5 if t >= 3 else 1) * (0.1 if t >= 6 else 1)),
    ("piecewise-none", piecewise_constant_schedule(0.8), lambda t: 0.8),
    ("step", step_schedule(1.0, step_size=4, decay_rate=0.3), lambda t: 0.3 ** (t // 4)),
    ("exponential", exponential_decay(2.0, 4, 0.5), lambda t: 2.0 * 0.5 ** (t / 4)),
    ("exponential-staircase", exponential_decay(2.0, 4, 0.5, staircase=True),
     lambda t: 2.0 * 0.5 ** (t // 4)),
    ("exponential-begin", exponential_decay(2.0, 4, 0.5, transition_begin=3),
     lambda t: 2.0 * 0.5 ** (max(t - 3, 0) / 4)),
    ("exponential-end-value", exponential_decay(2.0, 1, 0.5, end_value=0.3),
     lambda t: max(2.0 * 0.5 ** t, 0.3)),
    ("exponential-growth", exponential_decay(1.0, 2, 2.0, end_value=3.0),
     lambda t: min(2.0 ** (t / 2), 3.0)),
    ("inverse-time", inverse_time_decay(1.0, 3, 0.5), lambda t: 1.0 / (1 + 0.5 * t / 3)),
    ("inverse-time-staircase", inverse_time_decay(1.0, 3, 0.5, staircase=True),
     lambda t: 1.0 / (1 + 0.5 * (t // 3))),
    ("polynomial", polynomial_schedule(1.0, 0.1, power=2, transition_steps=8),
     lambda t: 0.9 * (1 - min(t, 8) / 8) ** 2 + 0.1),
    ("polynomial-begin", polynomial_schedule(1.0, 0.1, 0.5, 8, transition_begin=2),
     lambda t: 0.9 * (1 - min(max(t - 2, 0), 8) / 8) ** 0.5 + 0.1),
    ("linear", linear_schedule(0.0, 1.0, 5), lambda t: min(t, 5) / 5),
    ("cosine", cosine_decay_schedule(1.0, 8), lambda t: cos_anneal(1.0, 0.0, min(t, 8), 8)),
    ("cosine-alpha", cosine_decay_schedule(2.0, 8, alpha=0.25),
     lambda t: 2.0 * (0.75 * 0.5 * (1 + math.cos(math.pi * min(t, 8) / 8)) + 0.25)),
    ("cosine-exponent", cosine_decay_schedule(1.0, 8, exponent=2.0),
     lambda t: (0.5 * (1 + math.cos(math.pi * min(t, 8) / 8))) ** 2),
    ("restarts", cosine_restarts(1.0, period=4, end_value=0.1),
     lambda t: cos_anneal(1.0, 0.1, t % 4, 4)),
    ("warmup-cosine", warmup_cosine_decay_schedule(0.1, 1.0, warmup_steps=3, decay_steps=10,
                                                   end_value=0.2),
     lambda t: 0.1 + 0.9 * t / 3 if t < 3 else cos_anneal(1.0, 0.2, min(t - 3, 7), 7)),
    ("warmup-exponential", warmup_exponential_decay_schedule(0.0, 1.0, 2, 3, 0.5),
     lambda t: t / 2 if t < 2 else 0.5 ** ((t - 2) / 3)),
    ("linear-warmup", linear_warmup(step_schedule(0.4, 3, 0.5), warmup_steps=4),
     lambda t: 0.4 * t / 4 if t < 4 else 0.4 * 0.5 ** ((t - 4) // 3)),
    ("join", join_schedules([constant_schedule(1.0), linear_schedule(0.5, 0.0, 4),
                             constant_schedule(0.05)], [2, 5]),
     lambda t: 1.0 if t < 2 else (0.5 - 0.5 * (t - 2) / 4 if t < 5 else 0.05)),
]
STEPS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 100]


@pytest.mark.parametrize("name, schedule, formula", CASES, ids=[c[0] for c in CASES])
def test_schedule_matches_its_formula(name, schedule, formula):
    for t in STEPS:
        assert schedule(t) == pytest.approx(formula(t), rel=1e-12, abs=1e-15), (name, t)


@pytest.mark.parametrize("name, schedule, formula", CASES, ids=[c[0] for c in CASES])
def test_schedule_returns_python_floats_and_accepts_arrays(name, schedule, formula):
    assert type(schedule(3)) is float
    assert type(schedule(np.int64(3))) is float
    steps = np.array(STEPS)
    np.testing.assert_allclose(schedule(steps), [schedule(int(t)) for t in steps], rtol=1e-12)


def test_boundaries_switch_at_the_boundary_step():
    s = piecewise_constant_schedule(1.0, {5: 0.1})
    assert (s(4), s(5)) == (1.0, pytest.approx(0.1))
    s = exponential_decay(1.0, 5, 0.1, staircase=True)
    assert (s(4), s(5)) == (1.0, pytest.approx(0.1))
    s = join_schedules([constant_schedule(1.0), constant_schedule(2.0)], [5])
    assert (s(4), s(5)) == (1.0, 2.0)


def reference_restarts(t, hi, lo, period, mult):
    length = period
    while t >= length:
        t -= length
        length *= mult
    return cos_anneal(hi, lo, t, length)


@pytest.mark.parametrize("period, mult", [(1, 1), (3, 1), (1, 2), (2, 2), (3, 3), (5, 2)])
def test_cosine_restarts_matches_pytorch_warm_restarts(period, mult):
    s = cosine_restarts(1.0, period, period_mult=mult, end_value=0.01)
    for t in range(400):
        assert s(t) == pytest.approx(reference_restarts(t, 1.0, 0.01, period, mult)), t
    steps = np.arange(400)
    np.testing.assert_allclose(s(steps), [s(int(t)) for t in steps], rtol=1e-12)


def test_cosine_restarts_restart_at_the_peak():
    s = cosine_restarts(1.0, period=2, period_mult=2)
    assert [s(t) for t in (0, 2, 6, 14, 30)] == [1.0] * 5
    assert s(13) < 0.05


def test_sgdr_joins_warmup_cosine_cycles():
    cycles = [dict(init_value=0.0, peak_value=1.0, warmup_steps=2, decay_steps=6),
              dict(init_value=0.1, peak_value=0.5, warmup_steps=1, decay_steps=5, end_value=0.05)]
    s = sgdr_schedule(cycles)
    first = warmup_cosine_decay_schedule(**cycles[0])
    second = warmup_cosine_decay_schedule(**cycles[1])
    for t in range(6):
        assert s(t) == first(t)
    for t in range(6, 20):
        assert s(t) == second(t - 6)
    assert (s(6), s(7), s(11)) == pytest.approx((0.1, 0.5, 0.05))


def test_linear_warmup_without_warmup_is_the_schedule():
    base = cosine_decay_schedule(1.0, 10)
    assert linear_warmup(base, 0) is base


BAD = [
    (lambda: constant_schedule(float("nan")), "value"),
    (lambda: piecewise_constant_schedule(1.0, {3: -0.5}), "boundaries_and_scales[3]"),
    (lambda: exponential_decay(1.0, 0, 0.5), "transition_steps"),
    (lambda: exponential_decay(1.0, 10, 0.0), "decay_rate"),
    (lambda: exponential_decay(1.0, 10, 0.5, transition_begin=-1), "transition_begin"),
    (lambda: step_schedule(1.0, step_size=0), "transition_steps"),
    (lambda: inverse_time_decay(1.0, 10, -1.0), "decay_rate"),
    (lambda: polynomial_schedule(1.0, 0.0, power=0, transition_steps=10), "power"),
    (lambda: linear_schedule(1.0, 0.0, transition_steps=2.5), "transition_steps"),
    (lambda: cosine_decay_schedule(1.0, 0), "decay_steps"),
    (lambda: cosine_restarts(1.0, period=0), "period"),
    (lambda: cosine_restarts(1.0, period=2, period_mult=0), "period_mult"),
    (lambda: warmup_cosine_decay_schedule(0.0, 1.0, 10, 10), "decay_steps"),
    (lambda: linear_warmup(constant_schedule(1.0), -1), "warmup_steps"),
    (lambda: join_schedules([constant_schedule(1.0)] * 2, [1, 2]), "join_schedules"),
    (lambda: join_schedules([constant_schedule(1.0)] * 3, [5, 2]), "boundaries"),
    (lambda: sgdr_schedule([]), "sgdr_schedule"),
]


@pytest.mark.parametrize("make, name", BAD, ids=[b[1] for b in BAD])
def test_bad_arguments_raise_naming_the_argument(make, name):
    with pytest.raises(ValueError) as err:
        make()
    assert name in str(err.value)
