"""Cases for element-wise rules: every ufunc on scalars, vectors, matrices and broadcasts."""
import numpy as np

R = np.random.default_rng(0)
S = np.array(0.7)
V = R.uniform(0.2, 0.9, 4)
M = R.uniform(0.2, 0.9, (3, 4))
ROW = R.uniform(0.2, 0.9, (1, 4))
COL = R.uniform(0.2, 0.9, (3, 1))
UNIT = [S, V, M]  # values in (0, 1): inside every domain below

UNARY = [np.negative, np.positive, np.square, np.sqrt, np.cbrt, np.reciprocal, np.exp,
         np.exp2, np.expm1, np.log, np.log2, np.log10, np.log1p, np.sin, np.cos, np.tan,
         np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh, np.tanh, np.arcsinh, np.arctanh,
         np.deg2rad, np.rad2deg, np.radians, np.degrees, np.absolute, np.fabs, np.conjugate]
BINARY = [np.add, np.subtract, np.multiply, np.true_divide, np.power, np.float_power,
          np.logaddexp, np.logaddexp2, np.hypot, np.arctan2, np.maximum, np.minimum, np.fmax,
          np.fmin, np.remainder, np.fmod]

CASES = []
for f in UNARY:
    for x in UNIT:
        CASES.append((f"{f.__name__}{x.shape}", f, (x,)))
CASES.append(("arccosh", np.arccosh, (1.5 + V,)))
for f in BINARY:
    for x, y in [(V, V[::-1] + 0.05), (M, ROW), (COL, ROW), (S, M)]:
        CASES.append((f"{f.__name__}{x.shape}{y.shape}", f, (x, y)))
CASES += [
    ("where", lambda x, y: np.where(M > 0.5, x, y), (M, ROW)),
    ("where-scalar", lambda x: np.where(V > 0.5, x, 0.0), (V,)),
    ("clip-constant", lambda x: np.clip(x, 0.3, 0.8), (M,)),
    ("clip-traced-bounds", lambda x, a: np.clip(x, a, 0.8), (M, ROW * 0.5)),
    ("operators", lambda x, y: (x + y) * (x - y) / (2.0 + x) ** y - -x + abs(y) % 0.3, (M, ROW)),
    ("reverse-operators", lambda x: 2.0 - x + 3.0 / x + 2.0 ** x + 1.5 * x, (V,)),
]
