"""The traced value: :class:`Tracer`, with every operator, array method and NumPy protocol.

A tracer stands where the user's array stood while a function is differentiated. NumPy routes
each call that sees one here: operators and methods directly, ufuncs through
``__array_ufunc__``, other functions through ``__array_function__``; all of them end in a
primitive applied on the innermost trace (:mod:`.trace`). Writes (``x += y``, ``x[i] = v``,
``out=``) change the tracer itself, so every name bound to it sees them, and go through
:mod:`.mutation`, which keeps the tape functional and views in step with their base.

What NumPy gives no hook for (``np.asarray(tracer)``, ``float(tracer)``, writing a tracer
into a plain array, ``np.array([tracer, ...])``) raises :class:`TracerConversionError`
naming the rewrite.
"""
from __future__ import annotations

import operator
import sys

import numpy as np

from .primitive import (FUNCTION_HANDLERS, NONDIFF_UFUNCS, PLAIN_UFUNCS, UFUNC_HANDLERS,
                        UFUNC_METHODS, NoGradientRuleError, TracerConversionError, primitive)
from .trace import LEAN_MIN_SIZE, NO_KWARGS, ReverseTrace, apply, getval, shape_of

__all__ = ["Tracer", "conversion_error"]

_new_object = object.__new__
_ndarray = np.ndarray


def conversion_error(what):
    """The error for turning a traced value into a plain one, with the rewrites.

    Args:
        what: the conversion, as the message starts (``"float()"``, ``"np.asarray"``).

    Returns:
        TracerConversionError: the error to raise.

    Examples:
        >>> import gradkit as gk
        >>> str(conversion_error("float()"))[:56]
        'float() of a traced value would silently drop its gradie'
        >>> gk.grad(lambda x: float(x))(1.0)
        Traceback (most recent call last):
            ...
        gradkit.autodiff.primitive.TracerConversionError: float() ... would silently drop ...
    """
    return TracerConversionError(
        f"{what} of a traced value would silently drop its gradient. Inside a function being "
        "differentiated keep values as arrays: make buffers from the traced value "
        "(np.zeros_like(x, shape=(n,)) instead of np.zeros(n), then write into them), build "
        "arrays with np.stack / np.concatenate instead of np.array([...]) or a list, use "
        "NumPy functions (np.exp, np.where) instead of math.* and float(), and wrap values "
        "that should not be differentiated with gradkit.stop_gradient.")


def _binary_operator(fn, python_operator=None):
    """``(op, rop)`` for the Python operator of the ufunc ``fn``.

    Operators are the most frequent calls in traced code, so on a reverse trace the common
    cases (the other operand a constant, or a tracer of the same trace) are recorded right
    here, as :meth:`ReverseTrace.process` would; anything else goes through :func:`apply`.
    With ``python_operator`` (``operator.pow``) the value is computed by the operator itself,
    as NumPy computes ``x ** 2`` on plain arrays (its fast square path)."""
    prim = primitive(fn)
    compute = python_operator or fn
    # `c * x` with a Python number c would give Python's own complex for a float64 x: NumPy's
    # ufunc computes the reflected product (NumPy's scalar `*` differs only between two
    # NumPy scalars, which reach op, not rop)
    rcompute = fn if python_operator is operator.mul else compute

    # ReverseTrace.record_binary, written out: the operators are a third of a small step's
    # entries, and the call measured 4% of W1 (a chain of 60 small operations). A broadcasting
    # output (or matmul's, whose rules read both operands) is the value that may be large.
    def op(self, other):
        trace = self._trace
        if type(trace) is ReverseTrace and prim.arity == 2:
            if type(other) is not Tracer and type(other) is not BatchTracer:
                x = self._value
                ans = compute(x, other)
                tape = trace.tape
                if ans.size >= LEAN_MIN_SIZE if type(ans) is _ndarray else type(ans) is Tracer:
                    tape = trace.widen(ans)
                t = _new_object(Tracer)
                t._value, t._trace, t._aux = ans, trace, len(tape)
                tape.append((prim, x, other, ans, self._aux, -1))
                return t
            if other._trace is trace:
                x, y = self._value, other._value
                ans = compute(x, y)
                tape = trace.tape
                if ans.size >= LEAN_MIN_SIZE if type(ans) is _ndarray else type(ans) is Tracer:
                    tape = trace.widen(ans)
                t = _new_object(Tracer)
                t._value, t._trace, t._aux = ans, trace, len(tape)
                tape.append((prim, x, y, ans, self._aux, other._aux))
                return t
        to = type(other)
        if to is Tracer and other._trace is not trace or to is BatchTracer:
            return apply(prim, self, other)
        return trace.process(prim, (self, other), NO_KWARGS)  # (apply's choice, made here)

    def rop(self, other):  # other is never a tracer: Python tried other's operator first
        trace = self._trace
        if type(trace) is ReverseTrace and prim.arity == 2 and type(other) is not Tracer \
                and type(other) is not BatchTracer:
            y = self._value
            return trace.record_binary(prim, other, y, rcompute(other, y), -1, self._aux)
        if type(other) is BatchTracer:
            return apply(prim, other, self)
        return trace.process(prim, (other, self), NO_KWARGS)

    return op, rop


