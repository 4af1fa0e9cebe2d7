"""History: the dict a GradientMonitor writes, shown in a notebook as a summary and its findings."""
from __future__ import annotations

import html
import math

__all__ = ["History"]


def _num(v):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.4g}"


class History(dict):
    """A training history (``mon.history``, ``estimator.history_``, or one loaded from JSON)
    that a notebook shows as a table: steps, loss at the start, best and last, each layer's
    last gradient norm, and the findings of :func:`~gradkit.diagnostics.diagnose`. It is
    still a plain dict (``json.dump`` writes it).

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
