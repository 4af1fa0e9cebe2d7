r"""Compiled steps: ``gk.jit(f)`` records the NumPy calls ``f`` makes once, then replays them.

How a call runs
---------------
The first call with a new *signature* (the pytree structure of the arguments, the shape,
dtype and strides of every array in it, the value of everything else) runs ``f`` for real on
:class:`JitValue`\ s: an array type of its own, as a CuPy array is, holding the real array.
NumPy routes every call that sees one here (operators, ufuncs and their methods,
``__array_function__``, indexing, writes, array methods), and each is computed on the real
arrays and appended to a :class:`Recording`. The derivative traces inside ``f`` (``grad``,
``hvp``, ``vmap``) treat a JitValue as a value, so their backward passes are recorded too: a
flat list of NumPy calls, forward and backward. A call that sees no JitValue (``np.eye(3)``,
arithmetic on constants, the engine's shape logic) runs once, now: constants are folded for
free.

The recording becomes Python source, one statement per NumPy call (``print(jitted.source)``),
after dropping what no output needs; names are reused as values die, so memory is freed as
the hand-written code would free it. Later calls with the same signature run that function:
the NumPy calls and nothing else. Because it makes the same calls on the same kinds of
values, a replay gives the same bits as ``f`` itself.

The first call's result is ``f``'s own (it ran for real), so a trace that has to be given up
halfway costs nothing: ``f`` simply finishes eagerly.

Guards: never a wrong replay
----------------------------
Anything that makes a recording unsafe to replay marks it *poisoned*; the signature then runs
eagerly, and a warning naming the line says why, once:

- a traced value turned into a Python value (``if x > 0``, ``bool``, ``float``, ``int``,
  ``.item()``, ``np.asarray``, use as an index of a Python list): the program would bake in
  this call's branch;
- a NumPy call that returns a Python number computed from the values;
- a write into an array that was not made from the arguments (``np.add(x, 1, out=buf)``
  with a ``buf`` from outside): a replay would write into that array again;
- random numbers drawn inside ``f`` (NumPy's global generator, or a ``Generator`` /
  ``RandomState`` that ``f`` reaches), which a replay would repeat;
- ``f`` changing an array it closes over.

Before each replay, the arrays and numbers ``f`` reaches (its closure, the globals it names,
its defaults, the attributes of a bound method's object, one level into lists, dicts and
functions) are compared with what they were when it was traced: the same objects, the same
bytes. A difference retraces (a warning the first time); a signature that keeps changing
runs eagerly.

What is not captured (as with ``jax.jit``): Python side effects inside ``f`` (``print``,
appending to a list) happen on the first call only; state ``f`` reaches only through
objects deeper than the scan (an array inside an object inside a list) is read as it was at
trace time. Pass such state as an argument: arguments are never baked in.
"""
from __future__ import annotations

import functools
import linecache
import operator
import os
import re
import sys
import types
import warnings

import numpy as np

from .trace import ARRAY_STAND_INS
from ..tree import tree_flatten, tree_unflatten

__all__ = ["jit", "Jitted", "JitValue", "Recording", "JitWarning"]

_ndarray = np.ndarray
_generic = np.generic
_new_object = object.__new__


class JitWarning(UserWarning):
    """A compiled step runs eagerly, or was traced again, and why (given once, naming the
    line that caused it).

    Examples:
        >>> import warnings
        >>> import numpy as np
        >>> import gradkit as gk
        >>> noisy = gk.jit(lambda x: x + np.random.normal(size=x.shape))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = noisy(np.zeros(2))
        >>> caught[0].category.__name__, noisy.eager
        ('JitWarning', ['f draws random numbers (a replay would repeat them)'])
    """


# ----------------------------------------------------------------------------- the value
class JitValue:
    """A value being recorded: the real array (``_array``), its recording and its slot.

    It behaves as the array does (every result is computed on the real arrays) and records
    each NumPy call that sees it. Shapes, dtypes and strides are static: they are part of the
    signature. Turning it into a Python value works (the real value is returned) but makes
    the recording unsafe, so the signature runs eagerly."""

    __slots__ = ("_array", "_rec", "_slot")
    __array_priority__ = 10  # below the derivative tracers (1000): they see the call first

    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    itemsize = property(lambda self: self._array.itemsize)
    nbytes = property(lambda self: self._array.nbytes)
    strides = property(lambda self: self._array.strides)
    flags = property(lambda self: self._array.flags)  # layout: part of the signature

    T = property(lambda self: self._rec.attribute(self, "T"))
    mT = property(lambda self: self._rec.attribute(self, "mT"))
    real = property(lambda self: self._rec.attribute(self, "real"))
    imag = property(lambda self: self._rec.attribute(self, "imag"))

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return f"JitValue(slot={self._slot}, value={self._array!r})"

    # -- conversions to Python values: the real value, and the recording is given up
    def _concrete(self, what):
        return self._rec.concrete(self, what)

    _value = property(lambda self: self._concrete("reading the value"))
    base = property(lambda self: self._concrete("reading .base"))

    def __bool__(self):
        return self._rec.concrete(self, "bool() (an if, while, and, or)", bool)

    def __float__(self):
        return self._rec.concrete(self, "float()", float)

    def __int__(self):
        return self._rec.concrete(self, "int()", int)

    def __complex__(self):
        return complex(self._concrete("complex()"))

    def __index__(self):
        return self._rec.concrete(self, "using it as a Python index", operator.index)

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(self._concrete(
            "np.asarray() / np.array() (or writing it into a plain array)"))
        return a if dtype is None else a.astype(dtype, copy=False)

    def item(self, *args):
        if args:
            return self._concrete(".item()").item(*args)
        return self._rec.concrete(self, ".item()", _item)

    def tolist(self):
        return self._concrete(".tolist()").tolist()

    def tobytes(self, order="C"):
        return self._concrete(".tobytes()").tobytes(order)

    def __format__(self, spec):
        return format(self._concrete("formatting it as text"), spec)

    # -- NumPy's protocols and Python's
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return self._rec.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func in _STATIC:  # shape and aliasing: fixed by the signature and the program
            return func(*_plain(args), **_plain(kwargs))
        return self._rec.function(func, args, kwargs)

    def __getitem__(self, index):
        return self._rec.getitem(self, index)

    def __setitem__(self, index, value):
        self._rec.setitem(self, index, value)

    def __getattr__(self, name):  # the array's other methods: x.sum(), x.reshape(), ...
        if name.startswith("__"):  # NumPy's other protocols (__array_struct__, ...): none
            raise AttributeError(name)
        attr = getattr(self._array, name)
        if callable(attr):
            return functools.partial(self._rec.method, self, name)
        return self._concrete(f"reading .{name}")


ARRAY_STAND_INS.add(JitValue)


