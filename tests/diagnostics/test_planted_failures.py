"""Failures built on purpose must be named, and the textbook remedies must make them go away.

The networks are trained by a user's own loop (``gk.value_and_grad`` + ``gradkit.optim``),
by ``gradkit.nn.Sequential``, and inside the estimators, all fed to one GradientMonitor.
"""
import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit.diagnostics import GradientMonitor, diagnose
from gradkit.optim.transforms import apply_updates, chain, clip_by_global_norm, sgd

DEPTH, WIDTH, STEPS = 10, 32, 8


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    return np.maximum(z, 0.0)


def normal(std):
    return lambda n_in, n_out: std


def he(n_in, n_out):
    return np.sqrt(2.0 / n_in)


def glorot_sigmoid(n_in, n_out):  # Glorot & Bengio's variance, times 4 for the sigmoid's slope
    return 4.0 * np.sqrt(2.0 / (n_in + n_out))


def train_by_hand(activation, std, optimizer, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(128, 8))
    y = np.sin(X[:, :1]) + X[:, 1:2]
    sizes = [8] + [WIDTH] * (DEPTH - 1) + [1]
    params = {f"{i:02d}_linear": {"w": rng.normal(0, std(a, b), (a, b)), "b": np.zeros(b)}
              for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))}

    def loss(p):
        h = X
        for i, layer in enumerate(p.values()):
            z = h @ layer["w"] + layer["b"]
            h = activation(z) if i < DEPTH - 1 else z
        return np.mean((h - y) ** 2)

    state = optimizer.init(params)
    mon = GradientMonitor()
    vg = gk.value_and_grad(loss)
    with np.errstate(all="ignore"):  # the planted explosions overflow on purpose
        for t in range(steps):
            value, grads = vg(params)
            updates, state = optimizer.update(grads, state, params)
            if not mon.record(t, value, grads, params, updates=updates):
                break
            params = apply_updates(params, updates)
    return mon


def kinds(mon):
    return {f.kind for f in mon.findings()}


def vanishing_layers(mon):
    return [f.layer for f in mon.findings() if f.kind == "vanishing"]


def test_a_deep_sigmoid_network_with_small_init_is_flagged_vanishing_in_its_first_layers():
    mon = train_by_hand(sigmoid, normal(0.01), sgd(0.1))
    layers = vanishing_layers(mon)
    assert layers[:4] == ["00_linear", "01_linear", "02_linear", "03_linear"]
    assert "09_linear" not in layers and len(layers) >= 6
    first = next(f for f in mon.findings() if f.kind == "vanishing")
    assert first.step == 0 and first.value < 1e-10
    assert "He" in first.remedy and "Glorot" in first.remedy


@pytest.mark.parametrize("activation, std", [
    (relu, he),                  # He et al. 2015: variance 2 / fan_in for ReLU
    (sigmoid, glorot_sigmoid),   # Glorot & Bengio 2010, scaled for the sigmoid
], ids=["relu-he", "sigmoid-glorot"])
def test_a_variance_preserving_initialization_removes_the_vanishing_finding(activation, std):
    mon = train_by_hand(activation, std, sgd(0.01))
    assert vanishing_layers(mon) == []


def test_a_deep_network_with_large_init_and_a_high_learning_rate_is_flagged_exploding():
    mon = train_by_hand(relu, normal(1.0), sgd(0.1))
    assert kinds(mon) & {"exploding", "nan"}
    exploding = [f for f in mon.findings() if f.kind == "exploding"]
    assert exploding and exploding[0].step == 1 and exploding[0].value > 1e10
    assert "clip" in exploding[0].remedy.lower()


@pytest.mark.parametrize("std, optimizer", [
    (normal(1.0), chain(clip_by_global_norm(1.0), sgd(0.1))),   # Pascanu et al. 2013
    (he, sgd(0.01)),                                              # He init (and a sane step)
], ids=["clipping", "he-init"])
def test_clipping_or_he_initialization_removes_the_explosion(std, optimizer):
    mon = train_by_hand(relu, std, optimizer)
    assert not kinds(mon) & {"exploding", "nan"}
    assert np.all(np.isfinite(mon.history["loss"]))


def test_the_monitor_works_on_gradkit_nn_sequential():
    nn = pytest.importorskip("gradkit.nn")
    small = lambda rng, shape, dtype=np.float64: rng.normal(0.0, 0.01, shape).astype(dtype)  # noqa: E731
    layers = []
    for _ in range(DEPTH - 1):
        layers += [nn.Linear(WIDTH, init=small), nn.Sigmoid()]
    model = nn.Sequential(layers + [nn.Linear(1, init=small)])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 8))
    y = X[:, :1]
    params, state = model.init(rng, (8,))

    def loss(p):
        return np.mean((model.apply(p, state, X)[0] - y) ** 2)

    opt = sgd(0.1)
    opt_state = opt.init(params)
    mon = GradientMonitor()
    for t in range(4):
        value, grads = gk.value_and_grad(loss)(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        mon.record(t, value, grads, params, updates=updates)
        params = apply_updates(params, updates)
    layers = vanishing_layers(mon)
    assert list(mon.history["grad_norm"])[0] == layers[0] == "00_linear"
    assert list(mon.history["grad_norm"])[-1] not in layers


def test_the_estimators_history_is_diagnosed_by_the_same_code():
    models = pytest.importorskip("gradkit.models")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in 20 steps: fine here
        est = models.LogisticRegression(optimizer="sgd", learning_rate=0.1, max_iter=20).fit(X, y)
    h = est.history_
    assert {"step", "loss", "grad_norm", "update_ratio"} <= set(h)
    assert all(len(v) == len(h["step"]) for v in h["grad_norm"].values())
    assert isinstance(diagnose(h), list)
    w = np.array([1.0, 2.0, 3.0])
    diverging = models.LinearRegression(optimizer="sgd", learning_rate=0.1, max_iter=20)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diverging.fit(X * 10, X @ w)  # unscaled features: the step is far beyond 2 / L
    found = {(f.kind, f.layer) for f in diagnose(diverging.history_)}
    assert ("exploding", "coef") in found and ("divergence", None) in found
