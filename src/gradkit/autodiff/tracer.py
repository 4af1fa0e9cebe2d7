"""The tracer: traced values, the two traces (reverse and forward) and the primitive table.

How a gradient is computed
--------------------------
``grad(f)(x)`` wraps ``x`` in a :class:`Tracer` that belongs to a fresh :class:`ReverseTrace`
and calls ``f``. Every NumPy call that sees a tracer (through an operator, ``__array_ufunc__``
or ``__array_function__``) ends in the ``process`` method of the *innermost* trace among the
arguments (the one with the highest ``level``; :func:`apply` picks it, and operators and plain
ufuncs whose arguments share one trace go there directly), which computes the plain NumPy
result and records one entry on that trace's tape. The backward pass walks the tape once in reverse, calling each
primitive's VJP rule and summing cotangents. Forward mode (:class:`ForwardTrace`) carries a
tangent next to each value and applies JVP rules as it goes.

Levels come from a global counter, so a trace created inside another one (``grad(grad(f))``,
``jvp(grad(f))``) always outranks it: each trace only unboxes its own tracers and treats the
others as constants, which is what keeps nested derivatives from mixing (no perturbation
confusion). Rules are written with NumPy calls, so the values they see may be tracers of an
outer trace: derivatives of derivatives come for free.

Broadcasting is undone in one place, :func:`unbroadcast`, for every primitive flagged
``broadcasts``; rules never sum over broadcast axes themselves.
"""
from __future__ import annotations

import functools
import itertools
import sys

import numpy as np

__all__ = [
    "Tracer", "Primitive", "ReverseTrace", "ForwardTrace", "apply", "primitive", "differentiable",
    "defvjp", "defjvp", "def_linear", "getval", "unbroadcast",
    "TracerConversionError", "NoGradientRuleError", "PRIMITIVES", "UFUNC_PRIMITIVES", "UFUNC_HANDLERS",
    "FUNCTION_HANDLERS", "NONDIFF_UFUNCS", "UFUNC_METHODS", "binary_operator", "shape_of",
    "identity_rule",
]


class TracerConversionError(TypeError):
    """A traced value was turned into a plain number or array, which would drop its gradient."""


class NoGradientRuleError(NotImplementedError):
    """A NumPy function was called on a traced value but gradkit has no derivative rule for it."""


# ----------------------------------------------------------------------------- primitives
class Primitive:
    """One differentiable operation: the function, a VJP rule and a JVP rule per argument.

    ``vjps[i](g, ans, *args, **kwargs)`` returns the cotangent of argument ``i`` given the
    output cotangent ``g``; ``jvps[i](t, ans, *args, **kwargs)`` returns the output tangent
    caused by the tangent ``t`` of argument ``i``. An entry ``None`` means argument ``i`` has no
    derivative (indices, masks, shapes); a missing entry means the rule is not written and
    differentiating through that argument raises :class:`NoGradientRuleError`.
    """

    __slots__ = ("name", "fn", "vjps", "jvps", "broadcasts", "arity")

    def __init__(self, name, fn, broadcasts=False):
        self.name = name
        self.fn = fn
        self.vjps = ()
        self.jvps = ()
        self.broadcasts = broadcasts
        self.arity = 0  # the number of arguments when every one has a VJP rule (fast paths)

    def set_vjps(self, vjps):
        """Install the VJP rules (a tuple, one per positional argument)."""
        self.vjps = tuple(vjps)
        n = len(self.vjps)
        self.arity = n if n and all(callable(r) for r in self.vjps) else 0

    def __repr__(self):
        return f"<primitive {self.name}>"


_MISSING = object()
PRIMITIVES: dict = {}          # function -> its Primitive: the rule table
UFUNC_PRIMITIVES: dict = {}    # np.ufunc -> Primitive
UFUNC_HANDLERS: dict = {}      # np.ufunc -> handler(*inputs); usually apply bound to the primitive
_UFUNC_PLAIN: dict = {}        # np.ufunc -> Primitive, for ufuncs whose handler is just that
_NO_KWARGS: dict = {}          # shared by keyword-free calls; traces never modify it
FUNCTION_HANDLERS: dict = {}   # numpy function -> handler(*args, **kwargs)


