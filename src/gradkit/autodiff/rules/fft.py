"""Rules for ``np.fft``: the 1-D transforms are three primitives, everything else is built
from them the way NumPy builds it (so the values are NumPy's bit for bit).

- ``fft`` / ``ifft`` (complex to complex) are C-linear with a symmetric matrix, so in
  gradkit's complex convention (the transpose, no conjugation) the VJP is the same transform
  of the cotangent, cut or zero-padded back to the input's length when ``n`` changed it.
- ``rfft`` (real to complex, the first ``n // 2 + 1`` rows of the DFT): the VJP is the real
  part of ``fft`` of the cotangent zero-padded to ``n``.
- ``irfft`` (complex to real, only R-linear): with ``w = 1`` for the DC and Nyquist terms and
  ``2`` for the others, the cotangent is ``conj(w * rfft(g))`` scaled as the inverse is.
- ``fft2`` / ``fftn`` / ``ifft2`` / ``ifftn`` / ``rfft2`` / ``rfftn`` / ``irfft2`` / ``irfftn``:
  one 1-D transform per axis, in NumPy's order; ``hfft`` / ``ihfft``: ``irfft`` / ``rfft`` with
  the conjugate and the opposite normalization, as NumPy writes them; ``fftshift`` /
  ``ifftshift``: ``np.roll``.

Each rule is written with the primitives themselves, so derivatives of every order follow.
"""
import numpy as np

from ..primitive import FUNCTION_HANDLERS, def_linear, defvjp, differentiable
from ..trace import shape_of

_SWAP = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def _resize(x, axis, n):
    """``x`` cut to ``n`` entries along ``axis``, or zero-padded to ``n`` (the adjoint of
    the cut-or-pad that ``np.fft`` applies to its input is the opposite cut-or-pad)."""
    m = shape_of(x)[axis]
    if m == n:
        return x
    if m > n:
        index = [slice(None)] * len(shape_of(x))
        index[axis] = slice(0, n)
        return x[tuple(index)]
    width = [(0, 0)] * len(shape_of(x))
    width[axis] = (0, n - m)
    return np.pad(x, width)


@differentiable(name="fft (complex to complex)")
def _c2c(a, n, axis, norm, inverse):
    return (np.fft.ifft if inverse else np.fft.fft)(a, n, axis, norm)


@differentiable(name="rfft")
def _r2c(a, n, axis, norm):
    return np.fft.rfft(a, n, axis, norm)


@differentiable(name="irfft")
def _c2r(a, n, axis, norm):
    return np.fft.irfft(a, n, axis, norm)


def _c2c_vjp(g, ans, a, n, axis, norm, inverse):
    return _resize(_c2c(g, None, axis, norm, inverse), axis, shape_of(a)[axis])


def _r2c_vjp(g, ans, a, n, axis, norm):
    full = shape_of(a)[axis] if n is None else n
    spectrum = _c2c(_resize(g, axis, full), None, axis, norm, False)
    return _resize(np.real(spectrum), axis, shape_of(a)[axis])


def _c2r_vjp(g, ans, a, n, axis, norm):
    full = shape_of(ans)[axis]
    half = full // 2 + 1
    weight = np.full(half, 2.0)
    weight[0] = 1.0
    if full % 2 == 0:
        weight[-1] = 1.0
    weight = np.reshape(weight, (half,) + (1,) * (len(shape_of(ans)) - 1 - axis))
    # a real output: the imaginary part a cotangent may carry is dropped here (the convention)
    ct = np.conjugate(weight * _r2c(np.real(g), None, axis, _SWAP[norm]))
    return _resize(ct, axis, shape_of(a)[axis])


defvjp(_c2c.primitive, _c2c_vjp, None, None, None, None, needs=("", "", "", "", ""))
def_linear(_c2c.primitive, 0)
defvjp(_r2c.primitive, _r2c_vjp, None, None, None, needs=("", "", "", ""))
def_linear(_r2c.primitive, 0)
defvjp(_c2r.primitive, _c2r_vjp, None, None, None, needs=("ans", "", "", ""))
def_linear(_c2r.primitive, 0)


def _one(kind):
    def transform(a, n=None, axis=-1, norm=None):
        axis = axis % len(shape_of(a))  # (np.fft raises its own error for a bad axis)
        if kind == "fft":
            return _c2c(a, n, axis, norm, False)
        if kind == "ifft":
            return _c2c(a, n, axis, norm, True)
        if kind == "rfft":
            return _r2c(a, n, axis, norm)
        if kind == "irfft":
            return _c2r(a, n, axis, norm)
        if kind == "hfft":  # NumPy: irfft(conjugate(a), n, axis, norm=_swap_direction(norm))
            n = (shape_of(a)[axis] - 1) * 2 if n is None else n
            return _c2r(np.conjugate(a), n, axis, _SWAP[norm])
        # ihfft, as NumPy: conjugate(rfft(a, n, axis, norm=_swap_direction(norm)))
        return np.conjugate(_r2c(a, n, axis, _SWAP[norm]))
    transform.__name__ = kind
    return transform


def _sizes(a, s, axes, invreal=False):
    """NumPy's ``_cook_nd_args``: the lengths and the axes of an n-D transform."""
    shape = shape_of(a)
    shapeless = s is None
    if s is None:
        s = list(shape) if axes is None else [shape[ax] for ax in axes]
    s = list(s)
    if axes is None:
        axes = list(range(-len(s), 0))
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    if invreal and shapeless:
        s[-1] = (shape[axes[-1]] - 1) * 2
    s = [shape[ax] if k == -1 else k for k, ax in zip(s, axes)]
    return s, [ax % len(shape) for ax in axes]


def _many(kind, default_axes=None):
    def transform(a, s=None, axes=default_axes, norm=None):
        s, axes = _sizes(a, s, axes, invreal=kind == "irfft")
        if kind == "rfft":
            a = _r2c(a, s[-1], axes[-1], norm)
            for k in range(len(axes) - 2, -1, -1):
                a = _c2c(a, s[k], axes[k], norm, False)
            return a
        if kind == "irfft":
            for k in range(len(axes) - 1):
                a = _c2c(a, s[k], axes[k], norm, True)
            return _c2r(a, s[-1], axes[-1], norm)
        for k in reversed(range(len(axes))):
            a = _c2c(a, s[k], axes[k], norm, kind == "ifft")
        return a
    transform.__name__ = kind + ("2" if default_axes else "n")
    return transform


def _shift(inverse):
    def shift(x, axes=None):  # NumPy's: a roll by half of each length (minus, for the inverse)
        shape = shape_of(x)
        half = (lambda d: -(d // 2)) if inverse else (lambda d: d // 2)
        if axes is None:
            axes = tuple(range(len(shape)))
            amount = [half(d) for d in shape]
        elif isinstance(axes, (int, np.integer)):
            amount = half(shape[axes])
        else:
            amount = [half(shape[ax]) for ax in axes]
        return np.roll(x, amount, axes)
    return shift


for _kind in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
    FUNCTION_HANDLERS[getattr(np.fft, _kind)] = _one(_kind)
for _kind in ("fft", "ifft", "rfft", "irfft"):
    FUNCTION_HANDLERS[getattr(np.fft, _kind + "n")] = _many(_kind)
    FUNCTION_HANDLERS[getattr(np.fft, _kind + "2")] = _many(_kind, (-2, -1))
FUNCTION_HANDLERS[np.fft.fftshift] = _shift(False)
FUNCTION_HANDLERS[np.fft.ifftshift] = _shift(True)
