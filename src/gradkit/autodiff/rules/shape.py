"""Rules for shape functions: reshape, transpose, concatenate, stack, split, tile, pad, sort, ...

Few of them are primitives. ``reshape``, ``transpose``, ``swapaxes``, ``broadcast_to``,
``expand_dims``, ``concatenate`` and ``astype`` carry rules; the rest are written with those
and with indexing (``x[...]``, whose adjoint scatter-adds), so their derivatives, of every
order, follow from rules that are already tested:

- moveaxis, squeeze, ravel, atleast_1d/2d/3d, tile, repeat with one count: reshape / transpose /
  broadcast_to.
- stack, hstack, vstack, dstack, column_stack, roll, diff: concatenate and slices.
- split, array_split, hsplit, vsplit, dsplit: one slice per piece.
- flip, fliplr, flipud, rot90: reversed slices. take, take_along_axis, repeat with counts per
  element, pad in edge / reflect / symmetric / wrap mode: integer indexing.
- sort: the values gathered by the (stable) ``argsort`` permutation, which carries no
  derivative; the gradient follows that permutation.
"""
import functools

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..primitive import (
    FUNCTION_HANDLERS, NoGradientRuleError, TracerConversionError, def_linear, defjvp,
    defvjp, differentiable, identity_rule, primitive)
from ..trace import apply, getval, is_ndarray, unbroadcast
from ..tracer import Tracer
from .indexing import untake
from ...backend import to_device_of, to_numpy


def _along(axis, ndim, index):
    """An index tuple selecting ``index`` on ``axis`` and everything on the other axes."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


# ----------------------------------------------------------------------------- reshape
def _reshape_vjp(g, ans, x, *args, order="C", **kwargs):
    if order not in ("C", "F"):  # (reading back in the same order undoes the reshape)
        raise NoGradientRuleError("gradkit differentiates np.reshape with order='C' or 'F'; "
                                  f"order={order!r} depends on the memory layout.")
    return np.reshape(g, np.shape(x), order=order)


P_RESHAPE = defvjp(np.reshape, _reshape_vjp, needs="")
def_linear(np.reshape, 0)


def _ravel(a, order="C"):
    if order == "F":
        return np.reshape(np.transpose(a), (-1,))
    if order != "C":
        raise NoGradientRuleError(
            f"np.ravel with order={order!r} depends on memory layout, which gradkit does not "
            "track; use order='C' or order='F'.")
    return apply(P_RAVEL, a)


# np.ravel is its own primitive, not a reshape: NumPy returns a view from ravel only for a
# C-contiguous array, from reshape whenever the strides allow (A[:, ::2] of a (2, 4) array)
P_RAVEL = defvjp(np.ravel, lambda g, ans, a: np.reshape(g, np.shape(a)), needs="")
def_linear(np.ravel, 0)



# ----------------------------------------------------------------------------- axes
def _transpose_vjp(g, ans, x, axes=None):
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, tuple(np.argsort([a % np.ndim(x) for a in axes]).tolist()))


defvjp(np.transpose, _transpose_vjp, needs="")
def_linear(np.transpose, 0)

defvjp(np.swapaxes, lambda g, ans, x, axis1, axis2: np.swapaxes(g, axis1, axis2), needs="")
def_linear(np.swapaxes, 0)
defvjp(np.broadcast_to, lambda g, ans, x, shape, **kw: unbroadcast(g, x), needs="")
def_linear(np.broadcast_to, 0)
defvjp(np.expand_dims, lambda g, ans, x, axis: np.reshape(g, np.shape(x)), needs="")
def_linear(np.expand_dims, 0)


def _moveaxis(a, source, destination):
    nd = np.ndim(a)
    source = normalize_axis_tuple(source, nd, "source")
    destination = normalize_axis_tuple(destination, nd, "destination")
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of "
                         "elements")
    order = [n for n in range(nd) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return np.transpose(a, order)


def _squeeze(a, axis=None):
    # numpy computes (and validates) the new shape on a stand-in with the same shape
    shape = np.squeeze(np.broadcast_to(np.empty((), dtype=bool), np.shape(a)), axis).shape
    return np.reshape(a, shape)


def _atleast(ndim):
    # where numpy puts the new length-1 axes: 1-D (n,) becomes (1, n) and (1, n, 1)
    grow = {1: {0: (1,)}, 2: {0: (1, 1), 1: (1, -1)}, 3: {0: (1, 1, 1), 1: (1, -1, 1)}}[ndim]

    def one(a):
        nd = np.ndim(a)
        if nd >= ndim:
            return a
        return np.reshape(a, grow[nd] if nd in grow else np.shape(a) + (1,))

    def atleast(*arys):
        out = tuple(one(a) for a in arys)
        return out[0] if len(out) == 1 else out
    return atleast


_atleast_1d, _atleast_2d, _atleast_3d = _atleast(1), _atleast(2), _atleast(3)

# ----------------------------------------------------------------------------- dtype and copies
@differentiable
def _astype(x, dtype):
    if isinstance(x, Tracer):  # a value of an outer trace: let that trace record it
        return _astype(x, dtype)
    return x.astype(dtype)


def _to_kind(v, dtype):
    """``v`` cast to ``dtype``, dropping an imaginary part explicitly when ``dtype`` is real
    (the derivative of a complex-to-real cast is that of np.real; no ComplexWarning)."""
    if np.dtype(dtype).kind != "c" and getattr(getval(v), "dtype", np.dtype(float)).kind == "c":
        v = np.real(v)
    return _astype(v, dtype)


defvjp(_astype.primitive, lambda g, ans, x, dtype: _to_kind(g, getval(x).dtype), None,
       needs=("", ""))
defjvp(_astype.primitive, lambda t, ans, x, dtype: _to_kind(t, dtype), None)


def astype(x, dtype, copy=True):
    """``x`` converted to the floating-point or complex ``dtype``, differentiably (a copy unless
    ``copy=False`` and ``x`` already has that dtype). ``x.astype`` on a traced value calls it.

    Raises:
        TracerConversionError: for an integer or boolean ``dtype``, which would drop the
            gradient.

    >>> import numpy as np, gradkit as gk
    >>> gk.grad(lambda x: np.sum(x.astype(np.float32) ** 2))(np.array([1.0, 2.0]))
    array([2., 4.])
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        raise TracerConversionError(
            f"Casting a traced value to {dtype} would drop its gradient; cast to a float dtype, "
            "or apply gradkit.stop_gradient first if no derivative should flow through it.")
    if not copy and dtype == getval(x).dtype:
        return x
    return _astype(x, dtype)




