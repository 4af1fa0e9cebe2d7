r"""Complex numbers: the one convention, the registry of verified rules, and the guard.

The convention (JAX's and HIPS autograd's)
------------------------------------------
gradkit treats :math:`\mathbb{C}` as :math:`\mathbb{R}^2`. A complex value
:math:`z = x + iy` that a real loss :math:`L` depends on has the *cotangent*

.. math::  \bar z = \frac{\partial L}{\partial x} - i\,\frac{\partial L}{\partial y},

so that a first-order change is :math:`dL = \operatorname{Re}\sum \bar z \odot dz` (no
conjugation inside the sum). Its *tangent* is :math:`\dot z = dx + i\,dy`. Consequences, which
every complex-verified rule obeys:

* a holomorphic :math:`f` (``exp``, ``sin``, ``*``, ``@``, ...): JVP :math:`f'(z)\,\dot z`,
  VJP :math:`\bar w\, f'(z)` -- the plain transpose, **no** conjugation;
* ``conj``: JVP :math:`\overline{\dot z}`, VJP :math:`\overline{\bar w}`;
* ``real(z)``: JVP :math:`\operatorname{Re}\dot z`, VJP :math:`\bar w` (as a complex number);
  ``imag(z)``: JVP :math:`\operatorname{Im}\dot z`, VJP :math:`-i\,\bar w`;
* ``abs(z)``: JVP :math:`\operatorname{Re}(\overline{z}\,\dot z)/|z|`, VJP :math:`\bar w\,\overline{z}/|z|`
  (0 at :math:`z = 0`, the minimum-norm subgradient);
  ``angle(z)``: JVP :math:`\operatorname{Im}(\overline{z}\,\dot z)/|z|^2`, VJP
  :math:`-i\,\bar w\,\overline{z}/|z|^2`;
* ``sign(z) = z / |z|`` (NumPy 2): JVP :math:`(\dot z - \operatorname{sign}(z)
  \operatorname{Re}(\overline{\operatorname{sign}(z)}\,\dot z))/|z|` (0 at 0); ``vecdot``,
  ``vecmat`` and ``vdot`` conjugate their first argument, so its cotangent is
  :math:`\overline{\bar w\, b}` (anti-linear), the second's :math:`\bar w\,\bar a`;
* a real value whose cotangent comes out complex (a real ``a`` in ``a * 1j``) takes its real
  part: :math:`a` only moves along the real axis.

So for :math:`f:\mathbb{C}\to\mathbb{R}`, ``grad(f)(z)`` is :math:`\partial f/\partial x -
i\,\partial f/\partial y` -- the *conjugate* of the direction of steepest ascent; gradient
descent on a complex parameter steps along ``-np.conj(grad(f)(z))``. Example:
``grad(lambda z: abs(z) ** 2)(3 + 4j) == 6 - 8j``.

The holomorphic case
--------------------
``grad`` of a complex-valued output raises ``TypeError`` (as JAX does): the gradient of a
complex function is not a single number unless the function is holomorphic. For a
holomorphic :math:`f = u + iv`, ``grad(f, holomorphic=True)`` seeds the output with
:math:`1 + 0i`; the backward pass then computes :math:`\partial u/\partial x - i\,\partial
u/\partial y`, which by the Cauchy-Riemann equations (:math:`u_y = -v_x`) is
:math:`u_x + i v_x = f'(z)`. So ``grad(np.sin, holomorphic=True)(z) == np.cos(z)``. The
inputs must then be complex (``TypeError`` otherwise); for a function that is not holomorphic
the result is the cotangent of :math:`\operatorname{Re} f`, not a derivative.

Real inputs always get real gradients (the real part of the cotangent, taken explicitly, so no
``ComplexWarning`` reaches the user).

Refusal of what is not verified
-------------------------------
Every primitive whose rules were checked on complex input against finite differences in the
real and the imaginary directions (``tests/autodiff/test_complex.py``) is marked with
:func:`def_complex`. :func:`guard_unverified` wraps the rules of every other primitive so that
a call whose output or any argument is complex raises :class:`NoGradientRuleError` naming the
primitive: a rule written for real numbers (``np.maximum``, ``np.max``,
``np.linalg.cholesky``, ...) would otherwise give a silently wrong gradient. Verified primitives keep their rules
unwrapped and pay nothing.
"""
from __future__ import annotations

import sys

import numpy as np

