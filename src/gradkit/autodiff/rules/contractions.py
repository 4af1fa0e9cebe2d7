"""Rules for products and contractions: matmul / @, dot, vdot, inner, outer, tensordot, einsum,
kron, and the diagonal family (trace, diagonal, diag, triu, tril).

Every product here is linear in each operand, so the JVPs are the product itself with the
tangent in that slot (``def_linear``), and each VJP is another product of the same family:
the cotangent of one operand contracts the output cotangent with the other operands.
"""
import string

import numpy as np

from ...backend import array_namespace, eye_like
from .numerical import with_numpy_values
from ..primitive import (
    FUNCTION_HANDLERS, UFUNC_HANDLERS, NoGradientRuleError, def_linear, defvjp,
    differentiable)
from ..trace import apply, getval, shape_of, unbroadcast
from ..tracer import Tracer


def _ndim(a):
    return len(shape_of(a))


def _matmul_vjp_x(g, ans, x, y):
    if type(y) is np.ndarray and type(g) is np.ndarray and y.ndim == 2 and g.ndim == 2:
        return g @ y.T  # the first-order 2-D case, checked without any helper call
    xn, yn = _ndim(x), _ndim(y)
    if xn == 2 and yn == 2:  # the common case, without swapaxes' Python-level overhead
        return g @ y.T
    if yn == 1:
        return g * y if xn == 1 else np.expand_dims(g, -1) * y
    if xn == 1:
        if yn == 2:
            return y @ g
        return np.sum(np.expand_dims(g, -2) * y, axis=tuple(range(yn - 2)) + (-1,))
    return g @ np.swapaxes(y, -1, -2)


def _matmul_vjp_y(g, ans, x, y):
    if type(x) is np.ndarray and type(g) is np.ndarray and x.ndim == 2 and g.ndim == 2:
        return x.T @ g
    xn, yn = _ndim(x), _ndim(y)
    if xn == 2 and yn == 2:
        return x.T @ g
    if xn == 1:
        return g * x if yn == 1 else np.expand_dims(x, -1) * np.expand_dims(g, -2)
    if yn == 1:
        if xn == 2:
            return x.T @ g
        return np.sum(np.expand_dims(g, -1) * x, axis=tuple(range(xn - 1)))
    return np.swapaxes(x, -1, -2) @ g


P_MATMUL = defvjp(np.matmul, _matmul_vjp_x, _matmul_vjp_y)  # the engine sums batch axes
def_linear(np.matmul, 0, 1)


# NumPy 2's vector products are generalized ufuncs; with their default axes they are matmul /
# multiply and sum (an axes= keyword is refused by the engine with a clear error). vecdot and
# vecmat conjugate their first argument (np.vecdot(x1, x2) = sum(conj(x1) * x2)); matvec
# does not.
# vecdot and vecmat are primitives of their own (NumPy's values, bit for bit); the engine
# un-broadcasts their batch axes. With ans = sum_k conj(x1_k) x2_k, the cotangent of x1 is
# conj(g x2) (x1 enters conjugated) and that of x2 is g conj(x1).
if hasattr(np, "vecdot"):
    defvjp(np.vecdot, lambda g, ans, x1, x2: np.conjugate(np.expand_dims(g, -1) * x2),
           lambda g, ans, x1, x2: np.expand_dims(g, -1) * np.conjugate(x1), needs=("x2", "x1"))
    def_linear(np.vecdot, 0, 1)  # (anti-linear in x1: vecdot(t1, x2) conjugates t1 itself)
if hasattr(np, "matvec"):
    UFUNC_HANDLERS[np.matvec] = with_numpy_values(  # (NumPy's values: numerical.py)
        np.matvec, lambda m, v: (m @ np.expand_dims(v, -1))[..., 0])
    defvjp(np.vecmat,
           lambda g, ans, v, m: np.conjugate((m @ np.expand_dims(g, -1))[..., 0]),
           lambda g, ans, v, m: np.expand_dims(np.conjugate(v), -1) * np.expand_dims(g, -2),
           needs=("m", "v"))
    def_linear(np.vecmat, 0, 1)


