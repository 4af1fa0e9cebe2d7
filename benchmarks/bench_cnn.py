"""W10: one SGD step of a small CNN (batch 64, 28x28x1, float32) vs the im2col NumPy floor.

conv 3x3 (8) -> ReLU -> max-pool 2 -> conv 3x3 (16) -> ReLU -> max-pool 2 -> linear (10),
softmax cross-entropy. The floor is the step written by hand the way a NumPy expert writes
it: im2col as a strided view and one matrix product per convolution, max-pooling as the
maximum of the kernel offsets' views with its mask kept for the backward (ties are not split:
after a ReLU they sit where its derivative is zero), col2im as one strided add per offset.
"""
import numpy as np

from gradkit import nn
from bench_nn import gradkit_step  # the same W2 step: value_and_grad, then sgd at LR
from harness import peers, report, side_by_side

PEERS = peers()
LR = 0.01
N = 64


def setup():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, N)
    model = nn.Sequential([nn.Conv2d(8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Conv2d(16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(10)])
    params, state = model.init(rng, (1, 28, 28), dtype=np.float32)
    return model, params, state, X, y


def im2col(x, k=3, pad=1):
    """``(N, C, H, W) -> (N*H*W, C*k*k)`` for a stride-1 'same' convolution."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    s0, s1, s2, s3 = xp.strides
    win = np.lib.stride_tricks.as_strided(xp, (n, h, w, c, k, k), (s0, s2, s3, s1, s2, s3),
                                          writeable=False)
    return win.reshape(n * h * w, c * k * k)


def col2im(dcols, x_shape, k=3, pad=1):
    n, c, h, w = x_shape
    dwin = dcols.reshape(n, h, w, c, k, k)
    out = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dcols.dtype)
    for a in range(k):
        for b in range(k):
            out[:, :, a:a + h, b:b + w] += dwin[..., a, b].transpose(0, 3, 1, 2)
    return out[:, :, pad:pad + h, pad:pad + w]


def conv(x, W, b):
    n, _, h, w = x.shape
    cols = im2col(x)
    z = cols @ W.reshape(W.shape[0], -1).T + b
    return cols, z.reshape(n, h, w, -1).transpose(0, 3, 1, 2)


def pool(h):
    """2x2 max-pooling: the maximum of the four offsets' strided views (NumPy's max over the
    two short axes of the 6-D reshape measured 20-40x slower), and its mask for the backward."""
    n, c, hh, ww = h.shape
    r = h.reshape(n, c, hh // 2, 2, ww // 2, 2)
    p = np.maximum(np.maximum(r[:, :, :, 0, :, 0], r[:, :, :, 0, :, 1]),
                   np.maximum(r[:, :, :, 1, :, 0], r[:, :, :, 1, :, 1]))
    return p, r == p[:, :, :, None, :, None]


def unpool(dp, mask, shape):
    """The cotangent to each 2x2 window's maxima, one offset at a time (one broadcast product
    over the 6-D mask measured several times slower)."""
    out = np.empty(mask.shape, dp.dtype)
    for a in range(2):
        for b in range(2):
            np.multiply(mask[:, :, :, a, :, b], dp, out=out[:, :, :, a, :, b])
    return out.reshape(shape)


def conv_back(dz, cols, W, x_shape, need_dx):
    o = W.shape[0]
    dzr = dz.transpose(0, 2, 3, 1).reshape(-1, o)
    dW = (dzr.T @ cols).reshape(W.shape)
    db = dzr.sum(axis=0)
    dx = col2im(dzr @ W.reshape(o, -1), x_shape) if need_dx else None
    return dW, db, dx


def numpy_step(p, X, y):
    W1, b1 = p["00_conv2d"]["W"], p["00_conv2d"]["b"]
    W2, b2 = p["03_conv2d"]["W"], p["03_conv2d"]["b"]
    W3, b3 = p["07_linear"]["W"], p["07_linear"]["b"]
    cols1, z1 = conv(X, W1, b1)
    h1 = np.maximum(z1, 0.0)
    p1, m1 = pool(h1)
    cols2, z2 = conv(p1, W2, b2)
    h2 = np.maximum(z2, 0.0)
    p2, m2 = pool(h2)
    f = p2.reshape(N, -1)
    z3 = f @ W3 + b3
    e = np.exp(z3 - z3.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    rows = np.arange(N)
    loss = -np.mean(np.log(s[rows, y]))
    g3 = s
    g3[rows, y] -= 1.0
    g3 /= N
    dW3, db3 = f.T @ g3, g3.sum(axis=0)
    dz2 = unpool((g3 @ W3.T).reshape(p2.shape), m2, h2.shape) * (z2 > 0)
    dW2, db2, dp1 = conv_back(dz2, cols2, W2, p1.shape, True)
    dz1 = unpool(dp1, m1, h1.shape) * (z1 > 0)
    dW1, db1, _ = conv_back(dz1, cols1, W1, X.shape, False)
    grads = {"00_conv2d": {"W": dW1, "b": db1}, "03_conv2d": {"W": dW2, "b": db2},
             "07_linear": {"W": dW3, "b": db3}}
    return {k: {n_: p[k][n_] - LR * grads[k][n_] for n_ in grads[k]} for k in grads}, loss


def main(target=1.2):
    model, params, state, X, y = setup()
    gk_step = gradkit_step(model, params, state, X, y)
    new, loss = gk_step()
    ref, ref_loss = numpy_step(params, X, y)
    assert np.allclose(loss, ref_loss, rtol=1e-4)
    for k in ref:
        for n_ in ref[k]:
            assert new[k][n_].dtype == np.float32, (k, n_, new[k][n_].dtype)
            assert np.allclose(new[k][n_], ref[k][n_], atol=1e-5), (k, n_)
    rows = [("numpy (im2col, by hand)", lambda: numpy_step(params, X, y)),
            ("gradkit", gk_step)]
    if "torch" in PEERS:
        torch = PEERS["torch"]
        F = torch.nn.functional
        tp = {k: {n_: torch.tensor(v, requires_grad=True) for n_, v in d.items()}
              for k, d in params.items()}
        tX, ty = torch.tensor(X), torch.tensor(y)

        def torch_step():
            h = F.max_pool2d(F.relu(F.conv2d(tX, tp["00_conv2d"]["W"], tp["00_conv2d"]["b"],
                                             padding=1)), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, tp["03_conv2d"]["W"], tp["03_conv2d"]["b"],
                                             padding=1)), 2)
            z = h.reshape(N, -1) @ tp["07_linear"]["W"] + tp["07_linear"]["b"]
            leaves = [t for d in tp.values() for t in d.values()]
            grads = torch.autograd.grad(F.cross_entropy(z, ty), leaves)
            with torch.no_grad():
                return [t - LR * g for t, g in zip(leaves, grads)]
        rows.append(("torch eager", torch_step))
    return report("W10: SGD step, small CNN, batch 64, 28x28x1 (float32)",
                  side_by_side(rows, min_time=1.0), target)


if __name__ == "__main__":
    main()
