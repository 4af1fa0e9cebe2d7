"""Learning-rate schedules: functions from the step count (0, 1, 2, ...) to a learning rate.

Pass a schedule wherever a learning rate is expected (``sgd(cosine_decay_schedule(0.1,
1000))``); :func:`gradkit.optim.transforms.scale_by_learning_rate` calls it with the number
of steps taken so far. Names and arguments are optax's. A schedule called with an int returns
a Python float; called with an integer NumPy array (e.g. to plot it) it returns an array.
Reduce-on-plateau depends on the loss, not only on the step, so it is a transformation:
:func:`gradkit.optim.transforms.reduce_on_plateau`.

>>> schedule = warmup_cosine_decay_schedule(0.0, peak_value=1.0, warmup_steps=2, decay_steps=6)
>>> [round(schedule(t), 3) for t in range(8)]
[0.0, 0.5, 1.0, 0.854, 0.5, 0.146, 0.0, 0.0]
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "constant_schedule", "piecewise_constant_schedule", "step_schedule", "exponential_decay",
    "inverse_time_decay", "polynomial_schedule", "linear_schedule", "cosine_decay_schedule",
    "cosine_restarts", "sgdr_schedule", "join_schedules", "linear_warmup",
    "warmup_cosine_decay_schedule", "warmup_exponential_decay_schedule",
]

Schedule = Callable[[int], float]


def _out(value):
    """A Python float for a scalar step, an array for an array of steps."""
    value = np.asarray(value, dtype=float)
    return float(value) if value.ndim == 0 else value


def _number(name: str, value, ok: Callable[[float], bool], requirement: str) -> float:
    try:
        good = not isinstance(value, bool) and bool(ok(value))
    except TypeError:
        good = False
    if not good:
        raise ValueError(f"{name} must be {requirement}, got {value!r}.")
    return float(value)


def _finite(name, value) -> float:
    return _number(name, value, math.isfinite, "a finite number")


def _steps(name, value, *, positive: bool = True) -> int:
    if positive:
        return int(_number(name, value, lambda v: v > 0 and v == int(v), "an integer > 0"))
    return int(_number(name, value, lambda v: v >= 0 and v == int(v), "an integer >= 0"))


def constant_schedule(value: float) -> Schedule:
    """``lr(t) = value``.

    Args:
        value: the rate at every step.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> constant_schedule(0.1)(1000)
        0.1
    """
    value = _finite("value", value)
    return lambda count: _out(np.full(np.shape(count), value))


def piecewise_constant_schedule(init_value: float,
                                boundaries_and_scales: dict[int, float] | None = None) -> Schedule:
    """``lr(t) = init_value * prod(scale for boundary, scale in boundaries_and_scales.items()
    if t >= boundary)``: multiply by ``scale`` from step ``boundary`` on.

    Args:
        init_value: the rate before the first boundary.
        boundaries_and_scales: ``{step: scale}``, scales >= 0 (PyTorch's ``MultiStepLR`` is
            ``{m: gamma for m in milestones}``).

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = piecewise_constant_schedule(1.0, {2: 0.5, 4: 0.1})
        >>> [s(t) for t in range(6)]
        [1.0, 1.0, 0.5, 0.5, 0.05, 0.05]
    """
    init_value = _finite("init_value", init_value)
    items = sorted((boundaries_and_scales or {}).items())
    for boundary, factor in items:
        _steps("boundaries_and_scales key", boundary, positive=False)
        _number(f"boundaries_and_scales[{boundary}]", factor,
                lambda v: 0.0 <= v < math.inf, "a finite number >= 0")

    def schedule(count):
        count = np.asarray(count)
        value = np.full(count.shape, init_value)
        for boundary, factor in items:
            value = np.where(count >= boundary, value * factor, value)
        return _out(value)

    return schedule


def exponential_decay(init_value: float, transition_steps: int, decay_rate: float,
                      transition_begin: int = 0, staircase: bool = False,
                      end_value: float | None = None) -> Schedule:
    """Exponential decay: ``lr(t) = init_value * decay_rate ** p`` with
    ``p = (t - transition_begin) / transition_steps`` (``floor`` of it if ``staircase``), and
    ``lr(t) = init_value`` for ``t <= transition_begin``. If ``end_value`` is given, the rate is
    clipped so that it never passes it (a floor when decaying, a ceiling when growing).

    Args:
        init_value: the starting rate.
        transition_steps: the steps over which the rate is multiplied by ``decay_rate``, > 0.
        decay_rate: > 0 (< 1 decays, > 1 grows).
        transition_begin: steps of constant ``init_value`` before the decay starts, >= 0.
        staircase: decay in discrete jumps every ``transition_steps`` steps.
        end_value: optional bound.

    Unlike optax, which warns and returns a constant schedule, invalid ``transition_steps``,
    ``decay_rate`` or ``transition_begin`` raise ValueError.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = exponential_decay(1.0, transition_steps=2, decay_rate=0.5, staircase=True)
        >>> [s(t) for t in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    init_value = _finite("init_value", init_value)
    transition_steps = _steps("transition_steps", transition_steps)
    decay_rate = _number("decay_rate", decay_rate, lambda v: 0.0 < v < math.inf,
                         "a finite number > 0")
    transition_begin = _steps("transition_begin", transition_begin, positive=False)
    if end_value is not None:
        end_value = _finite("end_value", end_value)
        bound = np.maximum if decay_rate < 1.0 else np.minimum

    def schedule(count):
        elapsed = np.asarray(count) - transition_begin
        p = elapsed / transition_steps
        if staircase:
            p = np.floor(p)
        value = np.where(elapsed <= 0, init_value, init_value * decay_rate ** np.maximum(p, 0))
        if end_value is not None:
            value = bound(value, end_value)
        return _out(value)

    return schedule


def step_schedule(init_value: float, step_size: int, decay_rate: float = 0.1) -> Schedule:
    """Step decay: ``lr(t) = init_value * decay_rate ** floor(t / step_size)`` (PyTorch's
    ``StepLR(step_size, gamma=decay_rate)``); it is ``exponential_decay(init_value, step_size,
    decay_rate, staircase=True)``.

    Args:
        init_value: the rate for the first ``step_size`` steps.
        step_size: the steps between two decays, > 0.
        decay_rate: the factor applied every ``step_size`` steps (PyTorch's ``gamma``).

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = step_schedule(1.0, step_size=3, decay_rate=0.5)
        >>> [s(t) for t in range(7)]
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    """
    return exponential_decay(init_value, step_size, decay_rate, staircase=True)


def inverse_time_decay(init_value: float, transition_steps: int, decay_rate: float,
                       staircase: bool = False) -> Schedule:
    """Inverse-time decay: ``lr(t) = init_value / (1 + decay_rate * p)`` with
    ``p = t / transition_steps`` (``floor`` of it if ``staircase``); Keras's
    ``InverseTimeDecay`` with ``decay_steps = transition_steps``. With ``transition_steps=1``
    this is the classic ``eta_0 / (1 + eta_0 lambda t)`` step of stochastic approximation.

    Args:
        init_value: the rate at step 0.
        transition_steps: the steps per unit of ``p``, > 0.
        decay_rate: the factor in ``1 + decay_rate * p``, >= 0.
        staircase: decay in discrete jumps every ``transition_steps`` steps.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = inverse_time_decay(1.0, transition_steps=2, decay_rate=1.0)
        >>> [s(t) for t in range(5)]
        [1.0, 0.6666666666666666, 0.5, 0.4, 0.3333333333333333]
    """
    init_value = _finite("init_value", init_value)
    transition_steps = _steps("transition_steps", transition_steps)
    decay_rate = _number("decay_rate", decay_rate, lambda v: 0.0 <= v < math.inf,
                         "a finite number >= 0")

    def schedule(count):
        p = np.maximum(np.asarray(count), 0) / transition_steps
        if staircase:
            p = np.floor(p)
        return _out(init_value / (1.0 + decay_rate * p))

    return schedule


def polynomial_schedule(init_value: float, end_value: float, power: float,
                        transition_steps: int, transition_begin: int = 0) -> Schedule:
    """Polynomial decay from ``init_value`` to ``end_value`` over ``transition_steps`` steps::

        k = clip(t - transition_begin, 0, transition_steps)
        lr(t) = (init_value - end_value) * (1 - k / transition_steps) ** power + end_value

    Args:
        init_value: the rate until ``transition_begin``.
        end_value: the rate from ``transition_begin + transition_steps`` on.
        power: the exponent of the decay (1: linear).
        transition_steps: the length of the decay in steps, > 0.
        transition_begin: steps of constant ``init_value`` before the decay, >= 0.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = polynomial_schedule(1.0, 0.0, power=2, transition_steps=4)
        >>> [s(t) for t in range(6)]
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    init_value, end_value = _finite("init_value", init_value), _finite("end_value", end_value)
    power = _number("power", power, lambda v: 0.0 < v < math.inf, "a finite number > 0")
    transition_steps = _steps("transition_steps", transition_steps)
    transition_begin = _steps("transition_begin", transition_begin, positive=False)

    def schedule(count):
        k = np.clip(np.asarray(count) - transition_begin, 0, transition_steps)
        return _out((init_value - end_value) * (1.0 - k / transition_steps) ** power + end_value)

    return schedule


def linear_schedule(init_value: float, end_value: float, transition_steps: int,
                    transition_begin: int = 0) -> Schedule:
    """Linear interpolation from ``init_value`` to ``end_value``: ``polynomial_schedule`` with
    ``power=1``.

    Args:
        init_value: the rate until ``transition_begin``.
        end_value: the rate from ``transition_begin + transition_steps`` on.
        transition_steps: the length of the ramp in steps, > 0.
        transition_begin: steps of constant ``init_value`` before the ramp, >= 0.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = linear_schedule(1.0, 0.0, transition_steps=4)
        >>> [s(t) for t in range(6)]
        [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    return polynomial_schedule(init_value, end_value, 1.0, transition_steps, transition_begin)


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0,
                          exponent: float = 1.0) -> Schedule:
    """Cosine decay (SGDR without restarts)::

        k = min(t, decay_steps)
        lr(t) = init_value * ((1 - alpha) * (0.5 * (1 + cos(pi * k / decay_steps))) ** exponent
                              + alpha)

    ``alpha`` is the final rate as a fraction of ``init_value`` (usually in [0, 1]).

    Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
    ICLR 2017.

    Args:
        init_value: the rate at step 0.
        decay_steps: the steps over which the rate decays, > 0; it stays at
            ``alpha * init_value`` after.
        alpha: the final rate as a fraction of ``init_value``.
        exponent: the power the cosine factor is raised to (1: plain cosine).

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = cosine_decay_schedule(1.0, decay_steps=4, alpha=0.1)
        >>> [round(s(t), 4) for t in range(6)]
        [1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    """
    init_value = _finite("init_value", init_value)
    decay_steps = _steps("decay_steps", decay_steps)
    alpha = _finite("alpha", alpha)
    exponent = _number("exponent", exponent, lambda v: 0.0 < v < math.inf, "a finite number > 0")

    def schedule(count):
        return _out(init_value * ((1.0 - alpha) * _cosine(count, decay_steps, exponent)
                                  + alpha))

    return schedule


def _cosine(count, steps, exponent):
    """The cosine factor of the decay schedules, ``(0.5 (1 + cos(pi k / steps))) ** exponent``
    with ``k = clip(count, 0, steps)``: 1 at step 0, 0 from ``steps`` on."""
    k = np.clip(np.asarray(count), 0, steps)
    return (0.5 * (1.0 + np.cos(np.pi * k / steps))) ** exponent


def cosine_restarts(init_value: float, period: int, period_mult: int = 1,
                    end_value: float = 0.0) -> Schedule:
    """Cosine annealing with warm restarts, forever (PyTorch's ``CosineAnnealingWarmRestarts(
    T_0=period, T_mult=period_mult, eta_min=end_value)``)::

        cycle i lasts T_i = period * period_mult**i steps; k = steps into the current cycle
        lr(t) = end_value + (init_value - end_value) * 0.5 * (1 + cos(pi * k / T_i))

    See :func:`sgdr_schedule` for a finite list of cycles with their own warmups and peaks.

    Reference: Loshchilov & Hutter, "SGDR", ICLR 2017.

    Args:
        init_value: the rate at the start of every cycle.
        period: the length of the first cycle in steps, > 0.
        period_mult: each cycle is this many times longer than the previous one (an int >= 1).
        end_value: the rate each cycle decays towards.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = cosine_restarts(1.0, period=2, period_mult=2)
        >>> [s(t) for t in range(8)]
        [1.0, 0.5, 1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 1.0, 0.9619397662556434]
    """
    init_value, end_value = _finite("init_value", init_value), _finite("end_value", end_value)
    period = _steps("period", period)
    period_mult = _steps("period_mult", period_mult)

    def schedule(count):
        t = np.maximum(np.asarray(count), 0)
        if period_mult == 1:
            k, length = np.mod(t, period), period
        else:
            # cycle index from the geometric series, then corrected for rounding at boundaries
            m = period_mult
            i = np.floor(np.log1p(t * (m - 1) / period) / math.log(m))
            start = period * (m ** i - 1) // (m - 1)
            i = np.where(t < start, i - 1, np.where(t >= start + period * m ** i, i + 1, i))
            start = period * (m ** i - 1) // (m - 1)
            k, length = t - start, period * m ** i
        cosine = 0.5 * (1.0 + np.cos(np.pi * k / length))
        return _out(end_value + (init_value - end_value) * cosine)

    return schedule


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Run ``schedules[0]`` until ``boundaries[0]``, then ``schedules[1]`` restarted from step 0,
    and so on: for ``boundaries[i-1] <= t < boundaries[i]``,
    ``lr(t) = schedules[i](t - boundaries[i-1])``.

    Raises ValueError unless there is one boundary fewer than schedules, in increasing order.

    Args:
        schedules: the schedules, in the order they run.
        boundaries: the steps at which the next schedule takes over, increasing, one fewer
            than ``schedules``.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = join_schedules([constant_schedule(1.0), linear_schedule(0.5, 0.0, 2)], [3])
        >>> [s(t) for t in range(6)]
        [1.0, 1.0, 1.0, 0.5, 0.25, 0.0]
    """
    schedules, boundaries = list(schedules), [int(b) for b in boundaries]
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(f"join_schedules needs one boundary fewer than schedules, got "
                         f"{len(schedules)} schedules and {len(boundaries)} boundaries.")
    if any(b < 0 for b in boundaries) or boundaries != sorted(boundaries):
        raise ValueError(f"boundaries must be increasing integers >= 0, got {boundaries}.")

    def schedule(count):
        count = np.asarray(count)
        value = schedules[0](count)
        for boundary, s in zip(boundaries, schedules[1:]):
            # (a schedule is never asked for a step before its start: a user's
            # lambda t: 0.1 / math.sqrt(t + 1) would fail there, though its value is unused)
            value = np.where(count < boundary, value, s(np.maximum(count - boundary, 0)))
        return _out(value)

    return schedule


def linear_warmup(schedule: Schedule, warmup_steps: int, init_value: float = 0.0) -> Schedule:
    """Prepend a linear warmup to any schedule: ``lr(t)`` rises linearly from ``init_value``
    to ``schedule(0)`` over ``warmup_steps`` steps, then follows ``schedule(t - warmup_steps)``
    (Goyal et al., "Accurate, Large Minibatch SGD", 2017).

    Args:
        schedule: the schedule that follows the warmup (its step 0 is the first step after it).
        warmup_steps: the length of the warmup in steps, >= 0.
        init_value: the rate at step 0.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = linear_warmup(exponential_decay(1.0, 1, 0.5), warmup_steps=2)
        >>> [s(t) for t in range(5)]
        [0.0, 0.5, 1.0, 0.5, 0.25]
    """
    warmup_steps = _steps("warmup_steps", warmup_steps, positive=False)
    if warmup_steps == 0:
        return schedule
    warmup = linear_schedule(init_value, float(schedule(0)), warmup_steps)
    return join_schedules([warmup, schedule], [warmup_steps])


def warmup_cosine_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                 decay_steps: int, end_value: float = 0.0,
                                 exponent: float = 1.0) -> Schedule:
    """Linear warmup from ``init_value`` to ``peak_value`` over ``warmup_steps`` steps, then
    cosine decay to ``end_value`` at step ``decay_steps`` (which *includes* the warmup, as in
    optax)::

        lr(t) = init_value + (peak_value - init_value) * t / warmup_steps     t < warmup_steps
        lr(t) = end_value + (peak_value - end_value)
                * (0.5 * (1 + cos(pi * min(t - w, d - w) / (d - w)))) ** exponent   otherwise

    with ``w = warmup_steps`` and ``d = decay_steps``.

    Args:
        init_value: the rate at step 0.
        peak_value: the rate at the end of the warmup.
        warmup_steps: the length of the linear warmup in steps, >= 0.
        decay_steps: the step at which the cosine reaches ``end_value``, counted from step 0
            (the warmup included).
        end_value: the rate from ``decay_steps`` on.
        exponent: the power the cosine factor is raised to.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=1, decay_steps=3)
        >>> [s(t) for t in range(4)]
        [0.0, 1.0, 0.5, 0.0]
    """
    warmup_steps = _steps("warmup_steps", warmup_steps, positive=False)
    decay_steps = _steps("decay_steps", decay_steps)
    if decay_steps <= warmup_steps:
        raise ValueError(f"decay_steps ({decay_steps}) includes the warmup and must be larger "
                         f"than warmup_steps ({warmup_steps}).")
    peak_value, end_value = _finite("peak_value", peak_value), _finite("end_value", end_value)
    if peak_value != 0.0:  # cosine_decay_schedule's alpha: the end value relative to the peak
        cosine = cosine_decay_schedule(peak_value, decay_steps - warmup_steps,
                                       end_value / peak_value, exponent)
    else:  # (no ratio to the peak: the formula above, with peak_value = 0)
        span = decay_steps - warmup_steps
        exponent = _number("exponent", exponent, lambda v: 0.0 < v < math.inf,
                           "a finite number > 0")

        def cosine(count):
            return _out(end_value - end_value * _cosine(count, span, exponent))
    return linear_warmup(cosine, warmup_steps, init_value)


def warmup_exponential_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                      transition_steps: int, decay_rate: float,
                                      transition_begin: int = 0, staircase: bool = False,
                                      end_value: float | None = None) -> Schedule:
    """Linear warmup from ``init_value`` to ``peak_value`` over ``warmup_steps`` steps, then
    ``exponential_decay(peak_value, transition_steps, decay_rate, transition_begin, staircase,
    end_value)`` counted from the end of the warmup.

    Args:
        init_value: the rate at step 0.
        peak_value: the rate at the end of the warmup, where the decay starts.
        warmup_steps: the length of the linear warmup in steps, >= 0.
        transition_steps: as in :func:`exponential_decay`.
        decay_rate: as in :func:`exponential_decay`.
        transition_begin: as in :func:`exponential_decay`, counted from the end of the warmup.
        staircase: as in :func:`exponential_decay`.
        end_value: as in :func:`exponential_decay`.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> s = warmup_exponential_decay_schedule(0.0, 1.0, 2, transition_steps=1, decay_rate=0.5)
        >>> [s(t) for t in range(5)]
        [0.0, 0.5, 1.0, 0.5, 0.25]
    """
    decay = exponential_decay(peak_value, transition_steps, decay_rate, transition_begin,
                              staircase, end_value)
    return linear_warmup(decay, warmup_steps, init_value)


def sgdr_schedule(cosine_kwargs: Sequence[dict]) -> Schedule:
    """SGDR: a sequence of warmup-cosine cycles, each given by the keyword arguments of
    :func:`warmup_cosine_decay_schedule`; cycle ``i`` starts when cycle ``i-1`` has run its
    ``decay_steps``.

    Reference: Loshchilov & Hutter, "SGDR", ICLR 2017.

    Args:
        cosine_kwargs: one dict of :func:`warmup_cosine_decay_schedule` keyword arguments per
            cycle.

    Returns:
        The schedule: a function of the step count ``t`` (an int >= 0) that returns the rate.

    Examples:
        >>> cycle = dict(init_value=0.0, peak_value=1.0, warmup_steps=1, decay_steps=3)
        >>> s = sgdr_schedule([cycle, cycle])
        >>> [s(t) for t in range(6)]
        [0.0, 1.0, 0.5, 0.0, 1.0, 0.5]
    """
    schedules, boundaries, step = [], [], 0
    for kwargs in cosine_kwargs:
        schedules.append(warmup_cosine_decay_schedule(**kwargs))
        step += int(kwargs["decay_steps"])
        boundaries.append(step)
    if not schedules:
        raise ValueError("sgdr_schedule needs at least one cycle in cosine_kwargs.")
    return join_schedules(schedules, boundaries[:-1])