def primitive(fn, name=None, broadcasts=False):
    """Create (or return) the primitive for ``fn``; ufuncs are routed automatically."""
    prim = fn if isinstance(fn, Primitive) else PRIMITIVES.get(fn)
    if prim is not None:
        if broadcasts and not (isinstance(prim.fn, np.ufunc) and prim.fn.nin == 1):
            prim.broadcasts = True
        return prim
    prim = Primitive(name or getattr(fn, "__name__", repr(fn)), fn, broadcasts)
    PRIMITIVES[fn] = prim
    if isinstance(fn, np.ufunc):
        prim.broadcasts = fn.nin > 1  # a one-argument ufunc never broadcasts
        UFUNC_PRIMITIVES[fn] = prim
        if fn not in UFUNC_HANDLERS:
            UFUNC_HANDLERS[fn] = functools.partial(apply, prim)
            _UFUNC_PLAIN[fn] = prim
    return prim


def differentiable(fn=None, *, name=None, broadcasts=False):
    """Make a new primitive of a plain-NumPy function (a decorator).

    The returned function routes tracers through the engine; register its rules with
    ``defvjp(f.primitive, ...)``. Use it for functions that must be one step of the tape
    (fused or stable computations, or adjoints used inside other rules).
    """
    def wrap(fn):
        def body(*args, **kwargs):
            # A trace hands the primitive its values with its own tracers removed; tracers
            # of outer traces may remain (a hessian differentiates the rules): send those on.
            for a in args:
                if type(a) is Tracer:
                    return apply(prim, *args, **kwargs)
            return fn(*args, **kwargs)

        prim = Primitive(name or fn.__name__, body, broadcasts)
        PRIMITIVES[fn] = prim

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return apply(prim, *args, **kwargs)

        wrapper.primitive = prim
        return wrapper

    return wrap(fn) if fn is not None else wrap


def _set_rules(current, rules):
    rules = list(rules)
    current = list(current) + [_MISSING] * (len(rules) - len(current))
    for i, r in enumerate(rules):
        if r is not _MISSING:
            current[i] = r
    return tuple(current)


def defvjp(fn, *rules, name=None, broadcasts=False):
    """Register VJP rules, one per positional argument: ``rule(g, ans, *args, **kwargs)``.

    >>> import numpy as np
    >>> p = defvjp(np.tanh, lambda g, ans, x: g * (1.0 - ans * ans))
    """
    prim = primitive(fn, name, broadcasts)
    prim.set_vjps(_set_rules(prim.vjps, rules))
    _route(fn, prim)
    return prim


def defjvp(fn, *rules, name=None, broadcasts=False):
    """Register JVP rules, one per positional argument: ``rule(t, ans, *args, **kwargs)``."""
    prim = primitive(fn, name, broadcasts)
    prim.jvps = _set_rules(prim.jvps, rules)
    _route(fn, prim)
    return prim


def def_linear(fn, *argnums, name=None):
    """Declare ``fn`` linear in each of ``argnums``: its JVP applies ``fn`` to the tangent."""
    prim = primitive(fn, name)
    n = max(argnums) + 1
    rules = [_MISSING] * n
    for i in argnums:
        rules[i] = _linear_jvp(prim, i)
    prim.jvps = _set_rules(prim.jvps, rules)
    _route(fn, prim)
    return prim


def _linear_jvp(prim, i):
    def jvp(t, ans, *args, **kwargs):
        args = list(args)
        args[i] = t
        return apply(prim, *args, **kwargs)
    return jvp


def _route(fn, prim):
    if not isinstance(fn, (np.ufunc, Primitive)) and fn not in FUNCTION_HANDLERS:
        FUNCTION_HANDLERS[fn] = lambda *args, **kwargs: apply(prim, *args, **kwargs)


