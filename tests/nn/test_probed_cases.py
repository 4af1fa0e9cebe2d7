"""Losses on cases found by probing: per-example gradients of a classifier's loss, and a
target of the prediction's size but another layout."""
import numpy as np
import pytest

import gradkit as gk
from gradkit.nn import losses as L


def test_per_example_gradients_of_the_cross_entropy_with_labels():
    z = np.random.default_rng(0).standard_normal((4, 3))
    y = np.array([0, 1, 2, 1])
    per_example = gk.vmap(gk.grad(lambda z, y: L.cross_entropy(z[None], y[None])))(z, y)
    loop = np.stack([gk.grad(lambda z, y: L.cross_entropy(z[None], y[None]))(z[i], y[i])
                     for i in range(4)])
    np.testing.assert_allclose(per_example, loop, rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError, match="got labels from 0 to 3"):
        gk.vmap(lambda z, y: L.cross_entropy(z[None], y[None]))(z, np.array([0, 1, 3, 1]))


@pytest.mark.parametrize("loss", [L.mse, L.mae, L.huber])
def test_a_target_of_another_layout_is_refused(loss):
    with pytest.raises(ValueError, match=r"target has shape \(3, 2\)"):
        loss(np.ones((2, 3)), np.arange(6.0).reshape(3, 2))
    assert loss(np.ones((3, 1)), np.arange(3.0)) == loss(np.ones(3), np.arange(3.0))


@pytest.mark.parametrize("index", [np.array([0, 2, 5, 2]), np.array([[0, 1], [2, 2], [5, 0],
                                                                      [2, 3]])],
                         ids=["one token", "two tokens"])
def test_per_example_gradients_of_an_embedding(index):
    from gradkit import nn
    emb = nn.Embedding(6, 3)
    params = {"W": np.random.default_rng(0).standard_normal((6, 3))}

    def f(p, i):
        return np.sum(emb.apply(p, {}, i)[0] ** 2)

    per_example = gk.vmap(gk.grad(f), in_axes=(None, 0))(params, index)["W"]
    loop = np.stack([gk.grad(f)(params, i)["W"] for i in index])
    np.testing.assert_allclose(per_example, loop, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(gk.vmap(lambda i: emb.apply(params, {}, i)[0])(index),
                                  np.stack([emb.apply(params, {}, i)[0] for i in index]))
    with pytest.raises(IndexError, match="got index 7"):
        gk.vmap(gk.grad(f), in_axes=(None, 0))(params, np.array([0, 7]))
