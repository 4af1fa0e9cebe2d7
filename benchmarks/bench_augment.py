"""Augmentation benchmark: an MLP on digits trained on 20% of the training set, held-out
accuracy without and with augmentation (gradkit.data.augment), averaged over 5 seeds.

Run: ``python benchmarks/bench_augment.py`` (about a minute on one core;
``python benchmarks/bench_augment.py 100 101 102`` runs other seeds). Per seed: a stratified
70/30 split of digits (8 x 8 images, pixels scaled to [0, 1]), 20% of the training part kept
(251 images); an MLP 64-64-10 (ReLU) trained with Adam (3e-3), mini-batches of 32, the same
initialization and batch order for every variant; accuracy on the 30% held out (540 images).

The protocol: every variant gets the same budgets of epochs (50, 100, 200, 400) and is
measured at each, with nothing chosen on the held-out images (no best epoch picked per run).
Augmentation regularises, so it needs more epochs than plain training, which has fit the 251
images by epoch 50 and stays flat after; the table shows every budget so that no single one is
picked.

Digits are centred 8 x 8 images, so a whole-pixel shift is an eighth of the image and moves the
training set away from the (centred) test set: ``RandomShift(1)`` hurts here. Sub-pixel moves
with small rotations and scalings (``RandomAffine``, bilinear) are the distortions these
images do have (different hands). The settings of the variants and Adam's rate were chosen
on seeds 100-104, not on the seeds 0-4 printed by default: 3e-3 rather than 1e-2, whose last
iterates are noisy (one variant's mean over three seeds went 0.948, 0.927, 0.945 at 100, 200
and 400 epochs).
"""
from __future__ import annotations

import statistics
import sys
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import gradkit as gk
from gradkit.data.augment import Compose, GaussianNoise, Mixup, RandomAffine, RandomShift
from gradkit.nn import Linear, ReLU, Sequential, losses
from gradkit.optim import adam, apply_updates

SEEDS, BUDGETS, BATCH, FRACTION = range(5), (50, 100, 200, 400), 32, 0.2
LEARNING_RATE = 3e-3
IMG = (8, 8)
VARIANTS = {
    "none": None,
    "noise 0.1": GaussianNoise(0.1),
    "shift 1px": RandomShift(1, image_shape=IMG),
    "mixup 0.2": Mixup(0.2, num_classes=10),
    "affine 10deg 0.5px": RandomAffine(10, 0.5, image_shape=IMG),
    "affine 15deg 0.75px 0.9-1.1": RandomAffine(15, 0.75, scale=(0.9, 1.1), image_shape=IMG),
    "affine 15deg + noise 0.05": Compose(RandomAffine(15, 0.75, scale=(0.9, 1.1),
                                                      image_shape=IMG), GaussianNoise(0.05)),
}


def train(X, y, augment, seed, Xte, yte):
    """Held-out accuracy at each budget of ``BUDGETS`` of one training run."""
    model = Sequential([Linear(64), ReLU(), Linear(10)])
    params, _ = model.init(np.random.default_rng(seed), (64,))
    tx = adam(LEARNING_RATE)
    state = tx.init(params)
    order_rng, aug_rng = np.random.default_rng(seed + 100), np.random.default_rng(seed + 200)

    def loss(p, xb, yb):
        return losses.cross_entropy(model.apply(p, {}, xb)[0], yb)
    vg = gk.value_and_grad(loss)
    accuracy = {}
    for epoch in range(1, max(BUDGETS) + 1):
        idx = order_rng.permutation(len(X))
        for start in range(0, len(X), BATCH):
            xb, yb = X[idx[start:start + BATCH]], y[idx[start:start + BATCH]]
            if augment is not None:
                xb, yb = augment(xb, yb, aug_rng)
            _, g = vg(params, xb, yb)
            updates, state = tx.update(g, state, params)
            params = apply_updates(params, updates)
        if epoch in BUDGETS:
            pred = np.argmax(model.apply(params, {}, Xte)[0], axis=1)
            accuracy[epoch] = float(np.mean(pred == yte))
    return accuracy


def main(seeds=SEEDS):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    acc = {name: {b: [] for b in BUDGETS} for name in VARIANTS}
    start = time.perf_counter()
    for seed in seeds:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=seed)
        Xs, _, ys, _ = train_test_split(Xtr, ytr, train_size=FRACTION, stratify=ytr,
                                        random_state=seed)
        for name, aug in VARIANTS.items():
            for b, a in train(Xs, ys, aug, seed, Xte, yte).items():
                acc[name][b].append(a)
    print(f"digits, MLP 64-64-10, Adam {LEARNING_RATE:g}, {len(Xs)} training images "
          f"({FRACTION:.0%} of the "
          f"training set), {len(Xte)} held out, seeds {list(seeds)} "
          f"({time.perf_counter() - start:.0f} s)")
    print("held-out accuracy, mean over the seeds at the same budget of epochs for every "
          "variant; then the difference to none, mean +- standard deviation of the per-seed "
          "differences (same split, initialization and batch order)")
    print(f"  {'':<28}" + "".join(f"{f'{b} epochs':>26}" for b in BUDGETS))
    for name in VARIANTS:
        cells = []
        for b in BUDGETS:
            d = [a - n for a, n in zip(acc[name][b], acc["none"][b])]
            cell = f"{statistics.mean(acc[name][b]):.4f}"
            if name != "none":
                cell += f" {statistics.mean(d):+.3f}+-{statistics.stdev(d):.3f}"
            cells.append(cell)
        print(f"  {name:<28}" + "".join(f"{c:>26}" for c in cells))
    spread = [f"+-{statistics.stdev(acc['none'][b]):.4f}" for b in BUDGETS]
    print(f"  {'none, spread over the seeds':<28}" + "".join(f"{c:>26}" for c in spread))
    last = max(BUDGETS)
    print(f"per seed at {last} epochs (the wins and losses of each seed):")
    for name in VARIANTS:
        per = acc[name][last]
        wins = sum(a > b for a, b in zip(per, acc["none"][last]))
        print(f"  {name:<28} {' '.join(f'{v:.3f}' for v in per)}" +
              (f"   above none on {wins} of {len(per)} seeds" if name != "none" else ""))


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or SEEDS)
