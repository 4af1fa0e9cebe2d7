"""Gradient noise: mini-batch variance against the full batch, and the noise scale B_simple."""
import numpy as np
import pytest

from gradkit.diagnostics import gradient_noise


def mse(w, X, y):
    return np.mean((X @ w - y) ** 2)


def data(noise, n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + noise * rng.normal(size=n)


def exact(w, X, y):
    """Per-example gradients 2 (x.w - y) x: |G|^2 and tr(Sigma) by hand."""
    per = 2 * (X @ w - y)[:, None] * X
    G = per.mean(axis=0)
    return G @ G, np.mean(np.sum((per - G) ** 2, axis=1))


def test_batch_size_one_over_one_epoch_is_exact():
    X, y = data(0.5)
    w = np.zeros(3)
    res = gradient_noise(mse, w, X, y, batch_size=1, n_batches=None, rng=0)
    g2, tr = exact(w, X, y)
    assert res.n_batches == len(X)
    assert res.grad_norm_sq == pytest.approx(g2, rel=1e-12)
    assert res.trace_cov == pytest.approx(tr, rel=1e-12)
    assert res.noise_scale == pytest.approx(tr / g2, rel=1e-12)


def test_larger_batches_estimate_the_same_trace_and_have_smaller_variance():
    X, y = data(0.5)
    w = np.array([0.5, -1.0, 0.0])
    _, tr = exact(w, X, y)
    small = gradient_noise(mse, w, X, y, batch_size=4, n_batches=400, rng=1)
    large = gradient_noise(mse, w, X, y, batch_size=40, n_batches=400, rng=2)
    for res in (small, large):
        assert res.trace_cov == pytest.approx(tr, rel=0.15)
    assert large.batch_variance < small.batch_variance / 5
    assert large.cosine > small.cosine


def test_the_noise_scale_grows_near_the_optimum_and_with_label_noise():
    X, y = data(2.0)
    near = gradient_noise(mse, np.array([1.0, -2.0, 0.4]), X, y, batch_size=10, rng=0)
    far = gradient_noise(mse, np.zeros(3), X, y, batch_size=10, rng=0)
    assert near.noise_scale > 10 * far.noise_scale


@pytest.mark.parametrize("batch_size", [0, 200, 500, 2.5])
def test_batch_size_must_be_below_the_number_of_rows(batch_size):
    X, y = data(0.1)
    with pytest.raises(ValueError, match="batch_size"):
        gradient_noise(mse, np.zeros(3), X, y, batch_size=batch_size)


def test_pytree_parameters_and_unsupervised_losses():
    X, _ = data(0.1)
    loss = lambda p, X: np.mean((X @ p["w"] + p["b"]) ** 2)  # noqa: E731
    res = gradient_noise(loss, {"w": np.ones(3), "b": np.array(0.5)}, X, batch_size=8, rng=0)
    assert res.trace_cov > 0 and np.isfinite(res.noise_scale)
