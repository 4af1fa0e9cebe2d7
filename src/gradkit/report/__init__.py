"""The single-file HTML report that ``gradkit fit``, ``race`` and ``explain`` write.

- :mod:`.html`: :class:`Report` and :class:`Section`: escaped text, tables, findings and
  figures embedded as base64 PNG, in one self-contained page (no script, no external URL).
- :mod:`.figures`: the score figures (confusion matrix, predicted against true).
- :mod:`.stopping`: :func:`stop_reason`, why a run stopped in words (from an estimator's
  ``stop_reason_`` or a solver's ``OptimizeResult``).
- :mod:`.build`: :func:`build`, the report of a training run from a fitted estimator, a
  ``GradientMonitor``, a history dict or an ``OptimizeResult``
  (``report.build(est).save("run.html")``; in a notebook the report shows inline).
"""
from .build import (build, findings_block, importance_caption, model_section, stop_block,
                    training_sections)
from .figures import confusion_matrix_figure, predicted_vs_true_figure
from .html import CSP, Report, Section, figure_to_png, format_number
from .stopping import StopReason, stop_reason

__all__ = ["Report", "Section", "figure_to_png", "CSP", "confusion_matrix_figure",
           "predicted_vs_true_figure", "build", "training_sections", "findings_block",
           "importance_caption", "format_number", "model_section", "stop_block", "stop_reason",
           "StopReason"]
