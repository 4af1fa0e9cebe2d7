"""Cases for the core shape, indexing, reduction and matmul rules written with the engine."""
import operator

import numpy as np

R = np.random.default_rng(1)
A = R.standard_normal((3, 4))
B = R.standard_normal((4, 2))
V = R.standard_normal(4)
T = R.standard_normal((2, 3, 4))

CASES = [
    ("sum", lambda x: np.sum(x ** 2), (A,)),
    ("sum-axis", lambda x: np.sum(x ** 2, axis=1), (A,)),
    ("sum-axis-keepdims", lambda x: np.sum(x ** 2, axis=(0, 2), keepdims=True), (T,)),
    ("sum-method", lambda x: x.sum(axis=-1) ** 2, (T,)),
    ("add.reduce", lambda x: np.add.reduce(x ** 2, axis=0), (A,)),
    ("mean", lambda x: np.mean(x ** 2, axis=0), (A,)),
    ("mean-keepdims", lambda x: x.mean(axis=-1, keepdims=True) * x, (T,)),
    ("matmul", lambda x, y: np.tanh(x @ y), (A, B)),
    ("matmul-vec", lambda x, v: np.tanh(x @ v), (A, V)),
    ("vec-matmul", lambda v, y: np.tanh(v @ y), (V, B)),
    ("vec-vec", lambda v, w: np.tanh(v @ w), (V, V[::-1].copy())),
    ("batched-matmul", lambda t, y: np.tanh(np.matmul(t, y)), (T, B)),
    ("batched-matvec", lambda t, v: np.tanh(t @ v), (T, V)),
    ("vec-batched", lambda v, t: np.tanh(v @ np.swapaxes(t, 1, 2)), (V, T)),
    ("reshape", lambda x: np.reshape(x, (2, 6)) ** 2, (A,)),
    ("reshape-method", lambda x: x.reshape(4, 3).ravel() ** 2, (A,)),
    ("transpose", lambda t: np.transpose(t, (2, 0, 1)) ** 2, (T,)),
    ("transpose-T", lambda x: x.T ** 2, (A,)),
    ("swapaxes", lambda t: np.swapaxes(t, 0, 2) ** 2, (T,)),
    ("broadcast_to", lambda v: np.broadcast_to(v, (3, 4)) ** 2, (V,)),
    ("expand_dims", lambda v: np.expand_dims(v, (0, 2)) ** 2, (V,)),
    ("getitem-basic", lambda x: x[1:, ::2] ** 2, (A,)),
    ("getitem-int-repeated", lambda v: v[[0, 0, 3, 1]] ** 2, (V,)),
    ("getitem-mask", lambda x: x[x > 0] ** 2, (A,)),
    ("getitem-mixed", lambda t: t[:, [0, 2, 0], 1:] ** 2, (T,)),
]
