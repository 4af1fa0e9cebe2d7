"""Findings: vanishing and exploding gradients, NaN / inf, divergence, plateaus and a too-high
learning rate, each judged on smoothed per-epoch evidence and carrying it.

Every detector reads a history dict as written by :class:`~gradkit.diagnostics.GradientMonitor`
(``"step"``, ``"loss"``, ``"grad_norm": {group: [...]}``, optionally ``"nonfinite"``,
``"learning_rate"``), so a history saved to JSON and loaded again is diagnosed the same way.
:func:`diagnose` also takes a monitor or a fitted estimator.

**How trends are judged.** A mini-batch loss is noisy: one batch's loss says little, and a
rule on single steps fires on every healthy run sooner or later. So the steps are grouped
into *epochs* (from ``history["epoch"]``, ``history["steps_per_epoch"]``, the
``steps_per_epoch`` argument, or a fitted estimator's own epoch count); without any of
these, into windows of ``max(1, n // 25)`` consecutive recorded steps. The detectors compare
the mean loss of these windows, smoothed by a running median of three, and a change counts
only when it is larger than the noise: ``z = 4`` standard errors of the window means, where
the step-to-step noise ``sigma`` is the robust spread of the loss around its running median
of five steps (zero for a monotone curve, whatever its shape). A full-batch run is judged
step by step: it has one step per epoch and no sampling noise.
"""
from __future__ import annotations

import dataclasses
import html
import math

import numpy as np

__all__ = ["Finding", "Findings", "diagnose", "vanishing_gradients", "exploding_gradients",
           "nan_or_inf", "divergence", "plateau", "learning_rate_too_high", "REMEDIES",
           "epoch_length"]

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
    "divergence": (
        "Lower the learning rate (by 10x to start with; below 2/L for an L-smooth loss), "
        "standardize the features, clip the gradient by its global norm, or use a full-batch "
        "method with a line search (lbfgs), which cannot increase the loss."),
    "plateau": (
        "If the loss is still too high, add momentum or use an adaptive method such as Adam "
        "to move through flat regions and saddle points, or a learning-rate schedule with "
        "warm restarts (Dauphin et al. 2014; Loshchilov & Hutter 2017)."),
    "learning_rate_too_high": (
        "Use a smaller learning rate (below 2/L for an L-smooth loss), a decaying schedule or "
        "warmup, momentum to damp the oscillation, or a line search (Goodfellow et al. 2016, "
        "ch. 8)."),
}

#: Standard errors a change must exceed to count (see the module doc).
Z = 4.0