# ----------------------------------------------------------------------------- traces
_levels = itertools.count(1)


def apply(prim, *args, **kwargs):
    """Evaluate ``prim`` on ``args``, recording it on the innermost trace among them."""
    trace = None
    for a in args:
        if type(a) is Tracer:
            t = a._trace
            if trace is None or t.level > trace.level:
                trace = t
    if trace is None:
        return prim.fn(*args, **kwargs)
    return trace.process(prim, args, kwargs)


def binary_operator(prim, python_operator=None):
    """``(op, rop)`` for a Python operator of ``prim``.

    An operator is the most frequent call in traced code, so on a reverse trace the common
    cases (the other operand a constant, or a tracer of the same trace) are recorded right
    here, as :meth:`ReverseTrace.process` would record them; anything else goes through
    :func:`apply`. With ``python_operator`` (``operator.pow``) the value is computed by the
    operator itself, as NumPy computes ``x ** 2`` on plain arrays (its fast square path)."""
    fn = python_operator  # None: prim.fn, read at each call

    def op(self, other):
        trace = self._trace
        if type(other) is Tracer:
            if other._trace is not trace:
                return apply(prim, self, other)
            if type(trace) is ReverseTrace and prim.arity == 2:
                x, y = self._value, other._value
                ans = prim.fn(x, y) if fn is None else fn(x, y)
                tape = trace.tape
                tape.append((prim, x, y, ans, self._aux, other._aux))
                t = _new_object(Tracer)  # Tracer(ans, trace, index), inline
                t._value, t._trace, t._aux = ans, trace, len(tape) - 1
                return t
        elif type(trace) is ReverseTrace and prim.arity == 2:
            x = self._value
            ans = prim.fn(x, other) if fn is None else fn(x, other)
            tape = trace.tape
            tape.append((prim, x, other, ans, self._aux, -1))
            t = _new_object(Tracer)  # Tracer(ans, trace, index), inline
            t._value, t._trace, t._aux = ans, trace, len(tape) - 1
            return t
        return trace.process(prim, (self, other), _NO_KWARGS)

    def rop(self, other):  # other is never a tracer: Python tried other's operator first
        trace = self._trace
        if type(trace) is ReverseTrace and prim.arity == 2 and type(other) is not Tracer:
            y = self._value
            ans = prim.fn(other, y) if fn is None else fn(other, y)
            tape = trace.tape
            tape.append((prim, other, y, ans, -1, self._aux))
            t = _new_object(Tracer)  # Tracer(ans, trace, index), inline
            t._value, t._trace, t._aux = ans, trace, len(tape) - 1
            return t
        if type(other) is not Tracer or other._trace is trace:
            return trace.process(prim, (other, self), _NO_KWARGS)
        return apply(prim, other, self)

    return op, rop


def _reverse_tracer(value, trace, index):
    """``Tracer(value, trace, index)`` without the ``__init__`` call (the hot paths)."""
    t = _new_object(Tracer)
    t._value = value
    t._trace = trace
    t._aux = index
    return t


_new_object = object.__new__


def identity_rule(g, ans, *args, **kwargs):
    """The VJP / JVP of an argument the output depends on with derivative one (``x + y``):
    the cotangent or tangent passes through unchanged. ``backward`` skips the call."""
    return g


def _own_arguments(trace, prim, rules, args, mode):
    """Unbox ``trace``'s tracers among ``args``: ``(values, [(argnum, rule, aux), ...])`` for
    those whose argument has a rule (``aux``: tape index or tangent). An argument whose rule
    is ``None`` has no derivative; one with no rule written raises, naming the primitive."""
    vals = list(args)
    own = []
    for i, a in enumerate(args):
        if type(a) is Tracer and a._trace is trace:
            vals[i] = a._value
            rule = rules[i] if i < len(rules) else _MISSING
            if rule is not None:
                if rule is _MISSING:
                    raise _no_rule(prim, i, mode)
                own.append((i, rule, a._aux))
    return vals, own


