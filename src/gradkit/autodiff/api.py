"""The core transformations: grad, value_and_grad, vjp, jvp, stop_gradient (and vmap, from
:mod:`.batching`); the Jacobian family built on them is :mod:`.jacobians`.

All of them take a function written with plain NumPy and return a new function. Arguments
may be pytrees (nested dict / list / tuple / dataclass of arrays); derivatives have the same
structure as the argument they belong to.
"""
from __future__ import annotations

import functools

import numpy as np

from ..tree import tree_flatten, tree_map, tree_unflatten
from .trace import ARRAY_STAND_INS, ForwardTrace, ReverseTrace, finish, getval
from .tracer import Tracer
from . import complex as _complex
from .batching import vmap

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "stop_gradient", "vmap"]


# ----------------------------------------------------------------------------- inputs
# Every transformation traces its arguments the same way: each differentiated argument is
# split into leaves and a structure by `_split`, its float leaves become inputs of the trace,
# and `_rebuild` puts derivatives back into that structure. The structure of a plain array is
# `_ARRAY`; of a dict tree of float arrays (the usual parameters) the dict itself, walked
# again to rebuild (cheaper than a TreeDef on every training step); of anything else a
# TreeDef. Either way a rebuilt dict has the argument's own key order.
_ARRAY = object()


def _check_float(leaf, where):
    dtype = getattr(getval(leaf), "dtype", None)
    if dtype is None or dtype.kind not in "fc":
        kind = "boolean" if dtype is not None and dtype.kind == "b" else "integer"
        if dtype is None or dtype.kind in "iub":
            raise TypeError(
                f"{where} has {kind} dtype {dtype}; gradients are defined for floating-point "
                f"inputs only. Pass x.astype(float) (or a float literal such as 1.0).")
        raise TypeError(f"{where} has dtype {dtype}, which cannot be differentiated; pass "
                        "a float array.")


def _as_input(leaf, where):
    if type(leaf) is np.ndarray and leaf.dtype.kind == "f":
        return leaf
    if isinstance(leaf, np.matrix):  # (its methods take no keepdims: NumPy's own error)
        raise TypeError(f"{where} is an np.matrix, which gradkit does not differentiate (its "
                        "* is a matrix product, its reductions stay 2-d); pass np.asarray(m) "
                        "and write products with @.")
    if not isinstance(leaf, Tracer) and not hasattr(leaf, "dtype"):
        leaf = np.asarray(leaf)
        if leaf.dtype.kind in "iub" and leaf.ndim == 0:  # grad(f)(3) means 3.0
            leaf = leaf.astype(float)
    _check_float(leaf, where)
    return leaf


def _dict_leaves(d, leaves):
    """Append the float arrays of the dict tree ``d`` to ``leaves`` in its own key order;
    False when ``d`` holds anything else."""
    for v in d.values():
        if type(v) is np.ndarray and v.dtype.kind == "f":
            leaves.append(v)
        elif type(v) is not dict or not _dict_leaves(v, leaves):
            return False
    return True


def _split(arg, where):
    """``(leaves, structure)`` of one differentiated argument."""
    if type(arg) is np.ndarray and arg.dtype.kind == "f":
        return [arg], _ARRAY
    if type(arg) is dict:
        leaves = []
        if _dict_leaves(arg, leaves):
            return leaves, arg
    leaves, treedef = tree_flatten(arg)
    return [_as_input(leaf, where) for leaf in leaves], treedef


def _leaves_like(structure, tree, where):
    """The leaves of ``tree`` (a tangent, a cotangent) in the order of ``structure``."""
    if structure is _ARRAY:
        return [tree]
    if type(structure) is dict:
        if type(tree) is not dict or tree.keys() != structure.keys():
            raise ValueError(f"{where}: its structure (keys) does not match its primal's.")
        out = []
        for k, v in structure.items():
            out.extend([tree[k]] if type(v) is not dict else _leaves_like(v, tree[k], where))
        return out
    leaves, treedef = tree_flatten(tree)
    if treedef != structure:
        raise ValueError(f"{where}: structure {treedef} does not match its primal's {structure}.")
    return leaves


