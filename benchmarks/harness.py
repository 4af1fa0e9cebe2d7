"""Side-by-side timing: each workload's systems in one process, with ratios to the NumPy floor."""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time


def default_clock():
    """The clock of :func:`side_by_side`: the wall clock, or the process's CPU time
    (``time.process_time``) when ``GRADKIT_BENCH_CLOCK=cpu``, for a machine shared with other
    work: the slices of time other processes take are not counted (every side runs one
    thread and does no I/O, so its CPU time is its work)."""
    cpu = os.environ.get("GRADKIT_BENCH_CLOCK") == "cpu"
    return time.process_time if cpu else time.perf_counter


def _batch_size(fn, batch_time, clock=time.perf_counter):
    """Warm ``fn`` up and return how many calls take at least ``batch_time`` seconds."""
    fn()
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        if clock() - t0 >= batch_time or n >= 1 << 20:
            return n
        n *= 2


def median_time(fn, min_time=0.3, repeat=7):
    """Median seconds per call of ``fn()`` over ``repeat`` batches sized to ``min_time``."""
    n = _batch_size(fn, min_time / repeat)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def side_by_side(systems, min_time=0.3, rounds=9, clock=None):
    """Median seconds per call of each ``(name, fn)`` in ``systems``, measured in turns.

    Each system's batch size is found first, then the systems take turns, one batch each,
    ``rounds`` times: a slow spell of the machine (another process, the allocator returning
    memory to the system) falls on every system alike instead of on whichever ran then.
    ``clock``: a function returning seconds (None: :func:`default_clock`).
    Returns ``[(name, seconds), ...]`` in the order given.
    """
    clock = clock or default_clock()
    sizes = [_batch_size(fn, min_time / rounds, clock) for _, fn in systems]
    samples = [[] for _ in systems]
    for _ in range(rounds):
        for (_, fn), n, out in zip(systems, sizes, samples):
            t0 = clock()
            for _ in range(n):
                fn()
            out.append((clock() - t0) / n)
    return [(name, statistics.median(s)) for (name, _), s in zip(systems, samples)]


def peers():
    """The comparison libraries that are installed: {'torch': module, ...}, each held to one
    thread as NumPy's BLAS is (``OPENBLAS_NUM_THREADS=1``), so that no side's threads meet
    another's on the cores."""
    found = {}
    try:
        import torch
        torch.set_num_threads(1)
        found["torch"] = torch
    except ImportError:
        pass
    try:
        import autograd  # noqa: F401
        found["autograd"] = autograd
    except ImportError:
        pass
    if "jax" not in sys.modules:  # XLA reads its thread settings when it starts
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen"
                                   "=false intra_op_parallelism_threads=1").strip()
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        found["jax"] = jax
    except ImportError:
        pass
    return found


def report(title, rows, target=None, jit_target=None, first_call=None):
    """Print one workload: rows = [(system, seconds)], the first being the floor; with
    ``jit_target`` the row "gradkit jit" is judged too, and ``first_call`` (seconds: the
    tracing call of gk.jit) is printed after the rows."""
    floor = rows[0][1]
    print(f"\n{title}")
    for name, t in rows:
        unit, scale = ("ms", 1e3) if t >= 1e-3 else ("us", 1e6)
        print(f"  {name:<28s} {t * scale:10.1f} {unit}   {t / floor:6.2f}x")
    if target is not None:
        gk = dict(rows).get("gradkit")
        if gk is not None:
            verdict = "met" if gk / floor <= target else "NOT met"
            print(f"  target gradkit <= {target}x the floor: {verdict}")
    if jit_target is not None:
        jt = dict(rows).get("gradkit jit")
        if jt is not None:
            verdict = "met" if jt / floor <= jit_target else "NOT met"
            print(f"  target gradkit jit <= {jit_target}x the floor: {verdict}")
    if first_call is not None:
        print(f"  gradkit jit, first (tracing) call: {first_call * 1e3:.1f} ms")
    return {name: t / floor for name, t in rows}


def first_call(make, repeat=5):
    """Seconds of the first call of a fresh ``gk.jit`` step (``make()`` returns a callable
    that makes one and calls it once): the best of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        make()
        best = min(best, time.perf_counter() - t0)
    return best


def machine():
    import numpy as np
    cpu = platform.processor() or platform.machine()
    blas = ""
    try:
        from threadpoolctl import threadpool_info
        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            blas = (f", BLAS {info[0].get('internal_api')} {info[0].get('architecture')} "
                    f"kernel, {info[0].get('num_threads')} threads")
    except ImportError:
        pass
    return (f"{platform.system()} {cpu}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__}{blas}")
