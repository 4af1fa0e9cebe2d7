r"""Staging: the value that records the NumPy calls made on it, and the recording that
becomes a Python program (:func:`gradkit.jit`'s first call; see :mod:`.jit`).

A :class:`JitValue` is an array type of its own, as a CuPy array is, holding the real array.
NumPy hands every call that sees one here (operators, ufuncs and their methods,
``__array_function__``, indexing, writes, array methods); :class:`Recording` computes it on
the real values and appends a *step*: the statement's source as pieces (strings, and slot
numbers for recorded values), the slots it defines and reads, and whether it is pure.
Conversions to Python values become guard steps (a bool or a number) or *poison* the
recording (anything a replay could get wrong). :meth:`Recording.compile` drops the pure steps
no output needs, reuses names as values die (and a dying large operand's buffer), and
``exec``\ s the source.
"""
from __future__ import annotations

import functools
import linecache
import math
import operator
import os
import re
import sys

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .trace import ARRAY_STAND_INS

__all__ = ["JitValue", "Recording", "compiled"]

_ndarray = np.ndarray
_generic = np.generic
_new_object = object.__new__


# ----------------------------------------------------------------------------- the value
class JitValue:
    """A value being recorded: the real array (``_array``), its recording and its slot.

    It behaves as the array does (every result is computed on the real arrays) and records
    each NumPy call that sees it. Shapes, dtypes and strides are static: they are part of the
    signature. Turning it into a Python value works (the real value is returned) but makes
    the recording unsafe, so the signature runs eagerly.

    Examples:
        >>> import numpy as np
        >>> rec = Recording()
        >>> x = rec.new_slot(np.ones(2))       # an input of the recording
        >>> y = x * 2.0                         # computed, and recorded as one step
        >>> type(y).__name__, y._array, len(rec.steps)
        ('JitValue', array([2., 2.]), 1)
    """

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

    def seed(self):
        """The seed of a backward pass from this value: ones of its shape and dtype (static).
        Where the recording may hold it (``Recording.constant_seeds``) it is a constant, and
        so is what the pass computes from it alone (a mean's ``1 / n``, a sum's broadcast);
        else a recorded ``np.ones`` of that shape, made on every call. Either way the program
        does not read this value for it: what only fed the seed's shape is not computed."""
        a = self._array
        one = np.array(1, dtype=a.dtype)
        one = one if a.ndim == 0 else one.reshape(a.shape)
        if self._rec.constant_seeds:
            return one
        return self._rec.ones(one)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __hash__(self):
        # a set or a dict key reads the value: its own hash (a NumPy array's raises), and the
        # recording is given up (a replay could not follow a lookup)
        value = self._concrete("hash() (a set, a dict key)")
        return hash(value.item() if type(value) is _ndarray and value.ndim == 0 else value)

    def __str__(self):
        return str(self._concrete("str()"))

    def __round__(self, ndigits=None):
        return round(self._concrete("round()"), ndigits)

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


_PLAIN_ARGUMENTS = (_generic, int, float, complex, str, bytes, slice, type(None), type(...),
                    np.dtype, type)


def _numpy_only(values):
    """Whether ``values`` (a call's arguments, real values) hold NumPy arrays, NumPy scalars
    and plain Python values only, also inside lists and tuples: then no argument overrides
    ``__array_function__``, and a function's implementation gives what the function gives."""
    for v in values:
        t = type(v)
        if t is _ndarray:
            continue
        if t is list or t is tuple:
            if not _numpy_only(v):
                return False
        elif not isinstance(v, _PLAIN_ARGUMENTS):
            return False
    return True


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

