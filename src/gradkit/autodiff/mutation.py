"""Writes and views: NumPy's mutation semantics on traced values, with a functional tape.

NumPy code mutates: ``s += x[i] ** 2``, ``out[i] = f(x[i])``, ``D[D < 0] = 0``,
``np.exp(X, out=X)``. Under differentiation every write is computed as a new value (the old
one stays as it was, so a value a rule saved is never changed) and the *tracer* is rebound to
it, so every name bound to that tracer sees the write, as every name of an array would.

Views follow PyTorch's design (base + view function): a tracer made by a view primitive
(``x[1:]``, ``x.T``, ``reshape`` where NumPy returns a view, ...) records its root (the tracer
it is a view of) and the steps that make it from the root. Writing through a view writes the
root (``root[positions] = new``, one scatter on the tape) and then every live view of the
root is recomputed from the new root: a write to the base is seen by its views and a write
to one view by the others. NumPy decides what is a view: a step counts only when NumPy's own
result shares memory with its argument, so a ``reshape`` that NumPy copies is not a view here
either. Code that never writes pays one weak reference per view it takes.

Immutable values stay immutable: a NumPy scalar (``np.sum(x)``) is rebound by ``s += 1``,
as in NumPy, where the other names keep the old value.
"""
from __future__ import annotations

import weakref

import numpy as np

from ..backend import array_namespace, to_device_of
from .primitive import NoGradientRuleError, TracerConversionError, defjvp, defvjp, primitive
from .trace import (ARRAY_STAND_INS, ForwardTrace, apply, getval, is_ndarray, shape_of,
                    unbroadcast)

__all__ = ["note_view", "add_view", "write_back", "setitem", "constant_of", "ufunc_into",
           "ufunc_at",
           "P_SETITEM"]


class View:
    """Where a view's values come from: ``root`` and the steps ``(prim, args, kwargs)``
    that make the view from it; ``positions`` (computed on the first write) says which entries
    of the root the view's entries are."""

    __slots__ = ("root", "steps", "positions", "frozen")

    def __init__(self, root, steps, frozen=None):
        self.root = root
        self.steps = steps
        self.positions = None
        self.frozen = frozen  # a sentence: why this view cannot be written, or None

    def index(self):
        """The index of the root that this view covers (the first step's own basic index
        when there is one step, else integer arrays of the covered entries)."""
        if self.positions is None:
            steps = self.steps
            if len(steps) == 1 and steps[0][0] is P_GETITEM:
                self.positions = steps[0][1][0]
            else:
                shape = shape_of(self.root)
                pos = np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)
                for prim, args, kwargs in steps:
                    pos = prim.fn(pos, *args, **kwargs)
                self.positions = _Distinct(np.unravel_index(pos, shape))
        return self.positions


class _Distinct(tuple):
    """An index tuple known to name each entry at most once (a view's positions)."""


def note_view(out, base, prim, args, kwargs):
    """Record that ``out = prim(base, *args, **kwargs)`` is a view of ``base``, when NumPy's
    own result shares memory with its argument.

    Args:
        out: the tracer ``prim`` returned.
        base: its argument 0, a tracer of the same trace.
        prim: the view primitive (``getitem``, ``transpose``, ``reshape``, ...).
        args: the primitive's other arguments.
        kwargs: its keyword arguments.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.trace import ReverseTrace, getval
        >>> from gradkit.autodiff.tracer import P_GETITEM
        >>> trace = ReverseTrace()
        >>> x = trace.new_input(np.arange(3.0))
        >>> out = trace.new_input(getval(x)[1:])  # NumPy's x[1:] shares x's memory
        >>> note_view(out, x, P_GETITEM, (slice(1, None),), {})
        >>> out._base.root is x
        True
    """
    value, base_value = getval(out), getval(base)
    if type(value) is np.ndarray or type(value) is BatchTracer:
        shared = np.may_share_memory(value, base_value)
    elif _mutable(value):  # another array type (CuPy): its own library decides
        shared = array_namespace(value).may_share_memory(value, base_value)
    else:
        return
    if shared:
        refused = WRITES_REFUSED.get(prim)
        if refused is not None and getattr(base_value, "dtype", None) is not None \
                and base_value.dtype.kind == "c":
            add_view(out, base, (prim, args, kwargs), refused)
        else:
            add_view(out, base, (prim, args, kwargs))


