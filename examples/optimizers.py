"""
Every family of full-batch method on one problem
================================================

L2 logistic regression on breast cancer.

Prints, for each method, the loss it reached, its iterations and evaluations, and the gradient
norm; then two constrained problems (Frank-Wolfe with its duality gap, the lasso by FISTA).
Run: ``python examples/optimizers.py``.
"""
import numpy as np
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
for method, options in [("gd", {}), ("newton", {}), ("newton-cg", {}), ("bfgs", {}),
                        ("lbfgs", {}),
                        ("natural", {"model": model, "loss": nll, "damping": C})]:
    r = gk.minimize(loss, w0, method=method, **options)
    print(f"{method:<12} {r.fun:12.8f} {r.nit:10d} {r.nfev:11d} {r.grad_norm:9.1e}")

# Frank-Wolfe: the same loss over the L1 ball of radius 2; the duality gap certifies the result.
r = gk.minimize(loss, w0, method="frank-wolfe", constraint=optim.L1Ball(2.0), max_iter=500,
                tol=1e-4)
print(f"frank-wolfe  loss {r.fun:.6f} within the L1 ball (|w|_1 = {np.abs(r.x).sum():.3f}), "
      f"duality gap {r.history['gap'][-1]:.1e} after {r.nit} iterations")

# The lasso by FISTA: exact zeros, which gradient descent on |w| never produces.
r = gk.minimize(lambda w: 0.5 * np.mean((X @ w - (y - y.mean())) ** 2), w0, method="fista",
                l1=0.02)
print(f"fista        lasso with {np.sum(r.x == 0)} of {d} coefficients exactly zero")
