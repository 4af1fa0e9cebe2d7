"""Gradient noise: mini-batch gradient variance and the gradient noise scale (critical batch size)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..autodiff import grad
from ..tree import ravel_pytree

__all__ = ["GradientNoise", "gradient_noise"]


class GradientNoise(NamedTuple):
    """What :func:`gradient_noise` measured (all norms are Euclidean over all parameters).

    Examples:
        At ``w = 0`` the full-batch gradient of ``mean((x w - y)^2)`` is
        ``G = -2 mean(x y) = -17``:

        >>> import numpy as np
        >>> X = np.array([[1.0], [2.0], [3.0], [4.0]]); y = np.array([1.0, 2.0, 3.0, 5.0])
        >>> mse = lambda w, X, y: np.mean((X @ w - y) ** 2)
        >>> res = gradient_noise(mse, np.zeros(1), X, y, batch_size=1, n_batches=None, rng=0)
        >>> res.batch_size, res.n_batches, round(res.grad_norm_sq, 6)
        (1, 4, 289.0)
    """

    batch_size: int         #: ``B``, the rows per mini-batch
    n_batches: int          #: how many mini-batches were drawn
    grad_norm_sq: float     #: ``|G|^2``, the squared full-batch gradient norm
    batch_variance: float   #: ``E |g_B - G|^2`` over the mini-batches drawn
    trace_cov: float        #: ``tr(Sigma)``, the per-example gradient variance
    noise_scale: float      #: ``B_simple = tr(Sigma) / |G|^2``
    cosine: float           #: mean cosine between ``g_B`` and ``G``


def gradient_noise(loss, params, X, y=None, batch_size: int = 32, n_batches: int | None = 32,
                   rng=None) -> GradientNoise:
    """The noise of mini-batch gradients around the full-batch gradient, and the gradient
    noise scale (McCandlish, Kaplan, Amodei et al., "An Empirical Model of Large-Batch
    Training", 2018).

    With ``G`` the gradient of the mean loss over all ``N`` rows and ``g_B`` that over a
    batch of ``B`` rows drawn without replacement, ``E |g_B - G|^2 = tr(Sigma) / B *
    (N - B) / (N - 1)``, where ``Sigma`` is the covariance of the per-example gradients. So::

        tr(Sigma) = B (N - 1) / (N - B) * mean_b |g_b - G|^2,   B_simple = tr(Sigma) / |G|^2.

    ``B_simple`` estimates the critical batch size: batches much smaller than it are dominated
    by noise (raising B speeds training almost linearly), batches much larger waste
    computation. ``batch_variance`` is the variance at the given ``batch_size`` itself.

    Args:
        loss: ``loss(params, X, y)`` (or ``loss(params, X)`` when ``y`` is None), the *mean*
            loss over the rows given, written in plain NumPy.
        params: the parameters (any pytree) at which to measure.
        X: the inputs, one row per example.
        y: the targets, one per row of ``X``, or None (then ``loss(params, X)``).
        batch_size: ``B``, at least 1 and below the number of rows.
        n_batches: how many random batches to draw; None draws one epoch of disjoint batches
            (with ``batch_size=1`` this is exact: every example once).
        rng: a ``numpy.random.Generator`` or seed.

    Returns:
        :class:`GradientNoise`.

    Raises:
        ValueError: if ``batch_size`` is not in ``[1, N)``.

    Examples:
        >>> import numpy as np
        >>> X = np.array([[1.0], [2.0], [3.0], [4.0]]); y = np.array([1.0, 2.0, 3.0, 5.0])
        >>> mse = lambda w, X, y: np.mean((X @ w - y) ** 2)
        >>> res = gradient_noise(mse, np.zeros(1), X, y, batch_size=1, n_batches=None, rng=0)
        >>> round(res.trace_cov, 6), round(res.noise_scale, 4)
        (209.0, 0.7232)
    """
    X = np.asarray(X)
    n = X.shape[0]
    if not (isinstance(batch_size, (int, np.integer)) and 1 <= batch_size < n):
        raise ValueError(f"gradient_noise: batch_size={batch_size!r} must be an integer from 1 "
                         f"to {n - 1} (one less than the number of rows {n}): the variance of "
                         "a full batch around itself is zero.")
    rng = np.random.default_rng(rng)
    args = (lambda idx: (X[idx],)) if y is None else (lambda idx: (X[idx], np.asarray(y)[idx]))
    g = grad(loss)

    def flat_grad(idx):
        return ravel_pytree(g(params, *args(idx)))[0]

    full = flat_grad(slice(None))
    if n_batches is None:
        perm = rng.permutation(n)
        batches = [perm[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]
    else:
        batches = [rng.choice(n, size=batch_size, replace=False) for _ in range(int(n_batches))]
    dev, cos = [], []
    full_norm = float(np.linalg.norm(full))
    for idx in batches:
        gb = flat_grad(idx)
        dev.append(float(np.sum((gb - full) ** 2)))
        denom = float(np.linalg.norm(gb)) * full_norm
        cos.append(float(gb @ full) / denom if denom > 0 else np.nan)
    variance = float(np.mean(dev))
    trace_cov = batch_size * (n - 1) / (n - batch_size) * variance
    g2 = full_norm ** 2
    return GradientNoise(batch_size=int(batch_size), n_batches=len(batches), grad_norm_sq=g2,
                         batch_variance=variance, trace_cov=trace_cov,
                         noise_scale=trace_cov / g2 if g2 > 0 else np.inf,
                         cosine=float(np.nanmean(cos)) if cos else np.nan)