def _no_rule(prim, i, mode):
    what = "reverse-mode (VJP)" if mode == "rev" else "forward-mode (JVP)"
    return NoGradientRuleError(
        f"gradkit has no {what} rule for argument {i} of {prim.name}. Rewrite this step with "
        f"functions that have rules, wrap it with gradkit.custom_vjp to give your own, or use "
        f"gradkit.stop_gradient if no derivative should flow through it.")


class ReverseTrace:
    """A tape of primitive applications, walked backwards to compute cotangents."""

    __slots__ = ("level", "tape")

    def __init__(self):
        self.level = next(_levels)
        self.tape = []

    def new_input(self, value):
        tape = self.tape
        tape.append(None)
        return _reverse_tracer(value, self, len(tape) - 1)

    def record(self, prim, x, ans, parent):
        """Record ``ans = prim(x)``, computed by the caller, with ``x`` the value of tape entry
        ``parent``, and return ``ans`` traced: for functions that compute their own value
        (``relu``) or keep values for their rule in ``x`` (the fused losses)."""
        tape = self.tape
        t = _new_object(Tracer)  # Tracer(ans, self, index), inline
        t._value, t._trace, t._aux = ans, self, len(tape)
        tape.append((prim, x, ans, parent))
        return t

    def record3(self, prim, x, y, z, ans, p0, p1, p2):
        """Record ``ans = prim(x, y, z)``, computed by the caller; ``p0, p1, p2`` are the tape
        entries of the three arguments (-1 for a constant). Returns ``ans`` traced (``linear``
        records itself with this)."""
        tape = self.tape
        t = _new_object(Tracer)  # Tracer(ans, self, index), inline
        t._value, t._trace, t._aux = ans, self, len(tape)
        tape.append((prim, x, y, z, ans, p0, p1, p2))
        return t

    def process(self, prim, args, kwargs):
        vjps = prim.vjps
        if len(args) == 1 and vjps and vjps[0] is not None and vjps[0] is not _MISSING:
            # the common one-argument case; apply chose this trace, so args[0] is ours
            a = args[0]
            v = a._value
            tape = self.tape
            if kwargs:
                ans = prim.fn(v, **kwargs)
                tape.append((prim, (v,), kwargs, ans, ((0, a._aux),)))
            else:
                ans = prim.fn(v)
                tape.append((prim, v, ans, a._aux))
            return _reverse_tracer(ans, self, len(tape) - 1)
        if len(args) == 2 and len(vjps) == 2 and vjps[0] is not _MISSING \
                and vjps[1] is not _MISSING:
            # the common two-argument case (operators, binary ufuncs, matmul)
            x, y = args
            p0 = p1 = -1
            if type(x) is Tracer and x._trace is self:
                if vjps[0] is not None:
                    p0 = x._aux
                x = x._value
            if type(y) is Tracer and y._trace is self:
                if vjps[1] is not None:
                    p1 = y._aux
                y = y._value
            if p0 < 0 and p1 < 0:
                return prim.fn(x, y, **kwargs) if kwargs else prim.fn(x, y)
            tape = self.tape
            if kwargs:
                ans = prim.fn(x, y, **kwargs)
                parents = ((0, p0), (1, p1)) if p0 >= 0 and p1 >= 0 else \
                    ((0, p0),) if p0 >= 0 else ((1, p1),)
                tape.append((prim, (x, y), kwargs, ans, parents))
            else:
                ans = prim.fn(x, y)
                tape.append((prim, x, y, ans, p0, p1))
            return _reverse_tracer(ans, self, len(tape) - 1)
        if len(args) == prim.arity:  # every argument has a rule: no per-argument checks
            vals = list(args)
            parents = []
            i = 0
            for a in args:
                if type(a) is Tracer and a._trace is self:
                    vals[i] = a._value
                    parents.append((i, a._aux))
                i += 1
        else:
            vals, own = _own_arguments(self, prim, vjps, args, "rev")
            parents = [(i, aux) for i, _, aux in own]
        ans = prim.fn(*vals, **kwargs) if kwargs else prim.fn(*vals)
        if not parents:
            return ans
        tape = self.tape
        tape.append((prim, vals, kwargs, ans, parents))
        return _reverse_tracer(ans, self, len(tape) - 1)

    def backward(self, seeds, free=True):
        """Cotangents of every tape entry given ``{index: cotangent}`` seeds of the outputs.

        With ``free`` the tape is released at the end (a one-shot gradient); a pullback that
        may be called again passes ``free=False``."""
        tape = self.tape
        cts = [None] * len(tape)
        for idx, g in seeds.items():
            cts[idx] = g if cts[idx] is None else cts[idx] + g
        for idx in range(max(seeds, default=-1), -1, -1):
            g = cts[idx]
            entry = tape[idx]
            if g is None or entry is None:
                continue
            if free:  # release this step's values and cotangent as soon as they are used:
                cts[idx] = tape[idx] = None  # less live memory, and hot buffers get reused
            kind = len(entry)
            if kind == 6:  # (prim, x, y, ans, parent of x, parent of y); -1: a constant
                prim, x, y, ans, p0, p1 = entry
                rule0, rule1 = prim.vjps
                if p0 >= 0:
                    ct = g if rule0 is identity_rule else rule0(g, ans, x, y)
                    if prim.broadcasts and ct.shape != x.shape:
                        ct = unbroadcast(ct, x)
                    prev = cts[p0]
                    cts[p0] = ct if prev is None else prev + ct
                if p1 >= 0:
                    ct = g if rule1 is identity_rule else rule1(g, ans, x, y)
                    if prim.broadcasts and ct.shape != y.shape:
                        ct = unbroadcast(ct, y)
                    prev = cts[p1]
                    cts[p1] = ct if prev is None else prev + ct
                continue
            if kind == 4:  # (prim, x, ans, parent of x)
                prim, x, ans, p0 = entry
                rule0 = prim.vjps[0]
                ct = g if rule0 is identity_rule else rule0(g, ans, x)
                if prim.broadcasts and ct.shape != x.shape:
                    ct = unbroadcast(ct, x)
                prev = cts[p0]
                cts[p0] = ct if prev is None else prev + ct
                continue
            if kind == 8:  # (prim, x, y, z, ans, p0, p1, p2): three arguments, from record3
                # (written out per argument, as for two: a loop costs about 2 µs a W2 step)
                prim, x, y, z, ans, p0, p1, p2 = entry
                rule0, rule1, rule2 = prim.vjps
                if p0 >= 0:
                    ct = g if rule0 is identity_rule else rule0(g, ans, x, y, z)
                    if prim.broadcasts and ct.shape != x.shape:
                        ct = unbroadcast(ct, x)
                    prev = cts[p0]
                    cts[p0] = ct if prev is None else prev + ct
                if p1 >= 0:
                    ct = g if rule1 is identity_rule else rule1(g, ans, x, y, z)
                    if prim.broadcasts and ct.shape != y.shape:
                        ct = unbroadcast(ct, y)
                    prev = cts[p1]
                    cts[p1] = ct if prev is None else prev + ct
                if p2 >= 0:
                    ct = g if rule2 is identity_rule else rule2(g, ans, x, y, z)
                    if prim.broadcasts and ct.shape != z.shape:
                        ct = unbroadcast(ct, z)
                    prev = cts[p2]
                    cts[p2] = ct if prev is None else prev + ct
                continue
            prim, vals, kwargs, ans, parents = entry  # any other call, keywords included
            vjps = prim.vjps
            for i, parent in parents:
                rule = vjps[i]
                if rule is identity_rule:  # x + y, the bias of a layer: no call needed
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


