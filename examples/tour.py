"""
A 30-second tour of gradkit's engine
====================================

Gradients, Hessians and a gradient check of plain NumPy, then Newton's method by hand; the
figure shows its gradient norm step by step, falling ever faster once it is near the minimum.

Run it with ``make demo`` (or ``python examples/tour.py``).
"""
import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import load_breast_cancer

import gradkit as gk

# A real function: the L2-regularised logistic loss on scikit-learn's breast cancer data,
# written with nothing but NumPy.
data = load_breast_cancer()
X = (data.data - data.data.mean(0)) / data.data.std(0)
y = np.where(data.target == 1, 1.0, -1.0)


def loss(w):
    margins = y * (X @ w)
    return np.mean(np.logaddexp(0.0, -margins)) + 0.5e-2 * np.sum(w * w)


w = np.zeros(X.shape[1])
value, g = gk.value_and_grad(loss)(w)
print(f"loss at w=0: {value:.6f}   |gradient| = {np.linalg.norm(g):.6f}")

H = gk.hessian(loss)(w)
print(f"Hessian: {H.shape}, symmetric: {np.allclose(H, H.T)}, "
      f"smallest eigenvalue {np.linalg.eigvalsh(H)[0]:.3e} (>= the 1e-2 ridge: convex)")

v = np.random.default_rng(0).standard_normal(w.shape)
print(f"Hessian-vector product without forming H agrees: {np.allclose(gk.hvp(loss)(w, v), H @ v)}")

gk.check_grads(loss, (w,), order=2)
print("check_grads: forward and reverse mode match finite differences to second order")

# Newton's method by hand, ten lines: the engine supplies every derivative.
norms = [np.linalg.norm(g)]  # |grad| at w = 0
for step in range(6):
    value, g = gk.value_and_grad(loss)(w)
    w = w - np.linalg.solve(gk.hessian(loss)(w), g)
    norms.append(np.linalg.norm(gk.grad(loss)(w)))
    print(f"newton step {step}: loss {loss(w):.10f}  |grad| {norms[-1]:.2e}")
figure = Figure(figsize=(6.4, 3.6), layout="constrained")
ax = figure.subplots()
ax.semilogy(np.arange(len(norms)), norms, "o-")
ax.set(xlabel="Newton step", ylabel="gradient norm |∇f(w)|",
       title="Newton's method on the logistic loss, derivatives by gradkit")

accuracy = np.mean(np.sign(X @ w) == y)
print(f"training accuracy {accuracy:.3f}")
