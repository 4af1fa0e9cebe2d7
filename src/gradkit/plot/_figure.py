"""Figures without pyplot: an Agg canvas per figure, so no global backend state is touched."""
from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["new_figure"]


def new_figure(nrows: int = 1, ncols: int = 1, figsize=(6.4, 4.8), **subplot_kw):
    """A ``Figure`` with its own Agg canvas and a grid of axes: ``(fig, axes)``.

    Neither pyplot nor ``matplotlib.use`` is involved, so a backend chosen by the user (or
    by a notebook) stays as it is, and figures are never shown or kept alive by a registry.

    >>> fig, ax = new_figure()
    >>> type(fig.canvas).__name__
    'FigureCanvasAgg'
    """
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, subplot_kw=subplot_kw or None)
    return fig, axes
