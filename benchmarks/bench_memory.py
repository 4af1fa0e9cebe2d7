"""Peak memory: the gradient of a 10,000-op elementwise chain at n = 1e5 (float64).

The chain alternates ``np.tanh`` and a scaling by a constant: ``y = np.tanh(y) * 1.5``.
The hand-written NumPy gradient keeps each tanh's output (what its derivative
``1 - tanh^2`` reads) and nothing else, which is the floor; gradkit's lean tape should keep
the same (target: peak <= 1.2x the floor). Peaks are tracemalloc's (NumPy reports its array
buffers to it), each measured alone after a garbage collection.

``python benchmarks/bench_memory.py [ops] [n]`` for another size (the default needs ~8 GB).
"""
import gc
import sys
import tracemalloc

import numpy as np

import gradkit as gk


def chain(x, ops):
    y = x
    for _ in range(ops // 2):
        y = np.tanh(y) * 1.5
    return np.sum(y)


def by_hand(x, ops):
    """Forward keeping what backward needs (each tanh's output), then backward."""
    saved, y = [], x
    for _ in range(ops // 2):
        t = np.tanh(y)
        saved.append(t)
        y = t * 1.5
    del y
    g = np.ones_like(x)
    while saved:
        t = saved.pop()
        g = g * 1.5 * (1.0 - t * t)
    return g


def peak_bytes(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bench_memory(ops=10_000, n=100_000, target=1.2):
    x = np.linspace(-1.0, 1.0, n)
    grad = gk.grad(lambda x: chain(x, ops))
    small = x[:1000]
    assert np.allclose(gk.grad(lambda x: chain(x, ops))(small), by_hand(small, ops))
    floor = peak_bytes(lambda: by_hand(x, ops))
    traced = peak_bytes(lambda: grad(x))
    print(f"\nPeak memory: gradient of a {ops:,}-op elementwise chain at n = {n:,} (float64)")
    print(f"  {'numpy (hand-written)':<28s} {floor / 1e9:8.3f} GB   1.00x")
    print(f"  {'gradkit':<28s} {traced / 1e9:8.3f} GB   {traced / floor:4.2f}x")
    verdict = "met" if traced <= target * floor else "NOT met"
    print(f"  target gradkit <= {target}x the floor: {verdict}")
    return {"numpy (hand-written)": 1.0, "gradkit": traced / floor}


if __name__ == "__main__":
    args = [int(float(a)) for a in sys.argv[1:3]]
    bench_memory(*args)
