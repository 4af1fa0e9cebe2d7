"""K-FAC benchmark: steps and wall time to a target training loss on an MLP (digits), K-FAC
(gradkit.nn.kfac) against SGD with momentum and Adam, side by side.

Run: ``python benchmarks/bench_kfac.py`` with one BLAS thread
(``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1``; a few minutes on one core).

The workload: all 1797 digits (pixels scaled to [0, 1]), an MLP 64-100-100-10 (ReLU, Glorot
uniform), the mean softmax cross-entropy, mini-batches of 128 drawn by one shuffle per epoch,
no penalty. K-FAC (damping 1e-2, the factors' running average with decay 0.95, the inverses
every step) runs with the expected Fisher (the factor G from one backward pass per class: 10)
and with Martens & Grosse's sampled one (one pass, targets drawn from the model). Each
optimizer runs from the same initialization and batch order as the others
(per seed), until the cross-entropy on all 1797 images is below ``TARGET`` (checked after
every step) or ``MAX_STEPS``. Each optimizer gets the same number of learning rates (a grid of
three, a factor of about 3 apart, around the usual value); the table shows every rate, and
the summary each optimizer's best rate (fewest median steps).

Wall time is the time of the training steps alone (the gradient, K-FAC's factor statistics
and inverses, the update); the full-data loss checks after each step are left out, as they
are the same work for every optimizer. The optimizers take turns within each seed (the
harness's rule), so a slow spell of the machine falls on all of them. Medians and ranges are
over the seeds.
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np
from sklearn.datasets import load_digits

import gradkit as gk
from gradkit.nn import Linear, ReLU, Sequential, losses
from gradkit.nn.kfac import capture, kfac
from gradkit.optim import adam, apply_updates, sgd

TARGET, MAX_STEPS, BATCH, SEEDS = 0.02, 1000, 128, range(5)
OPTIMIZERS = {  # name -> (make(rate), the rates tried, K-FAC's Fisher or None)
    "sgd momentum 0.9": (lambda r: sgd(r, momentum=0.9), (0.1, 0.3, 1.0), None),
    "adam": (lambda r: adam(r), (3e-3, 1e-2, 3e-2), None),
    "kfac expected": (lambda r: kfac(r, damping=1e-2), (0.03, 0.1, 0.3), "expected"),
    "kfac sampled": (lambda r: kfac(r, damping=1e-2), (0.03, 0.1, 0.3), "sampled"),
}


def _model():
    return Sequential([Linear(100), ReLU(), Linear(100), ReLU(), Linear(10)])


def run(X, y, name, rate, seed):
    """(steps to the target or None, seconds of training steps) of one run."""
    make, _, fisher = OPTIMIZERS[name]
    model = _model()
    params, _ = model.init(np.random.default_rng(seed), (64,))
    tx = make(rate)
    state = tx.init(params)
    order = np.random.default_rng(seed + 1000)
    step = None if fisher is None else capture(model, "cross_entropy", fisher)
    draws = np.random.default_rng(seed + 2000)  # the sampled Fisher's targets

    def loss(p, xb, yb):
        return losses.cross_entropy(model.apply(p, {}, xb)[0], yb)
    vg = gk.value_and_grad(loss)
    seconds, steps = 0.0, 0
    while steps < MAX_STEPS:
        idx = order.permutation(len(X))
        for start in range(0, len(X) - BATCH + 1, BATCH):  # full batches only
            xb, yb = X[idx[start:start + BATCH]], y[idx[start:start + BATCH]]
            t0 = time.perf_counter()
            if step is not None:
                _, g, stats = step(params, xb, yb, rng=draws)
                updates, state = tx.update(g, state, params, kfac_stats=stats)
            else:
                _, g = vg(params, xb, yb)
                updates, state = tx.update(g, state, params)
            params = apply_updates(params, updates)
            seconds += time.perf_counter() - t0
            steps += 1
            full = float(losses.cross_entropy(model.apply(params, {}, X)[0], y))
            if not np.isfinite(full):
                return None, seconds
            if full < TARGET:
                return steps, seconds
            if steps >= MAX_STEPS:
                break
    return None, seconds


def _cell(values, fmt):
    done = [v for v in values if v is not None]
    if len(done) < len(values):
        return f"{len(values) - len(done)} of {len(values)} not reached"
    return f"{fmt(statistics.median(done))} [{fmt(min(done))}, {fmt(max(done))}]"


def main(seeds=SEEDS):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    results = {(n, r): [] for n, (_, rates, _) in OPTIMIZERS.items() for r in rates}
    start = time.perf_counter()
    for seed in seeds:  # the optimizers take turns within each seed
        for name, rate in results:
            results[name, rate].append(run(X, y, name, rate, seed))
    print(f"digits (1797 images), MLP 64-100-100-10 ReLU, batches of {BATCH}: steps and wall "
          f"time to a training cross-entropy < {TARGET} (all images), at most {MAX_STEPS} "
          f"steps; median [min, max] over seeds {list(seeds)} "
          f"({time.perf_counter() - start:.0f} s in all)")
    print(f"  {'optimizer':<22}{'rate':>8}{'steps':>26}{'wall time (s)':>30}"
          f"{'ms per step':>14}")
    best = {}
    for (name, rate), runs in results.items():
        steps = [s for s, _ in runs]
        secs = [t if s is not None else None for s, t in runs]
        per_step = statistics.median(t / max(s, 1) for s, t in runs if s is not None) \
            if all(s is not None for s in steps) else None
        print(f"  {name:<22}{rate:>8g}{_cell(steps, lambda v: f'{v:.0f}'):>26}"
              f"{_cell(secs, lambda v: f'{v:.2f}'):>30}"
              f"{'' if per_step is None else f'{per_step * 1e3:.2f}':>14}")
        if all(s is not None for s in steps):
            key = statistics.median(steps)
            if name not in best or key < best[name][0]:
                best[name] = (key, rate, statistics.median(secs))
    print("  each optimizer at its best rate (fewest median steps):")
    for name, (s, rate, t) in best.items():
        print(f"    {name:<22} rate {rate:<6g} {s:6.0f} steps {t:8.2f} s")


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or SEEDS)
