"""Rules for element-wise functions: arithmetic, the ufuncs, ``where`` and ``clip``.

An element-wise derivative is a multiplication by the partial derivative, so one function
serves as both the VJP and the JVP rule: ``partial(g, ans, *args)`` multiplies the incoming
cotangent (or tangent) ``g`` by d ans / d arg. Broadcasting is undone by the engine.

Kinks follow :mod:`gradkit.autodiff.conventions` (minimum-norm subgradient).
"""
import operator

import numpy as np

from .. import conventions
from ..primitive import (FUNCTION_HANDLERS, NONDIFF_UFUNCS, PLAIN_UFUNCS, UFUNC_HANDLERS,
                         Primitive, NoGradientRuleError, defjvp,
                         defvjp, identity_rule, primitive)
from ..batching import BATCH_RULES, ufunc_rule
from ..trace import apply, getval
from ..tracer import Tracer

_LOG2 = float(np.log(2.0))
_LOG10 = float(np.log(10.0))
_F64 = np.dtype(np.float64)
_ndarray = np.ndarray


def _number(value):
    """``value`` as a read-only 0-d float64 array: a rule's number beside a float64 array.
    NumPy converts a Python number on every call (about 150 ns of a rule on a small array);
    the 0-d array gives the same bits."""
    arr = np.array(value, _F64)
    arr.flags.writeable = False
    return arr


_ONE, _HALF = _number(1.0), _number(0.5)


def _typed(arr):
    """``typed(like)``: the 0-d ``arr`` beside a float64 array ``like``, else its Python
    number: other dtypes keep the (weak) Python number, and so do tracers and gk.jit's
    recorded values (which type a number themselves)."""
    number = float(arr)

    def typed(like):
        return arr if type(like) is _ndarray and like.dtype is _F64 else number
    return typed


_one, _half = _typed(_ONE), _typed(_HALF)


def def_elementwise(fn, *partials, name=None, needs=None):
    """Register ``partials`` (one per argument) as both the VJP and the JVP rules of ``fn``;
    ``needs``: what the VJP keeps on the tape (see :func:`~gradkit.autodiff.primitive.defvjp`)."""
    defvjp(fn, *partials, name=name, broadcasts=True, needs=needs)
    return defjvp(fn, *partials, name=name, broadcasts=True)


def _safe_log(x, ans):
    # d/dy x**y = x**y log x; at x == 0 the product's limit is 0, not nan. A complex power of a
    # real base (NumPy computes it in complex) takes the complex log: log(-2) = log 2 + i pi.
    cplx = np.iscomplexobj(getval(ans)) and not np.iscomplexobj(getval(x))
    if isinstance(x, (int, float)):  # 2.0 ** x: a Python number stays one (float32 stays)
        return 0.0 if x == 0 else complex(np.log(complex(x))) if cplx else float(np.log(x))
    x = np.where(x == 0, 1.0, x)
    return np.log(x + 0j if cplx else x)


# -- arithmetic
def_elementwise(np.add, identity_rule, identity_rule, needs="")
def_elementwise(np.subtract, identity_rule, lambda g, ans, x, y: -g, needs="")
def_elementwise(np.multiply, lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x,
                needs=("y", "x"))
def_elementwise(np.true_divide, lambda g, ans, x, y: g / y, lambda g, ans, x, y: -g * ans / y,
                needs=("y", "ans y"))
def_elementwise(np.negative, lambda g, ans, x: -g, needs="")
def_elementwise(np.positive, identity_rule, needs="")
def _power_dx(g, ans, x, y):
    if isinstance(y, (int, float)):  # the common x ** 2: keep x's dtype, no array exponent
        if y == 2:
            return g * (x + x)  # (2.0 * x, the same bits: doubling is exact)
        return g * 0.0 if y == 0 else g * (y * x ** (y - 1))
    # y == 0 gives 0 * x ** -1, which is nan at x == 0; the derivative there is 0.
    return g * y * x ** np.where(y, y - 1, 1.0)


_power_dy = lambda g, ans, x, y: g * ans * _safe_log(x, ans)  # noqa: E731
# Two primitives with the same rules: NumPy's `x ** y` takes fast paths np.power does not
# (z ** 2 is np.square(z): for complex z they differ in the last bit), so the primitive of the
# `**` operator (tracer.py; PRIMITIVES[np.power]) computes with `**` itself in every mode, and
# an explicit np.power(x, y) call goes to P_POWER_CALL, which computes np.power.
P_POWER = def_elementwise(np.power, _power_dx, _power_dy, needs=("x y", "ans x"))
P_POWER.fn = operator.pow
P_POWER_CALL = def_elementwise(Primitive("power", np.power, broadcasts=True), _power_dx,
                               _power_dy, needs=("x y", "ans x"))
