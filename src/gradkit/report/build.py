"""The report of a training run, built in Python: from a fitted estimator, a
:class:`~gradkit.diagnostics.GradientMonitor` or a history dict.

>>> h = {"step": [0, 1, 2], "loss": [1.0, 0.6, 0.4], "grad_norm": {"w": [1.0, 0.7, 0.5]}}
>>> page = build(h, title="my loop <1>").to_html()
>>> "my loop &lt;1&gt;" in page and "Gradient flow" in page
True
"""
from __future__ import annotations

import numpy as np

from ..diagnostics import diagnose
from ..diagnostics.findings import epoch_length
from .html import Report, format_number
from .stopping import stop_reason

__all__ = ["build", "training_sections", "model_section", "findings_block",
           "importance_caption", "stop_block"]

#: Where each kind of finding is shown: beside the plot that shows it.
_ON_CURVES = ("divergence", "learning_rate_too_high", "plateau")


def _is_result(source):
    """Whether ``source`` is an ``OptimizeResult``-like run result (``status``, ``message``
    and a ``history`` with ``f``)."""
    get = source.get if isinstance(source, dict) else lambda k: getattr(source, k, None)
    return get("status") is not None and get("message") is not None and \
        isinstance(get("history"), dict) and "f" in get("history")


def _result_history(result):
    """A solver's per-iteration history (``f``, ``grad_norm``, iteration 0 first) as a
    monitor's: the loss, and the gradient's norm (the solver's stopping measure) as one
    group. The step sizes are left out: a line search's step is not a learning rate."""
    h = result["history"] if isinstance(result, dict) else result.history
    f = [float(v) for v in h["f"]]
    return {"step": list(range(len(f))), "loss": f,
            "grad_norm": {"all parameters (the solver's measure)":
                          [float(v) for v in h.get("grad_norm", [])]}}


def _history_of(source):
    """``(history dict, estimator or None)``."""
    if _is_result(source):
        return _result_history(source), None
    if isinstance(source, dict):
        return source, None
    if hasattr(source, "history_"):
        return source.history_ or {}, source
    history = getattr(source, "history", None)
    if isinstance(history, dict):
        return history, None
    raise TypeError("report.build takes a fitted estimator, a GradientMonitor, a history "
                    "dict (with 'loss' and 'grad_norm' lists) or an OptimizeResult (from "
                    f"minimize or gradkit.optim.run); got {type(source).__name__}.")


def stop_block(section, why) -> None:
    """A box saying why the run stopped (:func:`~gradkit.report.stop_reason`), or nothing
    when that is not known.

    Args:
        section: the :class:`~gradkit.report.Section` to add to.
        why: a :class:`~gradkit.report.StopReason`, or anything
            :func:`~gradkit.report.stop_reason` takes (an estimator, an OptimizeResult, a
            reason's name or a sentence), or None.

    Examples:
        >>> from gradkit.report import Report
        >>> s = Report("t").section("s")
        >>> stop_block(s, "max_iter")
        >>> "stopped: max iter" in s.to_html()
        True
    """
    why = stop_reason(why)
    if why is not None:
        label = why.reason.replace("_", " ") if why.reason else "why"
        text = why.text
        if text.startswith("Stopped: "):  # the label says it already ("STOPPED: MAX ITER")
            text = text[len("Stopped: "):]
            if text.split(" ", 1)[0].isalpha():  # a word, not a name such as max_iter=20
                text = text[:1].upper() + text[1:]
        section.finding(f"stopped: {label}", text, level=why.level)


def importance_caption(n_features: int, top: int = 20) -> str:
    """The caption of an importance figure that shows ``min(top, n_features)`` bars.

    Args:
        n_features: the number of features.
        top: the most bars the figure shows.

    Returns:
        The caption, a sentence.

    Examples:
        >>> importance_caption(8), importance_caption(30)
        ('All 8 features, the most important on top.', 'The 20 most important of 30 features.')
    """
    if n_features <= top:
        return f"All {n_features} feature{'s' if n_features != 1 else ''}, the most " \
               "important on top."
    return f"The {top} most important of {n_features} features."


