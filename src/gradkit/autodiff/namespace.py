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
