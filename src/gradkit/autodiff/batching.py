"""Batching: ``vmap``'s trace, a batched value, and the table of batching rules.

How ``vmap(f)(xs)`` runs
------------------------
Each mapped argument becomes a :class:`BatchTracer`: a value whose leading axis is the batch
(``in_axes`` moved to the front) and which shows ``f`` the shape of one example. It belongs to
a :class:`BatchTrace` whose level comes from the same counter as the derivative traces, so
``vmap`` nests with ``grad``, ``jvp``, ``hessian`` and itself in any order.

A batched value is an array type of its own, as a CuPy array would be: NumPy routes every call
that sees one (``__array_ufunc__``, ``__array_function__``, the operators) to
:meth:`BatchTrace.process`, and a derivative trace treats it as a value. When a derivative
tracer of a *higher* level is among the arguments the call goes to it first (the derivative
is taken per example, then batched); when the batch trace is the innermost,
:func:`~.trace.apply` hands it the primitive.

The rule table
--------------
``BATCH_RULES`` maps a NumPy function (or a ufunc, or a ``(ufunc, method)`` pair) to
``rule(trace, args, kwargs)``: it gets the arguments with this trace's tracers *in place*
(use :meth:`BatchTrace.unbox`) and returns the batched result. Most are one line:

- every ufunc (element-wise, broadcasting) shares one rule: batched operands get their batch
  axis at the front and length-1 axes so that broadcasting lines them up per example;
- reductions, cumulative functions, transposes, reshapes and indexing shift their axes by one;
- ``matmul`` / ``dot`` fold the batch into one BLAS call where one side is unbatched;
- a product by an unbatched factor stays pending until the value is read (see "pending
  factors" below): the chains of ``t * f'(x)`` of the derivative rules make one pass.

A function with no rule is run once per example and the results stacked (:func:`loop_rule`):
correct for any function, slower. Nothing is batched by guessing.
"""
from __future__ import annotations

import functools
import operator
import sys
import weakref

import numpy as np

from ..backend import array_namespace

from .primitive import TracerConversionError
from .trace import ARRAY_STAND_INS, _levels, getval, is_ndarray, shape_of
from ..tree import tree_flatten, tree_map, tree_unflatten

__all__ = ["BatchTrace", "BatchTracer", "BATCH_RULES", "loop_rule", "batched_error",
           "every_example"]

#: The batching rules: a NumPy function, ufunc or ``(ufunc, method)`` ->
#: ``rule(trace, fn, args, kwargs)`` (see above).
BATCH_RULES: dict = {}


def batched_error(what):
    """The error for a use of a batched value that depends on which example it is.

    Args:
        what: the use, as the message starts (``"float()"``, ``"a branch"``).

    Returns:
        TracerConversionError: the error to raise.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> str(batched_error("float()"))[:44]
        'float() of a batched value inside gk.vmap wo'
        >>> gk.vmap(lambda x: float(x))(np.array([0.0, 1.0]))
        Traceback (most recent call last):
            ...
        gradkit.autodiff.primitive.TracerConversionError: float() ... inside gk.vmap ...
    """
    return TracerConversionError(
        f"{what} of a batched value inside gk.vmap would need one answer for every example. "
        "Keep values as arrays inside the mapped function: np.where instead of if/else on "
        "values, np.zeros_like(x) for buffers written with batched values (not np.zeros), "
        "and np.stack / np.concatenate instead of np.array([...]).")


class BatchTrace:
    """One ``vmap``: the batch size and the level that orders it among nested traces.

    Args:
        size: the number of examples (the length of the batch axis).

    Examples:
        >>> import numpy as np
        >>> trace = BatchTrace(3)
        >>> x = trace.new_input(np.arange(6.0).reshape(3, 2))  # 3 examples of shape (2,)
        >>> x.shape
        (2,)
        >>> trace.unbox(np.sum(x))  # each example summed
        (array([1., 5., 9.]), True)
    """

    __slots__ = ("level", "size")

    def __init__(self, size):
        self.level = next(_levels)
        self.size = size

    def new_input(self, value):
        """``value`` (batch axis first) as a batched value of this trace."""
        return BatchTracer(value, self)

    def unbox(self, x):
        """``(value, True)`` for this trace's batched values (batch axis first), ``(x, False)``
        for anything else (a constant to this trace)."""
        if type(x) is BatchTracer and x._trace is self:
            return x._value, True
        return x, False

    def batched_copy(self, x):
        """A constant ``x`` repeated along a new batch axis (an array of its own)."""
        return np.copy(np.broadcast_to(x, (self.size,) + shape_of(x)))

    def process(self, key, args, kwargs):
        """Apply the rule for ``key`` (a NumPy function, a ufunc or ``(ufunc, method)``)."""
        fn = key.fn if hasattr(key, "fn") and hasattr(key, "vjps") else key  # a Primitive
        rule = BATCH_RULES.get(fn)
        if rule is None:
            if isinstance(fn, np.ufunc):
                rule = ufunc_rule
            elif type(fn) is tuple:  # a ufunc method with no rule (np.subtract.outer)
                return loop_rule(self, getattr(*fn), args, kwargs)
            else:
                return loop_rule(self, fn, args, kwargs)
        return rule(self, fn, args, kwargs)


