"""Real code, as cases: functions written the way ML-from-scratch repositories, numerical-methods
courses and simulations write NumPy (issue 13: "more real code differentiated unchanged than
any peer, no silent wrong answer anywhere").

Each case is a plain function ``f(*args)`` of NumPy arrays that nobody rewrote for gradkit:
hand-written stable softmax, mixture log-likelihoods, attention with einsum, recurrent nets
unrolled into buffers, convolutions from windows, integrators writing into preallocated
trajectories, finite-difference stencils, closed-form regressions through ``np.linalg``,
spectra through ``np.fft``, Python builtins (``sum``, ``max``, ``zip``, ``enumerate``,
``for row in X``) and ndarray methods. ``test_real_code.py`` runs each one plain (NumPy's value
is the truth) and traced (the value bit for bit; reverse and forward mode against central
finite differences; Hessians where marked; the caller's arrays untouched).

A case is registered with :func:`case`:

- ``make_args(rng)``: the arguments, drawn from ``np.random.default_rng(crc32(name))``.
- ``argnums``: the arguments differentiated (the others are data: labels, masks, inputs).
- ``smooth``: ``False`` for piecewise functions (max, sort, clip, masks): first order only,
  at inputs away from the kinks.
- ``f32``: the function rounds through float32: a larger step and a float32 tolerance.
- ``hessian``: also ``gk.hessian`` / ``gk.hvp`` against second differences (scalar output).

The function's docstring (one line) says where code like it is found.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.special as sc


@dataclass(frozen=True)
class Case:
    name: str
    fun: Callable
    args: tuple
    argnums: tuple
    smooth: bool = True
    f32: bool = False
    hessian: bool = False

    @property
    def doc(self):
        return (self.fun.__doc__ or "").strip()

    def fresh_args(self):
        return tuple(np.array(a, copy=True) for a in self.args)


CASES: list[Case] = []


def case(make_args, argnums=None, smooth=True, f32=False, hessian=False):
    """Register the decorated function (see the module docstring)."""
    def register(fun):
        rng = np.random.default_rng(zlib.crc32(fun.__name__.encode()))
        args = tuple(np.asarray(a) for a in make_args(rng))
        nums = tuple(i for i, a in enumerate(args) if a.dtype.kind == "f") \
            if argnums is None else tuple(argnums)
        assert fun.__name__ not in {c.name for c in CASES}, fun.__name__
        CASES.append(Case(fun.__name__, fun, args, nums, smooth, f32, hessian))
        return fun
    return register


def U(rng, *shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape)


def N(rng, *shape, scale=1.0):
    return scale * rng.standard_normal(shape)


def distinct(rng, *shape, lo=-1.0, hi=1.0):
    """Values pairwise well apart (for sorts, maxima, comparisons), in random order."""
    n = int(np.prod(shape))
    grid = lo + (hi - lo) * (np.arange(n) + rng.uniform(0.2, 0.8, n)) / n
    return rng.permutation(grid).reshape(shape)


def spd(rng, n):
    a = rng.standard_normal((n, n))
    return a @ a.T / n + np.eye(n)


LABELS = np.array([0, 2, 1, 2, 0, 1])


# ============================================================================ classifiers
@case(lambda r: (N(r, 3, 3, scale=0.5), N(r, 6, 3), LABELS), hessian=True)
def softmax_regression(W, X, y):
    """Softmax regression with the hand-written stable softmax (z -= z.max(...)), ML-from-scratch."""
    z = X @ W
    z -= z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(y)), y])


@case(lambda r: (N(r, 3, scale=0.5), N(r, 6, 3), np.array([1, -1, 1, 1, -1, -1.0])),
      argnums=(0,), hessian=True)
def logistic_regression_loss(w, X, y):
    """Logistic loss with log1p(exp(-y z)) and an L2 penalty (course code)."""
    margins = y * np.dot(X, w)
    return np.log1p(np.exp(-margins)).mean() + 0.01 * w @ w


@case(lambda r: (N(r, 3, scale=0.5), N(r, 6, 3), np.array([1, 0, 1, 1, 0, 0.0])),
      argnums=(0,))
def binary_cross_entropy_sigmoid(w, X, y):
    """Binary cross-entropy from 1 / (1 + np.exp(-z)) clipped to [eps, 1 - eps]."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


@case(lambda r: (N(r, 3), N(r, 6, 3), np.array([1, -1, 1, 1, -1, -1.0])), argnums=(0,),
      smooth=False)
def linear_svm_hinge(w, X, y):
    """Soft-margin SVM objective with np.maximum(0, 1 - y * (X @ w))."""
    return 0.5 * np.dot(w, w) + np.maximum(0, 1 - y * (X @ w)).sum()