def _rebuild(structure, leaves, new):
    """The pytree of ``structure`` (split from ``leaves``) holding ``new`` in their places."""
    if structure is _ARRAY:
        return new[0]
    if type(structure) is dict:
        tree, j = _dict_rebuilt(structure, leaves, new)
        if j != len(leaves):
            raise _changed_error()
        return tree
    return tree_unflatten(structure, new)


def _trace_args(args, argnums, fname, make_input, tangents=None):
    """``(args with tracers, [(leaves, structure, auxes)] per differentiated argument)``;
    ``make_input(leaf)`` makes a leaf's tracer, or ``make_input(leaf, tangent)`` with the
    matching leaf of ``tangents[argnum]`` (forward mode).
    ``auxes`` are the inputs' tape indices (or tangents) as made: a write inside the function
    rebinds a tracer, not the input it started as."""
    args = list(args)
    inputs = []
    for a in argnums:
        arg = args[a]
        if tangents is None:
            if type(arg) is np.ndarray and arg.dtype.kind == "f":
                t = args[a] = make_input(arg)  # the commonest argument: no walk
                inputs.append(((arg,), _ARRAY, (t._aux,)))
                continue
            if type(arg) is dict:  # parameters: traced in one walk of the dict
                leaves, auxes = [], []
                traced = _dict_traced(arg, make_input, leaves, auxes)
                if traced is not None:
                    args[a] = traced
                    inputs.append((leaves, arg, auxes))
                    continue
        leaves, structure = _split(arg, f"{fname}: argument {a}")
        if tangents is None:
            tracers = [make_input(leaf) for leaf in leaves]
        else:
            where = f"{fname}: tangent {a}"
            tracers = [make_input(leaf, _tangent_like(t, leaf, where)) for leaf, t
                       in zip(leaves, _leaves_like(structure, tangents[a], where))]
        args[a] = _rebuild(structure, leaves, tracers)
        inputs.append((leaves, structure, [t._aux for t in tracers]))
    return args, inputs


def _dict_traced(d, make_input, leaves, auxes):
    """The dict tree ``d`` with each float array traced (in the dict's own order, appended to
    ``leaves`` and its tracer's aux to ``auxes``); None when it holds anything else."""
    out = {}
    for k, v in d.items():
        if type(v) is np.ndarray and v.dtype.kind == "f":
            t = out[k] = make_input(v)
            leaves.append(v)
            auxes.append(t._aux)
        elif type(v) is dict:
            out[k] = _dict_traced(v, make_input, leaves, auxes)
            if out[k] is None:
                return None
        else:
            return None
    return out


def _dict_rebuilt(d, leaves, grads, j=0):
    """The dict tree ``d`` with ``grads[j]`` in place of its ``j``-th leaf, and the next
    ``j``; raises if ``d`` no longer holds ``leaves``: the function changed it while it ran,
    and its gradient cannot be matched to it."""
    out = {}
    for k, v in d.items():
        if type(v) is dict:
            out[k], j = _dict_rebuilt(v, leaves, grads, j)
            continue
        if j >= len(leaves) or v is not leaves[j]:
            raise _changed_error()
        out[k] = grads[j]
        j += 1
    return out, j


def _changed_error():
    return RuntimeError(
        "value_and_grad: the dict of arrays being differentiated was changed while the "
        "function ran (an entry added, removed or replaced), so its gradient cannot be "
        "matched to it. Do not modify the argument's dict inside the function; build a new one.")


def _tangent_like(t, leaf, where):
    if np.shape(getval(t)) != np.shape(getval(leaf)):
        raise ValueError(f"{where}: a tangent has shape {np.shape(getval(t))}, its primal "
                         f"{np.shape(getval(leaf))}.")
    if _complex.is_complex(t) and not _complex.is_complex(leaf):
        raise TypeError(f"{where}: a tangent is complex but its primal is real; a real input "
                        "moves only along the real axis (pass a real tangent, or make the "
                        "primal complex).")
    return t


