"""K-FAC: the factors from capture, the exact natural gradient where A (x) G is exact, training."""
import numpy as np
import pytest

from gradkit.nn import Linear, ReLU, Sequential
from gradkit.optim import apply_updates
from gradkit.nn.kfac import capture, kfac, scale_by_kfac
from gradkit.optim.natural_gradient import fisher_vector_product


def _regression(n=40, d=3, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 3.0, 0.3]
    Y = X @ rng.normal(size=(d, k)) + 0.1 * rng.normal(size=(n, k))
    return X, Y


def test_one_layer_least_squares_kfac_is_the_exact_natural_gradient():
    # one Linear layer with the Gaussian likelihood: F = E[abar abar^T] (x) I exactly
    X, Y = _regression()
    layer = Linear(2)
    params, _ = layer.init(np.random.default_rng(1), (3,))
    _, grads, stats = capture(layer, "mse")(params, X, Y)
    tx = scale_by_kfac(damping=1e-24, pi_correction=False)  # sqrt: 1e-12
    nat, _ = tx.update(grads, tx.init(params), params, kfac_stats=stats)

    # the oracle: the Fisher J^T Lambda J of the flat [W; b] from gradkit's natural-gradient
    # code (jvp / vjp / the loss's Hessian), as a dense matrix, and a solve
    def model(w):
        Wb = w.reshape(4, 2)
        return X @ Wb[:3] + Wb[3]
    loss = lambda z: 0.5 * np.sum((z - Y) ** 2) / X.shape[0]  # noqa: E731
    w = np.vstack([params["W"], params["b"]]).ravel()
    fvp = fisher_vector_product(model, loss, w)
    F = np.stack([fvp(e) for e in np.eye(w.size)], axis=1)
    g = np.vstack([grads["W"], grads["b"]]).ravel()
    exact = np.linalg.solve(F, g).reshape(4, 2)
    np.testing.assert_allclose(nat["W"], exact[:3], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(nat["b"], exact[3], rtol=1e-7, atol=1e-10)


def test_factors_are_the_definitions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 3))
    y = rng.integers(0, 4, 6)
    layer = Linear(4)
    params, _ = layer.init(rng, (3,))
    _, grads, stats = capture(layer, "cross_entropy")(params, X, y)
    abar, u = stats[None]
    np.testing.assert_allclose(abar, np.c_[X, np.ones(6)])
    z = X @ params["W"] + params["b"]
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    # one layer: G = mean over examples of Lambda_n = diag(p_n) - p_n p_n^T
    G = np.mean([np.diag(q) - np.outer(q, q) for q in p], axis=0)
    np.testing.assert_allclose(u.T @ u / 6, G, atol=1e-12)
    # the empirical variant: per-example gradients (p - onehot) at the labels
    _, _, emp = capture(layer, "cross_entropy", fisher="empirical")(params, X, y)
    np.testing.assert_allclose(emp[None][1], p - np.eye(4)[y], atol=1e-12)
    # the gradient is E[abar^T g]
    np.testing.assert_allclose(np.vstack([grads["W"], grads["b"]]),
                               abar.T @ (p - np.eye(4)[y]) / 6, atol=1e-12)


def test_hidden_layer_factors_back_propagate_through_the_activation():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, 5)
    model = Sequential([Linear(4), ReLU(), Linear(2)])
    params, _ = model.init(rng, (3,))
    _, _, stats = capture(model, "cross_entropy")(params, X, y)
    assert set(stats) == {"00_linear", "02_linear"}
    h = np.maximum(X @ params["00_linear"]["W"] + params["00_linear"]["b"], 0)
    np.testing.assert_allclose(stats["02_linear"][0], np.c_[h, np.ones(5)])
    # G of the first layer: u rows are J^T L columns, zero where the ReLU is off
    u = stats["00_linear"][1].reshape(2, 5, 4)
    assert np.all(u[:, h == 0] == 0)


