"""Planted runs: healthy training gives no finding at all, and each planted failure is named,
with its layer and its step.

Healthy runs span models, optimizers, batch sizes (full, stochastic, mini-batch) and the
bundled data sets; they are diagnosed both from the estimator (whose epochs are known) and
from the bare ``history_`` dict, as the README does. The failures are planted in a user's
own loop, where the step they start at is known by construction.
"""
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

import gradkit as gk
from gradkit import models
from gradkit.data import load_dataset
from gradkit.diagnostics import GradientMonitor, diagnose
from gradkit.optim.transforms import adam, apply_updates, sgd


def data(name, rows=None):
    d = load_dataset(name)
    X = StandardScaler().fit_transform(d.X)
    y = d.y if d.task == "classification" else (d.y - d.y.mean()) / d.y.std()
    if rows is not None:
        pick = np.random.default_rng(0).permutation(len(y))[:rows]
        X, y = X[pick], y[pick]
    return X, y


HEALTHY = [
    # the README's MLP and the --help example of issue 15, as the CLI fits them
    ("digits", lambda: models.MLPClassifier(hidden_layer_sizes=64, random_state=0)),
    ("diabetes", lambda: models.LinearRegression(optimizer="sgd", batch_size=32,
                                                 random_state=0)),
    # Adam at its default rate, mini-batches of 32
    ("wine", lambda: models.MLPClassifier(hidden_layer_sizes=(32, 16), batch_size=32,
                                          max_iter=60, random_state=0)),
    ("iris", lambda: models.MLPClassifier(hidden_layer_sizes=16, learning_rate=0.01,
                                          max_iter=200, random_state=0)),
    ("breast_cancer", lambda: models.LogisticRegression(random_state=0)),      # lbfgs
    ("breast_cancer", lambda: models.LogisticRegression(optimizer="sgd", batch_size=1,
                                                        max_iter=5, random_state=0)),
    ("iris", lambda: models.LogisticRegression(optimizer="momentum", batch_size=16,
                                               learning_rate=0.05, max_iter=40,
                                               random_state=0)),
    ("digits", lambda: models.LogisticRegression(optimizer="rmsprop", batch_size=64,
                                                 learning_rate=0.003, max_iter=15,
                                                 random_state=0)),
    ("wine", lambda: models.LinearSVM(random_state=0)),
    ("diabetes", lambda: models.LinearRegression(optimizer="bfgs", random_state=0)),
    ("wine", lambda: models.LogisticRegression(optimizer="nesterov", batch_size=16,
                                               learning_rate=0.01, max_iter=30,
                                               random_state=0)),
    ("diabetes", lambda: models.MLPRegressor(hidden_layer_sizes=(16,), batch_size=32,
                                             max_iter=40, random_state=0)),
    ("breast_cancer", lambda: models.MLPClassifier(hidden_layer_sizes=(8,), optimizer="sgd",
                                                   learning_rate=0.05, batch_size=32,
                                                   max_iter=30, random_state=0)),
    ("iris", lambda: models.MLPClassifier(hidden_layer_sizes=(8, 8), activation="tanh",
                                          optimizer="adagrad", learning_rate=0.05,
                                          batch_size=8, max_iter=30, random_state=0)),
    ("diabetes", lambda: models.LinearRegression(optimizer="adam", learning_rate=0.05,
                                                 batch_size=64, max_iter=60, random_state=0)),
]