from .primitive import MISSING as _MISSING, PRIMITIVES, NoGradientRuleError, primitive
from .trace import Shell, getval
from .tracer import Tracer

__all__ = ["def_complex", "is_verified", "guard_unverified", "check_output", "check_jacobian",
           "check_holomorphic_inputs", "gradient_for_input", "is_complex", "real_part"]

VERIFIED: set = set()    # the Primitives whose rules are verified on complex input
_GUARDED: dict = {}      # Primitive -> True once its rules are wrapped (idempotence)
_EXTRA: list = []        # primitives outside PRIMITIVES (e.g. maximum's tie-aware pair)


def def_complex(*fns):
    """Mark ``primitive(fn)`` for each ``fn`` as verified on complex input.

    Only call this after a test in ``tests/autodiff/test_complex.py`` compares the rules with
    finite differences in the real and imaginary directions. A primitive marked after
    :func:`guard_unverified` ran gets its original rules back.

    Args:
        *fns: the functions (or Primitives) whose rules are verified.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> from gradkit.autodiff.primitive import differentiable, defvjp
        >>> @differentiable
        ... def twice(z):
        ...     return 2.0 * z
        >>> _ = defvjp(twice.primitive, lambda g, ans, z: 2.0 * g)
        >>> guard_unverified()        # as the engine does after registering rules
        >>> gk.grad(lambda z: np.real(twice(z)))(1.0 + 1.0j)
        Traceback (most recent call last):
            ...
        gradkit.autodiff.primitive.NoGradientRuleError: gradkit has not verified twice ...
        >>> def_complex(twice.primitive)   # after checking the rule on complex input
        >>> complex(gk.grad(lambda z: np.real(twice(z)))(1.0 + 1.0j))
        (2+0j)
    """
    for fn in fns:
        prim = primitive(fn)
        VERIFIED.add(prim)
        if _GUARDED.pop(prim, None):
            prim.set_vjps(tuple(getattr(r, "__wrapped_rule__", r) for r in prim.vjps))
            prim.jvps = tuple(getattr(r, "__wrapped_rule__", r) for r in prim.jvps)


def is_verified(fn):
    """Whether the rules of ``fn`` (a function or a Primitive) are verified on complex input.

    Args:
        fn: a function with rules, or its Primitive.

    Returns:
        bool.

    Examples:
        >>> import numpy as np
        >>> is_verified(np.exp), is_verified(np.maximum)
        (True, False)
    """
    prim = fn if fn in VERIFIED else PRIMITIVES.get(fn)
    return prim in VERIFIED


def register_unlisted(*prims):
    """Primitives made with ``Primitive(...)`` directly, outside the rule table: guard them too."""
    _EXTRA.extend(prims)


# ----------------------------------------------------------------------------- complexness
def is_complex(v):
    """True when ``v`` (an array, a tracer at any depth, a Python number, a list or tuple of
    them) holds complex numbers.

    Args:
        v: the value.

    Returns:
        bool.

    Examples:
        >>> import numpy as np
        >>> is_complex(1j), is_complex(np.ones(2)), is_complex([1.0, np.array([1j])])
        (True, False, True)
    """
    t = type(v)
    if t is np.ndarray:
        return v.dtype.kind == "c"
    if t is Tracer:
        return is_complex(getval(v))
    if t is complex:
        return True
    if t is float or t is int or v is None:
        return False
    if t is list or t is tuple:
        for a in v:
            if is_complex(a):
                return True
        return False
    dtype = getattr(v, "dtype", None)  # NumPy scalars, CuPy arrays
    return isinstance(dtype, np.dtype) and dtype.kind == "c"


def real_part(g):
    """``np.real(g)`` when ``g`` is complex, ``g`` otherwise (differentiable).

    Args:
        g: a value or tracer.

    Returns:
        Its real part, or ``g`` itself.

    Examples:
        >>> import numpy as np
        >>> real_part(np.array([1 + 2j])), real_part(3.0)
        (array([1.]), 3.0)
    """
    return np.real(g) if is_complex(g) else g


def _name(prim):
    """The primitive as the user wrote it: ``np.maximum``, ``np.linalg.cholesky``,
    ``scipy.special.j0``; a primitive of gradkit's own under its name (``eigh (eigenvectors)``)."""
    fn = prim.fn
    fname = getattr(fn, "__name__", None)
    if fname is None:
        return prim.name
    special = sys.modules.get("scipy.special")
    if special is not None and getattr(special, fname, None) is fn:
        return f"scipy.special.{fname}"
    if getattr(np, fname, None) is fn:
        return f"np.{fname}"
    if getattr(np.linalg, fname, None) is fn:
        return f"np.linalg.{fname}"
    return prim.name