class ForwardTrace:
    """Forward mode: each traced value carries its tangent."""

    __slots__ = ("level",)

    def __init__(self):
        self.level = next(_levels)

    def new_input(self, value, tangent):
        return Tracer(value, self, tangent)

    def process(self, prim, args, kwargs):
        jvps = prim.jvps
        if len(args) == 1 and jvps and jvps[0] is not None and jvps[0] is not _MISSING:
            # the common one-argument case; apply chose this trace, so args[0] is ours
            a = args[0]
            v = a._value
            if kwargs:
                ans = prim.fn(v, **kwargs)
                return Tracer(ans, self, jvps[0](a._aux, ans, v, **kwargs))
            ans = prim.fn(v)
            return Tracer(ans, self, jvps[0](a._aux, ans, v))
        vals, own = _own_arguments(self, prim, jvps, args, "fwd")
        ans = prim.fn(*vals, **kwargs) if kwargs else prim.fn(*vals)
        out = None
        for _, rule, t in own:
            jt = rule(t, ans, *vals, **kwargs)
            out = jt if out is None else out + jt
        if out is None:
            return ans
        if prim.broadcasts and _shape(out) != _shape(ans):
            out = np.broadcast_to(out, _shape(ans))
        return Tracer(ans, self, out)


def _shape(x):
    t = type(x)
    if t is np.ndarray:
        return x.shape
    if t is Tracer:
        return _shape(x._value)
    return x.shape if hasattr(x, "shape") else np.shape(x)