class BatchTracer:
    """A batched value: ``_value`` holds every example along its leading axis; ``shape``,
    ``ndim``, ``size`` and ``len`` are those of one example, as the mapped function sees.
    Writes (``x[i] = v``, ``x += y``) go into ``_value``, so views share them as NumPy's.

    Args:
        value: every example, batch axis first.
        trace: the :class:`BatchTrace` it belongs to.
        scalar: whether each example is a NumPy scalar (immutable: ``s += 1`` rebinds).
        frozen: why a write through this value is refused, or None.
        factor: a pending factor (an unbatched float array or number) the examples are
            still to be multiplied by, or None (see "pending factors" in this module).

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> def f(x):
        ...     print(type(x).__name__, x.shape)
        ...     return x @ x
        >>> gk.vmap(f)(np.arange(6.0).reshape(3, 2))
        BatchTracer (2,)
        array([ 1., 13., 41.])
    """

    __slots__ = ("_core", "_factor", "_trace", "_scalar", "_frozen", "__weakref__")
    __array_priority__ = 1001

    def __init__(self, value, trace, scalar=False, frozen=None, factor=None):
        self._core = value
        self._factor = factor  # a pending factor (see "pending factors" below), or None
        self._trace = trace
        self._scalar = scalar  # each example is a NumPy scalar: immutable, `s += 1` rebinds
        self._frozen = frozen  # why a write through this value is refused, or None
        if factor is not None:
            _PENDING[id(self)] = self

    @property
    def _value(self):
        """Every example, batch axis first (a pending factor is applied on the first read)."""
        if self._factor is not None:
            core = self._core
            # in place when nothing else holds the array (no view, no other pending value:
            # each would hold a reference), else into a new one
            alone = type(core) is np.ndarray and core.base is None and core.flags.writeable \
                and _references(core) == _ALONE
            self._core = np.multiply(core, self._factor, out=core if alone else None)
            self._factor = None
        return self._core

    # (a pending factor changes neither the shape nor the dtype: these leave it pending)
    shape = property(lambda self: shape_of(self._core)[1:])
    ndim = property(lambda self: len(shape_of(self._core)) - 1)
    size = property(lambda self: int(np.prod(shape_of(self._core)[1:])))
    dtype = property(lambda self: self._core.dtype)

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of unsized object")
        return shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return (f"BatchTracer(level={self._trace.level}, size={self._trace.size}, "
                f"value={self._value!r})")

    def __hash__(self):
        return id(self)

    # A branch (or a conversion to a Python number) on a batched value is taken when every
    # example takes it the same way: then each example runs exactly as it would alone (rules
    # that test `np.any(x == 0)` stay batched). Examples that disagree raise.
    def _common(self, convert, what):
        v = self._value
        while type(v) is not np.ndarray:
            v = getattr(v, "_value", None)
            if v is None:
                raise batched_error(what)
        first = convert(v[0]) if v.shape[0] else None
        for b in range(1, v.shape[0]):
            if convert(v[b]) != first:
                raise batched_error(what + " (the examples disagree)")
        return first

    def __bool__(self):
        return self._common(bool, "bool() (an if, while, and, or)")

    def __float__(self):
        return self._common(float, "float()")

    def __int__(self):
        return self._common(int, "int()")

    def __index__(self):
        return self._common(operator.index, "Using as an index")

    def __array__(self, dtype=None, copy=None):
        raise batched_error(
            "np.asarray() / np.array() (or writing into a plain NumPy array, or indexing one "
            "with it: use np.take_along_axis(a, i[None, None], axis=0))")

    def item(self, *args):
        raise batched_error(".item()")

    def tolist(self):
        raise batched_error(".tolist()")

    # -- NumPy protocols: every call ends in BatchTrace.process
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        trace = _batch_trace(inputs, kwargs.get("out"))
        if trace is None:
            return NotImplemented  # a derivative tracer of a higher level goes first
        out = kwargs.pop("out", None)
        if method == "at":
            return ufunc_at_rule(trace, ufunc, inputs)
        where = kwargs.pop("where", True) if out is not None else True
        key = ufunc if method == "__call__" else (ufunc, method)
        result = trace.process(key, inputs, kwargs)
        if out is not None:  # computed as a new value, then written (entries off where= kept)
            out = out[0] if type(out) is tuple else out
            _write(out, Ellipsis, result if where is True else np.where(where, result, out))
            return out
        return result

    def __array_function__(self, func, types, args, kwargs):
        # keyword values count (np.bincount(x, weights=w)); out= is where the result goes
        trace = _batch_trace(args, tuple(v for k, v in kwargs.items() if k != "out"))
        if trace is None:
            return NotImplemented
        out = kwargs.pop("out", None)
        result = trace.process(func, args, kwargs)
        if out is not None:
            _write(out, Ellipsis, result)
            return out
        return result

    def __getitem__(self, index):
        return self._trace.process(operator.getitem, (self, index), {})

    def __setitem__(self, index, value):
        _write(self, index, value)

    def fill(self, value):
        _write(self, Ellipsis, value)


def _ufunc_operator(ufunc):
    return (lambda self, other: ufunc(self, other), lambda self, other: ufunc(other, self))


def _inplace(ufunc):
    def iop(self, other):
        if self._scalar:  # a NumPy scalar is immutable: a new value, as in NumPy
            return ufunc(self, other)
        _write(self, Ellipsis, ufunc(self, other))
        return self
    return iop


for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                      ("pow", np.power), ("mod", np.remainder), ("matmul", np.matmul)]:
    _op, _rop = _ufunc_operator(_ufunc)
    setattr(BatchTracer, f"__{_name}__", _op)
    setattr(BatchTracer, f"__r{_name}__", _rop)
    setattr(BatchTracer, f"__i{_name}__", _inplace(_ufunc))
