"""W2: one SGD step of a 784-256-256-10 ReLU MLP with softmax cross-entropy (float32, batch 128)."""
import numpy as np

import gradkit as gk
import gradkit.optim as optim
from gradkit import nn
from harness import first_call, peers, report, side_by_side

PEERS = peers()
LR = 0.01


def setup():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    model = nn.Sequential([nn.Linear(256), nn.ReLU(), nn.Linear(256), nn.ReLU(), nn.Linear(10)])
    params, state = model.init(rng, (784,))
    params = gk.tree.tree_map(lambda p: p.astype(np.float32), params)
    return model, params, state, X, y


def numpy_step(p, X, y, xp=np):
    """Forward, backward and update written by hand (``xp``: NumPy, or CuPy for the GPU run)."""
    W1, b1 = p["00_linear"]["W"], p["00_linear"]["b"]
    W2, b2 = p["02_linear"]["W"], p["02_linear"]["b"]
    W3, b3 = p["04_linear"]["W"], p["04_linear"]["b"]
    z1 = X @ W1 + b1; h1 = xp.maximum(z1, 0.0)
    z2 = h1 @ W2 + b2; h2 = xp.maximum(z2, 0.0)
    z3 = h2 @ W3 + b3
    e = xp.exp(z3 - z3.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    n = X.shape[0]
    rows = xp.arange(n)
    loss = -xp.mean(xp.log(s[rows, y]))
    g3 = s.copy()
    g3[rows, y] -= 1.0
    g3 /= n
    gh2 = (g3 @ W3.T) * (z2 > 0)
    gh1 = (gh2 @ W2.T) * (z1 > 0)
    grads = {"00_linear": {"W": X.T @ gh1, "b": gh1.sum(0)},
             "02_linear": {"W": h1.T @ gh2, "b": gh2.sum(0)},
             "04_linear": {"W": h2.T @ g3, "b": g3.sum(0)}}
    new = {k: {n_: p[k][n_] - LR * grads[k][n_] for n_ in p[k]} for k in p}
    return new, loss


def gradkit_step(model, params, state, X, y):
    """The W2 step with gradkit: ``gk.value_and_grad`` of the model's loss, then ``sgd``."""
    def loss_fn(p, X, y):
        logits, _ = model.apply(p, state, X)
        return nn.losses.cross_entropy(logits, y)

    vg = gk.value_and_grad(loss_fn)
    opt = optim.sgd(LR)
    opt_state = opt.init(params)

    def step():
        loss, g = vg(params, X, y)
        updates, _ = opt.update(g, opt_state, params)
        return optim.apply_updates(params, updates), loss
    return step


def gradkit_jit_step(model, params, state):
    """The same step compiled with ``gk.jit``: a function of (params, X, y)."""
    def loss_fn(p, X, y):
        logits, _ = model.apply(p, state, X)
        return nn.losses.cross_entropy(logits, y)

    vg = gk.value_and_grad(loss_fn)
    opt = optim.sgd(LR)
    opt_state = opt.init(params)

    @gk.jit
    def step(params, X, y):
        loss, g = vg(params, X, y)
        updates, _ = opt.update(g, opt_state, params)
        return optim.apply_updates(params, updates), loss
    return step


def torch_step(torch, tp, tX, ty):
    """The W2 step in torch eager: tp = [W1, b1, W2, b2, W3, b3] tensors with grad."""
    h = torch.relu(tX @ tp[0] + tp[1])
    h = torch.relu(h @ tp[2] + tp[3])
    loss = torch.nn.functional.cross_entropy(h @ tp[4] + tp[5], ty)
    grads = torch.autograd.grad(loss, tp)
    with torch.no_grad():
        return [p - LR * g for p, g in zip(tp, grads)]


def main():
    model, params, state, X, y = setup()
    gk_step = gradkit_step(model, params, state, X, y)
    new, loss = gk_step()
    ref, ref_loss = numpy_step(params, X, y)
    assert np.allclose(loss, ref_loss, rtol=1e-4)
    for k in ref:
        for n_ in ref[k]:
            assert new[k][n_].dtype == np.float32
            assert np.allclose(new[k][n_], ref[k][n_], atol=1e-5), (k, n_)
    jit_step = gradkit_jit_step(model, params, state)
    jnew, jloss = jit_step(params, X, y)
    jnew, jloss = jit_step(params, X, y)  # (the replay)
    assert jloss == loss and all(np.array_equal(jnew[k][n_], new[k][n_])
                                 for k in new for n_ in new[k])
    rows = [("numpy (hand-written)", lambda: numpy_step(params, X, y)),
            ("gradkit", gk_step),
            ("gradkit jit", lambda: jit_step(params, X, y))]
    if "torch" in PEERS:
        torch = PEERS["torch"]
        tp = [torch.tensor(params[k][n_], requires_grad=True)
              for k in sorted(params) for n_ in ("W", "b")]
        tX, ty = torch.tensor(X), torch.tensor(y)

        rows.append(("torch eager", lambda: torch_step(torch, tp, tX, ty)))
    if "autograd" in PEERS:
        import autograd
        import autograd.numpy as anp

        def ag_loss(p, X, y):
            h = anp.maximum(X @ p["00_linear"]["W"] + p["00_linear"]["b"], 0.0)
            h = anp.maximum(h @ p["02_linear"]["W"] + p["02_linear"]["b"], 0.0)
            z = h @ p["04_linear"]["W"] + p["04_linear"]["b"]
            z = z - anp.max(z, axis=1, keepdims=True)
            logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
            return -anp.mean(logp[anp.arange(X.shape[0]), y])
        agvg = autograd.value_and_grad(ag_loss)

        def ag_step():
            loss, g = agvg(params, X, y)
            return {k: {n_: params[k][n_] - LR * g[k][n_] for n_ in params[k]} for k in params}
        rows.append(("HIPS autograd", ag_step))
    report("W2: SGD step, 784-256-256-10 ReLU MLP, batch 128 (float32)",
           side_by_side(rows, min_time=1.0), 1.05, 1.0,
           first_call(lambda: gradkit_jit_step(model, params, state)(params, X, y)))


if __name__ == "__main__":
    main()
