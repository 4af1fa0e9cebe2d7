"""Datasets: scikit-learn's bundled sets (breast_cancer, digits, wine, iris, diabetes) by name.

>>> ds = load_dataset("iris")
>>> ds.X.shape, ds.task, ds.target_names[:2]
((150, 4), 'classification', ['setosa', 'versicolor'])
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

__all__ = ["Dataset", "load_dataset", "DATASETS"]


class Dataset(NamedTuple):
    """A dataset in memory: ``X`` (float64, one sample per row) and ``y`` (int labels for
    classification, float64 for regression), with names for the columns and classes.

    Attributes:
        name: the dataset's name (``"iris"``).
        X: the samples, float64, shape ``(n_samples, n_features)``.
        y: the targets, shape ``(n_samples,)``: int64 class indices or float64 values.
        feature_names: one name per column of ``X``.
        target_names: the class names, indexed by ``y`` (None for regression).
        task: ``"classification"`` or ``"regression"``.

    Examples:
        >>> import numpy as np
        >>> ds = Dataset("toy", np.zeros((2, 1)), np.array([0, 1]), ["x0"], ["no", "yes"],
        ...              "classification")
        >>> ds.target_names[ds.y[1]], ds.X.shape
        ('yes', (2, 1))
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: list
    target_names: Optional[list]  # None for regression
    task: str  # "classification" or "regression"



#: The bundled data sets by name: ``name -> (scikit-learn loader, task)``.
DATASETS = {
    "breast_cancer": ("load_breast_cancer", "classification"),
    "digits": ("load_digits", "classification"),
    "wine": ("load_wine", "classification"),
    "iris": ("load_iris", "classification"),
    "diabetes": ("load_diabetes", "regression"),
}


def load_dataset(name) -> Dataset:
    """Load one of scikit-learn's bundled datasets (no download) as a :class:`Dataset`.

    Args:
        name: one of ``breast_cancer``, ``digits``, ``wine``, ``iris`` (classification) or
            ``diabetes`` (regression).

    Returns:
        A :class:`Dataset` with ``X`` as float64.

    Raises:
        ValueError: for an unknown name, listing the valid ones.

    Examples:
        >>> d = load_dataset("diabetes")
        >>> d.X.dtype, d.y.dtype, d.target_names, d.task
        (dtype('float64'), dtype('float64'), None, 'regression')
    """
    key = str(name).lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}. Valid names: {', '.join(sorted(DATASETS))}.")
    import sklearn.datasets  # imported here: only loading a dataset needs it

    loader, task = DATASETS[key]
    bunch = getattr(sklearn.datasets, loader)()
    X = np.asarray(bunch.data, dtype=np.float64)
    feature_names = [str(f) for f in getattr(bunch, "feature_names", [])] or \
        [f"x{i}" for i in range(X.shape[1])]
    if task == "classification":
        y = np.asarray(bunch.target, dtype=np.int64)
        target_names = [str(t) for t in bunch.target_names]
    else:
        y = np.asarray(bunch.target, dtype=np.float64)
        target_names = None
    return Dataset(key, X, y, feature_names, target_names, task)
