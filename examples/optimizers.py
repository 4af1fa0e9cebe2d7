"""
Every family of full-batch method on one problem
================================================

L2 logistic regression on breast cancer.

Prints, for each method, the loss it reached, its iterations and evaluations, and the gradient
norm; then two constrained problems (Frank-Wolfe with its duality gap, the lasso by FISTA).
The figure shows each method's gap to the best loss found, iteration by iteration, on a log
scale: the second-order methods converge in a handful of iterations, L-BFGS in about twenty,
gradient descent and BFGS take longest. The natural gradient's curve (dashed) lies on
Newton's: for logistic regression the Fisher matrix is the Hessian of the log-likelihood.
Run: ``python examples/optimizers.py``.
"""
import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import load_breast_cancer

import gradkit as gk
import gradkit.optim as optim

data = load_breast_cancer()
X = (data.data - data.data.mean(0)) / data.data.std(0)
y = data.target.astype(float)
n, d = X.shape
C = 0.01  # the L2 weight


def model(w):
    return X @ w  # the logits


def nll(z):
    return np.mean(np.logaddexp(0.0, z) - y * z)  # the mean negative log-likelihood


def loss(w):
    return nll(model(w)) + 0.5 * C * np.sum(w * w)


w0 = np.zeros(d)
print(f"{'method':<12} {'loss':>12} {'iterations':>10} {'evaluations':>11} {'|grad|':>9}")
losses = {}  # the loss after each iteration, per method, for the figure
for method, options in [("gd", {}), ("newton", {}), ("newton-cg", {}), ("bfgs", {}),
                        ("lbfgs", {}),
                        ("natural", {"model": model, "loss": nll, "damping": C})]:
    r = gk.minimize(loss, w0, method=method, **options)
    print(f"{method:<12} {r.fun:12.8f} {r.nit:10d} {r.nfev:11d} {r.grad_norm:9.1e}")
    losses[method] = np.asarray(r.history["f"])

# The gap to the best loss any method found, on a log scale (a gap of 0 is drawn at 1e-16).
best = min(f.min() for f in losses.values())
figure = Figure(figsize=(7.0, 4.2), layout="constrained")
ax = figure.subplots()
for (method, f), marker in zip(losses.items(), "os^vDP"):
    ax.plot(np.arange(f.size), np.maximum(f - best, 1e-16), marker=marker, markersize=4,
            markevery=max(1, f.size // 10), linestyle="--" if method == "natural" else "-",
            label=method)
ax.set(yscale="log", xlabel="iteration", ylabel="loss - best loss",
       title="L2 logistic regression on breast cancer: gap to the best loss")
figure.legend(loc="outside right upper", title="method", fontsize="small")

# Frank-Wolfe: the same loss over the L1 ball of radius 2; the duality gap certifies the result.
r = gk.minimize(loss, w0, method="frank-wolfe", constraint=optim.L1Ball(2.0), max_iter=500,
                tol=1e-4)
print(f"frank-wolfe  loss {r.fun:.6f} within the L1 ball (|w|_1 = {np.abs(r.x).sum():.3f}), "
      f"duality gap {r.history['gap'][-1]:.1e} after {r.nit} iterations")

# The lasso by FISTA: exact zeros, which gradient descent on |w| never produces.
r = gk.minimize(lambda w: 0.5 * np.mean((X @ w - (y - y.mean())) ** 2), w0, method="fista",
                l1=0.02)
print(f"fista        lasso with {np.sum(r.x == 0)} of {d} coefficients exactly zero")
