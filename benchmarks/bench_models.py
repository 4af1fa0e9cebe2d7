"""Estimator fit time against scikit-learn and against a hand-written NumPy loop (issue 14).

Run: ``python benchmarks/bench_models.py [rows ...] [--only NAME ...]`` (default 1000 10000;
``--only``: the rows whose name contains one of the NAMEs), or
``python benchmarks/bench_models.py classic`` for the digits / breast_cancer table.

Every pair fits the same training split of ``make_classification`` / ``make_regression``
(50 features) in one process with one BLAS thread for every side, taking turns
(``harness.side_by_side``), so a slow spell of the machine falls on both. The ratio is
gradkit / peer (below 1: gradkit is faster), and each row prints both held-out scores (the
accuracy or R^2 on the 20% test split), which must agree within 0.005 for the ratio to
mean anything. The peers:

- ``LogisticRegression`` (lbfgs, defaults: C = 1 = 1 / alpha, tol 1e-4, 100 iterations);
- ``LogisticRegression(solver="newton-cholesky")`` for gradkit's ``optimizer="newton"``;
- ``Ridge(alpha=1)`` for ``LinearRegression(penalty="l2", alpha=1)`` (auto: one Newton
  step, which lands on the minimizer of the quadratic; and lbfgs);
- the rows of :func:`full_batch_pairs` (newton-cg, LinearSVC, scikit-learn's MLP);
- a hand-written NumPy mini-batch loop of the same model, batch 32, 5 epochs, reshuffled
  every epoch, the same optimizer (SGD or Adam) updating its arrays in place, for
  ``LogisticRegression(optimizer=..., batch_size=32, max_iter=5)``.
"""
from __future__ import annotations

import statistics
import sys
import time
import warnings

import numpy as np
from scipy.special import expit
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import sklearn.linear_model as sk_linear
import sklearn.neural_network as sk_nn
import sklearn.svm as sk_svm

import gradkit.models as gm

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from harness import side_by_side  # noqa: E402

# ------------------------------------------------------------------------- the NumPy floor


class NumpyMinibatchLogistic:
    """Binary logistic regression by mini-batch SGD or Adam, written out in NumPy: the
    objective of gradkit's estimator (mean cross-entropy of the batch + alpha / (2 n)
    ||w||^2), batches of ``batch_size`` reshuffled every epoch, updates in place."""

    def __init__(self, optimizer="sgd", learning_rate=0.01, alpha=1.0, batch_size=32,
                 epochs=5, seed=0, b1=0.9, b2=0.999, eps=1e-8):
        self.optimizer, self.lr, self.alpha = optimizer, learning_rate, alpha
        self.batch_size, self.epochs, self.seed = batch_size, epochs, seed
        self.b1, self.b2, self.eps = b1, b2, eps

    def fit(self, X, y):
        n, d = X.shape
        rng = np.random.default_rng(self.seed)
        theta = np.zeros(d + 1)  # [w; b] in one array, updated in place
        g = np.empty(d + 1)
        m, v, tmp = np.zeros(d + 1), np.zeros(d + 1), np.empty(d + 1)
        ridge = self.alpha / n
        lr, b1, b2, eps, t = self.lr, self.b1, self.b2, self.eps, 0
        yf = y.astype(np.float64)
        for _ in range(self.epochs):
            order = rng.permutation(n)
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                Xb, yb = X[idx], yf[idx]
                r = expit(Xb @ theta[:d] + theta[d])
                r -= yb
                r /= len(idx)
                np.dot(r, Xb, out=g[:d])
                g[d] = r.sum()
                g[:d] += ridge * theta[:d]
                if self.optimizer == "sgd":
                    g *= -lr
                    theta += g
                else:  # Adam, the update of gradkit.optim.adam
                    t += 1
                    m *= b1
                    m += (1 - b1) * g
                    v *= b2
                    np.multiply(g, g, out=tmp)
                    tmp *= 1 - b2
                    v += tmp
                    np.multiply(v, 1 / (1 - b2 ** t), out=tmp)
                    np.sqrt(tmp, out=tmp)
                    tmp += eps
                    np.divide(m, tmp, out=tmp)
                    tmp *= -lr / (1 - b1 ** t)
                    theta += tmp
        self.coef_, self.intercept_ = theta[:d], theta[d]
        return self

    def score(self, X, y):
        return float(np.mean(((X @ self.coef_ + self.intercept_) > 0) == y))