def _refuse_setting(name, rewrite):
    raise NoGradientRuleError(f"Setting .{name} of a traced value is not differentiable in "
                              f"gradkit; write {rewrite} instead.")


def _flat_operator(ufunc):
    """A comparison or floor division: computed on the plain values, no derivative."""
    return lambda self, other: ufunc(getval(self), getval(other))


def _inplace(fn):
    """``x op= y``: the new value replaces the old one in ``x`` (and in its base and views)."""
    def iop(self, other):
        return write_back(self, fn(self, other), fn.__name__, ufunc=fn, inputs=(self, other))
    return iop


class Tracer:
    """A value being differentiated: a NumPy array plus the trace recording it.

    ``_aux`` is the tape index (reverse mode) or the tangent (forward mode). A view
    (``x[1:]``, ``x.T``) also has ``_base``, and a base with live views ``_views``
    (see :mod:`.mutation`); both slots are unset on everything else.

    Every Python operator, array method and NumPy protocol (``__array_ufunc__``,
    ``__array_function__``) of a tracer routes to a registered primitive, so user code is
    plain NumPy. The transformations (:func:`gradkit.grad`, ...) make tracers; users meet
    them only as the arguments their function receives.

    Args:
        value: the value it holds (an array, or a tracer of an outer trace).
        trace: the :class:`~gradkit.autodiff.trace.ReverseTrace` or
            :class:`~gradkit.autodiff.trace.ForwardTrace` recording it.
        aux: its tape index or tangent.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> def f(x):
        ...     print(type(x).__name__, x.shape, x.dtype)
        ...     return np.sum(np.sin(x))
        >>> gk.grad(f)(np.zeros(3))
        Tracer (3,) float64
        array([1., 1., 1.])
    """

    __slots__ = ("_value", "_trace", "_aux", "_base", "_views", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, value, trace, aux):
        self._value = value
        self._trace = trace
        self._aux = aux

    # -- array facts (no derivative involved)
    shape = property(lambda self: shape_of(self._value),
                     lambda self, _: _refuse_setting("shape", "x = x.reshape(new_shape)"))
    ndim = property(lambda self: len(shape_of(self._value)))
    size = property(lambda self: int(np.prod(shape_of(self._value))))
    dtype = property(lambda self: self._value.dtype)
    T = property(lambda self: np.transpose(self))
    mT = property(lambda self: np.swapaxes(self, -1, -2))
    device = property(lambda self: getattr(getval(self), "device", "cpu"))
    real = property(lambda self: np.real(self),
                    lambda self, _: _refuse_setting("real", "z = v + 1j * np.imag(z)"))
    imag = property(lambda self: np.imag(self),
                    lambda self, _: _refuse_setting("imag", "z = np.real(z) + 1j * v"))

    def __len__(self):
        return len(self._value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        kind = "reverse" if type(self._trace) is ReverseTrace else "forward"
        return f"Tracer({kind}, level={self._trace.level}, value={getval(self)!r})"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        return bool(getval(self))

    # -- operators
    __add__, __radd__ = _binary_operator(np.add)
    __sub__, __rsub__ = _binary_operator(np.subtract)
    # (computed by `*` itself: NumPy's complex scalar product differs from np.multiply's bits)
    __mul__, __rmul__ = _binary_operator(np.multiply, operator.mul)
    __truediv__, __rtruediv__ = _binary_operator(np.true_divide)
    __pow__, __rpow__ = _binary_operator(np.power, operator.pow)
    __mod__, __rmod__ = _binary_operator(np.remainder)
    __matmul__, __rmatmul__ = _binary_operator(np.matmul)
    __floordiv__ = _flat_operator(np.floor_divide)
    __rfloordiv__ = lambda self, other: np.floor_divide(getval(other), getval(self))  # noqa: E731
    __lt__, __gt__ = _flat_operator(np.less), _flat_operator(np.greater)
    __le__, __ge__ = _flat_operator(np.less_equal), _flat_operator(np.greater_equal)
    __eq__, __ne__ = _flat_operator(np.equal), _flat_operator(np.not_equal)
    __and__, __or__ = _flat_operator(np.bitwise_and), _flat_operator(np.bitwise_or)
    __xor__ = _flat_operator(np.bitwise_xor)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__  # (commutative)
    __invert__ = lambda self: np.invert(getval(self))  # noqa: E731
    __neg__ = lambda self: np.negative(self)  # noqa: E731
    __pos__ = lambda self: np.positive(self)  # noqa: E731
    __abs__ = lambda self: np.absolute(self)  # noqa: E731

    # -- writes: the tracer itself changes, as the array would (see mutation.py)
    __iadd__ = _inplace(np.add)
    __isub__ = _inplace(np.subtract)
    __imul__ = _inplace(np.multiply)
    __itruediv__ = _inplace(np.true_divide)
    __ipow__ = _inplace(np.power)
    __imod__ = _inplace(np.remainder)
    __ifloordiv__ = _inplace(np.floor_divide)
    __imatmul__ = _inplace(np.matmul)
    __iand__ = _inplace(np.bitwise_and)
    __ior__ = _inplace(np.bitwise_or)
    __ixor__ = _inplace(np.bitwise_xor)

    def __getitem__(self, index):
        batched = None
        ti = type(index)
        if ti is Tracer or ti is BatchTracer or ti is tuple and any(
                type(i) is Tracer or type(i) is BatchTracer for i in index):
            index = _plain_index(index)  # indices carry no derivative
            batched = _batched_part(index)
        trace = self._trace
        if type(trace) is ReverseTrace:
            # x[i] on a reverse trace, recorded here as process would (slices of a parameter
            # vector are a hot path); a batched index (a vmap around this gradient: W[i]
            # with one i per example) is the vmap's gather, which NumPy's own indexing of v
            # cannot hand on
            v = self._value
            ans = v[index] if batched is None else \
                batched._trace.process(P_GETITEM, (v, index), NO_KWARGS)
            out = trace.record_binary(P_GETITEM, v, index, ans, self._aux, -1)
            if type(ans) is np.ndarray:
                base = ans.base  # a view of v has v's memory owner as its base
                if base is not None and (base is v or base is v.base):
                    add_view(out, self, (P_GETITEM, (index,), NO_KWARGS))
            elif type(ans) is Tracer or (not isinstance(ans, np.generic)
                                         and hasattr(ans, "shape")):  # nested, or CuPy
                note_view(out, self, P_GETITEM, (index,), NO_KWARGS)
            return out
        return apply(P_GETITEM, self, index)

    def __setitem__(self, index, value):
        setitem(self, index, value)

    def fill(self, value):
        """``x.fill(v)``: every entry becomes ``v`` (in place, as NumPy's)."""
        setitem(self, Ellipsis, value)

    def sort(self, axis=-1, kind=None, order=None):
        """``x.sort()``: sorted in place, as NumPy's (the gradient follows the permutation)."""
        write_back(self, np.sort(self, axis=axis, kind=kind, order=order), "sort")

    # -- array methods: the NumPy functions of the same name
    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return np.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return np.transpose(self, axes or None)

    def ravel(self, order="C"):
        return np.ravel(self, order)

    def flatten(self, order="C"):
        return np.copy(np.ravel(self, order), order="C")

    def swapaxes(self, axis1, axis2):
        return np.swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return np.squeeze(self, axis)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return np.astype(self, dtype, copy=copy)

    def copy(self, order="C"):
        return np.copy(self, order=order)

    def clip(self, min=None, max=None, **kwargs):
        return np.clip(self, min, max, **kwargs)

    def dot(self, other):
        return np.dot(self, other)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return np.trace(self, offset, axis1, axis2, dtype, out)

    def repeat(self, repeats, axis=None):
        return np.repeat(self, repeats, axis)

    def take(self, indices, axis=None, out=None, mode="raise"):
        return np.take(self, indices, axis, out, mode)

    def conj(self):
        return np.conjugate(self)

    conjugate = conj

    def sum(self, *args, **kwargs):
        return np.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return np.mean(self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return np.prod(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return np.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return np.min(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        return np.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return np.std(self, *args, **kwargs)

    def cumsum(self, *args, **kwargs):
        return np.cumsum(self, *args, **kwargs)

    def cumprod(self, *args, **kwargs):
        return np.cumprod(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return np.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return np.argmin(self, *args, **kwargs)

    def argsort(self, *args, **kwargs):
        return np.argsort(self, *args, **kwargs)

    def nonzero(self):
        return np.nonzero(self)

    def any(self, *args, **kwargs):
        return np.any(getval(self), *args, **kwargs)

    def all(self, *args, **kwargs):
        return np.all(getval(self), *args, **kwargs)

    # -- NumPy protocols
    def __array_namespace__(self, api_version=None):
        """The array-API namespace (NumPy's, keeping tracers; see autodiff/namespace.py)."""
        from .namespace import namespace
        return namespace

    # (the first input apart from the others: NumPy's call binds it without packing a tuple,
    # which measured 20 ns of the 280 the protocol costs np.tanh(x))
    def __array_ufunc__(self, ufunc, method, x, *more, **kwargs):
        if method == "__call__" and not kwargs:
            prim = PLAIN_UFUNCS.get(ufunc)
            if prim is not None:
                trace = self._trace
                if prim.arity == 1 and type(trace) is ReverseTrace:
                    # np.tanh(x) and friends (one input: NumPy passes `out` as a keyword):
                    # ReverseTrace.record_unary, written out as in the operators (above), with
                    # no size test: a ufunc's output has its input's size, and the input is
                    # already on this tape (a LeanTape if it is large)
                    v = self._value
                    ans = ufunc(v)
                    tape = trace.tape
                    t = _new_object(Tracer)
                    t._value, t._trace, t._aux = ans, trace, len(tape)
                    tape.append((prim, v, ans, self._aux))
                    return t
                inputs = (x, *more)
                for a in inputs:  # this trace's call unless another trace is involved
                    ta = type(a)
                    if ta is Tracer and a._trace is not trace or ta is BatchTracer:
                        return apply(prim, *inputs)
                return trace.process(prim, inputs, NO_KWARGS)
        inputs = (x, *more)
        out = kwargs.pop("out", None)
        if out is not None:
            return ufunc_into(ufunc, method, inputs, kwargs, out)
        if method == "__call__":
            handler = UFUNC_HANDLERS.get(ufunc)
            if handler is None:
                if ufunc in NONDIFF_UFUNCS:
                    return ufunc(*map(getval, inputs), **kwargs)
                raise NoGradientRuleError(
                    f"gradkit has no gradient rule for {_ufunc_name(ufunc)}. Rewrite with "
                    "functions that have rules, or define one with gradkit.custom_vjp.")
            if kwargs:
                raise NoGradientRuleError(
                    f"{_ufunc_name(ufunc)} with keyword(s) {sorted(kwargs)} is not "
                    "differentiable in gradkit: drop them (use np.where for masking, astype "
                    "for dtype).")
            return handler(*inputs)
        if method == "at":
            return ufunc_at(ufunc, *inputs)
        reduction = UFUNC_METHODS.get((ufunc, method))
        if reduction is not None:
            return reduction(*inputs, **kwargs)
        raise NoGradientRuleError(
            f"{_ufunc_name(ufunc)}.{method} has no gradient rule in gradkit; use the matching "
            "function (np.sum, np.max, np.cumsum, ...) instead.")

    def __array_function__(self, func, types, args, kwargs):
        handler = FUNCTION_HANDLERS.get(func)
        if not kwargs and len(args) == 1 and args[0] is self:  # np.sum(x): as process does
            prim = getattr(handler, "plain", None)
            trace = self._trace
            if prim is not None and prim.arity == 1 and not prim.view and \
                    type(trace) is ReverseTrace:
                v = self._value
                return trace.record_unary(prim, v, prim.fn(v), self._aux)
        if handler is None:
            name = getattr(func, "__module__", "numpy") + "." + getattr(func, "__name__", "?")
            raise NoGradientRuleError(
                f"gradkit has no gradient rule for {name.replace('numpy.', 'np.', 1)}. Rewrite "
                "this step with functions that have rules (see gradkit.autodiff.rules), or give "
                "it your own derivative with gradkit.custom_vjp.")
        out = kwargs.pop("out", None)
        if out is not None:
            return write_back(out, handler(*args, **kwargs), func.__name__, out=True)
        return handler(*args, **kwargs)

    # -- conversions NumPy gives no hook for: a clear error instead of a lost gradient
    def __array__(self, dtype=None, copy=None):
        caller = _library_caller()
        if caller:
            raise _with_hint(conversion_error(
                f"{caller} converts its input with np.asarray, and that conversion"), caller)
        raise _in_user_code("np.asarray() / np.array() (or writing into a plain NumPy array)")

    def __float__(self):
        caller = _library_caller()
        if caller:
            raise conversion_error(f"{caller} calls float() on its input, and that conversion")
        raise _in_user_code("float() (or math.*, or writing into a plain NumPy array)")

    def __int__(self):
        raise conversion_error("int()")

    def __complex__(self):
        raise conversion_error("complex()")

    def __index__(self):
        raise conversion_error("Using as an index")

    def item(self, *args):
        raise conversion_error(".item()")

    def tolist(self):
        raise conversion_error(".tolist()")


_NUMPY_NAMESPACES = {"linalg", "fft", "random", "polynomial", "ma", "lib"}


def _library_caller():
    """The library function (NumPy's, scipy's, ...) that the user called and that converted a
    traced value, as its public name (``np.mean``, ``scipy.special.logsumexp``); None when
    the conversion happened in the user's own code."""
    frame = sys._getframe(2)
    name = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        top = module.partition(".")[0]
        if top in ("numpy", "scipy", "sklearn", "pandas"):
            public = [part for part in module.split(".") if not part.startswith("_")]
            if top == "numpy":  # np.mean, np.linalg.norm: NumPy's public namespaces only
                name = _numpy_name(frame.f_code, public)
            else:
                name = ".".join(public + [frame.f_code.co_name])
        elif top != "gradkit":
            break
        frame = frame.f_back
    return name


def _numpy_name(code, public):
    """NumPy's public name of the function running ``code`` (``np.vectorize`` for its
    ``__call__``, ``np.lib.stride_tricks.as_strided``)."""
    name = code.co_name
    if name.startswith("__"):  # a method of a public class
        name = getattr(code, "co_qualname", name).split(".")[0]
    for space in ("", "linalg.", "fft.", "lib.stride_tricks.", "ma.", "random."):
        obj = np
        for part in (space + name).split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, type):  # a class: the method running is one of its own
            obj = getattr(obj, code.co_name, None)
        if getattr(getattr(obj, "__wrapped__", obj), "__code__", None) is code:
            return f"np.{space}{name}"
    return ".".join(["np"] + [p for p in public[1:] if p in _NUMPY_NAMESPACES] + [name])


# what to write instead of library functions that convert their input (the general advice
# of conversion_error follows the name)
_REWRITES = {
    "np.vectorize": "np.vectorize calls the Python function on plain numbers; write the "
                    "function with array operations (np.where for its branches)",
    "np.lib.stride_tricks.as_strided": "np.lib.stride_tricks.sliding_window_view makes the "
                                       "same windows and is differentiable",
    "np.apply_along_axis": "loop over the other axes and np.stack the results, or write the "
                           "function with axis= arguments",
    "np.frompyfunc": "write the function with array operations",
}


def _with_hint(error, caller):
    hint = _REWRITES.get(caller)
    return error if hint is None else TracerConversionError(f"{error} Here: {hint}.")


def _in_user_code(what):
    """The conversion error for ``what`` done in the user's own code, naming the function, the
    line and the expression; a write ``buf[i] = traced`` into a plain array and a plain
    array's method (``X.dot(w)``) are named as such."""
    import dis
    import linecache
    import os
    import re
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] in (
            "gradkit", "numpy"):
        frame = frame.f_back
    if frame is None:
        return conversion_error(what)
    code = frame.f_code
    where = f"in {code.co_name}, {os.path.basename(code.co_filename)} line {frame.f_lineno}"
    here = next((i for i in dis.get_instructions(code) if i.offset == frame.f_lasti), None)
    pos = getattr(here, "positions", None)
    text = ""
    if pos is not None and pos.lineno is not None and pos.lineno == pos.end_lineno:
        text = linecache.getline(code.co_filename, pos.lineno)[pos.col_offset:pos.end_col_offset]
    if here is not None and here.opname == "STORE_SUBSCR":
        return conversion_error(
            f"writing into a plain NumPy array (buf[...] = value {where}; that array was made "
            "by np.zeros / np.empty / np.array, not from a traced value)")
    method = re.match(r"^([^(]+)\.(\w+)\(", text)  # owner.method(...)
    if method and method.group(2) in dir(np.ndarray) and hasattr(np, method.group(2)):
        owner, name = method.groups()
        return TracerConversionError(
            f"{text} ({where}) calls the method .{name} of a plain NumPy array, which converts "
            f"its argument and would silently drop its gradient: write np.{name}({owner}, ...)"
            + (f" or {owner} @ ..." if name == "dot" else "") + " instead, which gradkit "
            "traces.")
    return TracerConversionError(
        f"{conversion_error(what)} ({where}" + (f": {text})" if text else ")"))


def _batched_part(index):
    """The batched value in an index (a vmap around the trace), or None."""
    if type(index) is BatchTracer:
        return index
    return next((i for i in index if type(i) is BatchTracer), None) \
        if type(index) is tuple else None


def _plain_index(index):
    if type(index) is tuple:
        return tuple(getval(i) for i in index)
    return getval(index)


def _ufunc_name(ufunc):
    """``np.exp`` for NumPy's ufuncs, ``scipy.special.j0`` for scipy's."""
    name = ufunc.__name__
    if getattr(np, name, None) is ufunc:
        return f"np.{name}"
    try:
        import scipy.special as sc
        if getattr(sc, name, None) is ufunc:
            return f"scipy.special.{name}"
    except ImportError:  # pragma: no cover - scipy is a dependency
        pass
    return name


P_GETITEM = primitive(operator.getitem, name="getitem")
P_GETITEM.view = True

# the chain of engine modules (see primitive.py): writes and views build on the Tracer
from .mutation import add_view, note_view, setitem, ufunc_at, ufunc_into, write_back  # noqa: E402
from .batching import BatchTracer  # noqa: E402
