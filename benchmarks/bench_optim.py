"""Full-batch solver benchmarks W5 (logistic regression) and W6 (Rosenbrock 100-D), with ratios.

Run: ``python benchmarks/bench_optim.py``. Everything runs in one process; each row is the
median of several runs, and ratios are against the floor measured in the same run. ``|g|inf``
is the gradient's inf-norm where each run stopped: with ftol=0 scipy's L-BFGS-B stops when f
no longer decreases (its factr test with factr=0), above the gradient tolerance, while
gk.minimize goes on, judging steps by their slope once f differences are rounding noise
(approximate Wolfe), until the gradient tolerance is met. The last lines read issue 3's W5
and W6 targets off the rows, W6 against both scipy rows.
"""
from __future__ import annotations

import statistics
import time

import numpy as np
from scipy.optimize import minimize as sp_minimize
from scipy.special import expit

import gradkit as gk
from gradkit.optim.minimize import minimize


def _median_time(run, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _median_times_in_turns(runs, repeat):
    """``[(median seconds, last result)]`` of each ``(run, context)`` in ``runs``, the runs
    taking turns ``repeat`` times (as harness.side_by_side does for the other benchmarks), so
    a slow spell of the machine does not fall on one solver's runs only. ``context`` (or
    None) is entered around each timed run, outside the timing."""
    import contextlib
    times, outs = [[] for _ in runs], [None] * len(runs)
    for _ in range(repeat):
        for i, (run, context) in enumerate(runs):
            with context() if context is not None else contextlib.nullcontext():
                t = time.perf_counter()
                outs[i] = run()
                times[i].append(time.perf_counter() - t)
    return [(statistics.median(ts), out) for ts, out in zip(times, outs)]


def _scipy_one_blas_thread():
    """scipy's OpenBLAS pool contends with numpy's on 2 cores; give scipy's one thread."""
    import contextlib
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    controller = ThreadpoolController()
    paths = [m["filepath"] for m in controller.info()
             if m["user_api"] == "blas" and "scipy.libs" in m["filepath"]]
    if not paths:  # pragma: no cover
        return contextlib.nullcontext()
    return controller.select(filepath=paths[0]).limit(limits=1)


def w5(repeat=5):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    X, y01 = make_classification(50000, 100, n_informative=20, n_redundant=0, random_state=0)
    y = 2.0 * y01 - 1.0
    w0 = np.zeros(X.shape[1])

    def f(w):  # sklearn's C=1 objective: sum of log-losses + ||w||^2 / 2, in plain NumPy
        return np.sum(np.logaddexp(0.0, -y * (X @ w))) + 0.5 * np.sum(w * w)

    def fg(w):  # the hand-written floor
        yz = y * (X @ w)
        return np.sum(np.logaddexp(0.0, -yz)) + 0.5 * w @ w, X.T @ (-y * expit(-yz)) + w

    coef = LogisticRegression(C=1.0, fit_intercept=False, tol=1e-10,
                              max_iter=10000).fit(X, y01).coef_.ravel()
    rows = []
    for label, ftol in [("gtol 1e-6 + scipy's default ftol 2.2e-9", 2.220446049250313e-09),
                        ("gtol 1e-6 only (ftol=0)", 0.0)]:
        (t_sp, r_sp), (t_gk, r_gk) = _median_times_in_turns([
            (lambda: sp_minimize(fg, w0, jac=True, method="L-BFGS-B",
                                 options=dict(gtol=1e-6, ftol=ftol, maxiter=15000)),
             _scipy_one_blas_thread),
            (lambda: minimize(f, w0, method="lbfgs", tol=1e-6, ftol=ftol), None)], repeat)
        rows.append((f"W5 [{label}] scipy L-BFGS-B, hand-written f,g (floor)", t_sp, 1.0,
                     r_sp.nfev, r_sp.fun, np.abs(r_sp.jac).max(), np.abs(r_sp.x - coef).max()))
        rows.append((f"W5 [{label}] gk.minimize lbfgs, f in plain NumPy", t_gk, t_gk / t_sp,
                     r_gk.nfev, r_gk.fun, r_gk.grad_norm, np.abs(r_gk.x - coef).max()))
    try:
        import torch
    except ImportError:
        rows.append(("W5 torch.optim.LBFGS: torch not installed, skipped", float("nan"),
                     float("nan"), 0, float("nan"), float("nan"), float("nan")))
    else:  # pragma: no cover - depends on the machine
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

        def run_torch():
            w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
            opt = torch.optim.LBFGS([w], lr=1, max_iter=15000, tolerance_grad=1e-6,
                                    tolerance_change=0, history_size=10,
                                    line_search_fn="strong_wolfe")
            count = [0]

            def closure():
                opt.zero_grad()
                loss = torch.nn.functional.softplus(-yt * (Xt @ w)).sum() + 0.5 * (w * w).sum()
                loss.backward()
                count[0] += 1
                return loss
            opt.step(closure)
            f_end = float(closure().detach())
            return w.detach().numpy(), count[0], f_end, float(w.grad.abs().max())
        t_t, (w_t, n_t, f_t, g_t) = _median_time(run_torch, repeat)
        rows.append(("W5 [gtol 1e-6 only] torch.optim.LBFGS (strong Wolfe)", t_t,
                     t_t / rows[2][1], n_t, f_t, g_t, np.abs(w_t - coef).max()))
    return rows


def w6(repeat=7):
    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    def rosen_fg(x):  # hand-written
        d = x[1:] - x[:-1] ** 2
        g = np.zeros_like(x)
        g[:-1] = -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
        g[1:] += 200.0 * d
        return np.sum(100.0 * d * d + (1.0 - x[:-1]) ** 2), g

    vg = gk.value_and_grad(rosen)

    def engine_fg(x):
        v, g = vg(x)
        return float(gk.stop_gradient(v)), g

    x0 = np.tile([-1.2, 1.0], 50)
    opts = dict(gtol=1e-6, ftol=0.0, maxiter=15000)
    # as in W5: scipy's rows run with one scipy BLAS thread (spares them the pools' contention)
    (t_sp, r_sp), (t_hand, r_hand), (t_gk, r_gk) = _median_times_in_turns([
        (lambda: sp_minimize(engine_fg, x0, jac=True, method="L-BFGS-B", options=opts),
         _scipy_one_blas_thread),
        (lambda: sp_minimize(rosen_fg, x0, jac=True, method="L-BFGS-B", options=opts),
         _scipy_one_blas_thread),
        (lambda: minimize(rosen, x0, method="lbfgs", tol=1e-6), None)], repeat)
    return [
        ("W6 scipy L-BFGS-B, same engine f,g (floor)", t_sp, 1.0, r_sp.nfev, r_sp.fun,
         np.abs(r_sp.jac).max(), 0.0),
        ("W6 scipy L-BFGS-B, hand-written f,g", t_hand, t_hand / t_sp, r_hand.nfev, r_hand.fun,
         np.abs(r_hand.jac).max(), 0.0),
        ("W6 gk.minimize lbfgs", t_gk, t_gk / t_sp, r_gk.nfev, r_gk.fun, r_gk.grad_norm, 0.0),
    ]


def _verdict(ok):
    return "met" if ok else "NOT met"


def w5_target(rows):
    """Issue 3, W5: gk <= 1.0x scipy (hand-written f,g, default ftol), and ahead of torch."""
    gk = rows[1]
    lines = [f"W5 target: gk.minimize lbfgs <= 1.0x scipy L-BFGS-B (hand-written f,g, default "
             f"ftol): {gk[2]:.2f}x -> {_verdict(gk[2] <= 1.0)}"]
    torch_row = rows[4] if len(rows) > 4 and rows[4][3] else None  # nfev 0: not installed
    if torch_row is not None:
        gk0 = rows[3]  # gk with ftol=0, the run torch's row is timed against
        lines.append(f"W5 target: gk.minimize lbfgs ahead of torch LBFGS (gtol 1e-6 only): "
                     f"{gk0[1]:.4f} s against {torch_row[1]:.4f} s -> "
                     f"{_verdict(gk0[1] < torch_row[1])}")
    return lines


def w6_target(rows, limit=1.5):
    """Issue 3, W6: gk <= 1.5x scipy L-BFGS-B's time with no more function evaluations, read
    against both scipy rows: the same engine f,g (what gk.minimize itself evaluates) and a
    hand-written f,g (which also counts the engine's cost per evaluation against gk)."""
    engine, hand, gk = rows
    lines = [f"W6 target: gk.minimize lbfgs <= {limit}x scipy L-BFGS-B's time with no more "
             "function evaluations"]
    for label, ref in [("same engine f,g", engine), ("hand-written f,g", hand)]:
        ratio = gk[1] / ref[1]
        ok_t, ok_n = ratio <= limit, gk[3] <= ref[3]
        why = "" if ok_t and ok_n else " (" + ", ".join(
            w for w, ok in [("time", ok_t), ("evaluations", ok_n)] if not ok) + ")"
        lines.append(f"  against scipy with {label:<17} {ratio:5.2f}x its time, nfev {gk[3]} "
                     f"vs {ref[3]} -> {_verdict(ok_t and ok_n)}{why}")
    return lines


def main():
    r5, r6 = w5(), w6()
    rows = r5 + r6
    print(f"{'workload':<78} {'median s':>9} {'ratio':>6} {'nfev':>5} {'f':>14} "
          f"{'|g|inf':>8} {'|w-sk|':>8}")
    for name, t, ratio, nfev, fun, gnorm, err in rows:
        print(f"{name:<78} {t:9.4f} {ratio:6.2f} {nfev:5d} {fun:14.8g} {gnorm:8.1e} {err:8.1e}")
    for line in w5_target(r5) + w6_target(r6):
        print(line)


if __name__ == "__main__":
    main()
