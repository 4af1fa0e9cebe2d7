"""scikit-learn estimators trained by gradients: linear and logistic regression, linear SVM, MLPs.

Every estimator minimizes ``(1/n) [sum_i loss_i + alpha * R(w)]`` (weighted by ``fit``'s
``sample_weight`` and the classifiers' ``class_weight``) with any optimizer of
:mod:`gradkit.optim` (see :mod:`gradkit.models.base`), records ``loss_curve_``, a per-layer
``history_`` of the gradients and, with ``validation_data``, validation curves, says why it
stopped (``stop_reason_``), takes ``callbacks`` (:mod:`gradkit.models.callbacks`), and saves
to a single ``.npz`` file (:func:`load`).

>>> import numpy as np
>>> from gradkit.models import LogisticRegression
>>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
>>> LogisticRegression(optimizer="adam", learning_rate=0.1, max_iter=100).fit(X, y).score(X, y)
1.0
"""
from .base import (FULL_BATCH_METHODS, TRANSFORMS, GradientClassifier, GradientEstimator,
                   GradientRegressor, OptimizerKind)
from .callbacks import (Callback, EarlyStopping, EpochInfo, HistoryLogger, ReduceLROnPlateau,
                        StopTraining)
from .linear import LinearRegression, LinearSVM, LogisticRegression
from .neural_network import MLPClassifier, MLPRegressor
from .persistence import ModelFileError, load, save

__all__ = ["LinearRegression", "LogisticRegression", "LinearSVM", "MLPClassifier",
           "MLPRegressor", "load", "save", "ModelFileError", "GradientEstimator",
           "GradientClassifier", "GradientRegressor", "OptimizerKind", "FULL_BATCH_METHODS",
           "TRANSFORMS", "Callback", "EarlyStopping", "ReduceLROnPlateau", "HistoryLogger",
           "StopTraining", "EpochInfo"]