@case(lambda r: (N(r, 3, 3, scale=0.5), N(r, 6, 3), np.eye(3)[LABELS]), argnums=(0,))
def cross_entropy_one_hot(W, X, Y):
    """Cross-entropy against one-hot targets with scipy.special.softmax."""
    P = sc.softmax(X @ W, axis=1)
    return -(Y * np.log(P)).sum() / len(X)


@case(lambda r: (N(r, 3, 4, scale=0.5), N(r, 4), N(r, 4, 2, scale=0.5), N(r, 5, 3)),
      argnums=(0, 1, 2), smooth=False)
def mlp_relu_forward(W1, b1, W2, X):
    """Two-layer MLP: relu via np.maximum(0, h), bias broadcast, mean squared output."""
    h = np.maximum(0, X @ W1 + b1)
    out = h @ W2
    return (out ** 2).mean()


@case(lambda r: (N(r, 4, 3), N(r, 3), N(r, 3)), hessian=False)
def batch_norm_by_hand(x, gamma, beta):
    """BatchNorm forward written out: x.mean(0), x.var(0), (x - mu) / np.sqrt(var + eps)."""
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    return gamma * xhat + beta


@case(lambda r: (N(r, 3, 5),), hessian=True)
def layer_norm_std_method(x):
    """LayerNorm with x.std(axis=-1, keepdims=True) and a squared-sum loss."""
    y = (x - x.mean(-1, keepdims=True)) / (x.std(axis=-1, keepdims=True) + 1e-6)
    return np.sum(y[:, :3] ** 2 * np.arange(3))


@case(lambda r: (N(r, 2, 3), N(r, 6, 3)), argnums=(0,), smooth=False)
def kmeans_inertia(C, X):
    """k-means objective: squared distances by broadcasting, d.min(axis=1).sum()."""
    d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=-1)
    return d.min(axis=1).sum()


@case(lambda r: (N(r, 2, 3), N(r, 2, 3, scale=0.2), N(r, 2), N(r, 6, 3)), argnums=(0, 1, 2),
      hessian=True)
def gmm_log_likelihood(mu, log_sigma, logits, X):
    """Diagonal Gaussian mixture log-likelihood with scipy.special.logsumexp over components."""
    sigma = np.exp(log_sigma)
    z = (X[:, None, :] - mu[None]) / sigma[None]
    log_norm = -0.5 * np.sum(z ** 2, axis=-1) - np.sum(log_sigma, axis=-1) \
        - 0.5 * X.shape[1] * np.log(2 * np.pi)
    log_w = logits - sc.logsumexp(logits)
    return sc.logsumexp(log_norm + log_w, axis=1).sum()


@case(lambda r: (N(r, 3, 2), N(r, 3, 2), N(r, 3, 2)))
def attention_einsum(Q, K, V):
    """Scaled dot-product attention with np.einsum and an in-place normalised softmax."""
    scores = np.einsum("id,jd->ij", Q, K) / np.sqrt(Q.shape[-1])
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.einsum("ij,jd->id", weights, V)


@case(lambda r: (N(r, 2, 3, 2), N(r, 2, 3, 2)), hessian=False)
def batched_attention_matmul(Q, K):
    """Batched attention scores with Q @ K.swapaxes(-1, -2) and a causal mask via np.triu."""
    s = Q @ K.swapaxes(-1, -2)
    mask = np.triu(np.ones((3, 3), dtype=bool), k=1)
    s = np.where(mask, -1e9, s)
    return sc.softmax(s, axis=-1) * np.arange(3)


# ============================================================================ recurrent nets
@case(lambda r: (N(r, 3, 3, scale=0.5), N(r, 4, 3)), hessian=True)
def rnn_zeros_like_buffer(Wh, x):
    """Elman RNN unrolled into h = np.zeros_like(x, shape=(T + 1, H)), h[t + 1] = tanh(...)."""
    T, H = x.shape[0], Wh.shape[0]
    h = np.zeros_like(x, shape=(T + 1, H))
    for t in range(T):
        h[t + 1] = np.tanh(Wh @ h[t] + x[t])
    return np.sum(h[1:] ** 2)


@case(lambda r: (N(r, 3, 8, scale=0.5), N(r, 2, 8, scale=0.5), N(r, 4, 3)), argnums=(0, 1))
def lstm_split_gates(Wx, Wh, x):
    """LSTM cell unrolled: np.split of the gates, hand-written sigmoid, states collected and stacked."""
    H = Wh.shape[0]
    h, c = np.zeros(H), np.zeros(H)
    outputs = []
    for xt in x:
        gates = xt @ Wx + h @ Wh
        i, f, o, g = np.split(gates, 4)
        i, f, o = (1 / (1 + np.exp(-v)) for v in (i, f, o))
        c = f * c + i * np.tanh(g)
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs).sum(axis=0)


