"""Arrays stay on their device: the engine, the optimizers and nn, proved on the CPU.

There is no GPU here, so a stand-in plays one. :class:`DeviceArray` is an ndarray subclass that
behaves like ``cupy.ndarray`` where it matters:

- ``*_like`` functions, ufuncs, methods, views and every NumPy function that dispatches on it
  (``__array_function__``) return DeviceArrays, as CuPy's do;
- arrays made from nothing (``np.eye(n)``, ``np.zeros(shape)``, ``np.arange(n)``) or forced
  with ``np.asarray`` are plain host ndarrays, as they are beside CuPy;
- mixing a host array (ndim > 0) with a DeviceArray in a ufunc or NumPy function raises, as
  CuPy does, so a host array created inside a rule is caught even when it is only an operand.

The ``fake_cupy`` fixture registers a ``cupy`` module whose ``ndarray`` is DeviceArray and
whose functions are NumPy's returning DeviceArrays, so ``gradkit.backend.array_namespace`` sees
the "device" exactly as it would see CuPy. tests/scale/test_cupy.py runs the real thing on a
GPU.
"""
import sys
import types

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.autodiff.stable import log_softmax, logsumexp, softmax
from gradkit.autodiff.tracer import Tracer


class HostArrayError(TypeError):
    """A host array met a device array: CuPy raises here, so the proxy does too."""


class DeviceArray(np.ndarray):
    """A NumPy array that stands for an array on a GPU (see the module docstring)."""

    def __array_finalize__(self, obj):
        pass  # views, copies and *_like results of a DeviceArray are DeviceArrays

    def get(self):  # cupy.ndarray.get(): copy to the host
        return self.view(np.ndarray).copy()

    def __getitem__(self, index):  # x[i] of a CuPy array is a 0-d device array, not a scalar
        return _to_device(super().__getitem__(index))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(a, Tracer) for a in inputs + kwargs.get("out", ())):
            return NotImplemented
        where = f"np.{ufunc.__name__}.{method}"
        args = _to_host(inputs, where)
        if "out" in kwargs:
            kwargs["out"] = _to_host(kwargs["out"], where)
        result = getattr(ufunc, method)(*args, **kwargs)
        return _to_device(result)

    def __array_function__(self, func, types_, args, kwargs):
        if not all(issubclass(t, np.ndarray) for t in types_):
            return NotImplemented
        where = f"np.{func.__name__}"
        return _to_device(func(*_to_host(args, where), **_to_host(kwargs, where)))


def _to_host(obj, where):
    """Device arrays as plain views (to run NumPy's own code); a host array is an error."""
    if isinstance(obj, DeviceArray):
        return obj.view(np.ndarray)
    if type(obj) is np.ndarray and obj.ndim > 0:
        raise HostArrayError(f"{where} got a host array of shape {obj.shape} beside a device "
                             "array: something made it with np.zeros / np.eye / np.asarray.")
    if type(obj) in (list, tuple):
        return type(obj)(_to_host(o, where) for o in obj)
    if type(obj) is dict:
        return {k: _to_host(v, where) for k, v in obj.items()}
    return obj


def _to_device(obj):
    """Results back on the device; scalars become 0-d device arrays, as CuPy returns them."""
    if type(obj) is np.ndarray or (isinstance(obj, np.generic) and obj.dtype.kind in "biufc"):
        return np.asarray(obj).view(DeviceArray)
    if isinstance(obj, tuple):
        items = [_to_device(o) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else type(obj)(items)
    if type(obj) is list:
        return [_to_device(o) for o in obj]
    return obj


def dev(a):
    """Put a host array "on the device"."""
    return np.array(a, dtype=float).view(DeviceArray)


@pytest.fixture
def fake_cupy(monkeypatch):
    module = types.ModuleType("cupy")

    def namespace_function(name):
        func = getattr(np, name)
        return lambda *args, **kwargs: _to_device(func(*args, **kwargs))

    module.__getattr__ = namespace_function  # cupy.eye, cupy.asarray, ... land on the device
    module.ndarray = DeviceArray
    as_strided = lambda x, shape, strides: _to_device(  # noqa: E731  (CuPy's signature)
        np.lib.stride_tricks.as_strided(x.view(np.ndarray), shape, strides))
    module.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=as_strided))
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


def on_device(tree):
    """Every array leaf is a DeviceArray (Python numbers, such as step counts, may be leaves)."""
    leaves = gk.tree.tree_leaves(tree)
    return leaves and all(isinstance(leaf, DeviceArray) for leaf in leaves
                          if isinstance(leaf, (np.ndarray, np.generic)))


