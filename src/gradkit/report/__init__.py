"""The single-file HTML report that ``gradkit fit``, ``race`` and ``explain`` write.

- :mod:`.html`: :class:`Report` and :class:`Section`: escaped text, tables, findings and
  figures embedded as base64 PNG, in one self-contained page (no script, no external URL).
- :mod:`.figures`: the score figures (confusion matrix, predicted against true).
- :mod:`.build`: :func:`build`, the report of a training run from a fitted estimator, a
  ``GradientMonitor`` or a history dict (``report.build(est).save("run.html")``; in a
  notebook the report shows inline).
"""
from .build import build, findings_block, importance_caption, training_sections
from .figures import confusion_matrix_figure, predicted_vs_true_figure
from .html import CSP, Report, Section, figure_to_png, format_number

__all__ = ["Report", "Section", "figure_to_png", "CSP", "confusion_matrix_figure",
           "predicted_vs_true_figure", "build", "training_sections", "findings_block",
           "importance_caption", "format_number"]