@case(lambda r: (N(r, 3, 2, scale=0.7), N(r, 2, 2, scale=0.7), N(r, 5, 3)), argnums=(0, 1))
def gru_empty_like_states(Wz, Uz, x):
    """GRU-style update with scipy.special.expit into hs = np.empty_like(Wz, shape=(T, H))."""
    T, H = x.shape[0], Uz.shape[0]
    hs = np.empty_like(Wz, shape=(T, H))
    h = np.zeros(H)
    for t in range(T):
        z = sc.expit(x[t] @ Wz + h @ Uz)
        h = (1 - z) * h + z * np.tanh(x[t] @ Wz[:, ::-1])
        hs[t] = h
    return hs


# ============================================================================ convolution, pooling
@case(lambda r: (N(r, 5, 5), N(r, 3, 3)))
def conv2d_python_loops(img, k):
    """2-D valid convolution with two Python loops into out = np.zeros_like(img, shape=...)."""
    kh, kw = k.shape
    H, W = img.shape[0] - kh + 1, img.shape[1] - kw + 1
    out = np.zeros_like(img, shape=(H, W))
    for i in range(H):
        for j in range(W):
            out[i, j] = np.sum(img[i:i + kh, j:j + kw] * k)
    return out


@case(lambda r: (N(r, 6, 6), N(r, 2, 2, 2)))
def conv2d_sliding_windows(img, kernels):
    """Multi-channel convolution: sliding_window_view, then np.tensordot over the window axes."""
    win = np.lib.stride_tricks.sliding_window_view(img, (2, 2))
    return np.tensordot(win, kernels, axes=([2, 3], [1, 2]))


@case(lambda r: (distinct(r, 4, 6),), smooth=False)
def max_pool_reshape(x):
    """2x2 max pooling by reshape(H // 2, 2, W // 2, 2).max(axis=(1, 3))."""
    H, W = x.shape
    return x.reshape(H // 2, 2, W // 2, 2).max(axis=(1, 3))


@case(lambda r: (N(r, 4, 6),))
def avg_pool_and_pad(x):
    """np.pad with edge and reflect modes, then 2x2 average pooling with mean(axis=(1, 3))."""
    p = np.pad(x, ((1, 1), (0, 0)), mode="edge") + np.pad(x, ((1, 1), (0, 0)), mode="reflect")
    return p.reshape(3, 2, 3, 2).mean(axis=(1, 3))


@case(lambda r: (N(r, 8), N(r, 3)))
def conv1d_np_convolve(signal, taps):
    """1-D FIR filtering with np.convolve(mode='same') and a correlation with np.correlate."""
    return np.convolve(signal, taps, mode="same") + np.correlate(signal, taps, "same")


# ============================================================================ integrators, PDEs
@case(lambda r: (np.array([1.0, 0.3]), np.array([1.0, 0.0])))
def rk4_trajectory(k, y0):
    """Classical RK4 on a damped oscillator, writing into ys = np.empty_like(k, shape=(T, 2))."""
    def f(y):
        return np.stack([y[1], -k[0] * y[0] - k[1] * y[1]])
    T, dt = 15, 0.1
    ys = np.empty_like(k, shape=(T, 2))
    ys[0] = y0
    for t in range(T - 1):
        y = ys[t]
        k1 = f(y)
        k2 = f(y + dt / 2 * k1)
        k3 = f(y + dt / 2 * k2)
        k4 = f(y + dt * k3)
        ys[t + 1] = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return ys[::3]


@case(lambda r: (np.array([1.1, 0.4, 0.1, 0.4]), np.array([1.0, 0.5])), hessian=True)
def lotka_volterra_euler(params, z0):
    """Explicit Euler for predator-prey with z += dt * dz on a copy, state unpacked with a, b = z."""
    a, b, c, d = params
    z = z0.copy()
    for _ in range(30):
        x, y = z
        dz = np.array([0.0, 0.0]) + np.stack([a * x - b * x * y, d * x * y - c * y])
        z += 0.05 * dz
    return z[0] * z[1]


@case(lambda r: (N(r, 3, 2, scale=0.5), N(r, 3, 2, scale=0.1)))
def leapfrog_nbody(pos, vel):
    """Leapfrog steps of a softened 3-body system: pairwise differences, np.linalg.norm, np.fill_diagonal."""
    p, v = pos.copy(), vel.copy()
    for _ in range(4):
        diff = p[None, :, :] - p[:, None, :]
        r = np.linalg.norm(diff, axis=-1) + 0.1
        inv = 1.0 / r ** 3
        np.fill_diagonal(inv, 0.0)
        acc = np.sum(diff * inv[:, :, None], axis=1)
        v += 0.05 * acc
        p += 0.05 * v
    return p


@case(lambda r: (np.sin(np.linspace(0, np.pi, 9)) + N(r, 9, scale=0.1),), hessian=True)
def heat_equation_explicit(u0):
    """Explicit heat equation u[1:-1] = u[1:-1] + r * (u[2:] - 2 u[1:-1] + u[:-2]), Dirichlet ends."""
    u = u0.copy()
    for _ in range(8):
        u[1:-1] = u[1:-1] + 0.3 * (u[2:] - 2 * u[1:-1] + u[:-2])
        u[0] = u[-1] = 0.0
    return np.sum(u ** 2)


@case(lambda r: (N(r, 5, 5),))
def laplacian_five_point(u):
    """Five-point Laplacian with np.roll along both axes (periodic grid)."""
    lap = (np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1)
           + np.roll(u, -1, axis=1) - 4 * u)
    return lap[1:-1, 1:-1] * u[1:-1, 1:-1]