def _binary(symbol, fn):
    def op(self, other):
        return self._rec.operator(symbol, fn, self, other)

    def rop(self, other):
        return self._rec.operator(symbol, fn, other, self)
    return op, rop


def _inplace(symbol, fn, ifn):
    def iop(self, other):
        return self._rec.inplace(symbol, fn, ifn, self, other)
    return iop


_OPERATORS = [("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"),
              ("floordiv", "//"), ("mod", "%"), ("pow", "**"), ("matmul", "@"),
              ("and", "&"), ("or", "|"), ("xor", "^"), ("lshift", "<<"), ("rshift", ">>")]
for _name, _symbol in _OPERATORS:
    _fn = getattr(operator, _name if _name in ("add", "sub", "mul", "truediv", "floordiv",
                                               "mod", "pow", "matmul", "lshift", "rshift",
                  "xor") else _name + "_")
    _op, _rop = _binary(_symbol, _fn)
    setattr(JitValue, f"__{_name}__", _op)
    setattr(JitValue, f"__r{_name}__", _rop)
    setattr(JitValue, f"__i{_name}__", _inplace(_symbol, _fn, getattr(operator, f"i{_name}")))
for _name, _symbol in [("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="),
                       ("ne", "!=")]:
    setattr(JitValue, f"__{_name}__", _binary(_symbol, getattr(operator, _name))[0])
for _name, _fmt in [("neg", "-{}"), ("pos", "+{}"), ("invert", "~{}"), ("abs", "abs({})")]:
    setattr(JitValue, f"__{_name}__", (lambda fmt, fn: lambda self: self._rec.unary(
        fmt, fn, self))(_fmt, getattr(operator, _name)))
JitValue.__divmod__ = lambda self, other: self._rec.function(divmod, (self, other), {})


# Functions whose answer is fixed by shapes, dtypes and aliasing, all of which a replay
# reproduces: evaluated now, never recorded.
_STATIC = {np.shape, np.ndim, np.size, np.iscomplexobj, np.isrealobj, np.may_share_memory,
           np.shares_memory, np.result_type}
# Functions that write into their first argument.
_WRITERS = {np.copyto, np.put, np.putmask, np.place, np.fill_diagonal, np.put_along_axis}
_WRITING_METHODS = {"fill", "sort", "partition", "put", "itemset", "resize", "setfield",
                    "setflags", "byteswap"}


def _plain(tree):
    """``tree`` (arguments) with every JitValue replaced by its array (no recording)."""
    t = type(tree)
    if t is JitValue:
        return tree._array
    if t is tuple or t is list:
        return t(_plain(a) for a in tree)
    if t is dict:
        return {k: _plain(v) for k, v in tree.items()}
    return tree


def _item(a):
    return a.item()


class _Miss(Exception):
    """A replay's value took another branch than the trace's: run eagerly this time."""


class _Outranked(Exception):
    """A derivative tracer is among the arguments: NumPy must offer it the call first."""


# ----------------------------------------------------------------------------- the recording
_INLINE = (int, bool, str, type(None), type(Ellipsis))
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))