def shape_of(x):
    """``x.shape`` for arrays and tracers, ``np.shape(x)`` for anything else (cheap on the
    hot path, where ``np.shape`` would go through NumPy's dispatch)."""
    return _shape(x)


def unbroadcast(g, like):
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``like``'s shape."""
    if type(g) is np.ndarray and type(like) is np.ndarray:
        gshape, shape = g.shape, like.shape
        if len(gshape) == len(shape) + 1 and gshape[1:] == shape:  # a bias: (n, k) to (k,)
            return np.add.reduce(g, axis=0)
    else:
        shape = _shape(like)
        gshape = _shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and gshape[extra + i] != 1)
    if type(g) is np.ndarray:  # one C-level reduction on the first-order path
        return np.add.reduce(g, axis=axes).reshape(shape)
    return np.reshape(np.sum(g, axis=axes), shape)


def getval(x):
    """The plain value under every layer of tracing (no derivative flows through it)."""
    while isinstance(x, Tracer):
        x = x._value
    return x


# ----------------------------------------------------------------------------- the tracer
def _conversion_error(what):
    return TracerConversionError(
        f"{what} of a traced value would silently drop its gradient. Inside a function being "
        "differentiated keep values as arrays: build arrays with np.stack / np.concatenate / "
        "np.where instead of writing into a preallocated NumPy array, compare with np.where "
        "instead of float(), and wrap values that should not be differentiated with "
        "gradkit.stop_gradient.")


def _inplace_error(self, *_):
    raise TracerConversionError(
        "In-place updates (x += y, x[i] = v, out=) of a traced value are not differentiable. "
        "Write the update as a new array: x = x + y, or x = np.where(mask, v, x).")


def _ufunc_name(ufunc):
    """``np.exp``, or ``scipy.special.j0`` for a ufunc that scipy.special defines (not NumPy)."""
    name, sc = ufunc.__name__, sys.modules.get("scipy.special")
    home = "scipy.special" if getattr(np, name, None) is not ufunc and sc is not None \
        and getattr(sc, name, None) is ufunc else "np"
    return f"{home}.{name}"