def findings_block(section, findings, diverged_note=None, diverged_remedy=None) -> None:
    """The findings in words, each with its remedy and its evidence (or an all-clear).

    ``diverged_note`` adds a box for a run that stopped on a NaN / inf, with
    ``diverged_remedy`` (default: in the estimators' parameter names).

    Args:
        section: the :class:`~gradkit.report.Section` to add to.
        findings: the :class:`~gradkit.diagnostics.Finding` objects (a list, maybe empty).
        diverged_note: the message of a run that stopped on a NaN / inf, or None.
        diverged_remedy: the remedy shown with ``diverged_note``.

    Examples:
        >>> from gradkit.report import Report
        >>> s = Report("t").section("s")
        >>> findings_block(s, [])
        >>> "no problems found" in s.to_html()
        True
    """
    if diverged_note:
        section.finding("diverged", diverged_note, diverged_remedy or (
            "Lower the learning rate, clip the gradient norm (clip_norm=1.0), or use a "
            "full-batch method such as lbfgs."), level="error")
    for f in findings:
        where = []
        if f.layer is not None:
            where.append(f"layer {f.layer}")
        if f.step is not None:
            where.append(f"from step {f.step}")
        prefix = f"({', '.join(where)}) " if where else ""
        section.finding(f.kind.replace("_", " "), prefix + f.message, f.remedy,
                        evidence=getattr(f, "evidence", None))
    if not findings and not diverged_note:
        section.finding("no problems found", "No vanishing or exploding gradients, NaN, "
                        "divergence, plateau or too-high learning rate was detected.",
                        level="ok")


def _figure(section, make, caption, debug=False):
    try:
        section.figure(make(), caption=caption)
    except Exception as exc:  # noqa: BLE001 (a report without one figure beats none)
        if debug:
            raise
        section.finding("figure missing", f"this figure could not be drawn: "
                        f"{type(exc).__name__}: {exc}", level="error")


def training_sections(report, history, findings, *, steps_per_epoch=None,
                      estimator=None, learning_rate_section=False, diverged_remedy=None,
                      debug=False) -> None:
    """Add the "Training curves" and "Gradient flow and findings" sections to ``report``:
    each figure with the findings it shows right under it.

    Args:
        report: the :class:`~gradkit.report.Report` to add to.
        history: a history dict, as for :func:`build`.
        findings: the findings, as :func:`gradkit.diagnostics.diagnose` returns them.
        steps_per_epoch: recorded steps per epoch, for a mini-batch run.
        estimator: the fitted estimator the history is from, or None.
        learning_rate_section: say what the learning rate did in a "Learning rate" section
            of its own (between the two), instead of under the training curves.
        diverged_remedy: the remedy of a divergence (default: in the estimators' parameter
            names; the CLI gives its option names).
        debug: let an error drawing a figure out, instead of a box saying it is missing.

    Examples:
        >>> from gradkit.report import Report
        >>> r = Report("t")
        >>> training_sections(r, {"loss": [1.0, 0.5], "grad_norm": {"w": [1.0, 0.5]}}, [])
        >>> [s.title for s in r.sections]
        ['Training curves', 'Gradient flow and findings']
    """
    from .. import plot
    from ..plot.training import _span  # the figure's own rule for when it smooths

    on_curves = [f for f in findings if f.kind in _ON_CURVES]
    on_flow = [f for f in findings if f.kind not in _ON_CURVES]
    section = report.section("Training curves")
    rate = _rate_text(history, estimator)
    if history.get("loss"):
        per_epoch = bool(steps_per_epoch and steps_per_epoch > 1)
        smoothed = _span(len(history["loss"]), steps_per_epoch) > 1
        section.text("The training loss (the mean loss the optimizer minimizes)"
                     + (": each step faint, its trend bold" if smoothed else
                        " at each step") + (", per epoch" if per_epoch else "")
                     + "." + ("" if learning_rate_section or not rate else " " + rate))
        _figure(section, lambda: plot.training(history, steps_per_epoch=steps_per_epoch),
                "Training loss" + (" and validation loss" if history.get("val_loss") else "")
                + ".", debug)
    elif estimator is not None and getattr(estimator, "loss_curve_", None):
        _figure(section, lambda: plot.training(list(estimator.loss_curve_)), "Loss per epoch.",
                debug)
    if on_curves:
        findings_block(section, on_curves, diverged_remedy=diverged_remedy)
    if learning_rate_section:
        report.section("Learning rate").text(rate or "No learning rate was recorded.")
    section = report.section("Gradient flow and findings")
    if history.get("grad_norm"):
        section.text("The norm of the gradient of each layer (parameter group), on a log "
                     "scale. Vanishing gradients show as early layers far below the last; "
                     "exploding gradients as norms growing without bound.")
        _figure(section, lambda: plot.gradient_flow(history, findings,
                                                    steps_per_epoch=steps_per_epoch),
                "Gradient norm per layer; dashed lines mark findings.", debug)
    diverged = None
    if estimator is not None and getattr(estimator, "diverged_", False) and \
            not any(f.kind in ("divergence", "nan") for f in findings):
        diverged = (f"Training diverged at step {estimator.diverged_at_} (a NaN or infinite "
                    "loss, or one that exploded); it stopped and the best parameters seen "
                    "were kept.")
    if on_curves and not on_flow and not diverged:
        section.text("The gradients show nothing wrong; the findings about the loss are under "
                     "the training curves above.")
    else:
        findings_block(section, on_flow, diverged, diverged_remedy)