def _gradients(cts, inputs):
    """The gradient pytree of each differentiated argument from the tape's cotangents: every
    leaf an array of its own, with its input's dtype (a real input gets the real part)."""
    seen = set()
    out = []
    for leaves, structure, indices in inputs:
        grads = []
        for leaf, i in zip(leaves, indices):
            ct = cts[i] if cts is not None else None
            if not (type(ct) is np.ndarray and type(leaf) is np.ndarray
                    and ct.dtype is leaf.dtype):
                ct = _like_input(ct, leaf)
            # one cotangent can reach two inputs (x + y), and a full sum's is a read-only
            # broadcast view: in-place updates of one gradient must not change another
            if type(ct) is np.ndarray and (id(ct) in seen or ct.base is not None
                                           and not ct.flags.writeable):
                ct = ct.copy()
            elif type(ct) in ARRAY_STAND_INS and type(ct._array) is np.ndarray and (
                    id(ct) in seen or ct._array.base is not None
                    and not ct._array.flags.writeable):
                ct = ct.copy()  # (gk.jit records the same copies)
            seen.add(id(ct))
            grads.append(ct)
        out.append(_rebuild(structure, leaves, grads))
    return out


def _like_input(ct, leaf):
    """The cotangent of an input has the input's dtype (float32 parameters stay float32);
    a real input's cotangent is real (see the complex convention)."""
    if type(ct) is np.ndarray and type(leaf) is np.ndarray and ct.dtype is leaf.dtype:
        return ct
    if ct is None:
        return np.zeros_like(getval(leaf))
    ct = _complex.gradient_for_input(ct, leaf)
    dtype = getattr(leaf, "dtype", None)
    if dtype is not None and getattr(ct, "dtype", dtype) != dtype:
        return ct.astype(dtype)
    return ct


def _argnums_tuple(argnums, nargs, fname):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"{fname}: argnums={argnums!r} but the function was called with "
                             f"{nargs} positional argument(s).")
    nums = tuple(a % nargs for a in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{fname}: argnums={argnums!r} names an argument twice; give each "
                         "position once (the gradient of a repeated one would be the same).")
    return single, nums


def _split_aux(out, has_aux, fname):
    """``(output, aux)`` of a function called with ``has_aux``; ``(out, None)`` without."""
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(f"{fname}: has_aux=True needs the function to return a pair "
                        f"(output, aux); it returned {type(out).__name__}.")
    return out


def _fun_name(fun):
    return getattr(fun, "__name__", type(fun).__name__)


def _unbox(tree, trace):
    """``tree`` with the tracers of ``trace`` replaced by their values: what a transformation
    hands back (values, aux) must not keep this trace alive. Tracers of outer traces stay."""
    if type(tree) is Tracer:
        return tree._value if tree._trace is trace else tree
    if tree is None or type(tree) is np.ndarray:
        return tree
    return tree_map(lambda leaf: leaf._value if type(leaf) is Tracer and leaf._trace is trace
                    else leaf, tree)


def _ones_like(x):
    """The seed of a backward pass: ones of ``x``'s shape and dtype (a value recorded by
    ``gk.jit`` makes its own, :meth:`~gradkit.autodiff.staging.JitValue.seed`, which does
    not read the value)."""
    if type(x) is np.float64:  # a float64 loss (np.ones_like dispatches slower)
        return np.array(1.0)
    x = getval(x)
    if type(x) in ARRAY_STAND_INS:
        return x.seed()
    if type(x) is np.ndarray or isinstance(x, np.generic):
        one = np.array(1, dtype=x.dtype)
        return one if x.ndim == 0 else one.reshape(x.shape)
    return np.ones_like(x)


