"""Rules for NumPy functions that make buffers or write into arrays.

``np.zeros_like(x)`` (``empty_like``, ``ones_like``, ``full_like``; ``shape=`` and ``dtype=``
too) of a traced ``x`` is a *traced buffer*: writes into it are followed, so the
preallocate-and-fill idiom differentiates (``out = np.zeros_like(x); out[i] = f(x[i])``).
The writers (``np.copyto``, ``np.put``, ``np.putmask``, ``np.place``, ``np.fill_diagonal``)
are written with ``x[index] = v`` (see ``autodiff/mutation.py``): each computes the entries
NumPy's own function writes, and in the same order, so repeated positions keep NumPy's last
write.
"""
import numpy as np

from ..mutation import constant_of, setitem, write_back
from ..primitive import FUNCTION_HANDLERS
from ..trace import getval, shape_of
from ..tracer import Tracer, conversion_error


# ----------------------------------------------------------------------------- buffers
def _buffer(make):
    def like(a, *args, **kwargs):
        if type(a) is not Tracer:  # only the fill value is traced: np.full_like(plain, t)
            return make(a, *args, **kwargs)
        return constant_of(a._trace, make(a._value, *args, **kwargs))
    return like


def _full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    buffer = _buffer(np.empty_like)(a, dtype=dtype, order=order, subok=subok, shape=shape,
                                    **kwargs)
    if type(buffer) is not Tracer:  # a plain template: the traced fill value makes a buffer
        buffer = constant_of(fill_value._trace, buffer)
    setitem(buffer, Ellipsis, fill_value)
    return buffer


# ----------------------------------------------------------------------------- writers
def _target(a, what):
    if type(a) is not Tracer:
        raise conversion_error(f"{what} of a traced value into a plain NumPy array")
    return a


def _write_flat(a, positions, values):
    """``a.flat[positions] = values`` (``values`` already one per position)."""
    setitem(a, np.unravel_index(positions, shape_of(a)), values)


def _cycled(values, n):
    """``values`` flattened and repeated to ``n`` entries (NumPy's ``np.resize`` order)."""
    flat = np.ravel(values)
    size = np.size(getval(flat))
    if size == n:
        return flat
    return flat[np.arange(n) % size]


def _copyto(dst, src, casting="same_kind", where=True):
    dst = _target(dst, "np.copyto")
    new = np.broadcast_to(src, shape_of(dst)) if where is True else \
        np.where(getval(where), src, dst)
    write_back(dst, new, "copyto", out=True, casting=casting)


def _put(a, ind, v, mode="raise"):
    a = _target(a, "np.put")
    n = int(np.prod(shape_of(a)))
    ind = np.ravel(np.asarray(getval(ind)))
    if mode == "wrap":
        ind = ind % n
    elif mode == "clip":
        ind = np.clip(ind, 0, n - 1)
    else:
        bad = (ind >= n) | (ind < -n)
        if bad.any():
            raise IndexError(f"index {ind[bad][0]} is out of bounds for axis 0 with size {n}")
        ind = np.where(ind < 0, ind + n, ind)
    if ind.size:
        _write_flat(a, ind, _cycled(v, ind.size))


def _putmask(a, mask, values):
    a = _target(a, "np.putmask")
    mask = np.asarray(getval(mask))
    if mask.size != int(np.prod(shape_of(a))):
        raise ValueError("putmask: mask and data must be the same size")
    positions = np.flatnonzero(mask)
    if positions.size:
        _write_flat(a, positions, _cycled(values, int(np.prod(shape_of(a))))[positions])


def _place(arr, mask, vals):
    arr = _target(arr, "np.place")
    positions = np.flatnonzero(np.asarray(getval(mask)))
    if positions.size:
        if np.size(getval(vals)) == 0:
            raise ValueError("Cannot insert from an empty array!")
        _write_flat(arr, positions, _cycled(vals, positions.size))


def _fill_diagonal(a, val, wrap=False):
    a = _target(a, "np.fill_diagonal")
    shape = shape_of(a)
    if len(shape) < 2:
        raise ValueError("array must be at least 2-d")
    if len(shape) == 2:
        # as NumPy: every (columns + 1)-th entry of the flat array; without wrap, the first
        # `columns` rows only (a tall matrix is not refilled below its square)
        step = shape[1] + 1
        end = None if wrap else shape[1] * shape[1]
    else:
        if len(set(shape)) != 1:
            raise ValueError("All dimensions of input must be of equal length")
        step = 1 + int(np.cumprod(shape[:-1]).sum())
        end = None
    positions = np.arange(int(np.prod(shape)))[:end:step]
    if positions.size:
        _write_flat(a, positions, _cycled(val, positions.size))


FUNCTION_HANDLERS.update({
    np.zeros_like: _buffer(np.zeros_like), np.ones_like: _buffer(np.ones_like),
    np.empty_like: _buffer(np.empty_like), np.full_like: _full_like,
    np.copyto: _copyto, np.put: _put, np.putmask: _putmask, np.place: _place,
    np.fill_diagonal: _fill_diagonal,
})