def _rate_text(history, estimator=None):
    """What the learning rate did, in a sentence ("" when nothing is known)."""
    if estimator is not None:
        kind, how = estimator.optimizer_kind()
        if kind == "minimize":
            return (f"{how} is a full-batch method: it has no learning rate; a line search "
                    "(or trust region) chooses the step length at every iteration.")
    rates = [v for v in history.get("learning_rate") or [] if v is not None]
    if not rates:
        return ""
    first, last = rates[0], rates[-1]
    if np.allclose(rates, first, rtol=1e-9):
        return f"A constant learning rate of {first:.3g} for {len(rates)} steps."
    return (f"The learning rate went from {first:.3g} to {last:.3g} over {len(rates)} steps "
            "(lower panel).")


#: The settings a full-batch method does not read (it takes the whole batch, chooses its
#: own steps and stops on ``tol`` and ``max_iter``), and those only early stopping reads.
_NOT_FOR_FULL_BATCH = ("learning_rate", "batch_size", "n_iter_no_change", "augment")
_ONLY_FOR_EARLY_STOPPING = ("validation_fraction",)


def _changed_settings(estimator):
    """``([(name, value)], [names])``: the parameters set away from their defaults that the
    chosen optimizer uses, and those it ignores."""
    try:
        defaults = type(estimator)().get_params()
    except Exception:  # noqa: BLE001 (an estimator that needs arguments: show them all)
        defaults = {}
    params = estimator.get_params()
    unused = set(_NOT_FOR_FULL_BATCH) if estimator.optimizer_kind()[0] == "minimize" else set()
    if not params.get("early_stopping"):
        unused |= set(_ONLY_FOR_EARLY_STOPPING)
    used, ignored = [], []
    for k, v in sorted(params.items()):
        if k in ("verbose",):
            continue
        if k not in defaults or repr(defaults[k]) != repr(v):
            (ignored.append(k) if k in unused else used.append((k, _setting(v))))
    return used, ignored


def _setting(value):
    """A setting as its ``repr``; an object without a readable one (a callback, a
    transformation) as its class name, not ``<... object at 0x...>``."""
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_setting(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner}{',' if len(value) == 1 else ''})"
    text = repr(value)
    return type(value).__name__ if text.startswith("<") and " at 0x" in text else text


