"""Gradient diagnostics: per-layer monitoring, named findings (vanishing, exploding, NaN, ...), noise.

- :mod:`.monitor`: :class:`GradientMonitor`, fed by any training loop with ``mon.record(...)``.
- :mod:`.findings`: :class:`Finding` and the detectors; :func:`diagnose` runs them all on a
  history dict (``mon.history``, ``estimator.history_`` or one loaded from JSON).
- :mod:`.history`: :class:`History`, a history dict that shows itself in a notebook.
- :mod:`.noise`: mini-batch gradient variance and the gradient noise scale.

>>> import numpy as np, gradkit as gk
>>> from gradkit.diagnostics import GradientMonitor
>>> mon = GradientMonitor()
>>> params = np.array([1.0, -1.0])
>>> for step in range(3):
...     loss, g = gk.value_and_grad(lambda w: np.sum(w ** 2))(params)
...     ok = mon.record(step, loss, g, params, learning_rate=0.1)
...     params = params - 0.1 * g
>>> mon.findings()
[]
"""
from .findings import (REMEDIES, Finding, Findings, diagnose, divergence, epoch_length,
                       exploding_gradients, learning_rate_too_high, nan_or_inf, plateau,
                       vanishing_gradients)
from .history import History
from .monitor import GradientMonitor, named_leaves, parameter_groups
from .noise import GradientNoise, gradient_noise

__all__ = ["GradientMonitor", "Finding", "Findings", "History", "diagnose",
           "vanishing_gradients", "exploding_gradients", "nan_or_inf", "divergence", "plateau",
           "learning_rate_too_high", "epoch_length", "REMEDIES", "gradient_noise",
           "GradientNoise", "parameter_groups", "named_leaves"]
