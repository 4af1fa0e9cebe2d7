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


@pytest.mark.parametrize("alpha, slope", [(0.5, 0.5), (1.0, 1.0), (2.0, 1.0)])
def test_elu_at_zero_has_the_minimum_norm_slope(alpha, slope):
    from gradkit.nn import functional as F
    x = np.array([-0.5, 0.0, 0.5])
    g = gk.grad(lambda x: np.sum(F.elu(x, alpha)))(x)
    np.testing.assert_allclose(g, [alpha * np.exp(-0.5), slope, 1.0])
    assert gk.jvp(lambda x: F.elu(x, alpha), (np.zeros(1),), (np.ones(1),))[1][0] == slope
    out = F.elu(np.array([-0.0, 0.0, -800.0]), alpha)
    assert out.tobytes() == np.array([-0.0, 0.0, -alpha]).tobytes()


def test_a_query_with_every_key_masked_attends_to_nothing():
    from gradkit.nn.attention import scaled_dot_product_attention as attention
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    mask[2, :2] = False
    out = attention(q, k, v, mask)
    assert np.all(out[1] == 0.0)
    from gradkit.nn import functional as F
    scores = np.where(mask, (q @ k.T) * (1.0 / np.sqrt(4)), -np.inf)
    with np.errstate(invalid="ignore"):
        before = F.softmax(scores, axis=-1) @ v  # (row 1: NaN)
    np.testing.assert_array_equal(out[[0, 2]], before[[0, 2]])  # the other rows' bits
    g = gk.grad(lambda q: np.sum(attention(q, k, v, mask)[[0, 2]]))(q)
    assert np.all(np.isfinite(g)) and np.all(g[1] == 0.0)
    per_example = gk.vmap(lambda qi, mi: attention(qi[None], k, v, mi[None])[0])(q, mask)
    np.testing.assert_array_equal(per_example, out)
