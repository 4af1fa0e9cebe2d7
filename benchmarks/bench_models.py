"""Estimator fit time against the matching scikit-learn estimator on digits and breast_cancer.

Run: ``python benchmarks/bench_models.py``. Both libraries fit the same standardized data with
their default settings (the MLPs for the same number of epochs) in one process; each time is
the median of a few fits and the ratio is gradkit / scikit-learn (below 1: gradkit is faster).
"""
from __future__ import annotations

import statistics
import sys
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import sklearn.linear_model as sk_linear
import sklearn.neural_network as sk_nn
import sklearn.svm as sk_svm

import gradkit.models as gm

PAIRS = [  # (name, gradkit factory, scikit-learn factory)
    ("LogisticRegression", gm.LogisticRegression, sk_linear.LogisticRegression),
    ("LinearSVM / LinearSVC", gm.LinearSVM, sk_svm.LinearSVC),
    ("MLPClassifier (50 epochs)",
     lambda: gm.MLPClassifier(max_iter=50, random_state=0),
     lambda: sk_nn.MLPClassifier(max_iter=50, random_state=0)),
    ("SGD logistic (batch 32, 20 epochs)",
     lambda: gm.LogisticRegression(optimizer="sgd", batch_size=32, max_iter=20, random_state=0),
     lambda: sk_linear.SGDClassifier(loss="log_loss", max_iter=20, tol=None, random_state=0)),
]


def _median_fit(make, X, y, repeat):
    times, score = [], None
    for _ in range(repeat):
        model = make()
        t = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t)
        score = model.score(X, y)
    return statistics.median(times), score


def main(repeat=3):
    from threadpoolctl import threadpool_limits
    rows = []
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for data in ("digits", "breast_cancer"):
            X, y = getattr(datasets, f"load_{data}")(return_X_y=True)
            X = StandardScaler().fit_transform(X)
            print(f"\n{data} ({X.shape[0]} x {X.shape[1]}, {len(np.unique(y))} classes)")
            print(f"  {'estimator':<36s} {'gradkit':>10s} {'sklearn':>10s} {'ratio':>7s}"
                  f"   train accuracy gk / sk")
            for name, ours, theirs in PAIRS:
                t_gk, s_gk = _median_fit(ours, X, y, repeat)
                t_sk, s_sk = _median_fit(theirs, X, y, repeat)
                rows.append((data, name, t_gk, t_sk))
                print(f"  {name:<36s} {t_gk * 1e3:8.1f}ms {t_sk * 1e3:8.1f}ms "
                      f"{t_gk / t_sk:6.2f}x   {s_gk:.3f} / {s_sk:.3f}")
    return rows


if __name__ == "__main__":
    main(repeat=int(sys.argv[1]) if len(sys.argv) > 1 else 3)