def _refusal(prim, mode):
    return NoGradientRuleError(
        f"gradkit has not verified {_name(prim)} on complex input ({mode}): its derivative rule "
        f"is written for real numbers and could be silently wrong. Rewrite this step on the "
        f"real and imaginary parts (np.real(z), np.imag(z)) with functions that have rules, or "
        f"give it your own derivative with gradkit.custom_vjp.")


_ND = np.ndarray


def _all_real(g, ans, args):
    """True when ``g``, ``ans`` and every argument are real: plain float arrays are checked
    inline (the first-order case), anything else by :func:`is_complex`."""
    ta = type(ans)
    if (ta is _ND or ta is Shell) and type(g) is _ND and ans.dtype.kind != "c" \
            and g.dtype.kind != "c":
        for a in args:
            t = type(a)
            if t is _ND or t is Shell:  # (a Shell: a value the lean tape did not keep)
                if a.dtype.kind == "c":
                    return False
            elif t is not int and t is not float and a is not None and is_complex(a):
                return False
        return True
    return not (is_complex(ans) or is_complex(args) or is_complex(g))


def _guard_vjp(prim, rule):
    def guarded(g, ans, *args, **kwargs):
        if _all_real(g, ans, args):
            return rule(g, ans, *args, **kwargs)
        if is_complex(ans) or is_complex(args):
            raise _refusal(prim, "reverse mode")
        # a real output's cotangent is real: drop what a product with a complex value left
        return rule(np.real(g), ans, *args, **kwargs)
    guarded.__wrapped_rule__ = rule
    return guarded


def _guard_jvp(prim, rule):
    def guarded(t, ans, *args, **kwargs):
        if _all_real(t, ans, args):
            return rule(t, ans, *args, **kwargs)
        raise _refusal(prim, "forward mode")
    guarded.__wrapped_rule__ = rule
    return guarded


def _wrap(rules, guard, prim):
    return tuple(r if r is None or r is _MISSING or hasattr(r, "__wrapped_rule__")
                 else guard(prim, r) for r in rules)


def guard_unverified():
    """Wrap the VJP and JVP rules of every primitive not marked by :func:`def_complex` so that
    complex input raises :class:`NoGradientRuleError` naming the primitive.

    Idempotent: modules that define primitives after the rule table (``stable``, ``nn``) call
    it again at their end. ``Primitive.arity`` stays consistent (``set_vjps``).

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> guard_unverified()  # already done for every rule: nothing changes
        >>> gk.grad(lambda z: np.real(np.maximum(z, 0.0)))(1.0 + 1.0j)
        Traceback (most recent call last):
            ...
        gradkit.autodiff.primitive.NoGradientRuleError: gradkit has not verified np.maximum ...
    """
    from .conventions import EXTREMUM_PRIMITIVES
    for prim in list(PRIMITIVES.values()) + EXTREMUM_PRIMITIVES + _EXTRA:
        if prim in VERIFIED:
            continue
        if _GUARDED.get(prim) and all(r is None or r is _MISSING
                                      or hasattr(r, "__wrapped_rule__")
                                      for r in prim.vjps + prim.jvps):
            continue
        prim.set_vjps(_wrap(prim.vjps, _guard_vjp, prim))
        prim.jvps = _wrap(prim.jvps, _guard_jvp, prim)
        _GUARDED[prim] = True


# ----------------------------------------------------------------------------- api helpers
def _dtype_name(value):
    """The dtype of an output (a Python number's too: ``1j`` is complex128)."""
    v = getval(value)
    dtype = getattr(v, "dtype", None)
    return str(dtype if dtype is not None else np.result_type(v))