def _user_line():
    """``file:line: source`` of the innermost frame outside gradkit and NumPy."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if not (path.startswith(_PKG) or path.startswith(_NUMPY_DIR) or "scipy" in path
                or path.startswith("<frozen")):
            line = linecache.getline(path, frame.f_lineno).strip()
            return f"{path}:{frame.f_lineno}" + (f": {line}" if line else "")
        frame = frame.f_back
    return "inside gradkit"


class Recording:
    """The NumPy calls of one trace: values in numbered *slots*, and the steps between them.

    A step is ``(pieces, defines, reads, pure)``: the statement's source as a list of strings
    and slot numbers (ints), the slots it defines, the slots it reads, and whether it has no
    effect beyond its result (a write is never dropped)."""

    def __init__(self):
        self.values = []     # slot -> the real value (kept alive: ids stay unique)
        self.boxes = []      # slot -> its JitValue
        self.by_id = {}      # id(real value) -> slot
        self.steps = []
        self.consts = {}     # name -> object, for the program's namespace
        self.const_names = {}  # id(object) -> name
        self.inputs = []
        self.poisoned = None  # (why, where) once a replay could be wrong
        self.guards = 0       # checks that a replay takes the trace's branches
        self.elementwise = {}  # slot -> (ufunc, pieces of a, of b): `a op b`, see compile
        self.writes_inputs = False
        self.done = False     # after the trace: a leaked value acts as its array

    # -- slots
    def new_slot(self, value):
        k = len(self.values)
        self.values.append(value)
        box = _new_object(JitValue)
        box._array, box._rec, box._slot = value, self, k
        self.boxes.append(box)
        if type(value) is _ndarray or isinstance(value, _generic):  # (ints are shared)
            self.by_id[id(value)] = k
        return box

    def input(self, value):
        box = self.new_slot(value)
        self.inputs.append(box._slot)
        return box

    def poison(self, why, where=None):
        if self.poisoned is None:
            self.poisoned = (why, _user_line() if where is None else where)

    def concrete(self, box, what, convert=None):
        """The Python value of ``box`` (``convert(array)``; the array itself without). A
        bool or an int (a branch, a size) becomes a *guard*: the program checks that a
        replay gets the same value and runs eagerly when it does not. Anything else makes
        the recording unsafe to replay."""
        if convert is None:
            if not self.done and box._rec is self:
                self.poison(f"{what} of a traced value")
            return box._array
        value = convert(box._array)
        if self.live and box._rec is self:
            if type(value) is bool:
                self.steps.append(("do", (), ["if not " if value else "if ", box._slot,
                                              f": raise {self.name_of(_Miss, 'f')}"],
                                   (box._slot,), False))
                self.guards += 1
            elif type(value) is int or type(value) is float and value == value \
                    and abs(value) != float("inf"):
                call = ([box._slot, ".item()"] if convert is _item else
                        [f"{self.name_of(convert, 'f')}(", box._slot, ")"])
                self.steps.append(("do", (), ["if "] + call + [
                    f" != {value!r}: raise {self.name_of(_Miss, 'f')}"], (box._slot,), False))
                self.guards += 1
            else:
                self.poison(f"{what} of a traced value")
        return value

    def note_write(self, target):
        """Remember a write into (a view of) an argument: a replay then cannot stop halfway
        at a guard, so a recording with both is unsafe."""
        if not self.writes_inputs:
            for k in self.inputs:
                v = self.values[k]
                if type(v) is _ndarray and np.may_share_memory(v, target):
                    self.writes_inputs = True
                    return

    @property
    def live(self):
        return not self.done and self.poisoned is None

    # -- rendering arguments
    def name_of(self, obj, hint="c"):
        """The program's global name for ``obj`` (a constant or a callee)."""
        name = self.const_names.get(id(obj))
        if name is None:
            base = getattr(obj, "__name__", None) if hint != "c" else None
            base = base if isinstance(base, str) and base.isidentifier() else hint
            name, i = base, 1
            while name in self.consts or name in _RESERVED or _SLOT_NAME.fullmatch(name):
                i += 1
                name = f"{base}_{i}"
            self.consts[name] = obj
            self.const_names[id(obj)] = name
        return name

    def arg(self, a, pieces, reads, subscript=False):
        """Append the source of ``a`` to ``pieces`` and return its real value."""
        t = type(a)
        if t is JitValue:
            if a._rec is not self:
                raise _Outranked  # a value of another recording (a jit inside a jit)
            pieces.append(a._slot)
            reads.append(a._slot)
            return a._array
        if t is float:
            if a == a and a not in (float("inf"), float("-inf")):
                pieces.append(repr(a))
                return a
        elif t in _INLINE:
            pieces.append("..." if a is Ellipsis else repr(a))
            return a
        elif t is tuple or t is list:
            if subscript and t is tuple and a:
                vals = []
                for i, v in enumerate(a):
                    if i:
                        pieces.append(", ")
                    vals.append(self.arg(v, pieces, reads, subscript=True))
                if len(a) == 1:
                    pieces.append(",")
                return tuple(vals)
            pieces.append("(" if t is tuple else "[")
            vals = []
            for i, v in enumerate(a):
                if i:
                    pieces.append(", ")
                vals.append(self.arg(v, pieces, reads))
            pieces.append(",)" if t is tuple and len(a) == 1 else ")" if t is tuple else "]")
            return t(vals)
        elif t is dict:
            pieces.append("{")
            vals = {}
            for i, (k, v) in enumerate(a.items()):
                if i:
                    pieces.append(", ")
                self.arg(k, pieces, reads)
                pieces.append(": ")
                vals[k] = self.arg(v, pieces, reads)
            pieces.append("}")
            return vals
        elif t is slice:
            parts = (a.start, a.stop, a.step)
            if subscript and all(type(p) in _INLINE for p in parts):
                s, e, st = ("" if p is None else repr(p) for p in parts)
                pieces.append(f"{s}:{e}" + (f":{st}" if st else ""))
                return a
            pieces.append("slice(")
            vals = []
            for i, p in enumerate(parts):
                if i:
                    pieces.append(", ")
                vals.append(self.arg(p, pieces, reads))
            pieces.append(")")
            return slice(*vals)
        elif t.__name__ in ("Tracer", "BatchTracer") and t.__module__.startswith("gradkit"):
            raise _Outranked
        pieces.append(self.name_of(a))
        return a

    def args(self, args, kwargs, pieces, reads):
        vals = []
        for i, a in enumerate(args):
            if i:
                pieces.append(", ")
            vals.append(self.arg(a, pieces, reads))
        kw = {}
        for i, (k, v) in enumerate(kwargs.items()):
            if i or args:
                pieces.append(", ")
            pieces.append(f"{k}=")
            kw[k] = self.arg(v, pieces, reads)
        return vals, kw

    # -- results
    def result(self, out, rhs, reads, pure, what, numbers=False):
        """Wrap ``out`` (the real result of the statement ``rhs``) and record the step.
        ``numbers``: Python arithmetic (an operator), whose Python-number result a replay
        computes the same way (a count, a step size), is recorded too."""
        if not self.live:
            return out
        t = type(out)
        if numbers and (t is int or t is float or t is complex):
            box = self.new_slot(out)
            self.steps.append(("let", (box._slot,), rhs, tuple(reads), pure))
            return box
        if t is _ndarray or isinstance(out, _generic):
            k = self.by_id.get(id(out))
            if k is not None and self.values[k] is out:  # out=, or an argument handed back
                if not pure:
                    self.steps.append(("do", (), rhs, tuple(reads), False))
                return self.boxes[k]
            if self.const_names.get(id(out)) is not None:  # a constant handed back
                if not pure:
                    self.steps.append(("do", (), rhs, tuple(reads), False))
                return out
            box = self.new_slot(out)
            self.steps.append(("let", (box._slot,), rhs, tuple(reads), pure))
            return box
        if out is None:
            if not pure:
                self.steps.append(("do", (), rhs, tuple(reads), False))
            return None
        if isinstance(out, (tuple, list)) and all(
                type(v) is _ndarray or isinstance(v, _generic) or v is None for v in out):
            targets, items = [], []
            for v in out:
                k = None if v is None else self.by_id.get(id(v))
                if v is None or k is not None and self.values[k] is v:
                    targets.append(None)
                    items.append(None if v is None else self.boxes[k])
                else:
                    box = self.new_slot(v)
                    targets.append(box._slot)
                    items.append(box)
            self.steps.append(("unpack", tuple(targets), rhs, tuple(reads), pure))
            if hasattr(out, "_fields"):
                return type(out)(*items)
            return type(out)(items) if t is not tuple and t is not list else t(items)
        if isinstance(out, (bool, int, float, complex)):
            self.poison(f"{what} returns a Python {type(out).__name__} computed from the values")
            return out
        self.poison(f"{what} returns a {type(out).__name__}, which gk.jit does not record")
        return out

    # -- the calls NumPy routes here
    def _targets_ok(self, targets, what):
        for a in targets:
            if type(a) is not JitValue or a._rec is not self:
                self.poison(f"{what} writes into an array that was not made from the "
                            "arguments (a replay would write into it again)")
                return False
            self.note_write(a._array)
        return True

    def ufunc(self, ufunc, method, inputs, kwargs):
        if not self.live:
            return getattr(ufunc, method)(*_plain(inputs), **_plain(kwargs)) \
                if method != "__call__" else ufunc(*_plain(inputs), **_plain(kwargs))
        pieces, reads = [], []
        name = self.name_of(ufunc, "f")
        pieces.append(name if method == "__call__" else f"{name}.{method}")
        pieces.append("(")
        try:
            vals, kw = self.args(inputs, kwargs, pieces, reads)
        except _Outranked:
            return NotImplemented
        pieces.append(")")
        what = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        pure = "out" not in kwargs and method != "at"
        if not pure:
            targets = kwargs["out"] if "out" in kwargs else inputs[:1]
            if not self._targets_ok(targets if isinstance(targets, tuple) else (targets,),
                                    what):
                return getattr(ufunc, method)(*vals, **kw) if method != "__call__" \
                    else ufunc(*vals, **kw)
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        out = fn(*vals, **kw)
        return self.result(out, pieces, reads, pure, what)

    def function(self, func, args, kwargs):
        if not self.live:
            return func(*_plain(args), **_plain(kwargs))
        pieces, reads = [self.name_of(func, "f"), "("], []
        try:
            vals, kw = self.args(args, kwargs, pieces, reads)
        except _Outranked:
            return NotImplemented
        pieces.append(")")
        what = f"np.{getattr(func, '__name__', func)}"
        pure = func not in _WRITERS and kwargs.get("out") is None
        if not pure:
            target = kwargs["out"] if kwargs.get("out") is not None else args[0]
            if not self._targets_ok(target if isinstance(target, tuple) else (target,),
                                    what):
                return func(*vals, **kw)
        return self.result(func(*vals, **kw), pieces, reads, pure, what)

    def method(self, box, name, *args, **kwargs):
        if not self.live:
            return getattr(box._array, name)(*_plain(args), **_plain(kwargs))
        pieces, reads = [box._slot, f".{name}("], [box._slot]
        try:
            vals, kw = self.args(args, kwargs, pieces, reads)
        except _Outranked:
            raise TypeError(f"gk.jit: .{name}() of a recorded value was given a traced value")
        pieces.append(")")
        pure = name not in _WRITING_METHODS and kwargs.get("out") is None
        if not pure:
            self.note_write(box._array)
        out = getattr(box._array, name)(*vals, **kw)
        return self.result(out, pieces, reads, pure, f".{name}()")

    def attribute(self, box, name):
        if not self.live:
            return getattr(box._array, name)
        return self.result(getattr(box._array, name), [box._slot, f".{name}"], [box._slot],
                           True, f".{name}")

    def operator(self, symbol, fn, a, b):
        if not self.live:
            return fn(_plain(a), _plain(b))
        pa, pb, reads = [], [], []
        try:
            x = self.arg(a, pa, reads)
            y = self.arg(b, pb, reads)
        except _Outranked:
            return NotImplemented
        out = self.result(fn(x, y), pa + [f" {symbol} "] + pb, reads, True,
                          f"the operator {symbol}", True)
        ufunc = _IN_PLACE.get(symbol)
        if ufunc is not None and type(out) is JitValue and out._slot == len(self.values) - 1:
            self.elementwise[out._slot] = (ufunc, pa, pb)  # may reuse a dying operand
        return out

    def unary(self, fmt, fn, a):
        if not self.live:
            return fn(a._array)
        left, right = fmt.split("{}")
        return self.result(fn(a._array), [left, a._slot, right], [a._slot], True, fmt, True)

    def inplace(self, symbol, fn, ifn, box, other):
        if type(box._array) is not _ndarray:  # a NumPy scalar is immutable: a new value
            return self.operator(symbol, fn, box, other)
        if not self.live:
            ifn(box._array, _plain(other))
            return box
        pieces, reads = [box._slot, f" {symbol}= "], [box._slot]
        try:
            y = self.arg(other, pieces, reads)
        except _Outranked:
            return NotImplemented
        ifn(box._array, y)
        self.note_write(box._array)
        self.steps.append(("do", (), pieces, tuple(reads), False))
        return box

    def getitem(self, box, index):
        if not self.live:
            return box._array[_plain(index)]
        pieces, reads = [box._slot, "["], [box._slot]
        try:
            idx = self.arg(index, pieces, reads, subscript=True)
        except _Outranked:
            raise TypeError("gk.jit: indexing a recorded value with a traced index")
        pieces.append("]")
        return self.result(box._array[idx], pieces, reads, True, "indexing")

    def setitem(self, box, index, value):
        if not self.live:
            box._array[_plain(index)] = _plain(value)
            return
        pieces, reads = [box._slot, "["], [box._slot]
        try:
            idx = self.arg(index, pieces, reads, subscript=True)
            pieces.append("] = ")
            v = self.arg(value, pieces, reads)
        except _Outranked:
            raise TypeError("gk.jit: writing a traced value into a recorded array") from None
        box._array[idx] = v
        self.note_write(box._array)
        self.steps.append(("do", (), pieces, tuple(reads), False))

    def _reusable(self, k, i, last, inputs, outputs, shared):
        """The operand of the elementwise step ``i`` (defining ``k``) whose buffer can take
        the result: a large array of the program's own (not an argument, not a result, not a
        view) with the result's shape and dtype, read for the last time here, that no value
        read later shares memory with; or None."""
        ufunc, pa, pb = self.elementwise[k]
        out = self.values[k]
        for pieces in (pa, pb):
            if len(pieces) != 1 or type(pieces[0]) is not int:
                continue
            a = pieces[0]
            v = self.values[a]
            if (a in inputs or a in outputs or last.get(a) != i or type(v) is not _ndarray
                    or v.base is not None or not v.flags.writeable or v.nbytes < _REUSE_BYTES
                    or type(out) is not _ndarray or v.shape != out.shape
                    or v.dtype != out.dtype):
                continue
            if any(s != a and last.get(s, -1) > i for s in shared.get(id(v), ())):
                continue
            return a
        return None

    # -- the program
    def compile(self, outputs, name="step", ret=None):
        """The steps that ``outputs`` (slots) need, as a Python function
        ``(inputs...) -> ret``: ``(function, source)``. ``ret``: the source of the result
        (pieces: strings and output slots); by default the tuple of ``outputs``."""
        kept, live = [], set(outputs)
        for step in reversed(self.steps):  # drop what nothing needs (never a write)
            targets, pure = step[1], step[4]
            if pure and not any(k in live for k in targets if k is not None):
                continue
            live.update(step[3])
            kept.append(step)
        kept.reverse()
        last = {}  # slot -> the last step that reads it: its name is free after that step
        for i, step in enumerate(kept):
            for k in step[3]:
                last[k] = i
        for k in outputs:
            last[k] = len(kept)
        inputs = set(self.inputs)  # their names are kept: the caller holds them anyway
        names = {k: f"x{i}" for i, k in enumerate(self.inputs)}
        params = list(names.values())
        free, count = [], 0
        lines = []
        shared = {}  # id of an array's memory owner -> the slots viewing it
        for k, v in enumerate(self.values):
            if type(v) is _ndarray:
                shared.setdefault(id(_root(v)), []).append(k)
        for i, (kind, targets, rhs, reads, _) in enumerate(kept):
            src = "".join(names[p] if type(p) is int else p for p in rhs)
            reuse = self._reusable(targets[0], i, last, inputs, outputs, shared) \
                if kind == "let" and targets[0] in self.elementwise else None
            if reuse is not None:  # `v = a op b` -> `op(a, b, out=a)`: a's buffer, a dies
                ufunc, pa, pb = self.elementwise[targets[0]]
                names[targets[0]] = names[reuse]
                lines.append(f"{names[reuse]} = {self.name_of(ufunc, 'f')}(" + "".join(
                    names[p] if type(p) is int else p for p in pa + [", "] + pb)
                    + f", out={names[reuse]})")
                for k in set(reads):
                    if last[k] == i and k != reuse and k not in outputs and k not in inputs:
                        free.append(names[k])
                continue
            for k in set(reads):
                if last[k] == i and k not in outputs and k not in inputs:
                    free.append(names[k])
            outs = []
            for k in targets:
                if k is None or last.get(k, -1) <= i:
                    outs.append("_")
                    continue
                if free:
                    names[k] = free.pop()
                else:
                    count += 1
                    names[k] = f"v{count}"
                outs.append(names[k])
            if kind == "let" and outs[0] != "_":
                lines.append(f"{outs[0]} = {src}")
            elif kind == "unpack" and any(o != "_" for o in outs):
                lines.append(f"{', '.join(outs)}{',' if len(outs) == 1 else ''} = {src}")
            else:
                lines.append(src)
        if ret is None:
            rets = [names[k] for k in outputs]
            lines.append(f"return ({', '.join(rets)}{',' if len(rets) == 1 else ''})")
        else:
            lines.append("return " + "".join(names[p] if type(p) is int else p for p in ret))
        source = f"def {name}({', '.join(params)}):\n" + "".join(
            f"    {line}\n" for line in lines)
        namespace = dict(self.consts)
        exec(compile(source, f"<gk.jit {name}>", "exec"), namespace)
        return namespace[name], source