def model_section(report, estimator, why=None, extra_rows=()):
    """Add the "Model and optimizer" section: why the run stopped, the model, its optimizer
    and kind of gradient, the epochs (iterations) and steps run, then the settings given
    (those away from their defaults: what was set, not every parameter).

    Args:
        report: the :class:`~gradkit.report.Report` to add to.
        estimator: the fitted estimator.
        why: why it stopped (anything :func:`~gradkit.report.stop_reason` takes); None for
            the estimator's own ``stop_reason_``.
        extra_rows: ``(name, value)`` rows after the counts (the CLI's training time).

    Returns:
        The :class:`~gradkit.report.Section`.

    Examples:
        >>> import numpy as np
        >>> from gradkit.models import LinearRegression
        >>> from gradkit.report import Report
        >>> est = LinearRegression(max_iter=50).fit(np.eye(3), np.arange(3.0))
        >>> page = model_section(Report("t"), est).to_html()
        >>> "stopped: converged" in page, "max_iter" in page, "penalty" in page
        (True, True, False)
    """
    kind, how = estimator.optimizer_kind()
    batch = estimator.get_params().get("batch_size")
    gradient = ("full batch" if kind == "minimize" or batch is None else
                "stochastic (1 row)" if batch == 1 else
                "mini-batch (auto: up to 200 rows)" if batch == "auto" else
                f"mini-batch ({batch})")
    rows = [("model", type(estimator).__name__), ("optimizer", how if kind == "minimize"
                                                   else estimator.get_params()["optimizer"]),
            ("gradient", gradient),
            ("iterations" if kind == "minimize" else "epochs",
             getattr(estimator, "n_iter_", "")),
            ("steps", int(getattr(estimator, "t_", 0) or 0))] + list(extra_rows)
    section = report.section("Model and optimizer")
    stop_block(section, estimator if why is None else why)
    section.table(rows)
    changed, ignored = _changed_settings(estimator)
    if changed:
        section.text("Settings given (the others are the defaults):")
        section.table(changed, header=("setting", "value"))
    if ignored:
        section.text(f"Set but not used by {how if kind == 'minimize' else 'this optimizer'}"
                     f"{' (a full-batch method)' if kind == 'minimize' else ''}: "
                     f"{', '.join(ignored)}.")
    return section


def _importance_section(report, estimator, feature_names):
    from .. import plot

    values = np.asarray(estimator.feature_importances_, dtype=float)
    names = list(feature_names) if feature_names is not None else \
        [str(n) for n in getattr(estimator, "feature_names_in_", [])] or \
        [f"x{i}" for i in range(values.size)]
    section = report.section("Feature importance")
    section.text("Mean absolute integrated-gradients attribution over training rows: how "
                 "much each feature moves the model's output.")
    _figure(section, lambda: plot.attributions(values, names, top=20),
            importance_caption(values.size))
    order = np.argsort(-values)[:20]
    section.table([(names[i], float(values[i])) for i in order],
                  header=("feature", "importance"))


def _summary_section(report, history, why, steps_per_epoch=None):
    """The run at a glance, for a loop of one's own: why it stopped, its steps, its loss."""
    section = report.section("Summary")
    stop_block(section, why)
    loss = [float(v) for v in history.get("loss") or [] if v is not None]
    if not loss:
        section.text("No loss was recorded.")
        return
    steps = list(history.get("step") or range(len(loss)))
    rows = [("steps recorded", len(loss))]
    what, values, at = "loss", loss, steps
    if steps_per_epoch and steps_per_epoch > 1:
        # one batch's loss is noise: the epochs' means are the run's loss. Epochs by step
        # number, as the findings count them (a strided or thinned history records fewer
        # steps than it trained)
        k = int(steps_per_epoch)
        at_steps = np.asarray(steps[:len(loss)] + list(range(len(steps), len(loss))))
        epoch = (at_steps - at_steps[0]) // k
        firsts = np.flatnonzero(np.r_[True, epoch[1:] != epoch[:-1]])
        values = [float(np.mean(part)) for part in np.split(np.asarray(loss), firsts[1:])]
        what, at = "epoch's mean loss", [f"epoch {int(epoch[i]) + 1}" for i in firsts]
        rows.append(("epochs", int(epoch[-1]) + 1))
    else:
        at = [f"step {s}" for s in steps] + [f"step {i}" for i in range(len(steps), len(loss))]
    rows += [(f"first {what}", values[0]), (f"last {what}", values[-1])]
    finite = [i for i, v in enumerate(values) if np.isfinite(v)]
    if finite:
        best = min(finite, key=values.__getitem__)
        rows.append((f"lowest {what}", f"{format_number(values[best])} ({at[best]})"))
    if history.get("val_loss"):
        rows.append(("last validation loss", float(history["val_loss"][-1])))
    section.table(rows)


