"""The array-API namespace of traced values: NumPy's, with ``asarray`` keeping tracers.

Libraries written against the array API standard ask an array for its namespace
(``x.__array_namespace__()``) and call that namespace's functions. A traced value answers
with this module: every name is NumPy's own (NumPy 2's main namespace follows the standard,
and its functions reach the engine through ``__array_function__`` / ``__array_ufunc__``),
except ``asarray``, which hands a traced value back instead of converting it (the one
conversion NumPy gives no hook for).

This is how scipy's array-API mode differentiates: with the environment variable
``SCIPY_ARRAY_API=1`` set before scipy is imported, scipy functions that support the standard
(``scipy.special.logsumexp``, ``softmax``, ``log_softmax``, ``xlogy``, ``scipy.optimize.rosen``,
...) run on traced values unchanged. Without it scipy converts its inputs with ``np.asarray``
and gradkit's error names the function.
"""
from __future__ import annotations

import types

import numpy as np

__all__ = ["namespace"]


class _Namespace(types.ModuleType):
    def __getattr__(self, name):
        return getattr(np, name)  # everything else is NumPy's own


def _asarray(obj, /, *, dtype=None, device=None, copy=None):
    """``np.asarray`` that keeps a traced value traced (``copy=True`` copies it)."""
    if isinstance(obj, Tracer):
        if dtype is not None and np.dtype(dtype) != obj.dtype:
            return np.astype(obj, dtype)
        return np.copy(obj) if copy else obj
    return np.asarray(obj, dtype=dtype, copy=copy)


namespace = _Namespace("gradkit.autodiff.namespace.namespace",
                       "NumPy's namespace, with asarray keeping traced values traced.")
namespace.asarray = _asarray

from .tracer import Tracer  # noqa: E402  (the namespace of its values)
from .batching import BatchTracer  # noqa: E402


# ----------------------------------------------------------------------------- array methods
# ndarray methods and attributes that Tracer does not define itself: NumPy's function of the
# same name (which reaches the engine), or a fact about the value that holds no derivative.
# Each is a property of Tracer (set below) that looks them up here.
def _partition_in_place(x):
    def partition(kth, axis=-1, kind="introselect", order=None):
        from .mutation import write_back
        write_back(x, np.partition(x, kth, axis=axis, kind=kind, order=order), "partition")
    return partition


_METHODS = {
    "round": lambda x: lambda decimals=0, out=None: np.round(x, decimals, out),
    "searchsorted": lambda x: lambda v, side="left", sorter=None: np.searchsorted(x, v, side,
                                                                                   sorter),
    "argpartition": lambda x: lambda kth, axis=-1, kind="introselect", order=None:
        np.argpartition(x, kth, axis, kind, order),
    "partition": _partition_in_place,
    "put": lambda x: lambda indices, values, mode="raise": np.put(x, indices, values, mode),
    "compress": lambda x: lambda condition, axis=None, out=None: np.compress(condition, x, axis,
                                                                             out),
    "choose": lambda x: lambda choices, out=None, mode="raise": np.choose(x, choices, out, mode),
}
_FACTS = ("itemsize", "nbytes", "strides")  # of the value: no derivative, no way to write
_REFUSED = {
    "flat": "use x.ravel() or x.reshape(-1) (x.flat[i] = v: x.reshape(-1)[i] = v)",
    "view": "use x.astype(dtype) for a new dtype, x[...] for a view",
    "resize": "use np.resize(x, shape) or np.pad, which return new arrays",
    "tofile": "save the result outside the differentiated function",
    "tobytes": "save the result outside the differentiated function",
    "dump": "save the result outside the differentiated function",
    "base": "views of traced values are tracked by gradkit itself",
    "ctypes": "raw memory of a traced value is not available",
    "data": "raw memory of a traced value is not available",
    "flags": "a traced value's memory layout is gradkit's, not the array's",
}


def missing_attribute(x, name):
    """What ``x.name`` is for an ndarray attribute the Tracer class does not define (the
    property set for it below): NumPy's function bound to ``x``, a fact about the value, or an
    AttributeError that names the rewrite."""
    if name in _METHODS:
        return _METHODS[name](x)
    if name in _FACTS:
        if type(x) is BatchTracer:  # one example's: the batched value holds them all
            if name == "strides":
                raise AttributeError("ndarray.strides is not available on a batched value "
                                     "(inside gk.vmap): its layout is the batch's.")
            return x.itemsize * x.size if name == "nbytes" else x._value.itemsize
        return getattr(x._value, name)
    if name in _REFUSED:
        raise AttributeError(f"ndarray.{name} is not available on a traced value (inside a "
                             f"function being differentiated): {_REFUSED[name]}.")
    if not name.startswith("__") and hasattr(np.ndarray, name):
        raise AttributeError(f"ndarray.{name} is not available on a traced value (inside a "
                             f"function being differentiated); call np.{name}(x, ...) if "
                             "NumPy has that function, or compute it outside.")
    raise AttributeError(f"{type(x).__name__!r} object has no attribute {name!r}")


# Each ndarray attribute Tracer does not define becomes a property of its own (rather than a
# Tracer.__getattr__: a class with __getattr__ loses CPython's fast attribute access on every
# `t._value` of the hot path, which measured 5% of W1)
for _cls in (Tracer, BatchTracer):  # (a batched value inside gk.vmap: the same answers)
    for _name in dir(np.ndarray):
        if not _name.startswith("__") and not hasattr(_cls, _name):
            setattr(_cls, _name, property(lambda self, _name=_name: missing_attribute(self, _name),
                                          doc=f"ndarray.{_name} (see missing_attribute)"))
del _cls, _name
