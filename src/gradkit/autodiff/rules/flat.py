"""Functions with no derivative: they answer questions about arrays (shape, order, equality)
or make new ones (zeros_like), so on traced values they run on the plain values."""
import numpy as np

from ..primitive import FUNCTION_HANDLERS
from ..trace import getval
from ..tracer import Tracer
from ...tree import tree_map

_NAMES = [
    "shape", "ndim", "size", "any", "all", "isdtype", "argmax", "argmin",
    "argsort", "argpartition", "nonzero", "flatnonzero", "argwhere", "count_nonzero", "isclose",
    "allclose", "array_equal", "array_equiv", "result_type", "iscomplexobj", "isrealobj",
    "searchsorted", "may_share_memory", "shares_memory", "isscalar", "digitize",
    "lexsort", "iscomplex", "isreal", "isneginf", "isposinf", "min_scalar_type",
    # rounding is flat almost everywhere: zero gradient (see conventions)
    "round", "around", "fix",
]
FLAT_FUNCTIONS = [getattr(np, n) for n in _NAMES if hasattr(np, n)]


# argument types that hold no tracer inside: the call needs no walk through containers
_NOT_CONTAINERS = frozenset({Tracer, np.ndarray, int, float, complex, bool, str, type(None),
                             type})


def _flat(func):
    def handler(*args, **kwargs):
        if not kwargs:  # the common call, np.shape(x) or np.zeros_like(x)
            for a in args:
                if type(a) not in _NOT_CONTAINERS:
                    break
            else:
                return func(*[getval(a) for a in args])
        return func(*tree_map(getval, args), **tree_map(getval, kwargs))
    return handler


for _f in FLAT_FUNCTIONS:
    FUNCTION_HANDLERS[_f] = _flat(_f)