def _reverse(fun, args, kwargs, argnums, has_aux, fname):
    """Call ``fun`` with ``args[argnums]`` traced on a new reverse trace:
    ``(trace, output, aux, inputs)``."""
    trace = ReverseTrace()
    trace.arguments = args  # (read by a write into an input: mutation.assign)
    new_input = trace.new_input
    traced, inputs = _trace_args(args, argnums, fname, new_input)
    out = fun(*traced, **kwargs)
    finish(trace)  # issue 16: from here on, a tracer of this trace raises wherever it is used
    if has_aux:
        out, aux = _split_aux(out, has_aux, fname)
        return trace, out, aux, inputs
    return trace, out, None, inputs


# ----------------------------------------------------------------------------- reverse mode
def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """Return a function computing ``fun`` and its gradient with respect to ``argnums``.

    ``fun`` must return a real scalar (an array of size 1). With ``has_aux=True`` it returns
    ``(value, aux)`` and the new function returns ``((value, aux), gradient)``. With a tuple
    ``argnums`` the gradient is a tuple with one entry per argument. Arguments may be pytrees;
    the gradient has the argument's structure (a dict keeps its own key order).

    Complex numbers follow :mod:`gradkit.autodiff.complex`: a complex output raises unless
    ``holomorphic=True``, which returns ``f'(z)`` and needs complex inputs.

    Args:
        fun: a function written with NumPy whose output is a real scalar.
        argnums: the position of the argument to differentiate, or a tuple of positions.
        has_aux: ``fun`` returns ``(value, aux)``; ``aux`` is passed through undifferentiated.
        holomorphic: ``fun`` is a holomorphic function of complex inputs; return ``f'(z)``.

    Returns:
        A function with ``fun``'s arguments returning ``(value, gradient)`` (``((value,
        aux), gradient)`` with ``has_aux``); the gradient has the structure of the argument.

    Raises:
        TypeError: if ``fun`` returns a non-scalar or a complex value (without
            ``holomorphic=True``), or an argument is not floating point or complex.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> value, g = gk.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
        >>> float(value), g
        (5.0, array([2., 4.]))
        >>> loss = lambda p, x: np.sum((p["w"] * x - 1.0) ** 2)
        >>> value, (gp, gx) = gk.value_and_grad(loss, argnums=(0, 1))({"w": 2.0}, 1.0)
        >>> float(value), float(gp["w"]), float(gx)   # 2 (w x - 1) x and 2 (w x - 1) w
        (1.0, 2.0, 4.0)
        >>> (value, aux), g = gk.value_and_grad(lambda x: (x ** 2, "note"), has_aux=True)(3.0)
        >>> float(value), aux, float(g)
        (9.0, 'note', 6.0)
    """
    return _reverse_gradient(fun, argnums, has_aux, holomorphic, True)


def _reverse_gradient(fun, argnums, has_aux, holomorphic, with_value):
    """The function of :func:`value_and_grad` (``with_value``) or of :func:`grad`: one body,
    so that ``grad`` is not a call of ``value_and_grad``'s function."""
    fname = _fun_name(fun)
    label = f"grad({fname})"

    @functools.wraps(fun)
    def gradient_fun(*args, **kwargs):
        if type(argnums) is int and 0 <= argnums < len(args):
            single, nums = True, (argnums,)
        else:
            single, nums = _argnums_tuple(argnums, len(args), label)
        trace, out, aux, inputs = _reverse(fun, args, kwargs, nums, has_aux, label)
        if holomorphic:
            _complex.check_holomorphic_inputs([leaf for leaves, _, _ in inputs
                                               for leaf in leaves], label)
        if type(out) is Tracer and out._trace is trace:
            value = out._value
            if value.size != 1:
                _not_scalar(fname, out)
            if holomorphic or value.dtype.kind == "c":
                _complex.check_output(value, holomorphic, label)
            cts = trace.backward({out._aux: _ones_like(value)})
        else:  # the output does not depend on the arguments: zero gradients
            if isinstance(out, (list, tuple, dict)) or np.size(getval(out)) != 1:
                _not_scalar(fname, out)
            _complex.check_output(out, holomorphic, label)
            value, cts = out, None
        grads = _gradients(cts, inputs)
        g = grads[0] if single else tuple(grads)
        if not with_value:
            return (g, _unbox(aux, trace)) if has_aux else g
        return ((value, _unbox(aux, trace)) if has_aux else value), g

    return gradient_fun