def add_view(out, base, step, frozen=None):
    """Record that ``out`` is ``step`` applied to ``base``, a view (NumPy said so);
    ``frozen``: why writes through it are refused, or None.

    A view of a view records the root of the first and both steps, so a write through any
    of them reaches the root and every other live view.

    Args:
        out: the view (a tracer).
        base: what it is a view of (a tracer, itself perhaps a view).
        step: ``(prim, args, kwargs)``, the view primitive's call without ``base``.
        frozen: the sentence of the error a write through ``out`` raises, or None.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.trace import ReverseTrace
        >>> trace = ReverseTrace()
        >>> x = trace.new_input(np.arange(4.0))
        >>> v = x[1:]     # the view primitive calls add_view
        >>> w = v[1:]     # a view of the view: root x, two steps
        >>> w._base.root is x, len(w._base.steps), len(x._views)
        (True, 2, 2)
    """
    parent = getattr(base, "_base", None)
    if parent is None:
        root, steps = base, (step,)
    else:
        root, steps = parent.root, parent.steps + (step,)
        frozen = frozen or parent.frozen
    out._base = View(root, steps, frozen)
    views = getattr(root, "_views", None)
    if views is None:
        root._views = views = []
    elif not len(views) & 63:  # now and then forget the views that are gone
        views[:] = [r for r in views if r() is not None]
    views.append(weakref.ref(out))


# view primitives whose views of a complex array cannot be written through (a write to
# ``z.real`` keeps ``z.imag``, which the scatter of a view's positions cannot express):
# primitive -> the sentence of the error
WRITES_REFUSED: dict = {}


def constant_of(trace, value):
    """``value`` as a tracer of ``trace`` that depends on nothing of it (a traced buffer).

    Args:
        trace: a reverse or forward trace.
        value: the buffer's initial value.

    Returns:
        Tracer: a new input of ``trace`` (a zero tangent in forward mode), which writes
        of traced values can rebind.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.trace import ForwardTrace
        >>> trace = ForwardTrace()
        >>> buffer = constant_of(trace, np.ones(2))
        >>> trace.unbox(buffer)
        (array([1., 1.]), array([0., 0.]))
    """
    if type(trace) is ForwardTrace:
        return trace.new_input(value, np.zeros_like(getval(value)))
    return trace.new_input(value)