def test_damping_pi_and_the_inverse_schedule():
    X, Y = _regression()
    layer = Linear(2)
    params, _ = layer.init(np.random.default_rng(1), (3,))
    step = capture(layer, "mse")
    _, grads, stats = step(params, X, Y)
    lam = 0.5
    tx = scale_by_kfac(damping=lam, decay=0.5, inverse_every=3)
    state = tx.init(params)
    out, state = tx.update(grads, state, params, kfac_stats=stats)
    abar, u = stats[None]
    A, G = abar.T @ abar / 40, u.T @ u / 40
    pi = np.sqrt((np.trace(A) / 4) / (np.trace(G) / 2))
    P = np.linalg.inv(A + pi * np.sqrt(lam) * np.eye(4)) @ np.vstack([grads["W"], grads["b"]]) \
        @ np.linalg.inv(G + np.sqrt(lam) / pi * np.eye(2))
    np.testing.assert_allclose(out["W"], P[:3])
    inv0 = state.A_inv[None]
    _, _, stats2 = step(params, 2 * X, Y)
    _, state = tx.update(grads, state, params, kfac_stats=stats2)
    assert state.A_inv[None] is inv0  # not refreshed until step 3
    A2 = stats2[None][0].T @ stats2[None][0] / 40
    np.testing.assert_allclose(state.A[None], 0.5 * A + 0.5 * A2)
    _, state = tx.update(grads, state, params, kfac_stats=stats2)
    _, state = tx.update(grads, state, params, kfac_stats=stats2)
    assert state.A_inv[None] is not inv0


def test_kfac_trains_an_mlp_faster_than_sgd():
    from sklearn.datasets import load_digits
    from gradkit.optim import sgd
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    y = y[:300]
    model = Sequential([Linear(32), ReLU(), Linear(10)])
    p0, _ = model.init(np.random.default_rng(0), (64,))
    step = capture(model, "cross_entropy")
    losses = {}
    for name, tx in [("kfac", kfac(0.2, damping=1e-2)), ("sgd", sgd(0.2))]:
        params, state = p0, tx.init(p0)
        for _ in range(30):
            value, grads, stats = step(params, X, y)
            updates, state = tx.update(grads, state, params, kfac_stats=stats)
            params = apply_updates(params, updates)
        losses[name] = step(params, X, y)[0]
    assert losses["kfac"] < 0.5 * losses["sgd"], losses


def test_capture_refuses_what_it_does_not_cover():
    from gradkit.nn import BatchNorm
    with pytest.raises(ValueError, match="covers Linear and Conv2d layers and parameter-free"):
        capture(Sequential([Linear(3), BatchNorm(), Linear(2)]))
    with pytest.raises(ValueError, match="loss"):
        capture(Linear(2), loss="hinge")
    with pytest.raises(ValueError, match="kfac_stats"):
        tx = scale_by_kfac()
        tx.update({"W": np.ones((2, 2))}, tx.init(None))


def test_sampled_fisher_is_unbiased_for_the_expected_one():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(4, 3)), rng.integers(0, 3, 4)
    model = Sequential([Linear(5), ReLU(), Linear(3)])
    params, _ = model.init(rng, (3,))
    _, _, exp = capture(model, "cross_entropy")(params, X, y)
    step = capture(model, "cross_entropy", fisher="sampled")
    draws = np.random.default_rng(0)
    G = {k: 0.0 for k in exp}
    m = 3000
    for _ in range(m):
        _, _, st = step(params, X, y, rng=draws)
        for k in st:
            G[k] = G[k] + st[k][1].T @ st[k][1] / (4 * m)
    for k in exp:
        want = exp[k][1].T @ exp[k][1] / 4
        np.testing.assert_allclose(G[k], want, atol=0.05 * np.abs(want).max())
    with pytest.raises(ValueError, match="rng"):
        step(params, X, y)


def test_a_layer_without_bias():
    X, Y = _regression()
    layer = Linear(2, use_bias=False)
    params, _ = layer.init(np.random.default_rng(1), (3,))
    _, grads, stats = capture(layer, "mse")(params, X, Y)
    assert stats[None][0].shape == (40, 3)
    tx = scale_by_kfac(damping=1e-24, pi_correction=False)
    out, _ = tx.update(grads, tx.init(params), params, kfac_stats=stats)
    np.testing.assert_allclose(out["W"], np.linalg.solve(X.T @ X / 40, grads["W"]), rtol=1e-8)


