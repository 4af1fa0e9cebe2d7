"""Array backends: which namespace (NumPy or CuPy) an array belongs to, so new arrays stay on its device.

gradkit computes with whatever array the user passes. NumPy's protocols route CuPy arrays
through the same NumPy calls (``np.zeros_like``, ``np.sum``, ufuncs, ``@``: CuPy implements
``__array_ufunc__`` and ``__array_function__``), so code that creates arrays with ``*_like``
functions, or with the namespace returned by :func:`array_namespace`, keeps them on the GPU.
What does *not* carry over is code that builds a NumPy array from nothing (``np.zeros(n)``,
``np.eye(n)``, ``np.random...``) or forces one (``np.asarray(x)``): those land on the host.

CuPy is optional: nothing here imports it unless an array from it is seen.

>>> import numpy as np
>>> array_namespace(np.ones(2)) is np
True
>>> is_gpu_array(np.ones(2))
False
"""
from __future__ import annotations

import sys

import numpy as np

__all__ = ["array_namespace", "is_gpu_array", "to_numpy", "to_device_of", "eye_like",
           "require_numpy", "gpu_available", "NoGPUPathError"]


class NoGPUPathError(TypeError):
    """A gradkit function that has no GPU (CuPy) implementation was given a CuPy array.

    Examples:
        >>> issubclass(NoGPUPathError, TypeError)
        True
        >>> require_numpy("plot_landscape", np.zeros(2))  # host arrays: nothing raised
    """


def _cupy():
    # only if the user already imported it: a NumPy-only program never pays for CuPy
    return sys.modules.get("cupy")


def is_gpu_array(x) -> bool:
    """True for a CuPy array (or a gradkit tracer holding one).

    Args:
        x: any value.

    Returns:
        bool.

    Examples:
        >>> is_gpu_array(np.zeros(3))
        False
    """
    from .autodiff.trace import getval
    cp = _cupy()
    return cp is not None and isinstance(getval(x), cp.ndarray)


def array_namespace(*arrays):
    """The module that owns the arrays: ``cupy`` if any of them is a CuPy array, else ``numpy``.

    Tracers are looked through (their values decide). Use it where an array must be made
    from nothing: ``xp = array_namespace(x); xp.eye(n, dtype=x.dtype)``.

    Args:
        *arrays: arrays, tracers, scalars or None (ignored).

    Returns:
        The ``numpy`` or ``cupy`` module.

    Raises:
        TypeError: when NumPy and CuPy arrays are mixed (move one side first with
            ``cupy.asarray`` or :func:`to_numpy`).

    Examples:
        >>> array_namespace(np.zeros(2), 3.0) is np
        True
    """
    from .autodiff.trace import getval
    cp = _cupy()
    if cp is None:
        return np
    kinds = set()
    for a in arrays:
        v = getval(a)
        if isinstance(v, cp.ndarray):
            kinds.add("cupy")
        elif isinstance(v, np.ndarray) and v.ndim > 0:
            kinds.add("numpy")
    if kinds == {"cupy", "numpy"}:
        raise TypeError("Got both NumPy and CuPy arrays; gradkit does not move data between "
                        "host and GPU for you. Put every array on one device (cupy.asarray(x) "
                        "or gradkit.backend.to_numpy(x)).")
    return cp if "cupy" in kinds else np


def to_numpy(x):
    """``x`` as a NumPy array (copied from the GPU for a CuPy array).

    Args:
        x: an array, a tracer (its plain value is taken: no gradient flows) or a nested list.

    Returns:
        numpy.ndarray.

    Examples:
        >>> to_numpy(np.arange(2))
        array([0, 1])
    """
    from .autodiff.trace import getval
    x = getval(x)
    return x.get() if is_gpu_array(x) else np.asarray(x)


def to_device_of(a, like):
    """``a`` (a host array: random draws, index arrays) moved to the device of ``like``.

    A no-op when ``like`` is a NumPy array; ``cupy.asarray(a)`` when it is a CuPy array.

    Args:
        a: a NumPy array.
        like: an array (or tracer) on the target device.

    Returns:
        ``a`` on ``like``'s device.

    Examples:
        >>> to_device_of(np.arange(2), np.zeros(3))
        array([0, 1])
    """
    xp = array_namespace(like)
    return a if xp is np else xp.asarray(a)


def eye_like(x, n=None, dtype=None):
    """The ``n x n`` identity on the device of ``x`` (``np.eye`` would always be on the host).

    Args:
        x: an array or tracer (only its device, and by default its dtype, are used).
        n: the size; by default the last axis of ``x``.
        dtype: by default ``x``'s dtype.

    Returns:
        The identity matrix, an array of ``x``'s kind.

    Examples:
        >>> eye_like(np.zeros((2, 2), np.float32))
        array([[1., 0.],
               [0., 1.]], dtype=float32)
    """
    from .autodiff.trace import getval
    v = getval(x)
    n = np.shape(v)[-1] if n is None else n
    eye = np.zeros_like(v, dtype=np.result_type(v) if dtype is None else dtype, shape=(n, n))
    np.fill_diagonal(eye, 1)
    return eye


def require_numpy(where, *arrays):
    """Raise :class:`NoGPUPathError` if any array is on the GPU: ``where`` has no GPU path.

    Call it at the top of functions that must run on the host (SciPy, scikit-learn,
    matplotlib calls), so a CuPy user gets a sentence instead of an obscure failure.

    Args:
        where: the function's name, for the message.
        *arrays: the arrays it was given.

    Raises:
        NoGPUPathError: for a CuPy array.

    Examples:
        >>> require_numpy("plot_landscape", np.zeros(2))
    """
    for a in arrays:
        if is_gpu_array(a):
            raise NoGPUPathError(
                f"{where} has no GPU path: it got a CuPy array. Move the data to the host "
                f"first with gradkit.backend.to_numpy(x) (or x.get()).")


def gpu_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device (never raises).

    Returns:
        bool.

    Examples:
        >>> isinstance(gpu_available(), bool)
        True
    """
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, no driver, no device: all mean "no GPU"
        return False