def write_back(target, new, what, out=False, casting="same_kind", ufunc=None, inputs=()):
    """Make ``target`` hold ``new``, as NumPy's in-place ``what`` (``x += y``, ``out=``)
    writes the array, and return what NumPy returns (``target``; a rebound scalar).
    ``ufunc`` and its ``inputs``, when given, let a refused cast raise NumPy's own error.

    Args:
        target: the array written (a tracer, or a plain array that only plain values may be
            written into).
        new: its new value.
        what: the operation, for error messages (``"x += y"``, ``"np.exp"``).
        out: whether the write is a ufunc's ``out=``.
        casting: NumPy's casting rule for the write.
        ufunc: the ufunc that computed ``new``, if any.
        inputs: that ufunc's inputs.

    Returns:
        What NumPy's in-place operation returns: ``target`` (or the rebound value).

    Raises:
        TracerConversionError: writing a traced value into a plain NumPy array.

    Examples:
        >>> import numpy as np
        >>> from gradkit.autodiff.trace import ReverseTrace, getval
        >>> trace = ReverseTrace()
        >>> x = trace.new_input(np.array([1.0, 2.0]))
        >>> y = constant_of(trace, np.zeros(2))
        >>> write_back(y, x * 3.0, "y[...] = 3 * x") is y, getval(y)
        (True, array([3., 6.]))
        >>> write_back(np.zeros(2), x, "np.copyto")
        Traceback (most recent call last):
            ...
        gradkit.autodiff.primitive.TracerConversionError: Writing the result of np.copyto ...
    """
    if type(target) is tuple:  # out=(a,) from a ufunc call
        target = target[0]
    if type(target) is not Tracer:
        if isinstance(new, Tracer):
            raise conversion_error(f"Writing the result of {what} into a plain NumPy array "
                                   "with out=")
        np.copyto(target, new, casting=casting)
        return target
    if not _mutable(getval(target)):
        if out:
            raise TypeError(f"{what}: out= must be an array, not a "
                            f"{type(getval(target)).__name__}.")
        return new  # a NumPy scalar is immutable: `s += 1` makes a new s, as in NumPy
    shape, new_shape = shape_of(target), shape_of(new)
    if new_shape != shape:
        raise ValueError(f"non-broadcastable output operand with shape {shape} doesn't match "
                         f"the broadcast shape {new_shape}")
    dtype, new_dtype = target.dtype, np.result_type(getval(new))
    if new_dtype != dtype:
        if not np.can_cast(new_dtype, dtype, casting):
            if ufunc is not None:  # NumPy's own error, from the same call on empty arrays
                ufunc(*(i if isinstance(i, (int, float, complex)) else
                        np.empty(0, np.result_type(getval(i))) for i in inputs),
                      out=np.empty(0, dtype), casting=casting)
            raise TypeError(f"Cannot cast ufunc '{what}' output from {new_dtype!r} to "
                            f"{dtype!r} with casting rule '{casting}'")
        new = cast(new, dtype)
    if not _mutable(getval(new)):  # a 0-d array stays an array, as NumPy's
        new = apply(P_SETITEM, target, Ellipsis, new)
    assign(target, new)
    return target


def _mutable(value):
    """Whether a write can change ``value`` in place: an array (NumPy's, or CuPy's), or a
    batched value whose examples are arrays; not a NumPy scalar."""
    if type(value) is np.ndarray:
        return True
    if type(value) is BatchTracer:
        return not value._scalar
    if type(value) in ARRAY_STAND_INS:  # recorded by gk.jit: as the value it holds
        return _mutable(value._array)
    return not isinstance(value, np.generic) and hasattr(value, "shape") \
        and hasattr(value, "__setitem__")


def cast(value, dtype):
    """``value`` as ``dtype``, differentiably between float types; to an integer or boolean
    dtype the derivative is zero, as it is for NumPy's truncation almost everywhere."""
    if dtype.kind in "fc" and np.result_type(getval(value)).kind in "fc":
        return np.astype(value, dtype)
    return getval(value).astype(dtype)


def setitem(target, index, value):
    """``target[index] = value`` (``Tracer.__setitem__``).

    The write is one ``setitem`` entry on the tape (a new value; the old one stays as rules
    saw it), and ``target`` and every live view of it are rebound to the result. Its
    derivatives: the cotangent of the old value is ``g`` with the written entries zeroed, that
    of ``value`` is ``g[index]`` (with repeated indices, only the last write counts, as in
    NumPy).

    Args:
        target: the tracer written.
        index: any NumPy index.
        value: the value written (broadcast to the indexed region).

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> def f(x):
        ...     y = np.zeros_like(x)
        ...     y[0] = x[1] ** 2      # Tracer.__setitem__ calls setitem
        ...     y[1:] += x[:2]
        ...     return np.sum(y)
        >>> gk.grad(f)(np.arange(3.0))
        array([1., 3., 0.])
    """
    plain = getval(target)
    if not _mutable(plain):
        raise TypeError(f"'{type(plain).__name__}' object does not support item assignment")
    if type(index) is tuple:
        index = tuple(getval(i) for i in index)
    else:
        index = getval(index)
    if type(value) is Tracer and _already_written(target, index, value):
        return  # x[i] += v: Python hands back the view x[i], already written through
    if plain.dtype.kind not in "fc":
        value = getval(value)  # cast to integers or booleans: no derivative flows through
    assign(target, apply(P_SETITEM, target, index, value))


