"""``gradkit race``: optimizers from one start on a 2-D test function or a model's loss, side by side."""
from __future__ import annotations

import argparse
import math
import os
import time
import warnings

import numpy as np

from gradkit.optim.landscapes import TEST_FUNCTIONS, get_test_function

from gradkit.safety import for_terminal

from .errors import CLIError

__all__ = ["run", "run_racer", "parse_optimizers", "RACERS", "FUNCTION_RACERS",
           "DEFAULT_OPTIMIZERS", "FUNCTION_NAMES", "EXAMPLES"]

#: The examples ``gradkit race --help`` ends with.
EXAMPLES = """examples:
  gradkit race                                   # rosenbrock, the eight default optimizers
  gradkit race beale --optimizers adam,rmsprop,lbfgs --steps 500
  gradkit race saddle --start 1.5,0.001
  gradkit race quadratic --lr 0.03               # one learning rate for every first-order method
  gradkit race iris --steps 100                  # softmax regression on a data set
  gradkit race beale --start -4,4 --optimizers lbfgs,newton --restarts 10   # escape a valley"""

_STEPPERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "adamax",
             "nadam")
_SOLVERS = ("gd", "newton", "newton-cg", "trust-ncg", "trust-exact", "bfgs", "lbfgs")
_LAYERED = ("kfac",)  # preconditioners of a network's layers: data-set races only
#: Every optimizer ``gradkit race`` can run: gradient transformations, full-batch methods,
#: then K-FAC (on a data set, whose model is one Linear layer).
RACERS = _STEPPERS + _SOLVERS + _LAYERED
#: The optimizers that race on a test function (a function of a point): all but K-FAC.
FUNCTION_RACERS = _STEPPERS + _SOLVERS
#: The optimizers ``gradkit race`` runs when ``--optimizers`` is not given.
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "lbfgs",
                      "newton")
#: The test functions ``gradkit race`` accepts by name (those of
#: :data:`~gradkit.optim.landscapes.TEST_FUNCTIONS`).
FUNCTION_NAMES = tuple(TEST_FUNCTIONS)
_ESCAPE = 1e8  # an iterate this far out has diverged


def parse_optimizers(text):
    """The tuple of optimizer names in a comma-separated list (argparse type).

    Args:
        text: names from :data:`RACERS`, separated by commas (case and spaces ignored;
            a repeated name counts once).

    Returns:
        tuple of str: the names, in the order given.

    Raises:
        argparse.ArgumentTypeError: for an unknown name or an empty list.

    Examples:
        >>> parse_optimizers("adam, LBFGS, adam")
        ('adam', 'lbfgs')
    """
    names = tuple(n.strip().lower() for n in str(text).split(",") if n.strip())
    unknown = [n for n in names if n not in RACERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown optimizer(s) {', '.join(unknown) or '(none)'};"
                                         f" valid: {', '.join(RACERS)}")
    return tuple(dict.fromkeys(names))


def _kfac_racer(model, x, steps, learning_rate, counted, start):
    """K-FAC (:func:`gradkit.nn.kfac.kfac`) on a data set's one-Linear-layer objective
    ``counted`` (its calls counted) of the flat ``x = [W.ravel(), b]``: each step the gradient of ``f`` (its penalty
    included) preconditioned by the layer's Kronecker factors, whose statistics cost one
    more pass over the data (counted as an evaluation). ``model = (X, y, classification)``."""
    import gradkit as gk
    from gradkit.nn import Linear, kfac

    X, y, classification = model
    d = X.shape[1]
    k = x.size // (d + 1)  # x holds W (d x k) and b (k)
    statistics = kfac.capture(Linear(k), "cross_entropy" if classification else "mse").statistics
    targets = y if classification else y[:, None]
    tx = kfac.kfac(learning_rate=learning_rate)

    def tree(w):
        return {"W": w[:d * k].reshape(d, k), "b": w[d * k:]}
    state = tx.init(tree(x))
    vg = gk.value_and_grad(counted)
    path, values, times = [x.copy()], [], []
    for step in range(steps):
        value, g = vg(x)
        values.append(float(value))
        times.append(time.perf_counter() - start)
        if step == steps - 1 or not np.isfinite(value):
            break
        updates, state = tx.update(tree(g), state, tree(x),
                                   kfac_stats=lambda: statistics(tree(x), X, targets))
        x = x + np.concatenate([updates["W"].ravel(), updates["b"]])
        path.append(x.copy())
    nfev = [2 * i + 1 for i in range(len(values))]  # a gradient, then the statistics' pass
    status = (f"{len(values)} steps (each a gradient and one pass for the Kronecker factors)"
              if np.isfinite(values[-1]) else f"diverged at step {len(values)}")
    return {"path": np.array(path), "f": values, "nfev": nfev, "time": times,
            "status": status}


