"""Derivatives at non-differentiable points: the minimum-norm subgradient, in one place.

Where a function has a kink, gradkit returns the element of the subdifferential with the
smallest norm. For the functions of machine learning this gives:

==========================================  =============================================
function at its kink                         derivative gradkit returns
==========================================  =============================================
``relu(x) = np.maximum(x, 0)`` at 0          0 (the subdifferential is [0, 1])
``np.abs(x)`` at 0                           0 (the subdifferential is [-1, 1])
``np.clip(x, a, b)`` at ``a`` or ``b``       0 for ``x`` (constant bounds)
``np.maximum(x, y)`` with ``x == y``,        1/2 to each (both traced: the hull of
both traced                                  (1, 0) and (0, 1) is nearest 0 at (1/2, 1/2))
``np.max(x)`` / ``np.min`` / max pooling     shared equally by all tied entries
with ties
``np.sign``, ``np.floor``, rounding,         0 everywhere (they are flat almost everywhere)
comparisons
==========================================  =============================================

So ``np.maximum(x, 0)`` treats the constant 0 as a constant: the only variable is ``x`` and
its subdifferential at 0 is [0, 1], whose smallest element is 0, as PyTorch and JAX give
for ``relu``. (PyTorch's and JAX's ``maximum`` give 1/2 there even against a constant; gradkit
does not, so ``relu`` written either way has the same derivative.)

>>> import numpy as np, gradkit as gk
>>> float(gk.grad(lambda x: np.maximum(x, 0.0))(0.0))
0.0
>>> float(gk.grad(lambda x: np.maximum(x, x * 1.0))(1.0))
1.0
>>> float(gk.grad(lambda x: np.abs(x))(0.0))
0.0
"""
import numpy as np

from .primitive import PLAIN_UFUNCS, Primitive, UFUNC_HANDLERS
from .trace import apply, getval
from .tracer import Tracer

__all__ = ["getval", "register_extremum", "strictly_inside", "tie_weights"]

EXTREMUM_PRIMITIVES: list = []  # the primitives register_extremum made (for the complex guard)
_GREATER = {np.maximum: np.greater, np.fmax: np.greater,
            np.minimum: np.less, np.fmin: np.less}


def strictly_inside(x, a, b):
    """Mask of ``a < x < b`` (``None`` bound = unbounded): where clip passes the gradient.

    ``np.clip(x, a, b)`` has derivative 1 strictly inside the bounds and 0 elsewhere,
    the bounds included (the minimum-norm element of [0, 1] there).

    Args:
        x: the clipped value.
        a: the lower bound, or None.
        b: the upper bound, or None.

    Returns:
        A boolean mask of ``x``'s shape (``True`` when both bounds are None).

    Examples:
        >>> import numpy as np
        >>> strictly_inside(np.array([0.0, 0.5, 1.0]), 0.0, 1.0)
        array([False,  True, False])
        >>> strictly_inside(np.array([0.0, 2.0]), 0.0, None)
        array([False,  True])
    """
    x = getval(x)
    mask = True
    if a is not None:
        mask = np.greater(x, getval(a))
    if b is not None:
        mask = mask & np.less(x, getval(b))
    return mask


def tie_weights(x, ans, axis=None, keepdims=False):
    """Weights of each entry of ``x`` in a max / min reduction: ties share equally.

    For :math:`m = \\max_i x_i` attained at the set :math:`T`, the weight of entry :math:`i`
    is :math:`[i \\in T] / |T|`: the minimum-norm subgradient of the max.

    Args:
        x: the reduced array.
        ans: the reduction's result.
        axis: the reduction's axis (None: all).
        keepdims: the reduction's ``keepdims``.

    Returns:
        An array of ``x``'s shape whose entries along ``axis`` sum to 1.

    Examples:
        >>> import numpy as np
        >>> x = np.array([1.0, 3.0, 3.0])
        >>> tie_weights(x, np.max(x))
        array([0. , 0.5, 0.5])
        >>> import gradkit as gk
        >>> gk.grad(np.max)(x)
        array([0. , 0.5, 0.5])
    """
    x, ans = getval(x), getval(ans)
    if not keepdims and axis is not None:
        ans = np.expand_dims(ans, axis)
    hit = np.equal(x, ans)
    weights = hit / np.sum(hit, axis=axis, keepdims=True)
    dtype = getattr(x, "dtype", None)
    return weights.astype(dtype) if dtype is not None and dtype.kind == "f" else weights


def register_extremum(ufunc, def_elementwise):
    """Register maximum / minimum (and fmax / fmin) with the tie rule above.

    Two primitives are made: against a constant (the constant's side gets nothing, so
    ``np.maximum(x, 0)`` at 0 has derivative 0, as ``relu``) and with both sides traced (a tie
    gives 1/2 to each). The ufunc's handler picks one per call. The rule modules call this
    once per ufunc when the engine loads.

    Args:
        ufunc: ``np.maximum``, ``np.minimum``, ``np.fmax`` or ``np.fmin``.
        def_elementwise: the registration function of element-wise rules (it is given each
            primitive and its two VJP rules).

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> from gradkit.autodiff.primitive import UFUNC_HANDLERS
        >>> np.maximum in UFUNC_HANDLERS   # registered when gradkit loads
        True
        >>> float(gk.grad(lambda x: np.maximum(x, 0.0))(0.0))    # against a constant
        0.0
        >>> gk.grad(lambda x: np.maximum(x[0], x[1]))(np.ones(2))  # a tie: shared
        array([0.5, 0.5])
    """
    wins = _GREATER[ufunc]
    nan_safe = ufunc in (np.fmax, np.fmin)

    def mask(x, y):  # where x alone is the result
        x, y = getval(x), getval(y)
        m = wins(x, y)
        return (m | np.isnan(y)) if nan_safe else m

    def share(x, y):  # x's weight when both are variables (in x's float dtype: float32 stays)
        x, y = getval(x), getval(y)
        w = mask(x, y) + 0.5 * np.equal(x, y)
        dtype = np.result_type(x, y)
        return w.astype(dtype) if dtype.kind == "f" and np.ndim(w) else w

    name = ufunc.__name__
    against_constant = Primitive(name, ufunc, broadcasts=True)
    both_traced = Primitive(name, ufunc, broadcasts=True)
    def_elementwise(against_constant, lambda g, ans, x, y: g * mask(x, y),
                    lambda g, ans, x, y: g * mask(y, x))
    def_elementwise(both_traced, lambda g, ans, x, y: g * share(x, y),
                    lambda g, ans, x, y: g * share(y, x))
    EXTREMUM_PRIMITIVES.extend((against_constant, both_traced))  # outside PRIMITIVES

    def handler(x, y):
        # Only when both are variables of the same trace is a tie shared; a trace sees the
        # tracers of other (outer) traces as constants.
        if isinstance(x, Tracer) and isinstance(y, Tracer) and x._trace is y._trace:
            return apply(both_traced, x, y)
        return apply(against_constant, x, y)

    UFUNC_HANDLERS[ufunc] = handler
    PLAIN_UFUNCS.pop(ufunc, None)  # the handler, not the primitive, decides
