"""Why a run stopped, in words: from an estimator's ``stop_reason_`` or a solver's result.

The reasons are the estimators' vocabulary (:data:`gradkit.models.parameters.STOP_REASONS`):
``converged``, ``no_improvement``, ``max_iter``, ``diverged``, ``callback`` and
``interrupted``. An :class:`~gradkit.optim.OptimizeResult` (from ``minimize`` or
``gradkit.optim.run``) maps its ``status`` onto them and keeps its own ``message``.

>>> import numpy as np
>>> from gradkit.optim import minimize
>>> res = minimize(lambda x: np.sum((x - 1.0) ** 2), np.zeros(2), method="bfgs", tol=1e-8)
>>> why = stop_reason(res)
>>> why.reason, why.text.startswith("Converged: the gradient inf-norm")
('converged', True)
"""
from __future__ import annotations

from typing import NamedTuple

from ..models.parameters import STOP_REASONS

__all__ = ["StopReason", "stop_reason"]

#: ``OptimizeResult.status`` -> the reason (:mod:`gradkit.optim.minimize`'s codes: 0
#: converged, 1 max_iter, 2 no further progress, 3 NaN / inf, 4 callback, 5
#: n_iter_no_change).
_STATUS = {0: "converged", 1: "max_iter", 2: "no_improvement", 3: "diverged", 4: "callback",
           5: "no_improvement"}

#: How each reason is shown: a run that ended as asked, one that ran out of its budget, one
#: that went wrong.
_LEVEL = {"converged": "ok", "no_improvement": "ok", "callback": "ok", "max_iter": "warning",
          "interrupted": "warning", "diverged": "error"}

#: The sentence for a reason known by its name only (a history dict, ``stop="max_iter"``).
_PLAIN = {"converged": "Converged: the stopping tolerance was reached.",
          "no_improvement": "Stopped: the loss no longer improved.",
          "max_iter": "Stopped: the iteration budget (max_iter) was used up.",
          "diverged": "Diverged: the loss became NaN, infinite or exploded; the best "
                      "parameters seen were kept.",
          "callback": "Stopped by a callback.",
          "interrupted": "Interrupted (Ctrl-C); the parameters trained so far were kept."}

#: The stopping measure of each full-batch method (as :func:`gradkit.optim.minimize` names
#: it in its messages).
_MEASURE = {"proximal": "gradient-mapping inf-norm", "subgradient": "subgradient inf-norm"}


class StopReason(NamedTuple):
    """Why a run stopped.

    Attributes:
        reason: one of ``STOP_REASONS`` (``"converged"``, ``"no_improvement"``,
            ``"max_iter"``, ``"diverged"``, ``"callback"``, ``"interrupted"``), or None for
            a reason given as free text.
        text: the sentence: the criterion and its tolerance, the epochs or the step.
        level: how a report shows it: ``"ok"``, ``"warning"`` or ``"error"``.

    Examples:
        >>> StopReason("diverged", "Diverged at step 7.", "error").level
        'error'
    """

    reason: str | None
    text: str
    level: str


def _plural(n, unit):
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _of_result(res):
    """The reason of an ``OptimizeResult``-like mapping (``status``, ``message``, ``nit``)."""
    get = res.get if hasattr(res, "get") else lambda k, d=None: getattr(res, k, d)
    reason = _STATUS.get(get("status"))
    message = " ".join(str(get("message") or "").split()) or _PLAIN.get(reason, "Stopped.")
    nit, method = get("nit"), get("method")
    ran = [method,
           _plural(int(nit), "iteration") if nit is not None else None]
    ran = ", ".join(r for r in ran if r)
    if ran:
        message = f"{message.rstrip('.')} ({ran})."
    # a run told to take every step (tol=0) ends at max_iter and succeeds
    level = "ok" if get("success") and reason == "max_iter" else _LEVEL.get(reason, "warning")
    return StopReason(reason, message, level)


def _stopping_callback(estimator):
    """The sentence for a callback that stopped training: an ``EarlyStopping`` by what it
    watched, any other by its class name."""
    callbacks = list(getattr(estimator, "callbacks", None) or ())
    for cb in callbacks:
        if getattr(cb, "stopped_epoch", 0):
            restored = ("; the weights of that epoch were restored"
                        if getattr(cb, "restore_best_weights", False) else "")
            return (f"Stopped by the callback {type(cb).__name__} at epoch {cb.stopped_epoch}: "
                    f"{cb.monitor} did not improve by more than min_delta={cb.min_delta:g} "
                    f"for more than patience={cb.patience} epochs (best at epoch "
                    f"{cb.best_epoch}{restored}).")
    names = [type(cb).__name__ for cb in callbacks if hasattr(cb, "on_epoch_end")]
    who = (f"the callback {names[0]}" if len(names) == 1 else
           f"one of the callbacks {', '.join(names)}" if names else "a callback")
    return f"Stopped by {who} (on_epoch_end asked to stop) after " \
           f"{_plural(estimator.n_iter_, _unit(estimator))}."