def run_racer(name, f, x0, steps, learning_rate=None, restarts=0, seed=0, model=None):
    """Run one optimizer on ``f`` from ``x0``; every evaluation of ``f`` (a value, gradient or
    Hessian pass calls it once) is counted.

    ``restarts`` > 0 runs a full-batch method also from that many random starts around x0
    (``minimize``'s ``n_restarts``, seeded by ``seed``): the path shown is the winning run's,
    the evaluations count every run's. Gradient transformations ignore it (the status says so).

    Args:
        name: an optimizer of :data:`RACERS`: a gradient transformation (``"adam"``, ...) or a
            full-batch method of :func:`gradkit.optim.minimize` (``"lbfgs"``, ...).
        f: the scalar function of a 1-D array to minimize.
        x0: the starting point.
        steps: the number of iterates (a gradient transformation) or ``max_iter`` (a solver).
        learning_rate: the step size of a gradient transformation (solvers search their own).
        restarts: extra random starts for a full-batch method.
        model: ``(X, y, classification)`` of a data set's one-layer model, which ``"kfac"``
            needs (its Kronecker factors are the layer's).
        seed: the seed of those random starts.

    Returns:
        dict with ``path`` (k, d) evaluated iterates, ``f``, ``nfev``, ``time`` per iterate, and
        ``status`` in words.

    Examples:
        >>> r = run_racer("adam", lambda x: np.sum(x ** 2), np.array([1.0, 1.0]), 5, 0.1)
        >>> r["path"].shape, r["nfev"][-1]
        ((5, 2), 5)
        >>> r = run_racer("lbfgs", lambda x: np.sum(x ** 2), np.array([1.0, 1.0]), 50)
        >>> float(r["f"][-1]) < 1e-12, r["status"].startswith("Converged")
        (True, True)
    """
    import gradkit as gk
    from gradkit.models import TRANSFORMS
    from gradkit.optim import minimize, run

    calls = [0]

    def counted(x):
        calls[0] += 1
        return f(x)

    x = np.array(x0, dtype=float)
    path, values, nfev, times = [x.copy()], [], [], []
    start = time.perf_counter()
    if name in _LAYERED and model is None:
        raise ValueError(f"{name} preconditions the layers of a network: it races on a data "
                         "set (model=), not on a function of a point")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name in _LAYERED:
            return _kfac_racer(model, x, steps, learning_rate, counted, start)
        if name in _STEPPERS:
            escaped = []

            def escape(info):  # a diverging optimizer: stop before the numbers overflow
                if np.max(np.abs(info.x)) > _ESCAPE:
                    escaped.append(info.nit)
                    return True
                return False

            result = run(TRANSFORMS[name](learning_rate), counted, x, max(steps - 1, 0),
                         record_path=True, callback=escape)
            history = result.history
            path = [np.asarray(p, dtype=float) for p in history["path"]]
            values = [float(v) for v in history["f"]]
            times = list(history["time"])
            nfev = list(range(1, len(values) + 1))  # one evaluation per step
            if escaped:
                status = f"diverged at step {escaped[0]} (|x| > {_ESCAPE:g})"
            else:  # the steps taken, as the iterations column counts them
                status = " ".join(str(result.message).split())
            if restarts:
                status += " (no restarts: a gradient transformation)"
        else:
            others, won = 0, None
            if restarts:  # the best of the starts; its path is drawn by running it again
                won = minimize(counted, x, method=name, max_iter=steps, tol=1e-10,
                               n_restarts=restarts, random_state=seed)
                x = path[0] = np.array(won.restart_x0, dtype=float)
                others, calls[0] = calls[0], 0
            values.append(float(f(x)))  # the solver's own first evaluation, counted below
            nfev.append(1)
            times.append(time.perf_counter() - start)

            def callback(info):
                path.append(np.array(info.x, dtype=float))
                values.append(float(info.fun))
                nfev.append(calls[0])
                times.append(time.perf_counter() - start)

            result = minimize(counted, x, method=name, max_iter=steps, tol=1e-10,
                              callback=callback)
            status = " ".join(str(result.message).split())
            if won is not None:
                # the other starts' evaluations count too: as if they had run first
                others -= calls[0]
                nfev = [n + others for n in nfev]
                status += (f" (best of {restarts + 1} starts: "
                           f"{'x0' if won.restart == 0 else f'random start {won.restart}'})")
    return {"path": np.array(path), "f": values, "nfev": nfev, "time": times, "status": status}


