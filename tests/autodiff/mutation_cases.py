"""NumPy's mutation semantics, as cases: ordinary NumPy code that writes into arrays.

Each case is a plain function ``f(*args)`` of float64 arrays, written as a user would write it,
that mutates arrays (augmented assignment, item assignment, ``out=``, in-place functions, views)
and returns a float64 scalar or array that depends on every argument *through* the mutated
buffers. ``test_mutation.py`` runs each case twice: on plain NumPy arrays (NumPy's value is the
truth) and traced by gradkit (the value must be NumPy's bit for bit; the derivatives must be the
finite differences of NumPy's function; the caller's arrays must be left unchanged).

A case is registered with :func:`case`:

- ``category``: what it pins (see :data:`CATEGORIES`).
- ``make_args(rng)``: the arguments, drawn from ``np.random.default_rng(crc32(name))``, so a
  case's inputs never change when cases are added or reordered.
- ``smooth``: ``False`` for piecewise functions (boolean masks computed from the inputs, sort,
  ``//``, ``%``, int casts): there the derivative checks are first order only. The inputs are
  away from the kinks (``test_finite_differences_are_meaningful`` checks that).
- ``f32``: the function rounds through float32 inside: finite differences are taken with a
  larger step and compared with a float32 tolerance.
- ``hessian``: also checked by ``gk.hessian`` / ``gk.hvp`` against a finite-difference Hessian
  (smooth scalar functions; the Hessian is taken in the first argument).

The function's docstring (one line) says which NumPy behaviour the case pins.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

CATEGORIES = {
    "augmented": "augmented assignment (+= -= *= /= **= @= //= %=)",
    "setitem": "item assignment x[idx] = v / x[idx] op= v with basic indices",
    "advanced": "integer-array indices, repeated indices (NumPy's buffered assignment)",
    "boolean": "boolean-mask indices",
    "out": "out= into traced buffers",
    "buffer": "buffers: empty_like / zeros_like / ones_like / full_like / copy",
    "inplace_fn": "in-place functions and methods: fill, sort, fill_diagonal, put, copyto, "
                  "putmask, place, ufunc.at",
    "view": "views: writes through views, into bases, views of views, view-or-copy",
    "alias": "aliasing: two names, one array",
    "saved": "values saved by a rule are not changed by a later write",
    "loop": "loops that preallocate and write (RNN, convolutions, solvers)",
    "closure": "closures writing into captured buffers",
    "dtype": "casting on write, as NumPy casts (float32 / int buffers)",
}


@dataclass(frozen=True)
class Case:
    name: str
    fun: Callable
    args: tuple
    category: str
    smooth: bool = True
    f32: bool = False
    hessian: bool = False

    @property
    def doc(self):
        return (self.fun.__doc__ or "").strip()

    def fresh_args(self):
        """Copies of the arguments (the case's functions may write into them)."""
        return tuple(np.array(a, copy=True) for a in self.args)


CASES: list[Case] = []


def case(category, make_args, smooth=True, f32=False, hessian=False):
    """Register the decorated function as a case (see the module docstring)."""
    assert category in CATEGORIES, category

    def register(fun):
        rng = np.random.default_rng(zlib.crc32(fun.__name__.encode()))
        args = tuple(np.asarray(a, dtype=np.float64) for a in make_args(rng))
        assert fun.__name__ not in {c.name for c in CASES}, fun.__name__
        CASES.append(Case(fun.__name__, fun, args, category, smooth, f32, hessian))
        return fun
    return register


def U(rng, *shape, lo=-1.0, hi=1.0):
    """Uniform inputs in [lo, hi)."""
    return rng.uniform(lo, hi, shape)


def away(rng, *shape, lo=-1.0, hi=1.0, step=1.0, margin=0.15):
    """Uniform inputs whose values are at least ``margin * step`` from every multiple of
    ``step`` (and so from the kinks of floor, mod, int casts and sign tests)."""
    x = rng.uniform(lo, hi, shape)
    frac = np.mod(x / step, 1.0)
    frac = margin + (1 - 2 * margin) * frac
    return (np.floor(x / step) + frac) * step


def distinct(rng, *shape, lo=-1.0, hi=1.0):
    """Inputs in [lo, hi) whose values are pairwise at least 0.4 (hi - lo) / size apart (for
    sorts, maxima and comparisons), in random order."""
    n = int(np.prod(shape))
    grid = lo + (hi - lo) * (np.arange(n) + rng.uniform(0.2, 0.8, n)) / n
    return rng.permutation(grid).reshape(shape)


# ============================================================================ augmented
@case("augmented", lambda r: (U(r, 4),), hessian=True)
def iadd_into_copy(x):
    """b = x.copy(); b += x ** 2 adds in place into the copy; x itself is unchanged."""
    b = x.copy()
    b += x ** 2
    return np.sum(b * x)


@case("augmented", lambda r: (U(r, 4),), hessian=True)
def isub_into_argument(x):
    """x -= 0.5 on the argument changes the traced x (never the caller's array)."""
    x -= 0.5
    return np.sum(x ** 3)


@case("augmented", lambda r: (U(r, 3, 2), U(r, 3, 2)))
def imul_by_traced(x, y):
    """b *= y multiplies in place by a traced array."""
    b = x.copy()
    b *= y
    return np.sum(np.sin(b) * x)


@case("augmented", lambda r: (U(r, 5),))
def itruediv_softmax(x):
    """e /= e.sum(): in-place normalisation (true division, not multiplication by 1/s)."""
    e = np.exp(x)
    e /= np.sum(e)
    return e


@case("augmented", lambda r: (U(r, 4),), hessian=True)
def ipow_constant(x):
    """b **= 3 raises in place to a constant power."""
    b = x + 0.1
    b **= 3
    return np.sum(b * x)


@case("augmented", lambda r: (U(r, 4, lo=0.5, hi=2.0), U(r, 4)))
def ipow_traced(x, y):
    """b **= y raises in place to a traced power."""
    b = x.copy()
    b **= y
    return np.sum(b)


@case("augmented", lambda r: (U(r, 3, 3), U(r, 3, 3)))
def imatmul(A, W):
    """A @= W multiplies in place (NumPy >= 1.25: matmul with out=A; A's shape is kept)."""
    A @= W
    return np.sum(np.tanh(A))


@case("augmented", lambda r: (away(r, 5, lo=-2, hi=2, step=0.25),), smooth=False)
def ifloordiv(x):
    """q //= 0.25 floors in place (the view v = q[1:] sees it); q * x still depends on x."""
    q = x.copy()
    v = q[1:]
    q //= 0.25
    return np.sum(q * x) + np.sum(v * x[:-1])


@case("augmented", lambda r: (away(r, 5, lo=-1, hi=1, step=1 / 3),), smooth=False)
def imod(x):
    """r %= 1.0 takes the remainder in place (sign of the divisor, as Python's %); alias sees it."""
    r = x * 3
    alias = r
    r %= 1.0
    return np.sum(alias ** 2 * x)


@case("augmented", lambda r: (U(r, 3, 4), U(r, 3)))
def iadd_broadcast_column(A, x):
    """B += x[:, None] broadcasts a traced column over B in place."""
    B = A.copy()
    B += x[:, None]
    return np.sum(B ** 2 * A)


@case("augmented", lambda r: (U(r, 4),), hessian=True)
def iop_traced_scalar(x):
    """b *= x[0] and b += x: a traced 0-d value broadcast in place."""
    b = np.ones_like(x)
    b *= x[0]
    b += x
    return np.sum(b ** 2)


@case("augmented", lambda r: (U(r, 3, 3),), hessian=True)
def isub_identity(A):
    """A -= np.eye(3): a plain array subtracted in place from a traced one."""
    A -= np.eye(3)
    return np.sum((A @ A) ** 2)


@case("augmented", lambda r: (U(r, 6),))
def layer_norm_in_place(x):
    """x -= x.mean(); x /= std: centring and scaling the argument in place."""
    x -= x.mean()
    x /= np.sqrt(np.mean(x ** 2) + 1e-5)
    return x


@case("augmented", lambda r: (U(r, 4),), hessian=True)
def iop_with_itself(x):
    """b += b doubles, b *= b squares: the operand is the array being written."""
    b = x + 0.3
    b += b
    b *= b
    return np.sum(b * x)


# ============================================================================ setitem
@case("setitem", lambda r: (U(r, 4),), hessian=True)
def setitem_integer(x):
    """b[1] = traced scalar; b[3] = another: integer-index writes into zeros_like."""
    b = np.zeros_like(x)
    b[1] = x[2] * x[0]
    b[3] = np.sin(x[1])
    return np.sum(b * x)


@case("setitem", lambda r: (U(r, 5),))
def setitem_slice(x):
    """b[1:4] = np.exp(x[:3]) writes a slice."""
    b = np.ones_like(x)
    b[1:4] = np.exp(x[:3])
    return np.sum(b ** 2)


@case("setitem", lambda r: (U(r, 4),), hessian=True)
def setitem_plain_constant(x):
    """b[1] = 3.0 and b[-1] = 7 (a Python int): plain constants into a traced buffer."""
    b = x * 2
    b[1] = 3.0
    b[-1] = 7
    return np.sum(b * x ** 2)


@case("setitem", lambda r: (U(r, 4),))
def setitem_negative_step(x):
    """b[::-2] = v writes indices 3 and 1 (in that order)."""
    b = x.copy()
    b[::-2] = x[:2] ** 2
    return np.sum(b ** 3)


@case("setitem", lambda r: (U(r, 3, 3), U(r, 3)))
def setitem_row_and_column(A, x):
    """B[0] = x; B[:, 1] = 2 x: the column write overwrites B[0, 1] set by the row write."""
    B = A.copy()
    B[0] = x
    B[:, 1] = x * 2
    return np.sum(B ** 2 * A)


@case("setitem", lambda r: (U(r, 3, 2), U(r, 3)))
def setitem_ellipsis(A, x):
    """B[..., 0] = x writes the last axis' first entry of every row."""
    B = A.copy()
    B[..., 0] = x
    return np.sum(np.tanh(B) * A)


@case("setitem", lambda r: (U(r, 4),))
def setitem_whole_then_slice_iop(x):
    """b[...] = np.sin(x) overwrites everything; b[:] *= 2 scales in place."""
    b = x.copy()
    b[...] = np.sin(x)
    b[:] *= 2
    return b


@case("setitem", lambda r: (U(r, 4),))
def setitem_list_constant(x):
    """b[:2] = [1.0, -2.0]: a Python list of constants."""
    b = x.copy()
    b[:2] = [1.0, -2.0]
    return np.sum(b * x ** 2)


@case("setitem", lambda r: (U(r, 4),))
def setitem_broadcast_scalar(x):
    """b[1:] = x[0] broadcasts a traced scalar over rows of a (3, 4) buffer."""
    b = np.zeros_like(x, shape=(3, 4))
    b[1:] = x[0]
    b[0] = x
    return np.sum(b ** 2 * np.arange(1.0, 5.0))


@case("setitem", lambda r: (U(r, 4),), hessian=True)
def setitem_iop_item(x):
    """b[2] += x[0] ** 2 and b[:2] *= x[3]: augmented item assignment."""
    b = x.copy()
    b[2] += x[0] ** 2
    b[:2] *= x[3]
    return np.sum(b ** 2)


@case("setitem", lambda r: (U(r, 2, 3, 2), U(r, 2)))
def setitem_3d_mixed(T, v):
    """T[1, :, 0] = ... and T[:, 2] += v: mixed integer/slice indices on a 3-D array."""
    T = T.copy()
    T[1, :, 0] = np.cos(T[0, :, 1])
    T[:, 2] += v
    return np.sum(T ** 2 * np.arange(12.0).reshape(2, 3, 2))


# ============================================================================ advanced
@case("advanced", lambda r: (U(r, 4),))
def fancy_set_distinct(x):
    """b[[3, 0, 2]] = v writes v[0] to b[3], v[1] to b[0], v[2] to b[2]."""
    b = np.zeros_like(x)
    b[[3, 0, 2]] = x[:3] * 2
    return np.sum(b * x)


@case("advanced", lambda r: (U(r, 4),))
def fancy_set_repeated_last_wins(x):
    """b[[0, 0, 1]] = v: the last write to a repeated index wins (b[0] = v[1])."""
    b = x.copy()
    b[[0, 0, 1]] = x[1:4] ** 2
    return np.sum(b * x)


@case("advanced", lambda r: (U(r, 4),))
def fancy_iadd_repeated_adds_once(x):
    """b[[0, 0, 2]] += 1 adds once; b[[1, 1]] += v adds v[1] only (buffered, not np.add.at)."""
    b = x.copy()
    b[[0, 0, 2]] += 1.0
    b[[1, 1]] += x[2:4]
    return np.sum(b ** 2)


@case("advanced", lambda r: (U(r, 4),))
def fancy_imul_repeated(x):
    """b[[2, 2, 2]] *= v multiplies b[2] once, by v[2] (the last)."""
    b = x.copy()
    b[[2, 2, 2]] *= x[:3]
    return np.sum(b ** 2 * x)


@case("advanced", lambda r: (U(r, 2, 3), U(r, 3)))
def fancy_2d_pairs_repeated(A, v):
    """B[[0, 1, 1], [2, 0, 0]] = v: pairs of indices; the repeated pair keeps v[2]."""
    B = A.copy()
    B[[0, 1, 1], [2, 0, 0]] = v
    return np.sum(B ** 2 * A)


@case("advanced", lambda r: (U(r, 2, 3), U(r, 3)))
def fancy_columns_repeated_iadd(A, x):
    """B[:, [0, 0, 2]] += x: a slice with repeated columns; column 0 gets x[1] once."""
    B = A.copy()
    B[:, [0, 0, 2]] += x
    return np.sum(B ** 2 * A)


@case("advanced", lambda r: (U(r, 4),))
def fancy_swap_ends(x):
    """b[[-1, 0]] = b[[0, -1]]: the right side is a copy, so the ends are swapped."""
    b = x.copy()
    b[[-1, 0]] = b[[0, -1]]
    return np.sum(b * x ** 2)


@case("advanced", lambda r: (U(r, 3, 3),))
def fancy_row_swap(A):
    """B[[0, 2]] = B[[2, 0]] swaps rows 0 and 2 correctly (fancy reads copy)."""
    B = A.copy()
    B[[0, 2]] = B[[2, 0]]
    return np.sum(B * A ** 2)


@case("advanced", lambda r: (U(r, 5),))
def fancy_index_array_int_dtype(x):
    """b[np.array([4, 1])] = v with an int64 index array, then b[idx] -= x[idx]."""
    b = np.ones_like(x)
    idx = np.array([4, 1])
    b[idx] = np.exp(x[idx])
    b[idx] -= x[idx]
    return np.sum(b * x)


# ============================================================================ boolean
@case("boolean", lambda r: (away(r, 3, 4, step=2.0, lo=-1, hi=1),), smooth=False)
def clip_negative_to_zero(D):
    """D[D < 0] = 0: the mask is computed before the write; gradient zero where clipped."""
    D[D < 0] = 0
    return np.sum(np.exp(D) * D)


@case("boolean", lambda r: (away(r, 5, step=2.0), U(r, 5)), smooth=False)
def mask_set_traced(x, y):
    """b[x > 0] = y[x > 0] ** 2: a traced right side of the mask's length."""
    b = x.copy()
    m = x > 0
    b[m] = y[m] ** 2
    return np.sum(b * y)


@case("boolean", lambda r: (away(r, 5, step=0.4, lo=-0.8, hi=0.8) + 0.2,), smooth=False)
def mask_imul(x):
    """x[x > 0.2] *= 3.0: augmented assignment through a mask, on the argument."""
    x[x > 0.2] *= 3.0
    return np.sum(x ** 2 * np.arange(1.0, 6.0))


@case("boolean", lambda r: (away(r, 3, 3, step=2.0),), smooth=False)
def mask_2d_iadd_traced(A):
    """B[B > 0] += A[A > 0] ** 2: masked augmented assignment with a traced right side."""
    B = A.copy()
    B[B > 0] += A[A > 0] ** 2
    return np.sum(B * A)


@case("boolean", lambda r: (U(r, 3, 3), U(r, 3)))
def mask_rows(A, x):
    """B[[True, False, True]] = x: a boolean row mask (plain), x broadcast to both rows."""
    B = A.copy()
    B[np.array([True, False, True])] = x
    return np.sum(B ** 2 * A)


@case("boolean", lambda r: (U(r, 4),))
def mask_built_in_bool_buffer(x):
    """m = zeros_like(x, dtype=bool); m[[0, 2]] = True; b[m] = x[m]."""
    m = np.zeros_like(x, dtype=bool)
    m[[0, 2]] = True
    b = np.ones_like(x)
    b[m] = x[m]
    return np.sum(np.exp(b) * x)


@case("boolean", lambda r: (U(r, 4),), hessian=True)
def mask_all_false_and_all_true(x):
    """b[x > 10] = 0 selects nothing (a no-op); b[x > -10] *= 2 selects everything."""
    b = x.copy()
    b[x > 10] = 0.0
    b[x > -10] *= 2
    return np.sum(b ** 3)


@case("boolean", lambda r: (away(r, 3, 3, step=2.0),), smooth=False)
def nonzero_tuple_index(A):
    """B[np.nonzero(B > 0)] = 0: the tuple of index arrays from nonzero, same as the mask."""
    B = A.copy()
    B[np.nonzero(B > 0)] = 0.0
    return np.sum(np.exp(B) * A)


@case("boolean", lambda r: (U(r, 4),))
def bool_list_is_a_mask(x):
    """b[[True, False, True, False]] *= 3: a Python list of bools indexes as a mask."""
    b = x.copy()
    b[[True, False, True, False]] *= 3.0
    return np.sum(b ** 2 * x)


# ============================================================================ out=
@case("out", lambda r: (U(r, 2, 3),), hessian=True)
def exp_out_self(X):
    """np.exp(X, out=X) overwrites the argument with its exponential."""
    np.exp(X, out=X)
    return np.sum(X * X)


@case("out", lambda r: (U(r, 4), U(r, 4)))
def add_out_empty_like(a, b):
    """c = np.empty_like(a); np.add(a, b, out=c) fills every entry of an empty buffer."""
    c = np.empty_like(a)
    np.add(a, b, out=c)
    return np.sum(c ** 2 * a)


@case("out", lambda r: (U(r, 3, 4), U(r, 4, 2)))
def matmul_out(A, B):
    """np.matmul(A, B, out=C) with C = zeros_like(A, shape=(3, 2))."""
    C = np.zeros_like(A, shape=(3, 2))
    np.matmul(A, B, out=C)
    return C


@case("out", lambda r: (U(r, 3, 3),), hessian=True)
def dot_out(A):
    """np.dot(A, A, out=C): np.dot's out= (C-contiguous, exact dtype)."""
    C = np.zeros_like(A)
    np.dot(A, A, out=C)
    return np.sum(np.sin(C))


@case("out", lambda r: (U(r, 4),))
def ufunc_out_view(x):
    """np.sin(x, out=b[1:5]) writes into a view; b[0] and b[5] keep their zeros."""
    b = np.zeros_like(x, shape=(6,))
    np.sin(x, out=b[1:5])
    return np.sum(b * b[::-1]) + np.sum(b * np.arange(6.0))


@case("out", lambda r: (U(r, 4),), hessian=True)
def ufunc_out_tuple(x):
    """np.multiply(x, x, out=(b,)): out= given as a one-element tuple."""
    b = np.ones_like(x)
    np.multiply(x, x, out=(b,))
    return np.sum(b * x)


@case("out", lambda r: (away(r, 5, step=2.0),), smooth=False)
def ufunc_out_where(x):
    """np.multiply(x, 3, out=b, where=x > 0): entries outside where keep b's values."""
    b = x ** 2
    np.multiply(x, 3.0, out=b, where=x > 0)
    return np.sum(b ** 2)


@case("out", lambda r: (U(r, 4, 3),))
def sum_out(A):
    """np.sum(A, axis=0, out=s) then s *= 2: a reduction's out=."""
    s = np.zeros_like(A, shape=(3,))
    np.sum(A, axis=0, out=s)
    s *= 2
    return np.sum(s ** 2)


@case("out", lambda r: (U(r, 5),))
def cumsum_out(x):
    """np.cumsum(x, out=c) into an empty_like buffer."""
    c = np.empty_like(x)
    np.cumsum(x, out=c)
    return np.sum(np.sin(c) * x)


@case("out", lambda r: (U(r, 5),))
def ufunc_out_overlapping_input(x):
    """np.tanh(x[:-1], out=x[1:]): NumPy reads the old values though input and output overlap."""
    np.tanh(x[:-1], out=x[1:])
    return x


@case("out", lambda r: (away(r, 5, step=0.5, lo=-1, hi=1),), smooth=False)
def clip_out_self(x):
    """np.clip(x, -0.5, 0.5, out=x) clips the argument in place."""
    np.clip(x, -0.5, 0.5, out=x)
    return np.sum(x * np.arange(1.0, 6.0) + x ** 2)


@case("out", lambda r: (lambda x: (x, x + np.array([0.3, -0.3, 0.4, -0.2])))(U(r, 4)),
      smooth=False)
def maximum_out_self(x, y):
    """np.maximum(x, y, out=x): a binary ufunc writing into its first input."""
    np.maximum(x, y, out=x)
    return np.sum(x ** 2 + x * y)


@case("out", lambda r: (U(r, 4),))
def out_returns_the_buffer(x):
    """r = np.exp(x, out=b) returns b itself: writing r[0] writes b."""
    b = np.zeros_like(x)
    r = np.exp(x, out=b)
    r[0] = x[1] * 2
    return b * x


# ============================================================================ buffer
@case("buffer", lambda r: (U(r, 5),))
def empty_like_filled_by_loop(x):
    """out = np.empty_like(x); out[i] = f(x[i]) for every i (empty's garbage never read)."""
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = np.sin(x[i]) * x[i - 1]
    return out


@case("buffer", lambda r: (U(r, 4),), hessian=True)
def empty_like_with_shape(x):
    """np.empty_like(x, shape=(2, 4)) filled row by row."""
    out = np.empty_like(x, shape=(2, 4))
    out[0] = x
    out[1] = x ** 2
    return np.sum(out @ out.T)


@case("buffer", lambda r: (U(r, 2, 3),), hessian=True)
def zeros_like_shape_and_dtype(A):
    """np.zeros_like(A, shape=(3,), dtype=np.float64): both keywords."""
    b = np.zeros_like(A, shape=(3,), dtype=np.float64)
    b[0] = np.sum(A)
    b[1:] = A[1, 1:] * A[0, :2]
    return np.sum(b ** 2)


@case("buffer", lambda r: (U(r, 4, lo=0.5, hi=1.5),), hessian=True)
def ones_like_0d_product(x):
    """p = np.ones_like(x, shape=()); p *= xi in a loop: a 0-d buffer, mutated in place."""
    p = np.ones_like(x, shape=())
    for xi in x:
        p *= xi
    return p


@case("buffer", lambda r: (U(r, 4),), hessian=True)
def full_like_plain_fill(x):
    """np.full_like(x, 2.5) then b[1:] -= x[:-1]."""
    b = np.full_like(x, 2.5)
    b[1:] -= x[:-1]
    return np.sum(b ** 2 * x)


@case("buffer", lambda r: (U(r, 4),))
def full_like_traced_fill(x):
    """np.full_like(x, x[0], shape=(2, 4)): a traced fill value."""
    b = np.full_like(x, x[0], shape=(2, 4))
    b[1] = x
    return np.sum(b ** 2 * x)


@case("buffer", lambda r: (U(r, 4),), hessian=True)
def copy_method_is_independent(x):
    """y = x.copy(); writes into y leave x as it was."""
    y = x.copy()
    y[0] = 0.0
    y *= 2
    return np.sum(x * y) + np.sum(x ** 3)


@case("buffer", lambda r: (U(r, 3, 3),))
def np_copy_is_independent(A):
    """B = np.copy(A); B[1] += A[0] leaves A as it was."""
    B = np.copy(A)
    B[1] += A[0]
    return np.sum(A * B ** 2)


@case("buffer", lambda r: (U(r, 4),))
def zeros_like_matrix_from_vector(x):
    """M = zeros_like(x, shape=(4, 4)); M[arange, arange] = x; M[0, 1:] = x[1:]."""
    M = np.zeros_like(x, shape=(4, 4))
    M[np.arange(4), np.arange(4)] = x
    M[0, 1:] = x[1:]
    return np.sum(np.tanh(M @ x))


# ============================================================================ inplace_fn
@case("inplace_fn", lambda r: (U(r, 4),))
def fill_plain(x):
    """b.fill(0.5) overwrites every entry with a constant."""
    b = x.copy()
    b.fill(0.5)
    b += x
    return np.sum(b ** 2 * x)


@case("inplace_fn", lambda r: (U(r, 4),))
def fill_traced(x):
    """b.fill(x[1]) fills with a traced scalar."""
    b = np.empty_like(x)
    b.fill(x[1])
    b[0] = x[0]
    return np.sum(b * x)


@case("inplace_fn", lambda r: (distinct(r, 5),), smooth=False)
def sort_argument(x):
    """x.sort() sorts the argument in place (ascending)."""
    x.sort()
    return np.sum(x * np.arange(1.0, 6.0) + x ** 3)


@case("inplace_fn", lambda r: (distinct(r, 3, 3),), smooth=False)
def sort_axis0(A):
    """A.sort(axis=0) sorts each column."""
    A.sort(axis=0)
    return np.sum(A * np.arange(9.0).reshape(3, 3) + A ** 2)


@case("inplace_fn", lambda r: (distinct(r, 3, 4),), smooth=False)
def sort_default_last_axis(A):
    """B.sort() sorts along the last axis (axis=-1) by default."""
    B = A * 1.5
    B.sort()
    return np.sum(B * np.arange(12.0).reshape(3, 4))


@case("inplace_fn", lambda r: (distinct(r, 3, 3),), smooth=False)
def sort_row_view(A):
    """A[1].sort() sorts row 1 of A through the view."""
    A[1].sort()
    return np.sum(A * np.arange(9.0).reshape(3, 3) + A ** 2)


@case("inplace_fn", lambda r: (distinct(r, 5),), smooth=False)
def sort_reversed_view(x):
    """x[::-1].sort() sorts a reversed view: x ends up descending."""
    x[::-1].sort()
    return np.sum(x * np.arange(1.0, 6.0))


@case("inplace_fn", lambda r: (distinct(r, 2, 3),), smooth=False)
def sort_ravel_view(A):
    """A.ravel().sort(): ravel of a C-contiguous array is a view, so A is sorted flat."""
    A.ravel().sort()
    return np.sum(A * np.arange(6.0).reshape(2, 3))


@case("inplace_fn", lambda r: (U(r, 3, 3),), hessian=True)
def fill_diagonal_scalar(A):
    """np.fill_diagonal(A, 0.0) zeroes the diagonal of the argument."""
    np.fill_diagonal(A, 0.0)
    return np.sum(A ** 2 * (A @ A))


@case("inplace_fn", lambda r: (U(r, 3, 3), U(r, 3)))
def fill_diagonal_traced_array(A, x):
    """np.fill_diagonal(B, x) with a traced array of the diagonal's length."""
    B = A.copy()
    np.fill_diagonal(B, x)
    return np.sum(np.sin(B) * A)


@case("inplace_fn", lambda r: (U(r, 4, 4),))
def fill_diagonal_cycles_values(A):
    """np.fill_diagonal(A, [1.0, 2.0]) on 4x4: the values repeat along the diagonal."""
    np.fill_diagonal(A, [1.0, 2.0])
    return A


@case("inplace_fn", lambda r: (U(r, 5, 2),))
def fill_diagonal_wrap(A):
    """np.fill_diagonal(A, 9.0, wrap=True) on a tall 5x2: the diagonal restarts at row 3."""
    np.fill_diagonal(A, 9.0, wrap=True)
    return A


@case("inplace_fn", lambda r: (U(r, 5, 2), U(r, 1)))
def fill_diagonal_wrap_traced(A, v):
    """np.fill_diagonal(B, v[0], wrap=True) with a traced scalar, tall matrix."""
    B = A.copy()
    np.fill_diagonal(B, v[0], wrap=True)
    return np.sum(B ** 2 * A)


@case("inplace_fn", lambda r: (U(r, 4),))
def put_repeated_last_wins(x):
    """np.put(b, [0, 2, 0], v): flat indices; the repeated index keeps the last (v[2])."""
    b = np.zeros_like(x)
    np.put(b, [0, 2, 0], x[1:4])
    return np.sum(b * x)


@case("inplace_fn", lambda r: (U(r, 2, 3), U(r, 2)))
def put_wrap(A, v):
    """np.put(A, [-1, 7], v, mode='wrap'): flat indices wrap (5 and 1)."""
    np.put(A, [-1, 7], v, mode="wrap")
    return np.sum(A ** 2 * np.arange(6.0).reshape(2, 3))


@case("inplace_fn", lambda r: (U(r, 5),))
def put_clip_and_cycle(x):
    """np.put(b, [1, 10, 3], [x0, x1], mode='clip'): 10 clips to 4; values cycle."""
    b = x.copy()
    np.put(b, [1, 10, 3], x[:2] ** 2, mode="clip")
    return np.sum(b * x)


@case("inplace_fn", lambda r: (U(r, 4), away(r, 4, step=2.0)), smooth=False)
def copyto_where(x, y):
    """np.copyto(b, y, where=y > 0) copies only where the mask holds."""
    b = x.copy()
    np.copyto(b, y, where=y > 0)
    return np.sum(b ** 2 * x)


@case("inplace_fn", lambda r: (U(r, 2, 3), U(r, 3)))
def copyto_broadcast(A, x):
    """np.copyto(A, x) broadcasts x over A's rows (A's values are gone)."""
    B = A.copy()
    np.copyto(A, x)
    return np.sum(A * B + A ** 2)


@case("inplace_fn", lambda r: (U(r, 4),))
def copyto_plain_scalar_where_list(x):
    """np.copyto(x, 1.0, where=[True, False, True, False]): plain scalar, mask as a list."""
    np.copyto(x, 1.0, where=[True, False, True, False])
    return np.sum(x ** 2 * np.arange(1.0, 5.0))


@case("inplace_fn", lambda r: (away(r, 5, step=2.0), U(r, 2)), smooth=False)
def putmask_cycles_by_position(x, v):
    """np.putmask(b, b > 0, v): b[i] = v[i % len(v)], i the flat position in b."""
    b = x.copy()
    np.putmask(b, b > 0, v)
    return np.sum(b * np.arange(1.0, 6.0) + b ** 2)


@case("inplace_fn", lambda r: (away(r, 5, step=2.0), U(r, 2)), smooth=False)
def place_cycles_by_count(x, v):
    """np.place(b, b > 0, v): the k-th selected entry gets v[k % len(v)] (unlike putmask)."""
    b = x.copy()
    np.place(b, b > 0, v)
    return np.sum(b * np.arange(1.0, 6.0) + b ** 2)


@case("inplace_fn", lambda r: (U(r, 4), U(r, 6)))
def add_at_repeated_accumulates(x, v):
    """np.add.at(y, [0, 0, 2, 3, 3, 3], v): repeated indices accumulate (unbuffered)."""
    y = np.zeros_like(x)
    np.add.at(y, [0, 0, 2, 3, 3, 3], v)
    return np.sum(y ** 2 * x)


@case("inplace_fn", lambda r: (U(r, 4),), hessian=True)
def subtract_at_repeated(x):
    """np.subtract.at(b, [1, 1, 3], v) subtracts v[0] and v[1] from b[1]."""
    b = x.copy()
    np.subtract.at(b, [1, 1, 3], x[:3] ** 2)
    return np.sum(b ** 3)


@case("inplace_fn", lambda r: (U(r, 4), U(r, 3)))
def multiply_at_repeated(x, v):
    """np.multiply.at(b, [1, 1, 2], v): b[1] is multiplied by v[0] and by v[1]."""
    b = x + 1.0
    np.multiply.at(b, [1, 1, 2], v)
    return np.sum(b ** 2)


@case("inplace_fn", lambda r: (U(r, 2, 3), U(r, 3)))
def add_at_2d_pairs(A, v):
    """np.add.at(A, (rows, cols), v) with the pair (0, 1) twice."""
    np.add.at(A, (np.array([0, 0, 1]), np.array([1, 1, 2])), v)
    return np.sum(np.tanh(A) * A)


@case("inplace_fn", lambda r: (U(r, 4),), hessian=True)
def add_at_plain_constant(x):
    """np.add.at(x, [0, 0], 1.0) adds 2.0 to x[0]."""
    np.add.at(x, [0, 0], 1.0)
    return np.sum(x ** 3)


# ============================================================================ view
@case("view", lambda r: (U(r, 3, 3),), hessian=True)
def view_row_sees_base_write(A):
    """r = A[0]; A[0, 1] = ...: the live view r sees the write into its base."""
    r = A[0]
    A[0, 1] = np.sin(A[2, 2])
    return np.sum(r ** 2 * A[1])


@case("view", lambda r: (U(r, 3, 3),))
def view_write_updates_base(A):
    """r = A[1]; r *= 2; r[0] = A[2, 0]: writes through a view change A."""
    r = A[1]
    r *= 2
    r[0] = A[2, 0]
    return np.sum(A ** 2 * np.arange(9.0).reshape(3, 3))


@case("view", lambda r: (U(r, 4, 4),))
def views_of_views(A):
    """B = A[1:]; C = B[:, 1:]; writes through C change B and A at the shifted place."""
    B = A[1:]
    C = B[:, 1:]
    C[0, 0] = np.exp(A[0, 0])
    C += 1.0
    B[2] *= 3.0
    return np.sum(A * A[::-1]) + np.sum(B ** 2) + np.sum(C ** 3)


@case("view", lambda r: (U(r, 3, 3),))
def transpose_attribute_write(A):
    """A.T[0] = np.cos(A[0]) writes column 0 of A."""
    A.T[0] = np.cos(A[0])
    return A


@case("view", lambda r: (U(r, 2, 2, 3),))
def transpose_axes_3d(A):
    """T = np.transpose(A, (2, 0, 1)); T[1] += 1 changes A[:, :, 1]."""
    T = np.transpose(A, (2, 0, 1))
    T[1] += A[0, 0, 0]
    return np.sum(A ** 2 * np.arange(12.0).reshape(2, 2, 3))


@case("view", lambda r: (U(r, 2, 3),))
def swapaxes_view(A):
    """S = np.swapaxes(A, 0, 1); S[0] *= A[1, 1] scales column 0 of A."""
    S = np.swapaxes(A, 0, 1)
    S[0] *= A[1, 1]
    return np.sum(A ** 2 * A)


@case("view", lambda r: (U(r, 6),))
def reshape_contiguous_is_view(x):
    """M = x.reshape(2, 3) is a view; M[1] = M[0] ** 2 writes x[3:]."""
    M = x.reshape(2, 3)
    M[1] = M[0] ** 2
    return x


@case("view", lambda r: (U(r, 6),))
def np_reshape_function_is_view(x):
    """np.reshape(x, (3, 2))[:, 1] = 0 writes x[1], x[3], x[5]."""
    np.reshape(x, (3, 2))[:, 1] = 0.0
    return np.sum(np.exp(x) * x)


@case("view", lambda r: (U(r, 2, 3),))
def reshape_of_transpose_is_copy(A):
    """v = A.T.reshape(-1) is a copy (A.T is not contiguous): writing v leaves A."""
    v = A.T.reshape(-1)
    v[:2] = 0.0
    v += 1.0
    return np.sum(A ** 2) + np.sum(v * A.ravel())


@case("view", lambda r: (U(r, 2, 3),))
def ravel_contiguous_is_view(A):
    """r = A.ravel() is a view: r[::2] = r[1::2] writes A."""
    r = A.ravel()
    r[::2] = r[1::2] * 2
    return A


@case("view", lambda r: (U(r, 2, 4),))
def ravel_of_strided_slice_is_copy(A):
    """A[:, ::2].ravel() is a copy: writing it leaves A."""
    r = A[:, ::2].ravel()
    r += 1.0
    r[0] = 5.0
    return np.sum(A ** 2) + np.sum(r ** 2 * A[0])


@case("view", lambda r: (U(r, 2, 3),))
def flatten_is_always_copy(A):
    """A.flatten() is a copy even when A is contiguous."""
    f = A.flatten()
    f[0] = 100.0
    f *= 2
    return np.sum(A * f[::-1].reshape(2, 3)) + np.sum(A)


@case("view", lambda r: (U(r, 1, 3, 1),))
def squeeze_view(A):
    """s = A.squeeze(); s[1] = ...: squeeze is a view."""
    s = A.squeeze()
    s[1] = A[0, 0, 0] * A[0, 2, 0]
    return A


@case("view", lambda r: (U(r, 4),))
def expand_dims_and_newaxis_views(x):
    """np.expand_dims(x, 0) and x[..., None] are views; writes change x."""
    e = np.expand_dims(x, 0)
    e[0, 1] = e[0, 2] * 3
    c = x[..., None]
    c *= c
    return x


@case("view", lambda r: (U(r, 3, 3),))
def chained_indexing(A):
    """A[0][1] = v and A[2][:] *= 2: chained basic indexing writes A."""
    A[0][1] = np.exp(A[1][1])
    A[2][:] *= 2
    return A


@case("view", lambda r: (away(r, 3, 3, step=2.0),))
def chained_fancy_is_copy(A):
    """A[[0, 1]][0] = 0 and A[A > 0][0] = 0 write into copies: A is unchanged."""
    A[[0, 1]][0] = 0.0
    A[A > 0][0] = 0.0
    return np.sum(A ** 2)


@case("view", lambda r: (U(r, 4),))
def fancy_read_is_copy(x):
    """c = x[[0, 1]] is a copy: c[0] = 5; c *= 2 leave x."""
    c = x[[0, 1]]
    c[0] = 5.0
    c *= 2
    return np.sum(x ** 2) + np.sum(c * x[:2])


@case("view", lambda r: (U(r, 4),))
def negative_stride_view(x):
    """r = x[::-1]; r[0] = x[0] writes x[-1]; r += arange writes x reversed."""
    r = x[::-1]
    r[0] = x[0]
    r += np.arange(4.0)
    return x


@case("view", lambda r: (U(r, 3, 3),))
def base_write_updates_every_view(A):
    """A *= 2 and A[0, 1] += 1 are seen by the row, column and transpose views."""
    r = A[0]
    c = A[:, 1]
    t = A.T
    A *= 2
    A[0, 1] += A[2, 2]
    return np.sum(r ** 2) + np.sum(c ** 3) + np.sum(t * A)


@case("view", lambda r: (U(r, 4),), hessian=True)
def view_of_argument(x):
    """v = x[:2]; v += 1 changes the traced x."""
    v = x[:2]
    v += 1
    return np.sum(x ** 3)


@case("view", lambda r: (U(r, 3, 3),))
def rebinding_is_not_writing(A):
    """A = A * 2 makes a new array: the old view r keeps the old A."""
    r = A[0]
    A = A * 2
    A[0] = 0.0
    return np.sum(r ** 2) + np.sum(A ** 2)


@case("view", lambda r: (U(r, 3),))
def zero_d_view_sees_write(x):
    """r = x[1, ...] is a 0-d view (x[1] is a copy): x[1] = ... changes r."""
    r = x[1, ...]
    s = x[1]
    x[1] = x[0] ** 2
    return r * x[2] + s * x[0]


@case("view", lambda r: (U(r, 4),))
def overlapping_views(x):
    """a = x[:3]; b = x[1:]: a += 1 then b *= 2 (overlapping views of one base)."""
    a = x[:3]
    b = x[1:]
    a += 1
    b *= 2
    return x * a[0]


@case("view", lambda r: (U(r, 5),))
def overlapping_iadd_reads_old(x):
    """x[1:] += x[:-1]: NumPy detects the overlap and reads the old x (no running sum)."""
    x[1:] += x[:-1]
    return x


@case("view", lambda r: (U(r, 5),))
def reverse_in_place(x):
    """x[:] = x[::-1] reverses correctly (the overlapping source is copied first)."""
    x[:] = x[::-1]
    return x * np.arange(1.0, 6.0)


@case("view", lambda r: (U(r, 5),))
def shift_in_place(x):
    """x[1:] = x[:-1] shifts right (memmove semantics)."""
    x[1:] = x[:-1]
    return x ** 2


@case("view", lambda r: (U(r, 2, 3),))
def moveaxis_and_atleast_2d_views(A):
    """np.moveaxis(A, 0, -1) and np.atleast_2d(A[0]) are views of A."""
    M = np.moveaxis(A, 0, -1)
    M[0] = M[2] * 2
    np.atleast_2d(A[1])[0, 1] = A[0, 0] ** 2
    return A


@case("view", lambda r: (U(r, 4, 4),))
def strided_2d_view(A):
    """A[::2, 1::2] is a view: writes land on every other row and column."""
    v = A[::2, 1::2]
    v[...] = np.sin(v)
    v[1] -= A[1, :2]
    return A


@case("view", lambda r: (U(r, 3, 3),))
def transpose_assign_overlap(A):
    """A[:] = A.T transposes correctly: NumPy copies the overlapping source first."""
    A[:] = A.T
    return A * np.arange(1.0, 10.0).reshape(3, 3)


@case("view", lambda r: (U(r, 3, 3),), hessian=True)
def iadd_own_transpose(A):
    """A += A.T gives A + old A.T (symmetric): the overlapping operand is read before writing."""
    A += A.T
    return np.sum(A ** 2 * np.arange(1.0, 10.0).reshape(3, 3))


@case("view", lambda r: (U(r, 3, 2),))
def iterating_yields_row_views(A):
    """for row in A: row *= ... -- iterating over a 2-D array yields writable row views."""
    for i, row in enumerate(A):
        row *= i + 1.0
        row[0] += A[0, 1]
    return A


@case("view", lambda r: (U(r, 3, 3), U(r, 1)))
def fill_into_column_view(A, v):
    """A[:, 1].fill(v[0]): fill on a strided view writes the column of A."""
    A[:, 1].fill(v[0])
    return np.sum(A ** 2 * A[::-1])


@case("view", lambda r: (U(r, 2, 3), U(r, 3)))
def copyto_into_row_view(A, x):
    """np.copyto(A[1], x ** 2): copyto into a view writes the row of A."""
    np.copyto(A[1], x ** 2)
    return np.sum(np.sin(A) * A)


@case("view", lambda r: (U(r, 3, 3), U(r, 2)))
def fill_diagonal_of_a_view(A, v):
    """np.fill_diagonal(A[1:, 1:], v) writes A[1, 1] and A[2, 2]."""
    np.fill_diagonal(A[1:, 1:], v)
    return np.sum(A ** 2 * np.arange(9.0).reshape(3, 3))


@case("view", lambda r: (U(r, 3, 3), U(r, 3)))
def add_at_into_view(A, v):
    """np.add.at(A[2], [0, 0, 1], v) accumulates into row 2 of A through the view."""
    np.add.at(A[2], [0, 0, 1], v)
    return np.sum(np.tanh(A) * A)


def _layout_sensitive(rng):
    """A 6x6 input for which summing A.T (after A[0] += 1) in memory order and summing a
    contiguous copy of it give different bits (most inputs do; this picks one that does)."""
    while True:
        A = U(rng, 6, 6)
        B = A.copy()
        B[0] += 1.0
        if np.sum(B.T) != np.sum(np.ascontiguousarray(B.T)):
            return (A,)


@case("view", _layout_sensitive)
def transpose_view_keeps_numpys_layout(A):
    """np.sum(t), t = A.T a live view: NumPy sums in memory order, so views keep NumPy's strides."""
    t = A.T
    A[0] += 1.0
    return np.sum(t)


# ============================================================================ alias
@case("alias", lambda r: (away(r, 6, step=0.5),), smooth=False)
def mask_built_with_in_place_or_and(x):
    """m |= x > a; m &= x < b on a bool buffer: an alias of m sees both writes."""
    m = np.zeros_like(x, dtype=bool)
    alias = m
    m |= x > -0.5
    m &= x < 0.5
    m ^= x > 0.0
    return np.sum(np.where(alias, x ** 2, 3.0 * x))


@case("alias", lambda r: (U(r, 4),), hessian=True)
def alias_two_names(x):
    """y = buf; y += x; buf *= x: both names see both writes."""
    buf = np.zeros_like(x)
    y = buf
    y += x
    buf *= x
    return np.sum(y) + np.sum(buf ** 2)


@case("alias", lambda r: (U(r, 4),), hessian=True)
def alias_argument(x):
    """y = x; y += 1: x is y, so x * y is (x + 1) ** 2."""
    y = x
    y += 1
    return np.sum(x * y)


@case("alias", lambda r: (U(r, 4),))
def alias_in_list(x):
    """bufs = [zeros_like(x)] * 2 holds one array twice: writes through either show in both."""
    bufs = [np.zeros_like(x)] * 2
    bufs[0] += x
    bufs[1] += x ** 2
    return np.sum(bufs[0] * bufs[1] * x)


@case("alias", lambda r: (U(r, 4),))
def alias_in_dict(x):
    """h = state['h']; h *= x; state['h'] += 1: the dict entry and h are one array."""
    state = {"h": np.ones_like(x)}
    h = state["h"]
    h *= x
    state["h"] += 1
    return np.sum(h ** 2 * x)


@case("alias", lambda r: (U(r, 4),), hessian=True)
def numpy_scalar_is_immutable(x):
    """t = np.sum(x ** 2); u = t; u += 1 rebinds u (a NumPy scalar), t is unchanged."""
    t = np.sum(x ** 2)
    u = t
    u += 1.0
    return t * 2 + u * t


@case("alias", lambda r: (U(r, 4),), hessian=True)
def zero_d_array_is_mutable(x):
    """s = zeros_like(x, shape=()); t = s; s += ... in a loop: t is s, it sees every write."""
    s = np.zeros_like(x, shape=())
    t = s
    for xi in x:
        s += xi ** 2
    return t * 1.0 + s * x[0]


@case("alias", lambda r: (U(r, 4),))
def copy_breaks_alias(x):
    """b = a.copy(); c = a; a += x: c sees the write, b does not."""
    a = np.ones_like(x)
    b = a.copy()
    c = a
    a += x
    return np.sum(b * x) + np.sum(c ** 2 * x)


@case("alias", lambda r: (U(r, 3, 3),))
def alias_view_and_base_names(A):
    """row = A[1]; same = row; same += A[0]: A, row and same all change."""
    row = A[1]
    same = row
    same += A[0]
    return np.sum(A ** 2) + np.sum(row * same)


# ============================================================================ saved
@case("saved", lambda r: (U(r, 4),), hessian=True)
def saved_sin_input(x):
    """a = x * x; s = sum(sin(a)); a *= 2: sin's rule must use the old a."""
    a = x * x
    s = np.sum(np.sin(a))
    a *= 2
    return s + np.sum(a)


@case("saved", lambda r: (U(r, 3, 3), U(r, 3, 3)))
def saved_matmul_operands(A, B):
    """C = A @ B, then A[0] = 0 and B *= 2: matmul's rule uses the old A and B."""
    C = A @ B
    A[0] = 0.0
    B *= 2
    return np.sum(C ** 2) + np.sum(A * B)


@case("saved", lambda r: (U(r, 4),))
def saved_exp_output(x):
    """y = exp(x); z = y * x; then y and x are written: the product's rule saw the old ones."""
    y = np.exp(x)
    z = y * x
    y[0] = 0.0
    y += 1
    x *= 3
    return np.sum(z) + np.sum(x * y)


@case("saved", lambda r: (U(r, 3, 3),))
def saved_view_read_by_rule(A):
    """s = sum(exp(A[0])) via a view r, then A[0] is overwritten: exp's rule saw old r."""
    r = A[0]
    s = np.sum(np.exp(r))
    A[0] = A[1] ** 2
    return s + np.sum(r * A[2])


@case("saved", lambda r: (distinct(r, 4),), smooth=False)
def saved_sorted_then_overwritten(x):
    """b.sort(); p = b @ w; then b[:] = ... and sorted again: p keeps the first sort."""
    b = x.copy()
    b.sort()
    p = b @ np.arange(1.0, 5.0)
    b[:] = x[::-1] * 2
    b.sort()
    return p + np.sum(b ** 2 * np.arange(4.0))


@case("saved", lambda r: (U(r, 4), U(r, 4)))
def saved_before_out_self(x, y):
    """p = x * y; np.tanh(x, out=x): the product's rule used x before it was overwritten."""
    p = x * y
    np.tanh(x, out=x)
    return np.sum(p ** 2) + np.sum(x * y)


@case("saved", lambda r: (U(r, 4, lo=0.5, hi=1.5),), hessian=True)
def saved_reciprocal(x):
    """d = 1 / x; x += 10: the division's rule uses the old x."""
    d = 1.0 / x
    x += 10.0
    return np.sum(d) + np.sum(x ** 2)


@case("saved", lambda r: (U(r, 4),), hessian=True)
def saved_power(x):
    """y = x ** 3; x **= 2: the cube's rule uses the old x."""
    y = x ** 3
    x **= 2
    return np.sum(y * x)


# ============================================================================ loop
@case("loop", lambda r: (U(r, 4, 3), U(r, 3, 3)), hessian=True)
def rnn_preallocated_states(x, W):
    """H = zeros_like(x, shape=(T, n)); H[t] = tanh(H[t-1] @ W + x[t]) (H[-1] is 0 at t=0)."""
    T, n = x.shape
    H = np.zeros_like(x, shape=(T, n))
    for t in range(T):
        H[t] = np.tanh(H[t - 1] @ W + x[t])
    return np.sum(H ** 2)


@case("loop", lambda r: (U(r, 4, 3), U(r, 3, 3)))
def rnn_empty_like_with_initial_row(x, W):
    """H = empty_like(x, shape=(T + 1, n)); H[0] = 0; H[t + 1] = tanh(H[t] @ W + x[t])."""
    T, n = x.shape
    H = np.empty_like(x, shape=(T + 1, n))
    H[0] = 0.0
    for t in range(T):
        H[t + 1] = np.tanh(H[t] @ W + x[t])
    return H[1:]


@case("loop", lambda r: (U(r, 6), U(r, 3)))
def conv1d_loops(x, w):
    """out[i] += w[j] * x[i + j]: a 1-D convolution as two loops into zeros_like."""
    n, k = x.size, w.size
    out = np.zeros_like(x, shape=(n - k + 1,))
    for i in range(n - k + 1):
        for j in range(k):
            out[i] += w[j] * x[i + j]
    return out


@case("loop", lambda r: (U(r, 4, 4), U(r, 2, 2)))
def conv2d_loops(X, K):
    """out[i, j] = sum(X[i:i+2, j:j+2] * K): a 2-D convolution as loops into zeros_like."""
    kh, kw = K.shape
    out = np.zeros_like(X, shape=(X.shape[0] - kh + 1, X.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(X[i:i + kh, j:j + kw] * K)
    return np.sum(np.tanh(out))


@case("loop", lambda r: (U(r, 4, 4), U(r, 2, 2)))
def conv2d_shifted_accumulate(X, K):
    """out += K[a, b] * X[a:a+3, b:b+3]: convolution by accumulating shifted slices."""
    out = np.zeros_like(X, shape=(3, 3))
    for a in range(2):
        for b in range(2):
            out += K[a, b] * X[a:a + 3, b:b + 3]
    return out


@case("loop", lambda r: (U(r, 5),), hessian=True)
def sum_of_squares_loop(x):
    """s = 0.0; for i: s += x[i] ** 2 (a Python float becomes traced)."""
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2
    return s


@case("loop", lambda r: (U(r, 3), U(r, 4, 3)), hessian=True)
def loss_accumulated_in_loop(w, X):
    """loss += term for each sample, then loss /= n."""
    loss = 0.0
    for i in range(X.shape[0]):
        term = (X[i] @ w - 1.0) ** 2
        loss += term
    loss /= X.shape[0]
    return loss


@case("loop", lambda r: (U(r, 4),), hessian=True)
def kernel_scaled_in_place(x):
    """K = exp(-D); K *= gamma; K += 1e-3 * eye: a kernel matrix scaled in place."""
    D = (x[:, None] - x[None, :]) ** 2
    K = np.exp(-D)
    K *= 0.7
    K += 1e-3 * np.eye(4)
    return np.sum(K @ x)


@case("loop", lambda r: (U(r, 3, 3),), smooth=False)
def relu_of_gram_matrix(A):
    """D = A @ A.T - 0.1; D[D < 0] = 0 (D's entries are away from 0 at this input)."""
    D = A @ A.T - 0.1
    D[D < 0] = 0
    return np.sum(D ** 2)


@case("loop", lambda r: (U(r, 3, 3), U(r, 3)))
def gauss_seidel_in_place(A, b):
    """v[i] = (b[i] - M[i, :i] @ v[:i] - M[i, i+1:] @ v[i+1:]) / M[i, i], sweeps in place."""
    M = A + 4.0 * np.eye(3)
    v = np.zeros_like(b)
    for _ in range(3):
        for i in range(3):
            v[i] = (b[i] - M[i, :i] @ v[:i] - M[i, i + 1:] @ v[i + 1:]) / M[i, i]
    return v


@case("loop", lambda r: (U(r, 5),))
def recurrence_into_empty_like(x):
    """c[0] = x[0]; c[i] = 0.5 c[i - 1] + x[i]: a recurrence reading its own buffer."""
    c = np.empty_like(x)
    c[0] = x[0]
    for i in range(1, len(x)):
        c[i] = c[i - 1] * 0.5 + x[i]
    return c * x


@case("loop", lambda r: (U(r, 6),))
def heat_equation_stencil(u0):
    """u[1:-1] += 0.2 * (u[2:] - 2 u[1:-1] + u[:-2]) for 5 steps."""
    u = u0.copy()
    for _ in range(5):
        u[1:-1] += 0.2 * (u[2:] - 2 * u[1:-1] + u[:-2])
    return u


@case("loop", lambda r: (U(r, 3), U(r, 4, 3)))
def gradient_descent_unrolled(w0, X):
    """w -= lr * g for three steps (an unrolled optimiser, differentiated end to end)."""
    w = w0.copy()
    for _ in range(3):
        g = X.T @ (np.tanh(X @ w) - 0.5)
        w -= 0.1 * g
    return np.sum(w ** 2)


@case("loop", lambda r: (U(r, 3, 3) + 2 * np.eye(3),))
def gram_schmidt_in_place(A):
    """Q[:, j] -= (Q[:, k] @ Q[:, j]) Q[:, k]; Q[:, j] /= norm: writes through column views."""
    Q = A.copy()
    n = Q.shape[1]
    for j in range(n):
        for k in range(j):
            Q[:, j] -= (Q[:, k] @ Q[:, j]) * Q[:, k]
        Q[:, j] /= np.sqrt(Q[:, j] @ Q[:, j])
    return Q


@case("loop", lambda r: (U(r, 3, 3),))
def cholesky_loops(A):
    """L[i, j] = (S[i, j] - L[i, :j] @ L[j, :j]) / L[j, j]: Cholesky written as loops."""
    S = A @ A.T + 3.0 * np.eye(3)
    L = np.zeros_like(A)
    for i in range(3):
        for j in range(i + 1):
            s = S[i, j] - L[i, :j] @ L[j, :j]
            if i == j:
                L[i, i] = np.sqrt(s)
            else:
                L[i, j] = s / L[j, j]
    return L


@case("loop", lambda r: (distinct(r, 5),), smooth=False)
def bubble_sort_tuple_swap(x):
    """b[j], b[j + 1] = b[j + 1], b[j]: scalar reads are copies, so the swap is correct."""
    b = x.copy()
    n = len(b)
    for i in range(n):
        for j in range(n - 1 - i):
            if b[j] > b[j + 1]:
                b[j], b[j + 1] = b[j + 1], b[j]
    return b * np.arange(1.0, 6.0)


@case("loop", lambda r: (U(r, 3, 3),))
def row_swap_view_gotcha(A):
    """A[0], A[1] = A[1], A[0] with row views: both rows end up as the old row 1 (NumPy's)."""
    A[0], A[1] = A[1], A[0]
    return A * np.arange(1.0, 10.0).reshape(3, 3) + A[0] * A[2]


@case("loop", lambda r: (U(r, 3, 3),))
def power_iteration(A):
    """v[:] = S @ v; v /= sqrt(v @ v) for 4 iterations, in one buffer."""
    S = A @ A.T + np.eye(3)
    v = np.ones_like(A, shape=(3,))
    for _ in range(4):
        v[:] = S @ v
        v /= np.sqrt(v @ v)
    return v @ S @ v


@case("loop", lambda r: (U(r, 3, 2),), hessian=True)
def pairwise_distances_filled(X):
    """D[i, j] = sum((X[i] - X[j]) ** 2) into zeros_like(X, shape=(n, n))."""
    n = X.shape[0]
    D = np.zeros_like(X, shape=(n, n))
    for i in range(n):
        for j in range(n):
            D[i, j] = np.sum((X[i] - X[j]) ** 2)
    return np.sum(np.exp(-D))


@case("loop", lambda r: (distinct(r, 3, 3),))
def softmax_rows_in_place(A):
    """A -= A.max(axis=1, keepdims=True); np.exp(A, out=A); A /= A.sum(axis=1, keepdims=True)."""
    A -= A.max(axis=1, keepdims=True)
    np.exp(A, out=A)
    A /= A.sum(axis=1, keepdims=True)
    return A


# ============================================================================ closure
@case("closure", lambda r: (U(r, 4),), hessian=True)
def closure_accumulator(x):
    """An inner function writes acc[...] += v into the enclosing function's buffer."""
    acc = np.zeros_like(x)

    def add(v):
        acc[...] += v
    for k in range(3):
        add(x ** (k + 1))
    return np.sum(acc ** 2)


@case("closure", lambda r: (U(r, 3, 2),), hessian=True)
def closure_nonlocal_rebind(x):
    """nonlocal total; total += ...: a rebound accumulator in a closure."""
    total = 0.0

    def step(v):
        nonlocal total
        total += np.sum(v ** 2) * v[0]
    for row in x:
        step(row)
    return total


@case("closure", lambda r: (U(r, 3, 3),))
def closure_returns_views(A):
    """row(i) returns A[i]: writes into the returned views change A."""
    def row(i):
        return A[i]
    row(0)[:] = row(1) * 2
    row(2)[1] += A[0, 0]
    return A


@case("closure", lambda r: (U(r, 4),))
def closure_plain_buffer_plain_values(x):
    """A plain buffer written with plain values inside a traced function still works."""
    c = np.arange(4.0)

    def bump():
        c[0] = 10.0
        c[1:] *= 2
    bump()
    return np.sum(c * x ** 2)


@case("closure", lambda r: (U(r, 4),))
def closure_list_of_inplace_ops(x):
    """A list of lambdas applying out= updates to one buffer in turn."""
    ops = [lambda b: np.multiply(b, 2.0, out=b),
           lambda b: np.add(b, x, out=b),
           lambda b: np.sin(b, out=b)]
    b = x.copy()
    for op in ops:
        op(b)
    return b


def _normalize_(v):
    """Normalise v in place (a helper that mutates its argument, returns None)."""
    v /= np.sqrt(v @ v)


@case("closure", lambda r: (U(r, 4),))
def helper_mutates_its_argument(x):
    """A helper called with a buffer writes into the caller's buffer (arrays pass by reference)."""
    b = x.copy()
    _normalize_(b)
    _normalize_(b[:2])
    return b


# ============================================================================ dtype
@case("dtype", lambda r: (U(r, 4),), f32=True)
def float32_buffer_setitem(x):
    """b = zeros_like(x, dtype=float32); b[:] = 3 x rounds to float32; b += x (same_kind)."""
    b = np.zeros_like(x, dtype=np.float32)
    b[:] = x * 3
    b += x
    return b


@case("dtype", lambda r: (U(r, 4),), f32=True)
def float32_out(x):
    """np.exp(x, out=b32): float64 loop, result cast to the float32 buffer."""
    b = np.empty_like(x, dtype=np.float32)
    np.exp(x, out=b)
    return np.sum(b.astype(np.float64) * x)


@case("dtype", lambda r: (U(r, 3),), f32=True)
def float32_stays_float32(x):
    """b32 *= 0.1 stays float32 (a Python float does not promote, NEP 50); b[1] = b[0] + x[1]."""
    b = np.zeros_like(x, shape=(2,), dtype=np.float32)
    b[0] = x[0]
    b *= 0.1
    b[1] = b[0] + x[1]
    return b


@case("dtype", lambda r: (away(r, 4, lo=-2, hi=2, step=1 / 3),), smooth=False)
def int_buffer_truncates(x):
    """q = zeros_like(x, dtype=int64); q[:] = 3 x truncates toward zero; sum(q * x)."""
    q = np.zeros_like(x, dtype=np.int64)
    q[:] = x * 3
    return np.sum(q * x)


@case("dtype", lambda r: (U(r, 3, lo=0.5, hi=1.5),))
def int_item_writes_truncate(x):
    """q[0] = 2.7 stores 2, q[1] = -1.5 stores -1: float constants into an int buffer."""
    q = np.ones_like(x, dtype=np.int64)
    q[0] = 2.7
    q[1] = -1.5
    return np.sum(x ** q)


@case("dtype", lambda r: (away(r, 4, lo=-1, hi=1, step=0.25),), smooth=False)
def int_copyto_unsafe(x):
    """np.copyto(q32, 4 x, casting='unsafe') truncates into int32."""
    q = np.zeros_like(x, dtype=np.int32)
    np.copyto(q, x * 4, casting="unsafe")
    return np.sum(q * x)


@case("dtype", lambda r: (U(r, 4),), hessian=True)
def int_and_bool_into_float_buffer(x):
    """b[:2] = np.array([1, 2]) and b[2] = True: ints and bools written into float64."""
    b = x.copy()
    b[:2] = np.array([1, 2])
    b[2] = True
    return np.sum(b * x ** 2)


# ============================================================================ NumPy's errors
# (name, function, args): NumPy raises; the traced run must raise the same exception type.
def _diag_write(A):
    """np.diagonal(A) is a read-only view: writing it raises ValueError."""
    d = np.diagonal(A)
    d[0] = 1.0
    return np.sum(A)


def _diag_method_iadd(A):
    """A.diagonal() is read-only: d += 1 raises ValueError."""
    d = A.diagonal()
    d += 1.0
    return np.sum(A)


def _broadcast_to_write(x):
    """np.broadcast_to(x, (3, 4)) is read-only: item assignment raises ValueError."""
    b = np.broadcast_to(x, (3, 4))
    b[0, 0] = 1.0
    return np.sum(b)


def _broadcast_to_out(x):
    """np.exp(x, out=np.broadcast_to(...)) raises ValueError (read-only output)."""
    b = np.broadcast_to(x, (3, 4))
    np.exp(x, out=b)
    return np.sum(b)


def _int_buffer_iadd_float(x):
    """q = zeros_like(x, dtype=int64); q += x raises (same_kind casting, a TypeError)."""
    q = np.zeros_like(x, dtype=np.int64)
    q += x
    return np.sum(q * x)


def _copyto_int_same_kind(x):
    """np.copyto(int buffer, float array) raises TypeError (default casting='same_kind')."""
    q = np.zeros_like(x, dtype=np.int64)
    np.copyto(q, x)
    return np.sum(q * x)


def _setitem_shape_mismatch(A):
    """B[0] = a length-2 array into a row of 3 raises ValueError (cannot broadcast)."""
    B = A.copy()
    B[0] = A[1, :2]
    return np.sum(B)


def _setitem_out_of_bounds(x):
    """b[10] = v on a length-4 array raises IndexError."""
    b = x.copy()
    b[10] = x[0]
    return np.sum(b)


def _imatmul_changes_shape(A):
    """B @= (3, 2) on a (2, 3) B raises ValueError: @= may not change the shape."""
    B = A.copy()
    B @= np.ones((3, 2))
    return np.sum(B)


def _mask_wrong_length(x):
    """A boolean mask of the wrong length raises IndexError."""
    b = x.copy()
    b[np.array([True, False])] = 0.0
    return np.sum(b)


def _put_raise_out_of_range(x):
    """np.put(b, [7], v) with the default mode='raise' raises IndexError."""
    b = x.copy()
    np.put(b, [7], x[:1])
    return np.sum(b)


def _fill_diagonal_1d(x):
    """np.fill_diagonal on a 1-D array raises ValueError."""
    b = x.copy()
    np.fill_diagonal(b, 0.0)
    return np.sum(b)


def _mask_set_wrong_count(x):
    """b[mask] = v with len(v) != mask.sum() raises (ValueError / TypeError by NumPy)."""
    b = x.copy()
    b[np.array([True, True, False, False])] = x[:3]
    return np.sum(b)


_R = np.random.default_rng(7)
NUMPY_ERRORS = [
    ("diagonal_is_read_only", _diag_write, (_R.uniform(-1, 1, (3, 3)),)),
    ("diagonal_method_is_read_only", _diag_method_iadd, (_R.uniform(-1, 1, (3, 3)),)),
    ("broadcast_to_is_read_only", _broadcast_to_write, (_R.uniform(-1, 1, 4),)),
    ("broadcast_to_as_out_is_read_only", _broadcast_to_out, (_R.uniform(-1, 1, 4),)),
    ("int_buffer_iadd_float_raises", _int_buffer_iadd_float, (_R.uniform(-1, 1, 4),)),
    ("copyto_int_same_kind_raises", _copyto_int_same_kind, (_R.uniform(-1, 1, 4),)),
    ("setitem_shape_mismatch", _setitem_shape_mismatch, (_R.uniform(-1, 1, (3, 3)),)),
    ("setitem_out_of_bounds", _setitem_out_of_bounds, (_R.uniform(-1, 1, 4),)),
    ("imatmul_changes_shape", _imatmul_changes_shape, (_R.uniform(-1, 1, (2, 3)),)),
    ("mask_wrong_length", _mask_wrong_length, (_R.uniform(-1, 1, 4),)),
    ("put_raise_out_of_range", _put_raise_out_of_range, (_R.uniform(-1, 1, 4),)),
    ("fill_diagonal_1d", _fill_diagonal_1d, (_R.uniform(-1, 1, 4),)),
    ("mask_set_wrong_count", _mask_set_wrong_count, (_R.uniform(-1, 1, 4),)),
]