PLAIN_UFUNCS[np.power] = P_POWER_CALL
UFUNC_HANDLERS[np.power] = lambda x, y: apply(P_POWER_CALL, x, y)
# inside vmap the operator's primitive batches as the ufunc (as `**` on a batched value does)
BATCH_RULES[operator.pow] = lambda trace, fn, args, kwargs: ufunc_rule(trace, np.power, args,
                                                                        kwargs)
def_elementwise(np.float_power,
                lambda g, ans, x, y: g * y * np.float_power(x, np.where(y, y - 1, 1.0)),
                lambda g, ans, x, y: g * ans * _safe_log(x, ans), needs=("x y", "ans x"))
def_elementwise(np.square, lambda g, ans, x: (g + g) * x, needs="x")  # (g * 2.0, exactly)
def_elementwise(np.sqrt, lambda g, ans, x: g * _half(g) / ans, needs="ans")
def_elementwise(np.cbrt, lambda g, ans, x: g / (3.0 * ans * ans), needs="ans")
def_elementwise(np.reciprocal, lambda g, ans, x: -g * ans * ans, needs="ans")
def_elementwise(np.remainder, lambda g, ans, x, y: g, lambda g, ans, x, y: -g * np.floor(x / y),
                needs=("", "x y"))
def_elementwise(np.fmod, lambda g, ans, x, y: g, lambda g, ans, x, y: -g * np.trunc(x / y),
                needs=("", "x y"))
# conj is R-linear, not holomorphic: the cotangent and the tangent are conjugated too (see
# gradkit.autodiff.complex); on real input it is the identity and so is its rule.
def_elementwise(np.conjugate, lambda g, ans, x: np.conjugate(g), needs="")

# -- exponentials and logarithms
def_elementwise(np.exp, lambda g, ans, x: g * ans, needs="ans")
def_elementwise(np.exp2, lambda g, ans, x: g * ans * _LOG2, needs="ans")
def_elementwise(np.expm1, lambda g, ans, x: g * (ans + _one(ans)), needs="ans")
def_elementwise(np.log, lambda g, ans, x: g / x, needs="x")
def_elementwise(np.log2, lambda g, ans, x: g / (x * _LOG2), needs="x")
def_elementwise(np.log10, lambda g, ans, x: g / (x * _LOG10), needs="x")
def_elementwise(np.log1p, lambda g, ans, x: g / (x + _one(x)), needs="x")
def_elementwise(np.logaddexp, lambda g, ans, x, y: g * np.exp(x - ans),
                lambda g, ans, x, y: g * np.exp(y - ans), needs=("ans x", "ans y"))
def_elementwise(np.logaddexp2, lambda g, ans, x, y: g * np.exp2(x - ans),
                lambda g, ans, x, y: g * np.exp2(y - ans), needs=("ans x", "ans y"))

# -- trigonometric and hyperbolic
def_elementwise(np.sin, lambda g, ans, x: g * np.cos(x), needs="x")
def_elementwise(np.cos, lambda g, ans, x: -g * np.sin(x), needs="x")
def_elementwise(np.tan, lambda g, ans, x: g * (_one(ans) + ans * ans), needs="ans")
def_elementwise(np.arcsin, lambda g, ans, x: g / np.sqrt(1.0 - x * x), needs="x")
def_elementwise(np.arccos, lambda g, ans, x: -g / np.sqrt(1.0 - x * x), needs="x")
def_elementwise(np.arctan, lambda g, ans, x: g / (_one(x) + x * x), needs="x")
def_elementwise(np.sinh, lambda g, ans, x: g * np.cosh(x), needs="x")
def_elementwise(np.cosh, lambda g, ans, x: g * np.sinh(x), needs="x")
def _tanh_partial(g, ans, x):  # (the typed 1.0 written out: tanh is on every MLP's path)
    one = _ONE if type(ans) is _ndarray and ans.dtype is _F64 else 1.0
    return g * (one - ans * ans)


def_elementwise(np.tanh, _tanh_partial, needs="ans")
def_elementwise(np.arcsinh, lambda g, ans, x: g / np.sqrt(x * x + 1.0), needs="x")
# arccosh: for complex z the derivative is 1 / (sqrt(z - 1) sqrt(z + 1)) (NumPy's branch),
# which is not 1 / sqrt(z^2 - 1) where Re z < 0; for real x > 1 the two agree.
def_elementwise(np.arccosh, lambda g, ans, x: g / (np.sqrt(x - 1.0) * np.sqrt(x + 1.0))
                if np.iscomplexobj(getval(x)) else g / np.sqrt(x * x - 1.0), needs="x")