@pytest.fixture(scope="module")
def fitted():
    out = []
    for name, make in HEALTHY:
        X, y = data(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning of the short runs
            out.append(make().fit(X, y))
    return out


@pytest.mark.parametrize("i", range(len(HEALTHY)),
                         ids=[f"{n}-{m().__class__.__name__}-{i}"
                              for i, (n, m) in enumerate(HEALTHY)])
def test_a_healthy_run_has_no_finding(fitted, i):
    est = fitted[i]
    assert not est.diverged_ and len(est.history_["step"]) >= 3
    assert [str(f) for f in diagnose(est)] == []
    assert [str(f) for f in diagnose(est.history_)] == []  # without knowing the epochs


def test_the_healthy_runs_cover_models_optimizers_batch_sizes_and_data_sets(fitted):
    assert len(fitted) >= 12
    assert len({type(e).__name__ for e in fitted}) >= 5
    assert len({e.optimizer_kind()[1] if e.optimizer_kind()[0] == "minimize" else e.optimizer
                for e in fitted}) >= 8
    assert {None, 1, 32} <= {e.batch_size for e in fitted}
    assert len({name for name, _ in HEALTHY}) == 5


def test_a_healthy_loop_of_ones_own_on_mini_batches_has_no_finding():
    X, y = data("diabetes")
    rng = np.random.default_rng(0)
    params = {"hidden": {"w": rng.normal(0, 0.3, (10, 16)), "b": np.zeros(16)},
              "out": {"w": rng.normal(0, 0.25, (16, 1)), "b": np.zeros(1)}}

    def loss(p, Xb, yb):
        h = np.tanh(Xb @ p["hidden"]["w"] + p["hidden"]["b"])
        return np.mean((h @ p["out"]["w"] + p["out"]["b"] - yb[:, None]) ** 2)

    opt = sgd(0.05)
    state, mon, vg = opt.init(params), GradientMonitor(), gk.value_and_grad(loss)
    step = 0
    for epoch in range(20):
        for idx in np.array_split(rng.permutation(len(y)), 14):
            value, g = vg(params, X[idx], y[idx])
            updates, state = opt.update(g, state, params)
            mon.record(step, value, g, params, updates=updates, learning_rate=0.05)
            params = apply_updates(params, updates)
            step += 1
    assert mon.findings() == []
    assert diagnose(mon.history, steps_per_epoch=14) == []


@pytest.mark.parametrize("steps_per_epoch", [None, 10])
def test_mini_batch_noise_alone_makes_no_finding(steps_per_epoch):
    # the loss of batches around a falling curve that levels off, with noise from a tenth to
    # as large as the floor: every rule must see through it, in many draws
    rng = np.random.default_rng(0)
    t = np.arange(600)
    for scale in (0.02, 0.1, 0.3):
        for _ in range(20):
            curve = 0.3 + 2.0 * np.exp(-t / 60)
            loss = curve * np.exp(rng.normal(0, scale, t.size))
            norms = {"a": list(0.5 * np.exp(rng.normal(0, scale, t.size))),
                     "b": list(np.exp(rng.normal(0, scale, t.size)))}
            h = {"step": list(t), "loss": list(loss), "grad_norm": norms}
            assert diagnose(h, steps_per_epoch=steps_per_epoch) == []


# ----------------------------------------------------------------------------- failures
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def deep_loop(X, y, std, optimizer, steps, activation=np.tanh, depth=6, width=16, seed=0,
              epochs_of=None):
    """A user's loop on a deep network; ``epochs_of`` splits each epoch into mini-batches."""
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1]] + [width] * (depth - 1) + [1]
    params = {f"{i:02d}_linear": {"w": rng.normal(0, std(a), (a, b)), "b": np.zeros(b)}
              for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))}

    def loss(p, Xb, yb):
        h = Xb
        for i, layer in enumerate(p.values()):
            z = h @ layer["w"] + layer["b"]
            h = activation(z) if i < depth - 1 else z
        return np.mean((h[:, 0] - yb) ** 2)

    state, mon, vg = optimizer.init(params), GradientMonitor(), gk.value_and_grad(loss)
    with np.errstate(all="ignore"):
        for t in range(steps):
            if epochs_of:
                idx = np.array_split(rng.permutation(len(y)), epochs_of)[t % epochs_of]
            else:
                idx = slice(None)
            value, g = vg(params, X[idx], y[idx])
            updates, state = optimizer.update(g, state, params)
            if not mon.record(t, value, g, params, updates=updates):
                break
            params = apply_updates(params, updates)
    return mon


def found(mon, kind):
    return [f for f in mon.findings() if f.kind == kind]


def test_planted_vanishing_gradients_are_found_in_the_first_layers_from_step_0():
    X, y = data("diabetes")
    mon = deep_loop(X, y, lambda n: 0.01, sgd(0.05), 10, activation=sigmoid, depth=8)
    layers = [(f.layer, f.step) for f in found(mon, "vanishing")]
    assert layers[:3] == [("00_linear", 0), ("01_linear", 0), ("02_linear", 0)]
    assert ("07_linear", 0) not in layers
    f = found(mon, "vanishing")[0]
    assert f.value < 1e-3 and f.evidence["window"] == (0, 9) and f.evidence["threshold"] == 1e-3


def test_planted_exploding_gradients_are_found_in_their_layer_at_the_step_they_cross():
    X, y = data("diabetes", rows=128)
    mon = deep_loop(X, y, lambda n: 1.5, sgd(0.05), 12, activation=lambda z: np.maximum(z, 0))
    norms = np.asarray(mon.history["grad_norm"]["00_linear"])
    crossing = int(np.argmax(norms >= 100 * norms[0]))
    [f] = [f for f in found(mon, "exploding") if f.layer == "00_linear"]
    assert f.step == crossing > 0 and f.value >= 100
    assert f.evidence["reference norm (first step)"] == norms[0]


