"""Datasets: scikit-learn's bundled sets by name."""
import numpy as np
import pytest

from gradkit.data import load_dataset

CASES = [  # name, X shape, task, number of classes (None: regression)
    ("breast_cancer", (569, 30), "classification", 2),
    ("digits", (1797, 64), "classification", 10),
    ("wine", (178, 13), "classification", 3),
    ("iris", (150, 4), "classification", 3),
    ("diabetes", (442, 10), "regression", None),
]


@pytest.mark.parametrize("name,shape,task,n_classes", CASES)
def test_load_dataset(name, shape, task, n_classes):
    ds = load_dataset(name)
    assert ds.X.shape == shape and ds.X.dtype == np.float64 and ds.task == task
    assert len(ds.y) == shape[0] and len(ds.feature_names) == shape[1]
    if n_classes is None:
        assert ds.target_names is None and ds.y.dtype == np.float64
    else:
        assert len(ds.target_names) == n_classes
        assert ds.y.dtype.kind == "i" and set(ds.y.tolist()) == set(range(n_classes))


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match="breast_cancer, diabetes, digits, iris, wine"):
        load_dataset("mnist")
