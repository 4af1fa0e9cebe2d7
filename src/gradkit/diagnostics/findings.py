"""Findings: vanishing and exploding gradients, NaN / inf, plateaus and a too-high learning rate.

Every detector reads a history dict as written by :class:`~gradkit.diagnostics.GradientMonitor`
(``"step"``, ``"loss"``, ``"grad_norm": {group: [...]}``, optionally ``"nonfinite"``), so a
history saved to JSON and loaded again is diagnosed the same way.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["Finding", "diagnose", "vanishing_gradients", "exploding_gradients", "nan_or_inf",
           "plateau", "learning_rate_too_high", "REMEDIES"]

#: The remedy each kind of finding suggests: ``kind -> text``.
REMEDIES = {
    "vanishing": (
        "Initialize each layer with a variance scaled to its width (Glorot/Xavier for sigmoid "
        "and tanh, He/Kaiming for ReLU), prefer non-saturating activations such as ReLU, or add "
        "batch normalization or residual connections (Glorot & Bengio 2010; He et al. 2015; "
        "Ioffe & Szegedy 2015)."),
    "exploding": (
        "Clip the gradient by its global norm (gradkit.optim.clip_by_global_norm; Pascanu et "
        "al. 2013), lower the learning rate, and use a variance-preserving initialization "
        "(Glorot/He) or batch normalization."),
    "nan": (
        "Lower the learning rate, clip gradients (gradkit.optim.clip_by_global_norm), and "
        "compute the loss with stable primitives (logsumexp, log-sigmoid, cross-entropy from "
        "logits); GradientMonitor.last_good_params holds the last finite parameters."),
    "plateau": (
        "If the loss is still too high, add momentum or use an adaptive method such as Adam "
        "to move through flat regions and saddle points, or a learning-rate schedule with "
        "warm restarts (Dauphin et al. 2014; Loshchilov & Hutter 2017)."),
    "learning_rate_too_high": (
        "Use a smaller learning rate (below 2/L for an L-smooth loss), a decaying schedule or "
        "warmup, momentum to damp the oscillation, or a line search (Goodfellow et al. 2016, "
        "ch. 8)."),
}


@dataclasses.dataclass
class Finding:
    """One thing that went wrong in training.

    Attributes:
        kind: ``"vanishing"``, ``"exploding"``, ``"nan"``, ``"plateau"`` or
            ``"learning_rate_too_high"``.
        message: what was seen, with the numbers.
        layer: the parameter group (or parameter path, for NaN) concerned, or None.
        step: the step from which it holds, or None.
        remedy: what the literature suggests doing about it.
        value: the measured quantity (a norm ratio, a growth factor, ...), or None.
    """

    kind: str
    message: str
    layer: str | None = None
    step: int | None = None
    remedy: str = ""
    value: float | None = None

    def __str__(self):
        return f"[{self.kind}] {self.message} Remedy: {self.remedy}"


# ----------------------------------------------------------------------------- helpers
def _steps(history):
    return list(history.get("step") or range(len(history.get("loss", []))))


def _norms(history):
    return {g: np.asarray(v, dtype=float) for g, v in (history.get("grad_norm") or {}).items()}


def _losses(history):
    return np.asarray([math.nan if v is None else v for v in history.get("loss", [])],
                      dtype=float)


def _check_history(history):
    if not isinstance(history, dict) or "loss" not in history:
        raise TypeError("diagnose expects a history dict with at least a 'loss' list, as "
                        "written by GradientMonitor (mon.history or estimator.history_); got "
                        f"{type(history).__name__}.")


# ----------------------------------------------------------------------------- detectors
def vanishing_gradients(history, ratio: float = 1e-3, min_layers: int = 3,
                        min_steps: int = 3) -> list:
    """Layers whose gradient norm stays below ``ratio`` times that of the last layer.

    Layer ``l`` vanishes from step ``s`` when ``||g_l||_t < ratio * ||g_L||_t`` at every
    recorded step ``t >= s`` up to the end (``L`` = the last group, the output layer) and
    that holds for at least ``min(min_steps, number of steps)`` steps. The default ratio 1e-3
    means the first layers learn a thousand times more slowly than the last. Vanishing is a
    matter of depth, so histories with fewer than ``min_layers`` groups give no finding.

    Returns one :class:`Finding` per vanishing layer, in layer order.

    >>> h = {"step": [0, 1, 2], "loss": [1.0, 0.9, 0.8],
    ...      "grad_norm": {"l1": [1e-9] * 3, "l2": [1e-2] * 3, "l3": [1.0] * 3}}
    >>> [(f.layer, f.step) for f in vanishing_gradients(h)]
    [('l1', 0)]
    """
    _check_history(history)
    norms, steps = _norms(history), _steps(history)
    groups = list(norms)
    if len(groups) < min_layers:
        return []
    last = groups[-1]
    out = []
    for group in groups[:-1]:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = norms[group] / norms[last]
        valid = np.isfinite(r) & np.isfinite(norms[last]) & (norms[last] > 0)
        idx = np.flatnonzero(valid)
        if idx.size == 0:
            continue
        below = r[idx] < ratio
        if not below[-1]:
            continue
        start = idx.size - np.argmin(below[::-1]) if not below.all() else 0
        run = idx[start:]
        if run.size < min(min_steps, idx.size):
            continue
        worst = float(np.min(r[run]))
        at = float(r[run[-1]])
        out.append(Finding(
            "vanishing",
            f"Gradients vanish in layer {group!r} from step {steps[run[0]]}: its gradient norm "
            f"is {at:.2g} times that of the last layer {last!r} at the last step (as low as "
            f"{worst:.2g}, threshold {ratio:g}), so it barely learns.",
            layer=group, step=steps[run[0]], remedy=REMEDIES["vanishing"], value=at))
    return out


def exploding_gradients(history, factor: float = 100.0) -> list:
    """Layers whose gradient norm grew by ``factor`` while the loss got worse, or overflowed.

    The reference is the first finite norm of the layer. Layer ``l`` explodes at the
    first step ``t`` with ``||g_l||_t >= factor * reference`` and a loss at ``t`` above the
    initial loss (or not finite): gradients that grow while the loss falls are a network
    recovering from a small initialization, not an explosion. An infinite norm of finite
    entries (the sum of squares overflowed) is always an explosion.

    >>> h = {"step": [0, 1, 2, 3], "loss": [1.0, 2.0, 50.0, 1e4],
    ...      "grad_norm": {"w": [1.0, 3.0, 200.0, 1e5]}}
    >>> [(f.layer, f.step) for f in exploding_gradients(h)]
    [('w', 2)]
    """
    _check_history(history)
    norms, steps, loss = _norms(history), _steps(history), _losses(history)
    out = []
    loss0 = loss[0] if loss.size else math.nan
    for group, n in norms.items():
        finite = n[np.isfinite(n)]
        if finite.size == 0:
            continue
        ref = float(finite[0])
        for t, value in enumerate(n):
            lt = loss[t] if t < loss.size else math.nan
            worse = not math.isfinite(lt) or (math.isfinite(loss0) and lt > loss0)
            if value == math.inf:
                out.append(Finding(
                    "exploding",
                    f"The gradient norm of {group!r} overflowed to inf at step {steps[t]}.",
                    layer=group, step=steps[t], remedy=REMEDIES["exploding"], value=math.inf))
                break
            if ref > 0 and value >= factor * ref and worse:
                growth = value / ref
                per_step = growth ** (1.0 / max(t, 1))
                out.append(Finding(
                    "exploding",
                    f"The gradient norm of {group!r} grew {growth:.3g}-fold (about "
                    f"{per_step:.3g}x per step) to {value:.3g} by step {steps[t]} while the "
                    f"loss rose from {loss0:.4g} to {lt:.4g}.",
                    layer=group, step=steps[t], remedy=REMEDIES["exploding"], value=growth))
                break
    return out


def nan_or_inf(history) -> list:
    """The step and parameter where a NaN or inf first appeared (loss, gradient, parameter).

    Uses the ``"nonfinite"`` events the monitor recorded; for a history without them, the
    first non-finite loss or gradient norm.

    >>> h = {"step": [0, 1], "loss": [1.0, float("nan")],
    ...      "nonfinite": [{"step": 1, "what": "gradient", "parameter": "out/w", "value": "nan"}]}
    >>> f = nan_or_inf(h)[0]
    >>> f.layer, f.step
    ('out/w', 1)
    """
    _check_history(history)
    events = list(history.get("nonfinite") or [])
    if not events:
        steps, loss = _steps(history), _losses(history)
        bad = np.flatnonzero(~np.isfinite(loss))
        if bad.size:
            t = int(bad[0])
            events.append({"step": steps[t], "what": "loss", "parameter": None,
                           "value": "nan" if math.isnan(loss[t]) else "inf"})
        for group, n in _norms(history).items():
            bad = np.flatnonzero(np.isnan(n))
            if bad.size:
                t = int(bad[0])
                events.append({"step": steps[t], "what": "gradient", "parameter": group,
                               "value": "nan"})
    if not events:
        return []
    first = min(events, key=lambda e: e["step"])
    where = [e for e in events if e["step"] == first["step"]]
    parts = [f"the {e['what']}" + (f" of {e['parameter']!r}" if e.get("parameter") else "")
             + f" ({e['value']})" for e in where]
    layer = next((e["parameter"] for e in where if e.get("parameter")), None)
    return [Finding("nan", f"A non-finite value first appeared at step {first['step']} in "
                           + ", ".join(parts) + ".",
                    layer=layer, step=first["step"], remedy=REMEDIES["nan"])]


def plateau(history, rtol: float = 1e-4, patience: int = 20) -> list:
    """A stretch of ``patience`` or more steps where the loss changes by less than ``rtol``
    relative to its value at every step: ``|L_t - L_{t-1}| < rtol * max(|L_{t-1}|, 1e-12)``.

    Only the first such stretch is reported. A plateau that lasts to the end of training can
    also mean that it converged; the message says so.

    >>> h = {"loss": [1.0, 0.5] + [0.4] * 30 + [0.1]}
    >>> f = plateau(h)[0]
    >>> f.step, f.value
    (2, 29.0)
    """
    _check_history(history)
    loss, steps = _losses(history), _steps(history)
    if loss.size < patience + 1:
        return []
    with np.errstate(invalid="ignore"):
        flat = np.abs(np.diff(loss)) < rtol * np.maximum(np.abs(loss[:-1]), 1e-12)
    t = 0
    while t < flat.size:
        if not flat[t]:
            t += 1
            continue
        end = t
        while end < flat.size and flat[end]:
            end += 1
        if end - t >= patience:
            start_step, end_step = steps[t], steps[end]
            tail = (" until the end of training (converged, or stuck)" if end == flat.size
                    else f", then it fell again from step {end_step}")
            return [Finding(
                "plateau",
                f"The loss stayed at about {loss[t]:.4g}, changing by less than {rtol:g} "
                f"relative per step, for {end - t} steps from step {start_step}{tail}.",
                step=start_step, remedy=REMEDIES["plateau"], value=float(end - t))]
        t = end
    return []


def learning_rate_too_high(history, rise: float = 0.1, window: int = 5,
                           oscillation: int = 10) -> list:
    """The loss rises or oscillates: signs that the step is too large.

    On the loss smoothed by a running median over ``window`` steps (to tolerate mini-batch
    noise), it reports the first step where the loss is above its start by more than
    ``rise * |L_0|``, or has given back more than half of the progress made so far; and a
    stretch of ``oscillation`` or more steps in which every change flips sign, the loss
    gains less than half a swing over the stretch, and the swings do not shrink (the
    zig-zag of a step beyond 2/L).

    >>> h = {"loss": [1.0, 0.8, 0.9, 1.2, 1.6, 2.5, 4.0, 7.0]}
    >>> learning_rate_too_high(h)[0].step
    5
    """
    _check_history(history)
    loss, steps = _losses(history), _steps(history)
    if loss.size < 3:
        return []
    smooth = np.array([np.median(loss[max(0, t - window + 1):t + 1]) for t in range(loss.size)])
    out = []
    l0 = smooth[0]
    if math.isfinite(l0):
        def too_high(t, s, what):
            out.append(Finding("learning_rate_too_high", what, step=steps[t],
                               remedy=REMEDIES["learning_rate_too_high"], value=float(s)))

        best = l0
        for t in range(1, smooth.size):
            s = smooth[t]
            if s > l0 + rise * abs(l0) and (t >= 2 or window == 1):
                too_high(t, s, f"The loss rose above its starting value {l0:.4g} to {s:.4g} by "
                               f"step {steps[t]}: the steps overshoot.")
                break
            if best < l0 - rise * abs(l0) and s > best + 0.5 * (l0 - best):
                too_high(t, s, f"The loss climbed back from {best:.4g} to {s:.4g} by step "
                               f"{steps[t]}, losing more than half of the progress made since "
                               f"{l0:.4g}.")
                break
            if math.isfinite(s):
                best = min(best, s)
    if not out and loss.size > oscillation:
        d = np.diff(loss)
        flips = np.sign(d[1:]) * np.sign(d[:-1]) < 0
        t = 0
        while t < flips.size:
            end = t
            while end < flips.size and flips[end]:
                end += 1
            n = end - t + 1  # changes d[t..end] alternate
            if n >= oscillation:
                seg = d[t:end + 1]
                half = n // 2
                # net progress (averaged over a swing) smaller than half a swing
                no_progress = (loss[t] + loss[t + 1] - loss[end] - loss[end + 1]) / 2 \
                    < 0.5 * np.mean(np.abs(seg))
                growing = np.mean(np.abs(seg[half:])) >= np.mean(np.abs(seg[:half]))
                if no_progress and growing:
                    out.append(Finding(
                        "learning_rate_too_high",
                        f"The loss oscillated for {n} steps from step {steps[t]} (every change "
                        f"flips sign, amplitude {np.mean(np.abs(seg)):.3g}) without progress.",
                        step=steps[t], remedy=REMEDIES["learning_rate_too_high"],
                        value=float(n)))
                    break
            t = end + 1
    return out


def diagnose(history, *, vanishing_ratio: float = 1e-3, exploding_factor: float = 100.0,
             plateau_rtol: float = 1e-4, plateau_patience: int = 20) -> list:
    """All findings for a training history, ordered by step (then by kind).

    Runs :func:`nan_or_inf`, :func:`exploding_gradients`, :func:`vanishing_gradients`,
    :func:`learning_rate_too_high` and :func:`plateau` with the given thresholds.

    Args:
        history: a dict as in :class:`GradientMonitor` (``mon.history``,
            ``estimator.history_``, or one loaded from JSON).

    Returns:
        A list of :class:`Finding`; empty when nothing looks wrong.

    Raises:
        TypeError: if ``history`` is not a dict with a ``"loss"`` list.

    >>> diagnose({"step": [0, 1, 2], "loss": [1.0, 0.5, 0.25], "grad_norm": {"w": [2, 1, .5]}})
    []
    """
    _check_history(history)
    found = (nan_or_inf(history)
             + exploding_gradients(history, factor=exploding_factor)
             + vanishing_gradients(history, ratio=vanishing_ratio)
             + learning_rate_too_high(history)
             + plateau(history, rtol=plateau_rtol, patience=plateau_patience))
    order = {k: i for i, k in enumerate(REMEDIES)}
    return sorted(found, key=lambda f: (f.step if f.step is not None else -1, order[f.kind]))