def test_planted_divergence_is_found_from_the_step_it_starts():
    X, y = data("diabetes")
    X = X * 10  # unscaled features: the step is far beyond 2 / L from the first one
    w = np.zeros(10)
    mon = GradientMonitor()
    vg = gk.value_and_grad(lambda w: np.mean((X @ w - y) ** 2))
    with np.errstate(all="ignore"):
        for t in range(15):
            value, g = vg(w)
            mon.record(t, value, g, w, learning_rate=0.01)
            w = w - 0.01 * g
    [f] = found(mon, "divergence")
    assert f.step == 0 and f.value > 10 and "learning rate" in f.remedy.lower()
    assert not found(mon, "learning_rate_too_high")  # the divergence says it


def test_a_planted_too_high_learning_rate_on_mini_batches_is_found_per_epoch():
    X, y = data("diabetes")
    # Adam at 0.3 on a tanh network: the loss falls in the first epochs, then the large
    # steps throw the network out to a worse loss it stays at
    mon = deep_loop(X, y, lambda n: np.sqrt(1 / n), adam(0.3), 20 * 14, depth=3, width=32,
                    epochs_of=14)
    [f] = [f for f in diagnose(mon.history, steps_per_epoch=14)
           if f.kind == "learning_rate_too_high"]
    assert f.step % 14 == 0 and 0 < f.step < 20 * 14
    assert f.evidence["judged on"].startswith("the mean loss of each epoch (14 steps)")
    assert f.evidence["loss then"] > 2 * f.evidence["best loss"]
    assert found(mon, "learning_rate_too_high")  # also without knowing the epochs
    healthy = deep_loop(X, y, lambda n: np.sqrt(1 / n), adam(0.003), 20 * 14, depth=3,
                        width=32, epochs_of=14)
    assert healthy.findings() == []


def test_a_planted_zig_zag_beyond_two_over_l_is_found():
    # curvature 2 on the right of the minimum and 8 on the left: gradient descent with a
    # step of 0.625 jumps between w = 1 and w = -0.25 for ever (1 - 2 lr)(1 - 8 lr) = 1,
    # while the second coordinate converges
    vg = gk.value_and_grad(lambda w: np.where(w[0] > 0, 1.0, 4.0) * w[0] ** 2 + 0.1 * w[1] ** 2)
    w, mon = np.array([1.0, 1.0]), GradientMonitor()
    for t in range(60):
        value, g = vg(w)
        mon.record(t, value, g, w, learning_rate=0.625)
        w = w - 0.625 * g
    [f] = found(mon, "learning_rate_too_high")
    assert f.step <= 1 and f.value >= f.evidence["run that noise reaches with chance < 1/n"]
    assert "zig-zag" in f.message


def test_a_planted_plateau_at_a_saddle_is_found_with_its_start_and_end():
    # a two-layer linear network from a tiny initialization (Saxe et al. 2014): the loss
    # stays flat near the saddle at zero, then falls once the weights have grown
    X, y = data("diabetes")
    y = X @ np.linspace(1.0, 0.1, 10)
    params = {"in": np.full((10, 1), 1e-6), "out": np.full((1,), 1e-6)}
    loss = gk.value_and_grad(lambda p: np.mean(((X @ p["in"])[:, 0] * p["out"][0] - y) ** 2))
    mon = GradientMonitor()
    opt = sgd(0.02)
    state = opt.init(params)
    for t in range(400):
        value, g = loss(params)
        updates, state = opt.update(g, state, params)
        mon.record(t, value, g, params, updates=updates, learning_rate=0.02)
        params = apply_updates(params, updates)
    losses = np.asarray(mon.history["loss"])
    falls = int(np.argmax(losses < 0.9 * losses[0]))  # where it left the saddle
    for spe in (None, 1):  # windows of 16 steps, or step by step (a full-batch run)
        [f] = [f for f in diagnose(mon.history, steps_per_epoch=spe) if f.kind == "plateau"]
        end = f.evidence["window"][1]
        assert f.step == 0 and "fell again" in f.message
        assert 30 <= end < falls and f.value >= (20 if spe else 3)
    assert not found(mon, "vanishing") and not found(mon, "learning_rate_too_high")
