"""Cases for the rules added for real code (issue 13: code differentiated as written):
weighted bincount, eigvalsh and the singular values computed with the vectors (their own
primitives, so the values are NumPy's), and the Fourier transforms."""
import numpy as np

R = np.random.default_rng(1313)
V = R.standard_normal(5)
V8 = R.standard_normal(8)
V7 = R.standard_normal(7)
M = R.standard_normal((4, 6))
LABELS = np.array([0, 2, 2, 1, 0])
_spd = R.standard_normal((3, 3))
SPD = _spd @ _spd.T + 3.0 * np.eye(3)
TALL = R.standard_normal((4, 3))

CASES = [
    ("bincount-weights", lambda w: np.bincount(LABELS, weights=w) ** 2, (V,)),
    ("bincount-weights-minlength", lambda w: np.bincount(LABELS, w, minlength=5) * V, (V,)),
    ("eigvalsh-own-values", lambda a: np.linalg.eigvalsh(a) ** 2, (SPD,)),
    ("svd-values-with-vectors", lambda a: np.linalg.svd(a, full_matrices=False)[1] ** 2,
     (TALL,)),
    ("fft-abs2", lambda x: np.abs(np.fft.fft(x)) ** 2, (V8,)),
    ("fft-n-pad-and-cut", lambda x: np.abs(np.fft.fft(x, 11)) ** 2 + np.abs(np.fft.fft(x, 5)).sum(),
     (V7,)),
    ("ifft-ortho", lambda x: np.real(np.fft.ifft(np.fft.fft(x) ** 2, norm="ortho")), (V8,)),
    ("rfft-power", lambda x: np.abs(np.fft.rfft(x, norm="forward")) ** 2, (V7,)),
    ("irfft-of-square", lambda x: np.fft.irfft(np.fft.rfft(x) ** 2), (V8,)),
    ("irfft-odd-n", lambda x: np.fft.irfft(np.fft.rfft(x) ** 2, 7, norm="ortho"), (V7,)),
    ("rfft-irfft-resized", lambda x: np.fft.irfft(np.fft.rfft(x, 6), 10), (V7,)),
    ("hfft-ihfft", lambda x: np.fft.hfft(np.fft.rfft(x) * 1j + x[:5])
     + np.abs(np.fft.ihfft(x)).sum(), (V8,)),
    ("fft2-abs2", lambda x: np.abs(np.fft.fft2(x)) ** 2, (M,)),
    ("rfft2-irfft2", lambda x: np.fft.irfft2(np.fft.rfft2(x) ** 2, s=M.shape), (M,)),
    ("rfftn-axes", lambda x: np.abs(np.fft.rfftn(x, axes=(1, 0))) ** 2, (M,)),
    ("fftshift", lambda x: np.fft.fftshift(np.abs(np.fft.fft(x)) ** 2) * np.arange(8)
     + np.fft.ifftshift(x), (V8,)),
]
