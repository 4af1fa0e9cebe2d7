"""
Your own training loop
======================

A plain NumPy model, gradkit gradients, an optax-style optimizer, and the gradient monitor
watching every step.

A 3-layer tanh network learns the digits data set with mini-batches; the monitor records the
gradient norm of each layer, and ``diagnose`` names any problem it sees, with a remedy.
The figure is :func:`gradkit.plot.training` of the monitor's history: the loss of every
mini-batch and its trend against epochs, and below it the learning rate of the cosine
schedule. Run: ``python examples/training_loop.py``.
"""
import numpy as np
from sklearn.datasets import load_digits

import gradkit as gk
import gradkit.optim as optim
from gradkit.data import batches
from gradkit.diagnostics import GradientMonitor, diagnose
from gradkit.nn import init, losses
from gradkit.plot import training

digits = load_digits()
X = (digits.data / 16.0).astype(np.float32)
y = digits.target
rng = np.random.default_rng(0)
sizes = [64, 64, 32, 10]
params = {f"layer{i}": {"W": init.glorot_uniform(rng, (a, b), dtype=np.float32),
                        "b": np.zeros(b, np.float32)}
          for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))}


def forward(params, X):
    h = X
    for i in range(len(sizes) - 1):
        h = h @ params[f"layer{i}"]["W"] + params[f"layer{i}"]["b"]
        if i < len(sizes) - 2:
            h = np.tanh(h)
    return h


def loss_fn(params, X, y):
    return losses.cross_entropy(forward(params, X), y)


steps_per_epoch = int(np.ceil(len(X) / 64))
opt = optim.chain(optim.clip_by_global_norm(1.0),
                  optim.adam(optim.cosine_decay_schedule(0.01, 15 * steps_per_epoch)))
state = opt.init(params)
monitor = GradientMonitor()
value_and_grad = gk.value_and_grad(loss_fn)
step = 0
for epoch in range(15):
    for Xb, yb in batches(X, y, batch_size=64, rng=rng):
        loss, grads = value_and_grad(params, Xb, yb)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        monitor.record(step, loss=float(loss), grads=grads, params=params, updates=updates,
                       learning_rate=optim.current_learning_rate(state))
        step += 1
    if epoch % 5 == 4:
        accuracy = np.mean(np.argmax(forward(params, X), axis=1) == y)
        print(f"epoch {epoch + 1:2d}: loss {float(loss_fn(params, X, y)):.4f}, "
              f"training accuracy {accuracy:.3f}")

last = {layer: norms[-1] for layer, norms in monitor.history["grad_norm"].items()}
print("last gradient norm per layer:", {k: f"{v:.2e}" for k, v in last.items()})
findings = diagnose(monitor.history)
print("findings:", [f.kind for f in findings] or "none")

# the training curve: loss per mini-batch against epochs, and the learning rate below it
figure = training(monitor.history, steps_per_epoch=steps_per_epoch,
                  title="3-layer tanh MLP on digits, mini-batch Adam")
