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