# the operators whose statement may write into an operand that dies there (compile)
_IN_PLACE = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}
_REUSE_BYTES = 1 << 16  # below this an allocation costs less than the keyword


def _root(a):
    while type(a.base) is _ndarray:
        a = a.base
    return a


_RESERVED = {"abs", "slice", "_", "return", "def", "if", "raise", "not"}
_SLOT_NAME = re.compile(r"[vx]\d+")


# ----------------------------------------------------------------------------- guards
_SKIP_MODULES = ("numpy", "scipy", "sklearn", "pandas", "matplotlib", "builtins", "dask",
                 "cupy")
_SCALARS = (int, float, bool, complex, str, type(None))
_MAX_GUARDS = 512
_GENERATORS = (np.random.Generator, np.random.RandomState)
_SMALL_BYTES = 1 << 16


def _bytes_of(a):
    a = np.ascontiguousarray(a)
    return memoryview(a.reshape(-1).view(np.uint8)) if a.size else b""


class _Guards:
    """What ``f`` reaches besides its arguments, as it was when it was traced."""

    __slots__ = ("items", "rngs", "truncated")

    def __init__(self, fun):
        self.items = []   # (holder, key, kind, object, snapshot)
        self.rngs = []    # (generator, state)
        self.truncated = False
        if fun is not None:  # (None: the caller vouches for what f closes over)
            self._scan(fun, 0, set())

    def deepen(self, consts):
        """Compare large arrays byte for byte too, when the program holds an array that is
        neither one of them nor a view of one: ``f`` computed it with plain NumPy, perhaps
        from one of them, and a change in place would leave it stale. (Without such a
        constant, the program reads those arrays themselves, so a change in place is seen.)"""
        reached = {id(obj) for _, _, _, obj, _ in self.items if type(obj) is _ndarray}
        for c in consts:
            if type(c) is _ndarray:
                b = c
                while b is not None and id(b) not in reached:
                    b = b.base
                if b is None:
                    break
            elif isinstance(c, _generic):
                break
        else:
            return
        self.items = [(h, k, kind, obj, bytes(_bytes_of(obj)) if snap is None else snap)
                      if type(obj) is _ndarray else (h, k, kind, obj, snap)
                      for h, k, kind, obj, snap in self.items]

    def _add(self, holder, key, kind, value, depth, seen):
        if len(self.items) >= _MAX_GUARDS:
            self.truncated = True
            return
        t = type(value)
        if t is _ndarray:  # small arrays: their bytes; large ones: see `deepen`
            self.items.append((holder, key, kind, value, bytes(_bytes_of(value))
                               if value.nbytes <= _SMALL_BYTES else None))
        elif t in _SCALARS or isinstance(value, _generic):
            self.items.append((holder, key, kind, value, value))
        elif isinstance(value, (np.random.Generator, np.random.RandomState)):
            if id(value) not in seen:
                seen.add(id(value))
                self.rngs.append((value, _rng_state(value)))
        elif depth < 3 and id(value) not in seen:
            seen.add(id(value))
            if t is list or t is tuple:
                self.items.append((holder, key, kind, value, len(value)))
                for i, v in enumerate(value[:64]):
                    self._add(value, i, "item", v, depth + 1, seen)
            elif t is dict:
                self.items.append((holder, key, kind, value, len(value)))
                for k, v in list(value.items())[:64]:
                    self._add(value, k, "item", v, depth + 1, seen)
            else:
                self._scan(value, depth + 1, seen)

    def _scan(self, fun, depth, seen):
        if isinstance(fun, functools.partial):
            self._scan(fun.func, depth, seen)
            for i, a in enumerate(fun.args):
                self._add(fun.args, i, "item", a, depth + 1, seen)
            for k, v in fun.keywords.items():
                self._add(fun.keywords, k, "item", v, depth + 1, seen)
            return
        if isinstance(fun, types.MethodType):
            self._scan(fun.__func__, depth, seen)
            self._scan(fun.__self__, depth, seen)
            return
        if isinstance(fun, types.FunctionType):
            module = getattr(fun, "__module__", "") or ""
            if module.split(".")[0] in _SKIP_MODULES:
                return
            for cell in fun.__closure__ or ():
                try:
                    v = cell.cell_contents
                except ValueError:  # an empty cell (a name assigned later)
                    continue
                self._add(cell, None, "cell", v, depth, seen)
            for i, v in enumerate(fun.__defaults__ or ()):
                self._add(fun.__defaults__, i, "item", v, depth, seen)
            if not module.startswith("gradkit"):  # gradkit's own globals are not user state
                g = fun.__globals__
                for name in _global_names(fun.__code__):
                    if name in g and not isinstance(g[name], types.ModuleType):
                        self._add(g, name, "item", g[name], depth, seen)
            return
        if isinstance(fun, (types.BuiltinFunctionType, type, types.ModuleType, np.ufunc)):
            return
        module = type(fun).__module__.split(".")[0]
        if module in _SKIP_MODULES:
            return
        d = getattr(fun, "__dict__", None)
        if isinstance(d, dict):
            for k, v in list(d.items())[:128]:
                self._add(d, k, "item", v, depth, seen)
        call = getattr(type(fun), "__call__", None)
        if isinstance(call, types.FunctionType):
            self._scan(call, depth + 1, seen)

    def changed(self):
        """The first thing that differs from the trace (a description), or None."""
        for holder, key, kind, obj, snap in self.items:
            try:
                now = holder.cell_contents if kind == "cell" else holder[key]
            except (KeyError, IndexError, ValueError):
                return f"{_label(kind, key)} is gone"
            t = type(obj)
            if t is _ndarray:
                if now is not obj:
                    return f"{_label(kind, key)} is another array"
                if snap is not None and _bytes_of(now) != snap:
                    return f"the array {_label(kind, key)} was changed in place"
            elif t is list or t is tuple or t is dict:
                if now is not obj or len(now) != snap:
                    return f"{_label(kind, key)} changed"
            elif now is not obj and (type(now) is not t or now != snap):
                return f"{_label(kind, key)} changed from {snap!r} to {now!r}"
        return None

    def rng_drawn(self):
        for g, state in self.rngs:
            if not _same_state(_rng_state(g), state):
                return True
        return False