def _unit(estimator):
    return "iteration" if estimator.optimizer_kind()[0] == "minimize" else "epoch"


def _of_estimator(estimator):
    reason = getattr(estimator, "stop_reason_", None)
    if reason is None:
        return None
    kind, method = estimator.optimizer_kind()
    p = estimator.get_params()
    n, unit = int(getattr(estimator, "n_iter_", 0) or 0), _unit(estimator)
    step = int(getattr(estimator, "t_", 0) or 0)
    measure = _MEASURE.get(method, "gradient inf-norm") if kind == "minimize" else None
    early = bool(p.get("early_stopping"))
    watched = "validation score" if early else "training loss (of an epoch)"
    if reason == "converged":
        text = (f"Converged: the {measure} of {method} fell to tol={p['tol']:g} after "
                f"{_plural(n, unit)}." if measure else
                f"Converged after {_plural(n, unit)} (tol={p['tol']:g}).")
    elif reason == "no_improvement" and kind == "minimize":
        text = (f"Stopped: {method} could make no further progress after {_plural(n, unit)} "
                f"(its line search or model found no lower loss) before the {measure} fell "
                f"to tol={p['tol']:g}.")
    elif reason == "no_improvement":
        text = (f"Stopped early after {_plural(n, unit)}: the {watched} did not improve by "
                f"more than tol={p['tol']:g} for more than "
                f"n_iter_no_change={p['n_iter_no_change']} epochs"
                + (" (early_stopping=True)." if early else "."))
    elif reason == "max_iter":
        text = (f"Stopped: max_iter={p['max_iter']} {unit}s reached " +
                (f"before the {measure} fell to tol={p['tol']:g}; raise max_iter or tol."
                 if measure else f"while the {watched} was still improving by more than "
                 f"tol={p['tol']:g}; raise max_iter to train longer."))
    elif reason == "diverged":
        at = getattr(estimator, "diverged_at_", None)
        best = getattr(estimator, "best_loss_", None)
        kept = (f" (lowest loss {best:.4g})" if isinstance(best, float) and best < float("inf")
                else "")
        text = (f"Diverged at step {at}: the loss became NaN or infinite, or exploded; "
                f"training stopped after {_plural(n, unit)} and the best parameters seen"
                f"{kept} were kept.")
    elif reason == "callback":
        text = _stopping_callback(estimator)
    elif reason == "interrupted":
        text = (f"Interrupted (Ctrl-C) after {_plural(n, unit)} (step {step}); the best "
                "parameters seen were kept and the model is fitted.")
    else:
        text = f"Stopped: {reason}."
    return StopReason(reason, text, _LEVEL.get(reason, "warning"))


def stop_reason(source) -> StopReason | None:
    """Why a run stopped, as a :class:`StopReason` (the reason, a sentence, a level).

    The sentence names what was judged and its threshold: the stopping measure and ``tol``
    of a full-batch method, the quantity watched with ``tol`` and ``n_iter_no_change`` for
    early stopping, ``max_iter``, the step a divergence was caught at, the callback that
    stopped training (an ``EarlyStopping`` with its ``monitor`` and ``patience``), or the
    epochs run before a Ctrl-C.

    Args:
        source: a fitted gradkit estimator (its ``stop_reason_``), an
            :class:`~gradkit.optim.OptimizeResult` or any mapping or object with ``status``
            and ``message`` (from ``minimize`` or ``gradkit.optim.run``), a :class:`StopReason`,
            one of the ``STOP_REASONS`` names, or a sentence of one's own (its reason is
            then None).

    Returns:
        A :class:`StopReason`, or None when ``source`` says nothing (an unfitted estimator,
        None).

    Examples:
        >>> stop_reason("max_iter").text
        'Stopped: the iteration budget (max_iter) was used up.'
        >>> stop_reason("the loss fell below 0.01").reason is None
        True
    """
    if source is None or isinstance(source, StopReason):
        return source
    if isinstance(source, str):
        if source in STOP_REASONS:
            return StopReason(source, _PLAIN[source], _LEVEL[source])
        return StopReason(None, source, "ok")
    if hasattr(source, "get_params"):
        return _of_estimator(source)
    has = source.__contains__ if isinstance(source, dict) else \
        (lambda k: hasattr(source, k))
    if has("status") and has("message"):
        return _of_result(source)
    if isinstance(source, dict) and source.get("stop_reason") is not None:
        return stop_reason(source["stop_reason"])  # a history that says why it ended
    return None
