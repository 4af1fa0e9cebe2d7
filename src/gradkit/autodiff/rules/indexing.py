"""Rules for indexing: basic slices, integer arrays (repeated indices add up), boolean masks."""
import operator

import numpy as np

from ..tracer import Tracer, apply, def_linear, defvjp, differentiable


def _is_basic(index):
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


P_GETITEM = defvjp(operator.getitem, lambda g, ans, x, index: untake(g, index, np.shape(x)),
                   None, name="getitem")
def_linear(operator.getitem, 0)
defvjp(untake.primitive, lambda g, ans, x, index, shape: g[index], None, None)
def_linear(untake.primitive, 0)

Tracer.__getitem__ = lambda self, index: apply(P_GETITEM, self, index)