@case(lambda r: (U(r, 6, lo=0.5, hi=1.5),))
def wave_equation_leapfrog(u0):
    """Wave equation with three time levels rotated by tuple assignment (up, u = u, un)."""
    up, u = u0.copy(), u0.copy()
    for _ in range(6):
        un = np.empty_like(u)
        un[1:-1] = 2 * u[1:-1] - up[1:-1] + 0.25 * np.diff(u, 2)
        un[0], un[-1] = 0.0, 0.0
        up, u = u, un
    return u


@case(lambda r: (N(r, 6),))
def trapezoid_and_gradient(y):
    """Quadrature with np.trapezoid and derivatives with np.gradient on a non-uniform grid."""
    x = np.array([0.0, 0.1, 0.3, 0.6, 1.0, 1.5])
    return np.trapezoid(y ** 2, x) * np.gradient(np.sin(y), x)


# ============================================================================ polynomials
@case(lambda r: (N(r, 4), N(r, 5)), hessian=True)
def horner_loop(coeffs, x):
    """Horner's rule as a Python loop: p = p * x + c from p = 0.0, summed."""
    p = 0.0
    for c in coeffs:
        p = p * x + c
    return np.sum(p ** 2)


@case(lambda r: (N(r, 4), N(r, 5)))
def polyval_and_vander(coeffs, x):
    """np.polyval next to the same polynomial through an np.vander design matrix."""
    return np.polyval(coeffs, x) * (np.vander(x, 4) @ coeffs)


@case(lambda r: (N(r, 5),), hessian=True)
def chebyshev_recurrence(x):
    """Chebyshev polynomials by the three-term recurrence into a list, then np.stack."""
    t = [np.ones_like(x), x]
    for _ in range(3):
        t.append(2 * x * t[-1] - t[-2])
    return np.sum(np.stack(t) * np.arange(1, 6)[:, None])


# ============================================================================ cumulative, sort, gather
@case(lambda r: (N(r, 6),), hessian=True)
def survival_cumprod(h):
    """Discrete-time survival: hazards through expit, S = np.cumprod(1 - h), expected lifetime."""
    hazard = sc.expit(h)
    S = np.cumprod(1 - hazard)
    return np.sum(S * np.cumsum(hazard))


@case(lambda r: (N(r, 6),))
def discounted_returns(rewards):
    """RL discounted returns: a reversed Python loop with list.insert, then np.stack."""
    G, out = 0.0, []
    for r in reversed(rewards):
        G = r + 0.9 * G
        out.insert(0, G)
    returns = np.stack(out)
    return (returns - returns.mean()) / (returns.std() + 1e-8)


@case(lambda r: (N(r, 7),))
def moving_average_cumsum(x):
    """Moving average by the cumsum trick: np.cumsum(np.insert(x, 0, 0)), differences of a window."""
    c = np.cumsum(np.insert(x, 0, 0.0))
    return (c[3:] - c[:-3]) / 3


@case(lambda r: (distinct(r, 7),), smooth=False)
def trimmed_mean_sort(x):
    """Trimmed mean: np.sort(x)[1:-1].mean() and the median."""
    return np.sort(x)[1:-1].mean() + np.median(x)


@case(lambda r: (distinct(r, 6), N(r, 6)), smooth=False)
def argsort_gather(x, w):
    """Ranking loss: w gathered in the order of np.argsort(x), weighted by position."""
    order = np.argsort(x)
    return w[order] * np.arange(6) + x[order[::-1]]