# ----------------------------------------------------------------------------- tensordot
def _tensordot_axes(axes, na, nb):
    """``axes`` of np.tensordot as two equal-length lists of non-negative axes."""
    if isinstance(axes, (int, np.integer)):
        axes = int(axes)
        return list(range(na - axes, na)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    return [int(i) % na for i in a_axes], [int(i) % nb for i in b_axes]


def _tensordot_vjp_a(g, a, b, a_axes, b_axes):
    """Cotangent of ``a`` in ``np.tensordot(a, b, (a_axes, b_axes))``."""
    na, nb = np.ndim(a), np.ndim(b)
    free_a = [i for i in range(na) if i not in a_axes]
    free_b = [i for i in range(nb) if i not in b_axes]
    out = np.tensordot(g, b, (list(range(len(free_a), np.ndim(g))), free_b))
    # out's axes: a's free axes, then a's contracted axes in the order b holds them
    order = free_a + [a_axes[j] for j in np.argsort(b_axes)]
    return np.transpose(out, np.argsort(order)) if order != sorted(order) else out


def _tensordot_vjp_b(g, a, b, a_axes, b_axes):
    """Cotangent of ``b`` in ``np.tensordot(a, b, (a_axes, b_axes))``."""
    na, nb = np.ndim(a), np.ndim(b)
    free_a = [i for i in range(na) if i not in a_axes]
    free_b = [i for i in range(nb) if i not in b_axes]
    out = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
    order = [b_axes[j] for j in np.argsort(a_axes)] + free_b
    return np.transpose(out, np.argsort(order)) if order != sorted(order) else out


defvjp(np.tensordot,
       lambda g, ans, a, b, axes=2: _tensordot_vjp_a(g, a, b, *_tensordot_axes(axes, np.ndim(a),
                                                                                np.ndim(b))),
       lambda g, ans, a, b, axes=2: _tensordot_vjp_b(g, a, b, *_tensordot_axes(axes, np.ndim(a),
                                                                                np.ndim(b))))
def_linear(np.tensordot, 0, 1)


# ----------------------------------------------------------------------------- dot, inner
def _dot_axes(na, nb):
    """np.dot(a, b) as a tensordot: a's last axis against b's second-to-last (or only) axis."""
    return [na - 1], [max(nb - 2, 0)]


def _scalar_product_vjp(g, other, like):
    # one operand is a scalar: a product with broadcasting, undone towards ``like``
    return unbroadcast(g * other, like) if np.ndim(like) else np.sum(g * other)


def _contract_vjp(axes_of, k):
    def vjp(g, ans, a, b):
        na, nb = np.ndim(a), np.ndim(b)
        if na == 0 or nb == 0:
            return _scalar_product_vjp(g, b if k == 0 else a, a if k == 0 else b)
        a_axes, b_axes = axes_of(na, nb)
        return (_tensordot_vjp_a if k == 0 else _tensordot_vjp_b)(g, a, b, a_axes, b_axes)
    return vjp


defvjp(np.dot, _contract_vjp(_dot_axes, 0), _contract_vjp(_dot_axes, 1))
def_linear(np.dot, 0, 1)

_inner_axes = lambda na, nb: ([na - 1], [nb - 1])  # noqa: E731
defvjp(np.inner, _contract_vjp(_inner_axes, 0), _contract_vjp(_inner_axes, 1))
def_linear(np.inner, 0, 1)

# vdot flattens both operands and conjugates the first: sum(conj(a) * b). It is linear in b
# and conjugate-linear in a, so a's JVP vdot(t, b) is right as is, and a's cotangent is
# conj(g b) (the transpose of a conjugation is a conjugation; see gradkit.autodiff.complex).
defvjp(np.vdot,
       lambda g, ans, a, b: np.reshape(np.conjugate(g * np.reshape(b, (-1,))), np.shape(a)),
       lambda g, ans, a, b: np.reshape(g * np.conjugate(np.reshape(a, (-1,))), np.shape(b)))
def_linear(np.vdot, 0, 1)

# outer flattens both operands: out[i, j] = a.flat[i] * b.flat[j]
defvjp(np.outer, lambda g, ans, a, b: np.reshape(g @ np.reshape(b, (-1,)), np.shape(a)),
       lambda g, ans, a, b: np.reshape(np.reshape(a, (-1,)) @ g, np.shape(b)))
def_linear(np.outer, 0, 1)


# ----------------------------------------------------------------------------- kron
def _kron_vjp(k):
    """kron(a, b) reshaped to (a0, b0, a1, b1, ...) is a[:, None, :, None] * b[None, :, None, :]."""
    def vjp(g, ans, a, b):
        nd = max(np.ndim(a), np.ndim(b))
        sa = (1,) * (nd - np.ndim(a)) + tuple(np.shape(a))
        sb = (1,) * (nd - np.ndim(b)) + tuple(np.shape(b))
        g = np.reshape(g, tuple(n for pair in zip(sa, sb) for n in pair))
        if k == 0:
            other = np.reshape(b, tuple(n for m in sb for n in (1, m)))
            return np.reshape(np.sum(g * other, axis=tuple(range(1, 2 * nd, 2))), np.shape(a))
        other = np.reshape(a, tuple(n for m in sa for n in (m, 1)))
        return np.reshape(np.sum(g * other, axis=tuple(range(0, 2 * nd, 2))), np.shape(b))
    return vjp


defvjp(np.kron, _kron_vjp(0), _kron_vjp(1))
def_linear(np.kron, 0, 1)


# ----------------------------------------------------------------------------- einsum
_LETTERS = string.ascii_letters


def _parse_einsum(subscripts, shapes):
    """Explicit subscripts without ellipses: (list of input label strings, output labels)."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"np.einsum: the subscripts {subscripts!r} name {len(inputs)} operands "
                         f"but {len(shapes)} were given.")
    used = set(subscripts) & set(_LETTERS)
    fresh = iter(c for c in _LETTERS if c not in used)
    ell_dims = max((len(s) - len(t.replace("...", "")) for t, s in zip(inputs, shapes)
                    if "..." in t), default=0)
    ell = "".join(next(fresh) for _ in range(ell_dims))
    inputs = [t.replace("...", ell[ell_dims - (len(s) - len(t.replace("...", ""))):])
              for t, s in zip(inputs, shapes)]
    if arrow:
        output = output.replace("...", ell)
    else:  # implicit mode: the broadcast axes, then the labels used once, in alphabetical order
        labels = "".join(inputs)
        output = ell + "".join(sorted(c for c in set(labels) if labels.count(c) == 1
                                      and c not in ell))
    return inputs, output


def _sublist_to_subscripts(args):
    """np.einsum(op0, sublist0, op1, sublist1, ..., [sublistout]) in the string form."""
    n = len(args) // 2
    ops, subs = args[0:2 * n:2], args[1:2 * n:2]
    out = args[-1] if len(args) % 2 else None

    def letters(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in sub)

    text = ",".join(letters(s) for s in subs)
    return (text + ("->" + letters(out) if out is not None else "")), ops


def _einsum_vjp(k):
    """The cotangent of operand ``k``: einsum of g with the other operands into k's labels.

    Labels repeated in operand k (a diagonal, 'ii->i') get fresh labels tied to the first by
    identity matrices; labels of operand k that appear nowhere else (summed away, 'ij->i') are
    supplied by vectors of ones. Size-1 axes broadcast against other operands are summed back.
    """
    def vjp(g, ans, subscripts, *operands, **kwargs):
        inputs, output = _parse_einsum(subscripts, [np.shape(op) for op in operands])
        target = inputs[k - 1]
        sizes = {}
        for labels, op in zip(inputs, operands):
            for c, n in zip(labels, np.shape(op)):
                sizes[c] = max(sizes.get(c, 1), n)
        others = [(inputs[i], op) for i, op in enumerate(operands) if i != k - 1]
        present = set(output).union(*[set(t) for t, _ in others])
        used = set("".join(inputs) + output)
        fresh = iter(c for c in _LETTERS if c not in used)
        dtype = np.result_type(getval(g))
        extra, new_target, seen = [], "", set()
        for c in target:
            if c in seen:  # a repeated label: tie a fresh one to it with an identity matrix
                c2 = next(fresh, None)
                if c2 is None:
                    raise NoGradientRuleError("np.einsum: too many labels to differentiate "
                                              f"{subscripts!r}; split it into several einsums.")
                extra.append((c + c2, eye_like(g, sizes[c], dtype)))
                new_target += c2
                continue
            seen.add(c)
            new_target += c
            if c not in present:
                extra.append((c, np.ones_like(getval(g), dtype=dtype, shape=(sizes[c],))))
        terms = [(output, g)] + others + extra
        spec = ",".join(t for t, _ in terms) + "->" + new_target
        ct = np.einsum(spec, *[op for _, op in terms], optimize=kwargs.get("optimize", False))
        return unbroadcast(ct, operands[k - 1])
    return vjp


_MAX_OPERANDS = 64
P_EINSUM = defvjp(np.einsum, None, *[_einsum_vjp(k) for k in range(1, _MAX_OPERANDS + 1)],
                  name="einsum")
def_linear(np.einsum, *range(1, _MAX_OPERANDS + 1))


def _einsum(*args, **kwargs):
    if not isinstance(args[0], str):
        subscripts, operands = _sublist_to_subscripts(args)
    else:
        subscripts, operands = args[0], args[1:]
    if len(operands) > _MAX_OPERANDS:
        raise NoGradientRuleError(f"np.einsum with more than {_MAX_OPERANDS} operands is not "
                                  "differentiable in gradkit; split it into several einsums.")
    inputs, output = _parse_einsum(subscripts, [np.shape(op) for op in operands])
    return apply(P_EINSUM, ",".join(inputs) + "->" + output, *operands, **kwargs)


FUNCTION_HANDLERS[np.einsum] = _einsum


# ----------------------------------------------------------------------------- diagonals
@differentiable
def undiagonal(g, shape, offset=0, axis1=0, axis2=1):
    """The adjoint of ``np.diagonal``: zeros of ``shape`` with ``g`` on that diagonal."""
    out = np.zeros_like(g, shape=shape)  # *_like: on g's device
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    i = array_namespace(g).arange(np.shape(g)[-1])
    view[..., i + max(-offset, 0), i + max(offset, 0)] = g
    return out


def _diagonal_vjp(g, ans, a, offset=0, axis1=0, axis2=1):
    return undiagonal(g, np.shape(a), offset, axis1, axis2)


defvjp(np.diagonal, _diagonal_vjp).view = True  # a read-only view, as NumPy's
def_linear(np.diagonal, 0)
defvjp(undiagonal.primitive,
       lambda g, ans, x, shape, offset=0, axis1=0, axis2=1: np.diagonal(g, offset, axis1, axis2))
def_linear(undiagonal.primitive, 0)


def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if dtype is not None:
        raise NoGradientRuleError("np.trace with dtype= is not differentiable in gradkit; "
                                  "cast the argument first with .astype(dtype).")
    return np.sum(np.diagonal(a, offset, axis1, axis2), axis=-1)


FUNCTION_HANDLERS[np.trace] = _trace


def _diag_vjp(g, ans, v, k=0):
    if np.ndim(v) == 1:
        return np.diag(g, k)
    return undiagonal(g, np.shape(v), k, 0, 1)


defvjp(np.diag, _diag_vjp)
def_linear(np.diag, 0)


def _triangle_vjp(triangle):
    def vjp(g, ans, m, k=0):
        if np.ndim(m) == 1:  # a 1-D argument is a row repeated into a square matrix
            return np.sum(triangle(g, k), axis=0)
        return triangle(g, k)
    return vjp


defvjp(np.triu, _triangle_vjp(np.triu))
def_linear(np.triu, 0)
defvjp(np.tril, _triangle_vjp(np.tril))
def_linear(np.tril, 0)


# ============================================================================ issue 13: more
# cross and multi_dot are written with products NumPy itself computes: the same component
# products and differences for np.cross, the same np.dot calls in the same order for
# np.linalg.multi_dot, so the values are NumPy's bit for bit.
import warnings  # noqa: E402

from numpy.lib.array_utils import normalize_axis_index  # noqa: E402


def _cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross from the components: c = (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0), with a
    missing third component taken as 0 (2-vectors), as NumPy does."""
    if axis is not None:
        axisa = axisb = axisc = axis
    if _ndim(a) < 1 or _ndim(b) < 1:
        raise ValueError("At least one array has zero dimension")
    a = np.moveaxis(a, normalize_axis_index(axisa, _ndim(a)), -1)
    b = np.moveaxis(b, normalize_axis_index(axisb, _ndim(b)), -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=3)
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    if na == 2 and nb == 2:
        return a0 * b1 - a1 * b0
    third = a0 * b1 - a1 * b0
    if na == 2:
        b2 = b[..., 2]
        parts = [a1 * b2, -(a0 * b2), third]
    elif nb == 2:
        a2 = a[..., 2]
        parts = [-(a2 * b1), a2 * b0, third]
    else:
        a2, b2 = a[..., 2], b[..., 2]
        parts = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, third]
    shape = np.broadcast_shapes(*(shape_of(p) for p in parts))
    cp = np.stack([np.broadcast_to(p, shape) for p in parts], axis=-1)
    return np.moveaxis(cp, -1, normalize_axis_index(axisc, len(shape) + 1))