def _already_written(target, index, value):
    view = getattr(value, "_base", None)
    if view is None or not view.steps:
        return False
    prim, args, _ = view.steps[-1]
    if prim is not P_GETITEM or args[0] is not index:
        return False
    own = getattr(target, "_base", None)
    root, steps = (target, ()) if own is None else (own.root, own.steps)
    return view.root is root and len(view.steps) == len(steps) + 1 and \
        all(a is b for a, b in zip(view.steps, steps))


def assign(target, new):
    """Rebind ``target`` (and its root and every live view of the root) to the value ``new``
    of the same shape and dtype."""
    view = getattr(target, "_base", None)
    plain = getval(target)
    if view is not None and view.frozen:
        raise NoGradientRuleError(view.frozen)
    if is_ndarray(plain) and not plain.flags.writeable:
        raise ValueError("assignment destination is read-only")
    if _aliases_another_argument(target if view is None else view.root):
        raise NoGradientRuleError(
            "The function writes into an argument that shares memory with another argument "
            "(the same array passed twice, or a view of it): NumPy would change both, and a "
            "gradient cannot follow that. Pass copies (f(x, x.copy())).")
    if view is None:
        _rebind(target, new)
        root = target
    else:
        root = view.root
        _rebind(root, apply(P_SETITEM, root, view.index(), new))
    views = getattr(root, "_views", None)
    if views:
        _refresh(root, views)


def _aliases_another_argument(root):
    """Whether ``root``, written now, still holds an argument of its trace's function that
    shares memory with another argument. The arguments are looked at on the first write
    only (then kept as the ids of the aliased arrays): code that never writes pays nothing."""
    trace = root._trace
    args = getattr(trace, "arguments", None)
    if args is None:
        return False
    if type(args) is not frozenset:
        args = trace.arguments = frozenset(_aliased_arrays(args))
    return bool(args) and id(root._value) in args


def _aliased_arrays(args):
    """The ids of the NumPy arrays among ``args`` (and one level into their dicts, lists and
    tuples) that share memory with another of them (the same array twice, or views of one
    array), told first by the arrays' owners (``.base``)."""
    arrays = []
    for arg in args:
        t = type(arg)
        if t is np.ndarray:
            arrays.append(arg)
        elif t is dict or t is list or t is tuple:
            arrays += [v for v in (arg.values() if t is dict else arg) if type(v) is np.ndarray]
    owners = [id(a) if a.base is None else id(a.base) for a in arrays]
    found = set()
    if len(set(owners)) < len(owners):
        for i, a in enumerate(arrays):
            for b, owner in zip(arrays[:i], owners):
                if owner == owners[i] and (a is b or np.may_share_memory(a, b)):
                    found.update((id(a), id(b)))
    return found


def _rebind(t, new):
    trace = t._trace
    if type(new) is BatchTracer:
        raise batched_error("Writing into an array made outside the mapped function")
    if type(new) is not Tracer or new._trace is not trace:
        if type(new) is Tracer and new._trace.level > trace.level:
            raise TracerConversionError(
                "A value traced by an inner transformation (a gradient taken inside the "
                "function) was written into an array of the outer one, where that trace no "
                "longer exists. Return the value from the inner function instead.")
        new = constant_of(trace, new)  # it depends on nothing this trace follows
    t._value, t._aux = new._value, new._aux


def _refresh(root, views):
    """Recompute every live view of ``root`` from its new value."""
    trace = root._trace
    live = []
    for ref in views:
        v = ref()
        if v is None:
            continue
        live.append(ref)
        t = root
        for prim, args, kwargs in v._base.steps:
            t = trace.process(prim, (t,) + args, kwargs)
        v._value, v._aux = t._value, t._aux
    root._views = live


# ----------------------------------------------------------------------------- x[index] = v
def _setitem(x, index, v):
    """A copy of ``x`` with ``x[index] = v`` (NumPy's assignment: casting, broadcasting, the
    last of repeated indices wins)."""
    out = _copy_for(x, v)
    out[index] = v
    return out