@case(lambda r: (distinct(r, 3, 5),), smooth=False)
def take_along_axis_topk(A):
    """Top-2 per row with np.argsort and np.take_along_axis, then their softmax."""
    idx = np.argsort(A, axis=1)[:, -2:]
    top = np.take_along_axis(A, idx, axis=1)
    return sc.softmax(top, axis=1) * top


@case(lambda r: (distinct(r, 6),), smooth=False)
def quantiles_percentile(x):
    """Robust scaling with np.percentile and np.quantile (linear interpolation)."""
    q1, q3 = np.percentile(x, [25, 75])
    return (x - np.quantile(x, 0.5)) / (q3 - q1)


@case(lambda r: (U(r, 5, lo=0.05, hi=0.95), N(r, 6)), smooth=False)
def interp_lookup_table(x, table):
    """Piecewise-linear lookup table with np.interp(x, grid, table)."""
    grid = np.linspace(0, 1, 6)
    return np.interp(x, grid, table) ** 2


@case(lambda r: (N(r, 6), np.array([0, 1, 1, 2, 0, 2])), argnums=(0,))
def segment_sum_bincount(w, seg):
    """Segment sums with np.bincount(segments, weights=w) (graph pooling, histograms)."""
    return np.bincount(seg, weights=w) ** 2


@case(lambda r: (N(r, 6), np.array([0, 1, 1, 2, 0, 2])), argnums=(0,))
def scatter_add_at(w, seg):
    """Scatter-add with np.add.at into a zeros_like buffer, then a softplus."""
    out = np.zeros_like(w, shape=(3,))
    np.add.at(out, seg, w)
    return np.logaddexp(0, out)


# ============================================================================ linear algebra
@case(lambda r: (N(r, 3), N(r, 6, 3)), argnums=(0,), hessian=True)
def ridge_closed_form(w, X):
    """Ridge regression in closed form with np.linalg.solve(X.T @ X + lam I, X.T @ y)."""
    y = X @ w
    beta = np.linalg.solve(X.T @ X + 0.1 * np.eye(X.shape[1]), X.T @ y)
    return np.sum((beta - 1.0) ** 2)


@case(lambda r: (N(r, 2), N(r, 5, 2), N(r, 5)), argnums=(0,))
def gp_marginal_likelihood(log_params, X, y):
    """GP negative log marginal likelihood: RBF kernel, np.linalg.cholesky, two solves, log-diagonal."""
    ell, noise = np.exp(log_params)
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-0.5 * sq / ell ** 2) + (noise + 1e-3) * np.eye(len(X))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.log(np.diag(L)).sum()


@case(lambda r: (spd(r, 3),), hessian=True)
def gaussian_entropy_slogdet(S):
    """Gaussian entropy and a trace penalty: np.linalg.slogdet, np.linalg.inv, np.trace."""
    sign, logdet = np.linalg.slogdet(S)
    return 0.5 * logdet + np.trace(np.linalg.inv(S)) + 0.1 * np.linalg.det(S)


@case(lambda r: (N(r, 5, 3), N(r, 5)))
def least_squares_qr(A, b):
    """Least squares by QR: Q, R = np.linalg.qr(A); x = solve(R, Q.T @ b); plus lstsq."""
    Q, R = np.linalg.qr(A)
    x = np.linalg.solve(R, Q.T @ b)
    return x + np.linalg.lstsq(A, b, rcond=None)[0]


@case(lambda r: (N(r, 6, 3),))
def pca_explained_variance(X):
    """PCA: centred covariance, np.linalg.eigh, explained-variance ratio and |top eigenvector|^2."""
    Xc = X - X.mean(axis=0)
    C = Xc.T @ Xc / (len(X) - 1)
    w, V = np.linalg.eigh(C)
    return np.concatenate([w[::-1] / w.sum(), V[:, -1] ** 2])


@case(lambda r: (N(r, 5, 3),))
def svd_low_rank(A):
    """Rank-1 approximation with np.linalg.svd(full_matrices=False) and the nuclear norm."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return (U[:, :1] * s[:1]) @ Vt[:1] + s.sum()


@case(lambda r: (N(r, 3, 4),), smooth=False)
def norms_everywhere(A):
    """np.linalg.norm in every common form: default, axis=1, 'fro', ord=2 matrix, ord=1 vector."""
    return (np.linalg.norm(A) + np.linalg.norm(A, axis=1).sum() + np.linalg.norm(A, "fro")
            + np.linalg.norm(A, ord=2) + np.linalg.norm(A[0], 1) + np.linalg.norm(A[:, 1]))


@case(lambda r: (N(r, 3, 3) + 2 * np.eye(3),), hessian=True)
def matrix_power_and_kron(A):
    """Markov-like powers with np.linalg.matrix_power and a Kronecker product's trace."""
    return np.trace(np.linalg.matrix_power(A, 3)) + np.sum(np.kron(A[:2, :2], A[:1]) ** 2)


