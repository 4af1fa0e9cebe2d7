"""Data for training: batches for full-batch, stochastic and mini-batch gradients, splits, datasets.

- :mod:`.batching`: :func:`batches`, :func:`train_validation_split`.
- :mod:`.datasets`: :func:`load_dataset` for scikit-learn's bundled datasets.
- :mod:`.tabular`: tables (CSV, Parquet, bundled) read, checked and encoded for a model, with
  a JSON spec that encodes new rows alike (imported on demand: it needs pandas).

Batching only indexes ``X[indices]`` and reads ``X.shape``, so arrays that live elsewhere
(Dask, CuPy) can go through it; Dask-backed data gets its own module, imported on demand.

>>> import numpy as np
>>> from gradkit.data import batches
>>> sum(len(xb) for xb, _ in batches(np.zeros((7, 2)), None, batch_size=3, rng=0))
7
"""
from .batching import batches, check_batch_size, num_samples, train_validation_split
from .datasets import DATASETS, Dataset, load_dataset

__all__ = ["batches", "check_batch_size", "num_samples", "train_validation_split",
           "load_dataset", "Dataset", "DATASETS"]
