"""K-FAC benchmark: steps and wall time to a target training loss on an MLP (digits), K-FAC
(gradkit.nn.kfac) against SGD with momentum and Adam, side by side.

Run: ``python benchmarks/bench_kfac.py`` with one BLAS thread
(``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1``; a few minutes on one core).

The workload: all 1797 digits (pixels scaled to [0, 1]), an MLP 64-100-100-10 (ReLU, Glorot
uniform), the mean softmax cross-entropy, mini-batches of 128 drawn by one shuffle per epoch
(full batches only), no penalty. Each run starts from the same initialization and batch order
as the others of its seed and stops when the cross-entropy on all 1797 images (checked after
every step) is below the last of ``TARGETS``, after ``MAX_STEPS``, or when that loss is above
``DIVERGED``; the steps and seconds at which it first went below each target are recorded.

K-FAC (:func:`gradkit.nn.kfac.kfac`, damping 1e-2, the factors' running average with decay
0.95) runs as the estimators run it: the step's own gradient, and the factors' statistics
(``capture(...).statistics``) computed only at the steps that update the factors. Four
variants: the expected Fisher (its factor G from the 10 classes' pullbacks, done as one
pullback of the batch repeated 10 times), Martens & Grosse's sampled Fisher (one pullback,
targets drawn from the model), the sampled one with its inverses recomputed every 5 steps,
and the sampled one with factors and inverses updated every 5 steps (the statistics then cost
one step in 5). Every 10 steps, tried first, reached the targets only at the smallest rate.
Each optimizer gets three learning rates, a factor of about 3 apart, around its usual value;
the tables show every rate, and the summary each optimizer's best rate per target (fewest
median steps among the rates that reached it on every seed).

Wall time is the time of the training steps alone (the gradient, K-FAC's statistics and
inverses, the update); the full-data loss checks after each step are left out, as they are the
same work for every optimizer. The optimizers take turns within each seed (the harness's
rule), so a slow spell of the machine falls on all of them. Medians and ranges are over the
seeds.
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

TARGETS, MAX_STEPS, BATCH, SEEDS = (0.1, 0.02, 0.005), 1000, 128, range(5)
DIVERGED = 100.0  # a training loss above this (the start is about 2.3) ends a run
OPTIMIZERS = {  # name -> (make(rate), the rates tried, K-FAC's Fisher or None)
    "sgd momentum 0.9": (lambda r: sgd(r, momentum=0.9), (0.1, 0.3, 1.0), None),
    "adam": (lambda r: adam(r), (0.01, 0.03, 0.1), None),
    "kfac expected": (lambda r: kfac(r, damping=1e-2), (0.03, 0.1, 0.3), "expected"),
    "kfac sampled": (lambda r: kfac(r, damping=1e-2), (0.03, 0.1, 0.3), "sampled"),
    "kfac sampled, inverses every 5": (lambda r: kfac(r, damping=1e-2, inverse_every=5),
                                       (0.03, 0.1, 0.3), "sampled"),
    "kfac sampled, every 5": (lambda r: kfac(r, damping=1e-2, factor_every=5,
                                             inverse_every=5), (0.03, 0.1, 0.3), "sampled"),
}


def _model():
    return Sequential([Linear(100), ReLU(), Linear(100), ReLU(), Linear(10)])


def run(X, y, name, rate, seed):
    """``{target: (steps, seconds of training steps) or None}`` of one run."""
    make, _, fisher = OPTIMIZERS[name]
    model = _model()
    params, _ = model.init(np.random.default_rng(seed), (64,))
    tx = make(rate)
    state = tx.init(params)
    order = np.random.default_rng(seed + 1000)
    fisher_stats = None if fisher is None else capture(model, "cross_entropy", fisher).statistics
    draws = np.random.default_rng(seed + 2000)  # the sampled Fisher's targets

    def loss(p, xb, yb):
        return losses.cross_entropy(model.apply(p, {}, xb)[0], yb)
    vg = gk.value_and_grad(loss)
    reached = {t: None for t in TARGETS}
    seconds, steps = 0.0, 0
    while steps < MAX_STEPS:
        idx = order.permutation(len(X))
        for start in range(0, len(X) - BATCH + 1, BATCH):  # full batches only
            xb, yb = X[idx[start:start + BATCH]], y[idx[start:start + BATCH]]
            t0 = time.perf_counter()
            _, g = vg(params, xb, yb)
            if fisher_stats is not None:
                # (the statistics as a function: with factor_every the update calls it only
                # at the steps that update the factors, as the estimators do)
                updates, state = tx.update(
                    g, state, params, kfac_stats=lambda: fisher_stats(params, xb, yb, draws))
            else:
                updates, state = tx.update(g, state, params)
            params = apply_updates(params, updates)
            seconds += time.perf_counter() - t0
            steps += 1
            full = float(losses.cross_entropy(model.apply(params, {}, X)[0], y))
            if not full < DIVERGED:  # (NaN included) a diverged run reaches nothing more
                return reached
            for t in TARGETS:
                if full < t and reached[t] is None:
                    reached[t] = (steps, seconds)
            if reached[min(TARGETS)] is not None or steps >= MAX_STEPS:
                return reached
    return reached


def _cell(values, fmt):
    done = [v for v in values if v is not None]
    if len(done) < len(values):
        return f"{len(values) - len(done)}/{len(values)} not reached"
    return f"{fmt(statistics.median(done))} [{fmt(min(done))}-{fmt(max(done))}]"


def main(seeds=SEEDS):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    results = {(n, r): [] for n, (_, rates, _) in OPTIMIZERS.items() for r in rates}
    start = time.perf_counter()
    for seed in seeds:  # the optimizers take turns within each seed
        for name, rate in results:
            results[name, rate].append(run(X, y, name, rate, seed))
    print(f"digits (1797 images), MLP 64-100-100-10 ReLU, batches of {BATCH}, at most "
          f"{MAX_STEPS} steps: steps and wall time (s) to a training cross-entropy (all "
          f"images) below each target; median [min-max] over seeds {list(seeds)} "
          f"({time.perf_counter() - start:.0f} s in all)")
    for part, fmt in (("steps", lambda v: f"{v:.0f}"), ("seconds", lambda v: f"{v:.2f}")):
        print(f"  {part:<30}{'rate':>6}" + "".join(f"{f'< {t:g}':>24}" for t in TARGETS))
        for (name, rate), runs in results.items():
            cells = []
            for t in TARGETS:
                got = [r[t] for r in runs]
                cells.append(_cell([None if g is None else g[0 if part == "steps" else 1]
                                    for g in got], fmt))
            print(f"  {name:<30}{rate:>6g}" + "".join(f"{c:>24}" for c in cells))
    print("  each optimizer at its best rate for each target (fewest median steps, all seeds "
          "reaching it): steps, seconds")
    for name in OPTIMIZERS:
        cells = []
        for t in TARGETS:
            best = None
            for (n, rate), runs in results.items():
                got = [r[t] for r in runs]
                if n != name or any(g is None for g in got):
                    continue
                med = (statistics.median(g[0] for g in got), statistics.median(g[1] for g in got))
                if best is None or med[0] < best[0]:
                    best = (*med, rate)
            cells.append("not reached" if best is None else
                         f"{best[0]:.0f}, {best[1]:.2f} s (rate {best[2]:g})")
        print(f"  {name:<36}" + "".join(f"{c:>30}" for c in cells))


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or SEEDS)