# ------------------------------------------------------------------------- the pairs


def _classification(n):
    X, y = datasets.make_classification(n_samples=int(n / 0.8), n_features=50,
                                        n_informative=10, random_state=0)
    return train_test_split(X, y, test_size=0.2, random_state=0)


def _regression(n):
    X, y = datasets.make_regression(n_samples=int(n / 0.8), n_features=50, n_informative=10,
                                    noise=10.0, random_state=0)
    return train_test_split(X, y, test_size=0.2, random_state=0)


PAIRS = [  # (name, data, gradkit factory, peer name, peer factory, target ratio by rows)
    ("LogisticRegression lbfgs", _classification, lambda: gm.LogisticRegression(),
     "sklearn lbfgs", lambda: sk_linear.LogisticRegression(), {1000: 1.5, 10000: 1.1,
                                                                100000: 1.1}),
    ("LogisticRegression newton", _classification,
     lambda: gm.LogisticRegression(optimizer="newton"), "sklearn newton-cholesky",
     lambda: sk_linear.LogisticRegression(solver="newton-cholesky"), 1.5),
    ("LinearRegression l2 (auto)", _regression,
     lambda: gm.LinearRegression(penalty="l2", alpha=1.0), "sklearn Ridge",
     lambda: sk_linear.Ridge(alpha=1.0), 1.5),
    ("LinearRegression l2 newton", _regression,
     lambda: gm.LinearRegression(penalty="l2", alpha=1.0, optimizer="newton"),
     "sklearn Ridge", lambda: sk_linear.Ridge(alpha=1.0), 1.5),
    ("Logistic sgd b32 x5", _classification,
     lambda: gm.LogisticRegression(optimizer="sgd", learning_rate=0.01, batch_size=32,
                                   max_iter=5, random_state=0),
     "numpy mini-batch sgd", lambda: NumpyMinibatchLogistic("sgd", 0.01), 1.5),
    ("Logistic sgd b32 x5 (eager)", _classification,
     lambda: gm.LogisticRegression(optimizer="sgd", learning_rate=0.01, batch_size=32,
                                   max_iter=5, random_state=0, jit=False),
     "numpy mini-batch sgd", lambda: NumpyMinibatchLogistic("sgd", 0.01), None),
    ("Logistic sgd b32 x5", _classification,
     lambda: gm.LogisticRegression(optimizer="sgd", learning_rate=0.01, batch_size=32,
                                   max_iter=5, random_state=0),
     "sklearn SGDClassifier", lambda: sk_linear.SGDClassifier(
         loss="log_loss", learning_rate="constant", eta0=0.01, alpha=1e-5, max_iter=5,
         tol=None, random_state=0), {100000: 2.0}),
    ("Logistic adam b32 x5", _classification,
     lambda: gm.LogisticRegression(optimizer="adam", learning_rate=0.01, batch_size=32,
                                   max_iter=5, random_state=0),
     "numpy mini-batch adam", lambda: NumpyMinibatchLogistic("adam", 0.01), 1.5),
]


