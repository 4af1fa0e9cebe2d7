"""Feature attribution: which inputs the model's output depends on, read from its gradients.

- :mod:`.attribution`: :func:`saliency`, :func:`gradient_x_input`,
  :func:`integrated_gradients` (with its completeness residual), :func:`smoothgrad` and
  :func:`feature_importances`, for any differentiable function and every fitted estimator.

>>> import numpy as np
>>> from gradkit.explain import integrated_gradients
>>> w = np.array([1.0, -2.0, 0.0])
>>> attr, residual = integrated_gradients(lambda X: X @ w, np.array([1.0, 1.0, 5.0]))
>>> attr
array([ 1., -2.,  0.])
"""
from .attribution import (IntegratedGradients, feature_importances, gradient_x_input,
                          integrated_gradients, saliency, smoothgrad)

__all__ = ["saliency", "gradient_x_input", "integrated_gradients", "smoothgrad",
           "feature_importances", "IntegratedGradients"]
