"""Training curves (loss, validation loss, learning rate) and gradient flow per layer."""
from __future__ import annotations

import numpy as np

from ._figure import new_figure, plain_text

__all__ = ["training", "gradient_flow"]

_KIND_COLORS = {"vanishing": "tab:blue", "exploding": "tab:red", "nan": "black",
                "plateau": "tab:gray", "learning_rate_too_high": "tab:orange"}


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


def training(history, *, title=None, figsize=(6.4, 5.2)):
    """Loss (train, and validation when recorded) and learning rate against steps.

    Args:
        history: a history dict (``GradientMonitor.history``, ``estimator.history_``) with
            ``"loss"`` and optionally ``"step"``, ``"val_loss"`` / ``"val_step"`` and
            ``"learning_rate"``; a monitor or fitted estimator; or a list of losses.

    Returns:
        The ``Figure``: one axes for the loss (log scale when it spans over two decades), a
        second below it for the learning rate when one was recorded.

    Raises:
        ValueError: if there is no loss to draw.

    >>> fig = training({"step": [0, 1, 2], "loss": [1.0, 0.5, 0.3],
    ...                 "learning_rate": [0.1, 0.1, 0.05]})
    >>> len(fig.axes)
    2
    """
    h = _as_history(history)
    loss = np.asarray([np.nan if v is None else v for v in h["loss"]], dtype=float)
    lrs = [v for v in (h.get("learning_rate") or []) if v is not None]
    show_lr = len(lrs) > 0
    fig, axes = new_figure(2 if show_lr else 1, 1, figsize=figsize, sharex=True)
    ax = axes[0] if show_lr else axes
    steps = _steps(h, loss.size)
    ax.plot(steps, loss, label="train loss")
    val = h.get("val_loss") or []
    if len(val):
        vs = h.get("val_step") or []
        vs = np.asarray(vs if len(vs) == len(val) else np.linspace(steps[0], steps[-1], len(val)))
        ax.plot(vs, np.asarray(val, dtype=float), "o-", markersize=3, label="validation loss")
    if _positive_span(np.concatenate([loss, np.asarray(val, dtype=float)])):
        ax.set_yscale("log")
    ax.set_ylabel("loss")
    plain_text(ax.legend(loc="best", fontsize="small"), ax.set_title(title or "training"))
    if show_lr:
        lr = np.asarray([np.nan if v is None else v for v in h["learning_rate"]], dtype=float)
        axes[1].plot(_steps(h, lr.size), lr, color="tab:green", label="learning rate")
        if _positive_span(lr):
            axes[1].set_yscale("log")
        axes[1].set_ylabel("learning rate")
        axes[1].set_xlabel("step")
    else:
        ax.set_xlabel("step")
    return fig


def gradient_flow(history, findings=None, *, title=None, figsize=(7.0, 4.8)):
    """Gradient norm per layer against steps, on a log scale, with the findings marked.

    Each finding with a step is a dashed vertical line coloured by kind (vanishing blue,
    exploding red, NaN black, plateau grey, learning rate orange); a finding about one layer
    also puts a cross on that layer's curve. Zero or non-finite norms leave gaps.

    Args:
        history: a history dict with ``"grad_norm": {layer: [...]}`` (or a monitor or fitted
            estimator).
        findings: the findings to mark; None runs :func:`gradkit.diagnostics.diagnose` on the
            history, ``[]`` marks none.

    Returns:
        The ``Figure``.

    Raises:
        ValueError: if the history has no gradient norms.

    >>> h = {"step": [0, 1], "loss": [1.0, 0.9], "grad_norm": {"a": [1e-6, 2e-6], "b": [1, 2]}}
    >>> fig = gradient_flow(h, findings=[])
    >>> fig.axes[0].get_yscale(), len(fig.axes[0].get_lines())
    ('log', 2)
    """
    h = _as_history(history)
    norms = h.get("grad_norm") or {}
    if not norms:
        raise ValueError("history has no 'grad_norm' per layer; record the training with "
                         "gradkit.diagnostics.GradientMonitor.")
    if findings is None:
        from ..diagnostics import diagnose
        findings = diagnose(h)
    fig, ax = new_figure(figsize=figsize)
    lines = {}
    for layer, values in norms.items():
        v = np.asarray([np.nan if x is None else x for x in values], dtype=float)
        v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
        steps = _steps(h, v.size)
        (lines[layer],) = ax.plot(steps, v, label=str(layer))
    ax.set_yscale("log")
    seen = set()
    for f in findings:
        if f.step is None:
            continue
        color = _KIND_COLORS.get(f.kind, "tab:purple")
        if (f.kind, f.step) not in seen:
            seen.add((f.kind, f.step))
            ax.axvline(f.step, color=color, linestyle="--", linewidth=1, alpha=0.8)
            ax.annotate(f.kind.replace("_", " "), (f.step, 1.0), xycoords=("data", "axes fraction"),
                        rotation=90, va="top", ha="right", fontsize="x-small", color=color)
        if f.layer in lines:
            line = lines[f.layer]
            x, y = line.get_xdata(), line.get_ydata()
            at = np.flatnonzero(np.asarray(x) == f.step)
            if at.size and np.isfinite(y[at[0]]):
                ax.scatter([f.step], [y[at[0]]], marker="x", color=color, zorder=3)
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm")
    plain_text(ax.legend(loc="best", fontsize="x-small", ncol=2 if len(norms) > 6 else 1),
               ax.set_title(title or "gradient flow per layer"))
    return fig