@case(lambda r: (N(r, 6, 3),))
def covariance_corrcoef(X):
    """Feature covariance and correlation with np.cov(X, rowvar=False) and np.corrcoef(X.T)."""
    return np.cov(X, rowvar=False) + np.corrcoef(X.T) ** 2


@case(lambda r: (N(r, 4), N(r, 3)), hessian=False)
def outer_tensordot_kernels(x, y):
    """Polynomial kernel with np.outer, np.subtract.outer distances and np.tensordot."""
    K = (1 + np.outer(x, y)) ** 2 + np.exp(-np.subtract.outer(x, y) ** 2)
    return np.tensordot(K, K, axes=([0], [0]))


@case(lambda r: (N(r, 2, 3, 4), N(r, 2, 4, 2)))
def einsum_variants(A, B):
    """np.einsum with batch, ellipsis, trace, diagonal and optimize=True forms."""
    C = np.einsum("bij,bjk->bik", A, B)
    D = np.einsum("...ij,...jk", A, B, optimize=True)
    t = np.einsum("bii->b", C[:, :2, :2]) + np.einsum("ii->i", C[0, :2, :2]).sum()
    return C + D + t[:, None, None] + np.einsum("bij->", A)


# ============================================================================ spectra
@case(lambda r: (N(r, 8),))
def power_spectrum_rfft(x):
    """Power spectrum: |np.fft.rfft(x * hann)|^2 with np.hanning."""
    return np.abs(np.fft.rfft(x * np.hanning(8))) ** 2


@case(lambda r: (N(r, 8), N(r, 3)))
def fft_convolution(x, k):
    """Circular convolution through the FFT: irfft(rfft(x) * rfft(k, n), n)."""
    n = len(x)
    return np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(k, n), n)


@case(lambda r: (N(r, 4, 6),))
def fft2_low_pass(img):
    """2-D low-pass filter: fft2, a radial mask from np.fft.fftfreq, ifft2, real part."""
    F = np.fft.fft2(img)
    fy, fx = np.fft.fftfreq(4)[:, None], np.fft.fftfreq(6)[None, :]
    return np.real(np.fft.ifft2(F * (fy ** 2 + fx ** 2 < 0.1)))


@case(lambda r: (N(r, 8),))
def fftshift_spectrum(x):
    """Centred magnitude spectrum with np.fft.fftshift(np.abs(np.fft.fft(x)))."""
    return np.fft.fftshift(np.abs(np.fft.fft(x)) ** 2) * np.arange(8)


# ============================================================================ Python idioms
@case(lambda r: (N(r, 3, 2), N(r, 5, 3)), argnums=(0,))
def iterate_rows(W, X):
    """for row in X: accumulate a loss with the builtin running total."""
    total = 0.0
    for row in X:
        total = total + np.tanh(row @ W).sum()
    return total


@case(lambda r: (N(r, 5), N(r, 5)), hessian=True)
def builtin_sum_zip(a, b):
    """sum(ai * bi for ai, bi in zip(a, b)) and sum over enumerate: Python builtins on traced rows."""
    return sum(ai * bi for ai, bi in zip(a, b)) + sum(i * ai ** 2 for i, ai in enumerate(a))


@case(lambda r: (N(r, 4, 3),))
def list_comprehension_stack(X):
    """Row normalisation with a list comprehension, then np.stack and np.vstack."""
    rows = [row / np.linalg.norm(row) for row in X]
    return np.stack(rows) + np.vstack([r ** 2 for r in rows])


@case(lambda r: (distinct(r, 5),), smooth=False)
def builtin_max_min_abs(x):
    """Builtin max / min over a traced array and abs() of a traced entry."""
    return max(x) - min(x) + abs(x[0]) + max(x[1], x[2])


@case(lambda r: (N(r, 6),))
def len_shape_size_scalars(x):
    """len(x), x.shape, x.size, np.ndim and math on Python ints used as scales."""
    import math
    n = len(x)
    return x.sum() / n + x.size * np.mean(x ** 2) / x.shape[0] + np.ndim(x) * x[0] / math.sqrt(n)


@case(lambda r: (N(r, 6),))
def bool_control_flow(x):
    """Control flow on traced comparisons: if x.sum() > 0, while np.abs(y).max() > 1."""
    y = x * 3.0
    while np.abs(y).max() > 1.0:
        y = y / 2.0
    return y if x.sum() > 0 else -y


