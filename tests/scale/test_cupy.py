"""CuPy (GPU): the engine, the optimizers and minimize keep arrays on the device and in their dtype.

Runs only where CuPy imports and sees a CUDA device; otherwise every test is skipped with the
reason (``pytest -rs`` lists it).
"""
import numpy as np
import pytest

from gradkit.backend import gpu_available

cp = pytest.importorskip("cupy", reason="CuPy is not installed: the GPU path is not tested here")
if not gpu_available():
    pytest.skip("CuPy is installed but no CUDA device is visible: the GPU path is not tested",
                allow_module_level=True)

import gradkit as gk  # noqa: E402
from gradkit import optim  # noqa: E402
from gradkit.backend import array_namespace  # noqa: E402


def logistic_loss(w, X, y):
    return np.sum(np.logaddexp(0.0, -y * (X @ w)))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = np.where(X @ rng.normal(size=5) > 0, 1.0, -1.0)
    return X, y


def test_array_namespace_of_a_cupy_array_is_cupy():
    assert array_namespace(cp.ones(3)) is cp


def test_gradients_of_cupy_inputs_are_cupy_arrays_equal_to_numpy(data):
    X, y = data
    w = np.linspace(-1, 1, 5)
    g_host = gk.grad(logistic_loss)(w, X, y)
    g_dev = gk.grad(logistic_loss)(cp.asarray(w), cp.asarray(X), cp.asarray(y))
    assert isinstance(g_dev, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(g_dev), g_host, rtol=1e-10)


def test_hvp_stays_on_the_device(data):
    X, y = data
    w, v = cp.zeros(5), cp.ones(5)
    hv = gk.hvp(logistic_loss)(w, cp.asarray(X), cp.asarray(y), v)
    assert isinstance(hv, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(hv), gk.hvp(logistic_loss)(np.zeros(5), X, y,
                                                                     np.ones(5)), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_stays_float32_on_the_device(dtype):
    x = cp.ones(4, dtype=dtype)
    g = gk.grad(lambda x: np.sum(np.tanh(x) ** 2))(x)
    assert isinstance(g, cp.ndarray) and g.dtype == dtype


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "rmsprop", "adagrad"])
def test_gradient_transformations_keep_state_on_the_device(name):
    tx = getattr(optim, name)(0.1)
    params = {"w": cp.ones(3, dtype=cp.float32)}
    state = tx.init(params)
    updates, state = tx.update({"w": cp.full(3, 0.5, dtype=cp.float32)}, state, params)
    new = optim.apply_updates(params, updates)
    assert isinstance(new["w"], cp.ndarray) and new["w"].dtype == cp.float32


@pytest.mark.parametrize("method", ["lbfgs", "newton-cg", "gd"])
def test_minimize_on_cupy_data_equals_numpy(data, method):
    X, y = data
    ref = gk.minimize(lambda w: logistic_loss(w, X, y) + 0.5 * w @ w, np.zeros(5), method=method)
    Xd, yd = cp.asarray(X), cp.asarray(y)
    res = gk.minimize(lambda w: logistic_loss(w, Xd, yd) + 0.5 * w @ w, cp.zeros(5),
                      method=method)
    assert isinstance(res.x, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(res.x), ref.x, atol=1e-6)
