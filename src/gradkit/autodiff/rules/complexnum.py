r"""Rules for the parts of a complex number: ``real``, ``imag``, ``angle``, ``real_if_close``
(``conj`` and ``abs`` are ufuncs, in :mod:`.elementwise`), and the list of primitives verified
on complex input.

The convention is :mod:`gradkit.autodiff.complex`'s: the cotangent of :math:`z = x + iy` is
:math:`\partial L/\partial x - i\,\partial L/\partial y`, its tangent :math:`dx + i\,dy`.

==================  ===============================  ========================================
function            JVP (tangent t)                  VJP (cotangent g of the real output)
==================  ===============================  ========================================
``np.real(z)``      :math:`\operatorname{Re} t`      :math:`g` (as a complex number)
``np.imag(z)``      :math:`\operatorname{Im} t`      :math:`-i g`
``np.angle(z)``     :math:`\operatorname{Im}(\bar z  :math:`-i g \bar z / |z|^2`
                    t)/|z|^2`
==================  ===============================  ========================================

On real input ``real`` is the identity and ``imag`` and ``angle`` are constant (derivative
0). ``angle(0)`` has no derivative; gradkit returns 0 there. ``deg=True`` scales by
:math:`180/\pi`. ``real_if_close`` is ``real`` where NumPy drops the imaginary part and the
identity where it keeps it: the decision is made on the value, as NumPy makes it.
"""
import operator

import numpy as np

from ..complex import def_complex
from ..mutation import WRITES_REFUSED
from ..primitive import FUNCTION_HANDLERS, UFUNC_HANDLERS, defjvp, defvjp
from ..trace import apply, getval
from ..tracer import Tracer
from .numerical import attach

_RAD_TO_DEG = 180.0 / np.pi


def _cplx(x):
    return getval(x).dtype.kind == "c" if hasattr(getval(x), "dtype") else \
        isinstance(x, complex)


# ----------------------------------------------------------------------------- real, imag
def _real_vjp(g, ans, x):
    return np.real(g) + 0j if _cplx(x) else np.real(g)


P_REAL = defvjp(np.real, _real_vjp)
defjvp(np.real, lambda t, ans, x: np.real(t))


def _imag_vjp(g, ans, x):
    return -1j * np.real(g) if _cplx(x) else 0.0 * np.real(g)


def _imag_jvp(t, ans, x):
    return np.imag(t) if _cplx(x) else 0.0 * np.real(t)


P_IMAG = defvjp(np.imag, _imag_vjp)
defjvp(np.imag, _imag_jvp)

# NumPy's z.real / z.imag are views: of a real array, x.real is x itself (a view here too); of
# a complex one, writing through them is refused, naming the rewrite
P_REAL.view = P_IMAG.view = True
for _p, _part, _rewrite in ((P_REAL, "real", "new_real + 1j * z.imag"),
                            (P_IMAG, "imag", "z.real + 1j * new_imag")):
    WRITES_REFUSED[_p] = (f"Writing through z.{_part} of a traced complex array is not "
                          f"supported by gradkit; build the new array instead: z = {_rewrite}.")


# ----------------------------------------------------------------------------- angle
def _abs2(z):
    """:math:`|z|^2` with 1 where z == 0 (the numerators below vanish there)."""
    sq = np.real(z) ** 2 + np.imag(z) ** 2
    return np.where(sq == 0, 1.0, sq)


def _angle_vjp(g, ans, z, deg=False):
    if not _cplx(z):
        return 0.0 * np.real(g)
    scale = _RAD_TO_DEG if deg else 1.0
    return (-1j * scale) * np.real(g) * np.conjugate(z) / _abs2(z)


def _angle_jvp(t, ans, z, deg=False):
    if not _cplx(z):
        return 0.0 * np.real(t)
    scale = _RAD_TO_DEG if deg else 1.0
    return scale * np.imag(np.conjugate(z) * t) / _abs2(z)