def _function_problem(args):
    problem = get_test_function(args.problem)
    x0 = np.array(args.start if args.start is not None else problem.x0, dtype=float)
    rates = {n: (args.lr if args.lr is not None else problem.learning_rates.get(n, 0.01))
             for n in _STEPPERS}
    f_star = min(float(problem.f(np.array(m))) for m in problem.minima)
    return problem, x0, rates, f_star


def _data_problem(args):
    """The penalized mean loss of softmax / least-squares regression on a data set."""
    from gradkit.data.tabular import prepare, read_table
    from gradkit.nn import losses

    from .tabular import SPELLING
    table = read_table(args.problem)
    data = prepare(table.frame, args.target or ("target" if table.task else None),
                   task=table.task, drop=args.drop, dropna=args.dropna, impute=args.impute,
                   max_categories=args.max_categories, spelling=SPELLING)
    X, y = data.X, data.y
    n, d = X.shape
    classification = data.summary["task"] == "classification"
    k = len(data.spec["target"]["classes"]) if classification else 1
    lam = 1e-3

    def loss(w):
        W, b = w[: d * k].reshape(d, k), w[d * k:]
        out = X @ W + b
        data_loss = losses.cross_entropy(out, y) if classification else \
            0.5 * losses.mse(out[:, 0], y)
        return data_loss + 0.5 * lam * np.sum(W * W)

    x0 = np.random.default_rng(args.seed).normal(scale=0.01, size=d * k + k)
    rates = {n: (args.lr if args.lr is not None else {"sgd": 0.1, "momentum": 0.1,
                                                         "nesterov": 0.1, "kfac": 0.5}.get(n, 0.05))
             for n in _STEPPERS + _LAYERED}
    return table, data, loss, x0, rates, (X, y, classification)


def _final(r):
    """The sort key of the results table: the final value, NaN and diverged runs last."""
    final = r["f"][-1] if r["f"] else float("nan")
    return (0, final) if math.isfinite(final) else (1, 0.0)


def _results_table(section, results, distance=None):
    """The results, best final value first."""
    from gradkit.report import format_number

    def value(v):  # losses far apart in scale: four significant digits each
        return format_number(v, significant=4)

    rows = []
    for name, r in sorted(results.items(), key=lambda item: _final(item[1])):
        best = min(r["f"]) if r["f"] else float("nan")
        row = [name, value(r["f"][-1] if r["f"] else float("nan")), value(best),
               len(r["path"]) - 1,
               r["nfev"][-1] if r["nfev"] else 0, f"{r['time'][-1] * 1e3:.1f} ms" if r["time"]
               else "", r["status"]]
        if distance is not None:
            row.insert(3, value(distance(r["path"][-1]) if len(r["path"]) else float("nan")))
        rows.append(row)
    header = ["optimizer", "final f", "best f", "iterations", "evaluations", "time", "status"]
    if distance is not None:
        header.insert(3, "distance to nearest minimum")
    section.table(rows, header=header)