def _not_scalar(fname, out):
    what = (f"a {type(out).__name__}" if isinstance(out, (list, tuple, dict))
            else f"an array of shape {np.shape(getval(out))}")
    raise TypeError(
        f"grad({fname}): the function must return a scalar, but it returned {what}. Reduce it "
        "(e.g. np.sum or np.mean), or use gk.jacobian / gk.vjp / gk.elementwise_grad for "
        "non-scalar outputs.")


def grad(fun, argnums=0, has_aux=False, holomorphic=False):
    """Return the gradient function of a scalar function ``fun`` (reverse mode).

    ``grad(f)(x)[i] = d f(x) / d x_i``, the same structure as ``x``. With ``has_aux=True``
    the new function returns ``(gradient, aux)``. For a holomorphic
    ``fun`` of complex inputs, ``holomorphic=True`` returns ``f'(z)``; a complex output
    raises otherwise (see :mod:`gradkit.autodiff.complex`).

    Args:
        fun: a function written with NumPy whose output is a real scalar.
        argnums: the position of the argument to differentiate, or a tuple of positions.
        has_aux: ``fun`` returns ``(value, aux)``; ``aux`` is passed through undifferentiated.
        holomorphic: ``fun`` is a holomorphic function of complex inputs; return ``f'(z)``.

    Returns:
        A function with ``fun``'s arguments returning the gradient (a tuple of gradients for
        a tuple ``argnums``; ``(gradient, aux)`` with ``has_aux``).

    Raises:
        TypeError: as :func:`value_and_grad`.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> gk.grad(lambda x: np.sum(np.tanh(x)))(np.zeros(3))
        array([1., 1., 1.])
        >>> g = gk.grad(lambda p: np.sum(p["w"] ** 2) + p["b"])({"w": np.ones(2), "b": 0.5})
        >>> g["w"], float(g["b"])
        (array([2., 2.]), 1.0)
        >>> float(gk.grad(gk.grad(lambda x: x ** 3))(2.0))   # second derivative, 6 x
        12.0
        >>> complex(gk.grad(lambda z: z ** 2, holomorphic=True)(1j))   # f'(z) = 2 z
        2j
    """

    return _reverse_gradient(fun, argnums, has_aux, holomorphic, False)


def vjp(fun, *primals, has_aux=False):
    """Vector-Jacobian product: ``(out, pullback)`` with ``pullback(v) = v^T J`` (JAX's vjp).

    ``pullback`` takes a cotangent shaped like ``out`` and returns a tuple with one cotangent
    per primal; it may be called more than once. With ``has_aux=True`` returns
    ``(out, pullback, aux)``.

    Args:
        fun: a function of ``len(primals)`` arguments written with NumPy.
        *primals: the point at which to differentiate (arrays or pytrees).
        has_aux: ``fun`` returns ``(out, aux)``.

    Returns:
        ``(out, pullback)``, or ``(out, pullback, aux)``.

    Raises:
        ValueError: from ``pullback``, for a cotangent whose structure is not ``out``'s.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> out, pullback = gk.vjp(np.sin, np.zeros(2))
        >>> pullback(np.ones(2))
        (array([1., 1.]),)
        >>> out, pullback = gk.vjp(lambda x, y: x * y, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
        >>> pullback(np.ones(2))   # one cotangent per primal: (y, x)
        (array([3., 4.]), array([1., 2.]))
    """
    fname = f"vjp({_fun_name(fun)})"
    trace, out, aux, inputs = _reverse(fun, primals, {}, range(len(primals)), has_aux, fname)
    out_leaves, out_def = tree_flatten(out)

    def pullback(cotangent):
        ct_leaves, ct_def = tree_flatten(cotangent)
        if ct_def != out_def:
            raise ValueError(f"vjp: the cotangent's structure {ct_def} does not match the "
                             f"output's structure {out_def}.")
        seeds = {}
        for o, c in zip(out_leaves, ct_leaves):
            if np.shape(getval(c)) != np.shape(getval(o)):
                raise ValueError(f"{fname}: a cotangent has shape {np.shape(getval(c))}, its "
                                 f"output {np.shape(getval(o))}; pass one of the output's "
                                 "shape (np.ones_like(out) for the sum of its entries).")
            if type(o) is Tracer and o._trace is trace:
                seeds[o._aux] = c if o._aux not in seeds else seeds[o._aux] + c
        cts = trace.backward(seeds, free=False) if seeds else None
        return tuple(_gradients(cts, inputs))

    out, aux = _unbox(out, trace), _unbox(aux, trace)
    return (out, pullback, aux) if has_aux else (out, pullback)