P_ANGLE = defvjp(np.angle, _angle_vjp)
defjvp(np.angle, _angle_jvp)


def _angle(z, deg=False):
    return apply(P_ANGLE, z, deg=True) if deg else apply(P_ANGLE, z)


FUNCTION_HANDLERS[np.angle] = _angle


# ----------------------------------------------------------------------------- sign
def _sign(x):
    """np.sign: flat for real input (derivative 0, see conventions); for complex z it is
    z / |z| (NumPy 2), which moves with the phase of z: NumPy's value bit for bit, with the
    derivative of z / |z| (0 at z = 0, where it jumps)."""
    v = getval(x)
    if not _cplx(x):
        return np.sign(v)
    mag = np.abs(x)
    zero = getval(mag) == 0
    phase = np.where(zero, 0.0, x / np.where(zero, 1.0, mag))
    return attach(np.sign(v), phase)


UFUNC_HANDLERS[np.sign] = _sign


# ----------------------------------------------------------------------------- real_if_close
def _real_if_close(a, tol=100):
    v = getval(a)
    if getattr(v, "dtype", np.dtype(float)).kind == "c" \
            and np.real_if_close(v, tol=tol).dtype.kind != "c":
        return np.real(a)
    return a


FUNCTION_HANDLERS[np.real_if_close] = _real_if_close

# ----------------------------------------------------------------------------- verified
# Each primitive below has a case in tests/autodiff/test_complex.py checked against finite
# differences in the real and the imaginary directions (forward and reverse mode, and order 2
# where smooth). Everything else refuses complex input (gradkit.autodiff.complex).
def _verified():
    from . import (contractions, elementwise, fft, indexing, linalg, numerical,  # noqa: F401
                   reductions, shape)
    from .. import mutation, primitive
    fns = [
        # holomorphic arithmetic and ufuncs
        np.add, np.subtract, np.multiply, np.true_divide, np.negative, np.positive, np.power,
        elementwise.P_POWER_CALL,
        np.square, np.sqrt, np.reciprocal, np.exp, np.expm1, np.log, np.log1p, np.log2,
        np.log10, np.exp2, np.sin, np.cos, np.tan, np.sinh, np.cosh, np.tanh, np.arcsin,
        np.arccos, np.arctan, np.arcsinh, np.arccosh, np.arctanh,
        # the parts of a complex number
        np.conjugate, np.absolute, np.real, np.imag, np.angle,
        # linear maps: reductions, contractions, shapes, indexing
        np.sum, np.mean, np.prod, np.cumsum, np.cumprod, np.var, np.std, np.matmul, np.dot, np.vdot, np.inner, np.outer,
        np.tensordot, np.einsum, getattr(np, "vecdot", None), getattr(np, "vecmat", None),
        np.diagonal, contractions.undiagonal.primitive, np.diag, np.triu, np.tril,
        np.reshape, np.ravel, np.transpose, np.swapaxes, np.broadcast_to, np.expand_dims,
        np.copy, mutation.P_SETITEM, mutation.P_ADD_AT, mutation.P_SUBTRACT_AT,
        shape._concatenate.primitive, shape._astype.primitive, operator.getitem,
        indexing.untake.primitive, np.where,
        # linear algebra
        linalg._vector_norm.primitive, linalg._eigh_w.primitive, linalg._eigh_v.primitive,
        linalg._svd_s.primitive,
        linalg._eig_w.primitive, linalg._eig_v.primitive,
        np.linalg.inv, np.linalg.solve, np.linalg.det, linalg._logabsdet.primitive,
        # the Fourier transforms (linear)
        fft._c2c.primitive, fft._r2c.primitive, fft._c2r.primitive,
        # NumPy's value with a composition's derivative: the identity on the composition
        numerical._numpy_value.primitive,
    ]
    def_complex(*[f for f in fns if isinstance(f, primitive.Primitive) or f in primitive.PRIMITIVES])


_verified()