def _copy_for(x, v):
    """A copy of ``x`` that can hold ``v``: traced (or batched) when ``v`` is."""
    if type(x) is Tracer or type(x) is BatchTracer:
        return np.copy(x)
    if isinstance(x, (np.ndarray, np.generic, int, float, complex)):
        out = np.array(x, copy=True, order="K", subok=True)  # a cotangent may be a scalar
    elif type(x) in ARRAY_STAND_INS:  # (gk.jit: the same copy, recorded)
        out = np.copy(x, order="K", subok=True)
    else:  # a CuPy array: copied on its device
        out = x.copy()
    if type(v) is Tracer:  # a constant written with a value of an outer trace
        out = constant_of(v._trace, out)
    elif type(v) is BatchTracer:
        out = BatchTracer(v._trace.batched_copy(out), v._trace)
    return out


def _has_repeats(index):
    """Whether ``index`` may name one entry twice (integer arrays; basic indices, boolean
    masks and a view's positions never do)."""
    if type(index) is _Distinct:
        return False
    parts = index if type(index) is tuple else (index,)
    for i in parts:
        if isinstance(i, (list, np.ndarray)) or hasattr(i, "__array__"):
            dtype = getattr(getval(i), "dtype", None)  # (a mask may be batched by vmap)
            if (dtype if dtype is not None else np.asarray(i).dtype).kind != "b":
                return True
    return False


def _last_writes(like, index):
    """Mask over ``x[index]``'s entries: True where that entry's write is the one that stays
    (NumPy keeps the last write to a repeated position); ``like`` has ``x``'s shape. Under
    vmap it is batched, and so are the probe and the mask: each example's own index."""
    while type(like) is Tracer:  # (no derivative: the plain or batched value)
        like = like._value
    probe = np.zeros_like(like, dtype=np.intp)
    region = shape_of(probe[index])
    ids = np.arange(int(np.prod(region)), dtype=np.intp).reshape(region)
    probe[index] = ids
    return probe[index] == ids


def _setitem_vjp_v(g, ans, x, index, v):
    ct = g[index]
    if _has_repeats(index):
        ct = ct * to_device_of(_last_writes(g, index), getval(ct))
    return unbroadcast(ct, v)


#: The primitive of ``x[index] = v`` on a traced value: a new array, differentiable in both.
P_SETITEM = primitive(_setitem, name="setitem")
defvjp(P_SETITEM, lambda g, ans, x, index, v: apply(P_SETITEM, g, index, 0), None,
       _setitem_vjp_v, needs=("index", "", "index"))  # the old and new values: shapes only
defjvp(P_SETITEM, lambda t, ans, x, index, v: apply(P_SETITEM, t, index, 0), None,
       lambda t, ans, x, index, v: apply(P_SETITEM, np.zeros_like(getval(ans)), index, t))


# ----------------------------------------------------------------------------- out= and ufunc.at
def ufunc_into(ufunc, method, inputs, kwargs, out):
    """``ufunc(..., out=out)`` (and ``where=``): computed as a new value, then written.

    Args:
        ufunc: the ufunc.
        method: ``"__call__"`` or a ufunc method (``"reduce"``, ...).
        inputs: its inputs.
        kwargs: its keyword arguments, ``where=`` included (``out=`` taken out).
        out: the array (or tuple of arrays) written.

    Returns:
        What NumPy returns: ``out`` (or the tuple of outputs).

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> def f(x):
        ...     y = np.zeros_like(x)
        ...     np.multiply(x, x, out=y, where=x > 1.0)   # calls ufunc_into
        ...     return np.sum(y)
        >>> gk.grad(f)(np.array([1.0, 2.0, 3.0]))
        array([0., 4., 6.])
    """
    where = kwargs.pop("where", True)
    if method == "__call__":
        result = ufunc(*inputs, **kwargs)
    else:
        result = getattr(ufunc, method)(*inputs, **kwargs)
    outs = out if type(out) is tuple else (out,)
    results = result if type(result) is tuple else (result,)
    written = []
    for o, r in zip(outs, results):
        if o is None:
            written.append(r)
            continue
        if where is not True:
            r = np.where(getval(where), r, o)
        written.append(write_back(o, r, ufunc.__name__, out=True))
    return written[0] if len(written) == 1 else tuple(written)