def test_binary_cross_entropy_factors_are_the_definitions():
    # sigmoid outputs, one Bernoulli per column: Lambda_n = diag(p_n (1 - p_n))
    rng = np.random.default_rng(4)
    X = rng.normal(size=(7, 3))
    Y = rng.integers(0, 2, (7, 2)).astype(float)
    layer = Linear(2)
    params, _ = layer.init(rng, (3,))
    value, grads, stats = capture(layer, "binary_cross_entropy")(params, X, Y)
    abar, u = stats[None]
    z = X @ params["W"] + params["b"]
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(u.T @ u / 7, np.diag(np.mean(p * (1 - p), axis=0)), atol=1e-12)
    loss = np.mean(np.sum(np.logaddexp(0, z) - Y * z, axis=1))
    np.testing.assert_allclose(value, loss, rtol=1e-12)
    np.testing.assert_allclose(np.vstack([grads["W"], grads["b"]]), abar.T @ (p - Y) / 7,
                               atol=1e-12)
    _, _, emp = capture(layer, "binary_cross_entropy", fisher="empirical")(params, X, Y)
    np.testing.assert_allclose(emp[None][1], p - Y, atol=1e-12)


def test_sampled_binary_fisher_is_unbiased_for_the_expected_one():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(4, 3)), rng.integers(0, 2, 4)
    model = Sequential([Linear(5), ReLU(), Linear(1)])
    params, _ = model.init(rng, (3,))
    _, _, exp = capture(model, "binary_cross_entropy")(params, X, y)
    step = capture(model, "binary_cross_entropy", fisher="sampled")
    draws = np.random.default_rng(0)
    G = {k: 0.0 for k in exp}
    m = 3000
    for _ in range(m):
        _, _, st = step(params, X, y, rng=draws)
        for k in st:
            G[k] = G[k] + st[k][1].T @ st[k][1] / (4 * m)
    for k in exp:
        want = exp[k][1].T @ exp[k][1] / 4
        np.testing.assert_allclose(G[k], want, atol=0.05 * np.abs(want).max())


def test_factor_every_updates_the_factors_and_draws_the_statistics_only_at_those_steps():
    X, Y = _regression()
    layer = Linear(2)
    params, _ = layer.init(np.random.default_rng(1), (3,))
    step = capture(layer, "mse")
    _, grads, _ = step(params, X, Y)
    calls = []

    def stats_at(scale):  # the statistics of the inputs scaled by `scale`, counted
        def stats():
            calls.append(scale)
            return step(params, scale * X, Y)[2]
        return stats
    tx = scale_by_kfac(damping=0.1, decay=0.5, factor_every=2, inverse_every=1)
    state = tx.init(params)
    got = []
    for t in range(4):
        out, state = tx.update(grads, state, params, kfac_stats=stats_at(t + 1.0))
        got.append((out, state))
    assert calls == [1.0, 3.0]  # steps 0 and 2 only
    abar1 = step(params, X, Y)[2][None][0]
    abar3 = step(params, 3.0 * X, Y)[2][None][0]
    A1, A3 = abar1.T @ abar1 / 40, abar3.T @ abar3 / 40
    np.testing.assert_allclose(got[1][1].A[None], A1)  # step 1 keeps step 0's factors
    np.testing.assert_allclose(got[3][1].A[None], 0.5 * A1 + 0.5 * A3)
    # and step 1 preconditions with them: the same update as step 0
    np.testing.assert_allclose(got[1][0]["W"], got[0][0]["W"])


