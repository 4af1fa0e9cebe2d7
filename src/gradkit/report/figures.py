"""The report's own score figures: a confusion matrix, and predicted against true values."""
from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..plot._figure import plain_text

__all__ = ["confusion_matrix_figure", "predicted_vs_true_figure"]


def _figure(figsize):
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def confusion_matrix_figure(matrix, labels, title="confusion matrix (held-out rows)"):
    """A heat map of ``matrix[i, j]`` = rows of true class ``i`` predicted as ``j``, with counts.

    Args:
        matrix: the counts, a square integer array ``(k, k)``.
        labels: the ``k`` class names.
        title: the axes' title (plain text).

    Returns:
        The ``matplotlib.figure.Figure``.

    Examples:
        >>> fig = confusion_matrix_figure(np.array([[3, 1], [0, 4]]), ["a", "b"])
        >>> len(fig.axes[0].texts)
        4
    """
    matrix = np.asarray(matrix)
    k = len(labels)
    size = min(3.0 + 0.45 * k, 9.0)
    fig, ax = _figure((size + 1.0, size))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, label="rows")
    ticks = np.arange(k)
    shown = _tick_labels(labels)
    turn = k > 4 or max((len(t) for t in shown), default=0) > 6
    ax.set_xticks(ticks, shown, rotation=45 if turn else 0, ha="right" if turn else "center",
                  rotation_mode="anchor")
    ax.set_yticks(ticks, shown)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > threshold else "black")
    # over the axes and the colour bar both, so that the bar never cuts it
    plain_text(ax.get_xticklabels(), ax.get_yticklabels(), fig.suptitle(title, fontsize=11))
    return fig


def _tick_labels(labels, width=24):
    """The class names as tick labels: a long name keeps its start and its end (where
    ``customer_segment_premium_A`` and ``..._B`` differ) around an ellipsis; names that
    still coincide get their index in front."""
    def short(text):
        return text if len(text) <= width else f"{text[:width // 2 - 1]}…{text[-(width // 2):]}"
    shown = [short(str(label)) for label in labels]
    if len(set(shown)) < len(shown):
        shown = [f"{i}: {t}" for i, t in enumerate(shown)]
    return shown


def predicted_vs_true_figure(y_true, y_pred, title="predicted against true (held-out rows)"):
    """A scatter of predictions against true values with the line ``predicted = true``.

    Args:
        y_true: the true values.
        y_pred: the predictions, one per true value.
        title: the axes' title (plain text).

    Returns:
        The ``matplotlib.figure.Figure``.

    Examples:
        >>> fig = predicted_vs_true_figure([1.0, 2.0, 3.0], [1.1, 1.9, 3.2])
        >>> len(fig.axes[0].lines)
        1
    """
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    fig, ax = _figure((5.5, 5.0))
    ax.scatter(y_true, y_pred, s=14, alpha=0.7, color="#1f77b4")
    lo = float(min(y_true.min(), y_pred.min()))
    hi = float(max(y_true.max(), y_pred.max()))
    ax.plot([lo, hi], [lo, hi], color="#d62728", lw=1, label="predicted = true")
    ax.set_xlabel("true value")
    ax.set_ylabel("predicted value")
    ax.legend(loc="upper left")
    ax.set_title(title)
    return fig
