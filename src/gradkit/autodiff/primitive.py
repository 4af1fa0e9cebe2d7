"""Primitives and the rule table: one NumPy function, a VJP and a JVP rule per argument.

A rule is one registration (HIPS autograd's ``defvjp``):
``defvjp(np.tanh, lambda g, ans, x: g * (1 - ans * ans))``. Rules are written with NumPy
calls, so the values they see may be tracers of an outer trace and derivatives of
derivatives come for free. NumPy reaches a primitive through the tables filled here:
``UFUNC_HANDLERS`` (``__array_ufunc__``), ``FUNCTION_HANDLERS`` (``__array_function__``) and
``UFUNC_METHODS`` (``np.add.reduce`` and friends).
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "LeakedTracerError",
    "Primitive", "primitive", "differentiable", "defvjp", "defjvp", "def_linear",
    "identity_rule", "TracerConversionError", "NoGradientRuleError", "no_rule_error",
    "PRIMITIVES", "UFUNC_PRIMITIVES", "UFUNC_HANDLERS", "FUNCTION_HANDLERS", "NONDIFF_UFUNCS",
    "UFUNC_METHODS", "PLAIN_UFUNCS", "MISSING",
]


class TracerConversionError(TypeError):
    """A traced value was turned into a plain number or array, which would drop its gradient.

    Raised by ``float()``, ``int()``, ``math.*``, ``np.asarray`` or a write into a plain NumPy
    array of a value being differentiated; the message says how to keep it traced.

    Examples:
        >>> import gradkit as gk
        >>> try:
        ...     gk.grad(lambda x: float(x) ** 2)(3.0)
        ... except gk.TracerConversionError as exc:
        ...     print(str(exc)[:60])
        float() (or math.*, or writing into a plain NumPy array) of
        >>> float(gk.grad(lambda x: x ** 2)(3.0))   # keep it traced: no float() inside
        6.0
    """


class LeakedTracerError(RuntimeError):
    """A traced value was used after the transformation that traced it had returned (it was
    kept in a global, a closure or an attribute); its derivative belongs to a finished
    computation, so any result from it would be wrong.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> kept = []
        >>> def f(x):
        ...     kept.append(x)           # the traced value escapes the call
        ...     return 2.0 * x
        >>> float(gk.grad(f)(1.0))
        2.0
        >>> try:
        ...     np.sin(kept[0])
        ... except gk.LeakedTracerError as exc:
        ...     print(str(exc)[:58])
        a traced value was used in sin after the grad / vjp / jvp
    """


class NoGradientRuleError(NotImplementedError):
    """A NumPy function was called on a traced value but gradkit has no derivative rule for it.

    Rewrite that step with functions that have rules, or give it a derivative with
    :func:`gradkit.custom_vjp` (or register a rule with :func:`defvjp`).

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> try:
        ...     gk.grad(lambda x: np.sort_complex(x).real.sum())(np.array([2.0, 1.0]))
        ... except gk.NoGradientRuleError as exc:
        ...     print(str(exc)[:52])
        gradkit has no gradient rule for np.sort_complex. Re
    """



class Primitive:
    """One differentiable operation: the function, a VJP rule and a JVP rule per argument.

    ``vjps[i](g, ans, *args, **kwargs)`` returns the cotangent of argument ``i`` given the
    output cotangent ``g``; ``jvps[i](t, ans, *args, **kwargs)`` returns the output tangent
    caused by the tangent ``t`` of argument ``i``. An entry ``None`` means argument ``i`` has no
    derivative (indices, masks, shapes); a missing entry means the rule is not written and
    differentiating through that argument raises :class:`NoGradientRuleError`.

    ``needs[i]``: what VJP rule ``i`` reads, as positions (``-1`` the output ``ans``, ``k``
    argument ``k``), or ``None`` (everything); see :func:`defvjp`. ``lean[mask]`` is what the
    tape keeps of an entry whose traced arguments are the bits of ``mask``:
    ``(keep_ans, keep_arg0, keep_arg1, ...)``, or ``lean`` is ``None`` (keep everything).

    ``broadcasts``: the engine un-broadcasts this primitive's cotangents (rules never do).
    ``view``: NumPy returns a view of argument 0 (``x[1:]``, ``x.T``, ``reshape`` when it can),
    so a write to one is seen by the other (see :mod:`.mutation`).

    Args:
        name: the name errors and the tape show.
        fn: the NumPy function it computes.
        broadcasts: whether the engine un-broadcasts its cotangents.

    Examples:
        >>> import numpy as np
        >>> prim = PRIMITIVES[np.tanh]
        >>> prim, prim.fn is np.tanh, len(prim.vjps), prim.broadcasts
        (<primitive tanh>, True, 1, False)
    """

    __slots__ = ("name", "fn", "vjps", "jvps", "broadcasts", "arity", "view", "needs", "lean")

    def __init__(self, name, fn, broadcasts=False):
        self.name = name
        self.fn = fn
        self.vjps = ()
        self.jvps = ()
        self.broadcasts = broadcasts
        self.arity = 0  # the number of arguments when every one has a VJP rule (fast paths)
        self.view = False
        self.needs = ()
        self.lean = None

    def set_vjps(self, vjps):
        """Install the VJP rules (a tuple, one per positional argument)."""
        self.vjps = tuple(vjps)
        n = len(self.vjps)
        self.arity = n if n and all(callable(r) for r in self.vjps) else 0

    def set_needs(self, needs):
        """Install what each VJP rule reads (one entry per rule, see :func:`defvjp`) and build
        ``lean``, the table the tape consults when it records an entry."""
        self.needs = tuple(needs)
        n = len(self.needs)
        if n == 0 or n > _LEAN_MAX_ARGS or all(k is None for k in self.needs):
            self.lean = None
            return
        table = []
        for mask in range(1 << n):
            read = set()
            for i, k in enumerate(self.needs):
                if mask >> i & 1:
                    read.update(range(-1, n) if k is None else k)
            table.append((-1 in read,) + tuple(i in read for i in range(n)))
        self.lean = tuple(table)

    def __repr__(self):
        return f"<primitive {self.name}>"


_LEAN_MAX_ARGS = 6  # a primitive with more arguments keeps them all (lean is 2**n entries)


#: The marker of a rule not written (differentiating through that argument raises).
MISSING = object()
#: The rule table: each function (NumPy's or a user's) -> its :class:`Primitive`.
PRIMITIVES: dict = {}
#: Each ``np.ufunc`` with rules -> its :class:`Primitive`.
UFUNC_PRIMITIVES: dict = {}
#: ``np.ufunc`` -> ``handler(*inputs)`` that ``__array_ufunc__`` calls (usually ``apply`` bound
#: to the primitive).
UFUNC_HANDLERS: dict = {}
#: ``np.ufunc`` -> :class:`Primitive`, for the ufuncs whose handler is just that primitive.
PLAIN_UFUNCS: dict = {}
#: NumPy function -> ``handler(*args, **kwargs)`` that ``__array_function__`` calls. A handler
#: with a ``plain`` attribute (a :class:`Primitive`) declares that a call with one positional
#: argument and no keywords is ``apply(handler.plain, x)``: ``Tracer.__array_function__``
#: records such a call itself (``np.sum(x)``, ``np.ravel(x)``, ...).
FUNCTION_HANDLERS: dict = {}
#: ``(ufunc, method)`` (``(np.add, "reduce")``, ...) -> handler; filled by the reduction rules.
UFUNC_METHODS: dict = {}

#: ufuncs whose result carries no derivative (comparisons, rounding, tests): they return plain
#: arrays, so the gradient through them is zero by construction.
NONDIFF_UFUNCS = {
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.isnan, np.isinf,
    np.isfinite, np.signbit, np.sign, np.floor, np.ceil, np.trunc, np.rint, np.floor_divide,
    np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift,
    np.isnat, np.spacing, np.heaviside,
}


def primitive(fn, name=None, broadcasts=False):
    """Create (or return) the primitive for ``fn``; ufuncs are routed automatically.

    Args:
        fn: a NumPy function, a ufunc or any function of arrays (or a :class:`Primitive`,
            returned as it is).
        name: the name errors and the tape show (default: ``fn.__name__``).
        broadcasts: whether the engine un-broadcasts the primitive's cotangents.

    Returns:
        Primitive: the one entry of :data:`PRIMITIVES` for ``fn``; calling this again returns
        the same object.

    Examples:
        >>> import numpy as np
        >>> primitive(np.sin) is PRIMITIVES[np.sin], primitive(np.sin).broadcasts
        (True, False)
        >>> primitive(np.add).broadcasts  # a two-argument ufunc broadcasts
        True
    """
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
            UFUNC_HANDLERS[fn] = lambda *inputs: apply(prim, *inputs)
            PLAIN_UFUNCS[fn] = prim
    return prim


def differentiable(fn=None, *, name=None, broadcasts=False):
    """Make a new primitive of a plain-NumPy function (a decorator).

    The returned function routes tracers through the engine; register its rules with
    ``defvjp(f.primitive, ...)``. Use it for functions that must be one step of the tape
    (fused or stable computations, or adjoints used inside other rules).

    Args:
        fn: the function to wrap (left out: ``@differentiable(name=...)`` returns the
            decorator).
        name: the primitive's name (default: ``fn.__name__``).
        broadcasts: whether the engine un-broadcasts its cotangents.

    Returns:
        The wrapped function, with its :class:`Primitive` as ``.primitive`` (or the decorator).

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> @differentiable
        ... def cube(x):
        ...     return x ** 3
        >>> _ = defvjp(cube.primitive, lambda g, ans, x: 3.0 * g * x ** 2)
        >>> float(gk.grad(cube)(2.0))
        12.0
    """
    def wrap(fn):
        def body(*args, **kwargs):
            # A trace hands the primitive its values with its own tracers removed; tracers
            # of outer traces may remain (a hessian differentiates the rules): send those on.
            for a in args:
                if type(a) is Tracer or type(a) is BatchTracer:
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
    current = list(current) + [MISSING] * (len(rules) - len(current))
    for i, r in enumerate(rules):
        if r is not MISSING:
            current[i] = r
    return tuple(current)


def defvjp(fn, *rules, name=None, broadcasts=False, needs=None):
    """Register VJP rules, one per positional argument: ``rule(g, ans, *args, **kwargs)``.

    ``needs`` says which values the rules read, so that the tape keeps only those (the lean
    tape): a string of names from each rule's own signature (``"ans"``, ``"x"``, ``"x y"``,
    ``""`` for none: shapes and dtypes are always kept), one string for every rule or a tuple
    with one per rule. Left out, a rule keeps everything. Keyword arguments and non-array
    arguments (axes, indices given as ints or slices) are always kept. A rule that reads a
    value it did not declare raises (never a silently wrong gradient).

    Args:
        fn: the function (or its :class:`Primitive`) the rules are for.
        *rules: one VJP rule per positional argument; ``None`` for an argument with no
            derivative, :data:`MISSING` to leave one as it is.
        name: the primitive's name, if this creates it.
        broadcasts: whether the engine un-broadcasts the cotangents (rules then return the
            cotangent in the output's shape).
        needs: what the rules read (see above).

    Returns:
        Primitive: the primitive of ``fn``, with the rules installed.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> @differentiable
        ... def softsign(x):
        ...     return x / (1.0 + np.abs(x))
        >>> p = defvjp(softsign.primitive, lambda g, ans, x: g / (1.0 + np.abs(x)) ** 2,
        ...            needs="x")
        >>> p.needs, float(gk.grad(softsign)(1.0))
        (((0,),), 0.25)
    """
    prim = primitive(fn, name, broadcasts)
    prim.set_vjps(_set_rules(prim.vjps, rules))
    if needs is not None or prim.needs:
        declared = [MISSING] * len(rules) if needs is None else _resolve_needs(rules, needs)
        current = list(prim.needs) + [None] * (len(prim.vjps) - len(prim.needs))
        for i, (rule, k) in enumerate(zip(rules, declared)):
            if rule is not MISSING:
                current[i] = None if k is MISSING else k
        prim.set_needs(current)
    _route(fn, prim)
    return prim


def _resolve_needs(rules, needs):
    """Each rule's ``needs`` string as positions (``-1``: ``ans``), named by its signature."""
    import inspect

    specs = (needs,) * len(rules) if isinstance(needs, str) else tuple(needs)
    if len(specs) != len(rules):
        raise ValueError(f"needs= has {len(specs)} entries for {len(rules)} rules; give one "
                         "string for all rules or one per rule.")
    out = []
    for rule, spec in zip(rules, specs):
        if not callable(rule):
            out.append(MISSING)
            continue
        params = list(inspect.signature(getattr(rule, "__wrapped_rule__", rule)).parameters
                      .values())
        names = [p.name for p in params
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]  # after g
        positions = []
        for token in spec.split():
            if token not in names:
                raise ValueError(f"needs={spec!r}: {token!r} is not a positional parameter of "
                                 f"the rule {rule!r} (its values are {names[1:]}, output "
                                 f"{names[:1]}).")
            positions.append(names.index(token) - 1)  # names[0] is the output: -1
        out.append(tuple(sorted(positions)))
    return out


def defjvp(fn, *rules, name=None, broadcasts=False):
    """Register JVP rules, one per positional argument: ``rule(t, ans, *args, **kwargs)``.

    Each rule returns the output tangent caused by the tangent ``t`` of its argument; forward
    mode (:func:`gradkit.jvp`, ``jacfwd``, ``hvp``) adds them up.

    Args:
        fn: the function (or its :class:`Primitive`) the rules are for.
        *rules: one JVP rule per positional argument (``None``: no derivative).
        name: the primitive's name, if this creates it.
        broadcasts: whether the engine un-broadcasts its cotangents.

    Returns:
        Primitive: the primitive of ``fn``, with the rules installed.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> @differentiable
        ... def square(x):
        ...     return x * x
        >>> _ = defjvp(square.primitive, lambda t, ans, x: 2.0 * x * t)
        >>> _, tangent = gk.jvp(square, (3.0,), (1.0,))
        >>> float(tangent)
        6.0
    """
    prim = primitive(fn, name, broadcasts)
    prim.jvps = _set_rules(prim.jvps, rules)
    _route(fn, prim)
    return prim


def def_linear(fn, *argnums, name=None):
    """Declare ``fn`` linear in each of ``argnums``: its JVP applies ``fn`` to the tangent.

    For :math:`f` linear in argument :math:`i`, :math:`\\partial_i f(x)[t] = f(\\dots, t,
    \\dots)` with :math:`t` in place of :math:`x_i`.

    Args:
        fn: the function (or its :class:`Primitive`).
        *argnums: the positions of the arguments it is linear in.
        name: the primitive's name, if this creates it.

    Returns:
        Primitive: the primitive of ``fn``, with those JVP rules installed.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> @differentiable
        ... def double(x):
        ...     return 2.0 * x
        >>> _ = def_linear(double.primitive, 0)
        >>> _, tangent = gk.jvp(double, (np.ones(2),), (np.array([1.0, 3.0]),))
        >>> tangent
        array([2., 6.])
    """
    prim = primitive(fn, name)
    rules = [MISSING] * (max(argnums) + 1)
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
        handler = FUNCTION_HANDLERS[fn] = lambda *args, **kwargs: apply(prim, *args, **kwargs)
        handler.plain = prim


def identity_rule(g, ans, *args, **kwargs):
    """The VJP / JVP of an argument the output depends on with derivative one (``x + y``):
    the cotangent or tangent passes through unchanged. ``backward`` skips the call.

    Args:
        g: the cotangent (or tangent).
        ans: the primitive's output (unused).
        *args: its arguments (unused).
        **kwargs: its keyword arguments (unused).

    Returns:
        ``g`` itself.

    Examples:
        >>> import numpy as np
        >>> PRIMITIVES[np.add].vjps[0] is identity_rule
        True
        >>> identity_rule(5.0, None, 1.0, 2.0)
        5.0
    """
    return g


def no_rule_error(prim, i, mode):
    """The error for differentiating argument ``i`` of ``prim`` without a rule.

    Args:
        prim: the :class:`Primitive`.
        i: the argument's position.
        mode: ``"rev"`` (VJP) or ``"fwd"`` (JVP).

    Returns:
        NoGradientRuleError: the error to raise, saying which rule is missing and the rewrites.

    Examples:
        >>> import numpy as np
        >>> str(no_rule_error(PRIMITIVES[np.tanh], 0, "fwd"))[:58]
        'gradkit has no forward-mode (JVP) rule for argument 0 of t'
    """
    what = "reverse-mode (VJP)" if mode == "rev" else "forward-mode (JVP)"
    return NoGradientRuleError(
        f"gradkit has no {what} rule for argument {i} of {prim.name}. Rewrite this step with "
        f"functions that have rules, wrap it with gradkit.custom_vjp to give your own, or use "
        f"gradkit.stop_gradient if no derivative should flow through it.")


# The engine's three modules load in a chain, each importing the next at its end, after its
# own names exist: primitive (the table) -> trace (apply, the tapes) -> tracer (the value).
# The package imports this module first, so the chain always starts here.
from .trace import apply  # noqa: E402
from .tracer import Tracer  # noqa: E402
from .batching import BatchTracer  # noqa: E402