def _chain_order(shapes):
    """The split points of the cheapest product order of a matrix chain (the textbook
    dynamic programme, in the scalar-multiplication cost; the first cheapest split wins, as
    NumPy's multi_dot chooses)."""
    n = len(shapes)
    p = [s[0] for s in shapes] + [shapes[-1][1]]
    cost = [[0.0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = float("inf")
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if q < cost[i][j]:
                    cost[i][j], split[i][j] = q, k
    return split


def _multi_dot(arrays, *, out=None):
    arrays = list(arrays)
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    if n == 2:
        return np.dot(arrays[0], arrays[1])
    first, last = _ndim(arrays[0]), _ndim(arrays[-1])
    if first == 1:
        arrays[0] = np.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = np.transpose(np.reshape(arrays[-1], (1, -1)))
    for a in arrays:
        if _ndim(a) != 2:
            raise np.linalg.LinAlgError(
                f"{_ndim(a)}-dimensional array given. Array must be two-dimensional")
    if n == 3:
        (a0, a1b0), (b1c0, c1) = shape_of(arrays[0]), shape_of(arrays[2])
        if a0 * b1c0 * (a1b0 + c1) < a1b0 * c1 * (a0 + b1c0):
            result = np.dot(np.dot(arrays[0], arrays[1]), arrays[2])
        else:
            result = np.dot(arrays[0], np.dot(arrays[1], arrays[2]))
    else:
        split = _chain_order([shape_of(a) for a in arrays])

        def product(i, j):
            if i == j:
                return arrays[i]
            return np.dot(product(i, split[i][j]), product(split[i][j] + 1, j))
        result = product(0, n - 1)
    if first == 1 and last == 1:
        return result[0, 0]
    if first == 1 or last == 1:
        return np.reshape(result, (-1,))
    return result


FUNCTION_HANDLERS[np.cross] = _cross
FUNCTION_HANDLERS[np.linalg.multi_dot] = _multi_dot
