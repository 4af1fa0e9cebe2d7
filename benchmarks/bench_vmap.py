"""Batched-tangent workloads (issue 14): W7 Hessian, W8 Jacobian, W9 per-example gradients.

Each runs gradkit side by side with the hand-written NumPy floor, taking turns in one process
(``harness.side_by_side``); set ``OPENBLAS_NUM_THREADS=1`` for comparable ratios. Also prints
the old one-pass-per-column Jacobian / Hessian loop, to show what batching bought, and W7
without vmap's pending factors, to show what they bought.
"""
import numpy as np

import gradkit as gk
from harness import machine, report, side_by_side

RESULTS = {}


def old_jacobian_fwd(fun, x):
    """The pre-vmap gk.jacobian (mode="fwd"): one jvp per input basis vector."""
    n = x.size
    eye = np.eye(n)
    cols = [gk.jvp(fun, (x,), (eye[i],))[1] for i in range(n)]
    return np.stack(cols, axis=-1)


def without_pending_factors(fun):
    """``fun`` run with vmap's pending factors off (every product by an unbatched factor made
    at once, as before issue 14's W7 work): what they buy, measured in the same process."""
    from gradkit.autodiff import batching

    def run(*args):
        saved, batching.PENDING_MIN_SIZE = batching.PENDING_MIN_SIZE, float("inf")
        try:
            return fun(*args)
        finally:
            batching.PENDING_MIN_SIZE = saved
    return run


def old_jacobian_rev(fun, x):
    """The pre-vmap gk.jacobian (mode="rev"): one pullback per output basis vector."""
    out, pullback = gk.vjp(fun, x)
    eye = np.eye(out.size)
    return np.stack([pullback(eye[i])[0] for i in range(out.size)], axis=0)


# ---------------------------------------------------------------- W7: Hessian of a logistic loss
def bench_w7(n=100_000, d=50, lam=1e-2):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, d))
    y = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
    w = rng.standard_normal(d) * 0.1

    def loss(w):
        return np.mean(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * lam * np.sum(w * w)

    def by_hand(w):  # X^T diag(h) X / n + lam I, h = s (1 - s), s = sigmoid(y X w)
        s = 1.0 / (1.0 + np.exp(-(X @ w)))
        h = s * (1.0 - s)
        return (X.T * h) @ X / n + lam * np.eye(d)

    H = gk.hessian(loss)(w)
    np.testing.assert_allclose(H, by_hand(w), rtol=1e-8, atol=1e-12)
    rows = [("numpy (X^T diag(h) X)", lambda: by_hand(w)),
            ("gradkit", lambda: gk.hessian(loss)(w)),
            ("gradkit jacfwd(grad)", lambda: gk.jacfwd(gk.grad(loss))(w)),
            ("gradkit, no pending factors", lambda: without_pending_factors(gk.hessian(loss))(w)),
            ("gradkit, old column loop", lambda: old_jacobian_fwd(gk.grad(loss), w))]
    RESULTS["W7"] = report(f"W7: gk.hessian of the L2 logistic loss, X {n}x{d} (float64)",
                           side_by_side(rows, rounds=5), 2.0)


# ---------------------------------------------------------------- W8: Jacobian of a tanh MLP
def bench_w8(d=200):
    rng = np.random.default_rng(8)
    W1, W2 = rng.standard_normal((d, d)) / np.sqrt(d), rng.standard_normal((d, d)) / np.sqrt(d)
    b1, b2 = rng.standard_normal(d) * 0.1, rng.standard_normal(d) * 0.1
    x = rng.standard_normal(d)

    def mlp(x):
        return np.tanh(W2 @ np.tanh(W1 @ x + b1) + b2)

    def by_hand(x):  # diag(1 - o^2) W2 diag(1 - h^2) W1
        h = np.tanh(W1 @ x + b1)
        o = np.tanh(W2 @ h + b2)
        return ((1.0 - o * o)[:, None] * W2) @ ((1.0 - h * h)[:, None] * W1)

    for mode in ("fwd", "rev"):
        np.testing.assert_allclose(gk.jacobian(mlp, mode=mode)(x), by_hand(x), rtol=1e-10,
                                   atol=1e-12)
    rows = [("numpy (hand-written)", lambda: by_hand(x)),
            ("gradkit", lambda: gk.jacobian(mlp)(x)),
            ("gradkit jacfwd", lambda: gk.jacfwd(mlp)(x)),
            ("gradkit, old row loop (rev)", lambda: old_jacobian_rev(mlp, x))]
    RESULTS["W8"] = report(f"W8: gk.jacobian of a {d} -> {d} tanh MLP (float64)",
                           side_by_side(rows, rounds=5), 3.0)


# ---------------------------------------------------------------- W9: per-example gradients
def bench_w9(n=256, sizes=(784, 256, 10)):
    rng = np.random.default_rng(9)
    d, h, k = sizes
    params = {"W1": rng.standard_normal((d, h)) * np.sqrt(2.0 / d), "b1": np.zeros(h),
              "W2": rng.standard_normal((h, k)) * np.sqrt(2.0 / h), "b2": np.zeros(k)}
    X = rng.standard_normal((n, d))
    Y = np.eye(k)[rng.integers(0, k, n)]

    def loss(p, x, y):  # softmax cross-entropy of one example (or the sum over a batch)
        z = np.maximum(x @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]
        return np.sum(gk.logsumexp(z, axis=-1) - np.sum(z * y, axis=-1))

    per_example = gk.vmap(gk.grad(loss), in_axes=(None, 0, 0))
    batched = gk.grad(loss)
    g = per_example(params, X, Y)
    total = batched(params, X, Y)
    for name in params:
        np.testing.assert_allclose(np.sum(g[name], axis=0), total[name], rtol=1e-9, atol=1e-10)
    size = sum(n * v.size for v in params.values())
    dH = rng.standard_normal((n, h))

    def write_output():  # what any per-example result costs: its n x P floats, written once
        out = np.empty(size)
        out[...] = 0.0
        return out

    def outer_product():  # the largest block alone: W1's n outer products x_i dH_i^T
        return np.multiply(X[:, :, None], dH[:, None, :])

    rows = [("one batched gradient", lambda: batched(params, X, Y)),
            ("gradkit", lambda: per_example(params, X, Y)),
            ("gradkit, loop over rows", lambda: [batched(params, X[i], Y[i]) for i in range(n)]),
            (f"floor: fill a new {size * 8 / 1e6:.0f} MB array", write_output),
            ("W1's outer products by hand", outer_product)]
    RESULTS["W9"] = report(f"W9: per-example gradients, {'-'.join(map(str, sizes))} MLP, "
                           f"{n} rows, vmap(grad) (float64)", side_by_side(rows, rounds=5), 3.0)
    print("  (any program that returns the per-example gradients writes them: the fill is a "
          "floor for every one)")


if __name__ == "__main__":
    print(machine())
    bench_w7()
    bench_w8()
    bench_w9()
