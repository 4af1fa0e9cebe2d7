"""Training curves (loss, validation loss, learning rate) and gradient flow per layer."""
from __future__ import annotations

import numpy as np

from ._figure import new_figure, plain_text

__all__ = ["training", "gradient_flow", "smooth", "ema"]

_KIND_COLORS = {"vanishing": "tab:blue", "exploding": "tab:red", "nan": "black",
                "divergence": "darkred", "plateau": "tab:gray",
                "learning_rate_too_high": "tab:orange"}


def _as_history(history):
    if isinstance(history, dict):
        if "loss" not in history:
            raise ValueError("history needs a 'loss' list (as in GradientMonitor.history or "
                             "estimator.history_); got keys " + repr(sorted(history)) + ".")
        return history
    if hasattr(history, "history_"):  # a fitted estimator
        return _as_history(history.history_)
    if hasattr(history, "history") and isinstance(history.history, dict):  # a monitor
        return _as_history(history.history)
    loss = np.asarray(history, dtype=float)
    if loss.ndim != 1:
        raise ValueError("history must be a history dict, a GradientMonitor, a fitted "
                         "estimator or a 1-D sequence of losses.")
    return {"loss": list(loss)}


def _steps(h, n):
    steps = h.get("step") or []
    return np.asarray(steps if len(steps) == n else np.arange(n), dtype=float)


def _positive_span(values):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return v.size > 0 and np.all(v > 0) and v.max() / v.min() > 100


def smooth(values, span):
    """The trend of noisy per-step values, without lag: at each step ``t``, the value at
    ``t`` of the least-squares line through the finite values of a window of ``span`` steps
    centred on ``t`` (moved inwards near the ends, so that it keeps its width). A trailing
    average (:func:`ema`) lags a trend by about ``span / 2`` steps, which on a diverging run
    draws the gradient norm decades below where it is; a local line follows a steady rise or
    fall exactly and averages the noise around it. NaN and inf are left out of the windows,
    and stay NaN (a gap, as in the raw values).

    Args:
        values: the per-step values (a 1-D sequence).
        span: the window's width in steps (1: the values as they are).

    Returns:
        The smoothed values, a float array of the same length.

    Examples:
        >>> smooth([0.0, 1.0, 2.0, 3.0, 4.0], span=3).tolist()   # a line is kept as it is
        [0.0, 1.0, 2.0, 3.0, 4.0]
        >>> smooth([1.0, 3.0, 1.0, 3.0, 1.0], span=5).round(3).tolist()
        [1.8, 1.8, 1.8, 1.8, 1.8]
    """
    y = np.asarray(values, dtype=float)
    n, width = y.size, min(max(int(span), 1), y.size)
    if width <= 1:
        return y.copy()
    ok = np.isfinite(y)
    t = np.arange(n, dtype=float)
    lo = np.clip(np.arange(n) - width // 2, 0, n - width)

    def window_sums(v):
        c = np.concatenate([[0.0], np.cumsum(np.where(ok, v, 0.0))])
        return c[lo + width] - c[lo]

    s0, st, stt = window_sums(np.ones(n)), window_sums(t), window_sums(t * t)
    sy, sty = window_sums(y), window_sums(t * y)
    with np.errstate(invalid="ignore", divide="ignore"):
        denominator = s0 * stt - st * st
        slope = np.where(denominator > 0, (s0 * sty - st * sy) / denominator, 0.0)
        out = (sy - slope * st) / s0 + slope * t
    return np.where(ok & (s0 > 0), out, np.nan)


def ema(values, span):
    """The exponential moving average ``m_t = (1 - a) m_{t-1} + a x_t`` with
    ``a = 2 / (span + 1)``, divided by ``1 - (1 - a)^(t+1)`` so that the start is not pulled
    towards zero (Adam's bias correction); NaN and inf are skipped.

    Args:
        values: the series (a sequence of numbers).
        span: the averaging span (>= 1; 1: no smoothing).

    Returns:
        numpy.ndarray: the smoothed series, NaN where no finite value has been seen yet.

    Examples:
        >>> ema([1.0, 1.0, 3.0], span=1).tolist()
        [1.0, 1.0, 3.0]
        >>> ema([1.0, 1.0, 3.0], span=3).round(3).tolist()
        [1.0, 1.0, 2.143]
    """
    x = np.asarray(values, dtype=float)
    a = 2.0 / (max(float(span), 1.0) + 1.0)
    out = np.full(x.shape, np.nan)
    m = weight = 0.0
    for t, v in enumerate(x):
        if np.isfinite(v):
            m = (1 - a) * m + a * v
            weight = (1 - a) * weight + a
        if weight > 0:
            out[t] = m / weight
    return out


#: Values above this are drawn at it: matplotlib's log ticks overflow on the 1e300 of a
#: diverged run, and the figure then says so in its title.
CEILING = 1e100


def _clip(values):
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v) & (v > CEILING), CEILING, v)