class Tracer:
    """A value being differentiated: a NumPy array plus the trace recording it.

    ``_aux`` is the tape index (reverse mode) or the tangent (forward mode).
    """

    __slots__ = ("_value", "_trace", "_aux", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, value, trace, aux):
        self._value = value
        self._trace = trace
        self._aux = aux

    # -- array facts (no derivative involved)
    shape = property(lambda self: _shape(self._value))
    ndim = property(lambda self: len(_shape(self._value)))
    size = property(lambda self: int(np.prod(_shape(self._value))))
    dtype = property(lambda self: self._value.dtype)
    T = property(lambda self: np.transpose(self))
    mT = property(lambda self: np.swapaxes(self, -1, -2))

    def __len__(self):
        return len(self._value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        kind = "reverse" if isinstance(self._trace, ReverseTrace) else "forward"
        return f"Tracer({kind}, level={self._trace.level}, value={getval(self)!r})"

    # -- NumPy protocols
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            prim = _UFUNC_PLAIN.get(ufunc)
            if prim is not None:  # record on this trace directly unless another one is involved
                trace = self._trace
                if len(inputs) == 1 and prim.arity == 1 and type(trace) is ReverseTrace:
                    v = self._value  # np.tanh(x) and friends: as ReverseTrace.process does
                    ans = prim.fn(v)
                    tape = trace.tape
                    tape.append((prim, v, ans, self._aux))
                    t = _new_object(Tracer)  # Tracer(ans, trace, index), inline
                    t._value, t._trace, t._aux = ans, trace, len(tape) - 1
                    return t
                for a in inputs:
                    if type(a) is Tracer and a._trace is not trace:
                        return apply(prim, *inputs)
                return trace.process(prim, inputs, _NO_KWARGS)
            handler = UFUNC_HANDLERS.get(ufunc)
            if handler is not None:
                return handler(*inputs)
        if kwargs.get("out") is not None:
            _inplace_error(self)
        kwargs.pop("out", None)
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
                    f"{_ufunc_name(ufunc)} with keyword(s) {sorted(kwargs)} is not differentiable "
                    "in gradkit: drop them (use np.where for masking, astype for dtype).")
            return handler(*inputs)
        reduction = UFUNC_METHODS.get((ufunc, method))
        if reduction is not None:
            return reduction(*inputs, **kwargs)
        if method == "at":
            _inplace_error(self)
        raise NoGradientRuleError(
            f"{_ufunc_name(ufunc)}.{method} has no gradient rule in gradkit; use the matching "
            "function (np.sum, np.max, np.cumsum, ...) instead.")

    def __array_function__(self, func, types, args, kwargs):
        handler = FUNCTION_HANDLERS.get(func)
        if handler is None:
            name = getattr(func, "__module__", "numpy") + "." + getattr(func, "__name__", "?")
            raise NoGradientRuleError(
                f"gradkit has no gradient rule for {name.replace('numpy.', 'np.', 1)}. Rewrite "
                "this step with functions that have rules (see gradkit.autodiff.rules), or give "
                "it your own derivative with gradkit.custom_vjp.")
        if kwargs.get("out") is not None:
            _inplace_error(self)
        kwargs.pop("out", None)
        return handler(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        raise _conversion_error("np.asarray() / np.array() (or writing into a NumPy array)")

    def __float__(self):
        raise _conversion_error("float() (or writing into a NumPy array)")

    def __int__(self):
        raise _conversion_error("int()")

    def __complex__(self):
        raise _conversion_error("complex()")

    def __index__(self):
        raise _conversion_error("Using as an index")

    def __bool__(self):
        return bool(getval(self))

    def item(self):
        raise _conversion_error(".item()")

    def tolist(self):
        raise _conversion_error(".tolist()")

    __setitem__ = __iadd__ = __isub__ = __imul__ = __itruediv__ = __ipow__ = _inplace_error
    __imatmul__ = __ifloordiv__ = _inplace_error

    def __hash__(self):
        return id(self)


# ufuncs whose result carries no derivative (comparisons, rounding, tests): they return plain
# arrays, so the gradient through them is zero by construction.
NONDIFF_UFUNCS = {
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.isnan, np.isinf,
    np.isfinite, np.signbit, np.sign, np.floor, np.ceil, np.trunc, np.rint, np.floor_divide,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift,
    np.isnat, np.spacing, np.heaviside,
}
UFUNC_METHODS: dict = {}  # (ufunc, "reduce") -> handler; filled by the reduction rules
