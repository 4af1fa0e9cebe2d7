"""Attributions of a one-row function on data of two features: the rowwise test must not
take it for a batched one."""
import numpy as np
import pytest

from gradkit import explain as E

X2 = np.array([[1.0, 2.0], [3.0, 5.0]])


@pytest.mark.parametrize("f, want", [(lambda x: x[0] * x[1], [[2.0, 1.0], [5.0, 3.0]]),
                                     (lambda x: x[0], [[1.0, 0.0], [1.0, 0.0]])],
                         ids=["product", "first"])
def test_a_one_row_function_of_two_features_is_explained_row_by_row(f, want):
    np.testing.assert_array_equal(E.saliency(f, X2, absolute=False), want)
    np.testing.assert_array_equal(E.gradient_x_input(f, X2), np.asarray(want) * X2)
    attr, residual = E.integrated_gradients(f, X2[0])
    assert abs(float(np.sum(attr)) - float(f(X2[0]))) < 1e-9 and abs(float(residual)) < 1e-9


def test_a_rowwise_function_of_two_features_is_still_batched():
    w = np.array([1.0, -2.0])
    np.testing.assert_array_equal(E.saliency(lambda X: X @ w, X2, absolute=False), [w, w])
