"""Functions with no derivative (shape queries, argmax, zeros_like, ...) see plain values."""
import numpy as np

import gradkit as gk


def _traced_results(fun, x):
    """``fun(x)`` evaluated on a tracer of ``x`` (returned through ``has_aux``)."""
    return gk.grad(lambda x: (np.sum(x), fun(x)), has_aux=True)(x)[1]


X = np.array([[3.0, -1.0, 2.0], [0.5, 4.0, -2.0]])

CASES = [  # a call on a traced value, and the same call on the plain value
    lambda x: np.shape(x),
    lambda x: np.ndim(x),
    lambda x: np.zeros_like(x),
    lambda x: np.zeros_like(x, dtype=np.float32),  # keywords
    lambda x: np.argmax(x, 1),
    lambda x: np.isclose(x, 2.0),
    lambda x: np.result_type(x, np.float32),
    lambda x: np.lexsort((x[0], x[1])),           # tracers inside a container
    lambda x: np.searchsorted(np.sort(x[0]), [0.0, 2.5]),
]


def test_flat_functions_of_a_traced_value_equal_those_of_the_plain_value():
    for fun in CASES:
        got, want = _traced_results(fun, X), fun(X)
        assert type(got) is type(want)
        np.testing.assert_array_equal(got, want)
        assert getattr(got, "dtype", None) == getattr(want, "dtype", None)


def test_flat_functions_see_plain_values_at_every_level_of_nesting():
    def f(x):
        assert np.shape(x) == (3,) and np.zeros_like(x).sum() == 0.0
        return np.sum(x ** 3)
    np.testing.assert_allclose(gk.hessian(f)(np.arange(3.0)), np.diag(6 * np.arange(3.0)))
