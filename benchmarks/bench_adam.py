"""W11: one Adam step on 1e3 / 1e5 / 1e7 float64 parameters, gradkit against in-place NumPy.

Run: ``python benchmarks/bench_adam.py [--cpu-time]`` (``--cpu-time``: timed by the
process's CPU time instead of the wall clock, for a machine shared with other work; the same
as ``GRADKIT_BENCH_CLOCK=cpu``, see :func:`harness.default_clock`). The
floor is a hand-written in-place NumPy Adam (the moments and the parameters updated with
``out=`` / augmented assignment, two scratch arrays allocated once, Python-float
constants). The gradkit rows are :func:`gradkit.optim.step` (the fused in-place
path, target <= 1.2x the floor) and the functional ``update`` + ``apply_updates`` (new
arrays every step, the optax contract). With PyTorch installed, its ``Adam`` with
``foreach=True`` (and ``fused=True`` where the build has it for CPU) is measured too. All
in one process, taking turns (``harness.side_by_side``), one BLAS thread.
"""
from __future__ import annotations

import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from harness import default_clock, report, side_by_side  # noqa: E402

from gradkit.optim import transforms as T  # noqa: E402

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def numpy_adam(n, rng):
    p, g = rng.standard_normal(n), rng.standard_normal(n)
    m, v, u, w = np.zeros(n), np.zeros(n), np.empty(n), np.empty(n)
    t = [0]

    def one(p=p, g=g, m=m, v=v, u=u, w=w):  # arguments: augmented assignment stays in place
        t[0] += 1
        np.multiply(g, 1 - B1, out=u)
        m *= B1
        m += u
        np.multiply(g, g, out=u)
        u *= 1 - B2
        v *= B2
        v += u
        np.multiply(v, 1 / (1 - B2 ** t[0]), out=u)
        np.sqrt(u, out=u)
        u += EPS
        np.multiply(m, -LR / (1 - B1 ** t[0]), out=w)
        np.divide(w, u, out=u)
        p += u
    return one


def gradkit_step(n, rng):
    opt = T.adam(LR, B1, B2, EPS)
    params = {"w": rng.standard_normal(n)}
    grads = {"w": rng.standard_normal(n)}
    box = [params, opt.init(params)]

    def one():
        box[0], box[1], _ = T.step(opt, box[0], grads, box[1])
    return one


def gradkit_functional(n, rng):
    opt = T.adam(LR, B1, B2, EPS)
    params = {"w": rng.standard_normal(n)}
    grads = {"w": rng.standard_normal(n)}
    box = [params, opt.init(params)]

    def one():
        updates, box[1] = opt.update(grads, box[1], box[0])
        box[0] = T.apply_updates(box[0], updates)
    return one


def torch_adam(n, rng, **flags):
    import torch
    p = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(n)))
    p.grad = torch.from_numpy(rng.standard_normal(n))
    opt = torch.optim.Adam([p], lr=LR, betas=(B1, B2), eps=EPS, **flags)
    return opt.step


def main(sizes=(10**3, 10**5, 10**7), cpu_time=False):
    from threadpoolctl import threadpool_limits
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    clock = time.process_time if cpu_time else default_clock()
    ratios = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for n in sizes:
            rng = np.random.default_rng(0)
            systems = [("numpy in-place (floor)", numpy_adam(n, rng)),
                       ("gradkit", gradkit_step(n, rng)),
                       ("gradkit functional", gradkit_functional(n, rng))]
            if torch is not None:
                systems.append(("torch foreach", torch_adam(n, rng, foreach=True)))
                try:
                    fused = torch_adam(n, rng, fused=True)
                    fused()
                    systems.append(("torch fused", fused))
                except (RuntimeError, TypeError):  # no fused kernel for CPU in this build
                    pass
            rows = side_by_side(systems, min_time=1.0 if n >= 10**7 else 0.3, clock=clock)
            label = ", CPU time" if clock is time.process_time else ""
            ratios[n] = report(f"W11 Adam step, {n:.0e} float64 parameters{label}", rows,
                               target=1.2)
            times = dict(rows)
            if "torch foreach" in times:
                ahead = times["gradkit"] < times["torch foreach"]
                print(f"  gradkit ahead of torch foreach: {'yes' if ahead else 'NO'}")
    return ratios


if __name__ == "__main__":
    main(cpu_time="--cpu-time" in sys.argv[1:])
