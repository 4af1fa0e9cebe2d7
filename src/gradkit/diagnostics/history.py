"""History: the dict a GradientMonitor writes, kept bounded in memory, and shown in a notebook.

A run of a million steps must not hold a million records. :class:`Thinning` keeps a history
to at most ``max_records`` steps while it grows: every record until the cap, then every 2nd,
then every 4th, ... (the stride doubles each time the cap is reached, and the records already
kept are thinned to the new stride), always with the first record and the latest one. The
steps kept are evenly spaced over the whole run at any moment, so curves, per-epoch means
and the diagnostics read a thinned history as they read a full one; the step numbers are
kept with the records (``history["step"]``), so nothing is mislabelled. :func:`thin` applies
the same rule to a finished history (a merged warm start, a file).

Per-step lists are ``history["step"]`` and every list of the same length, at the top level
or one level down (``grad_norm[group]``); ``nonfinite`` and ``val_*`` have their own index
and are left whole (they hold one entry per event or per epoch).
"""
from __future__ import annotations

import html
import math

__all__ = ["History", "Thinning", "thin", "MAX_RECORDS"]

#: The most steps a :class:`~gradkit.diagnostics.GradientMonitor` keeps in memory (and so an
#: estimator's ``history_``): about 3 MB for a three-layer model.
MAX_RECORDS = 10_000

_OWN_INDEX = ("nonfinite", "val_")


def _per_step_lists(history):
    """Every list of ``history`` indexed by its steps (see the module doc)."""
    n = len(history.get("step", ()))
    out = []
    for key, value in history.items():
        if key.startswith(_OWN_INDEX):
            continue
        if isinstance(value, list) and len(value) == n:
            out.append(value)
        elif isinstance(value, dict):
            out.extend(v for v in value.values() if isinstance(v, list) and len(v) == n)
    return out


def _check_cap(max_records) -> int:
    if isinstance(max_records, bool) or not isinstance(max_records, int) or max_records < 3:
        raise ValueError(f"max_records must be an integer of at least 3 (the first, a middle "
                         f"and the latest record); got max_records={max_records!r}.")
    return max_records


def _keep(history, positions):
    """Keep the records at ``positions`` (increasing) of every per-step list, in place."""
    for values in _per_step_lists(history):
        values[:] = [values[i] for i in positions]


class Thinning:
    """Keep a growing history to at most ``max_records`` steps (the rule of the module doc).

    Call :meth:`recorded` after each record is appended to ``history``.

    Args:
        max_records: the cap (at least 3: the first, one in the middle, the latest).

    Examples:
        >>> h, keep = {"step": [], "loss": []}, Thinning(max_records=4)
        >>> for t in range(10):
        ...     h["step"].append(t); h["loss"].append(float(t))
        ...     keep.recorded(h)
        >>> h["step"], keep.stride
        ([0, 4, 8, 9], 4)
    """

    def __init__(self, max_records=MAX_RECORDS):
        self.max_records = _check_cap(max_records)
        self.stride = 1
        self.offered = 0  # records appended so far, kept or not
        self._index = []  # the offered index of each record kept

    def recorded(self, history) -> None:
        """Account for the record just appended to ``history`` and thin when due."""
        i = self.offered
        self.offered += 1
        if self._index and self._index[-1] % self.stride:  # the previous latest, off stride
            for values in _per_step_lists(history):
                del values[-2]
            self._index.pop()
        self._index.append(i)
        if len(self._index) > self.max_records:
            self.stride *= 2
            positions = [p for p, j in enumerate(self._index)
                         if j % self.stride == 0 or p == len(self._index) - 1]
            _keep(history, positions)
            self._index = [self._index[p] for p in positions]


def thin(history, max_records=MAX_RECORDS):
    """``history`` with at most ``max_records`` of its steps, by the rule of the module doc
    (every k-th record from the first, k the smallest power of two that fits, and the last);
    a new dict, the input unchanged. A history within the cap is returned as it is.

    Args:
        history: a history dict (``GradientMonitor.history``, ``estimator.history_``).
        max_records: the cap (at least 3).

    Returns:
        dict: the thinned history (the same keys; per-step lists shortened alike).

    Examples:
        >>> h = {"step": list(range(10)), "loss": [float(t) for t in range(10)],
        ...      "grad_norm": {"w": list(range(10))}, "val_loss": [1.0, 0.5]}
        >>> small = thin(h, max_records=4)
        >>> small["step"], small["grad_norm"]["w"], small["val_loss"]
        ([0, 4, 8, 9], [0, 4, 8, 9], [1.0, 0.5])
    """
    max_records = _check_cap(max_records)
    n = len(history.get("step", ()))
    if n <= max_records:
        return history
    stride = 1
    while len(range(0, n - 1, stride)) + 1 > max_records:
        stride *= 2
    positions = list(range(0, n - 1, stride)) + [n - 1]
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in history.items()}
    per_step = {id(v) for v in _per_step_lists(history)}
    for key, value in out.items():
        if isinstance(value, list) and id(value) in per_step:
            out[key] = [value[i] for i in positions]
        elif isinstance(value, dict):
            out[key] = {g: ([v[i] for i in positions] if id(v) in per_step else v)
                        for g, v in value.items()}
    return out


def _num(v):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.4g}"


class History(dict):
    """A training history (``mon.history``, ``estimator.history_``, or one loaded from JSON)
    that a notebook shows as a table: steps, loss at the start, best and last, each layer's
    last gradient norm, and the findings of :func:`~gradkit.diagnostics.diagnose`. It is
    still a plain dict (``json.dump`` writes it).

    Args:
        *args: as for ``dict``: a mapping (a history dict) or an iterable of pairs.
        **kwargs: more keys, as for ``dict``.


    Examples:
        >>> h = History({"step": [0, 1], "loss": [1.0, 0.5], "grad_norm": {"w": [1.0, 0.4]}})
        >>> "0.5" in h._repr_html_(), isinstance(h, dict)
        (True, True)
    """

    def _repr_html_(self):
        from .findings import Findings, diagnose

        esc = html.escape
        loss = [v for v in self.get("loss", []) if v is not None]
        finite = [v for v in loss if math.isfinite(v)]
        rows = [("steps recorded", str(len(self.get("step", loss)))),
                ("loss at the start", _num(loss[0]) if loss else ""),
                ("best loss", _num(min(finite)) if finite else ""),
                ("last loss", _num(loss[-1]) if loss else "")]
        rows += [(f"last gradient norm of {g}", _num(v[-1]) if v else "")
                 for g, v in (self.get("grad_norm") or {}).items()]
        table = "".join(f"<tr><th style='text-align:left'>{esc(str(k))}</th>"
                        f"<td style='text-align:left'>{esc(v)}</td></tr>" for k, v in rows)
        try:
            findings = diagnose(dict(self)) if "loss" in self else Findings()
        except (TypeError, ValueError):
            findings = Findings()
        return f"<table><caption>training history</caption>{table}</table>" \
            + findings._repr_html_()