def test_kfac_momentum_is_a_heavy_ball_on_the_natural_gradient():
    X, Y = _regression()
    layer = Linear(2)
    params, _ = layer.init(np.random.default_rng(1), (3,))
    step = capture(layer, "mse")
    plain, heavy = kfac(0.5, damping=0.1), kfac(0.5, damping=0.1, momentum=0.9)
    sp, sh = plain.init(params), heavy.init(params)
    m = None
    for t in range(3):
        _, grads, stats = step(params, (1.0 + t) * X, Y)  # a different curvature each step
        up, sp = plain.update(grads, sp, params, kfac_stats=stats)
        uh, sh = heavy.update(grads, sh, params, kfac_stats=stats)
        m = up["W"] if m is None else up["W"] + 0.9 * m  # the plain step is -0.5 * Delta
        np.testing.assert_allclose(uh["W"], m, rtol=1e-12)


@pytest.mark.parametrize("settings, message", [
    (dict(damping=0.0), "damping must be > 0, got 0.0."),
    (dict(decay=1.0), r"decay must be in \[0, 1\), got 1.0."),
    (dict(inverse_every=0), "inverse_every must be an integer >= 1, got 0."),
    (dict(factor_every=2.0), "factor_every must be an integer >= 1, got 2.0."),
    (dict(factor_every=True), "factor_every must be an integer >= 1, got True."),
    (dict(momentum=1.0), r"momentum must be a number in \[0, 1\), got 1.0."),
])
def test_kfac_refuses_bad_settings_by_name(settings, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        kfac(0.1, **settings)


# ------------------------------------------------------------------ Conv2d (KFC, Grosse & Martens)
def _conv_case(seed=0, use_bias=True, stride=1, padding=0):
    from gradkit.nn import Conv2d, Flatten
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(7, 2, 4, 4))
    model = Sequential([Conv2d(3, 2, stride=stride, padding=padding, use_bias=use_bias),
                        Flatten()])
    params, _ = model.init(rng, (2, 4, 4))
    out = model.apply(params, {}, X)[0]
    Y = rng.normal(size=out.shape)
    return model, params, X, Y


@pytest.mark.parametrize("use_bias, stride, padding", [(True, 1, 0), (False, 2, 1),
                                                       (True, 1, 1)])
def test_one_conv_layer_least_squares_kfc_is_the_exact_natural_gradient(use_bias, stride,
                                                                        padding):
    # one Conv2d layer, Gaussian likelihood: the pre-activation gradients of different
    # positions are uncorrelated (Lambda = I), so F = sum_t E[abar_t abar_t^T] (x) I exactly
    # and KFC's Omega (x) Gamma is F (Grosse & Martens 2016, sec. 3)
    from gradkit.nn.functional import conv2d
    model, params, X, Y = _conv_case(use_bias=use_bias, stride=stride, padding=padding)
    key = model.keys[0]
    _, grads, stats = capture(model, "mse")(params, X, Y)
    tx = scale_by_kfac(damping=1e-24, pi_correction=False)
    nat, _ = tx.update(grads, tx.init(params), params, kfac_stats=stats)

    W, b = params[key]["W"], params[key].get("b")
    sizes = [W.size] + ([b.size] if use_bias else [])

    def unflat(w):
        Wf = w[:W.size].reshape(W.shape)
        return Wf, (w[W.size:] if use_bias else None)

    def net(w):
        Wf, bf = unflat(w)
        return conv2d(X, Wf, bf, stride, padding).reshape(X.shape[0], -1)
    loss = lambda z: 0.5 * np.sum((z - Y) ** 2) / X.shape[0]  # noqa: E731
    w = np.concatenate([W.ravel()] + ([b] if use_bias else []))
    fvp = fisher_vector_product(net, loss, w)
    F = np.stack([fvp(e) for e in np.eye(w.size)], axis=1)
    g = np.concatenate([grads[key]["W"].ravel()] + ([grads[key]["b"]] if use_bias else []))
    exact = np.linalg.solve(F, g)
    assert sum(sizes) == w.size
    np.testing.assert_allclose(nat[key]["W"], exact[:W.size].reshape(W.shape), rtol=1e-7,
                               atol=1e-10)
    if use_bias:
        np.testing.assert_allclose(nat[key]["b"], exact[W.size:], rtol=1e-7, atol=1e-10)