def _focus(ax, smooth, raw):
    """On a log axis, keep the smoothed curves in view: the faint steps may dip decades
    below them (a batch the model fits perfectly), which would squash the trend."""
    if ax.get_yscale() != "log":
        return
    s = np.concatenate([np.asarray(v, float) for v in smooth])
    r = np.concatenate([np.asarray(v, float) for v in raw])
    s, r = s[np.isfinite(s) & (s > 0)], r[np.isfinite(r) & (r > 0)]
    if s.size and r.size:
        # below 1e300: matplotlib's log ticks overflow near a diverged run's 1e308
        lo, hi = max(s.min() / 5, r.min()), min(max(s.max(), r.max()) * 1.3, 1e300)
        if lo < hi:
            ax.set_ylim(lo, hi)


def _axis(h, n, steps_per_epoch):
    """``(x, label, to_x)``: per epoch for a mini-batch run, else per step."""
    steps = _steps(h, n)
    spe = steps_per_epoch or h.get("steps_per_epoch")
    if spe and spe > 1:
        origin = steps[0] - 1 if steps.size and steps[0] >= 1 else 0.0

        def to_x(step):
            return (np.asarray(step, dtype=float) - origin) / spe
        return to_x(steps), "epoch", to_x
    return steps, "step", lambda step: np.asarray(step, dtype=float)


