"""Rules for shape functions: reshape, transpose, broadcast_to, expand_dims, swapaxes, ..."""
import numpy as np

from ..tracer import Tracer, apply, def_linear, defvjp, primitive, unbroadcast


def _reshape_vjp(g, ans, x, *args, order="C", **kwargs):
    if order != "C":
        raise NotImplementedError("gradkit differentiates np.reshape with order='C' only.")
    return np.reshape(g, np.shape(x))


P_RESHAPE = defvjp(np.reshape, _reshape_vjp)
def_linear(np.reshape, 0)


def _reshape_method(self, *shape, order="C"):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return np.reshape(self, shape, order=order)


Tracer.reshape = _reshape_method
Tracer.ravel = lambda self: np.reshape(self, (-1,))
Tracer.flatten = lambda self: np.reshape(self, (-1,))


def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % np.ndim(x) for a in axes]))


defvjp(np.transpose, _transpose_vjp)
def_linear(np.transpose, 0)


def _transpose_method(self, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return np.transpose(self, axes or None)


Tracer.transpose = _transpose_method

defvjp(np.swapaxes, lambda g, ans, x, axis1, axis2: np.swapaxes(g, axis1, axis2))
def_linear(np.swapaxes, 0)
defvjp(np.broadcast_to, lambda g, ans, x, shape, **kw: unbroadcast(g, x))
def_linear(np.broadcast_to, 0)
defvjp(np.expand_dims, lambda g, ans, x, axis: np.reshape(g, np.shape(x)))
def_linear(np.expand_dims, 0)