def test_conv_factors_are_kfcs_definitions():
    # A = the patches' second moment averaged over examples and positions, G = the
    # pre-activation gradients' summed over positions, averaged over examples: A (x) G is
    # KFC's Omega (x) Gamma = (sum_t E[abar abar^T]) (x) (mean_t E[g g^T])
    from gradkit.nn import Conv2d, Flatten, Linear as Lin
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(5, 1, 4, 4)), rng.integers(0, 3, 5)
    model = Sequential([Conv2d(2, 3), Flatten(), Lin(3)])
    params, _ = model.init(rng, (1, 4, 4))
    _, _, stats = capture(model, "cross_entropy", fisher="empirical")(params, X, y)
    abar, u = stats[model.keys[0]]
    T = 4  # 2 x 2 positions
    patches = np.array([[np.r_[X[n, 0, i:i + 3, j:j + 3].ravel(), 1.0] for i in range(2)
                         for j in range(2)] for n in range(5)])  # (N, T, 10)
    np.testing.assert_allclose(abar, patches.reshape(-1, 10))

    def per_example_grads(p):  # the gradient of each example's loss at the conv's output
        import gradkit as gk
        from gradkit.nn import losses
        out = []
        for n in range(5):
            def f(s):
                h = s.reshape(1, -1)
                W3, b3 = p[model.keys[2]]["W"], p[model.keys[2]]["b"]
                return losses.cross_entropy(h @ W3 + b3, y[n:n + 1])
            s0 = model.layers[0].apply(p[model.keys[0]], {}, X[n:n + 1])[0]
            out.append(gk.grad(f)(s0)[0])  # (O, OH, OW)
        return np.array(out)
    g = per_example_grads(params)  # (N, O, 2, 2)
    rows = np.transpose(g, (0, 2, 3, 1)).reshape(5, T, 2)
    Gamma = np.einsum("nto,ntp->op", rows, rows) / (5 * T)
    Omega = np.einsum("nti,ntj->ij", patches, patches) / 5
    A, G = abar.T @ abar / abar.shape[0], u.T @ u / abar.shape[0]
    np.testing.assert_allclose(np.kron(A, G), np.kron(Omega, Gamma), rtol=1e-10, atol=1e-14)


def test_kfac_trains_a_small_cnn():
    from sklearn.datasets import load_digits
    from gradkit.nn import Conv2d, Flatten
    X, y = load_digits(return_X_y=True)
    X, y = X[:200].reshape(-1, 1, 8, 8) / 16.0, y[:200]
    model = Sequential([Conv2d(4, 3), ReLU(), Flatten(), Linear(10)])
    p0, _ = model.init(np.random.default_rng(0), (1, 8, 8))
    step = capture(model, "cross_entropy")
    from gradkit.optim import sgd
    got = {}
    for name, tx in [("kfac", kfac(0.2, damping=1e-2)), ("sgd", sgd(0.2))]:
        params, state = p0, tx.init(p0)
        for _ in range(15):
            _, grads, stats = step(params, X, y)
            updates, state = tx.update(grads, state, params, kfac_stats=stats)
            params = apply_updates(params, updates)
        got[name] = step(params, X, y)[0]
    assert got["kfac"] < 0.5 * got["sgd"], got


@pytest.mark.parametrize("loss, fisher", [("cross_entropy", "expected"),
                                          ("cross_entropy", "sampled"),
                                          ("binary_cross_entropy", "empirical"),
                                          ("mse", "expected")])
def test_statistics_alone_are_the_steps(loss, fisher):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(6, 3))
    y = {"cross_entropy": rng.integers(0, 3, 6), "binary_cross_entropy":
         rng.integers(0, 2, (6, 3)).astype(float), "mse": rng.normal(size=(6, 3))}[loss]
    model = Sequential([Linear(4), ReLU(), Linear(3)])
    params, _ = model.init(rng, (3,))
    step = capture(model, loss, fisher)
    _, _, want = step(params, X, y, rng=np.random.default_rng(0))
    got = step.statistics(params, X, y, rng=np.random.default_rng(0))
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_allclose(got[k][0], want[k][0], rtol=1e-13)
        np.testing.assert_allclose(got[k][1], want[k][1], rtol=1e-13, atol=1e-15)
