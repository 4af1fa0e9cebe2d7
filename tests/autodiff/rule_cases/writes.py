"""Cases for the write primitives: ``x[index] = v`` (basic, integer with repeats, boolean),
through a view, ``np.add.at`` / ``np.subtract.at`` and the buffer functions built on them.
(The full table of NumPy code that mutates is ``tests/autodiff/test_mutation.py``.)"""
import numpy as np

R = np.random.default_rng(7)
A = R.standard_normal((3, 4))
V = R.standard_normal(4)
W = R.standard_normal(2)


def _set_basic(x, v):
    out = x * 1.0
    out[1] = np.sin(v)
    return out * x


def _set_repeated(x, w):
    out = x * 1.0
    out[[0, 0, 2]] = np.concatenate([w, w[:1]]) ** 2  # the last write to 0 stays
    return out ** 2


def _set_mask(x, v):
    out = x * 1.0
    out[x > 0] = 3.0 * np.sum(v)
    return out * x


def _set_through_view(x, v):
    out = x * 1.0
    col = out.T[2]
    col[:] = v[:3] * x[0, 0]
    return np.tanh(out)


def _add_at(x, w):
    out = np.tanh(x)
    np.add.at(out, [1, 1, 3], np.concatenate([w, w[:1]]) ** 2)
    return out * x


def _subtract_at(x, w):
    out = x ** 2
    np.subtract.at(out, [0, 2], w * x[1])
    return out


CASES = [
    ("setitem basic", _set_basic, (A, V)),
    ("setitem repeated indices", _set_repeated, (V, W)),
    ("setitem boolean mask", _set_mask, (A, V)),
    ("setitem through a transposed view", _set_through_view, (A, V)),
    ("add.at", _add_at, (V, W)),
    ("subtract.at", _subtract_at, (V, W)),
]