# ----------------------------------------------------------------------------- concatenate, stack
_MAX_ARRAYS = 32  # rules are registered per argument; longer lists are joined in groups


@differentiable
def _concatenate(*arrays, axis=0):
    return np.concatenate(arrays, axis=axis)


def _piece(i, arrays, axis):
    start = sum(np.shape(a)[axis] for a in arrays[:i])
    return _along(axis, np.ndim(arrays[i]), slice(start, start + np.shape(arrays[i])[axis]))


def _concatenate_vjp(i, g, ans, *arrays, axis=0):
    return g[_piece(i, arrays, axis)]


def _concatenate_jvp(i, t, ans, *arrays, axis=0):
    return untake(t, _piece(i, arrays, axis), np.shape(ans))


P_CONCATENATE = defvjp(_concatenate.primitive,
                       *[functools.partial(_concatenate_vjp, i) for i in range(_MAX_ARRAYS)])
defjvp(_concatenate.primitive,
       *[functools.partial(_concatenate_jvp, i) for i in range(_MAX_ARRAYS)])


def concatenate(arrays, axis=0):
    """``np.concatenate(arrays, axis)`` as one primitive (for more than 32 arrays, a few).

    The cotangent of each array is its slice of the output's cotangent.

    >>> import numpy as np, gradkit as gk
    >>> gk.grad(lambda x: np.sum(np.concatenate([x, 2.0 * x]) ** 2))(np.array([1.0]))
    array([10.])
    """
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [np.reshape(a, (-1,)) for a in arrays], 0
    axis = normalize_axis_index(axis, max(np.ndim(arrays[0]), 1))
    while len(arrays) > _MAX_ARRAYS:
        arrays = [_concatenate(*arrays[k:k + _MAX_ARRAYS], axis=axis)
                  for k in range(0, len(arrays), _MAX_ARRAYS)]
    return apply(P_CONCATENATE, *arrays, axis=axis)