def full_batch_pairs(n):
    """The full-batch rows of issue 14 beyond :data:`PAIRS` for ``n`` training rows, in
    :data:`PAIRS`' layout: Newton-CG against scikit-learn's newton-cg,
    ``LinearRegression(penalty="l2")`` with L-BFGS (its default before ``"auto"`` became one
    Newton step), ``LinearSVM`` against ``LinearSVC`` (both squared hinge, C = 1 = 1 / alpha;
    liblinear also penalizes the intercept) and ``MLPClassifier`` against scikit-learn's
    with the same settings: one hidden layer of 64 ReLUs, Adam at 1e-3, batches of 200,
    alpha 1e-4, and ``max(5, 20000 // n)`` epochs (at least 100 steps, so that the 1k-row
    fit is trained; both stop early by scikit-learn's ``tol`` / ``n_iter_no_change`` rule,
    which five epochs never reach). The MLP's loss is not convex and the two
    initializations differ, so its held-out scores agree only roughly."""
    mlp = dict(hidden_layer_sizes=(64,), batch_size=200, max_iter=max(5, 20000 // n),
               random_state=0)
    return [
        ("LogisticRegression newton-cg", _classification,
         lambda: gm.LogisticRegression(optimizer="newton-cg"), "sklearn newton-cg",
         lambda: sk_linear.LogisticRegression(solver="newton-cg"), 1.2),
        ("LinearRegression l2 lbfgs", _regression,
         lambda: gm.LinearRegression(penalty="l2", alpha=1.0, optimizer="lbfgs"),
         "sklearn Ridge", lambda: sk_linear.Ridge(alpha=1.0), None),
        ("LinearSVM", _classification, lambda: gm.LinearSVM(), "sklearn LinearSVC",
         lambda: sk_svm.LinearSVC(), {10000: 1.0, 100000: 1.0}),
        ("MLPClassifier (64,) adam", _classification,
         lambda: gm.MLPClassifier(learning_rate=1e-3, alpha=1e-4, **mlp),
         "sklearn MLPClassifier",
         lambda: sk_nn.MLPClassifier(learning_rate_init=1e-3, alpha=1e-4, **mlp), 1.0),
    ]


def compare(rows_list=(1000, 10000), min_time=1.0, rounds=5, only=None):
    """Print and return ``[(name, rows, gk seconds, peer seconds, gk score, peer score)]``
    for :data:`PAIRS` and :func:`full_batch_pairs` (``only``: the rows whose name contains
    one of these strings)."""
    from threadpoolctl import threadpool_limits
    out = []
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        for n in rows_list:
            print(f"\n{n} training rows x 50 features (held-out score on {n // 4} rows)")
            print(f"  {'gradkit':<28s} {'peer':<24s} {'gradkit':>9s} {'peer':>9s} {'ratio':>6s}"
                  f"  target  score gk / peer")
            for name, data, ours, peer_name, theirs, target in PAIRS + full_batch_pairs(n):
                if only and not any(o in name for o in only):
                    continue
                Xtr, Xte, ytr, yte = data(n)
                fits = {}

                def run(make, key):
                    def fit():
                        fits[key] = make().fit(Xtr, ytr)
                    return fit

                (_, t_gk), (_, t_pe) = side_by_side([("gk", run(ours, "gk")),
                                                     ("peer", run(theirs, "peer"))],
                                                    min_time=min_time, rounds=rounds)
                s_gk, s_pe = fits["gk"].score(Xte, yte), fits["peer"].score(Xte, yte)
                goal = target.get(n) if isinstance(target, dict) else target
                verdict = "" if goal is None else (
                    f"<={goal:<4}" + (" met " if t_gk / t_pe <= goal else " NOT "))
                same = "" if abs(s_gk - s_pe) <= 0.005 else "  (scores differ!)"
                print(f"  {name:<28s} {peer_name:<24s} {t_gk * 1e3:7.1f}ms {t_pe * 1e3:7.1f}ms "
                      f"{t_gk / t_pe:5.2f}x  {verdict:10s} {s_gk:.4f} / {s_pe:.4f}{same}")
                out.append((name, n, t_gk, t_pe, s_gk, s_pe))
    return out


# ------------------------------------------------------------------------- the classic table

CLASSIC = [  # (name, gradkit factory, scikit-learn factory)
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


def classic(repeat=3):
    """Fit time against scikit-learn's defaults on digits and breast_cancer."""
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
            for name, ours, theirs in CLASSIC:
                t_gk, s_gk = _median_fit(ours, X, y, repeat)
                t_sk, s_sk = _median_fit(theirs, X, y, repeat)
                rows.append((data, name, t_gk, t_sk))
                print(f"  {name:<36s} {t_gk * 1e3:8.1f}ms {t_sk * 1e3:8.1f}ms "
                      f"{t_gk / t_sk:6.2f}x   {s_gk:.3f} / {s_sk:.3f}")
    return rows


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["classic"]:
        classic()
    else:  # rows, then optionally --only NAME [NAME ...]
        only = args[args.index("--only") + 1:] if "--only" in args else None
        rows = args[:args.index("--only")] if "--only" in args else args
        compare([int(a) for a in rows] or (1000, 10000), only=only)
