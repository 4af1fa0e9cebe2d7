"""Feature importance as a bar chart."""
from __future__ import annotations

import numpy as np

from gradkit.safety import for_label

from ._figure import new_figure, plain_text

__all__ = ["attributions"]


def attributions(importances, feature_names=None, *, top=None, errors=None, title=None,
                 figsize=(6.4, 4.8)):
    """Horizontal bars of feature importances, the largest on top.

    Args:
        importances: a 1-D array (e.g. :func:`gradkit.explain.feature_importances` or an
            estimator's ``feature_importances_``) or a dict ``{name: value}``.
        feature_names: names for the array entries (default ``x0, x1, ...``).
        top: show only the ``top`` largest (by absolute value).
        errors: optional error bars, shaped like ``importances``.
        title: the title (shown as plain text); None for one saying how many features are shown.
        figsize: the figure's ``(width, height)`` in inches.

    Returns:
        The ``Figure`` (one bar patch per feature shown), titled with how many are shown
        ("all 8 features", "the 20 most important of 61 features").

    Raises:
        ValueError: if names or errors do not match the number of importances.

    Examples:
        >>> fig = attributions([0.1, 0.7, 0.3], ["age", "bmi", "bp"])
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ['age', 'bp', 'bmi']
    """
    if isinstance(importances, dict):
        feature_names = [str(k) for k in importances]
        importances = list(importances.values())
    values = np.asarray(importances, dtype=float).ravel()
    names = [f"x{i}" for i in range(values.size)] if feature_names is None \
        else [str(n) for n in feature_names]
    if len(names) != values.size:
        raise ValueError(f"{len(names)} feature names for {values.size} importances.")
    err = None if errors is None else np.asarray(errors, dtype=float).ravel()
    if err is not None and err.size != values.size:
        raise ValueError(f"{err.size} errors for {values.size} importances.")
    order = np.argsort(-np.abs(values), kind="stable")
    if top is not None:
        order = order[:int(top)]
    order = order[::-1]  # barh draws bottom-up
    fig, ax = new_figure(figsize=figsize)
    pos = np.arange(order.size)
    ax.barh(pos, values[order], xerr=None if err is None else err[order],
            color=np.where(values[order] >= 0, "tab:blue", "tab:red"))
    # tick labels are re-read from the formatter at every draw: escape the strings themselves
    ax.set_yticks(pos, [for_label(names[i]) for i in order])
    ax.axvline(0.0, color="k", linewidth=0.6)
    ax.set_xlabel("importance")
    shown = order.size
    plain_text(ax.get_yticklabels(), ax.set_title(
        title or (f"feature importance: all {shown} features" if shown == values.size
                  else f"the {shown} most important of {values.size} features")))
    return fig
