"""Figures of what gradients do: landscapes, training curves, gradient flow, attributions, races.

Every function returns a ``matplotlib.figure.Figure`` drawn on its own Agg canvas; pyplot
and the global backend are never touched, so it works headless and inside notebooks alike.
Save with ``fig.savefig("out.png")``.

- :mod:`.landscape`: :func:`landscape` (a 2-D function, gradient arrows, optimizer paths)
  and :func:`loss_slice` (a model's loss along two directions in parameter space).
- :mod:`.training`: :func:`training` (loss, validation loss, learning rate) and
  :func:`gradient_flow` (gradient norm per layer, findings marked), both smoothed with
  :func:`smooth` (a local line: a trend without lag).
- :mod:`.attributions`: :func:`attributions` (feature importance bars).
- :mod:`.race`: :func:`race` (loss against evaluations and time per optimizer).

>>> from gradkit import plot
>>> fig = plot.training([3.0, 2.0, 1.5])
>>> type(fig).__name__
'Figure'
"""
from .attributions import attributions
from .landscape import landscape, loss_slice
from .race import race
from .training import gradient_flow, smooth, training

__all__ = ["landscape", "loss_slice", "training", "gradient_flow", "smooth", "attributions",
           "race"]