def _plane(center, paths):
    """Two orthonormal directions spanning the paths best (PCA of their points)."""
    points = np.concatenate([p for p in paths if len(p)]) - center
    _, s, vt = np.linalg.svd(points, full_matrices=False)
    if s.size < 2 or s[1] <= 1e-12 * max(s[0], 1e-300):
        rng = np.random.default_rng(0)
        d1 = vt[0] if s.size and s[0] > 0 else rng.normal(size=center.size)
        d1 = d1 / np.linalg.norm(d1)
        d2 = rng.normal(size=center.size)
        d2 -= d2 @ d1 * d1
        return d1, d2 / np.linalg.norm(d2)
    return vt[0], vt[1]


def run(args) -> int:
    """Run ``gradkit race`` with parsed ``args``; returns the exit status.

    Every optimizer of ``args.optimizers`` runs from one start on a 2-D test function of
    :mod:`gradkit.optim.landscapes` (paths drawn on its contours) or on the penalized loss of
    softmax / least-squares regression on a data set; the summary is printed and the report
    written to ``args.report``.

    Args:
        args: the parsed ``argparse.Namespace`` of ``gradkit race`` (see
            :func:`gradkit.cli.main.build_parser`).

    Returns:
        int: the exit status (0).

    Raises:
        CLIError: for an unknown problem or an option that does not apply to it (one line,
            exit status 2).

    Examples:
        >>> import os, tempfile
        >>> from gradkit.cli.main import build_parser
        >>> report = os.path.join(tempfile.mkdtemp(), "race.html")
        >>> args = build_parser().parse_args(
        ...     ["race", "beale", "--optimizers", "adam,lbfgs", "--steps", "20",
        ...      "--report", report])
        >>> run(args)
        gradkit race: beale: 2 optimizers, 20 steps each
          lbfgs      best f ...
          adam       best f ...
        0
        >>> os.path.exists(report)
        True
    """
    from gradkit import plot
    from gradkit.report import Report

    from .fit import data_section, figure_block

    debug = getattr(args, "debug", False)
    key = str(args.problem).lower().replace("-", "_")
    is_function = key in FUNCTION_NAMES or key in ("ill_conditioned", "ill_conditioned_quadratic")
    if not is_function and not os.path.exists(args.problem) and \
            key not in ("breast_cancer", "digits", "wine", "iris", "diabetes"):
        raise CLIError(f"{args.problem!r} is neither a test function ({', '.join(FUNCTION_NAMES)})"
                       " nor a data file or bundled data set.")
    if not is_function and args.start is not None:  # never silently ignore an option
        raise CLIError(f"--start sets the starting point on a test function; {args.problem!r} "
                       "is a data set, whose race starts from a small random point. Leave "
                       "out --start.")
    results = {}
    if is_function and any(n in _LAYERED for n in args.optimizers):
        raise CLIError("kfac (K-FAC) preconditions the layers of a network (gradkit.nn Linear "
                       "/ Conv2d); a test function is a function of a point, with no layers: "
                       f"race kfac on a data set (gradkit race iris --optimizers kfac,adam,lbfgs)"
                       ", or see MLPClassifier(optimizer='kfac') and benchmarks/bench_kfac.py.")
    if is_function:
        problem, x0, rates, f_star = _function_problem(args)
        steps = args.steps or 300
        for name in args.optimizers:
            results[name] = run_racer(name, problem.f, x0, steps, rates.get(name),
                                      getattr(args, "restarts", 0), args.seed)
        title = f"gradkit race: {problem.name}"
        report = Report(title, f"{len(results)} optimizers from {tuple(x0.tolist())}, "
                        f"{steps} steps each")
        section = report.section("Problem")
        summary = (problem.f.__doc__ or problem.name).strip().splitlines()[0]
        section.text(summary.replace("``", ""))  # docstring markup is not for the page
        section.table([("function", problem.name), ("start", tuple(x0.tolist())),
                       ("minima", "; ".join(str(m) for m in problem.minima)),
                       ("minimum value", f_star), ("steps per optimizer", steps)]
                      + [(f"learning rate of {n}", rates[n]) for n in args.optimizers
                         if n in _STEPPERS])
        minima = np.array(problem.minima)
        paths = {n: r["path"] for n, r in results.items() if len(r["path"])}
        section = report.section("Landscape and paths")
        section.text("Contours of the function, faint arrows along the negative gradient (the "
                     "direction of steepest descent), and every optimizer's path in its own "
                     "colour and marker, from the common start (the ring) to its last iterate "
                     "(its large marker).")
        figure_block(section, lambda: plot.landscape(problem.f, problem.xlim, problem.ylim,
                                                      paths=paths, title=problem.name,
                                                      figsize=(9.0, 6.2)),
                     "Optimizer paths on the loss landscape.", debug)

        def distance(x):
            return float(np.min(np.linalg.norm(minima - x, axis=1)))
    else:
        table, data, loss, x0, rates, model = _data_problem(args)
        steps = args.steps or 100
        for name in args.optimizers:
            results[name] = run_racer(name, loss, x0, steps, rates.get(name),
                                      getattr(args, "restarts", 0), args.seed, model)
        f_star = None
        distance = None
        report = Report(f"gradkit race: {table.name}", f"{len(results)} optimizers on the "
                        f"{'softmax' if data.summary['task'] == 'classification' else 'least-squares'}"
                        f" regression loss, {steps} steps each")
        data_section(report, table.name, data)
        section = report.section("Problem")
        section.text("Every optimizer minimizes the same full-batch objective (mean loss + "
                     "0.001/2 * ||W||^2) from the same small random start, so the race "
                     "compares the optimizers alone.")
        section.table([(f"learning rate of {n}", rates[n]) for n in args.optimizers
                       if n in rates] + [("steps per optimizer", steps),
                                             ("parameters", x0.size)])
        paths = {n: r["path"] for n, r in results.items() if len(r["path"])}
        best = min(results, key=lambda n: min(results[n]["f"] or [np.inf]))
        center = paths[best][-1] if best in paths else x0
        d1, d2 = _plane(center, list(paths.values()))
        projected = {n: np.stack([(p - center) @ d1, (p - center) @ d2], axis=1)
                     for n, p in paths.items()}
        allp = np.concatenate(list(projected.values()))
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        pad = np.maximum((hi - lo) * 0.15, 1e-3)

        def sliced(p):
            return loss(center + p[0] * d1 + p[1] * d2)

        section = report.section("Landscape and paths")
        section.text(f"The loss on the plane through the best final point ({best}) spanned by "
                     "the two main directions of all paths (PCA), with every path projected "
                     "onto it.")
        figure_block(section, lambda: plot.landscape(
            sliced, (lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]),
            paths=projected, resolution=40, arrow_grid=12, title="loss slice",
            figsize=(9.0, 6.2)),
            "A 2-D slice of the loss with the projected paths.", debug)

    section = report.section("Loss against evaluations and time")
    section.text("An evaluation is one call of the function: each value, gradient or Hessian "
                 "pass calls it once, so a Newton step costs more evaluations than an SGD step."
                 + (" The gap to the minimum value f - f* is shown on a log scale."
                    if f_star is not None else ""))
    race_input = {n: {"f": r["f"], "nfev": r["nfev"], "time": r["time"]}
                  for n, r in results.items() if r["f"]}
    figure_block(section, lambda: plot.race(race_input, f_star=f_star, figsize=(11.0, 4.4)),
                 "Loss against function evaluations (left) and wall-clock time (right).", debug)
    section = report.section("Results")
    _results_table(section, results, distance)
    path = report.write(args.report)
    ranked = sorted(results, key=lambda n: min(results[n]["f"] or [np.inf]))
    print(for_terminal(f"{report.title}: {len(results)} optimizers, {steps} steps each"))
    for n in ranked:
        r = results[n]
        print(f"  {n:<10} best f {min(r['f'] or [float('nan')]):<12.6g} "
              f"{r['nfev'][-1] if r['nfev'] else 0:>5} evaluations  {r['status']}")
    print(for_terminal(f"  report: {path}"))
    return 0