for _name, _ufunc in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                      ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(BatchTracer, f"__{_name}__", _ufunc_operator(_ufunc)[0])
for _name, _ufunc in [("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
    _op, _rop = _ufunc_operator(_ufunc)
    setattr(BatchTracer, f"__{_name}__", _op)
    setattr(BatchTracer, f"__r{_name}__", _rop)
    setattr(BatchTracer, f"__i{_name}__", _inplace(_ufunc))
BatchTracer.__invert__ = lambda self: np.invert(self)
BatchTracer.__neg__ = lambda self: np.negative(self)
BatchTracer.__pos__ = lambda self: np.positive(self)
BatchTracer.__abs__ = lambda self: np.absolute(self)


def _borrow_methods():
    """The array methods (``x.sum()``, ``x.T``, ``x.reshape``) are the Tracer's: each calls
    the NumPy function of the same name, which comes back here."""
    from .tracer import Tracer
    for name in ["T", "mT", "real", "imag", "reshape", "transpose", "ravel", "flatten",
                 "swapaxes", "squeeze", "astype", "copy", "clip", "dot", "diagonal", "trace",
                 "repeat", "take", "conj", "conjugate", "sum", "mean", "prod", "max", "min",
                 "var", "std", "cumsum", "cumprod", "argmax", "argmin", "argsort", "nonzero"]:
        setattr(BatchTracer, name, Tracer.__dict__[name])
    BatchTracer.any = lambda self, *a, **k: np.any(self, *a, **k)
    BatchTracer.all = lambda self, *a, **k: np.all(self, *a, **k)
    BatchTracer.sort = lambda self, axis=-1, kind=None, order=None: _write(
        self, Ellipsis, np.sort(self, axis=axis, kind=kind, order=order))


# ----------------------------------------------------------------------------- the trace of a call
def _batch_trace(args, kwargs):
    """The innermost batch trace among ``args`` (lists and tuples included), or None when a
    derivative tracer of a higher level is among them (it goes first)."""
    best, tracer_level = None, 0
    stack = [args, kwargs] if kwargs else [args]
    while stack:
        for a in stack.pop():
            t = type(a)
            if t is BatchTracer:
                if best is None or a._trace.level > best.level:
                    best = a._trace
            elif t is Tracer:
                tracer_level = max(tracer_level, a._trace.level)
            elif t is list or t is tuple:
                stack.append(a)
            elif t is dict:
                stack.append(a.values())
    if best is None or tracer_level > best.level:
        return None
    return best


def _write(target, index, value):
    """``target[index] = value`` for a batched ``target`` (its own value is written, so views
    and other names see it, as in NumPy), or a plain one (which must not receive a batched
    value)."""
    if type(target) is not BatchTracer:
        if _batch_trace((value,), None) is not None:
            raise batched_error("Writing into an array made outside the mapped function")
        target[index] = value
        return
    if target._frozen:
        raise ValueError(target._frozen)
    if target._scalar:
        raise TypeError("a NumPy scalar (each example of this value) does not support item "
                        "assignment")
    _settle(target)
    trace = target._trace
    v, batched = trace.unbox(value)
    region = _batched_index(trace, index, target.ndim)
    if region is None:  # an index batched, or one NumPy would order differently batched
        for b in range(trace.size):
            target._value[b][_example(trace, index, b)] = v[b] if batched else value
        return
    if batched:
        nd = len(shape_of(target._value[region])) - 1
        v = _lift(v, nd)
    target._value[region] = v


# ----------------------------------------------------------------------------- helpers
def _lift(v, nd):
    """A batched value ``v`` (batch first) with length-1 axes after the batch axis so that it
    has ``nd`` axes per example (broadcasts per example against an ``nd``-axis operand)."""
    shape = shape_of(v)
    missing = nd - (len(shape) - 1)
    if missing <= 0:
        return v
    return np.reshape(v, shape[:1] + (1,) * missing + shape[1:])


def _ndim(x):
    return len(shape_of(x))


def _wrap(trace, value, computed=False):
    """The batched result of a rule: arrays (and tuples of them) wrapped. ``computed``: a
    ufunc, reduction or product made it, where NumPy gives 0-d examples as scalars (a copy,
    a buffer or a reshape gives a 0-d array, which a write changes in place)."""
    if isinstance(value, tuple):
        items = [_wrap(trace, v, computed) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    return BatchTracer(value, trace, scalar=computed and len(shape_of(value)) == 1)


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


def _others_unbatched(trace, args, kwargs, first=1):
    """Whether only ``args[0]`` is batched (a rule that shifts axes needs the rest plain)."""
    return _batch_trace((args[first:], kwargs), None) is not trace


def _shift(axis, nd):
    """A per-example axis (or tuple of axes) as an axis of the batched value."""
    if isinstance(axis, tuple) or isinstance(axis, list):
        return tuple(_shift(a, nd) for a in axis)
    return int(axis) % nd + 1 if nd else int(axis) + 1


# ----------------------------------------------------------------------------- the fallback
def loop_rule(trace, fn, args, kwargs):
    """Batch ``fn`` by running it on each example and stacking the results: the rule of every
    function without one of its own (correct for any function; one call per example).

    Args:
        trace: the :class:`BatchTrace`.
        fn: the NumPy function.
        args: its arguments, with the trace's batched values in place.
        kwargs: its keyword arguments.

    Returns:
        BatchTracer: the results, stacked along the batch axis.

    Raises:
        ValueError: on an empty batch (there is no example to run ``fn`` on).

    Examples:
        >>> import numpy as np
        >>> trace = BatchTrace(2)
        >>> x = trace.new_input(np.array([[3.0, 4.0], [6.0, 8.0]]))
        >>> trace.unbox(loop_rule(trace, np.linalg.norm, (x,), {}))
        (array([ 5., 10.]), True)
    """
    if trace.size == 0:
        raise ValueError(f"gk.vmap over an empty batch cannot run "
                         f"{getattr(fn, '__name__', fn)} (it has no batching rule, so it runs "
                         "once per example).")
    for a in _flat_leaves([args, kwargs]):
        if type(a) is BatchTracer and a._trace is trace:
            _settle(a)  # fn may write into its arguments' examples
    results, inputs = [], []
    for b in range(trace.size):
        inputs = _example(trace, (args, kwargs), b)
        results.append(fn(*inputs[0], **inputs[1]))
    out = _stack(trace, fn, results)
    # where NumPy's result is a view of an argument, the stacked copy is not: refuse writes
    last = results[-1] if results else None
    if type(out) is BatchTracer and type(last) is np.ndarray and any(
            type(a) is np.ndarray and np.may_share_memory(last, a)
            for a in _flat_leaves(inputs)):
        out._frozen = (f"gk.vmap computes {getattr(fn, '__name__', fn)} one example at a time, "
                       "so its result is not a view of its argument as in NumPy, and a write "
                       "into it would not reach the argument. Write into the argument itself "
                       "(or copy the result first).")
    return out


def _flat_leaves(a):
    if type(a) in (list, tuple):
        return [x for item in a for x in _flat_leaves(item)]
    if type(a) is dict:
        return _flat_leaves(list(a.values()))
    return [a]


def _example(trace, a, b):
    """``a`` (an argument, or a list / tuple / dict of them) for example ``b`` of ``trace``."""
    t = type(a)
    if t is BatchTracer and a._trace is trace:
        return a._value[b]
    if t is list or t is tuple:
        return t(_example(trace, x, b) for x in a)
    if t is dict:
        return {k: _example(trace, x, b) for k, x in a.items()}
    return a


def _stack(trace, fn, results):
    first = results[0] if results else None
    if isinstance(first, (tuple, list)):
        parts = [_stack(trace, fn, [r[i] for r in results]) for i in range(len(first))]
        return type(first)(*parts) if hasattr(first, "_fields") else type(first)(parts)
    try:
        return BatchTracer(np.stack(results), trace, scalar=not isinstance(first, np.ndarray)
                           and np.ndim(first) == 0 and type(first) is not Tracer)
    except ValueError:
        name = getattr(fn, "__name__", repr(fn))
        raise ValueError(
            f"gk.vmap: {name} gives results of different shapes for different examples "
            f"({sorted({shape_of(r) for r in results})}), so it cannot be batched. Compute "
            "it outside vmap, or rewrite it with fixed-shape operations (np.where instead "
            "of np.nonzero or boolean indexing).") from None


# ----------------------------------------------------------------------------- element-wise
def ufunc_rule(trace, ufunc, args, kwargs):
    """Every ufunc (element-wise, broadcasting): batched operands get the batch axis first and
    enough length-1 axes after it that NumPy's broadcasting lines them up per example."""
    if ufunc.signature is not None:  # a generalized ufunc (matmul has its own rule)
        return loop_rule(trace, ufunc, args, kwargs)
    if _batch_trace(tuple(kwargs.values()), None) is trace:  # where= batched
        return loop_rule(trace, ufunc, args, kwargs)
    if ufunc in _SCALINGS and not kwargs:
        out = _pending(trace, ufunc, args)
        if out is not None:
            return out
    vals, nd = [], 0
    for a in args:
        nd = max(nd, a.ndim if type(a) is BatchTracer and a._trace is trace else _ndim(a))
    for a in args:
        v, batched = trace.unbox(a)
        vals.append(_lift(v, nd) if batched else v)
    return _wrap(trace, ufunc(*vals, **kwargs), computed=True)


# ----------------------------------------------------------------------------- pending factors
# A derivative rule multiplies a batched tangent (or cotangent) by a partial derivative that is
# the same for every example: t * cos(x), g * (1 - ans * ans), -g, g / n. A chain of k such
# products would make k passes over the whole batch. Instead the product is held as a pending
# factor (``BatchTracer._factor``: an unbatched float array or number), the k products are
# made on one example's entries, and the batch is multiplied once, when a rule reads the value
# (``_value``). A sum of two values pending on the same batched array is one pending value too
# (the cotangent of ``x - y`` reaching ``x`` twice, ``g * a + g * b``): ``c f + c g = c (f + g)``.
# A factor is combined only while it stays a normal number wherever its parts are nonzero and
# finite: then ``c (f g)`` is ``(c f) g`` up to rounding, and never overflows where it does not.
# A write into an array that a pending value reads applies that value's factor first
# (``_settle``), so it keeps the value it had, as in NumPy.
_SCALINGS = frozenset([np.multiply, np.true_divide, np.negative, np.add, np.subtract])
# Below this many entries in the batch a pass over it costs less than the bookkeeping (a
# 200 x 200 batch: a product ~20 us, a pending one ~10 us, and chains there are short).
PENDING_MIN_SIZE = 1 << 16
_PENDING = weakref.WeakValueDictionary()  # id -> a value with a pending factor (by id: a
# BatchTracer's == is NumPy's element-wise one)


def _settle(target):
    """Before a write into ``target``'s array: apply the factor of every pending value that
    reads it (and of ``target`` itself)."""
    core = _raw(target._value)  # (applies target's own factor)
    if _PENDING and type(core) is np.ndarray:
        for v in list(_PENDING.values()):
            if v._factor is not None and np.may_share_memory(_raw(v._core), core):
                v._value  # noqa: B018


def every_example(v):
    """``v``'s values for every example at once, batch axis first, when ``v`` is batched (inside
    gk.vmap); ``v`` itself otherwise. For values that carry no derivative and are only read
    (labels, indices checked against their range): checking them all checks each example's.

    Args:
        v: a value, batched or not.

    Returns:
        An array (or ``v``).

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> gk.vmap(lambda i: i * every_example(i).max())(np.arange(3)).tolist()  # max: 2
        [0, 2, 4]
    """
    return v._value if type(v) is BatchTracer else v


def _raw(a):
    """The NumPy array of ``a`` (one that gk.jit records holds one)."""
    return a._array if type(a) in ARRAY_STAND_INS else a


def _as_factor(a, core):
    """``a`` (unbatched) as a pending factor of the batched array ``core``, or None: a plain
    float array or number that does not promote ``core``'s dtype and broadcasts into one
    example without growing it."""
    t = type(a)
    if t is float or t is int:
        return a
    if not is_ndarray(a) and not isinstance(a, np.floating) or a.dtype.kind != "f" or \
            np.result_type(core.dtype, a.dtype) != core.dtype:
        return None
    example = shape_of(core)[1:]
    if len(a.shape) > len(example) or any(n != 1 and n != m for n, m in
                                          zip(a.shape[::-1], example[::-1])):
        return None
    return np.copy(a) if is_ndarray(a) else a  # a copy: the caller may write into its own


def _combined(f, g, ufunc, dtype):
    """``ufunc(f, g)`` for two factors of an array of ``dtype`` (None is 1), or None where it
    leaves ``dtype``'s normal range at an entry where ``f`` and ``g`` are finite and nonzero:
    an overflow (or, for a product, an underflow) that the products made one at a time would
    not have. (Python numbers stay Python numbers: NumPy's weak scalars keep the dtype.)"""
    if f is None and ufunc is np.multiply:
        return g  # (applied as given: the product NumPy would make now)
    f = 1.0 if f is None else f
    g = 1.0 if g is None else g
    if ufunc is np.true_divide and not shape_of(g) and g == 0:
        return None  # (x / 0: NumPy's inf, and its warning, from the ufunc rule)
    info = _FINFO.get(dtype) or np.finfo(dtype)
    product = ufunc is np.multiply or ufunc is np.true_divide  # (a sum that cancels is exact)
    with np.errstate(all="ignore"):  # (a product out of range is not made: no warning)
        out = _OPERATORS[ufunc](f, g)
        size = np.abs(out)
        if np.maximum.reduce(size, axis=None) <= info.max and (
                not product or np.minimum.reduce(size, axis=None) >= info.tiny):
            return out  # (the common case, in two reductions)
        normal = (size <= info.max) & (size >= info.tiny if product else True)
        given = np.isfinite(f) & np.isfinite(g) & (f != 0) & (g != 0)
    return None if np.any(given & ~normal) else out


def _in_range(core, x, y, f):
    """Whether the product ``core = x * y`` of two arrays, to be scaled by ``f`` later, holds
    what ``(x f_x) (y f_y)`` would: no entry overflowed (nor, where ``f`` enlarges it,
    underflowed) that the scaled product keeps in range."""
    with np.errstate(all="ignore"):
        if not np.isfinite(np.add.reduce(core, axis=None)):  # (one pass: no inf, no nan)
            if np.any(np.isinf(core) & np.isfinite(x) & np.isfinite(y)):
                return False
        if np.maximum.reduce(np.abs(f), axis=None) > 1:
            size = np.abs(core)
            lost = (size < np.finfo(core.dtype).tiny) & (x != 0) & (y != 0)
            return not np.any(lost)
    return True


_FINFO = {np.dtype(t): np.finfo(t) for t in (np.float16, np.float32, np.float64, np.longdouble)}
_OPERATORS = {np.multiply: operator.mul, np.true_divide: operator.truediv,
              np.add: operator.add, np.subtract: operator.sub}


def _pending(trace, ufunc, args):
    """The rule of a product by an unbatched factor (``x * a``, ``a * x``, ``x / a``, ``-x``),
    of a product of two batched values, and of ``x + y`` / ``x - y`` pending on one array, as a
    pending value; None where that does not apply (the ufunc rule then computes it)."""
    first = next((a for a in args if type(a) is BatchTracer and a._trace is trace), None)
    if first is None or not is_ndarray(first._core) or first._core.dtype.kind != "f" or \
            first._core.size < PENDING_MIN_SIZE:
        return None
    if len(args) == 1:
        x = args[0]
        f = -1.0 if x._factor is None else -x._factor  # (exact)
        return BatchTracer(x._core, trace, len(shape_of(x._core)) == 1, factor=f)
    x, y = args
    xb = type(x) is BatchTracer and x._trace is trace
    yb = type(y) is BatchTracer and y._trace is trace
    if ufunc is np.true_divide and yb:
        return None
    if xb and yb:
        if x._factor is None and y._factor is None or not is_ndarray(x._core) or \
                not is_ndarray(y._core) or x._core.dtype != y._core.dtype or \
                x._core.dtype.kind != "f" or shape_of(x._core) != shape_of(y._core):
            return None
        if ufunc is np.multiply:
            f = _combined(x._factor, y._factor, np.multiply, x._core.dtype)
            if f is None:
                return None
            with np.errstate(all="ignore"):  # (out of range, it is not used)
                core = np.multiply(x._core, y._core)
            if not _in_range(core, x._core, y._core, f):
                return None
        elif x._core is y._core and (x._factor is not None or y._factor is not None):
            f, core = _combined(x._factor, y._factor, ufunc, x._core.dtype), x._core
        else:
            return None
    elif ufunc is np.multiply or ufunc is np.true_divide:
        x, a = (x, y) if xb else (y, x)
        a = _as_factor(a, x._core)
        if a is None:
            return None
        f = _combined(x._factor, a, ufunc, x._core.dtype)
        core = x._core
    else:
        return None
    if f is None:
        return None
    return BatchTracer(core, trace, len(shape_of(core)) == 1, factor=f)


_TOTALS = {np.sum: False, np.mean: True}  # (and the engine's own, register_rule_functions)


def _references(a):
    """How many references this interpreter counts to ``a``; -1 where it counts none."""
    return sys.getrefcount(a) if hasattr(sys, "getrefcount") else -1


def _held_once():
    """``_references`` of an array held by one slot, read as ``_value`` reads it: the count
    that says nothing else holds it (measured, not assumed, on this interpreter)."""
    holder = BatchTracer(np.zeros(1), None)
    core = holder._core
    return _references(core)


_ALONE = _held_once()


def _pending_total(trace, x, mean):
    """``np.sum`` (or ``np.mean``) of every entry of each example of a pending value: one
    matrix-vector product of its array with its factor, the array never scaled."""
    core, f = x._core, x._factor
    count = x.size
    if not is_ndarray(core) or not core.flags.c_contiguous or count == 0:
        return None
    flat = np.reshape(core, (trace.size, count))
    if shape_of(f):  # (a number, or gk.jit's 0-d recording of one: the same calls)
        total = np.matmul(flat, np.reshape(np.broadcast_to(f, x.shape), (count,)))
    else:
        total = np.add.reduce(flat, axis=1) * f
    return BatchTracer(total / count if mean else total, trace, scalar=True)


def broadcasting_rule(fn):
    """``fn`` of arguments that broadcast against each other (``np.where``, ``np.clip``)."""
    def rule(trace, _, args, kwargs):
        if kwargs and _batch_trace(tuple(kwargs.values()), None) is trace:
            return loop_rule(trace, fn, args, kwargs)
        nd = max([a.ndim if type(a) is BatchTracer and a._trace is trace else _ndim(a)
                  for a in args if a is not None] or [0])
        vals = []
        for a in args:
            v, batched = trace.unbox(a)
            vals.append(_lift(v, nd) if batched else v)
        return _wrap(trace, fn(*vals, **kwargs), computed=True)
    return rule


# ----------------------------------------------------------------------------- reductions
def axis_rule(fn, none="all", pos=1, default=None):
    """``fn(x, axis, ...)`` with the axis shifted past the batch axis. ``axis=None`` means
    every axis of the example (``none="all"``: sum, max, ...) or the flattened example
    (``none="flat"``: cumsum, argmax, sort)."""
    def rule(trace, _, args, kwargs):
        if not _others_unbatched(trace, args, kwargs):
            return loop_rule(trace, fn, args, kwargs)
        x = args[0]
        if x._factor is not None and fn in _TOTALS and len(args) == 1 and \
                kwargs.get("axis") is None and not kwargs.get("keepdims") and \
                all(k == "axis" or k == "keepdims" for k in kwargs):
            total = _pending_total(trace, x, _TOTALS[fn])
            if total is not None:
                return total
        v = x._value
        nd = x.ndim
        axis = _arg(args, kwargs, pos, "axis", default)
        args, kwargs = list(args), dict(kwargs)
        if len(args) > pos:
            del args[pos]
        flat_kept = False
        if axis is None:
            if none == "all":
                axis = tuple(range(1, nd + 1))
            else:
                v, axis = np.reshape(v, (trace.size, -1)), 1
                flat_kept = bool(kwargs.get("keepdims")) and nd != 1
        else:
            axis = _shift(axis, nd)
        kwargs["axis"] = axis
        out = fn(v, *args[1:], **kwargs)
        if flat_kept:  # argmax(x, keepdims=True): one kept axis per axis of the example
            out = np.reshape(out, (trace.size,) + (1,) * nd)
        return _wrap(trace, out, computed=True)
    return rule


def method_axis_rule(ufunc, method):
    """``ufunc.reduce`` / ``ufunc.accumulate``: axis 0 by default, ``None`` for every axis."""
    bound = getattr(ufunc, method)

    def rule(trace, _, args, kwargs):
        if not _others_unbatched(trace, args, kwargs):
            return loop_rule(trace, bound, args, kwargs)
        x = args[0]
        axis = _arg(args, kwargs, 1, "axis", 0)
        kwargs = dict(kwargs)
        kwargs["axis"] = tuple(range(1, x.ndim + 1)) if axis is None else _shift(axis, x.ndim)
        return _wrap(trace, bound(x._value, *args[2:], **kwargs), computed=True)
    return rule


# ----------------------------------------------------------------------------- shapes
def _reshape(trace, _, args, kwargs):
    shape = _arg(args, kwargs, 1, "shape", kwargs.get("newshape"))
    order = _arg(args, kwargs, 2, "order", "C")
    if order != "C" or not _others_unbatched(trace, args, kwargs):
        return loop_rule(trace, np.reshape, args, kwargs)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _wrap(trace, np.reshape(args[0]._value, (trace.size,) + shape))


def _ravel(trace, _, args, kwargs):
    if _arg(args, kwargs, 1, "order", "C") != "C":
        return loop_rule(trace, np.ravel, args, kwargs)
    v = args[0]._value
    out = np.reshape(v, (trace.size, -1))
    if type(v) is np.ndarray and v.size and not v[0].flags.c_contiguous:
        out = np.copy(out)  # NumPy's ravel copies an example that is not contiguous
    return _wrap(trace, out)


def _atleast(n, fn):
    """``np.atleast_1d`` / ``_2d`` / ``_3d`` of one array: NumPy's new axes, as views."""
    def rule(trace, _, args, kwargs):
        if len(args) != 1 or kwargs:
            return loop_rule(trace, fn, args, kwargs)
        x = args[0]
        shape = x.shape
        if len(shape) >= n:
            return BatchTracer(x._value, trace, x._scalar)
        new = {1: (1,), 2: (1, 1) if not shape else (1,) + shape,
               3: (1, 1, 1) if not shape else (1,) + shape + (1,) if len(shape) == 1
               else shape + (1,)}[n]
        return BatchTracer(np.reshape(x._value, (trace.size,) + new), trace)
    return rule


def _transpose(trace, _, args, kwargs):
    x = args[0]
    axes = _arg(args, kwargs, 1, "axes")
    nd = x.ndim
    axes = tuple(range(nd, 0, -1)) if axes is None else _shift(tuple(axes), nd)
    return _wrap(trace, np.transpose(x._value, (0,) + axes))


def _axes_rule(fn, **axes):
    """``fn`` whose arguments named in ``axes`` (``name=(position, default)``) are axes of
    the example (``swapaxes``, ``moveaxis``, ``diagonal``): each shifted past the batch axis,
    defaults included."""
    def rule(trace, _, args, kwargs):
        if not _others_unbatched(trace, args, kwargs):
            return loop_rule(trace, fn, args, kwargs)
        x = args[0]
        args, kwargs = list(args), dict(kwargs)
        for name, (pos, default) in axes.items():
            axis = _shift(_arg(args, kwargs, pos, name, default), x.ndim)
            if pos < len(args):
                args[pos] = axis
            else:
                kwargs[name] = axis
        return _wrap(trace, fn(x._value, *args[1:], **kwargs))
    return rule


def _roll(trace, _, args, kwargs):
    x = args[0]
    shift = _arg(args, kwargs, 1, "shift")
    axis = _arg(args, kwargs, 2, "axis")
    if not _others_unbatched(trace, args, kwargs):
        return loop_rule(trace, np.roll, args, kwargs)
    if axis is None:  # the flattened example
        flat = np.roll(np.reshape(x._value, (trace.size, -1)), shift, axis=1)
        return _wrap(trace, np.reshape(flat, shape_of(x._value)))
    return _wrap(trace, np.roll(x._value, shift, axis=_shift(axis, x.ndim)))


def _squeeze(trace, _, args, kwargs):
    x = args[0]
    axis = _arg(args, kwargs, 1, "axis")
    if axis is None:
        axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
    return _wrap(trace, np.squeeze(x._value, _shift(axis if isinstance(axis, tuple) else
                                                    (axis,), x.ndim)))


def _expand_dims(trace, _, args, kwargs):
    x = args[0]
    axis = _arg(args, kwargs, 1, "axis")
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return _wrap(trace, np.expand_dims(x._value, _shift(tuple(axes), x.ndim + len(axes))))


def _broadcast_to(trace, _, args, kwargs):
    shape = _arg(args, kwargs, 1, "shape")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _wrap(trace, np.broadcast_to(_lift(args[0]._value, len(shape)),
                                        (trace.size,) + shape))


def _joined(fn):
    """``np.concatenate`` / ``np.stack``: every operand batched (constants repeated), the axis
    shifted past the batch axis."""
    def rule(trace, _, args, kwargs):
        arrays = list(args[0])
        axis = _arg(args, kwargs, 1, "axis", 0)
        if _batch_trace((args[1:], kwargs), None) is trace:
            return loop_rule(trace, fn, args, kwargs)
        vals = []
        for a in arrays:
            v, batched = trace.unbox(a)
            vals.append(v if batched else trace.batched_copy(a))
        kwargs = {k: w for k, w in kwargs.items() if k != "axis"}
        if axis is None:
            vals = [np.reshape(v, (trace.size, -1)) for v in vals]
            return _wrap(trace, fn(vals, axis=1, **kwargs))
        nd = len(shape_of(vals[0])) - 1 + (fn is np.stack)
        return _wrap(trace, fn(vals, axis=_shift(axis, nd), **kwargs))
    return rule


def _like(fn):
    """``np.zeros_like(x)`` and friends: a buffer per example (batched when ``x`` is)."""
    def rule(trace, _, args, kwargs):
        if _arg(args, kwargs, 3 if fn is np.full_like else 2, "shape") is not None or \
                not _others_unbatched(trace, args, kwargs):
            return loop_rule(trace, fn, args, kwargs)
        return _wrap(trace, fn(args[0]._core, *args[1:], **kwargs))  # (its shape and dtype)
    return rule


def _static(fn):
    """A question about one example's shape or dtype: the same for every example."""
    def rule(trace, _, args, kwargs):
        def example(a):
            if type(a) is BatchTracer and a._trace is trace:
                # (a question of shape and dtype: a pending factor is left pending)
                return np.zeros_like(a._core, shape=a.shape) if type(a._core) is np.ndarray \
                    else a._core[0]
            if type(a) in (list, tuple):
                return type(a)(example(x) for x in a)
            return a
        return fn(*example(args), **kwargs)
    return rule


def _shares_memory(fn):
    def rule(trace, _, args, kwargs):
        def plain(a):
            while type(a) in (BatchTracer, Tracer):
                a = a._value
            return a
        return fn(*map(plain, args), **kwargs)
    return rule


# ----------------------------------------------------------------------------- indexing
def _batched_index(trace, index, nd):
    """``index`` of one example as an index of the batched value (``(slice(None),) + index``),
    or None when NumPy would place its axes differently (advanced indices apart from each
    other, which NumPy moves to the front) or the index itself is batched."""
    parts = tuple(index) if isinstance(index, tuple) else (index,)  # (a view's _Distinct)
    if _batch_trace(parts, None) is trace:
        return None
    advanced = [i for i, p in enumerate(parts) if not isinstance(p, slice) and p is not None
                and p is not Ellipsis and (np.ndim(p) > 0 or isinstance(p, list))]
    if advanced:
        scalar_or_array = [i for i, p in enumerate(parts) if not isinstance(p, slice)
                           and p is not None and p is not Ellipsis]
        if scalar_or_array != list(range(scalar_or_array[0], scalar_or_array[-1] + 1)):
            return None
    return (slice(None),) + parts


def _getitem(trace, _, args, kwargs):
    x, index = args
    region = _batched_index(trace, index, x.ndim)
    if region is None:
        return loop_rule(trace, operator.getitem, args, kwargs)
    out = x._value[region]
    if len(shape_of(out)) == 1 and type(np.empty(x.shape, bool)[index]) is not np.ndarray:
        return BatchTracer(np.copy(out), trace, scalar=True)  # x[i]: a scalar, not a view
    return BatchTracer(out, trace)


def ufunc_at_rule(trace, ufunc, inputs):
    """``np.add.at(a, indices, b)`` into a batched ``a``: the index shifted by one, ``b``
    lined up per example (NumPy's unbuffered accumulation is kept)."""
    a, indices, *rest = inputs
    if type(a) is not BatchTracer or a._trace is not trace:
        raise batched_error(f"np.{ufunc.__name__}.at into an array made outside the mapped "
                            "function")
    _settle(a)
    region = _batched_index(trace, indices, a.ndim)
    b, batched = trace.unbox(rest[0]) if rest else (None, False)
    if region is None:
        for i in range(trace.size):
            ufunc.at(a._value[i], _example(trace, indices, i),
                     *([b[i] if batched else b] if rest else []))
        return None
    if batched:
        nd = len(shape_of(a._value[region])) - 1
        b = _lift(b, nd)
    ufunc.at(a._value, region, *([b] if rest else []))
    return None


def _setitem_rule(trace, fn, args, kwargs):
    """The engine's write primitive ``x[index] = v`` (a copy of ``x``), as a batched copy."""
    x, index, v = args
    xv, batched = trace.unbox(x)
    out = BatchTracer(np.copy(xv) if batched else trace.batched_copy(x), trace)
    _write(out, index, v)
    return out


def _at_rule(ufunc):
    def rule(trace, fn, args, kwargs):
        a, indices, b = args
        av, batched = trace.unbox(a)
        out = BatchTracer(np.copy(av) if batched else trace.batched_copy(a), trace)
        ufunc_at_rule(trace, ufunc, (out, indices, b))
        return out
    return rule


# ----------------------------------------------------------------------------- products
def _matmul(trace, _, args, kwargs):
    """``x @ y`` per example. With one side unbatched and matrices on the batched side's
    per-example shape, the batch folds into the rows (or columns) of one BLAS call."""
    x, y = args[:2]
    if kwargs or len(args) > 2:
        return loop_rule(trace, np.matmul, args, kwargs)
    xv, xb = trace.unbox(x)
    yv, yb = trace.unbox(y)
    xnd = x.ndim if xb else _ndim(x)
    ynd = y.ndim if yb else _ndim(y)
    if xnd == 0 or ynd == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    if xb and not yb and ynd == 2 and xnd >= 1:  # (B, ..., k) @ (k, m): one call
        s = shape_of(xv)
        return _wrap(trace, np.reshape(np.matmul(np.reshape(xv, (-1, s[-1])), yv),
                                       s[:-1] + (shape_of(yv)[-1],)))
    if yb and not xb and xnd <= 2 and ynd == 1:  # x @ y[b] for every b: Y @ x^T
        return _wrap(trace, np.matmul(yv, np.swapaxes(xv, 0, 1)) if xnd == 2
                     else np.matmul(yv, xv), computed=True)
    # the general case: promote vectors to matrices, line up the stack axes, matmul, drop
    if xnd == 1:
        xv = np.expand_dims(xv, 1 if xb else 0)
    if ynd == 1:
        yv = np.expand_dims(yv, -1)
    nd = max(xnd, ynd, 2)
    xv = _lift(xv, nd) if xb else xv
    yv = _lift(yv, nd) if yb else yv
    out = np.matmul(xv, yv)
    if xnd == 1:
        out = np.squeeze(out, -2)
    if ynd == 1:
        out = np.squeeze(out, -1)
    return _wrap(trace, out, computed=True)


def _dot(trace, _, args, kwargs):
    x, y = args[:2]
    nx = x.ndim if type(x) is BatchTracer and x._trace is trace else _ndim(x)
    ny = y.ndim if type(y) is BatchTracer and y._trace is trace else _ndim(y)
    if kwargs or len(args) > 2 or nx > 2 or ny > 2:
        return loop_rule(trace, np.dot, args, kwargs)
    if nx == 0 or ny == 0:
        return ufunc_rule(trace, np.multiply, (x, y), {})
    return _matmul(trace, np.matmul, (x, y), {})


def _einsum(trace, _, args, kwargs):
    """``np.einsum("ij,jk->ik", ...)``: a new letter for the batch on every batched operand and
    at the front of the output (implicit output and ``...`` run per example)."""
    spec = args[0]
    if not isinstance(spec, str) or "->" not in spec or "." in spec or \
            _batch_trace((tuple(kwargs.values()),), None) is trace:
        return loop_rule(trace, np.einsum, args, kwargs)
    inputs, output = spec.replace(" ", "").split("->")
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in spec)
    terms, operands = [], []
    for term, a in zip(inputs.split(","), args[1:]):
        v, batched = trace.unbox(a)
        terms.append(letter + term if batched else term)
        operands.append(v)
    return _wrap(trace, np.einsum(",".join(terms) + "->" + letter + output, *operands,
                                  **kwargs), computed=True)


def _outer(trace, _, args, kwargs):
    """``np.outer(a, b)``: both flattened per example, then one broadcast product."""
    if kwargs or len(args) != 2:
        return loop_rule(trace, np.outer, args, kwargs)
    (a, ab), (b, bb) = trace.unbox(args[0]), trace.unbox(args[1])
    a = np.reshape(a, (trace.size, -1, 1)) if ab else np.reshape(a, (-1, 1))
    b = np.reshape(b, (trace.size, 1, -1)) if bb else np.reshape(b, (1, -1))
    return _wrap(trace, np.multiply(a, b))


# ----------------------------------------------------------------------------- the table
_REDUCE_ALL = [np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.var, np.std,
               np.any, np.all, np.nansum, np.nanmean, np.nanprod, np.nanmax, np.nanmin,
               np.nanvar, np.nanstd, np.ptp, np.median, np.flip]
_REDUCE_FLAT = [np.cumsum, np.cumprod, np.argmax, np.argmin, np.nancumsum, np.nancumprod,
                np.nanargmax, np.nanargmin]


def _register():
    from . import mutation
    global Tracer
    from .tracer import Tracer

    for f in _REDUCE_ALL:
        BATCH_RULES[f] = axis_rule(f, "all")
    for f in _REDUCE_FLAT:
        BATCH_RULES[f] = axis_rule(f, "flat")
    for f in (np.sort, np.argsort):  # default axis -1
        BATCH_RULES[f] = axis_rule(f, "flat", default=-1)
    for u in (np.add, np.multiply, np.maximum, np.minimum, np.logical_and, np.logical_or):
        BATCH_RULES[(u, "reduce")] = method_axis_rule(u, "reduce")
        BATCH_RULES[(u, "accumulate")] = method_axis_rule(u, "accumulate")
    BATCH_RULES.update({
        np.where: broadcasting_rule(np.where),
        np.clip: broadcasting_rule(np.clip),
        np.reshape: _reshape,
        np.ravel: _ravel,
        np.transpose: _transpose,
        np.swapaxes: _axes_rule(np.swapaxes, axis1=(1, None), axis2=(2, None)),
        np.moveaxis: _axes_rule(np.moveaxis, source=(1, None), destination=(2, None)),
        np.diagonal: _axes_rule(np.diagonal, axis1=(2, 0), axis2=(3, 1)),
        np.trace: _axes_rule(np.trace, axis1=(2, 0), axis2=(3, 1)),
        np.roll: _roll,
        np.atleast_1d: _atleast(1, np.atleast_1d),
        np.atleast_2d: _atleast(2, np.atleast_2d),
        np.atleast_3d: _atleast(3, np.atleast_3d),
        np.squeeze: _squeeze,
        np.expand_dims: _expand_dims,
        np.broadcast_to: _broadcast_to,
        np.concatenate: _joined(np.concatenate),
        np.stack: _joined(np.stack),
        np.copy: lambda trace, _, args, kwargs: _wrap(trace, np.copy(args[0]._value)),
        np.astype: lambda trace, _, args, kwargs: _wrap(trace, np.astype(
            args[0]._value, *args[1:], **kwargs)),
        np.real: lambda trace, _, args, kwargs: _wrap(trace, np.real(args[0]._value)),
        np.imag: lambda trace, _, args, kwargs: _wrap(trace, np.imag(args[0]._value)),
        np.matmul: _matmul,
        np.dot: _dot,
        np.einsum: _einsum,
        np.outer: _outer,
        operator.getitem: _getitem,
        mutation.P_SETITEM.fn: _setitem_rule,
        mutation.P_ADD_AT.fn: _at_rule(np.add),
        mutation.P_SUBTRACT_AT.fn: _at_rule(np.subtract),
        np.may_share_memory: _shares_memory(np.may_share_memory),
        np.shares_memory: _shares_memory(np.shares_memory),
    })
    for f in (np.zeros_like, np.ones_like, np.empty_like, np.full_like):
        BATCH_RULES[f] = _like(f)
    for f in (np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj,
              np.min_scalar_type):
        BATCH_RULES[f] = _static(f)
    _borrow_methods()


_register()


def register_rule_functions():
    """Rules for the engine's own primitive bodies (the reductions' fast paths and the stable
    primitives), registered once the rule modules have loaded (``rules/__init__.py``)."""
    from . import stable
    from .rules import reductions
    BATCH_RULES[reductions.P_SUM.fn] = axis_rule(reductions.P_SUM.fn, "all")
    BATCH_RULES[reductions.P_MEAN.fn] = axis_rule(reductions.P_MEAN.fn, "all")
    _TOTALS.update({reductions.P_SUM.fn: False, reductions.P_MEAN.fn: True})
    lse = stable._logsumexp.primitive.fn
    BATCH_RULES[lse] = axis_rule(lse, "all", pos=2)
    # NumPy's value (already batched) carrying a composition's derivative: the value itself
    from .rules import numerical
    BATCH_RULES[numerical._numpy_value.primitive.fn] = (
        lambda trace, fn, args, kwargs: args[0] if type(args[0]) is BatchTracer
        else loop_rule(trace, fn, args, kwargs))
    for f in (stable._softmax, stable._log_softmax):
        BATCH_RULES[f.primitive.fn] = axis_rule(f.primitive.fn, "all")


# ----------------------------------------------------------------------------- vmap
def vmap(fun, in_axes=0, out_axes=0, axis_size=None):
    """Vectorize ``fun`` over an axis of its arguments: ``vmap(f)(xs)[b] == f(xs[b])``.

    ``in_axes`` says which axis of each positional argument is mapped: an int or ``None``
    (not mapped) for every argument, or a tuple with one entry per argument, each an int,
    ``None`` or a pytree of them matching that argument (a prefix of it). Keyword arguments
    are mapped over axis 0. ``out_axes`` (an int, ``None`` or a pytree prefix of the output)
    says where the batch axis goes in each output; an output that does not depend on the
    mapped arguments is repeated along it. ``axis_size`` gives the batch size when no argument
    is mapped. As ``jax.vmap`` and ``torch.func.vmap``.

    Each NumPy call is batched by its rule in :data:`BATCH_RULES` (one call for the whole
    batch); a function without one runs once per example (correct, slower). It composes with
    every transformation: ``vmap(grad(loss), in_axes=(None, 0, 0))`` gives per-example
    gradients, ``jacobian`` and ``hessian`` are ``vmap`` of ``jvp`` / ``vjp``.

    Args:
        fun: the function to vectorize; it takes and returns arrays or pytrees of them.
        in_axes: the mapped axis of each positional argument (an int, ``None``, or a tuple
            with one int / ``None`` / pytree prefix per argument).
        out_axes: where the batch axis goes in each output (an int, ``None`` or a pytree
            prefix of the output).
        axis_size: the batch size, needed only when no argument is mapped.

    Returns:
        A function with ``fun``'s arguments that returns ``fun``'s outputs stacked along
        ``out_axes``.

    Raises:
        ValueError: if the mapped axes have different sizes, no argument is mapped and
            ``axis_size`` is not given, or ``out_axes=None`` for an output that is batched.
        TracerConversionError: if ``fun`` branches on a batched value or converts it to a
            plain array or number (use ``np.where``, ``np.zeros_like``).

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> xs, w = np.ones((3, 2)), np.array([1.0, 2.0])
        >>> gk.vmap(lambda x, w: x @ w, in_axes=(0, None))(xs, w)
        array([3., 3., 3.])

        Per-example gradients of a squared error, ``(w @ x - y) x`` for each row:

        >>> loss = lambda w, x, y: (w @ x - y) ** 2 / 2
        >>> gk.vmap(gk.grad(loss), in_axes=(None, 0, 0))(w, xs, np.array([1.0, 3.0, 5.0]))
        array([[ 2.,  2.],
               [ 0.,  0.],
               [-2., -2.]])
    """
    return _vmap(fun, in_axes, out_axes, axis_size, copy=True)


def over_basis(fun):
    """``vmap(fun)`` for a basis the caller made (``jacobian``'s: an array, or a pytree of
    them batched along axis 0): its rows are not copied, since no caller holds them. A basis
    on another device (CuPy) goes row by row, stacked by its own library: the batching rules
    are proved on NumPy arrays only."""
    batched = _vmap(fun, 0, 0, None, copy=False)

    def over(basis):
        leaves, treedef = tree_flatten(basis)
        if all(is_ndarray(getval(b)) for b in leaves):
            return batched(basis)
        xp = array_namespace(getval(leaves[0]))
        rows = [fun(tree_unflatten(treedef, [b[i] for b in leaves]))
                for i in range(shape_of(leaves[0])[0])]
        return tree_map(lambda *row: xp.stack(row), *rows)
    return over


def _vmap(fun, in_axes, out_axes, axis_size, copy):
    fname = getattr(fun, "__name__", type(fun).__name__)

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        if isinstance(in_axes, (tuple, list)):
            if len(in_axes) != len(args):
                raise ValueError(
                    f"vmap({fname}): in_axes has {len(in_axes)} entries but the function was "
                    f"called with {len(args)} positional argument(s); give one entry per "
                    "argument (None for an argument that is not mapped).")
            axes = tuple(in_axes)
        elif in_axes is None or isinstance(in_axes, int):
            axes = (in_axes,) * len(args)
        else:
            raise TypeError(f"vmap({fname}): in_axes must be an int, None or a tuple of them "
                            f"(one per argument), not {type(in_axes).__name__}.")
        sizes = []

        def size_of(leaf, axis, where):
            if axis is None:
                return
            shape = shape_of(leaf)
            if not isinstance(axis, (int, np.integer)) or not -len(shape) <= axis < len(shape):
                raise ValueError(f"vmap({fname}): in_axes {axis!r} for {where}, which has "
                                 f"shape {shape}.")
            sizes.append((shape[axis], where))

        for i, (a, ax) in enumerate(zip(args, axes)):
            _map_axes(a, ax, lambda leaf, axis, w=f"argument {i}": size_of(leaf, axis, w))
        for k, a in kwargs.items():
            _map_axes(a, 0, lambda leaf, axis, w=f"keyword {k}": size_of(leaf, axis, w))
        if not sizes and axis_size is None:
            raise ValueError(f"vmap({fname}) must have at least one non-None value in in_axes "
                             "(or give axis_size).")
        size = sizes[0][0] if sizes else axis_size
        if any(n != size for n, _ in sizes) or axis_size is not None and size != axis_size:
            listed = ", ".join(f"{w} has size {n}" for n, w in sizes)
            raise ValueError(f"vmap({fname}) got inconsistent sizes for the mapped axis: "
                             f"{listed}" + (f", axis_size={axis_size}" if axis_size is not None
                                            else "") + ".")
        trace = BatchTrace(size)

        def batch(leaf, axis):
            if axis is None:
                return leaf
            moved = np.moveaxis(leaf, axis, 0)
            if copy and type(moved) is np.ndarray:  # writes must not reach the caller's array
                moved = np.array(moved)
            return BatchTracer(moved, trace)

        batched = [_map_axes(a, ax, batch) for a, ax in zip(args, axes)]
        kw = {k: _map_axes(a, 0, batch) for k, a in kwargs.items()}
        out = fun(*batched, **kw)

        def unbatch(leaf, axis):
            v, mapped = trace.unbox(leaf)
            if axis is None:
                if mapped:
                    raise ValueError(f"vmap({fname}): out_axes=None for an output that "
                                     "depends on the mapped arguments; give it an axis.")
                return leaf
            if not mapped:
                v = trace.batched_copy(leaf)
            nd = len(shape_of(v))
            if not -nd <= axis < nd:
                raise ValueError(f"vmap({fname}): out_axes={axis} is out of bounds for an "
                                 f"output of {nd - 1} dimension(s) per example (the batch "
                                 f"axis goes in one of {nd} places).")
            return np.moveaxis(v, 0, axis % nd) if axis % nd else v

        return _map_axes(out, out_axes, unbatch)

    return vmapped


def _map_axes(tree, axes, fn):
    """``tree`` with ``fn(leaf, axis)`` applied to each leaf, ``axes`` a pytree prefix of it
    (an int or None covers a whole subtree)."""
    if axes is None or isinstance(axes, (int, np.integer)):
        if type(tree) in (np.ndarray, BatchTracer, Tracer) or not isinstance(
                tree, (dict, list, tuple)) and not hasattr(tree, "__dataclass_fields__"):
            return fn(tree, axes)
        return tree_map(lambda leaf: fn(leaf, axes), tree)
    if isinstance(axes, dict) and isinstance(tree, dict) and axes.keys() == tree.keys():
        return type(tree)({k: _map_axes(tree[k], axes[k], fn) for k in tree})
    if isinstance(axes, (list, tuple)) and isinstance(tree, (list, tuple)) \
            and len(axes) == len(tree):
        items = [_map_axes(t, a, fn) for t, a in zip(tree, axes)]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    raise ValueError(f"vmap: the axes {axes!r} do not match the structure of the value they "
                     f"are for ({type(tree).__name__}); give an int or None per leaf, or a "
                     "container of the same structure.")

