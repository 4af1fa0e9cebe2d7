"""Rules for reductions: sum, mean, prod, max, min, std, var, cumsum, cumprod (axis, keepdims)."""
import numpy as np

from ..tracer import Tracer, apply, def_linear, defvjp, primitive, UFUNC_METHODS


def _restore(g, x, axis, keepdims):
    """Broadcast a reduced cotangent ``g`` back to the shape of ``x``."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(x))


def _count(x, ans):
    return np.size(x) // max(np.size(ans), 1)


defvjp(np.sum, lambda g, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw:
       _restore(g, x, axis, keepdims))
def_linear(np.sum, 0)
defvjp(np.mean, lambda g, ans, x, axis=None, dtype=None, out=None, keepdims=False, **kw:
       _restore(g, x, axis, keepdims) / _count(x, ans))
def_linear(np.mean, 0)

UFUNC_METHODS[(np.add, "reduce")] = lambda x, axis=0, **kw: np.sum(x, axis=axis, **kw)

Tracer.sum = lambda self, axis=None, keepdims=False: np.sum(self, axis=axis, keepdims=keepdims)
Tracer.mean = lambda self, axis=None, keepdims=False: np.mean(self, axis=axis, keepdims=keepdims)