def test_the_proxy_catches_host_arrays(fake_cupy):
    x = dev([1.0, 2.0])
    assert isinstance(np.zeros_like(x), DeviceArray) and isinstance(np.sum(x), DeviceArray)
    assert not isinstance(np.asarray(x), DeviceArray)
    with pytest.raises(HostArrayError):
        x + np.eye(2)[0]
    assert gk.backend.array_namespace(x) is fake_cupy


# ----------------------------------------------------------------------------- engine
rng = np.random.default_rng(0)
SPD = rng.normal(size=(3, 3))
SPD = SPD @ SPD.T + 3 * np.eye(3)

def _writes_through_views(x):
    """A traced buffer written directly, through a view and in place (mutation.py)."""
    b = np.zeros_like(x)
    tail = b[1:]
    tail[0] = x[0] ** 2
    b += x
    b[-1] *= 3.0
    return np.sum(b * b) + np.sum(tail)


# name -> (f: array -> scalar, x0). Every derivative below must come back as a DeviceArray.
FUNCTIONS = {
    "writes_through_views": (_writes_through_views, [0.3, -1.2, 0.7]),
    "elementwise": (lambda x: np.sum(np.tanh(x) * np.exp(x) / (1 + x ** 2) + np.abs(x)),
                    [0.3, -1.2, 0.7]),
    "where_maximum": (lambda x: np.sum(np.where(x > 0, x ** 2, np.maximum(x, -0.5))),
                      [0.3, -1.2, 0.7]),
    "sum_mean_axes": (lambda x: np.sum(np.mean(x ** 2, axis=0)) + np.sum(np.sin(x), axis=1)[0],
                      np.arange(6.0).reshape(2, 3) / 5),
    "max_ties": (lambda x: np.max(x ** 2) + np.sum(np.max(x, axis=1)),
                 [[1.0, -1.0, 0.5], [0.2, 0.2, 0.1]]),
    "prod_var": (lambda x: np.prod(x) + np.var(x) + np.std(x), [0.5, 1.5, 2.0]),
    "cumprod": (lambda x: np.sum(np.cumprod(x) ** 2), [0.5, 1.5, 2.0]),
    "cumprod_with_zero": (lambda x: np.sum(np.cumprod(x * np.array(1.0)) * np.cumsum(x)),
                          [0.5, 0.0, 2.0]),
    "matmul": (lambda x: np.sum((x @ x.T) ** 2), [[0.5, 1.0], [-1.0, 2.0]]),
    "einsum_repeated_label": (lambda x: np.einsum("ii->", x ** 2) + np.sum(
        np.einsum("ii->i", x) * np.einsum("ij,jk->ik", x, x).sum(1)),
        [[0.5, 1.0], [-1.0, 2.0]]),
    "diagonal_trace": (lambda x: np.sum(np.diagonal(x) ** 3) + np.trace(x @ x),
                       [[0.5, 1.0], [-1.0, 2.0]]),
    "linalg_inv_solve_det": (lambda x: np.sum(np.linalg.inv(x)) + np.sum(
        np.linalg.solve(x, x[:, 0])) + np.linalg.det(x), SPD),
    "linalg_cholesky_eigh": (lambda x: np.sum(np.linalg.cholesky(x @ x.T)) + np.sum(
        np.linalg.eigh(x + x.T)[0] ** 2), SPD),
    "pad": (lambda x: np.sum(np.pad(x, 1) ** 2 * 3) + np.sum(
        np.pad(x, (1, 2), constant_values=2.0) ** 3), [0.3, -1.2, 0.7]),
    "pad_reflect": (lambda x: np.sum(np.pad(x, 2, mode="reflect") ** 3), [0.3, -1.2, 0.7]),
    "take_indexing": (lambda x: np.sum(np.take(x, [0, 0, 2]) ** 2) + np.sum(x[[1, 1]] ** 3)
                      + np.sum(x[x > 0] ** 2) + np.sum(np.take_along_axis(
                          np.stack([x, 2 * x]), np.array([[0, 2, 1], [1, 1, 0]]), 1) ** 2),
                      [0.3, -1.2, 0.7]),
    "concatenate_repeat": (lambda x: np.sum(np.concatenate([x, x ** 2]) ** 2) + np.sum(
        np.repeat(x, [1, 2, 3]) ** 3), [0.3, -1.2, 0.7]),
    "logsumexp_softmax": (lambda x: logsumexp(x) + np.sum(softmax(x) ** 2)
                          + np.sum(log_softmax(x) * x[::-1]), [0.3, -1.2, 0.7]),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_derivatives_of_device_inputs_stay_on_the_device(name, fake_cupy):
    f, x0 = FUNCTIONS[name]
    x_host = np.array(x0, dtype=float)
    x, v = dev(x_host), dev(np.linspace(-1.0, 1.0, x_host.size).reshape(x_host.shape))
    g = gk.grad(f)(x)
    hv = gk.hvp(f)(x, v)
    assert isinstance(g, DeviceArray) and isinstance(hv, DeviceArray)
    np.testing.assert_allclose(g.get(), gk.grad(f)(x_host), rtol=1e-10)
    np.testing.assert_allclose(hv.get(), gk.hvp(f)(x_host, v.get()), rtol=1e-10, atol=1e-12)
    if x_host.size <= 4:
        H = gk.hessian(f)(x)
        assert isinstance(H, DeviceArray)
        assert isinstance(gk.grad(lambda x: gk.grad(f)(x).ravel()[0])(x), DeviceArray)


def test_jacobians_stay_on_the_device(fake_cupy):
    x = dev([0.3, -1.2, 0.7])
    for mode in ("fwd", "rev"):
        assert isinstance(gk.jacobian(lambda x: softmax(x) * x[0], mode=mode)(x), DeviceArray)
    assert isinstance(gk.jacobian(lambda x: np.sum(x))(x), DeviceArray)  # fewer outputs
    gk.check_grads(lambda x: softmax(x) * x[0], (x,), order=2)  # tangents drawn on the device


def test_a_conv_batchnorm_linear_model_trains_on_the_device(fake_cupy):
    model = nn.Sequential([nn.Conv2d(2, 3, padding=1), nn.BatchNorm(), nn.ReLU(),
                           nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.2), nn.Linear(3)])
    params, state = model.init(np.random.default_rng(0), (1, 4, 4))
    params, state = gk.tree.tree_map(dev, params), gk.tree.tree_map(dev, state)
    X = dev(np.random.default_rng(1).normal(size=(5, 1, 4, 4)))
    y = np.array([0, 1, 2, 1, 0]).view(DeviceArray)

    def loss(params):
        logits, _ = model.apply(params, state, X, train=True, rng=np.random.default_rng(2))
        return nn.losses.cross_entropy(logits, y)

    grads = gk.grad(loss)(params)
    assert on_device(grads)
    tx = optim.adam(1e-2)
    opt_state = tx.init(params)
    for _ in range(2):
        updates, opt_state = tx.update(gk.grad(loss)(params), opt_state, params)
        params = optim.apply_updates(params, updates)
    assert on_device(params) and on_device(opt_state)


