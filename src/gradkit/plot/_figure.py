"""Figures without pyplot: an Agg canvas per figure, so no global backend state is touched."""
from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from gradkit.safety import PLAIN_TEXT, for_label

__all__ = ["new_figure", "plain_text"]


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


def plain_text(*artists):
    """Show user strings (feature names, legend entries, titles) as written: control
    characters escaped and no math text or TeX (:mod:`gradkit.safety`), so a ``$`` in a
    column name neither changes the label nor breaks the drawing. ``artists`` are ``Text``
    objects, lists of them, or legends (their entries and title)."""
    for artist in artists:
        if isinstance(artist, Legend):
            plain_text(artist.get_texts(), artist.get_title())
        elif isinstance(artist, (list, tuple)):
            plain_text(*artist)
        elif artist is not None:
            artist.set_text(for_label(artist.get_text()))
            artist.update(PLAIN_TEXT)
