"""Rules for products and contractions: matmul / @, dot, tensordot, einsum, outer, inner, kron."""
import numpy as np

from ..tracer import Tracer, apply, def_linear, defvjp, primitive


def _matmul_vjp_x(g, ans, x, y):
    xn, yn = np.ndim(x), np.ndim(y)
    if yn == 1:
        return g * y if xn == 1 else np.expand_dims(g, -1) * y
    if xn == 1:
        if yn == 2:
            return y @ g
        return np.sum(np.expand_dims(g, -2) * y, axis=tuple(range(yn - 2)) + (-1,))
    return g @ np.swapaxes(y, -1, -2)


def _matmul_vjp_y(g, ans, x, y):
    xn, yn = np.ndim(x), np.ndim(y)
    if xn == 1:
        return g * x if yn == 1 else np.expand_dims(x, -1) * np.expand_dims(g, -2)
    if yn == 1:
        if xn == 2:
            return np.swapaxes(x, -1, -2) @ g
        return np.sum(np.expand_dims(g, -1) * x, axis=tuple(range(xn - 1)))
    return np.swapaxes(x, -1, -2) @ g


P_MATMUL = defvjp(np.matmul, _matmul_vjp_x, _matmul_vjp_y)  # the engine sums batch axes
def_linear(np.matmul, 0, 1)
Tracer.__matmul__ = lambda self, other: apply(P_MATMUL, self, other)
Tracer.__rmatmul__ = lambda self, other: apply(P_MATMUL, other, self)
