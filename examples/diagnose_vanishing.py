"""
Diagnose vanishing gradients in a deep sigmoid network
======================================================

A deep sigmoid network trained by your own loop.

A 10-layer sigmoid MLP initialised with N(0, 0.01^2) weights is trained for a few steps with
``gk.value_and_grad`` and ``gradkit.optim.sgd``; a ``GradientMonitor`` records the gradient
norm of every layer. Its findings name the layers whose gradients vanish and from which step,
with a remedy. The same network with ReLU and He initialization has no such finding.

    python examples/diagnose_vanishing.py [--steps 20] [--plot gradient_flow.png]
"""
import argparse

import numpy as np

import gradkit as gk
from gradkit.diagnostics import GradientMonitor
from gradkit.optim.transforms import apply_updates, sgd
from gradkit.plot import gradient_flow


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    return np.maximum(z, 0.0)


def init_mlp(rng, sizes, std):
    """Layer ``i`` is the group ``"{i:02d}_linear"``: gradient norms are reported per layer."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        s = std(n_in) if callable(std) else std
        params[f"{i:02d}_linear"] = {"w": rng.normal(0.0, s, (n_in, n_out)), "b": np.zeros(n_out)}
    return params


def mlp(params, X, activation):
    layers = list(params.values())
    h = X
    for i, layer in enumerate(layers):
        z = h @ layer["w"] + layer["b"]
        h = activation(z) if i < len(layers) - 1 else z
    return h


def train(activation, std, steps=20, learning_rate=0.1, depth=10, width=32, seed=0):
    """Train by hand and return the monitor."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(128, 8))
    y = np.sin(X[:, :1]) + X[:, 1:2]
    params = init_mlp(rng, [8] + [width] * (depth - 1) + [1], std)
    value_and_grad = gk.value_and_grad(lambda p: np.mean((mlp(p, X, activation) - y) ** 2))
    opt = sgd(learning_rate)
    state = opt.init(params)
    monitor = GradientMonitor()
    for step in range(steps):
        loss, grads = value_and_grad(params)
        updates, state = opt.update(grads, state, params)
        if not monitor.record(step, loss, grads, params, updates=updates,
                              learning_rate=learning_rate):
            break
        params = apply_updates(params, updates)
    return monitor


def main(argv=None):
    # sphinx-gallery runs the script without its docstring, so __doc__ may be None there.
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--plot", help="save the gradient flow figure to this PNG file")
    args = parser.parse_args(argv)

    monitor = train(sigmoid, 0.01, steps=args.steps)
    print("10-layer sigmoid MLP, N(0, 0.01^2) initialization:")
    for finding in monitor.findings():
        print(" ", finding)
    figure = gradient_flow(monitor.history)  # gradient norm per layer, findings marked
    if args.plot:
        figure.savefig(args.plot)
        print("gradient flow saved to", args.plot)

    fixed = train(relu, lambda n_in: np.sqrt(2.0 / n_in), steps=args.steps, learning_rate=0.01)
    vanishing = [f for f in fixed.findings() if f.kind == "vanishing"]
    print("ReLU + He initialization:",
          "no vanishing gradients." if not vanishing else f"{len(vanishing)} vanishing layers.")
    return figure


if __name__ == "__main__":
    figure = main()  # the documentation's gallery shows this figure