def _add_at(a, indices, b):
    out = _copy_for(a, b)
    np.add.at(out, indices, b)
    return out


def _subtract_at(a, indices, b):
    out = _copy_for(a, b)
    np.subtract.at(out, indices, b)
    return out


def _at_vjp_b(sign):
    def vjp(g, ans, a, indices, b):
        return unbroadcast(sign * g[indices] if sign < 0 else g[indices], b)
    return vjp


P_ADD_AT = primitive(_add_at, name="add.at")
P_SUBTRACT_AT = primitive(_subtract_at, name="subtract.at")
for _p, _sign in ((P_ADD_AT, 1), (P_SUBTRACT_AT, -1)):
    defvjp(_p, lambda g, ans, a, indices, b: g, None, _at_vjp_b(_sign), needs=("", "", "indices"))
    defjvp(_p, lambda t, ans, a, indices, b: t, None,
           (lambda p: lambda t, ans, a, indices, b: apply(p, np.zeros_like(getval(ans)),
                                                          indices, t))(_p))
_AT = {np.add: P_ADD_AT, np.subtract: P_SUBTRACT_AT}
_AT_LOOP_LIMIT = 10_000


def ufunc_at(ufunc, a, indices, b=None):
    """``np.add.at(a, indices, b)`` and ``np.subtract.at``: unbuffered, so repeated indices
    accumulate, as NumPy's.

    ``add.at`` and ``subtract.at`` are one step each; any other ufunc's ``at`` runs one write
    per index, in NumPy's order (at most 10,000 of them).

    Args:
        ufunc: the ufunc (``np.add``, ``np.subtract``, ``np.multiply``, ...).
        a: the traced array written.
        indices: the indices (repeats accumulate).
        b: the second operand, or None for a one-input ufunc.

    Returns:
        None, as NumPy's ``ufunc.at`` (``a`` is written in place).

    Raises:
        TracerConversionError: ``a`` is a plain NumPy array (the write would drop the
            gradient).
        NoGradientRuleError: too many indices for the one-at-a-time path.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> def f(b):
        ...     a = np.zeros_like(b, shape=(2,))
        ...     np.add.at(a, np.array([0, 0, 1]), b)   # repeated index 0 accumulates
        ...     return a[0] * 10.0 + a[1]
        >>> gk.grad(f)(np.array([1.0, 2.0, 3.0]))
        array([10., 10.,  1.])
    """
    if type(a) is not Tracer:
        raise conversion_error(f"np.{ufunc.__name__}.at into a plain NumPy array")
    if type(indices) is tuple:
        indices = tuple(getval(i) for i in indices)
    else:
        indices = getval(indices)
    prim = _AT.get(ufunc)
    if prim is not None and b is not None:
        return assign(a, apply(prim, a, indices, b))
    # any other ufunc: one entry at a time, in NumPy's order, so repeats compound
    shape = shape_of(a)
    positions = np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)[indices]
    if positions.size > _AT_LOOP_LIMIT:
        raise NoGradientRuleError(
            f"np.{ufunc.__name__}.at on a traced value runs one step per index in gradkit; "
            f"{positions.size} indices is too many. Write it with array operations "
            "(np.add.at and np.subtract.at are single steps).")
    if b is not None:
        b = np.broadcast_to(b, positions.shape)
    for k, p in enumerate(positions.ravel()):
        at = np.unravel_index(p, shape)
        args = (a[at],) if b is None else (a[at], b[np.unravel_index(k, positions.shape)])
        setitem(a, at, ufunc(*args))


from .tracer import P_GETITEM, Tracer, conversion_error  # noqa: E402
from .batching import BatchTracer, batched_error  # noqa: E402

