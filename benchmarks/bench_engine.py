"""Engine workloads W1 (many small ops), W3 (small MLP step), W4 (Hessian-vector product) and
W12 (a mini-batch SGD step of a linear model, written by the user and compiled)."""
import numpy as np
from scipy.special import expit

import gradkit as gk
import gradkit.optim as optim
from harness import first_call, peers, report, side_by_side

PEERS = peers()
RESULTS = {}


# ---------------------------------------------------------------- W1: 60 ops on 16 floats
def w1_numpy_grad(x):
    """The hand-derived gradient of w1: forward keeping what backward needs, then backward."""
    y, saved = x, []
    for _ in range(10):
        a = np.sin(y); b = a * y; c = np.tanh(b); d = np.square(c); e = np.exp(d)
        saved.append((y, a, c, e))
        y = c + e
    g = np.ones_like(y)
    for y, a, c, e in reversed(saved):
        gb = (g + g * e * 2.0 * c) * (1.0 - c * c)
        g = gb * a + gb * y * np.cos(y)
    return g


def make_w1(np_):
    def w1(x):
        y = x
        for _ in range(10):
            a = np_.sin(y); b = a * y; c = np_.tanh(b); d = np_.square(c); e = np_.exp(d)
            y = c + e
        return np_.sum(y)
    return w1


def bench_w1():
    x = np.random.default_rng(0).standard_normal(16)
    g = gk.grad(make_w1(np))
    assert np.allclose(g(x), w1_numpy_grad(x))
    jg = gk.jit(g)
    assert np.array_equal(jg(x), g(x)) and np.array_equal(jg(x), g(x))
    rows = [("numpy (hand-derived)", lambda: w1_numpy_grad(x)),
            ("gradkit", lambda: g(x)),
            ("gradkit jit", lambda: jg(x))]
    if "torch" in PEERS:
        torch = PEERS["torch"]
        xt = torch.tensor(x)
        f = make_w1(torch)

        def torch_grad():
            xr = xt.clone().requires_grad_(True)
            f(xr).backward()
            return xr.grad
        assert np.allclose(torch_grad().numpy(), w1_numpy_grad(x))
        rows.append(("torch eager", torch_grad))
    if "autograd" in PEERS:
        import autograd
        import autograd.numpy as anp
        ag = autograd.grad(make_w1(anp))
        rows.append(("HIPS autograd", lambda: ag(x)))
    if "jax" in PEERS:
        import jax
        import jax.numpy as jnp
        jax_grad = jax.grad(make_w1(jnp))  # its own name: the rows' lambdas read theirs late
        rows.append(("jax (eager)", lambda: jax_grad(x).block_until_ready()))
    RESULTS["W1"] = report("W1: gradient of a 60-op chain on 16 floats (float64)",
                           side_by_side(rows), 2.1, 1.1,
                           first_call(lambda: gk.jit(gk.grad(make_w1(np)))(x)))


# ---------------------------------------------------------------- W3: 10-32-32-1 tanh MLP
def w3_setup():
    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((10, 32)) * 0.3, "b1": np.zeros(32),
              "W2": rng.standard_normal((32, 32)) * 0.2, "b2": np.zeros(32),
              "W3": rng.standard_normal((32, 1)) * 0.2, "b3": np.zeros(1)}
    return params, rng.standard_normal((32, 10)), rng.standard_normal((32, 1))


def w3_loss(p, X, y):
    h = np.tanh(X @ p["W1"] + p["b1"])
    h = np.tanh(h @ p["W2"] + p["b2"])
    return np.mean((h @ p["W3"] + p["b3"] - y) ** 2)


def w3_numpy_step(p, X, y, lr=0.01):
    h1 = np.tanh(X @ p["W1"] + p["b1"])
    h2 = np.tanh(h1 @ p["W2"] + p["b2"])
    d = h2 @ p["W3"] + p["b3"] - y
    loss = np.mean(d * d)
    go = d * (2.0 / d.size)
    gz2 = (go @ p["W3"].T) * (1.0 - h2 * h2)
    gz1 = (gz2 @ p["W2"].T) * (1.0 - h1 * h1)
    grads = {"W3": h2.T @ go, "b3": go.sum(0), "W2": h1.T @ gz2, "b2": gz2.sum(0),
             "W1": X.T @ gz1, "b1": gz1.sum(0)}
    return {k: p[k] - lr * grads[k] for k in p}, loss


