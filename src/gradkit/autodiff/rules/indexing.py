"""Rules for indexing: basic slices, integer arrays (repeated indices add up), boolean masks."""
import operator

import numpy as np

from ..primitive import def_linear, defvjp, differentiable
from ..trace import Shell, shape_of


def _is_basic(index):
    if type(index) is slice or type(index) is int:
        return True
    if not isinstance(index, tuple):
        index = (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               for i in index)


@differentiable
def untake(g, index, shape):
    """The adjoint of ``x[index]``: a zero array of ``shape`` with ``g`` added at ``index``."""
    out = np.zeros_like(g, shape=shape)  # *_like: stays on g's device
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)  # repeated indices accumulate
    return out


def _getitem_vjp(g, ans, x, index):
    if type(g) is np.ndarray and (type(x) is np.ndarray or type(x) is Shell) and _is_basic(index):
        out = np.zeros(x.shape, g.dtype)  # first order, a slice: untake without its wrappers
        out[index] = g
        return out
    return untake(g, index, shape_of(x))


P_GETITEM = defvjp(operator.getitem, _getitem_vjp, None, name="getitem", needs=("index", ""))
def_linear(operator.getitem, 0)
defvjp(untake.primitive, lambda g, ans, x, index, shape: g[index], None, None,
       needs=("index", "", ""))
def_linear(untake.primitive, 0)
