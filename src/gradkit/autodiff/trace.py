"""The traces: reverse mode records a tape, forward mode carries tangents.

How a gradient is computed
--------------------------
``grad(f)(x)`` wraps ``x`` in a :class:`~.tracer.Tracer` that belongs to a fresh
:class:`ReverseTrace` and calls ``f``. Every NumPy call that sees a tracer (an operator,
``__array_ufunc__`` or ``__array_function__``) ends in :func:`apply`, which hands it to the
*innermost* trace among the arguments (the highest ``level``). That trace's ``process``
computes the plain NumPy result and records one entry on its tape. ``backward`` walks the tape
once in reverse, calling each primitive's VJP rule and summing cotangents in a list indexed by
tape position: no graph, no topological sort. Forward mode (:class:`ForwardTrace`) carries a
tangent next to each value and applies JVP rules as it goes.

Levels come from a global counter, so a trace created inside another one (``grad(grad(f))``,
``jvp(grad(f))``) always outranks it: each trace only unboxes its own tracers and treats the
others as constants, which keeps nested derivatives apart (no perturbation confusion).

Broadcasting is undone in one place, :func:`unbroadcast`, for every primitive flagged
``broadcasts``; rules never sum over broadcast axes themselves.

The tape
--------
A tape entry is one of four kinds, told apart by length (tuples, because a training step makes
thousands and walks each once); ``parent`` is the tape index of an argument, -1 a constant:

============  =======================================================  ==========================
kind          entry                                                    for
============  =======================================================  ==========================
input         ``None``                                                 inputs and traced buffers
unary         ``(prim, x, ans, parent)``                               one argument, no keywords
binary        ``(prim, x, y, ans, parent_x, parent_y)``                two arguments, no keywords
general       ``(prim, args, kwargs, ans, ((argnum, parent), ...))``   everything else
============  =======================================================  ==========================

:meth:`ReverseTrace.record` is the one way to append an entry; ``backward`` has one branch per
kind. The unary and binary kinds are kept apart from the general one because they are most of
every tape and walking them without a parent loop measured 10-15% of a small training step.

The lean tape
-------------
An entry keeps only the values its primitive's VJP rules read (``defvjp(..., needs=...)``,
consulted through ``Primitive.lean`` for the arguments that are traced in that entry): every
other array (or tracer of an outer trace) in the entry is replaced, when it is recorded, by a
:class:`Shell` holding its shape and dtype, which is all that un-broadcasting, the complex
guard and ``zeros_like`` ask of it. So ``x * c`` keeps ``c`` only, ``x + y`` and ``-x``
nothing, ``np.exp(x)`` its output only, and intermediates die during the forward pass as soon
as the program drops them. Arrays under ``LEAN_MIN_SIZE`` entries are kept whole (a Shell
would cost as much). Whether to lean at all is the trace's state, not a test per entry: a trace
records on a plain list until a value that :func:`shell` would replace reaches it (an input, a
broadcast or matmul output, any value of a general entry: :meth:`ReverseTrace.widen`, where
each of those paths tests its output's size), and from then on on a :class:`LeanTape`, whose
``append`` leans each entry (:func:`lean_entry`, the one place that reads ``Primitive.lean``).
A one-input ufunc's output has its input's size, so its fast path appends with no test at all;
small-array code (W1, a 32-wide MLP) never meets the lean
tape. The entry kinds and ``backward`` are unchanged: a rule receives a
Shell where it declared it reads nothing, and a Shell refuses arithmetic, so a wrong
declaration raises instead of giving a wrong gradient. A rule differentiated again (a Hessian)
reads its values through the outer trace's own tape, which keeps what *its* rules need.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .primitive import MISSING, LeakedTracerError, identity_rule, no_rule_error

__all__ = ["ReverseTrace", "ForwardTrace", "apply", "getval", "unbroadcast", "shape_of",
           "first_order_trace", "NO_KWARGS", "Shell", "shell", "lean_values", "LEAN_MIN_SIZE",
           "finish", "FinishedReverseTrace", "FinishedForwardTrace", "is_ndarray",
           "ARRAY_STAND_INS", "LeanTape", "lean_entry"]

#: The keyword arguments of a keyword-free call, shared by every such entry (never modified).
NO_KWARGS: dict = {}
_levels = itertools.count(1)
_new_object = object.__new__
_ndarray = np.ndarray


def apply(prim, *args, **kwargs):
    """Evaluate ``prim`` on ``args``, recording it on the innermost trace among them.

    The innermost trace is the one with the highest level among the arguments' tracers; with
    none, ``prim.fn`` runs on the plain values.

    Args:
        prim: the :class:`~gradkit.autodiff.primitive.Primitive`.
        *args: its arguments (tracers, arrays, numbers, ...).
        **kwargs: its keyword arguments.

    Returns:
        The output: a tracer of that trace, or a plain value.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.primitive import PRIMITIVES
        >>> float(apply(PRIMITIVES[np.sin], 0.0))
        0.0
        >>> trace = ReverseTrace()
        >>> y = apply(PRIMITIVES[np.sin], trace.new_input(np.zeros(2)))
        >>> type(y).__name__, getval(y)
        ('Tracer', array([0., 0.]))
    """
    trace = None
    for a in args:
        if type(a) is Tracer:
            t = a._trace
            if trace is None or t.level > trace.level:
                trace = t
        elif type(a) is BatchTracer and (trace is None or a._trace.level > trace.level):
            trace = a._trace  # a vmap inside the transformations of the other arguments
    if trace is None:
        return prim.fn(*args, **kwargs)
    out = trace.process(prim, args, kwargs)
    if prim.view:
        base = args[0]
        if type(base) is Tracer and base._trace is trace and type(out) is Tracer:
            note_view(out, base, prim, args[1:], kwargs)
    return out


class Shell:
    """What the lean tape keeps of a value no rule of its entry reads: its shape and dtype.

    Shape-only NumPy functions (``np.shape``, ``np.zeros_like``, ``np.result_type``, ...)
    answer as for the value; anything that would read the entries raises.

    Examples:
        >>> import numpy as np
        >>> s = shell(np.zeros((100, 100)))
        >>> s, np.zeros_like(s).shape, s.ndim
        (Shell(shape=(100, 100), dtype=float64), (100, 100), 2)
        >>> np.sum(s)
        Traceback (most recent call last):
            ...
        RuntimeError: A gradient rule called np.sum on a value the tape did not keep: ...
    """

    __slots__ = ("shape", "dtype")

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def __repr__(self):
        return f"Shell(shape={self.shape}, dtype={self.dtype})"

    def _stand_in(self):  # the same shape and dtype, no memory: one broadcast element
        return np.broadcast_to(np.zeros((), self.dtype), self.shape)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.shape:
            return self.shape
        if func not in _SHAPE_ONLY:
            raise _dropped(f"np.{func.__name__}")
        args = tuple(a._stand_in() if type(a) is Shell else a for a in args)
        return func(*args, **kwargs)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise _dropped(f"np.{ufunc.__name__}")

    def __array__(self, dtype=None, copy=None):
        raise _dropped("np.asarray")


_SHAPE_ONLY = {np.shape, np.ndim, np.size, np.iscomplexobj, np.isrealobj, np.result_type,
               np.zeros_like, np.ones_like, np.empty_like, np.full_like}


def _dropped(what):
    return RuntimeError(
        f"A gradient rule called {what} on a value the tape did not keep: the rule reads a "
        "value that its defvjp(..., needs=...) declaration leaves out. Add that value to "
        "needs (or leave needs out to keep everything).")


# Arrays smaller than this are kept whole: building a Shell costs about 0.2 us, more than
# freeing a few KB early is worth, and small-array code (W1: 60 operations on 16 floats; W3:
# a 32-wide MLP) stays as fast as before. Peak memory is made by the large arrays.
#: The size from which the lean tape replaces an array no rule reads by its :class:`Shell`.
LEAN_MIN_SIZE = 4096


def shell(v):
    """``v`` as the tape keeps it when no rule reads it: arrays of ``LEAN_MIN_SIZE`` entries
    or more and tracers become a :class:`Shell`; small arrays, Python numbers, indices and
    other small values stay as they are.

    Args:
        v: a value an entry of the tape would keep.

    Returns:
        Its :class:`Shell`, or ``v`` itself.

    Examples:
        >>> import numpy as np
        >>> shell(np.zeros(5000)), shell(np.zeros(2)), shell(3)
        (Shell(shape=(5000,), dtype=float64), array([0., 0.]), 3)
    """
    t = type(v)
    # (a tracer only over NumPy values: a Shell's stand-in is a host array, which a rule
    # computing beside a device array (CuPy) must not meet)
    if t is np.ndarray and v.size >= LEAN_MIN_SIZE or t is Tracer and \
            type(getval(v)) is np.ndarray:
        s = _new_object(Shell)
        s.shape, s.dtype = v.shape, v.dtype
        return s
    return v


def lean_values(keep, ans, args):
    """``(ans, args)`` with what ``keep`` (a row of ``Primitive.lean``) does not keep shelled;
    arguments past the row (no rule declared for them) are kept.

    Args:
        keep: ``(keep_ans, keep_arg0, ...)``, booleans.
        ans: the entry's output.
        args: its arguments.

    Returns:
        tuple: ``(ans, args)`` as the tape keeps them (see :func:`shell`).

    Examples:
        >>> import numpy as np
        >>> lean_values((True, False), 1.0, (np.zeros(5000),))
        (1.0, (Shell(shape=(5000,), dtype=float64),))
    """
    n = len(keep) - 1
    return (ans if keep[0] else shell(ans),
            tuple(a if i >= n or keep[i + 1] else shell(a) for i, a in enumerate(args)))


def lean_entry(entry):
    """A tape entry as the lean tape keeps it: the values no rule of its primitive reads (for
    the arguments traced in it, ``Primitive.lean``) replaced by their :func:`shell`.

    Args:
        entry: a tape entry of any kind (see the module's table).

    Returns:
        tuple or None: the entry to keep.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.primitive import PRIMITIVES
        >>> prim, x = PRIMITIVES[np.exp], np.zeros(5000)
        >>> kept = lean_entry((prim, x, np.exp(x), 0))   # exp's rule reads its output only
        >>> kept[1], type(kept[2]).__name__
        (Shell(shape=(5000,), dtype=float64), 'ndarray')
    """
    if entry is None:
        return None
    prim = entry[0]
    lean = prim.lean
    if lean is None:
        return entry
    kind = len(entry)
    if kind == 4:
        _, x, ans, p = entry
        keep = lean[1]
        return prim, x if keep[1] else shell(x), ans if keep[0] else shell(ans), p
    if kind == 6:
        _, x, y, ans, px, py = entry
        keep = lean[(px >= 0) | (py >= 0) << 1]
        return (prim, x if keep[1] else shell(x), y if keep[2] else shell(y),
                ans if keep[0] else shell(ans), px, py)
    _, args, kwargs, ans, own = entry
    mask = 0
    for i, _ in own:
        mask |= 1 << i if i < len(prim.needs) else 0
    ans, args = lean_values(lean[mask], ans, args)
    return prim, args, kwargs, ans, own


class LeanTape(list):
    """The tape of a trace that has met a large value: each entry appended keeps only what
    its rules read (:func:`lean_entry`). A trace starts on a plain list and moves to a
    LeanTape at its first value that :func:`shell` would replace (:meth:`ReverseTrace.widen`);
    until then no entry is tested, which keeps small-array code at its speed.

    Args:
        iterable: the entries recorded so far, on the plain list (all small: kept as they are).

    Examples:
        >>> import numpy as np
        >>> trace = ReverseTrace()
        >>> x = trace.new_input(np.ones(3))
        >>> type(trace.tape).__name__
        'list'
        >>> y = np.exp(trace.new_input(np.ones(5000)))
        >>> type(trace.tape).__name__, trace.tape[-1][1]
        ('LeanTape', Shell(shape=(5000,), dtype=float64))
    """

    __slots__ = ()

    def append(self, entry):
        """Append ``entry`` as :func:`lean_entry` keeps it."""
        list.append(self, lean_entry(entry))


def _own_arguments(trace, prim, rules, args, mode):
    """Unbox ``trace``'s tracers among ``args``: ``(values, [(argnum, rule, aux), ...])`` for
    those whose argument has a rule (``aux``: tape index or tangent). An argument whose rule
    is ``None`` has no derivative; one with no rule written raises, naming the primitive."""
    vals = list(args)
    own = []
    for i, a in enumerate(args):
        if type(a) is Tracer and a._trace is trace:
            vals[i] = a._value
            rule = rules[i] if i < len(rules) else MISSING
            if rule is not None:
                if rule is MISSING:
                    raise no_rule_error(prim, i, mode)
                own.append((i, rule, a._aux))
    return vals, own


class ReverseTrace:
    """A tape of primitive applications, walked backwards to compute cotangents.

    Each tracer of the trace holds its tape index; :meth:`backward` walks the tape from the
    seeded outputs to the inputs, applying each entry's VJP rules (reverse mode,
    backpropagation).

    Examples:
        >>> import numpy as np
        >>> trace = ReverseTrace()
        >>> x = trace.new_input(np.array([1.0, 2.0]))
        >>> y = np.sum(x * x)
        >>> trace.backward({y._aux: 1.0})[x._aux]  # d/dx sum(x**2) = 2 x
        array([2., 4.])
    """

    # arguments: the traced function's arguments as the caller gave them (None: unknown),
    # until a write into an input asks whether they alias (mutation.assign)
    __slots__ = ("level", "tape", "arguments")

    def __init__(self):
        self.level = next(_levels)
        self.tape = []
        self.arguments = None

    def new_input(self, value):
        """``value`` as a traced input (or a traced buffer): an entry with no parents."""
        tape = self.tape
        if value.size >= LEAN_MIN_SIZE if type(value) is _ndarray else type(value) is Tracer:
            tape = self.widen(value)
        t = _new_object(Tracer)
        t._value, t._trace, t._aux = value, self, len(tape)
        tape.append(None)
        return t

    def widen(self, value):
        """The tape to append to, now that ``value`` (of an entry about to be recorded) is a
        large NumPy array or a tracer: from the first value that :func:`shell` would replace,
        the trace records on a :class:`LeanTape`. Until then every value is small, and each
        entry is appended whole with no test (see "The lean tape" above)."""
        tape = self.tape
        if type(tape) is list and shell(value) is not value:
            tape = self.tape = LeanTape(tape)
        return tape

    def unbox(self, x):
        """``(value, tape index)`` of ``x``: its own tracers give their entry, anything else
        (a constant, a tracer of another trace) ``(x, -1)``."""
        if type(x) is Tracer and x._trace is self:
            return x._value, x._aux
        return x, -1

    def record(self, prim, args, ans, parents, kwargs=NO_KWARGS):
        """Record ``ans = prim(*args, **kwargs)``, computed by the caller, and return ``ans``
        traced. ``args`` are the argument values (this trace's tracers unboxed), ``parents``
        their tape indices (-1: a constant). The entry kind follows from the call."""
        n = len(args)
        if not kwargs and n == len(prim.vjps):
            if n == 2:
                return self.record_binary(prim, args[0], args[1], ans, parents[0], parents[1])
            if n == 1 and parents[0] >= 0:
                return self.record_unary(prim, args[0], ans, parents[0])
        tape = self.tape
        if type(tape) is list:
            for v in (ans, *args):
                if v.size >= LEAN_MIN_SIZE if type(v) is _ndarray else type(v) is Tracer:
                    tape = self.widen(v)
                    if type(tape) is not list:
                        break
        t = _new_object(Tracer)
        t._value, t._trace, t._aux = ans, self, len(tape)
        tape.append((prim, args, kwargs, ans, tuple((i, p) for i, p in enumerate(parents)
                                                     if p >= 0)))
        return t

    # The two kinds most of every tape is made of, each appended by its own method: the
    # operators and one-argument ufuncs call these directly (measured: packing arguments for
    # `record` cost 12% of W1, a chain of 60 small operations).
    def record_unary(self, prim, x, ans, parent):
        """Record the unary entry ``(prim, x, ans, parent)``; ``parent`` >= 0."""
        tape = self.tape
        if ans.size >= LEAN_MIN_SIZE if type(ans) is _ndarray else type(ans) is Tracer:
            tape = self.widen(ans)
        t = _new_object(Tracer)
        t._value, t._trace, t._aux = ans, self, len(tape)
        tape.append((prim, x, ans, parent))
        return t

    def record_binary(self, prim, x, y, ans, parent_x, parent_y):
        """Record the binary entry ``(prim, x, y, ans, parent_x, parent_y)``; ``prim`` has
        two VJP rules. (A broadcasting output is as large as either argument.)"""
        tape = self.tape
        if ans.size >= LEAN_MIN_SIZE if type(ans) is _ndarray else type(ans) is Tracer:
            tape = self.widen(ans)
        t = _new_object(Tracer)
        t._value, t._trace, t._aux = ans, self, len(tape)
        tape.append((prim, x, y, ans, parent_x, parent_y))
        return t

    def process(self, prim, args, kwargs):
        vjps = prim.vjps
        if len(args) == 1 and prim.arity == 1:  # apply chose this trace: args[0] is ours
            a = args[0]
            v = a._value
            if kwargs:
                return self.record(prim, (v,), prim.fn(v, **kwargs), (a._aux,), kwargs)
            return self.record_unary(prim, v, prim.fn(v), a._aux)
        if len(args) == prim.arity:  # every argument has a rule: no per-argument checks
            vals = list(args)
            parents = [-1] * len(args)
            own = False
            i = 0
            for a in args:
                if type(a) is Tracer and a._trace is self:
                    vals[i] = a._value
                    parents[i] = a._aux
                    own = True
                i += 1
        else:
            vals, mine = _own_arguments(self, prim, vjps, args, "rev")
            parents = [-1] * len(args)
            for i, _, aux in mine:
                parents[i] = aux
            own = bool(mine)
        ans = prim.fn(*vals, **kwargs) if kwargs else prim.fn(*vals)
        if not own:
            return ans
        return self.record(prim, vals, ans, parents, kwargs)

    def backward(self, seeds, free=True):
        """Cotangents of every tape entry given ``{index: cotangent}`` seeds of the outputs.

        With ``free`` each entry is released as soon as it is used (a one-shot gradient:
        intermediates die during the pass and their buffers are reused while in cache); a
        pullback that may be called again passes ``free=False``."""
        tape = self.tape
        cts = [None] * len(tape)
        for idx, g in seeds.items():
            cts[idx] = g if cts[idx] is None else cts[idx] + g
        identity = identity_rule
        for idx in range(max(seeds, default=-1), -1, -1):
            g = cts[idx]
            if g is None:
                continue
            entry = tape[idx]
            if entry is None:  # an input
                continue
            if free:
                cts[idx] = tape[idx] = None
            kind = len(entry)
            if kind == 4:  # unary
                prim, x, ans, p0 = entry
                rule0 = prim.vjps[0]
                ct = g if rule0 is identity else rule0(g, ans, x)
                prev = cts[p0]
                cts[p0] = ct if prev is None else prev + ct
            elif kind == 6:  # binary
                prim, x, y, ans, p0, p1 = entry
                rule0, rule1 = prim.vjps
                # two traced operands of one shape broadcast to it: nothing to undo (one
                # comparison for the entry instead of one per operand)
                spread = prim.broadcasts and (p0 < 0 or p1 < 0 or x.shape != y.shape)
                if p0 >= 0:
                    ct = g if rule0 is identity else rule0(g, ans, x, y)
                    if spread and ct.shape != x.shape:
                        ct = unbroadcast(ct, x)
                    prev = cts[p0]
                    cts[p0] = ct if prev is None else prev + ct
                if p1 >= 0:
                    ct = g if rule1 is identity else rule1(g, ans, x, y)
                    if spread and ct.shape != y.shape:
                        ct = unbroadcast(ct, y)
                    prev = cts[p1]
                    cts[p1] = ct if prev is None else prev + ct
            else:  # general
                prim, vals, kwargs, ans, parents = entry
                vjps = prim.vjps
                for i, parent in parents:
                    rule = vjps[i]
                    if rule is identity:
                        ct = g
                    else:
                        ct = rule(g, ans, *vals, **kwargs) if kwargs else rule(g, ans, *vals)
                    if prim.broadcasts and ct.shape != vals[i].shape:
                        ct = unbroadcast(ct, vals[i])
                    prev = cts[parent]
                    cts[parent] = ct if prev is None else prev + ct
        if free:
            tape.clear()
        return cts


def first_order_trace(*args):
    """The reverse trace that a first-order training step on ``args`` records on, or None.

    It is the trace of every tracer among ``args`` when they all belong to one
    :class:`ReverseTrace` and hold plain NumPy arrays (not values of an outer trace, as in a
    Hessian). Layers with a fused step (``nn.functional.linear``, ``relu``, the cross-entropy)
    use it to record one entry with :meth:`ReverseTrace.record` instead of several.

    Args:
        *args: the step's arguments (tracers or plain values).

    Returns:
        ReverseTrace or None.

    Examples:
        >>> import numpy as np
        >>> trace = ReverseTrace()
        >>> first_order_trace(trace.new_input(np.ones(2)), np.ones(2)) is trace
        True
        >>> first_order_trace(np.ones(2)) is None  # nothing traced
        True
    """
    trace = None
    for a in args:
        if type(a) is Tracer:
            if trace is None:
                trace = a._trace
                if type(trace) is not ReverseTrace:
                    return None
            elif a._trace is not trace:
                return None
            if type(a._value) is not np.ndarray and not is_ndarray(a._value):
                return None
    return trace


#: Value types that stand for a NumPy array on the first-order fast paths: gk.jit's JitValue
#: (which records the calls made on the array it holds) joins when its module loads.
ARRAY_STAND_INS: set = set()


def is_ndarray(v):
    """True for a NumPy array, and for a value recorded by ``gk.jit`` that holds one: the
    fast paths that test ``type(v) is np.ndarray`` use this, so that a compiled step makes
    the same NumPy calls as the eager one.

    Args:
        v: any value.

    Returns:
        bool.

    Examples:
        >>> import numpy as np
        >>> is_ndarray(np.ones(2)), is_ndarray(1.0), is_ndarray([1.0])
        (True, False, False)
    """
    t = type(v)
    return t is np.ndarray or t in ARRAY_STAND_INS and type(v._array) is np.ndarray


class ForwardTrace:
    """Forward mode: each traced value carries its tangent.

    Each primitive's output tangent is the sum of its JVP rules applied to the arguments'
    tangents, :math:`\\dot y = \\sum_i \\partial_i f(x)\\,\\dot x_i`, computed as the function
    runs (no tape).

    Examples:
        >>> import numpy as np
        >>> trace = ForwardTrace()
        >>> x = trace.new_input(np.array([0.0, 1.0]), np.array([1.0, 1.0]))
        >>> value, tangent = trace.unbox(x * x)
        >>> tangent  # d(x**2) = 2 x dx
        array([0., 2.])
    """

    __slots__ = ("level", "arguments")  # (arguments: as ReverseTrace's)

    def __init__(self):
        self.level = next(_levels)
        self.arguments = None

    def new_input(self, value, tangent):
        return Tracer(value, self, tangent)

    def unbox(self, x):
        """``(value, tangent)`` of ``x``; ``(x, None)`` for anything not of this trace."""
        if type(x) is Tracer and x._trace is self:
            return x._value, x._aux
        return x, None

    def process(self, prim, args, kwargs):
        jvps = prim.jvps
        if len(args) == 1 and jvps and jvps[0] is not None and jvps[0] is not MISSING:
            # the common one-argument case; apply chose this trace, so args[0] is ours
            a = args[0]
            v = a._value
            ans = prim.fn(v, **kwargs) if kwargs else prim.fn(v)
            return Tracer(ans, self, jvps[0](a._aux, ans, v, **kwargs))
        vals, own = _own_arguments(self, prim, jvps, args, "fwd")
        ans = prim.fn(*vals, **kwargs) if kwargs else prim.fn(*vals)
        out = None
        for _, rule, t in own:
            jt = rule(t, ans, *vals, **kwargs)
            out = jt if out is None else out + jt
        if out is None:
            return ans
        if prim.broadcasts and shape_of(out) != shape_of(ans):
            out = np.broadcast_to(out, shape_of(ans))
        return Tracer(ans, self, out)


def shape_of(x):
    """``x.shape`` for arrays and tracers, ``np.shape(x)`` for anything else (cheap on the
    hot path, where ``np.shape`` would go through NumPy's dispatch).

    Args:
        x: an array, a tracer, a :class:`Shell`, a number or a nested list.

    Returns:
        tuple: the shape.

    Examples:
        >>> import numpy as np
        >>> shape_of(np.ones((2, 3))), shape_of(1.0), shape_of([[1, 2]])
        ((2, 3), (), (1, 2))
    """
    t = type(x)
    if t is np.ndarray or t is Shell:
        return x.shape
    if t is Tracer:
        return shape_of(x._value)
    return x.shape if hasattr(x, "shape") else np.shape(x)


def unbroadcast(g, like):
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``like``'s shape.

    The adjoint of broadcasting: if ``y = broadcast_to(x, shape)`` then
    :math:`\\bar x_j = \\sum_{i \\to j} \\bar y_i`, the sum over the copies of each entry.
    The engine does it once for every broadcasting primitive, so no rule does.

    Args:
        g: the cotangent, in the broadcast shape.
        like: a value (or tracer) with the argument's shape.

    Returns:
        ``g`` summed to ``like``'s shape.

    Examples:
        >>> import numpy as np
        >>> unbroadcast(np.ones((3, 2)), np.zeros(2))
        array([3., 3.])
        >>> unbroadcast(np.ones((3, 2)), np.zeros((3, 1)))
        array([[2.],
               [2.],
               [2.]])
    """
    if type(g) is np.ndarray and type(like) is np.ndarray:
        gshape, shape = g.shape, like.shape
        if len(gshape) == len(shape) + 1 and gshape[1:] == shape:  # a bias: (n, k) to (k,)
            return np.add.reduce(g, axis=0)
    else:
        shape = shape_of(like)
        gshape = shape_of(g)
        if type(g) in ARRAY_STAND_INS and len(gshape) == len(shape) + 1 and \
                gshape[1:] == shape:  # gk.jit: the bias's one reduction, as above
            return np.add.reduce(g, axis=0)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and gshape[extra + i] != 1)
    if type(g) is np.ndarray:  # one C-level reduction on the first-order path
        return np.add.reduce(g, axis=axes).reshape(shape)
    return np.reshape(np.sum(g, axis=axes), shape)


def getval(x):
    """The plain value under every layer of tracing (no derivative flows through it). A
    batched value (inside ``vmap``) stays batched: its examples are stripped instead.

    Args:
        x: a tracer or a plain value.

    Returns:
        The value ``x`` holds (``x`` itself when it is not traced).

    Examples:
        >>> import numpy as np
        >>> trace = ReverseTrace()
        >>> getval(trace.new_input(np.array([1.0, 2.0]))), getval(3.0)
        (array([1., 2.]), 3.0)
    """
    while type(x) is Tracer:
        x = x._value
    if type(x) is BatchTracer:
        v = getval(x._value)
        return x if v is x._value else BatchTracer(v, x._trace)
    return x


# --- issue 16: tracers are invalid outside their trace ------------------------------------
# When a transformation's function returns, api.py calls `finish(trace)`, which changes the
# trace's class. Every fast path records only when `type(trace) is ReverseTrace` exactly, so
# a leaked tracer falls through to `apply` -> `process`, which raises here: no check is added
# to any hot path. `backward` is inherited, so a vjp's pullback still runs later.

def _leaked(prim=None):
    what = f" in {prim.name}" if prim is not None and getattr(prim, "name", None) else ""
    return LeakedTracerError(
        f"a traced value was used{what} after the grad / vjp / jvp call that traced it had "
        "returned (it was stored in a global, a closure or an attribute). Its gradient "
        "belongs to that finished call; pass the value in as an argument of the function "
        "being differentiated instead (or keep its plain value, which has no gradient).")


class FinishedReverseTrace(ReverseTrace):
    """A reverse trace whose function has returned: its tape can be walked, never extended.

    Examples:
        >>> import numpy as np
        >>> trace = ReverseTrace()
        >>> x = trace.new_input(np.ones(2))
        >>> finish(trace)
        >>> type(trace).__name__
        'FinishedReverseTrace'
        >>> np.sin(x)
        Traceback (most recent call last):
            ...
        gradkit.autodiff.primitive.LeakedTracerError: a traced value was used in sin after ...
    """

    __slots__ = ()

    def process(self, prim, args, kwargs):
        raise _leaked(prim)

    def record(self, prim, *args, **kwargs):
        raise _leaked(prim)

    record_unary = record_binary = record

    def new_input(self, value):
        raise _leaked()


class FinishedForwardTrace(ForwardTrace):
    """A forward trace whose function has returned.

    Examples:
        >>> import numpy as np
        >>> trace = ForwardTrace()
        >>> x = trace.new_input(np.ones(2), np.ones(2))
        >>> finish(trace)
        >>> type(trace).__name__
        'FinishedForwardTrace'
    """

    __slots__ = ()

    def process(self, prim, args, kwargs):
        raise _leaked(prim)

    def new_input(self, value, tangent=None):
        raise _leaked()


def finish(trace):
    """Mark ``trace`` finished: its tracers raise LeakedTracerError wherever they are used.

    Args:
        trace: a :class:`ReverseTrace` or :class:`ForwardTrace` whose function has returned.

    Examples:
        >>> import numpy as np
        >>> trace = ForwardTrace()
        >>> finish(trace)
        >>> trace.new_input(np.ones(2), np.ones(2))
        Traceback (most recent call last):
            ...
        gradkit.autodiff.primitive.LeakedTracerError: a traced value was used after ...
    """
    trace.__class__ = FinishedReverseTrace if type(trace) is ReverseTrace \
        else FinishedForwardTrace
# --- end issue 16 ---------------------------------------------------------------------------


# the chain of engine modules (see primitive.py): the value type and the views come last
from .tracer import Tracer  # noqa: E402
from .mutation import note_view  # noqa: E402
from .batching import BatchTracer  # noqa: E402