def _span(n, steps_per_epoch):
    """The smoothing span: a 25th of the run, and at least one epoch of a mini-batch run."""
    if steps_per_epoch and steps_per_epoch > 1:
        return max(int(steps_per_epoch), n // 25)
    return max(1, n // 25)


def _readable_log_axis(ax, axis="y"):
    """Plain numbers (``0.3``, ``1``, ``20``) on a log axis that spans a few decades, where
    matplotlib would print ``3 x 10^-1`` at the minor ticks; powers of ten beyond."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    target = ax.yaxis if axis == "y" else ax.xaxis
    if not (lo > 0 and hi / lo < 1e4):
        return
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    target.set_major_formatter(plain)
    if hi / lo < 1e3:  # up to three decades: label 2 and 5 between the powers of ten
        target.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        target.set_minor_formatter(plain)
    else:
        target.set_minor_formatter(NullFormatter())


def _trend(values, span, log):
    """:func:`smooth` of the values, of their logarithm on a log axis (a straight line
    there is a steady exponential rise or fall)."""
    v = np.asarray(values, dtype=float)
    if not log:
        return smooth(v, span)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(smooth(np.where(v > 0, np.log(v), np.nan), span))


def _changes(values):
    v = np.asarray([np.nan if x is None else x for x in values], dtype=float)
    v = v[np.isfinite(v)]
    return v.size > 1 and not np.allclose(v, v[0], rtol=1e-9)


def training(history, *, steps_per_epoch=None, title=None, figsize=(6.4, 5.2)):
    """Loss (train, and validation when recorded), smoothed, and the learning rate when it
    changes.

    The loss of every step is drawn faint, and its trend (:func:`smooth`, over a 25th of the
    run and at least one epoch; of the log loss on a log axis) bold on top, so that
    mini-batch noise does not hide the trend and the trend does not lag. A mini-batch run
    (``steps_per_epoch`` above 1, given or in the history) is drawn against epochs. A
    learning rate that changes gets a panel of its own below; a constant one is named in the
    title. The legend sits below the axes, off the curves.

    Args:
        history: a history dict (``GradientMonitor.history``, ``estimator.history_``) with
            ``"loss"`` and optionally ``"step"``, ``"val_loss"`` / ``"val_step"`` and
            ``"learning_rate"``; a monitor or fitted estimator; or a list of losses.
        steps_per_epoch: recorded steps per epoch (a fitted estimator says it itself).
        title: the title (shown as plain text); None for ``"training"``.
        figsize: the figure's ``(width, height)`` in inches.

    Returns:
        The ``Figure``: one axes for the loss (log scale when it spans over two decades), a
        second below it for the learning rate when it changes.

    Raises:
        ValueError: if there is no loss to draw.

    Examples:
        >>> fig = training({"step": [0, 1, 2], "loss": [1.0, 0.5, 0.3],
        ...                 "learning_rate": [0.1, 0.1, 0.05]})
        >>> len(fig.axes)
        2
        >>> len(training({"loss": [1.0, 0.5], "learning_rate": [0.1, 0.1]}).axes)
        1
    """
    if steps_per_epoch is None and hasattr(history, "optimizer_kind"):
        from ..diagnostics import epoch_length
        steps_per_epoch = epoch_length(history)
    h = _as_history(history)
    loss = np.asarray([np.nan if v is None else v for v in h["loss"]], dtype=float)
    clipped = bool(np.any(np.isfinite(loss) & (loss > CEILING)))
    loss = _clip(loss)
    rates = h.get("learning_rate") or []
    show_lr = _changes(rates)
    fig, axes = new_figure(2 if show_lr else 1, 1, figsize=figsize, sharex=True)
    ax = axes[0] if show_lr else axes
    x, unit, to_x = _axis(h, loss.size, steps_per_epoch)
    span = _span(loss.size, steps_per_epoch)
    val = h.get("val_loss") or []
    log = _positive_span(np.concatenate([loss, np.asarray(val, dtype=float)]))
    trend = _trend(loss, span, log) if span > 1 else None
    if trend is not None:
        ax.plot(x, loss, color="tab:blue", alpha=0.25, linewidth=0.7,
                label="train loss, each step")
        ax.plot(x, trend, color="tab:blue", linewidth=2.0,
                label=f"train loss, smoothed ({span} steps)")
    else:
        ax.plot(x, loss, color="tab:blue", linewidth=1.8, label="train loss")
    if len(val):
        vs = h.get("val_step") or []
        vx = to_x(vs) if len(vs) == len(val) else np.linspace(x[0], x[-1], len(val))
        ax.plot(vx, np.asarray(val, dtype=float), "o-", color="tab:orange", markersize=3,
                label="validation loss")
    if log:
        ax.set_yscale("log")
    if trend is not None:
        _focus(ax, [trend] + ([np.asarray(val, float)] if len(val) else []), [loss])
    if log:
        _readable_log_axis(ax)
    else:
        ax.ticklabel_format(axis="y", useOffset=False)  # "1.0006", not "+1" and "0.0006"
    ax.set_ylabel("loss")
    known = [v for v in rates if v is not None]
    notes = [f"constant learning rate {known[0]:.3g}"] if known and not show_lr else []
    if clipped:
        notes.append(f"values above {CEILING:.0e} drawn at {CEILING:.0e}")
    note = f" ({'; '.join(notes)})" if notes else ""
    # beside the axes, not over the curves
    plain_text(fig.legend(loc="outside lower center", fontsize="small",
                          ncol=3 if len(val) else 2),
               ax.set_title((title or "training") + note))
    if show_lr:
        lr = np.asarray([np.nan if v is None else v for v in rates], dtype=float)
        axes[1].plot(to_x(_steps(h, lr.size)) if lr.size == loss.size else np.arange(lr.size),
                     lr, color="tab:green", label="learning rate")
        if _positive_span(lr):
            axes[1].set_yscale("log")
        axes[1].set_ylabel("learning rate")
        axes[1].set_xlabel(unit)
    else:
        ax.set_xlabel(unit)
    return fig


def gradient_flow(history, findings=None, *, steps_per_epoch=None, title=None,
                  figsize=(7.0, 4.8)):
    """Gradient norm per layer against steps (epochs for a mini-batch run), on a log scale,
    smoothed as in :func:`training` (:func:`smooth` of ``log ||g||``, each step faint
    behind it), with the findings marked.

    Each finding with a step is a dashed vertical line coloured by kind (vanishing blue,
    exploding red, NaN black, plateau grey, learning rate orange); a finding about one layer
    also puts a cross on that layer's curve. Zero or non-finite norms leave gaps.

    Args:
        history: a history dict with ``"grad_norm": {layer: [...]}`` (or a monitor or fitted
            estimator).
        findings: the findings to mark; None runs :func:`gradkit.diagnostics.diagnose` on the
            history, ``[]`` marks none.
        steps_per_epoch: recorded steps per epoch (a fitted estimator says it itself).
        title: the title (shown as plain text); None for ``"gradient flow per layer"``.
        figsize: the figure's ``(width, height)`` in inches.

    Returns:
        The ``Figure``.

    Raises:
        ValueError: if the history has no gradient norms.

    Examples:
        >>> h = {"step": [0, 1], "loss": [1.0, 0.9], "grad_norm": {"a": [1e-6, 2e-6], "b": [1, 2]}}
        >>> fig = gradient_flow(h, findings=[])
        >>> fig.axes[0].get_yscale(), len(fig.axes[0].get_lines())
        ('log', 2)
    """
    if steps_per_epoch is None and hasattr(history, "optimizer_kind"):
        from ..diagnostics import epoch_length
        steps_per_epoch = epoch_length(history)
    h = _as_history(history)
    norms = h.get("grad_norm") or {}
    if not norms:
        raise ValueError("history has no 'grad_norm' per layer; record the training with "
                         "gradkit.diagnostics.GradientMonitor.")
    if findings is None:
        from ..diagnostics import diagnose
        findings = diagnose(h, steps_per_epoch=steps_per_epoch)
    fig, ax = new_figure(figsize=figsize)
    lines = {}
    n = len(next(iter(norms.values())))
    x, unit, to_x = _axis(h, n, steps_per_epoch)
    span = _span(n, steps_per_epoch)
    colors = [f"C{i % 10}" for i in range(len(norms))]
    smooths, raws = [], []
    styles = ["-", "--", "-.", ":"]
    for i, (layer, values) in enumerate(norms.items()):
        v = np.asarray([np.nan if x_ is None else x_ for x_ in values], dtype=float)
        v = _clip(np.where(np.isfinite(v) & (v > 0), v, np.nan))
        xs = x if v.size == x.size else np.arange(v.size)
        style = dict(color=colors[i], linestyle=styles[(i // 10) % 4])
        if span > 1:
            ax.plot(xs, v, alpha=0.2, linewidth=0.6, color=colors[i], label="_raw")
            trend = _trend(v, span, log=True)
            (lines[layer],) = ax.plot(xs, trend, linewidth=1.8, label=str(layer), **style)
            smooths.append(trend)
            raws.append(v)
        else:
            (lines[layer],) = ax.plot(xs, v, linewidth=1.5, label=str(layer), **style)
    ax.set_yscale("log")
    if smooths:
        _focus(ax, smooths, raws)
    _readable_log_axis(ax)
    seen = set()
    for f in findings:
        if f.step is None:
            continue
        color = _KIND_COLORS.get(f.kind, "tab:purple")
        fx = float(to_x(f.step))
        if (f.kind, f.step) not in seen:
            seen.add((f.kind, f.step))
            ax.axvline(fx, color=color, linestyle="--", linewidth=1, alpha=0.8)
            ax.annotate(f.kind.replace("_", " "), (fx, 1.0), xycoords=("data", "axes fraction"),
                        rotation=90, va="top", ha="right", fontsize="x-small", color=color)
        if f.layer in lines:
            line = lines[f.layer]
            xd, yd = np.asarray(line.get_xdata()), line.get_ydata()
            at = np.flatnonzero(np.isclose(xd, fx))
            if at.size and np.isfinite(yd[at[0]]):
                ax.scatter([fx], [yd[at[0]]], marker="x", color=color, zorder=3)
    ax.set_xlabel(unit)
    ax.set_ylabel("gradient norm")
    # beside the axes, not over the curves
    plain_text(fig.legend(loc="outside right upper", fontsize="x-small",
                          ncol=2 if len(norms) > 12 else 1),
               ax.set_title(title or "gradient flow per layer"))
    return fig
