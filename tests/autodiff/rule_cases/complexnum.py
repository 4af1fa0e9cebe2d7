"""Cases for the parts of a complex number and np.linalg.eig, on real input (the rule cases
take float64 arrays; tests/autodiff/test_complex.py checks complex input). Complex values
appear inside each function and the output is real."""
import numpy as np

R = np.random.default_rng(11)
X = R.standard_normal(4)
_P = R.standard_normal((3, 3)) + 3.0 * np.eye(3)
REAL_EIG = _P @ np.diag([1.0, 2.0, 4.0]) @ np.linalg.inv(_P)   # not symmetric, real eigenvalues
ROT = np.array([[1.0, -2.0, 0.3], [2.0, 1.0, 0.1], [0.2, 0.4, 3.0]])  # a complex pair

CASES = [
    ("real-of-exp-ix", lambda x: np.real(np.exp(1j * x)), (X,)),
    ("imag-of-exp-ix", lambda x: np.imag(np.exp(1j * x)) * x, (X,)),
    ("real-imag-of-real", lambda x: np.real(x) + np.imag(x) * x, (X,)),
    ("angle-of-complex", lambda x: np.angle(x + 2j * x ** 2 + 0.5j), (X,)),
    ("angle-deg", lambda x: np.angle(x + 1j, deg=True), (X,)),
    ("angle-of-real", lambda x: np.angle(x) + x, (X,)),
    ("abs-of-complex", lambda x: np.abs(x * (1 + 2j) + 1j), (X,)),
    ("conj-product", lambda x: np.real(np.conj(x * (1 + 2j)) * (x + 1j)), (X,)),
    ("eig-values-real", lambda a: np.linalg.eig(a)[0], (REAL_EIG,)),
    ("eig-vectors-real", lambda a: np.linalg.eig(a)[1] ** 2, (REAL_EIG,)),
    ("eigvals-complex-pair", lambda a: np.abs(np.linalg.eigvals(a)) ** 2
     + np.real(np.linalg.eigvals(a) ** 2), (ROT,)),
    ("eig-vectors-complex-pair", lambda a: np.abs(np.linalg.eig(a)[1]) ** 2, (ROT,)),
]