def _fmt(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    if isinstance(value, tuple) and len(value) == 2:
        return f"steps {value[0]} to {value[1]}"
    return str(value)


@dataclasses.dataclass
class Finding:
    """One thing that went wrong in training, with the evidence it was judged on.

    Attributes:
        kind: ``"vanishing"``, ``"exploding"``, ``"nan"``, ``"divergence"``, ``"plateau"`` or
            ``"learning_rate_too_high"``.
        message: what was seen, with the numbers.
        layer: the parameter group (or parameter path, for NaN) concerned, or None.
        step: the step from which it holds, or None.
        remedy: what the literature suggests doing about it.
        value: the measured quantity (a norm ratio, a growth factor, ...), or None.
        evidence: ``{what: number or text}``: the quantity judged (``"judged on"``), the
            ``"window"`` of steps ``(first, last)`` it holds over, and the numbers compared,
            noise included.

    Examples:
        >>> f = Finding("plateau", "flat", step=3, evidence={"window": (3, 40)})
        >>> "steps 3 to 40" in f._repr_html_()
        True
    """

    kind: str
    message: str
    layer: str | None = None
    step: int | None = None
    remedy: str = ""
    value: float | None = None
    evidence: dict = dataclasses.field(default_factory=dict)

    def __str__(self):
        return f"[{self.kind}] {self.message} Remedy: {self.remedy}"

    def _repr_html_(self):
        esc = html.escape
        where = ", ".join(p for p in (f"layer {self.layer}" if self.layer is not None else "",
                                      f"from step {self.step}" if self.step is not None else "")
                          if p)
        rows = "".join(f"<tr><td>{esc(str(k))}</td><td>{esc(_fmt(v))}</td></tr>"
                       for k, v in self.evidence.items())
        table = f'<table style="font-size:90%">{rows}</table>' if rows else ""
        remedy = f"<br><b>What to do:</b> {esc(self.remedy)}" if self.remedy else ""
        return ('<div style="border-left:4px solid #d9822b;padding:.3em .7em;margin:.4em 0">'
                f"<b>{esc(self.kind.replace('_', ' '))}</b>"
                f"{' (' + esc(where) + ')' if where else ''}: {esc(self.message)}{remedy}"
                f"{table}</div>")


class Findings(list):
    """The list :func:`diagnose` returns; in a notebook it shows as boxes with the evidence.

    Args:
        iterable: the :class:`Finding` objects.

    Examples:
        >>> Findings([])._repr_html_()[:21]
        '<p>No problems found:'
    """

    def _repr_html_(self):
        if not self:
            return ("<p>No problems found: no vanishing or exploding gradients, NaN, "
                    "divergence, plateau or too-high learning rate.</p>")
        return "".join(f._repr_html_() for f in self)


# ----------------------------------------------------------------------------- the series
def _steps(history):
    n = len(history.get("loss", []))
    steps = list(history.get("step") or [])
    return steps if len(steps) == n else list(range(n))


def _norms(history):
    return {g: np.asarray([math.nan if x is None else x for x in v], dtype=float)
            for g, v in (history.get("grad_norm") or {}).items()}


def _losses(history):
    return np.asarray([math.nan if v is None else v for v in history.get("loss", [])],
                      dtype=float)


def _check_history(history):
    if not isinstance(history, dict) or "loss" not in history:
        raise TypeError("diagnose expects a history dict with at least a 'loss' list, as "
                        "written by GradientMonitor (mon.history or estimator.history_); got "
                        f"{type(history).__name__}.")


def _noise(loss):
    """``sigma``: the robust spread of the loss around its running median of five steps.

    The median of five values of a monotone sequence is its middle value, so a smooth
    decrease (or an explosion) has no residual at all; mini-batch noise has."""
    x = loss[np.isfinite(loss)]
    if x.size < 5:
        return 0.0
    med = np.median(np.lib.stride_tricks.sliding_window_view(x, 5), axis=1)
    resid = x[2:-2] - med
    return float(1.4826 * np.median(np.abs(resid)))


class _Series:
    """The recorded steps grouped into epochs (or windows), with their mean loss, its
    running median of three (``smooth``), and the standard error of each mean."""

    def __init__(self, history, steps_per_epoch=None):
        self.steps = np.asarray(_steps(history))
        self.loss = _losses(history)
        n = self.loss.size
        self.window = None  # steps per window, when no epochs are known
        epoch = history.get("epoch")
        spe = steps_per_epoch or history.get("steps_per_epoch")
        if epoch is not None and len(epoch) == n:
            labels = np.asarray(epoch)
            self.unit, self.per = "epoch", "the mean loss of each epoch"
        elif spe and n:
            spe = max(int(spe), 1)
            labels = (self.steps - self.steps[0]) // spe
            self.unit = "epoch" if spe > 1 else "step"
            self.per = (f"the mean loss of each epoch ({spe} steps)" if spe > 1
                        else "the loss at each step (full batch)")
        else:
            w = self.window = max(1, n // 25)
            labels = np.arange(n) // w
            self.unit = "window" if w > 1 else "step"
            self.per = (f"the mean loss of windows of {w} recorded steps" if w > 1
                        else "the loss at each step")
        cuts = np.flatnonzero(np.diff(labels) != 0) + 1 if n else np.array([], int)
        self.bounds = list(zip(np.r_[0, cuts], np.r_[cuts, n])) if n else []
        starts = np.array([a for a, _ in self.bounds], dtype=int)
        self.count = np.array([b - a for a, b in self.bounds], dtype=int)
        self.mean = (np.add.reduceat(self.loss, starts) / self.count if n
                     else np.array([]))
        self.sigma = _noise(self.loss)
        self.se = self.sigma / np.sqrt(np.maximum(self.count, 1))
        m = self.mean
        self.smooth = m.copy()
        if m.size >= 3:  # the running median of three; the ends take the mean of two
            self.smooth[1:-1] = np.median(np.lib.stride_tricks.sliding_window_view(m, 3),
                                          axis=1)
        if m.size >= 2:
            self.smooth[0], self.smooth[-1] = np.mean(m[:2]), np.mean(m[-2:])
        if self.per and self.unit != "step":
            self.per += ", median of 3"

    def window_median(self, values):
        """The median of the finite ``values`` of each window (NaN where there are none)."""
        v = np.where(np.isfinite(values), values, np.nan)
        if self.count.size and self.count.max() == 1:  # one step per window: no loop
            return v[:self.count.size]
        return np.array([np.nanmedian(v[a:b]) if np.any(np.isfinite(v[a:b])) else np.nan
                         for a, b in self.bounds])

    def first(self, k):
        return int(self.steps[self.bounds[k][0]])

    def last(self, k):
        return int(self.steps[self.bounds[k][1] - 1])

    def significant(self, diff, k, j=0):
        """Whether ``diff`` (a difference of window means ``k`` and ``j``) exceeds the noise."""
        return diff > Z * math.hypot(self.se[k], self.se[j])

    def evidence(self, k0, k1, **numbers):
        out = {"judged on": self.per, "window": (self.first(k0), self.last(k1))}
        if self.sigma > 0:
            out["noise (std of one step's loss)"] = self.sigma
        out.update(numbers)
        return out


def _resolve(history, steps_per_epoch=None):
    """``(history dict, steps per epoch or None)`` of a dict, a monitor or a fitted estimator."""
    if isinstance(history, dict):
        return history, steps_per_epoch
    if hasattr(history, "history_") and hasattr(history, "optimizer_kind"):  # an estimator
        h = history.history_
        if steps_per_epoch is None:
            kind, _ = history.optimizer_kind()
            epochs = len(getattr(history, "loss_curve_", []) or [])
            total = int(getattr(history, "t_", 0) or 0)
            if kind == "minimize":
                steps_per_epoch = 1
            elif epochs and total:
                steps_per_epoch = max(total // epochs, 1)
        return h, steps_per_epoch
    if hasattr(history, "history") and isinstance(history.history, dict):  # a monitor
        return history.history, steps_per_epoch
    return history, steps_per_epoch


def epoch_length(source):
    """The recorded steps per epoch of a fitted estimator (1 for a full-batch method), or of a
    history that says (``"steps_per_epoch"``); None when unknown.

    Args:
        source: a fitted estimator, a monitor or a history dict.

    Returns:
        The number of recorded steps per epoch, an int, or None.

    Examples:
        >>> epoch_length({"loss": [1.0], "steps_per_epoch": 7}), epoch_length({"loss": [1.0]})
        (7, None)
    """
    history, spe = _resolve(source)
    return spe or (history.get("steps_per_epoch") if isinstance(history, dict) else None)


# ----------------------------------------------------------------------------- detectors
def vanishing_gradients(history, ratio: float = 1e-3, min_layers: int = 3,
                        min_steps: int = 3, *, steps_per_epoch=None) -> list:
    """Layers whose gradient norm stays below ``ratio`` times that of the last layer.

    With ``r_l = ||g_l|| / ||g_L||`` (``L`` = the last group, the output layer), layer ``l``
    vanishes from epoch ``e`` when the median of ``r_l`` over each epoch is below ``ratio``
    in every epoch from ``e`` to the end, over at least ``min(min_steps, number of steps)``
    steps; the step reported is the first step of epoch ``e`` with ``r_l < ratio``. The
    default 1e-3 means the first layers learn a thousand times more slowly than the last.
    Vanishing is a matter of depth, so histories with fewer than ``min_layers`` groups give
    no finding.

    Args:
        history: a training history, as for :func:`diagnose`.
        ratio: the gradient-norm ratio to the last layer below which a layer vanishes.
        min_layers: the fewest parameter groups for which vanishing is judged.
        min_steps: the fewest steps a layer must stay below ``ratio``.
        steps_per_epoch: recorded steps per epoch, when the history does not say.

    Returns:
        A list of ``"vanishing"`` :class:`Finding`, one per vanishing layer, in layer order.

    Examples:
        >>> h = {"step": [0, 1, 2], "loss": [1.0, 0.9, 0.8],
        ...      "grad_norm": {"l1": [1e-9] * 3, "l2": [1e-2] * 3, "l3": [1.0] * 3}}
        >>> [(f.layer, f.step) for f in vanishing_gradients(h)]
        [('l1', 0)]
    """
    history, steps_per_epoch = _resolve(history, steps_per_epoch)
    _check_history(history)
    norms = _norms(history)
    groups = list(norms)
    if len(groups) < min_layers:
        return []
    s = _Series(history, steps_per_epoch)
    last = groups[-1]
    out = []
    for group in groups[:-1]:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = norms[group] / norms[last]
        r = np.where(np.isfinite(r) & (norms[last] > 0), r, np.nan)
        med = s.window_median(r)
        valid = np.flatnonzero(np.isfinite(med))
        if valid.size == 0 or not med[valid[-1]] < ratio:
            continue
        below = med[valid] < ratio
        start = valid[0] if below.all() else valid[valid.size - np.argmin(below[::-1])]
        a = s.bounds[start][0]
        steps_in = int(np.sum(np.isfinite(r[a:])))
        if steps_in < min(min_steps, int(np.sum(np.isfinite(r)))):
            continue
        first = a + int(np.argmax(np.nan_to_num(r[a:], nan=np.inf) < ratio))
        at, worst = float(med[valid[-1]]), float(np.nanmin(r[a:]))
        step = int(s.steps[first])
        out.append(Finding(
            "vanishing",
            f"Gradients vanish in layer {group!r} from step {step}: its gradient norm is "
            f"{at:.2g} times that of the last layer {last!r} "
            + ("at the last step" if s.unit == "step" else f"in the last {s.unit} (median)")
            + f" and below {ratio:g} times at every {s.unit} since (as low as {worst:.2g}), so "
            "it barely learns.",
            layer=group, step=step, remedy=REMEDIES["vanishing"], value=at,
            evidence=dict(s.evidence(start, len(s.bounds) - 1),
                          **{"judged on": (f"the median over each {s.unit} of "
                                           if s.unit != "step" else "at each step, ")
                                          + f"||g_{group}|| / ||g_{last}||",
                             "ratio in the last " + s.unit: at, "lowest ratio": worst,
                             "threshold": ratio})))
    return out


def exploding_gradients(history, factor: float = 100.0, *, steps_per_epoch=None) -> list:
    """Layers whose gradient norm grew by ``factor`` while the loss got worse, or overflowed.

    The reference is the median norm of the layer over its first epoch. Layer ``l`` explodes
    in the first epoch whose median norm is at least ``factor`` times the reference while the
    epoch's mean loss is above the first epoch's by more than the noise (or not finite):
    gradients that grow while the loss falls are a network recovering from a small
    initialization, not an explosion. The step reported is the first of that epoch whose
    norm crossed. An infinite norm of finite entries (the sum of squares overflowed) is
    always an explosion.

    Args:
        history: a training history, as for :func:`diagnose`.
        factor: the growth of a layer's gradient norm that counts as exploding.
        steps_per_epoch: recorded steps per epoch, when the history does not say.

    Returns:
        A list of ``"exploding"`` :class:`Finding`, one per layer, or empty.

    Examples:
        >>> h = {"step": [0, 1, 2, 3], "loss": [1.0, 2.0, 50.0, 1e4],
        ...      "grad_norm": {"w": [1.0, 3.0, 200.0, 1e5]}}
        >>> [(f.layer, f.step) for f in exploding_gradients(h)]
        [('w', 2)]
    """
    history, steps_per_epoch = _resolve(history, steps_per_epoch)
    _check_history(history)
    s = _Series(history, steps_per_epoch)
    out = []
    if not s.bounds:
        return out
    m0 = s.mean[0]
    for group, n in _norms(history).items():
        inf = np.flatnonzero(n == math.inf)
        if inf.size:
            t = int(inf[0])
            out.append(Finding(
                "exploding",
                f"The gradient norm of {group!r} overflowed to inf at step {s.steps[t]}.",
                layer=group, step=int(s.steps[t]), remedy=REMEDIES["exploding"],
                value=math.inf, evidence={"judged on": "the gradient norm at each step",
                                          "window": (int(s.steps[t]), int(s.steps[t]))}))
            continue
        a0, b0 = s.bounds[0]
        first = n[a0:b0][np.isfinite(n[a0:b0])]
        ref = float(np.median(first)) if first.size else math.nan
        if not ref > 0:
            continue
        med = s.window_median(n)
        for k in np.flatnonzero(med >= factor * ref):
            a, b = s.bounds[k]
            mk = s.mean[k]
            worse = not math.isfinite(mk) or (math.isfinite(m0) and s.significant(mk - m0, k))
            if not worse:
                continue
            t = a + int(np.argmax(np.nan_to_num(n[a:b], nan=-np.inf) >= factor * ref))
            value = float(n[t])
            growth = value / ref
            # per step of training, not per record (a strided or thinned history)
            rate = growth ** (1.0 / max(int(s.steps[t]) - int(s.steps[0]), 1))
            out.append(Finding(
                "exploding",
                f"The gradient norm of {group!r} grew {growth:.3g}-fold (about {rate:.3g}x "
                f"per step) to {value:.3g} by step {s.steps[t]} while the loss rose from "
                f"{m0:.4g} to {mk:.4g}.",
                layer=group, step=int(s.steps[t]), remedy=REMEDIES["exploding"], value=growth,
                evidence=dict(s.evidence(0, k), **{
                    "judged on": f"the median gradient norm of each {s.unit}, and "
                                 + s.per.replace(", median of 3", ""),
                    "reference norm (first " + s.unit + ")": ref, "norm": value,
                    "growth": growth, "threshold": factor, "loss at start": m0,
                    "loss then": mk})))
            break
        else:
            # a spike inside the first window must not raise its own reference: for the
            # spike test the reference is the smaller of the first norm and the median
            # (a first norm of 0, an intercept's on a balanced first batch, is no reference)
            if first[0] > 0:
                ref = min(ref, float(first[0]))
            spike = _loss_spike(history, n, factor * ref, m0)
            if spike is not None:
                t, loss_t = spike
                out.append(Finding(
                    "exploding",
                    f"The gradient norm of {group!r} grew {n[t] / ref:.3g}-fold in a spike to "
                    f"{n[t]:.3g} at step {s.steps[t]}, and the loss with it from {m0:.4g} to "
                    f"{loss_t:.4g}.",
                    layer=group, step=int(s.steps[t]), remedy=REMEDIES["exploding"],
                    value=float(n[t] / ref), evidence={
                        "judged on": "the gradient norm and the loss at each step (a spike)",
                        "window": (int(s.steps[t]), int(s.steps[t])),
                        "reference norm (first " + s.unit + ")": ref, "norm": float(n[t]),
                        "threshold": factor, "loss at start": m0, "loss then": loss_t}))
    return out


def _loss_spike(history, norms, limit, start_loss):
    """The first step ``(t, loss)`` where a layer's gradient norm reached ``limit`` while the
    loss was more than twice its start: an explosion too brief for the windows (a few steps
    of a short run), but one no healthy run shows. None if there is none."""
    loss = np.asarray(_losses(history), dtype=float)
    if not (math.isfinite(start_loss) and start_loss > 0) or loss.size != norms.size:
        return None
    hit = np.flatnonzero((norms >= limit) & (loss > 2.0 * start_loss))
    return (int(hit[0]), float(loss[hit[0]])) if hit.size else None


def nan_or_inf(history) -> list:
    """The step and parameter where a NaN or inf first appeared (loss, gradient, parameter).

    Uses the ``"nonfinite"`` events the monitor recorded; for a history without them, the
    first non-finite loss or gradient norm. A non-finite value needs no smoothing: one is
    enough.

    Args:
        history: a training history, as for :func:`diagnose`.

    Returns:
        A list with one ``"nan"`` :class:`Finding`, or empty.

    Examples:
        >>> event = {"step": 1, "what": "gradient", "parameter": "out/w", "value": "nan"}
        >>> h = {"step": [0, 1], "loss": [1.0, float("nan")], "nonfinite": [event]}
        >>> f = nan_or_inf(h)[0]
        >>> f.layer, f.step
        ('out/w', 1)
    """
    history, _ = _resolve(history)
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
                    layer=layer, step=int(first["step"]), remedy=REMEDIES["nan"],
                    evidence={"judged on": "the values recorded at each step",
                              "window": (int(first["step"]), int(first["step"]))})]


def _divergence_window(s, growth):
    """``(k, low)``: the first window whose smoothed loss is ``growth`` times the first
    window's (and significantly above it), and the window of the lowest loss before it."""
    if s.mean.size < 2 or not math.isfinite(s.mean[0]) or s.mean[0] == 0:
        return None
    m0 = s.mean[0]
    for k in range(1, s.smooth.size):
        v = s.smooth[k]
        if (not math.isfinite(v) and math.isfinite(s.mean[k - 1])) or \
                (v - m0 >= (growth - 1) * abs(m0) and s.significant(v - m0, k)):
            low = int(np.nanargmin(s.mean[:k])) if np.any(np.isfinite(s.mean[:k])) else 0
            return k, low
    return None


def divergence(history, growth: float = 10.0, *, steps_per_epoch=None) -> list:
    """The loss grew without bound: the smoothed loss per epoch reached ``growth`` times its
    first epoch's value.

    The step reported is the first of the epoch where the loss was lowest before it grew:
    the point from which the steps made it worse. ``learning_rate_too_high`` leaves such a
    run to this finding.

    Args:
        history: a training history, as for :func:`diagnose`.
        growth: the factor over the first epoch's loss that counts as diverging.
        steps_per_epoch: recorded steps per epoch, when the history does not say.

    Returns:
        A list with one ``"divergence"`` :class:`Finding`, or empty.

    Examples:
        >>> h = {"loss": [1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 9.0, 17.0, 33.0]}
        >>> [(f.step, round(f.value)) for f in divergence(h)]
        [(0, 33)]
    """
    history, steps_per_epoch = _resolve(history, steps_per_epoch)
    _check_history(history)
    s = _Series(history, steps_per_epoch)
    found = _divergence_window(s, growth)
    if found is None:
        return []
    k, low = found
    end = s.mean.size - 1
    top = float(np.nanmax(np.where(np.isfinite(s.mean), s.mean, np.nan)))
    m0 = float(s.mean[0])
    step = s.first(low)
    return [Finding(
        "divergence",
        f"The loss diverged: from {s.mean[low]:.4g} at step {step} it grew to {top:.4g} "
        f"({top / abs(m0):.3g} times its start {m0:.4g}) by step {s.last(end)}; the steps "
        "overshoot the minimum more at every step.",
        step=step, remedy=REMEDIES["divergence"], value=top / abs(m0),
        evidence=s.evidence(low, end, **{"loss at start": m0, "lowest loss": s.mean[low],
                                         "highest loss": top, "threshold (growth)": growth}))]


def _flip_run_length(n):
    """The shortest run of alternating changes that noise gives with chance below ``1/n``:
    for independent noise a change flips the sign of the one before with probability 2/3,
    so a run of ``L`` flips starts at a given step with chance ``(2/3)^(L-1)``."""
    return max(8, int(math.ceil(1 + 2 * math.log(max(n, 2)) / math.log(1.5))))


def _oscillation(s, history):
    """A zig-zag: a run of alternating changes too long for noise, without progress, whose
    swings do not die out (those of its second half are at least half those of its first):
    a step at or beyond 2/L. Judged per epoch when epochs are known."""
    by_epoch = s.unit == "epoch"
    y = s.mean if by_epoch else s.loss
    x = [s.first(k) for k in range(len(s.bounds))] if by_epoch else list(s.steps)
    y = np.asarray(y, dtype=float)
    if y.size < 9 or not np.all(np.isfinite(y)):
        return None
    d = np.diff(y)
    need = _flip_run_length(d.size)
    flips = np.sign(d[1:]) * np.sign(d[:-1]) < 0
    t = 0
    while t < flips.size:
        end = t
        while end < flips.size and flips[end]:
            end += 1
        n = end - t + 1  # changes d[t..end] alternate
        if n >= need:
            seg = d[t:end + 1]
            half = n // 2
            swing = float(np.mean(np.abs(seg)))
            progress = (y[t] + y[t + 1] - y[end] - y[end + 1]) / 2
            level = float(np.mean(np.abs(y[t:end + 2])))
            if progress < 0.5 * swing and swing > 1e-3 * level and \
                    np.mean(np.abs(seg[half:])) >= 0.5 * np.mean(np.abs(seg[:half])):
                unit = "epoch" if by_epoch else "step"
                return Finding(
                    "learning_rate_too_high",
                    f"The loss zig-zags: for {n} {unit}s from step {x[t]} every change flips "
                    f"sign (swings of {swing:.3g}, about {swing / level:.1%} of the loss) and "
                    "they do not die out, with no net progress: the step overshoots the "
                    "minimum.",
                    step=int(x[t]), remedy=REMEDIES["learning_rate_too_high"], value=float(n),
                    evidence={"judged on": s.per.replace(", median of 3", "") if by_epoch
                              else "the loss at each step",
                              "window": (int(x[t]), int(x[min(end + 1, len(x) - 1)])),
                              "alternating changes": n,
                              "run that noise reaches with chance < 1/n": need,
                              "mean swing": swing, "net progress": progress})
        t = end + 1
    return None


def learning_rate_too_high(history, rise: float = 0.1, *, steps_per_epoch=None) -> list:
    """The loss rises, gives back its progress, or zig-zags: signs the step is too large.

    On the smoothed loss per epoch (see the module doc), the first of:

    - it is above the first epoch's by more than ``rise * |L_0|`` and the noise, for two
      epochs in a row (or in the last);
    - from its best ``B`` so far it climbed back by more than the noise and either by more
      than half the progress ``(L_0 - B) / 2`` (when that progress was over ``rise * |L_0|``
      and the noise) or to more than ``2 B`` (by over 1% of ``L_0``: a loss near zero
      doubling is no sign), for two epochs in a row (or in the last);
    - a zig-zag: a run of alternating changes longer than independent noise gives with
      chance ``1/n``, whose swings (over 0.1% of the loss) do not shrink, with no net
      progress. Per epoch when epochs are known, else per step.

    A loss that grows tenfold is a :func:`divergence`, reported there instead.

    Args:
        history: a training history, as for :func:`diagnose`.
        rise: the rise over the first epoch's loss, relative to it, that counts.
        steps_per_epoch: recorded steps per epoch, when the history does not say.

    Returns:
        A list with one ``"learning_rate_too_high"`` :class:`Finding`, or empty.

    Examples:
        >>> h = {"loss": [1.0, 0.5, 0.3, 0.2, 0.2, 0.6, 0.8, 0.9, 0.9, 0.9]}
        >>> [(f.step, f.kind) for f in learning_rate_too_high(h)]
        [(5, 'learning_rate_too_high')]
    """
    history, steps_per_epoch = _resolve(history, steps_per_epoch)
    _check_history(history)
    s = _Series(history, steps_per_epoch)
    if s.mean.size < 3 or _divergence_window(s, 10.0) is not None:
        return []
    S, m0 = s.smooth, s.mean[0]
    if not math.isfinite(m0):
        return []

    def held(k, test):  # two windows in a row, or the last one
        return test(k) and (k == S.size - 1 or test(k + 1))

    def above_start(k):
        return S[k] - m0 > rise * abs(m0) and s.significant(S[k] - m0, k)

    best_k = 0
    for k in range(1, S.size):
        if not math.isfinite(S[k]):
            break
        if held(k, above_start):
            return [Finding(
                "learning_rate_too_high",
                f"The loss rose above its start {m0:.4g} to {S[k]:.4g} by step {s.last(k)} "
                f"(in {s.per}): the steps overshoot.",
                step=s.first(k), remedy=REMEDIES["learning_rate_too_high"], value=float(S[k]),
                evidence=s.evidence(0, k, **{"loss at start": m0, "loss then": S[k],
                                             "threshold (rise)": rise}))]
        best = S[best_k]
        gained = m0 - best

        def gave_back(j, best=best, gained=gained):
            back = S[j] - best
            half = gained > rise * abs(m0) and s.significant(gained, best_k) and \
                back > 0.5 * gained
            doubled = best > 0 and back > best and back > 0.01 * abs(m0)
            return (half or doubled) and s.significant(back, j, best_k)

        if held(k, gave_back):
            return [Finding(
                "learning_rate_too_high",
                f"The loss climbed back from {best:.4g} (step {s.first(best_k)}) to {S[k]:.4g} "
                f"by step {s.last(k)} (in {s.per}), giving back "
                + ("more than half of the progress made since its start "
                   f"{m0:.4g}." if S[k] - best > 0.5 * (m0 - best) else
                   "more than its best value: it more than doubled."),
                step=s.first(k), remedy=REMEDIES["learning_rate_too_high"], value=float(S[k]),
                evidence=s.evidence(best_k, k, **{"loss at start": m0, "best loss": best,
                                                  "loss then": S[k]}))]
        if S[k] < S[best_k]:
            best_k = k
    zigzag = _oscillation(s, history)
    return [zigzag] if zigzag is not None else []


def _lr_changed(history, s, k):
    """Whether the recorded learning rate changed between windows ``k - 1`` and ``k + 1``."""
    lr = np.asarray([math.nan if v is None else v for v in history.get("learning_rate") or []],
                    dtype=float)
    if lr.size != s.loss.size or not np.any(np.isfinite(lr)):
        return False
    a = s.bounds[max(k - 1, 0)][0]
    b = s.bounds[min(k + 1, len(s.bounds) - 1)][1]
    seg = lr[a:b][np.isfinite(lr[a:b])]
    return seg.size > 1 and not np.allclose(seg, seg[0], rtol=1e-2)


def plateau(history, rtol: float = 1e-3, patience: int = 20, *, steps_per_epoch=None) -> list:
    """A flat stretch of the loss per epoch: ``patience`` or more epochs whose mean losses
    differ by less than ``rtol`` relative, that training then left (the loss fell by 10%
    more), or that began at the start and lasted to the end (the loss never moved). Without
    known epochs, ``patience`` counts recorded steps (at least three windows of them).

    A flat stretch at the end of a run that made progress is convergence, not a finding; a
    stretch that ends when the learning rate changes is the schedule's doing, not one
    either. Only the first stretch is reported.

    Args:
        history: a training history, as for :func:`diagnose`.
        rtol: the relative change of the mean loss below which epochs are flat.
        patience: the number of flat epochs that make a plateau.
        steps_per_epoch: recorded steps per epoch, when the history does not say.

    Returns:
        A list with one ``"plateau"`` :class:`Finding` (its ``value`` the length of the
        stretch), or empty.

    Examples:
        >>> h = {"loss": [1.0, 0.5] + [0.4] * 30 + [0.1, 0.05]}
        >>> f = plateau(h)[0]
        >>> f.step, f.value
        (2, 30.0)
    """
    history, steps_per_epoch = _resolve(history, steps_per_epoch)
    _check_history(history)
    s = _Series(history, steps_per_epoch)
    S = s.smooth
    K = S.size
    if s.window and s.window > 1:  # windows of recorded steps: patience counts steps
        patience = max(3, math.ceil(patience / s.window))
    if K < patience + 1 or not np.all(np.isfinite(S)):
        return []
    m = s.mean  # raw means: a median of three repeats values, which is not flatness
    a = 0
    while a < K:
        lo = hi = m[a]
        b = a + 1
        while b < K:
            lo2, hi2 = min(lo, m[b]), max(hi, m[b])
            if hi2 - lo2 > rtol * max(abs(m[a]), 1e-12):
                break
            lo, hi, b = lo2, hi2, b + 1
        if b - a >= patience:
            level = float(np.mean(m[a:b]))
            after = S[b:]
            escaped = after.size and np.min(after) < level - 0.1 * abs(level) and \
                s.significant(level - float(np.min(after)), int(b + np.argmin(after)))
            never_moved = a == 0 and b == K
            if (escaped and not _lr_changed(history, s, b)) or never_moved:
                start, n_steps = s.first(a), s.last(b - 1) - s.first(a) + 1
                tail = (", so far: it never moved from its start (stuck: check the learning "
                        "rate, the initialization and dead units)" if never_moved
                        else f", then it fell again from step {s.first(b)}")
                return [Finding(
                    "plateau",
                    f"The loss stayed at about {level:.4g}, varying by less than {rtol:g} "
                    f"relative, for {b - a} {s.unit}s ({n_steps} steps) from step "
                    f"{start}{tail}.",
                    step=start, remedy=REMEDIES["plateau"], value=float(b - a),
                    evidence=s.evidence(a, b - 1, **{"loss level": level,
                                                     "variation": float(hi - lo),
                                                     "threshold (relative)": rtol,
                                                     f"{s.unit}s flat": b - a}))]
            a = b
        else:
            a += 1
    return []


def diagnose(history, *, steps_per_epoch=None, vanishing_ratio: float = 1e-3,
             exploding_factor: float = 100.0, divergence_growth: float = 10.0,
             plateau_rtol: float = 1e-3, plateau_patience: int = 20) -> Findings:
    """All findings for a training history, ordered by step (then by kind).

    Runs :func:`nan_or_inf`, :func:`exploding_gradients`, :func:`vanishing_gradients`,
    :func:`divergence`, :func:`learning_rate_too_high` and :func:`plateau` with the given
    thresholds, each on the per-epoch evidence described in the module doc.

    Args:
        history: a dict as in :class:`GradientMonitor` (``mon.history``,
            ``estimator.history_``, or one loaded from JSON), a monitor, or a fitted
            estimator (whose epochs are then known).
        steps_per_epoch: how many recorded steps make one pass over the data, when the
            history does not say (``history["epoch"]`` or ``history["steps_per_epoch"]``).
        vanishing_ratio: ``ratio`` of :func:`vanishing_gradients`.
        exploding_factor: ``factor`` of :func:`exploding_gradients`.
        divergence_growth: ``growth`` of :func:`divergence`.
        plateau_rtol: ``rtol`` of :func:`plateau`.
        plateau_patience: ``patience`` of :func:`plateau`.

    Returns:
        :class:`Findings` (a list of :class:`Finding`); empty when nothing looks wrong.

    Raises:
        TypeError: if ``history`` is not a dict with a ``"loss"`` list.

    Examples:
        >>> diagnose({"step": [0, 1, 2], "loss": [1.0, 0.5, 0.25], "grad_norm": {"w": [2, 1, .5]}})
        []
    """
    history, spe = _resolve(history, steps_per_epoch)
    _check_history(history)
    found = (nan_or_inf(history)
             + exploding_gradients(history, factor=exploding_factor, steps_per_epoch=spe)
             + vanishing_gradients(history, ratio=vanishing_ratio, steps_per_epoch=spe)
             + divergence(history, growth=divergence_growth, steps_per_epoch=spe)
             + learning_rate_too_high(history, steps_per_epoch=spe)
             + plateau(history, rtol=plateau_rtol, patience=plateau_patience,
                       steps_per_epoch=spe))
    # once the loss has diverged or a value is not finite, saturated units and a flat loss
    # are its consequences, not other causes
    broken = [f.step for f in found if f.kind in ("divergence", "nan") and f.step is not None]
    if broken:
        found = [f for f in found if f.kind not in ("vanishing", "plateau")
                 or f.step is None or f.step <= min(broken)]
    order = {k: i for i, k in enumerate(REMEDIES)}
    return Findings(sorted(found, key=lambda f: (f.step if f.step is not None else -1,
                                                 order[f.kind])))
