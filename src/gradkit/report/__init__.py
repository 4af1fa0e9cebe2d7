"""The single-file HTML report that ``gradkit fit``, ``race`` and ``explain`` write.

- :mod:`.html`: :class:`Report` and :class:`Section`: escaped text, tables, findings and
  figures embedded as base64 PNG, in one self-contained page (no script, no external URL).
- :mod:`.figures`: the score figures (confusion matrix, predicted against true).
"""
from .figures import confusion_matrix_figure, predicted_vs_true_figure
from .html import CSP, Report, Section, figure_to_png

__all__ = ["Report", "Section", "figure_to_png", "CSP", "confusion_matrix_figure",
           "predicted_vs_true_figure"]