def _concatenate_handler(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    if dtype is not None:
        arrays = [astype(a, dtype, copy=False) for a in arrays]
    return concatenate(arrays, axis)


def _stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    if len({np.shape(a) for a in arrays}) != 1:
        raise ValueError("all input arrays must have the same shape")
    axis = normalize_axis_index(axis, np.ndim(arrays[0]) + 1)
    return _concatenate_handler([np.expand_dims(a, axis) for a in arrays], axis, dtype=dtype)


def _hstack(tup, *, dtype=None, casting="same_kind"):
    arrays = [_atleast_1d(a) for a in tup]
    axis = 0 if arrays and np.ndim(arrays[0]) == 1 else 1
    return _concatenate_handler(arrays, axis, dtype=dtype)


def _vstack(tup, *, dtype=None, casting="same_kind"):
    return _concatenate_handler([_atleast_2d(a) for a in tup], 0, dtype=dtype)


def _dstack(tup):
    return concatenate([_atleast_3d(a) for a in tup], 2)


def _column_stack(tup):
    return concatenate([np.reshape(a, (-1, 1)) if np.ndim(a) < 2 else a for a in tup], 1)


# ----------------------------------------------------------------------------- split
def _split_at(ary, indices_or_sections, axis, equal):
    axis = normalize_axis_index(axis, np.ndim(ary))
    n = np.shape(ary)[axis]
    split = np.split if equal else np.array_split
    pieces = split(np.arange(n), indices_or_sections)  # numpy's own checks and boundaries
    out, start = [], 0
    for p in pieces:
        out.append(ary[_along(axis, np.ndim(ary), slice(start, start + len(p)))])
        start += len(p)
    return out


def _split(ary, indices_or_sections, axis=0):
    return _split_at(ary, indices_or_sections, axis, equal=True)


def _array_split(ary, indices_or_sections, axis=0):
    return _split_at(ary, indices_or_sections, axis, equal=False)


def _split_on(name, axis, min_ndim):
    def split(ary, indices_or_sections):
        nd = np.ndim(ary)
        if nd < min_ndim:
            raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions")
        return _split_at(ary, indices_or_sections, axis if nd > 1 else 0, equal=True)
    return split


# ----------------------------------------------------------------------------- repeat, tile
def _tile(A, reps):
    reps = tuple(reps) if np.iterable(reps) else (reps,)
    d = max(len(reps), np.ndim(A))
    shape = (1,) * (d - np.ndim(A)) + np.shape(A)
    reps = (1,) * (d - len(reps)) + reps
    spread = np.reshape(A, tuple(n for s in shape for n in (1, s)))
    spread = np.broadcast_to(spread, tuple(n for r, s in zip(reps, shape) for n in (r, s)))
    return _own_copy(np.reshape(spread, tuple(r * s for r, s in zip(reps, shape))), A)


def _own_copy(out, a):
    """``out`` (a reshape of a broadcast of ``a``) as an array of its own, as NumPy's tile and
    repeat return: a reshape that NumPy could make as a view of the broadcast is read-only
    and shares ``a``'s memory, and a write into it must neither raise nor reach ``a``."""
    return np.copy(out) if np.may_share_memory(out, a) else out


def _repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = np.reshape(a, (-1,)), 0
    axis = normalize_axis_index(axis, np.ndim(a))
    shape = np.shape(a)
    if np.ndim(repeats) == 0 or np.size(repeats) == 1:  # one count: a broadcast, summed back
        r = int(np.reshape(repeats, ()))
        spread = np.broadcast_to(np.expand_dims(a, axis + 1),
                                 shape[:axis + 1] + (r,) + shape[axis + 1:])
        return _own_copy(np.reshape(spread, shape[:axis] + (shape[axis] * r,)
                                    + shape[axis + 1:]), a)
    index = np.repeat(np.arange(shape[axis]), to_numpy(repeats))  # on the host, then moved
    return a[_along(axis, len(shape), to_device_of(index, a))]


# ----------------------------------------------------------------------------- gather
def _index_array(indices, a):
    """Integer indices as an array on the device of ``a`` (a list or host array is moved)."""
    indices = getval(indices)
    return to_device_of(indices if hasattr(indices, "dtype") else np.asarray(indices), a)


def _take(a, indices, axis=None, out=None, mode="raise"):
    if axis is None:
        a, axis = np.reshape(a, (-1,)), 0
    axis = normalize_axis_index(axis, np.ndim(a))
    n = np.shape(a)[axis]
    indices = _index_array(indices, a)
    if indices.dtype.kind not in "iu":
        raise TypeError("np.take needs integer indices.")
    if mode == "wrap":
        indices = np.mod(indices, n)
    elif mode == "clip":
        indices = np.clip(indices, 0, n - 1)
    return a[_along(axis, np.ndim(a), indices)]




def _take_along_axis(arr, indices, axis=-1):
    indices = _index_array(indices, arr)
    if axis is None:
        if indices.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        arr, axis = np.reshape(arr, (-1,)), 0
    nd = np.ndim(arr)
    if indices.ndim != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    axis = normalize_axis_index(axis, nd)
    index = []
    for d, n in enumerate(np.shape(arr)):
        if d == axis:
            index.append(indices)
        else:
            index.append(to_device_of(np.arange(n), arr).reshape(
                (1,) * d + (-1,) + (1,) * (nd - d - 1)))
    return arr[tuple(index)]


def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise NoGradientRuleError("np.sort with order= (structured arrays) is not "
                                  "differentiable in gradkit; sort a float array.")
    if axis is None:
        a, axis = np.reshape(a, (-1,)), -1
    return _take_along_axis(a, np.argsort(getval(a), axis=axis, kind="stable"), axis)



# ----------------------------------------------------------------------------- reversal, rolls
def flip_axis(m, axis):
    """``m`` reversed along the one axis ``axis`` (a basic slice)."""
    return m[_along(normalize_axis_index(axis, np.ndim(m)), np.ndim(m), slice(None, None, -1))]


def _flip(m, axis=None):
    nd = np.ndim(m)
    axes = range(nd) if axis is None else normalize_axis_tuple(axis, nd)
    index = [slice(None)] * nd
    for ax in axes:
        index[ax] = slice(None, None, -1)
    return m[tuple(index)]


def _fliplr(m):
    if np.ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip_axis(m, 1)


def _flipud(m):
    if np.ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip_axis(m, 0)


def _rot90(m, k=1, axes=(0, 1)):
    axes = tuple(axes)
    nd = np.ndim(m)
    if len(axes) != 2 or axes[0] == axes[1] or abs(axes[0] - axes[1]) == nd:
        raise ValueError("rot90 needs two different axes.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return _flip(_flip(m, axes[0]), axes[1])
    perm = list(range(nd))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return np.transpose(_flip(m, axes[1]), perm)
    return _flip(np.transpose(m, perm), axes[1])


def _roll(a, shift, axis=None):
    if axis is None:
        return np.reshape(_roll(np.reshape(a, (-1,)), shift, 0), np.shape(a))
    nd = np.ndim(a)
    pairs = np.broadcast(shift, normalize_axis_tuple(axis, nd, allow_duplicate=True))
    shifts = {}
    for s, ax in pairs:
        shifts[int(ax)] = shifts.get(int(ax), 0) + int(s)
    for ax, s in shifts.items():
        n = np.shape(a)[ax]
        s = s % n if n else 0
        if s:
            a = concatenate([a[_along(ax, nd, slice(n - s, None))],
                             a[_along(ax, nd, slice(None, n - s))]], ax)
    return a


def _diff(a, n=1, axis=-1, prepend=None, append=None):
    nd = np.ndim(a)
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis_index(axis, nd)

    def edge(extra):  # a scalar prepend / append is one slice along the axis
        if np.ndim(extra) > 0:
            return extra
        shape = list(np.shape(a))
        shape[axis] = 1
        return np.broadcast_to(extra, tuple(shape))

    if prepend is not None or append is not None:
        parts = ([edge(prepend)] if prepend is not None else []) + [a] + \
            ([edge(append)] if append is not None else [])
        a = concatenate(parts, axis)
    for _ in range(n):
        a = a[_along(axis, nd, slice(1, None))] - a[_along(axis, nd, slice(None, -1))]
    return a


# ----------------------------------------------------------------------------- pad
_INDEX_MODES = {"edge", "reflect", "symmetric", "wrap"}


def _pad(array, pad_width, mode="constant", **kwargs):
    shape = np.shape(array)
    if isinstance(pad_width, dict):  # {axis: width} (NumPy 2.3+): unnamed axes get none
        per_axis = np.zeros((len(shape), 2), dtype=int)
        for ax, w in pad_width.items():
            per_axis[normalize_axis_index(ax, len(shape))] = np.broadcast_to(w, (2,))
        pad_width = per_axis
    widths = np.broadcast_to(np.asarray(pad_width), (len(shape), 2))
    if widths.dtype.kind not in "iu":
        raise TypeError("`pad_width` must be of integral type.")
    if np.any(widths < 0):
        raise ValueError("index can't contain negative values")
    if mode == "constant":
        values = kwargs.pop("constant_values", 0)
        if kwargs:
            raise TypeError(f"unsupported keyword arguments for mode 'constant': {set(kwargs)}")
        def traced(v):  # (np.asarray of a tuple holding a tracer would convert it)
            return isinstance(v, Tracer) or isinstance(v, (tuple, list)) and any(map(traced, v))
        if traced(values):
            raise NoGradientRuleError(
                "np.pad with traced constant_values is not differentiable in gradkit; pad with "
                "0 and add the constant times a padded mask: np.pad(x, w) + c * "
                "np.pad(np.zeros_like(x), w, constant_values=1.0).")
        widths = tuple((int(b), int(e)) for b, e in widths)  # ints: np.pad on any device
        interior = tuple(slice(b, b + n) for (b, _), n in zip(widths, shape))
        out = untake(array, interior, tuple(int(b + n + e) for (b, e), n in zip(widths, shape)))
        if np.any(to_numpy(values) != 0):
            out = out + np.pad(np.zeros_like(getval(array), shape=shape), widths,
                               constant_values=values)
        return out
    if mode in _INDEX_MODES and kwargs.get("reflect_type", "even") == "even":
        # pad the positions, then gather: the same index map np.pad uses for values
        # (an index map on the host, moved to the array's device)
        positions = np.arange(int(np.prod(shape))).reshape(shape)
        index = np.pad(positions, widths, mode=mode, **kwargs)
        return np.reshape(array, (-1,))[to_device_of(index, array)]
    raise NoGradientRuleError(
        f"np.pad with mode={mode!r}{' and reflect_type=odd' if mode in _INDEX_MODES else ''} has "
        "no gradient rule in gradkit; use mode 'constant', 'edge', 'reflect', 'symmetric' or "
        "'wrap'.")


# ----------------------------------------------------------------------------- broadcasting
def _broadcast_arrays(*args, subok=False):
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    return tuple(np.broadcast_to(a, shape) for a in args)


# ----------------------------------------------------------------------------- copies
# a copy is a new array (never a view), with derivative one; any dtype (bool buffers too)
defvjp(np.copy, identity_rule, needs="")
def_linear(np.copy, 0)

# ----------------------------------------------------------------------------- views
# NumPy returns views from these (reshape only where it can): a write through one is seen by
# the other (see autodiff/mutation.py); broadcast_to's views are read-only, as NumPy's.
for _f in (np.reshape, np.ravel, np.transpose, np.swapaxes, np.expand_dims, np.broadcast_to):
    primitive(_f).view = True

# ----------------------------------------------------------------------------- routing
FUNCTION_HANDLERS.update({
    np.ravel: _ravel, np.moveaxis: _moveaxis, np.squeeze: _squeeze, np.atleast_1d: _atleast_1d,
    np.atleast_2d: _atleast_2d, np.atleast_3d: _atleast_3d,
    np.astype: lambda x, dtype, /, *, copy=True, device=None: astype(x, dtype, copy),
    np.concatenate: _concatenate_handler, np.stack: _stack, np.hstack: _hstack,
    np.vstack: _vstack, np.dstack: _dstack, np.column_stack: _column_stack, np.split: _split,
    np.array_split: _array_split, np.hsplit: _split_on("hsplit", 1, 1),
    np.vsplit: _split_on("vsplit", 0, 2), np.dsplit: _split_on("dsplit", 2, 3), np.tile: _tile,
    np.repeat: _repeat, np.take: _take, np.take_along_axis: _take_along_axis, np.sort: _sort,
    np.flip: _flip, np.fliplr: _fliplr, np.flipud: _flipud, np.rot90: _rot90, np.roll: _roll,
    np.diff: _diff, np.pad: _pad, np.broadcast_arrays: _broadcast_arrays,
})


# ============================================================================ issue 13: more
# append, rollaxis, block, partition, sliding_window_view and gradient are written with the
# primitives above (NumPy's values are copies, or the same arithmetic in the same order, so
# they are NumPy's bit for bit); linspace is one primitive with a linear rule.
def _append(arr, values, axis=None):
    if axis is None:  # NumPy flattens both
        return concatenate([np.reshape(arr, (-1,)), np.reshape(values, (-1,))], 0)
    return concatenate([arr, values], axis)


def _rollaxis(a, axis, start=0):
    n = np.ndim(a)
    axis = normalize_axis_index(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(
            f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    axes = [d for d in range(n) if d != axis]
    axes.insert(start, axis)
    return np.transpose(a, axes)


def _block(arrays):
    """np.block as nested concatenates: the innermost lists along the last axis, the outer
    ones along earlier axes, every block first given the result's number of dimensions.
    NumPy checks the nesting and shapes on stand-ins (zeros of the blocks' shapes)."""
    def stand_ins(x):
        if isinstance(x, list):
            return [stand_ins(e) for e in x]
        if isinstance(x, Tracer):
            return np.zeros(np.shape(x), dtype=getval(x).dtype)
        return x
    result_ndim = np.ndim(np.block(stand_ins(arrays)))

    def depth(x):
        return 1 + depth(x[0]) if isinstance(x, list) else 0
    list_depth = depth(arrays)

    def build(x, level):
        if isinstance(x, list):
            return concatenate([build(e, level + 1) for e in x], axis=level - list_depth)
        nd = np.ndim(x)
        return np.reshape(x, (1,) * (result_ndim - nd) + np.shape(x)) if nd < result_ndim \
            else x
    if not isinstance(arrays, list):  # np.block(x) of a single array: a copy of it
        return np.positive(build(arrays, 0))
    return build(arrays, 0)


def _partition(a, kth, axis=-1, kind="introselect", order=None):
    """np.partition's values (NumPy's own), with the gradient following the permutation that
    produced them. The permutation is recovered from ranks: entry j of the result has rank
    r(j) among the (stably sorted) values, so it is the input entry of that rank (tied values
    are equal, so any of them gives the same value; the cotangent goes to one)."""
    if order is not None:
        raise NoGradientRuleError("np.partition with order= (structured arrays) is not "
                                  "differentiable in gradkit; partition a float array.")
    if axis is None:
        a, axis = np.reshape(a, (-1,)), -1
    v = getval(a)
    parted = np.partition(v, kth, axis=axis, kind=kind)
    by_rank = np.argsort(v, axis=axis, kind="stable")
    rank = np.argsort(np.argsort(parted, axis=axis, kind="stable"), axis=axis, kind="stable")
    return _take_along_axis(a, np.take_along_axis(by_rank, rank, axis=axis), axis)


def _sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    """The windows gathered by integer indexing (the windows of the entries' positions): a
    new read-only traced array with NumPy's values; the gradient adds the cotangents of the
    overlapping windows."""
    if writeable:
        raise NoGradientRuleError(
            "sliding_window_view(..., writeable=True) of a traced value is not supported: its "
            "windows would share memory. Use the read-only view and build the result with "
            "np.where / np.concatenate.")
    positions = np.arange(int(np.prod(np.shape(x)))).reshape(np.shape(x))
    index = np.lib.stride_tricks.sliding_window_view(positions, window_shape, axis)
    return np.reshape(x, (-1,))[to_device_of(np.ascontiguousarray(index), x)]


# -- linspace: y_i = start + i (stop - start) / div (the last one stop itself with endpoint), so
# d y_i / d start = 1 - w_i and d y_i / d stop = w_i with w_i = i / div (w = 0 when div <= 0:
# one sample, which is start). Array endpoints broadcast; the samples lie along `axis`.
@differentiable(broadcasts=True)
def _linspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype, axis=axis)


def _linspace_weights(ans, start, stop, num, endpoint):
    div = num - 1 if endpoint else num
    dtype = getval(ans).dtype
    w = np.arange(num, dtype=dtype) / div if div > 0 else np.zeros(num, dtype=dtype)
    shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
    return np.reshape(w, (-1,) + (1,) * len(shape)), shape


def _linspace_rule(which):
    def weight(w):
        return w if which else 1.0 - w

    def vjp(g, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
        w, shape = _linspace_weights(ans, start, stop, num, endpoint)
        g = np.moveaxis(g, normalize_axis_index(axis, len(shape) + 1), 0)
        return np.sum(g * weight(w), axis=0)

    def jvp(t, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
        w, shape = _linspace_weights(ans, start, stop, num, endpoint)
        out = weight(w) * np.broadcast_to(t, shape)
        return np.moveaxis(out, 0, normalize_axis_index(axis, len(shape) + 1))
    return vjp, jvp


(_ls_vjp0, _ls_jvp0), (_ls_vjp1, _ls_jvp1) = _linspace_rule(0), _linspace_rule(1)
defvjp(_linspace.primitive, _ls_vjp0, _ls_vjp1)
defjvp(_linspace.primitive, _ls_jvp0, _ls_jvp1)


def _linspace_handler(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
                      device=None):
    import operator
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TracerConversionError(
            f"np.linspace with dtype={np.dtype(dtype)} of traced endpoints would drop their "
            "gradient; use a float dtype (and round afterwards with gradkit.stop_gradient if "
            "integers are wanted).")
    y = _linspace(start, stop, num=num, endpoint=endpoint, dtype=dtype, axis=axis)
    if not retstep:
        return y
    div = num - 1 if endpoint else num
    return y, ((stop - start) / div if div > 0 else np.nan)


# -- gradient: NumPy's central differences inside and one-sided ones at the edges, with the
# same coefficients and operations, written as slices joined along each axis; the spacing may
# be traced too.
def _gradient(f, *varargs, axis=None, edge_order=1):
    nd = np.ndim(f)
    axes = tuple(range(nd)) if axis is None else normalize_axis_tuple(axis, nd)
    otype = np.result_type(getval(f))
    otype = otype if otype.kind in "fc" else np.dtype(np.float64)
    n = len(varargs)
    if n == 0:
        dx = [1.0] * len(axes)
    elif n == 1 and np.ndim(varargs[0]) == 0:
        dx = list(varargs) * len(axes)
    elif n == len(axes):
        dx = list(varargs)
        for i, distances in enumerate(dx):
            if np.ndim(distances) == 0:
                continue
            if np.ndim(distances) != 1:
                raise ValueError("distances must be either scalars or 1d")
            if len(distances) != np.shape(f)[axes[i]]:
                raise ValueError("when 1d, distances must match the length of the "
                                 "corresponding dimension")
            if not isinstance(distances, Tracer) and not hasattr(distances, "dtype"):
                distances = np.asarray(distances)  # a list of coordinates
            if getval(distances).dtype.kind in "iub":
                distances = np.asarray(distances, dtype=np.float64)
            diffx = np.diff(distances)
            plain = getval(diffx)
            dx[i] = diffx[0] if (plain == plain[0]).all() else diffx
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")

    outvals = []
    for ax, h in zip(axes, dx):
        if np.shape(f)[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                             "least (edge_order + 1) elements are required.")

        def at(s):  # f[..., s, ...] along ax (an int s keeps the axis, as a length-1 slice)
            if isinstance(s, int):
                s = slice(s, s + 1) if s != -1 else slice(-1, None)
            return f[_along(ax, nd, s)]
        uniform = np.ndim(h) == 0

        def edge(a, b, c, i, j, k):
            # a one-sided second-order difference; on a 1-D f NumPy multiplies the entries
            # as scalars (NumPy's scalar product of complex numbers has its own bits)
            if nd == 1:
                return np.reshape(a * f[i] + b * f[j] + c * f[k], (1,))
            return a * at(i) + b * at(j) + c * at(k)
        if uniform:
            inner = (at(slice(2, None)) - at(slice(None, -2))) / (2. * h)
        else:
            dx1, dx2 = h[0:-1], h[1:]
            a = -(dx2) / (dx1 * (dx1 + dx2))
            b = (dx2 - dx1) / (dx1 * dx2)
            c = dx1 / (dx2 * (dx1 + dx2))
            shape = [1] * nd
            shape[ax] = -1
            a, b, c = np.reshape(a, shape), np.reshape(b, shape), np.reshape(c, shape)
            inner = a * at(slice(None, -2)) + b * at(slice(1, -1)) + c * at(slice(2, None))
        if edge_order == 1:
            first = (at(1) - at(0)) / (h if uniform else h[0])
            last = (at(-1) - at(-2)) / (h if uniform else h[-1])
        else:
            if uniform:
                a, b, c = -1.5 / h, 2. / h, -0.5 / h
            else:
                dx1, dx2 = h[0], h[1]
                a = -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2))
                b = (dx1 + dx2) / (dx1 * dx2)
                c = - dx1 / (dx2 * (dx1 + dx2))
            first = edge(a, b, c, 0, 1, 2)
            if uniform:
                a, b, c = 0.5 / h, -2. / h, 1.5 / h
            else:
                dx1, dx2 = h[-2], h[-1]
                a = (dx2) / (dx1 * (dx1 + dx2))
                b = - (dx2 + dx1) / (dx1 * dx2)
                c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
            last = edge(a, b, c, -3, -2, -1)
        out = concatenate([first, inner, last], ax)
        # NumPy writes into an array of f's dtype (float64 for integer f): a float32 f keeps
        # float32, and complex spacings against a real f lose their imaginary part there
        outvals.append(out if getval(out).dtype == otype else _to_kind(out, otype))
    return outvals[0] if len(axes) == 1 else tuple(outvals)


FUNCTION_HANDLERS.update({
    np.append: _append, np.rollaxis: _rollaxis, np.block: _block, np.partition: _partition,
    np.lib.stride_tricks.sliding_window_view: _sliding_window_view,
    np.linspace: _linspace_handler, np.gradient: _gradient,
})


# ============================================================================ real code
# insert and delete gather from the argument (and the inserted values): NumPy's own insert /
# delete run on arrays of positions tell which entry lands where, so every index form,
# broadcast and cast of NumPy's is NumPy's; meshgrid and ediff1d follow NumPy's steps.
def _positions(a):
    return np.reshape(np.arange(int(np.prod(np.shape(a)))), np.shape(a))


def _delete(arr, obj, axis=None):
    where = np.delete(_positions(arr), getval(obj), axis)
    return np.reshape(arr, (-1,))[where]


def _insert(arr, obj, values, axis=None):
    values = values if isinstance(values, Tracer) else np.asarray(values)
    size = int(np.prod(np.shape(arr)))
    where = np.insert(_positions(arr), getval(obj), size + _positions(values), axis)
    dtype = np.result_type(getval(arr))
    pool = concatenate([np.reshape(arr, (-1,)), np.reshape(astype(values, dtype), (-1,))], 0)
    return pool[where]


def _ediff1d(ary, to_end=None, to_begin=None):
    ary = np.reshape(ary, (-1,))
    dtype = np.result_type(getval(ary))
    inner = ary[1:] - ary[:-1]
    if to_begin is None and to_end is None:
        return inner
    parts = []
    for extra, name in ((to_begin, "to_begin"), (to_end, "to_end")):
        if extra is not None:
            extra = extra if isinstance(extra, Tracer) else np.asanyarray(extra)
            if not np.can_cast(np.result_type(getval(extra)), dtype, casting="same_kind"):
                raise TypeError(f"dtype of `{name}` must be compatible with input `ary` "
                                "under the `same_kind` rule.")
            parts.append(astype(np.reshape(extra, (-1,)), dtype))
        else:
            parts.append(None)
    pieces = [p for p in (parts[0], inner, parts[1]) if p is not None]
    return concatenate(pieces, 0)


def _meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    s0 = (1,) * ndim
    output = [np.reshape(x, s0[:i] + (-1,) + s0[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        output[0] = np.reshape(output[0], (1, -1) + s0[2:])
        output[1] = np.reshape(output[1], (-1, 1) + s0[2:])
    if not sparse:
        shape = np.broadcast_shapes(*(np.shape(o) for o in output))
        output = [np.broadcast_to(o, shape) for o in output]
    if copy:
        output = [np.copy(o) for o in output]
    return tuple(output)


FUNCTION_HANDLERS.update({
    np.delete: _delete, np.insert: _insert, np.ediff1d: _ediff1d, np.meshgrid: _meshgrid,
})


def _apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """np.apply_along_axis as NumPy runs it: ``func1d`` on every 1-D slice along ``axis``
    (in C order of the other axes), the results stacked where ``axis`` was."""
    nd = np.ndim(arr)
    axis = normalize_axis_index(axis, nd)
    moved = np.moveaxis(arr, axis, -1)
    outer = np.shape(moved)[:-1]
    if not outer or 0 in outer:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    results = [func1d(moved[index], *args, **kwargs) for index in np.ndindex(*outer)]
    results = [r if isinstance(r, Tracer) else np.asanyarray(r) for r in results]
    stacked = _stack(results)
    res_ndim = np.ndim(stacked) - 1
    stacked = np.reshape(stacked, outer + np.shape(stacked)[1:])
    order = list(range(len(outer)))  # the result's axes go where ``axis`` was
    order[axis:axis] = list(range(len(outer), len(outer) + res_ndim))
    return np.transpose(stacked, order)


def _piecewise(x, condlist, funclist, *args, **kw):
    """np.piecewise with NumPy's steps: a buffer of zeros like ``x`` written through each
    condition's mask (a constant, or the function of the selected entries)."""
    n2 = len(funclist)
    # NumPy's rule (one condition becomes a list of one), for gk.jit's masks too
    if np.ndim(condlist) == 0 or np.ndim(x) != 0 and not (
            isinstance(condlist[0], (list, np.ndarray)) or is_ndarray(condlist[0])):
        condlist = [condlist]
    condlist = np.stack([getval(c) for c in condlist]).astype(bool)  # (gk.jit records it)
    n = len(condlist)
    if n == n2 - 1:  # the extra function: where no condition holds
        condlist = np.concatenate([condlist, ~np.any(condlist, axis=0, keepdims=True)], axis=0)
        n += 1
    elif n != n2:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are expected")
    y = np.zeros_like(x)
    for cond, func in zip(condlist, funclist):
        if not callable(func):
            y[cond] = func
        else:
            vals = x[cond]
            if np.size(vals) > 0:
                y[cond] = func(vals, *args, **kw)
    return y


FUNCTION_HANDLERS.update({np.apply_along_axis: _apply_along_axis, np.piecewise: _piecewise})


def _vander(x, N=None, increasing=False):
    """np.vander with NumPy's steps: a column of ones, then the running products of x
    (NumPy's multiply.accumulate is np.cumprod), the columns reversed unless increasing."""
    n = np.shape(x)
    if len(n) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    N = n[0] if N is None else N
    dtype = np.promote_types(np.result_type(getval(x)), int)
    ones = np.ones_like(getval(x), dtype=dtype, shape=(n[0], min(N, 1)))
    columns = [ones]
    if N > 1:
        powers = np.cumprod(np.repeat(astype(x, dtype)[:, None], N - 1, axis=1), axis=1)
        columns.append(powers)
    v = concatenate(columns, 1)
    return v if increasing else np.copy(v[:, ::-1])  # (NumPy's is C-contiguous: BLAS bits)


FUNCTION_HANDLERS[np.vander] = _vander


def _diagflat(v, k=0):
    """np.diagflat: the flattened input on the k-th diagonal (NumPy's values are a copy)."""
    return np.diag(np.reshape(v, (-1,)), k)


FUNCTION_HANDLERS[np.diagflat] = _diagflat


def _logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """np.logspace with NumPy's steps: base ** linspace(start, stop)."""
    if not isinstance(base, (float, int)) and np.ndim(base):
        ndmax = np.broadcast_shapes(np.shape(start), np.shape(stop), np.shape(base))
        start, stop, base = (np.reshape(a, (1,) * (len(ndmax) - np.ndim(a)) + np.shape(a))
                             for a in (start, stop, base))
        base = np.expand_dims(base, axis=axis)
    y = np.linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    out = np.power(base, y)
    return out if dtype is None else astype(out, dtype, copy=False)


def _geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """np.geomspace with NumPy's steps: logspace of the log10s of the sign-rotated endpoints,
    the endpoints written back exactly, the sign restored."""
    start = start if isinstance(start, Tracer) else np.asanyarray(start)
    stop = stop if isinstance(stop, Tracer) else np.asanyarray(stop)
    if np.any(getval(start) == 0) or np.any(getval(stop) == 0):
        raise ValueError("Geometric sequence cannot include zero")
    dt = np.result_type(getval(start), getval(stop), float(num),
                        np.zeros((), dtype if dtype is not None else None))
    dtype = dt if dtype is None else np.dtype(dtype)
    start, stop = astype(start, dt), astype(stop, dt)
    out_sign = np.sign(getval(start))
    start = start / out_sign
    stop = stop / out_sign
    result = _logspace(np.log10(start), np.log10(stop), num=num, endpoint=endpoint, base=10.0,
                       dtype=dt)
    if num > 0:
        result = np.copy(result)
        result[0] = start
        if num > 1 and endpoint:
            result[-1] = stop
    result = result * out_sign
    if axis != 0:
        result = np.moveaxis(result, 0, axis)
    return astype(result, dtype, copy=False)


FUNCTION_HANDLERS.update({np.logspace: _logspace, np.geomspace: _geomspace})