def build(source, *, title=None, subtitle="", findings=None, steps_per_epoch=None,
          feature_names=None, stop=None) -> Report:
    """The report of a training run: why it stopped, its model and settings (for an
    estimator), the training curves, the gradient flow per layer, the findings beside the
    figure that shows each, and the feature importances (for an estimator).

    Args:
        source: a fitted gradkit estimator, a :class:`~gradkit.diagnostics.GradientMonitor`,
            a history dict as the monitor writes it (also one loaded from JSON), or an
            :class:`~gradkit.optim.OptimizeResult` of ``minimize`` or ``gradkit.optim.run``
            (its ``history``: the loss and the gradient's norm per iteration).
        title: the page's title (escaped, like every string on it); None for one naming
            the source.
        subtitle: a line under the title (escaped).
        findings: the findings to show; None runs :func:`gradkit.diagnostics.diagnose` (on
            the estimator, so that its epochs are known).
        steps_per_epoch: for a monitor or history from a mini-batch loop: draws per-epoch
            axes and judges the findings per epoch.
        feature_names: names of the estimator's features (default ``feature_names_in_``).
        stop: why the run stopped, for a loop of one's own: an ``OptimizeResult`` (or any
            object with ``status`` and ``message``), one of the estimators' ``STOP_REASONS``
            names, or a sentence (see :func:`~gradkit.report.stop_reason`). None: the
            estimator's ``stop_reason_``, the result's status, a history's
            ``"stop_reason"`` entry, or nothing said.

    Returns:
        A :class:`Report`: ``.save(path)`` writes it, and a notebook shows it inline.

    Raises:
        TypeError: for anything else than those four sources.

    Examples:
        >>> import numpy as np
        >>> from gradkit.diagnostics import GradientMonitor
        >>> mon = GradientMonitor()
        >>> for t in range(5):
        ...     ok = mon.record(t, 1.0 / (t + 1), {"w": np.ones(2) / (t + 1)}, {"w": np.ones(2)})
        >>> r = build(mon, stop="max_iter")
        >>> [s.title for s in r.sections]
        ['Summary', 'Training curves', 'Gradient flow and findings']
        >>> "iteration budget (max_iter) was used up" in r.to_html()
        True
    """
    history, estimator = _history_of(source)
    if findings is None:
        findings = diagnose(estimator if estimator is not None else history,
                            steps_per_epoch=steps_per_epoch) if history.get("loss") else []
    spe = steps_per_epoch
    if estimator is not None and spe is None:
        spe = epoch_length(estimator)
    if title is None:
        title = (f"gradkit: {type(estimator).__name__}" if estimator is not None
                 else "gradkit: training run")
    report = Report(title, subtitle)
    why = stop_reason(stop if stop is not None else source)
    if estimator is not None:
        model_section(report, estimator, why)
    else:
        _summary_section(report, history, why, spe)
    training_sections(report, history, findings, steps_per_epoch=spe, estimator=estimator)
    if estimator is not None and getattr(estimator, "feature_importances_", None) is not None:
        _importance_section(report, estimator, feature_names)
    return report