# np.sum / np.mean and the methods .sum() / .mean() end in np.add.reduce after layers of
# Python (about 1-3 us a call on a small array); a replay calls the C routine itself
_REDUCTIONS = {np.sum: "sum", np.mean: "mean"}
_MEAN_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def _reduction_call(kind, args, kwargs):
    """``(axis, keepdims)`` of ``np.sum(a, ...)`` / ``np.mean(a, ...)`` when the call has no
    other arguments than those two, as plain Python values; else None."""
    if len(args) > 2 or set(kwargs) - {"axis", "keepdims"} or len(args) == 2 and "axis" in kwargs:
        return None
    axis = args[1] if len(args) == 2 else kwargs.get("axis")
    keepdims = kwargs.get("keepdims", False)
    if not (axis is None or type(axis) is int or type(axis) is tuple
            and all(type(a) is int for a in axis)) or type(keepdims) is not bool:
        return None
    return axis, keepdims
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
    effect beyond its result (a write is never dropped).

    Examples:
        >>> import numpy as np
        >>> rec = Recording()
        >>> x = rec.new_slot(np.ones(2))
        >>> _ = np.tanh(x) + x
        >>> len(rec.values), len(rec.steps)   # x, tanh(x), the sum: three slots, two steps
        (3, 2)
    """

    def __init__(self):
        self.values = []     # slot -> the real value (kept alive: ids stay unique)
        self.boxes = []      # slot -> its JitValue
        self.by_id = {}      # id(real value) -> slot
        self.steps = []
        self.consts = {}     # name -> object, for the program's namespace
        self.numbers = {}    # (type, number, dtype, is -0.0) -> the name of its 0-d array
        self.number_values = {}  # that name -> the 0-d array (typed_number)
        self.const_names = {}  # id(object) -> name
        self.inputs = []
        self.poisoned = None  # (why, where) once a replay could be wrong
        self.guards = 0       # checks that a replay takes the trace's branches
        self.elementwise = {}  # slot -> (ufunc, pieces of a, of b): `a op b`, see compile
        # slots of `a + b`, `-a`, `sqrt(a)`-like steps (_EXACT_UFUNCS) whose operands are
        # recorded values or Python numbers: what _scalars may compute as scalars
        self.exact_calls = set()
        self.errors = np.geterr()  # the errstate at the trace's start (see _errstate_kept)
        self.errstates = {}  # id(step) -> the errstate it was recorded under, where another
        self.writes_inputs = False
        self.done = False     # after the trace: a leaked value acts as its array
        # whether what a backward pass computes from its seed alone may be constants of the
        # program (gk.jit: when no large array f closes over would then need comparing)
        self.constant_seeds = False

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

    def ones(self, value):
        """``value`` (an array of ones) as a recorded ``np.ones(shape, dtype)``: made on every
        call, reading nothing (its dtype is a constant of the program, not an array)."""
        box = self.new_slot(value)
        self.steps.append(("let", (box._slot,), [
            f"{self.name_of(np.ones, 'f')}({value.shape!r}, dtype={self.name_of(value.dtype)})"],
            (), True))
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
    def name_of(self, obj, hint="c", base=None):
        """The program's global name for ``obj`` (a constant or a callee; ``base``: the name
        to give it, else its ``__name__`` for a callee)."""
        name = self.const_names.get(id(obj))
        if name is None:
            base = base or (getattr(obj, "__name__", None) if hint != "c" else None)
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
    def _errstate_kept(self, since):
        """Tag the steps recorded by this call (``self.steps[since:]``: none where it was
        folded or handed back a value) with the ``np.errstate`` they ran under, where that
        is not the trace's (a block inside the function, or inside the engine: a replay runs
        the recorded calls only, so it would not set it, and a division by zero that raised
        would give inf). The program runs such steps inside ``with errstate(...)`` for the
        settings that differ, as the block set them."""
        if len(self.steps) == since:
            return
        now = np.geterr()
        if now != self.errors:
            state = tuple((k, v) for k, v in sorted(now.items()) if self.errors[k] != v)
            for step in self.steps[since:]:
                self.errstates[id(step)] = state

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
        since = len(self.steps)
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
        if method == "__call__" and len(pieces) == 6 and not kw:  # f(a, b), one piece each
            self.type_numbers(ufunc, inputs, vals, out, pieces)
        box = self.result(out, pieces, reads, pure, what)
        if ufunc in _EXACT_UFUNCS and method == "__call__" and not kw and type(box) is JitValue \
                and box._slot == len(self.values) - 1 and all(map(_scalar_input, inputs)):
            self.exact_calls.add(box._slot)
        self._errstate_kept(since)
        return box

    def type_numbers(self, ufunc, inputs, vals, out, pieces):
        """A Python number beside an array in a two-input ufunc call (``logaddexp(0.0, z)``)
        as :meth:`typed_number` makes it, where the call with the 0-d array gives the same
        dtype and values (a ufunc without a loop of that dtype for both inputs, such as
        ``ldexp``, keeps the number)."""
        for i in (0, 1):
            if type(inputs[i]) in (float, int) and type(inputs[1 - i]) is JitValue and \
                    type(out) is _ndarray and out.dtype.kind in "fc":
                args = list(vals)
                args[i] = np.array(vals[i], dtype=out.dtype)
                try:
                    same = ufunc(*args)
                    same = same.dtype == out.dtype and np.array_equal(same, out, equal_nan=True)
                except (TypeError, ValueError):
                    same = False
                if same:
                    pieces[2 + 2 * i:3 + 2 * i] = self.typed_number(vals[i], vals[1 - i], out,
                                                                    pieces[2 + 2 * i:3 + 2 * i])

    def function(self, func, args, kwargs):
        if not self.live:
            return func(*_plain(args), **_plain(kwargs))
        kind = _REDUCTIONS.get(func)
        if kind is not None and args:
            out = self.reduction(kind, args[0], args, kwargs)
            if out is not NotImplemented:
                return out
        pieces, reads = [None, "("], []
        try:
            vals, kw = self.args(args, kwargs, pieces, reads)
        except _Outranked:
            return NotImplemented
        pieces.append(")")
        # the program's values are plain arrays (the entry checks the inputs' types): where
        # this call saw only NumPy values, the replay calls the function's implementation,
        # past NumPy's __array_function__ dispatch (about 200 ns of an np.vdot)
        impl = getattr(func, "_implementation", None)
        callee = impl if impl is not None and _numpy_only(vals) and \
            _numpy_only(kw.values()) else func
        pieces[0] = self.name_of(callee, "f", getattr(func, "__name__", None))
        what = f"np.{getattr(func, '__name__', func)}"
        pure = func not in _WRITERS and kwargs.get("out") is None
        if not pure:
            target = kwargs["out"] if kwargs.get("out") is not None else args[0]
            if not self._targets_ok(target if isinstance(target, tuple) else (target,),
                                    what):
                return func(*vals, **kw)
        since = len(self.steps)
        out = self.result(func(*vals, **kw), pieces, reads, pure, what)
        self._errstate_kept(since)
        return out

    def method(self, box, name, *args, **kwargs):
        if not self.live:
            return getattr(box._array, name)(*_plain(args), **_plain(kwargs))
        if name == "sum" or name == "mean":
            out = self.reduction(name, box, (box,) + args, kwargs)
            if out is not NotImplemented:
                return out
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

    def reduction(self, kind, box, args, kwargs):
        """``np.sum`` / ``np.mean`` (``kind``) of the recorded ``box`` recorded as the
        ``np.add.reduce`` call NumPy's wrappers make: the same bits (a mean divides that sum
        by the same count; float64 and float32 only, whose sums keep their dtype), without
        their Python. NotImplemented where the call has other arguments."""
        call = _reduction_call(kind, args, kwargs)
        if type(box) is not JitValue or box._rec is not self or call is None:
            return NotImplemented
        axis, keepdims = call
        a = box._array
        count = None
        if kind == "mean":
            if a.dtype not in _MEAN_DTYPES:
                return NotImplemented
            axes = range(a.ndim) if axis is None else (axis,) if type(axis) is int else axis
            try:
                count = int(np.prod([a.shape[normalize_axis_index(i, a.ndim)]
                                     for i in axes]))
            except (np.exceptions.AxisError, TypeError):
                return NotImplemented
            if count == 0:
                return NotImplemented
        out = np.add.reduce(a, axis=axis, keepdims=keepdims)
        pieces = [f"{self.name_of(np.add, 'f')}.reduce(", box._slot, f", axis={axis!r}"]
        if keepdims:
            pieces.append(", keepdims=True")
        pieces.append(")")
        if count is not None:
            out = out / count
            pieces.append(f" / {count}")
        return self.result(out, pieces, [box._slot], True, f"np.{kind}")

    def attribute(self, box, name):
        if not self.live:
            return getattr(box._array, name)
        return self.result(getattr(box._array, name), [box._slot, f".{name}"], [box._slot],
                           True, f".{name}")

    def operator(self, symbol, fn, a, b):
        if not self.live:
            return fn(_plain(a), _plain(b))
        since = len(self.steps)
        pa, pb, reads = [], [], []
        try:
            x = self.arg(a, pa, reads)
            y = self.arg(b, pb, reads)
        except _Outranked:
            return NotImplemented
        value = fn(x, y)
        ufunc = _IN_PLACE.get(symbol)
        if ufunc is not None:
            pa, pb = self.typed_number(a, y, value, pa), self.typed_number(b, x, value, pb)
        out = self.result(value, pa + [f" {symbol} "] + pb, reads, True,
                          f"the operator {symbol}", True)
        if ufunc is not None and type(out) is JitValue and out._slot == len(self.values) - 1:
            self.elementwise[out._slot] = (ufunc, pa, pb)  # may reuse a dying operand
            if _scalar_input(a) and _scalar_input(b):
                self.exact_calls.add(out._slot)
        self._errstate_kept(since)
        return out

    def unary(self, fmt, fn, a):
        if not self.live:
            return fn(a._array)
        left, right = fmt.split("{}")
        box = self.result(fn(a._array), [left, a._slot, right], [a._slot], True, fmt, True)
        if fmt in _EXACT_UNARY and type(box) is JitValue and box._slot == len(self.values) - 1:
            self.exact_calls.add(box._slot)
        return box

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
        if symbol in _IN_PLACE:
            pieces[2:] = self.typed_number(other, box._array, box._array, pieces[2:])
        ifn(box._array, y)
        self.note_write(box._array)
        self.steps.append(("do", (), pieces, tuple(reads), False))
        self._errstate_kept(len(self.steps) - 1)
        return box

    def typed_number(self, number, other, out, pieces):
        """The pieces of a Python number operand of ``+ - * /``: a 0-d array of the result's
        dtype where the other operand is an array of that dtype, else ``pieces`` (its repr).
        NumPy casts a Python number to the array's dtype and runs the same loop, so the bits
        are the same; but it converts the number on every call (about 160 ns on a small
        array), and a 0-d array of that dtype is taken as it is."""
        t = type(number)
        if (t is float or t is int and abs(number) < 2 ** 53) and type(other) is _ndarray \
                and type(out) is _ndarray and other.dtype == out.dtype and out.dtype.kind in "fc":
            key = (t, number, out.dtype, t is float and math.copysign(1.0, number) < 0)  # -0.0
            name = self.numbers.get(key)
            if name is None:  # (not a constant of `consts`: no array f computed, see deepen)
                name = self.numbers[key] = f"num{len(self.numbers) + 1}"
                self.number_values[name] = np.array(number, dtype=out.dtype)
            return [name]
        return pieces

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

    def _scalars(self, kept, outputs):
        """The one-element float64 values that the program computes as NumPy float64 scalars
        instead of arrays: ``{slot: the index of the first step that reads it as an array}``
        (``len(kept)`` for an output; absent: no step does).

        A value qualifies when it is the result of ``a + b``, ``a - b``, ``a * b``, ``a / b``,
        ``-a``, ``abs(a)`` or a call of an exactly rounded ufunc (:data:`_EXACT_UFUNCS`,
        ``np.sqrt``) whose operands are such
        scalars, one-element float64 arrays, float64 scalars or Python numbers (a model's
        intercept, its moments, its update). These operations round the same way on a
        scalar as on an array, and NumPy's scalar arithmetic keeps its errors (``errstate``,
        a division by zero gives inf), so the bits are the same; a one-element array
        operation costs about 0.3 us, a scalar one 40 ns. A value read by a step that
        writes is left an array; a step that reads one as an array gets it made
        (``array([s])``) right after it is computed, and after that step the
        scalar steps read the array (a view of it may have been written)."""
        impure = set()
        for step in kept:
            if not step[4]:
                impure.update(step[3])
        scalars = {}
        exact = self.exact_calls
        for i, (kind, targets, rhs, reads, pure) in enumerate(kept):
            k = targets[0] if kind == "let" else None
            if k is not None and pure and k not in impure and k in exact:
                v = self.values[k]
                if type(v) is _ndarray and v.dtype == _FLOAT64 and v.size == 1 and all(
                        r in scalars or _scalar_operand(self.values[r]) for r in reads):
                    scalars[k] = None
                    continue
            for r in reads:  # an array read
                if r in scalars and scalars[r] is None:
                    scalars[r] = i
        for k in outputs:
            if k in scalars and scalars[k] is None:
                scalars[k] = len(kept)
        return scalars

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
        scalars = self._scalars(kept, outputs)
        twins = {}  # a typed number's name -> its float64 scalar's
        marks = []  # (first line of a step, the errstate it runs under or None)
        for i, (kind, targets, rhs, reads, _) in enumerate(kept):
            marks.append((len(lines), self.errstates.get(id(kept[i]))))
            k = targets[0] if targets else None
            if k in scalars:
                src = "".join(self._scalar_piece(p, i, names, scalars, twins) for p in rhs)
                for r in set(reads):
                    if last[r] == i and r not in outputs and r not in inputs and r in names:
                        free.append(names[r])
                lines.append(f"s{k} = {src}")
                if scalars[k] is not None:  # read as an array: made here
                    if free:
                        names[k] = free.pop()
                    else:
                        count += 1
                        names[k] = f"v{count}"
                    ndim = self.values[k].ndim  # (a list: an array of its own, not a view)
                    lines.append(f"{names[k]} = {self.name_of(np.array, 'f')}("
                                 f"{'[' * ndim}s{k}{']' * ndim})")
                continue
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
                if last[k] == i and k not in outputs and k not in inputs and k in names:
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
        if self.errstates:
            lines = self._under_errstates(lines, marks)
        if ret is None:
            rets = [names[k] for k in outputs]
            lines.append(f"return ({', '.join(rets)}{',' if len(rets) == 1 else ''})")
        else:
            lines.append("return " + "".join(names[p] if type(p) is int else p for p in ret))
        namespace = {**self.consts, **self.number_values, **twins}
        while name in namespace:  # (jit(np.tanh): its program calls tanh)
            name = "_" + name
        source = f"def {name}({', '.join(params)}):\n" + "".join(
            f"    {line}\n" for line in lines)
        exec(compiled(source, f"<gk.jit {name}>"), namespace)
        return namespace[name], source


    def _under_errstates(self, lines, marks):
        """``lines`` with each run of lines of steps recorded under one errstate (see
        :meth:`_errstate_kept`) inside a ``with errstate(...):`` block."""
        owner = [None] * len(lines)
        for j, (start, state) in enumerate(marks):
            end = marks[j + 1][0] if j + 1 < len(marks) else len(lines)
            owner[start:end] = [state] * (end - start)
        out, current = [], None
        errstate = self.name_of(np.errstate, "f")
        for line, state in zip(lines, owner):
            if state != current and state is not None:
                out.append(f"with {errstate}("
                           + ", ".join(f"{k}={v!r}" for k, v in state) + "):")
            current = state
            out.append("    " + line if state is not None else line)
        return out

    def _scalar_piece(self, p, i, names, scalars, twins):
        """The source of the piece ``p`` of the scalar step ``i`` (see :meth:`_scalars`)."""
        if type(p) is not int:
            v = self.number_values.get(p)
            if v is None:
                return p
            twins[p + "s"] = v[()]  # (the typed number as a float64 scalar)
            return p + "s"
        at = scalars.get(p, -1)
        if at is None or at > i:
            return f"s{p}"
        v = self.values[p]
        if type(v) is _ndarray:  # a one-element array read as its element
            return names[p] + ("[()]" if v.ndim == 0 else "[" + ", ".join("0" * v.ndim) + "]")
        return names[p]


def _scalar_input(a):
    """Whether the operand ``a`` of a recorded step is a recorded value or a Python number
    (not a list, a tuple or an array constant, which broadcast to shapes of their own)."""
    t = type(a)
    return t is JitValue or t is float or t is int


def _scalar_operand(v):
    """Whether the value ``v`` may be an operand of a scalar step (:meth:`Recording._scalars`)."""
    t = type(v)
    return (t is _ndarray and v.dtype == _FLOAT64 and v.size == 1) or t is np.float64 or \
        t is float or t is int


_FLOAT64 = np.dtype(np.float64)
#: ufuncs that round the same on a scalar as on an array (exactly rounded or exact)
_EXACT_UFUNCS = frozenset({np.sqrt, np.add, np.subtract, np.multiply, np.true_divide,
                           np.negative, np.absolute})
_EXACT_UNARY = frozenset({"-{}", "+{}", "abs({})"})  # (the operators' formats, see unary)

_CODE: dict = {}  # (source, filename) -> code object, the latest _CODE_MAX of them
_CODE_MAX = 256


def compiled(source, filename):
    """``compile(source, filename, "exec")``, kept for the next trace of the same source
    (another fit of the same shapes makes the same program: Python's compiler takes about
    0.5 ms of a 40-line one). The code is independent of the namespace it is run in.

    Args:
        source: a program's (or its entry checks') Python source.
        filename: the name its tracebacks show (``"<gk.jit step>"``).

    Returns:
        The code object, the same one for the same source and filename.

    Examples:
        >>> compiled("y = 2 * x", "<gk.jit f>") is compiled("y = 2 * x", "<gk.jit f>")
        True
    """
    key = (source, filename)
    code = _CODE.get(key)
    if code is None:
        if len(_CODE) >= _CODE_MAX:
            del _CODE[next(iter(_CODE))]  # the oldest
        code = _CODE[key] = compile(source, filename, "exec")
    return code


# the operators whose statement may write into an operand that dies there (compile)
_IN_PLACE = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}
_REUSE_BYTES = 1 << 16  # below this an allocation costs less than the keyword


def _root(a):
    while type(a.base) is _ndarray:
        a = a.base
    return a


_RESERVED = {"abs", "slice", "_", "return", "def", "if", "raise", "not"}
_SLOT_NAME = re.compile(r"[vxs]\d+|num\d+s?")  # (num: typed_number's names; s: scalars)