def check_output(value, holomorphic, fname):
    """Raise ``TypeError`` where ``grad`` cannot differentiate the output ``value``: a complex
    output without ``holomorphic=True``, or a real one with it (JAX's rules).

    Args:
        value: the function's output.
        holomorphic: the ``holomorphic=`` argument of ``grad``.
        fname: the name the message starts with (``"grad(f)"``).

    Raises:
        TypeError: as above.

    Examples:
        >>> import numpy as np
        >>> check_output(1.0, False, "grad(f)")     # a real output: fine
        >>> check_output(np.complex128(1j), False, "grad(f)")
        Traceback (most recent call last):
            ...
        TypeError: grad(f): the function's output is complex (complex128); grad needs a ...
    """
    cplx = is_complex(value)
    if cplx and not holomorphic:
        raise TypeError(
            f"{fname}: the function's output is complex ({_dtype_name(value)}); grad needs "
            "a real scalar. For a holomorphic function use grad(f, holomorphic=True), which "
            "returns f'(z); otherwise differentiate a real quantity such as np.real(f(z)), "
            "np.abs(f(z)) or np.abs(f(z)) ** 2.")
    if holomorphic and not cplx:
        raise TypeError(
            f"{fname}: holomorphic=True needs a complex output, but the function returned "
            f"dtype {_dtype_name(value)}. Drop "
            "holomorphic=True for a real-valued function.")


def check_jacobian(x, out, holomorphic, fname):
    """``jacobian`` (and ``hessian``) of a complex input or output is the complex Jacobian
    only for a holomorphic function (JAX's jacfwd / jacrev rules): raise ``TypeError`` unless
    ``holomorphic=True``; with it, input and output must be complex. (For a non-holomorphic
    function, unit tangents along the real axis would give dF/dx alone: a silently partial
    answer.)

    Args:
        x: the input.
        out: the output.
        holomorphic: the ``holomorphic=`` argument.
        fname: the name the message starts with.

    Raises:
        TypeError: as above.

    Examples:
        >>> import numpy as np
        >>> check_jacobian(np.ones(2), np.ones(2), False, "jacobian(f)")
        >>> check_jacobian(np.ones(2) * 1j, np.ones(2), False, "jacobian(f)")
        Traceback (most recent call last):
            ...
        TypeError: jacobian(f): the input is complex. The Jacobian of a complex function ...
    """
    if holomorphic:
        check_holomorphic_inputs([x], fname)
        if not is_complex(out):
            raise TypeError(f"{fname}: holomorphic=True needs a complex output, but the function "
                            f"returned dtype {getattr(out, 'dtype', type(out).__name__)}.")
        return
    if is_complex(x) or is_complex(out):
        which = "input" if is_complex(x) else "output"
        raise TypeError(
            f"{fname}: the {which} is complex. The Jacobian of a complex function is a complex "
            "matrix only when the function is holomorphic: pass holomorphic=True for one; "
            "otherwise differentiate the real and imaginary parts (np.real / np.imag) of "
            "real arguments, or use gk.vjp / gk.jvp, which follow gradkit's convention.")


def check_holomorphic_inputs(leaves, fname):
    """With ``holomorphic=True`` every differentiated input must be complex (``TypeError``).

    Args:
        leaves: the differentiated inputs (the leaves of their pytrees).
        fname: the name the message starts with.

    Raises:
        TypeError: for a real input.

    Examples:
        >>> check_holomorphic_inputs([1j], "grad(f)")
        >>> check_holomorphic_inputs([1.0], "grad(f)")
        Traceback (most recent call last):
            ...
        TypeError: grad(f): holomorphic=True needs complex inputs, but an input has dtype ...
    """
    for leaf in leaves:
        if not is_complex(leaf):
            dtype = getattr(getval(leaf), "dtype", type(leaf).__name__)
            raise TypeError(
                f"{fname}: holomorphic=True needs complex inputs, but an input has dtype "
                f"{dtype}. Pass x.astype(complex) (or a complex literal such as 1.0 + 0j), or "
                "drop holomorphic=True.")


def gradient_for_input(ct, leaf):
    """The cotangent ``ct`` as the gradient of the input ``leaf``: its real part when ``leaf``
    is real (a real input moves only along the real axis), taken explicitly so that no
    ``ComplexWarning`` is raised by a later cast.

    Args:
        ct: the cotangent the backward pass computed (or None).
        leaf: the input it is the gradient of.

    Returns:
        ``ct``, or its real part.

    Examples:
        >>> import numpy as np
        >>> gradient_for_input(np.array([1 + 2j]), np.array([0.5]))
        array([1.])
        >>> gradient_for_input(np.array([1 + 2j]), np.array([0.5j]))
        array([1.+2.j])
    """
    if ct is not None and is_complex(ct) and not is_complex(leaf):
        return np.real(ct)
    return ct