def bench_w3():
    params, X, y = w3_setup()
    vg = gk.value_and_grad(w3_loss)
    opt = optim.sgd(0.01)
    state = opt.init(params)

    def gk_step():
        loss, g = vg(params, X, y)
        updates, _ = opt.update(g, state, params)
        return optim.apply_updates(params, updates), loss

    def step(params, X, y):
        loss, g = vg(params, X, y)
        updates, _ = opt.update(g, state, params)
        return optim.apply_updates(params, updates), loss
    jstep = gk.jit(step)

    new, _ = gk_step()
    ref, _ = w3_numpy_step(params, X, y)
    assert all(np.allclose(new[k], ref[k]) for k in ref)
    for _ in range(2):
        jnew, _ = jstep(params, X, y)
        assert all(np.array_equal(new[k], jnew[k]) for k in ref)
    rows = [("numpy (hand-written)", lambda: w3_numpy_step(params, X, y)),
            ("gradkit", gk_step),
            ("gradkit jit", lambda: jstep(params, X, y))]
    if "torch" in PEERS:
        torch = PEERS["torch"]
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        tX, ty = torch.tensor(X), torch.tensor(y)

        def torch_step():
            loss = w3_loss_torch(torch, tp, tX, ty)
            grads = torch.autograd.grad(loss, list(tp.values()))
            with torch.no_grad():
                return {k: v - 0.01 * g for (k, v), g in zip(tp.items(), grads)}
        rows.append(("torch eager", torch_step))
    if "autograd" in PEERS:
        import autograd
        import autograd.numpy as anp
        agvg = autograd.value_and_grad(lambda p, X, y: anp.mean(
            (anp.tanh(anp.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]) @ p["W3"]
             + p["b3"] - y) ** 2))

        def ag_step():
            loss, g = agvg(params, X, y)
            return {k: params[k] - 0.01 * g[k] for k in params}, loss
        rows.append(("HIPS autograd", ag_step))
    RESULTS["W3"] = report("W3: SGD step, 10-32-32-1 tanh MLP, batch 32 (float64)",
                           side_by_side(rows), 1.9, 1.1,
                           first_call(lambda: gk.jit(step)(params, X, y)))


def w3_loss_torch(torch, p, X, y):
    h = torch.tanh(X @ p["W1"] + p["b1"])
    h = torch.tanh(h @ p["W2"] + p["b2"])
    return torch.mean((h @ p["W3"] + p["b3"] - y) ** 2)


# ---------------------------------------------------------------- W4: Hessian-vector product
def bench_w4():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((2000, 500)) / np.sqrt(500)
    x, v = rng.standard_normal(500), rng.standard_normal(500)

    def f(x):
        return np.sum(np.log1p(np.exp(A @ x))) + 0.5 * np.sum(x * x)

    def analytic(x, v):
        s = 1.0 / (1.0 + np.exp(-(A @ x)))
        return A.T @ (s * (1.0 - s) * (A @ v)) + v

    h = gk.hvp(f)
    assert np.allclose(h(x, v), analytic(x, v))
    h_fwd = gk.hvp(f, mode="fwd-over-rev")
    jh = gk.jit(h)
    assert np.array_equal(jh(x, v), h(x, v)) and np.array_equal(jh(x, v), h(x, v))
    rows = [("numpy (analytic HVP)", lambda: analytic(x, v)),
            ("gradkit", lambda: h(x, v)),
            ("gradkit jit", lambda: jh(x, v)),
            ("gradkit, fwd-over-rev", lambda: h_fwd(x, v))]
    if "torch" in PEERS:
        torch = PEERS["torch"]
        tA, tv = torch.tensor(A), torch.tensor(v)

        def torch_hvp():
            xr = torch.tensor(x, requires_grad=True)
            fx = torch.sum(torch.log1p(torch.exp(tA @ xr))) + 0.5 * torch.sum(xr * xr)
            (g,) = torch.autograd.grad(fx, xr, create_graph=True)
            return torch.autograd.grad(g @ tv, xr)[0]
        assert np.allclose(torch_hvp().numpy(), analytic(x, v))
        rows.append(("torch eager (rev-over-rev)", torch_hvp))
    if "autograd" in PEERS:
        import autograd
        import autograd.numpy as anp
        agh = autograd.hessian_vector_product(
            lambda x: anp.sum(anp.log1p(anp.exp(anp.dot(A, x)))) + 0.5 * anp.sum(x * x))
        rows.append(("HIPS autograd", lambda: agh(x, v)))
    if "jax" in PEERS:
        import jax
        import jax.numpy as jnp
        jA = jnp.asarray(A)
        jf = lambda x: jnp.sum(jnp.log1p(jnp.exp(jA @ x))) + 0.5 * jnp.sum(x * x)  # noqa: E731
        jax_hvp = lambda x, v: jax.jvp(jax.grad(jf), (x,), (v,))[1]  # noqa: E731
        rows.append(("jax (eager)", lambda: jax_hvp(x, v).block_until_ready()))
    RESULTS["W4"] = report("W4: HVP of a logistic loss, A 2000x500 (float64)",
                           side_by_side(rows), 1.6, 1.2,
                           first_call(lambda: gk.jit(gk.hvp(f))(x, v)))