@case(lambda r: (N(r, 3, 4, scale=2.0),), smooth=False)
def ndarray_methods(x):
    """ndarray methods: sum/mean/var/std/prod/cumsum/max/min/clip/dot/T/reshape/round/trace."""
    return (x.sum(axis=0) * x.mean(0)).sum() + x.var() + x.std(axis=1).sum() \
        + x.prod(axis=0).sum() + x.cumsum().sum() + x.max(1).sum() - x.min() \
        + x.clip(-0.5, 0.5).sum() + x.dot(x.T).trace() + x.reshape(-1)[::2].sum() \
        + 0 * x.round(1).sum() + x.T.diagonal().sum() + x.astype(np.float32).astype(float).sum() * 0


@case(lambda r: (N(r, 5),))
def zero_d_and_scalars(x):
    """0-d arrays and NumPy / Python scalars on both sides: np.float64(2) * t, 2 ** t, t[0] * np.array(3.)."""
    s = x[0]
    return np.float64(2.0) * x + 2 ** s + s * np.array(3.0) + np.float32(0.5) * x ** 2 + 1


@case(lambda r: (N(r, 4, 3, scale=0.5),), f32=True)
def float32_network(W):
    """A float32 forward pass (weights cast with astype(np.float32)), loss back in float64."""
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    h = np.tanh(x @ W.astype(np.float32))
    return (h.astype(np.float64) ** 2).sum()


@case(lambda r: (N(r, 6),), smooth=False)
def int_and_bool_mixing(x):
    """Integer arrays, boolean masks and casts: x * np.arange(n), x[x > 0], (x > 0) * x."""
    mask = x > 0
    return (x * np.arange(6)).sum() + x[mask].sum() + ((x > 0) * x ** 2).sum() \
        + (mask.astype(float) * x).sum() + np.count_nonzero(mask) * x.mean()


@case(lambda r: (N(r, 6),), smooth=False)
def activation_zoo(x):
    """Activations with np.where / np.clip / np.maximum: leaky relu, ELU, hard tanh, relu6, GELU."""
    leaky = np.where(x > 0, x, 0.01 * x)
    elu = np.where(x > 0, x, np.exp(x) - 1)
    hard = np.clip(x, -1, 1)
    relu6 = np.minimum(np.maximum(x, 0), 6)
    gelu = 0.5 * x * (1 + sc.erf(x / np.sqrt(2)))
    return leaky + elu + hard + relu6 + gelu


@case(lambda r: (N(r, 5),))
def special_functions(x):
    """scipy.special in a likelihood: gammaln, digamma, erf, expit, log_expit, xlogy."""
    a = np.exp(x)
    return (sc.gammaln(a) + sc.digamma(a) + sc.erf(x) + sc.expit(x) + sc.log_expit(x)
            + sc.xlogy(a, a))


@case(lambda r: (N(r, 4, 5),))
def views_of_views_inplace(A):
    """In-place ops on views of views: B[1:, ::2] *= 3; v = B[1:]; w = v[:, 1:]; w += v[:, :-1]."""
    B = A.copy()
    B[1:, ::2] *= 3.0
    v = B[1:]
    w = v[:, 1:]
    w += v[:, :-1]
    return B


@case(lambda r: (N(r, 3, 3),))
def aliasing_transpose_write(A):
    """Two names and a transpose view: C = B; D = C.T; D[0] = sin(D[1]); C += 1; B is written."""
    B = A.copy()
    C = B
    D = C.T
    D[0] = np.sin(D[1])
    C += 1.0
    return B * A


@case(lambda r: (N(r, 6),))
def diff_ediff_roll(x):
    """Differences three ways: np.diff(prepend=), np.ediff1d(to_begin=), x - np.roll(x, 1)."""
    return np.diff(x, prepend=0.0) * np.ediff1d(x, to_begin=0.0) + (x - np.roll(x, 1)) ** 2


@case(lambda r: (N(r, 4), N(r, 3)))
def meshgrid_surface(x, y):
    """A surface on np.meshgrid(x, y) (indexing='xy') evaluated and summed per row."""
    X, Y = np.meshgrid(x, y)
    return np.sum(np.sin(X) * Y ** 2 + X * Y, axis=1)


@case(lambda r: (N(r, 3, 4),))
def apply_along_axis_rownorm(A):
    """np.apply_along_axis with a lambda that normalises each column."""
    return np.apply_along_axis(lambda v: v / np.sqrt(np.sum(v ** 2)), 0, A)


@case(lambda r: (distinct(r, 6, lo=-2, hi=2),), smooth=False)
def piecewise_huber(x):
    """Huber loss with np.piecewise (two branches, callables on the selected entries)."""
    return np.piecewise(x, [np.abs(x) <= 1, np.abs(x) > 1],
                        [lambda t: 0.5 * t ** 2, lambda t: np.abs(t) - 0.5])