# ----------------------------------------------------------------------------- forward mode
def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product in forward mode: ``(fun(*primals), J @ tangents)`` (JAX's jvp).

    ``primals`` and ``tangents`` are tuples of the same structure. The tangent is carried
    along with the value through every operation, so one call costs a small multiple of one
    evaluation of ``fun``, however many outputs it has.

    Args:
        fun: a function of ``len(primals)`` arguments written with NumPy.
        primals: the point, a tuple with one entry per argument.
        tangents: the direction, a tuple shaped like ``primals``.
        has_aux: ``fun`` returns ``(out, aux)``; ``aux`` is passed through undifferentiated.

    Returns:
        ``(fun(*primals), J @ tangents)``, both with the structure of ``fun``'s output
        (``(out, J @ tangents, aux)`` with ``has_aux``).

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> gk.jvp(np.sin, (np.zeros(2),), (np.ones(2),))
        (array([0., 0.]), array([1., 1.]))
        >>> out, tangent, aux = gk.jvp(lambda x: (np.sin(x), "aux"), (0.0,), (2.0,), has_aux=True)
        >>> float(out), float(tangent), aux   # cos(0) * 2
        (0.0, 2.0, 'aux')
    """
    fname = f"jvp({_fun_name(fun)})"
    for what, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (tuple, list)):
            raise TypeError(f"{fname}: {what} must be a tuple (one entry per argument), got a "
                            f"{type(given).__name__}; write gk.jvp(f, (x,), (v,)).")
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"{fname}: {len(primals)} primals but {len(tangents)} tangents.")
    trace = ForwardTrace()
    trace.arguments = primals
    traced, _ = _trace_args(primals, range(len(primals)), fname, trace.new_input, tangents)
    out = fun(*traced)
    finish(trace)  # issue 16: tracers of this trace are invalid from here on
    out, aux = _split_aux(out, has_aux, fname)

    def split(o):
        if type(o) is Tracer and o._trace is trace:
            return o._value, o._aux
        return o, np.zeros_like(getval(o))

    leaves, treedef = tree_flatten(out)
    pairs = [split(o) for o in leaves]
    primal_out = tree_unflatten(treedef, [p for p, _ in pairs])
    tangent_out = tree_unflatten(treedef, [t for _, t in pairs])
    if has_aux:
        return primal_out, tangent_out, _unbox(aux, trace)
    return primal_out, tangent_out


def stop_gradient(x):
    """``x`` with no derivative through it, at any order (a constant to every trace).

    Args:
        x: an array, a traced value or a pytree of them.

    Returns:
        ``x``'s values as plain arrays, in ``x``'s structure.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> float(gk.grad(lambda x: x * gk.stop_gradient(x))(3.0))   # d/dx (x * c) at c = x
        3.0
        >>> gk.stop_gradient({"w": np.ones(2)})
        {'w': array([1., 1.])}

    """
    return tree_map(getval, x)