# ------------------------------------- W12: a mini-batch step of L2 logistic regression, compiled
def bench_w12(n=100_000, d=50, batch=32, lr=0.01, alpha=1e-4):
    """The step a user writes for mini-batch SGD (the engine's gradient of the loss as
    written, and the update), against the same step hand-written in NumPy with the gradient
    derived by hand and updated in place; both gather their batch from the same shuffled
    order (issue 19: the compiled step <= 1.2x)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = (X[:, :5].sum(1) + rng.standard_normal(n) > 0).astype(np.float64)
    order = rng.permutation(n)
    batches = [order[i:i + batch] for i in range(0, n - batch + 1, batch)]

    def loss(params, Xb, yb):
        z = Xb @ params["w"] + params["b"]
        return np.mean(np.logaddexp(0.0, z) - yb * z) + 0.5 * alpha * np.sum(params["w"] ** 2)

    def step(params, Xb, yb):
        g = gk.grad(loss)(params, Xb, yb)
        return {k: params[k] - lr * g[k] for k in params}

    theta, g = np.zeros(d + 1), np.empty(d + 1)

    def numpy_step(i):
        idx = batches[i % len(batches)]
        Xb, yb = X[idx], y[idx]
        r = expit(Xb @ theta[:d] + theta[d])
        r -= yb
        r /= len(idx)
        np.dot(r, Xb, out=g[:d])
        g[d] = r.sum()
        g[:d] += alpha * theta[:d]
        np.multiply(g, -lr, out=g)
        np.add(theta, g, out=theta)

    def stepper(fn):
        state = {"p": {"w": np.zeros(d), "b": np.float64(0.0)}, "i": 0}

        def one():
            idx = batches[state["i"] % len(batches)]
            state["i"] += 1
            state["p"] = fn(state["p"], X[idx], y[idx])
        return one
    jstep = gk.jit(step)
    p0 = {"w": rng.standard_normal(d), "b": np.float64(0.1)}
    Xb, yb = X[batches[0]], y[batches[0]]
    want = step(p0, Xb, yb)
    assert all(np.array_equal(jstep(p0, Xb, yb)[k], want[k]) for k in want)
    counter = iter(range(10**9))
    rows = [("numpy (hand-derived, in place)", lambda: numpy_step(next(counter))),
            ("gradkit", stepper(step)),
            ("gradkit jit", stepper(jstep))]
    RESULTS["W12"] = report(f"W12: mini-batch SGD step of L2 logistic regression, batch {batch} "
                            f"of {n}x{d} (float64, gather included)", side_by_side(rows),
                            None, 1.2, first_call(lambda: gk.jit(step)(p0, Xb, yb)))


if __name__ == "__main__":
    bench_w1()
    bench_w3()
    bench_w4()
    bench_w12()