@case(lambda r: (N(r, 6),), smooth=False)
def running_max_drawdown(returns):
    """Maximum drawdown of a price path: np.maximum.accumulate of np.cumsum."""
    wealth = np.cumsum(returns)
    return np.maximum.accumulate(wealth) - wealth


@case(lambda r: (N(r, 3, 4),))
def ufunc_methods(A):
    """ufunc methods: np.add.reduce, np.multiply.outer, np.logaddexp.reduce, np.add.accumulate."""
    return (np.add.reduce(A, axis=1) + np.logaddexp.reduce(A, axis=1)
            + np.multiply.outer(A[0], A[1])[:3, 0] + np.add.accumulate(A, axis=1)[:, -1])


@case(lambda r: (N(r, 5),))
def sinc_interpolation(samples):
    """Whittaker-Shannon reconstruction with np.sinc at points including the sample points."""
    t = np.array([0.0, 0.5, 1.0, 2.25, 3.0])
    return np.sinc(t[:, None] - np.arange(5)[None, :]) @ samples


@case(lambda r: (U(r, 5, lo=0.1, hi=2.9),), smooth=False)
def phase_wrapping_two_output_ufuncs(theta):
    """Phase wrapping and mantissas: np.modf, np.divmod, np.frexp, np.ldexp (two-output ufuncs)."""
    frac, whole = np.modf(theta * 3.0)
    q, rem = np.divmod(theta, 0.7)
    mant, expo = np.frexp(theta)
    return frac * whole + rem * q + mant * expo + np.ldexp(theta, 2)


@case(lambda r: (N(r, 3, 4),))
def diag_diagflat_tri_indices(A):
    """Matrices from vectors and back: np.diag, np.diagflat, A[np.triu_indices(3)]."""
    G = A @ A.T
    return np.diagflat(A[0, :2]).sum() + np.diag(np.diag(G)) @ G[:, 0] + G[np.triu_indices(3)].sum()


@case(lambda r: (N(r, 6),))
def polyfit_detrend(y):
    """Detrending: subtract the quadratic np.polyfit trend evaluated with np.polyval."""
    t = np.linspace(0.0, 1.0, 6)
    return y - np.polyval(np.polyfit(t, y, 2), t)


@case(lambda r: (N(r, 3, 3),))
def hermitian_svd_of_symmetric(A):
    """Singular values of a symmetric matrix via np.linalg.svd(hermitian=True) (reads one triangle)."""
    S = A + A.T
    u, s, vt = np.linalg.svd(np.tril(S) + np.tril(S, -1).T, hermitian=True)
    return np.concatenate([s, np.linalg.svd(S, hermitian=True, compute_uv=False),
                           ((u * s) @ vt).ravel()])


@case(lambda r: (N(r, 3, 3),))
def pinv_hermitian_and_options(A):
    """Options that change what NumPy computes: pinv(hermitian=True) (lower triangle), sum(initial=), mean(where=)."""
    S = A @ A.T + np.eye(3)
    return (np.linalg.pinv(S, hermitian=True) + np.sum(A, axis=0, initial=2.0)
            + np.mean(A, axis=1, where=np.array([True, False, True])))


@case(lambda r: (U(r, 2, lo=0.5, hi=1.5),))
def log_and_geometric_grids(a):
    """Grids from traced endpoints: np.logspace, np.geomspace, np.linspace(retstep=True)."""
    grid, step = np.linspace(a[0], a[1] + 2.0, 5, retstep=True)
    return np.logspace(a[0], a[1], 4) + np.geomspace(a[0], a[1] + 3.0, 4) + grid[:4] * step


@case(lambda r: (distinct(r, 3, 5),), smooth=False)
def nan_robust_statistics(A):
    """Statistics with missing values: np.nanquantile, np.nanpercentile, np.nanmedian, np.nanmean."""
    M = np.where(A > 0.8, np.nan, A)
    return (np.nanquantile(M, 0.3, axis=1) + np.nanpercentile(M, [20, 70], axis=1).sum(0)
            + np.nanmedian(M, axis=1) + np.nanmean(M, axis=1))


@case(lambda r: (N(r, 3, 4),))
def matlab_port_fortran_order(A):
    """Code ported from MATLAB: column-major A(:) as A.reshape(-1, order='F'), reshape back in 'F', clip(dtype=)."""
    v = A.reshape(-1, order="F")
    B = np.reshape(v * np.arange(12), (4, 3), order="F")
    return B @ A + np.clip(A, -2.0, 2.0, dtype=np.float64).T @ A
