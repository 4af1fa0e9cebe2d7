"""gradkit.backend: which namespace an array belongs to, and clear errors where there is no GPU path.

A stand-in ``cupy`` module (an array type that is not a NumPy array) tests the dispatch logic on
machines without a GPU; tests/scale/test_cupy.py runs the real thing where CuPy and a GPU exist.
"""
import sys
import types

import numpy as np
import pytest

import gradkit as gk
from gradkit import backend
from gradkit.models import LogisticRegression


class FakeDeviceArray:
    """Stands for cupy.ndarray: not a NumPy array, refuses implicit conversion."""

    def __init__(self, value):
        self.value = np.asarray(value)
        self.shape, self.dtype, self.ndim = self.value.shape, self.value.dtype, self.value.ndim

    def get(self):
        return self.value.copy()

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed.")


@pytest.fixture
def fake_cupy(monkeypatch):
    module = types.ModuleType("cupy")
    module.ndarray = FakeDeviceArray
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


def test_numpy_arrays_and_tracers_belong_to_numpy():
    assert backend.array_namespace(np.ones(3), 2.0, None) is np
    seen = []
    gk.grad(lambda x: seen.append(backend.array_namespace(x)) or np.sum(x))(np.ones(2))
    assert seen == [np]


def test_device_arrays_belong_to_cupy(fake_cupy):
    x = FakeDeviceArray([1.0, 2.0])
    assert backend.array_namespace(x, 3.0) is fake_cupy
    assert backend.is_gpu_array(x) and not backend.is_gpu_array(np.ones(2))
    np.testing.assert_array_equal(backend.to_numpy(x), [1.0, 2.0])


def test_mixing_host_and_device_arrays_is_an_error_that_says_how_to_fix_it(fake_cupy):
    with pytest.raises(TypeError, match="one device"):
        backend.array_namespace(np.ones(2), FakeDeviceArray([1.0]))


def test_functions_without_a_gpu_path_say_so(fake_cupy):
    with pytest.raises(backend.NoGPUPathError, match="fit has no GPU path"):
        LogisticRegression().fit(FakeDeviceArray(np.zeros((4, 2))), np.array([0, 1, 0, 1]))
    backend.require_numpy("anything", np.zeros(2))  # host arrays pass


def test_gpu_available_is_false_without_a_device():
    if "cupy" not in sys.modules:
        try:
            import cupy  # noqa: F401
        except ImportError:
            assert backend.gpu_available() is False
            return
    assert isinstance(backend.gpu_available(), bool)