def_elementwise(np.arctanh, lambda g, ans, x: g / (1.0 - x * x), needs="x")
def_elementwise(np.deg2rad, lambda g, ans, x: g * (np.pi / 180.0), needs="")
def_elementwise(np.rad2deg, lambda g, ans, x: g * (180.0 / np.pi), needs="")
def _nonzero(ans):
    return np.where(ans == 0, 1.0, ans)


# hypot is the 2-norm of (x, y): at (0, 0) its derivative is 0, the minimum-norm subgradient
# (as np.linalg.norm's at 0), not 0 / 0
def_elementwise(np.hypot, lambda g, ans, x, y: g * x / _nonzero(ans),
                lambda g, ans, x, y: g * y / _nonzero(ans), needs=("ans x", "ans y"))
def_elementwise(np.arctan2, lambda g, ans, y, x: g * x / (x * x + y * y),
                lambda g, ans, y, x: -g * y / (x * x + y * y), needs="x y")

# -- kinks (see conventions): |x|'(0) = 0; ties of maximum / minimum
def _abs_vjp(g, ans, x):
    """d|z|: for complex z the cotangent is Re(g) conj(z) / |z| (0 at z = 0, the minimum-norm
    subgradient); for real x it is g sign(x)."""
    if np.iscomplexobj(getval(x)):
        return np.real(g) * np.conjugate(x) / np.where(ans == 0, 1.0, ans)
    return g * np.sign(x)


def _abs_jvp(t, ans, x):
    """The tangent of |z|: Re(conj(z) t) / |z| for complex z (0 at z = 0); t sign(x) for real."""
    if np.iscomplexobj(getval(x)):
        return np.real(np.conjugate(x) * t) / np.where(ans == 0, 1.0, ans)
    return t * np.sign(x)


defvjp(np.absolute, _abs_vjp, needs="ans x")
defjvp(np.absolute, _abs_jvp)
def_elementwise(np.fabs, lambda g, ans, x: g * np.sign(x), needs="x")
for _ufunc in (np.maximum, np.fmax, np.minimum, np.fmin):
    conventions.register_extremum(_ufunc, def_elementwise)

if np.radians is not np.deg2rad:  # aliases in some NumPy versions, distinct ufuncs in others
    def_elementwise(np.radians, lambda g, ans, x: g * (np.pi / 180.0), needs="")
    def_elementwise(np.degrees, lambda g, ans, x: g * (180.0 / np.pi), needs="")

# -- where: the condition has no derivative
P_WHERE = def_elementwise(np.where, None,
                          lambda g, ans, c, x, y: np.where(c, g, 0.0),
                          lambda g, ans, c, x, y: np.where(c, 0.0, g), name="where",
                          needs=("", "c", "c"))


def _where(condition, x=None, y=None):
    if x is None and y is None:  # np.where(c) is np.nonzero(c): indices, no derivative
        return np.nonzero(conventions.getval(condition))
    return apply(P_WHERE, conventions.getval(condition), x, y)


FUNCTION_HANDLERS[np.where] = _where

# -- clip: with constant bounds one masked product; with traced bounds min(max(x, a), b)
P_CLIP = def_elementwise(np.clip, lambda g, ans, x, a, b: g * conventions.strictly_inside(x, a, b),
                         None, None, name="clip", needs=("x a b", "", ""))


def _clip(x, a_min=None, a_max=None, **kwargs):
    a_min = kwargs.pop("min", a_min)
    a_max = kwargs.pop("max", a_max)
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise NoGradientRuleError(f"np.clip with {sorted(kwargs)} is not differentiable in "
                                  "gradkit; use np.where for masking.")
    if dtype is not None:  # NumPy computes in dtype
        x = np.astype(x, dtype)
    if isinstance(a_min, Tracer) or isinstance(a_max, Tracer):
        if a_min is not None:
            x = np.maximum(x, a_min)
        return x if a_max is None else np.minimum(x, a_max)
    return apply(P_CLIP, x, a_min, a_max)


FUNCTION_HANDLERS[np.clip] = _clip



assert not (NONDIFF_UFUNCS & {np.add, np.maximum}), "a differentiable ufunc is listed as flat"


# ============================================================================ issue 13: more
# -- copysign(x, y) = |x| s(y), s(y) = +-1 from y's sign bit. d/dx = sign(x) s(y) (0 at x == 0,
# the minimum-norm subgradient of |x|); in y it is piecewise constant, so y has no derivative
# (its jump at y == 0 is treated as np.sign's is: flat).
def_elementwise(np.copysign,
                lambda g, ans, x, y: g * (np.sign(getval(x)) * np.copysign(1.0, getval(y))), None,
                needs=("x y", ""))