def _label(kind, key):
    return "a value f closes over" if kind == "cell" else repr(key)


def _rng_state(g):
    return g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state()


def _same_state(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same_state(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def _global_names(code):
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return names


# ----------------------------------------------------------------------------- jit
_EAGER = object()
_MAX_RETRACES = 3
_MAX_MISSES = 3
_MAX_PROGRAMS = 64


def _walk(x, leaves, spec):
    """Flatten the common arguments (arrays, NumPy scalars, dicts, lists, tuples, Python
    numbers and strings) into ``leaves`` (the values the program takes) and ``spec`` (the
    signature: structure, shapes, dtypes, strides, and the static values); False for
    anything else."""
    t = type(x)
    if t is _ndarray:
        leaves.append(x)
        spec.append((x.shape, x.dtype, x.strides))
        return True
    if t is dict:
        spec.append(("dict",) + tuple(x))
        for v in x.values():
            if not _walk(v, leaves, spec):
                return False
        return True
    if t is tuple or t is list or isinstance(x, tuple) and hasattr(x, "_fields"):
        spec.append((t, len(x)))  # (a namedtuple: an optimizer's state)
        for v in x:
            if not _walk(v, leaves, spec):
                return False
        return True
    if t is int or t is float or t is complex:  # traced, as JAX traces Python numbers
        leaves.append(x)
        spec.append(t)
        return True
    if t in _SCALARS:  # bool, str, None: static
        spec.append((t, x))
        return True
    if t in _GENERATORS:  # static, by identity; a draw from it is seen (_trace)
        spec.append((t, x))
        return True
    if isinstance(x, _generic):
        leaves.append(x)
        spec.append((t, x.dtype))
        return True
    return False


def _generators(args, kwargs):
    """The NumPy random generators among the arguments (top level and one level down)."""
    found = []
    for a in list(args or ()) + list((kwargs or {}).values()):
        if isinstance(a, _GENERATORS):
            found.append(a)
        elif isinstance(a, (list, tuple)):
            found.extend(v for v in a if isinstance(v, _GENERATORS))
        elif isinstance(a, dict):
            found.extend(v for v in a.values() if isinstance(v, _GENERATORS))
    return found


def _aliases(leaves):
    """``()`` when no array is among ``leaves`` twice, else the position of each array's
    first occurrence (Python numbers are shared objects, not aliases)."""
    arrays = [id(a) for a in leaves if type(a) is _ndarray]
    if len(set(arrays)) == len(arrays):
        return ()
    first = {}
    return tuple(first.setdefault(i, n) for n, i in enumerate(arrays))


def _traced_leaf(x):
    t = type(x)
    return t is _ndarray or t is int or t is float or t is complex or isinstance(x, _generic)


def _replaced(x, it):
    t = type(x)
    if _traced_leaf(x):
        return next(it)
    if t is dict:
        return {k: _replaced(v, it) for k, v in x.items()}
    if t is tuple or t is list:
        return t([_replaced(v, it) for v in x])
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return t(*[_replaced(v, it) for v in x])
    return x


def _with_statics(args, nums, statics):
    if not nums:
        return args
    args = list(args)
    for i, v in zip(nums, statics):
        args[i] = v
    return tuple(args)


def _rebuilt(nums, statics, args, kwargs, boxes):
    it = iter(boxes)
    return _with_statics(_replaced(args, it), nums, statics), _replaced(kwargs, it)


class _Program:
    __slots__ = ("fn", "source", "guards", "out_tree", "out_plan", "retraces", "misses", "key",
                 "enter")

    def run(self, leaves):
        outs = self.fn(*leaves)
        plan = self.out_plan
        if plan is False:  # the program builds the result itself
            return outs
        if plan is None:  # every output leaf comes from the program
            if self.out_tree is None:
                return outs[0]
            return tree_unflatten(self.out_tree, outs)
        it = iter(outs)
        leaves = [next(it) if kind == 0 else np.copy(v) if kind == 1 else v
                  for kind, v in plan]
        return tree_unflatten(self.out_tree, leaves)


_NO_MATCH = object()


def _entry(prog, args, kwargs, static_nums, statics):
    """A generated ``enter(args, kwargs)``: checks that a call has this program's signature
    (the same checks as the cache key, written out for these arguments) and runs it, or
    returns ``_NO_MATCH``. It saves the walk and the key on every call of a training loop."""
    ns = {"NO": _NO_MATCH, "ndarray": _ndarray}
    lines, leaves = [], []
    count = [0]

    def const(v):
        name = f"k{len(ns)}"
        ns[name] = v
        return name

    def local():
        count[0] += 1
        return f"a{count[0]}"

    def check(expr, x):
        t = type(x)
        name = local()
        lines.append(f"{name} = {expr}")
        if t is _ndarray:
            lines.append(f"if type({name}) is not ndarray or {name}.shape != {x.shape!r} or "
                         f"{name}.dtype is not {const(x.dtype)} or {name}.strides != "
                         f"{x.strides!r}: return NO")
            leaves.append(name)
        elif t is int or t is float or t is complex or isinstance(x, _generic):
            lines.append(f"if type({name}) is not {const(t)}: return NO")
            leaves.append(name)
        elif t is dict:
            lines.append(f"if type({name}) is not dict or tuple({name}) != {const(tuple(x))}:"
                         " return NO")
            for k, v in x.items():
                check(f"{name}[{const(k)}]", v)
        elif t is tuple or t is list or isinstance(x, tuple) and hasattr(x, "_fields"):
            lines.append(f"if type({name}) is not {const(t)} or len({name}) != {len(x)}: "
                         "return NO")
            for i, v in enumerate(x):
                check(f"{name}[{i}]", v)
        elif t in _GENERATORS:  # the same generator object
            lines.append(f"if {name} is not {const(x)}: return NO")
        else:  # bool, str, None: static values
            lines.append(f"if type({name}) is not {const(t)} or {name} != {const(x)}: "
                         "return NO")

    lines.append(f"if len(args) != {len(args)} or len(kwargs) != {len(kwargs)}: return NO")
    statics = dict(zip(static_nums, statics))
    for i, a in enumerate(args):
        if i in statics:
            v = statics[i]
            lines.append(f"if type(args[{i}]) is not {const(type(v))} or args[{i}] != "
                         f"{const(v)}: return NO")
        else:
            check(f"args[{i}]", a)
    if kwargs:
        lines.append(f"if tuple(kwargs) != {const(tuple(kwargs))}: return NO")
        for k, v in kwargs.items():
            check(f"kwargs[{k!r}]", v)
    if prog.out_plan is False:
        ns["fn"] = prog.fn
        lines.append(f"return fn({', '.join(leaves)})")
    else:
        ns["run"] = prog.run
        lines.append(f"return run(({', '.join(leaves)}{',' if len(leaves) == 1 else ''}))")
    source = "def enter(args, kwargs):\n" + "".join(f"    {ln}\n" for ln in lines)
    exec(compile(source, "<gk.jit enter>", "exec"), ns)
    return ns["enter"]


def _result_source(rec, td, leaves, pieces):
    """Append to ``pieces`` the source that builds the result (structure ``td``, leaves from
    the iterator ``leaves``) in the program itself; False for a structure it cannot write
    (a namedtuple, a dataclass, a registered type: the pytree module rebuilds those)."""
    kind = td.kind
    if kind is None:
        leaf = next(leaves)
        if type(leaf) is JitValue:
            pieces.append(leaf._slot)
        elif type(leaf) is _ndarray:  # a constant array: a copy of its own on every call
            pieces.extend([f"{rec.name_of(np.copy, 'f')}(", rec.name_of(leaf), ")"])
        else:
            rec.arg(leaf, pieces, [])
        return True
    if kind is type(None):
        pieces.append("None")
        return True
    named = isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields")
    if kind not in (dict, list, tuple) and not named:
        return False
    parts = []
    for child in td.children:
        part = []
        if not _result_source(rec, child, leaves, part):
            return False
        parts.append(part)
    if kind is dict:
        if not all(type(k) in (str, int) for k in td.aux):
            return False
        by_key = dict(zip(td.aux, parts))
        pieces.append("{")
        for i, k in enumerate(td.order or td.aux):
            pieces.append(f"{', ' if i else ''}{k!r}: ")
            pieces.extend(by_key[k])
        pieces.append("}")
        return True
    if named:
        pieces.append(f"{rec.name_of(kind, 'f')}(")
    else:
        pieces.append("(" if kind is tuple else "[")
    for i, part in enumerate(parts):
        if i:
            pieces.append(", ")
        pieces.extend(part)
    pieces.append(",)" if kind is tuple and len(parts) == 1 else "]" if kind is list else ")")
    return True


def _tree_key(td):
    return (td.kind, td.aux, td.order, tuple(_tree_key(c) for c in td.children))


class Jitted:
    """A function compiled by :func:`jit`: call it as the function itself.

    Attributes:
        fun: the function.
        source: the Python source of the most recent program (``None`` before one exists).
        eager: the reasons each signature runs eagerly, in the order they were found.
    """

    def __init__(self, fun, static_argnums=(), check_closure=True, quiet=False):
        if not callable(fun):
            raise TypeError(f"gk.jit: expected a function, got {type(fun).__name__}.")
        self.fun = fun
        self.check_closure = check_closure
        self.quiet = quiet  # no JitWarning (a caller with its own eager path: the estimators)
        self.static_argnums = tuple(sorted(
            (static_argnums,) if isinstance(static_argnums, int) else static_argnums))
        self.source = None
        self.eager = []
        self._programs = {}
        self._last = None  # the program of the latest call, tried first (its `enter`)
        self._full = False
        functools.update_wrapper(self, fun, updated=())

    def __repr__(self):
        return f"gk.jit({getattr(self.fun, '__name__', self.fun)!r})"

    def __get__(self, obj, objtype=None):  # a jitted method
        return self if obj is None else functools.partial(self, obj)

    def _signature(self, args, kwargs):
        """``(key, traced leaves, rebuild)``: the cache key of a call (None: run eagerly),
        the arrays it passes to the program, and ``rebuild(boxes)`` -> ``(args, kwargs)``
        with those replaced (for tracing)."""
        if not kwargs and not self.static_argnums and len(args) == 1 \
                and type(args[0]) is _ndarray:  # the commonest call: one array
            a = args[0]
            return (a.shape, a.dtype, a.strides), args, lambda boxes: ((boxes[0],), {})
        statics = ()
        if self.static_argnums:
            args = list(args)
            statics = tuple(args[i] for i in self.static_argnums if i < len(args))
            for i in self.static_argnums:
                if i < len(args):
                    args[i] = None
            args = tuple(args)
        leaves, spec = [], []
        if _walk(args, leaves, spec) and _walk(kwargs, leaves, spec):
            spec.append(statics)
            aliases = _aliases(leaves)
            if aliases:  # an array passed twice: which leaves are the same array
                spec.append(aliases)
            try:
                key = tuple(spec)
                hash(key)
            except TypeError:
                return None, None, None
            return key, leaves, functools.partial(_rebuilt, self.static_argnums, statics,
                                                  args, kwargs)
        # anything else: the pytree module (namedtuples, dataclasses, registered types)
        all_leaves, treedef = tree_flatten((args, kwargs))
        spec = ["tree", _tree_key(treedef), statics]
        leaves = []
        for leaf in all_leaves:
            t = type(leaf)
            if t is _ndarray:
                spec.append((leaf.shape, leaf.dtype, leaf.strides))
                leaves.append(leaf)
            elif isinstance(leaf, _generic):
                spec.append((t, leaf.dtype))
                leaves.append(leaf)
            elif t is int or t is float or t is complex:
                spec.append(t)
                leaves.append(leaf)
            elif t is JitValue or t.__module__.startswith("gradkit.autodiff"):
                return None, None, None  # inside another transformation: run as it is
            else:
                spec.append((t, leaf))
        aliases = _aliases(leaves)
        if aliases:
            spec.append(aliases)
        try:
            key = tuple(spec)
            hash(key)
        except TypeError:
            return None, None, None

        def rebuild(boxes):
            it = iter(boxes)
            new = [next(it) if _traced_leaf(v) else v for v in all_leaves]
            a, k = tree_unflatten(treedef, new)
            return _with_statics(a, self.static_argnums, statics), k
        return key, leaves, rebuild

    def __call__(self, *args, **kwargs):
        last = self._last
        if last is not None and (not last.guards.items or last.guards.changed() is None):
            try:
                out = last.enter(args, kwargs)  # the last signature's own check, generated
            except _Miss:
                out = self._missed(last, args, kwargs)
            if out is not _NO_MATCH:
                return out
        key, traced, rebuild = self._signature(args, kwargs)
        if key is None:
            return self.fun(*args, **kwargs)
        prog = self._programs.get(key)
        if prog is _EAGER:
            return self.fun(*args, **kwargs)
        if prog is not None:
            why = prog.guards.changed() if prog.guards.items else None
            if why is None:
                self._last = prog if prog.enter is not None else None
                try:
                    return prog.run(traced)
                except _Miss:
                    return self._missed(prog, args, kwargs)
            prog.retraces += 1
            if prog.retraces >= _MAX_RETRACES:
                self._give_up(key, f"{why} (traced {_MAX_RETRACES} times)", "")
                return self.fun(*args, **kwargs)
            self._warn(f"{why}; tracing again", "")
        if prog is None and len(self._programs) >= _MAX_PROGRAMS:
            if not self._full:
                self._full = True
                self._warn(f"has traced {_MAX_PROGRAMS} signatures (shapes, dtypes, static "
                           "values); new ones run eagerly", "")
            return self.fun(*args, **kwargs)
        return self._trace(key, traced, rebuild, 0 if prog is None else prog.retraces,
                           args, kwargs)

    def _missed(self, prog, args, kwargs):
        """A replay's value went another way than the trace's at a guard: run eagerly."""
        prog.misses += 1
        if prog.misses >= _MAX_MISSES:
            self._last = None
            self._give_up(prog.key, f"a branch went another way than when traced "
                                    f"({prog.misses} times)", "")
        return self.fun(*args, **kwargs)

    def _trace(self, key, traced, rebuild, retraces, args=None, kwargs=None):
        guards = _Guards(self.fun if self.check_closure else None)
        for a in _generators(args, kwargs):  # generators passed as arguments
            guards.rngs.append((a, _rng_state(a)))
        global_rng = np.random.get_state(legacy=False)
        rec = Recording()
        call_args, call_kwargs = rebuild([rec.input(a) for a in traced])
        out = self.fun(*call_args, **call_kwargs)
        out_leaves, out_tree = tree_flatten(out)
        plan, slots, plain = [], [], []
        for leaf in out_leaves:
            t = type(leaf)
            if t is JitValue and leaf._rec is rec:
                plan.append((0, None))
                slots.append(leaf._slot)
                plain.append(leaf._array)
            elif t is _ndarray:
                plan.append((1, leaf))
                plain.append(np.copy(leaf))
            elif t in _SCALARS or isinstance(leaf, _generic):
                plan.append((2, leaf))
                plain.append(leaf)
            else:
                rec.poison(f"f returns a {t.__name__}, which a replay cannot rebuild", "")
                plain.append(leaf)
        if not _same_state(np.random.get_state(legacy=False), global_rng) or \
                guards.rng_drawn():
            rec.poison("f draws random numbers (a replay would repeat them)", "")
        changed = guards.changed()
        if changed is not None:
            rec.poison(f"f changes what it closes over ({changed})", "")
        if guards.truncated:
            rec.poison("f reaches too many arrays and numbers to check before each replay", "")
        if rec.guards and rec.writes_inputs:
            rec.poison("f branches on values and writes into its arguments (a replay that "
                       "branched otherwise could not be undone)", "")
        result = tree_unflatten(out_tree, plain)
        rec.done = True
        if rec.poisoned is not None:
            self._give_up(key, *rec.poisoned)
            return result
        guards.deepen(rec.consts.values())
        prog = _Program()
        ret = []
        built = _result_source(rec, out_tree, iter(out_leaves), ret)
        prog.fn, prog.source = rec.compile(slots, _program_name(self.fun),
                                           ret if built else None)
        prog.guards = guards
        prog.retraces = retraces
        prog.misses = 0
        if built:
            prog.out_plan = False
        else:
            single = out_tree.kind is None and plan[0][0] == 0
            prog.out_tree = None if single else out_tree
            prog.out_plan = None if all(kind == 0 for kind, _ in plan) else plan
        prog.key = key
        prog.enter = None
        if isinstance(rebuild, functools.partial) and not rec.writes_inputs:
            prog.enter = _entry(prog, args, kwargs, self.static_argnums, rebuild.args[1])
        self._last = prog if prog.enter is not None else None
        self._programs[key] = prog
        self.source = prog.source
        return result

    def _give_up(self, key, why, where):
        self._programs[key] = _EAGER
        if self._last is not None and self._last.key == key:
            self._last = None
        self.eager.append(why)
        self._warn(f"runs eagerly: {why}", where)

    def _warn(self, what, where):
        if self.quiet:
            return
        name = getattr(self.fun, "__name__", "the function")
        at = f" (at {where})" if where else ""
        level, frame = 1, sys._getframe(0)
        while frame is not None and frame.f_code.co_filename == __file__:
            level, frame = level + 1, frame.f_back
        warnings.warn(f"gk.jit({name}) {what}{at}.", JitWarning, stacklevel=level)


def _program_name(fun):
    name = getattr(fun, "__name__", "step")
    return name if name.isidentifier() and name not in _RESERVED else "step"


def jit(fun=None, *, static_argnums=(), check_closure=True):
    """Compile ``fun``: trace its NumPy calls once per signature, then replay them.

    ``jit(f)`` is called as ``f``. The first call with new argument shapes, dtypes or
    structure runs ``f`` for real while recording each NumPy call it makes (through every
    transformation inside it: ``jit(value_and_grad(loss))`` records the forward and the
    backward pass); later calls run the recorded calls as one Python function, with nothing
    else in between. The results are the same, to the bit, as ``f``'s.

    Python numbers, strings and other hashable non-array arguments are *static*: each value
    is its own signature (pass a 0-d array for a number that changes every call). A
    recording that a replay could get wrong (a branch on a traced value, random numbers,
    ``f`` changing the arrays it closes over) is never used: that signature runs eagerly and
    a :class:`JitWarning` says why, once. See the module docs for the guards.

    Args:
        fun: the function (its arguments: pytrees of arrays and static values).
        static_argnums: positions of further arguments to treat as static (hashable values).
        check_closure: compare what ``fun`` reaches besides its arguments (closures, globals,
            a bound object's attributes) before each replay. ``False`` treats it as constant,
            as ``jax.jit`` does: for a caller that knows it does not change (gradkit's
            estimators, whose training step reads only the hyperparameters of the fit).

    Returns:
        A :class:`Jitted` callable; ``.source`` shows the program.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> step = gk.jit(gk.grad(lambda x: np.sum(np.sin(x) * x)))
        >>> x = np.array([0.5, 1.0])
        >>> bool(np.all(step(x) == gk.grad(lambda x: np.sum(np.sin(x) * x))(x)))
        True
        >>> np.round(step(x), 6)  # the replay
        array([0.918217, 1.381773])
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 check_closure=check_closure)
    if isinstance(fun, Jitted):
        return fun
    return Jitted(fun, static_argnums, check_closure)
