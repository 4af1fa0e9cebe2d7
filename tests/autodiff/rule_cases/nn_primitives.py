"""Cases for the primitives gradkit.nn registers (im2col / col2im for convolution)."""
import numpy as np

from gradkit.nn.functional import sliding_windows, sliding_windows_adjoint

R = np.random.default_rng(5)
X = R.standard_normal((1, 2, 5, 4))
G = R.standard_normal((1, 2, 3, 3, 2, 2))
CONV = dict(kernel_size=(2, 2), stride=(2, 1), padding=(1, 0))

CASES = [
    ("sliding_windows", lambda x: sliding_windows(x, **CONV) ** 2, (X,)),
    ("sliding_windows_adjoint",
     lambda g: sliding_windows_adjoint(g, x_shape=X.shape, **CONV) ** 2, (G,)),
]

from gradkit.nn.losses import labels_cross_entropy  # noqa: E402

Z = R.standard_normal((5, 4))
LABELS = np.array([0, 3, 1, 1, 2])
CASES.append(("labels_cross_entropy", lambda z: labels_cross_entropy(z, LABELS), (Z,)))

from gradkit.nn.functional import linear, relu  # noqa: E402

W, B = R.standard_normal((4, 3)), R.standard_normal(3)
AWAY_FROM_ZERO = np.array([[-1.5, 0.3, 2.0], [0.7, -0.4, -2.2]])  # relu's kink is at 0
CASES += [
    ("relu", lambda x: relu(x) ** 2, (AWAY_FROM_ZERO,)),
    ("linear (n, d)", linear, (R.standard_normal((5, 4)), W, B)),
    ("linear (a, b, d)", linear, (R.standard_normal((2, 3, 4)), W, B)),
    ("linear (d,)", linear, (R.standard_normal(4), W, B)),
]