def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """np.nan_to_num as three np.where selections (NumPy writes the same replacement values
    into a copy): the derivative is 1 at the finite entries and 0 at the replaced ones, and
    flows into traced replacement values where they are used."""
    v = getval(x)
    dtype = np.result_type(v)
    if dtype.kind == "c":
        raise NoGradientRuleError(
            "np.nan_to_num of a complex traced value is not differentiable in gradkit; apply it "
            "to the real and imaginary parts separately.")
    if dtype.kind != "f":
        return x
    info = np.finfo(dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = np.where(np.isnan(v), nan, x)
    out = np.where(np.isposinf(v), posinf, out)
    return np.where(np.isneginf(v), neginf, out)


def _select(condlist, choicelist, default=0):
    """np.select as a chain of np.where from the last condition to the first (NumPy copies
    the choices in that order too, so the first true condition wins); a condition has no
    derivative, each choice (and the default) receives the cotangent where it was chosen."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not choicelist:
        raise ValueError("select with an empty condition list is not possible")
    conds = [c if hasattr(c, "dtype") else np.asarray(c) for c in map(getval, condlist)]
    for i, c in enumerate(conds):
        if np.result_type(c) != np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    out = default
    for c, choice in zip(reversed(conds), reversed(choicelist)):
        out = np.where(c, choice, out)
    return out


FUNCTION_HANDLERS[np.nan_to_num] = _nan_to_num
FUNCTION_HANDLERS[np.select] = _select


# ============================================================================ real code
# -- sinc(x) = sin(pi x) / (pi x): its own primitive (NumPy's where(x, x, eps) would make every
# derivative of order two and up zero at x == 0). sinc'(x) = (cos(pi x) - sinc(x)) / x, and
# near 0 its Taylor series (relative error below 1e-15 for |x| < 0.02), so every order is right.
def _sinc_slope(x):
    small = np.abs(getval(x)) < 0.02
    safe = np.where(small, 1.0, x)
    p2 = (np.pi * x) ** 2
    series = -(np.pi ** 2 / 3.0) * x * (1.0 - p2 / 10.0 * (1.0 - p2 / 28.0 * (1.0 - p2 / 54.0)))
    return np.where(small, series, (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


def_elementwise(np.sinc, lambda g, ans, x: g * _sinc_slope(x), name="sinc", needs="x")


# -- polyval: NumPy's Horner loop, y = y * x + p[i] from y = zeros_like(x)
def _polyval(p, x):
    if isinstance(p, (list, tuple)):
        p = p if any(isinstance(c, Tracer) for c in p) else np.asarray(p)
    elif not isinstance(p, Tracer):
        p = np.asarray(p)
    x = x if isinstance(x, Tracer) else np.asanyarray(x)
    y = np.zeros_like(x)
    for coefficient in p:
        y = y * x + coefficient
    return y


FUNCTION_HANDLERS[np.polyval] = _polyval


# -- ufunc.outer(a, b) = ufunc(a[..., None, ...], b): the same element-wise calls
def _outer(ufunc):
    def outer(a, b, **kwargs):
        nb = np.ndim(getval(b))
        a = np.reshape(a, np.shape(a) + (1,) * nb) if nb else a
        return ufunc(a, b, **kwargs)
    return outer


def register_outer():
    """``ufunc.outer`` for every ufunc with a rule or none needed (called once every rule
    module has loaded)."""
    from ..primitive import UFUNC_METHODS
    for uf in list(UFUNC_HANDLERS) + list(NONDIFF_UFUNCS):
        if isinstance(uf, np.ufunc) and uf.nin == 2:
            UFUNC_METHODS.setdefault((uf, "outer"), _outer(uf))


# -- ufuncs with two outputs: NumPy's values; the derivative of the part that has one
def _parts(ufunc, *composites):
    """A handler returning ``ufunc``'s own outputs, output ``i`` carrying the derivative of
    ``composites[i]`` (None: piecewise constant, no derivative)."""
    from .numerical import attach

    def handler(*args):
        values = ufunc(*map(getval, args))
        return tuple(v if c is None else attach(v, c(*args)) for v, c in zip(values, composites))
    return handler


def _register_parts():
    UFUNC_HANDLERS[np.modf] = _parts(np.modf, lambda x: x - np.trunc(getval(x)), None)
    UFUNC_HANDLERS[np.divmod] = _parts(np.divmod, None, np.remainder)
    UFUNC_HANDLERS[np.frexp] = _parts(
        np.frexp, lambda x: x * np.exp2(-np.frexp(getval(x))[1].astype(np.result_type(
            getval(x), np.float16))), None)
    UFUNC_HANDLERS[np.ldexp] = lambda x, n: _parts(  # the exponents are integers
        lambda x, n: (np.ldexp(x, n),),
        lambda x, n: x * np.exp2(getval(n)).astype(np.result_type(getval(x), np.float16)))(
            x, n)[0]

_register_parts()