# ----------------------------------------------------------------------------- solvers
def logistic(X, y):
    return lambda w: np.sum(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * w @ w


@pytest.mark.parametrize("method", ["lbfgs", "newton", "newton-cg", "bfgs", "gd"])
def test_minimize_keeps_the_iterate_on_the_device(method, fake_cupy):
    r = np.random.default_rng(0)
    X = r.normal(size=(30, 3))
    y = np.where(X @ np.array([1.0, -2.0, 0.5]) > 0, 1.0, -1.0)
    ref = gk.minimize(logistic(X, y), np.zeros(3), method=method)
    res = gk.minimize(logistic(dev(X), dev(y)), dev(np.zeros(3)), method=method)
    assert isinstance(res.x, DeviceArray)
    np.testing.assert_allclose(res.x.get(), ref.x, rtol=1e-6, atol=1e-8)


def test_frank_wolfe_on_the_simplex_keeps_the_iterate_on_the_device(fake_cupy):
    target = dev([0.2, 0.9, -0.3])
    res = gk.minimize(lambda x: np.sum((x - target) ** 2), dev([1.0, 0.0, 0.0]),
                      method="frank-wolfe", constraint=optim.frank_wolfe.Simplex(), max_iter=50)
    assert isinstance(res.x, DeviceArray)


def test_a_pytree_newton_step_builds_its_hessian_on_the_device(fake_cupy):
    res = gk.minimize(lambda p: np.sum((p["a"] - 1.0) ** 2) + np.sum(p["b"] ** 4),
                      {"a": dev([0.0, 2.0]), "b": dev([0.5])}, method="newton", max_iter=5)
    assert on_device(res.x)
