"""``minimize``: one front door to every full-batch solver, and the ``OptimizeResult`` it returns."""
from __future__ import annotations

import importlib
import inspect
import math
import numbers

import numpy as np

from ..autodiff import hessian as _hessian
from ..autodiff import hvp as _hvp
from ..autodiff import value_and_grad as _value_and_grad
from ..autodiff import jit as _jit
from ..autodiff.trace import getval
from ..backend import array_namespace
from ..tree import ravel_pytree
from .line_search import ROUNDING

__all__ = ["minimize", "OptimizeResult", "METHODS"]

# method name -> (module, solver function, default max_iter)
_SOLVERS = {
    "gd": ("quasi_newton", "minimize_gd", 10000),
    "newton": ("newton", "minimize_newton", 200),
    "newton-cg": ("newton", "minimize_newton_cg", 1000),
    "bfgs": ("quasi_newton", "minimize_bfgs", 15000),
    "lbfgs": ("quasi_newton", "minimize_lbfgs", 15000),
    "frank-wolfe": ("frank_wolfe", "minimize_frank_wolfe", 1000),
    "natural": ("natural_gradient", "minimize_natural", 500),
    "proximal": ("proximal", "minimize_proximal", 10000),
    "subgradient": ("subgradient", "minimize_subgradient", 1000),
    "trust-ncg": ("trust_region", "minimize_trust_ncg", 1000),
    "trust-exact": ("trust_region", "minimize_trust_exact", 1000),
}
_ALIASES = {"ista": ("proximal", {"accelerated": False}),
            "fista": ("proximal", {"accelerated": True}),
            "l-bfgs": ("lbfgs", {}), "l-bfgs-b": ("lbfgs", {}),
            "frank_wolfe": ("frank-wolfe", {}), "conditional-gradient": ("frank-wolfe", {}),
            "newton_cg": ("newton-cg", {}), "gradient-descent": ("gd", {}),
            "trust_ncg": ("trust-ncg", {}), "trust_exact": ("trust-exact", {})}
#: Every name ``minimize(method=...)`` accepts: the solvers and their aliases.
METHODS = tuple(_SOLVERS) + tuple(_ALIASES)

# status codes, shared by every solver
CONVERGED, MAX_ITER, NO_PROGRESS, NONFINITE, CALLBACK, NO_CHANGE = 0, 1, 2, 3, 4, 5
_SUCCESS = {CONVERGED, NO_CHANGE}


class OptimizeResult(dict):
    """The outcome of :func:`minimize`: a dict whose keys are also attributes (as in scipy).

    Keys: ``x`` (the best point seen, in the structure of ``x0``), ``fun`` (f there),
    ``grad_norm`` (the stopping measure there: the gradient's inf-norm, projected for bounds,
    the gradient mapping for ``proximal``, the duality gap for ``frank-wolfe``), ``nit``,
    ``nfev`` / ``ngev`` / ``nhev`` (evaluations of f, gradient, Hessian or Hessian-vector
    products), ``success``, ``status`` (0 converged, 1 max_iter, 2 no further progress,
    3 NaN / inf, 4 callback, 5 n_iter_no_change), ``message``, and ``history`` (a dict of
    per-iteration lists, iteration 0 first: ``f``, ``grad_norm``, ``step_size``, and ``gap``
    for Frank-Wolfe).

    Examples:
        >>> r = OptimizeResult(x=1.0, fun=0.5)
        >>> r.fun
        0.5
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"OptimizeResult has no field {name!r}; it has "
                                 f"{sorted(self)}.") from None

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self):
        keys = [k for k in ("message", "success", "status", "fun", "x", "nit", "nfev", "ngev",
                            "nhev", "grad_norm") if k in self]
        width = max(map(len, keys), default=0)
        return "\n".join(f"{k.rjust(width)}: {self[k]!r}" for k in keys)

    def __dir__(self):
        return list(self.keys())

    def _repr_html_(self):
        """The result as a table in a notebook (every value escaped); arrays are shortened."""
        import html

        import numpy as np

        def cell(v):
            if isinstance(v, (float, np.floating)):
                return f"{float(v):.6g}"
            text = np.array2string(v, threshold=8, precision=4) if isinstance(v, np.ndarray) \
                else repr(v)
            return text if len(text) <= 200 else text[:197] + "..."

        keys = [k for k in ("message", "success", "status", "fun", "x", "nit", "nfev", "ngev",
                            "nhev", "grad_norm") if k in self]
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(cell(self[k]))}</td></tr>"
                       for k in keys)
        steps = len((self.get("history") or {}).get("f", []))
        note = f"<caption>OptimizeResult ({steps} iterations in history)</caption>"
        return f"<table>{note}{rows}</table>"


def _scalar(v):
    """``fun``'s value as a Python float, or a TypeError that says what it returned."""
    v = getval(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        shape = getattr(v, "shape", None)
        what = f"an array of shape {shape}" if shape is not None else type(v).__name__
        raise TypeError(f"minimize: fun must return a scalar (a number or a 0-d array); it "
                        f"returned {what}. Return the objective's value, e.g. np.sum(...) "
                        f"or out[0].") from None


class Objective:
    """f on a flat vector: derivatives from the engine or the user, counted evaluations.

    Solvers see only flat 1-D arrays; ``unravel`` turns one back into the user's structure
    (a reshape view for a plain array, the pytree for a pytree).
    """

    def __init__(self, fun, x0, grad=None, value_and_grad=None, hvp=None, hess=None,
                 jit=False):
        self.fun = fun
        self.jit = jit  # compile the engine's value_and_grad with gk.jit
        self.nfev = self.ngev = self.nhev = 0
        self.is_tree = not hasattr(x0, "dtype")
        if self.is_tree:
            flat, self.unravel = ravel_pytree(x0)
            self.ravel = lambda t: ravel_pytree(t)[0]
            if getattr(flat, "dtype", np.dtype(float)).kind not in "fc":
                flat = flat.astype(float)
        else:
            flat = x0 if x0.dtype.kind in "fc" else x0.astype(float)
            shape = x0.shape
            if flat.ndim == 1:
                self.unravel = self.ravel = lambda v: v
            else:
                self.unravel = lambda v: v.reshape(shape)
                self.ravel = lambda t: t.reshape(-1)
            flat = flat.reshape(-1).copy()
        self.x0 = flat
        # an objective object (gradkit.optim.blockwise_objective) brings its own derivatives
        if grad is None and value_and_grad is None:
            value_and_grad = getattr(fun, "value_and_grad", None)
        hvp = getattr(fun, "hvp", None) if hvp is None else hvp
        hess = getattr(fun, "hess", None) if hess is None else hess
        self._grad, self._vg, self._hvp, self._hess = grad, value_and_grad, hvp, hess
        self._engine_vg = None

    def value(self, x):
        """f(x) (one plain call, no tracing)."""
        self.nfev += 1
        if self._vg is not None and self._grad is None:
            self.ngev += 1
            return _scalar(self._vg(self.unravel(x))[0])
        return _scalar(self.fun(self.unravel(x)))

    def value_and_grad(self, x):
        """(f(x), flat gradient), in one engine pass unless the user gave the gradient."""
        self.nfev += 1
        self.ngev += 1
        if self._vg is not None:
            f, g = self._vg(self.unravel(x))
        elif self._grad is not None:
            f, g = self.fun(self.unravel(x)), self._grad(self.unravel(x))
        else:
            if self._engine_vg is None:
                self._engine_vg = _value_and_grad(self.fun)
                if self.jit:
                    self._engine_vg = _jit(self._engine_vg)
            f, g = self._engine_vg(self.unravel(x))
            if type(g) is np.ndarray and not self.is_tree:  # the engine's plain answer
                return _scalar(f), self.ravel(g)
        return _scalar(f), self._checked(self.ravel(getval(g)), x, "grad=" if self._vg is None
                                         else "value_and_grad=")

    def _checked(self, flat, x, what):
        """A user-given derivative, flattened: it must have x0's shape (as many entries)."""
        if np.shape(flat) != x.shape:
            raise ValueError(f"minimize: {what} returned {np.size(flat)} entries where x0 has "
                             f"{x.shape[0]}; it must return an array shaped like x0 (or a "
                             "pytree like it).")
        return flat

    def hvp(self, x, v):
        """The Hessian-vector product H(x) v (``gk.hvp`` unless the user gave it)."""
        self.nhev += 1
        fn = self._hvp if self._hvp is not None else _hvp(self.fun)
        return self.ravel(getval(fn(self.unravel(x), self.unravel(v))))

    def hess(self, x):
        """The Hessian as an (n, n) matrix in the flat coordinates."""
        self.nhev += 1
        n = x.shape[0]
        if self._hess is not None:
            H = getval(self._hess(self.unravel(x)))
            if np.size(H) != n * n:
                raise ValueError(f"minimize: hess= returned an array of shape {np.shape(H)}; "
                                 f"with {n} parameters it must be ({n}, {n}).")
            return H.reshape(n, n)
        if self.is_tree:  # build it column by column from Hessian-vector products
            self.nhev -= 1
            eye = array_namespace(x).eye(n, dtype=x.dtype)  # on x's device
            return np.stack([self.hvp(x, eye[i]) for i in range(n)], axis=1)
        return getval(_hessian(self.fun)(self.unravel(x))).reshape(n, n)


class Monitor:
    """The shared stopping vocabulary: tol, max_iter, ftol, n_iter_no_change, callback.

    Solvers call :meth:`start` at x0 and :meth:`step` after every iteration; both return
    ``None`` to go on or ``(status, message)`` to stop. The monitor keeps the history and the
    best point seen, which is what the result returns: the lowest f among the iterates, where
    values within rounding of the lowest (``ROUNDING * |f|``, see
    :mod:`gradkit.optim.line_search`) count as ties and the smaller stopping measure wins, so
    a run that converges on a plateau of rounding noise returns its converged point.
    """

    def __init__(self, objective, tol, max_iter, callback=None, ftol=0.0,
                 n_iter_no_change=None, measure="gradient inf-norm"):
        self.objective = objective
        self.tol, self.max_iter, self.callback = tol, max_iter, callback
        self.ftol, self.n_iter_no_change = ftol, n_iter_no_change
        self.measure = measure
        self.nit = 0
        self.history = {"f": [], "grad_norm": [], "step_size": []}
        self._append = tuple(self.history[k].append for k in ("f", "grad_norm", "step_size"))
        self.best_x, self.best_f, self.best_gnorm = None, math.inf, math.inf
        self.min_f = math.inf
        self._no_change = 0
        self._prev_f = None

    def _record(self, x, f, gnorm, step, extra):
        append_f, append_gnorm, append_step = self._append
        append_f(f)
        append_gnorm(gnorm)
        append_step(step)
        if extra:
            for k, v in extra.items():
                self.history.setdefault(k, []).append(v)
        if not (math.isfinite(f) and math.isfinite(gnorm)):
            return (NONFINITE, f"Stopped at iteration {self.nit}: the objective or its "
                    f"gradient became {'NaN' if (f != f or gnorm != gnorm) else 'inf'} "
                    f"(f={f}, {self.measure}={gnorm}). The best finite point is returned; "
                    "lower the step size or start closer to the solution.")
        lowest = min(self.min_f, f)
        noise = ROUNDING * abs(lowest)
        if self.best_x is None or (f <= lowest + noise and (
                f < self.best_f - noise or gnorm < self.best_gnorm
                or (gnorm == self.best_gnorm and f < self.best_f))):
            self.best_x = x.copy()
            self.best_f, self.best_gnorm = f, gnorm
        self.min_f = lowest
        if gnorm <= self.tol:
            return (CONVERGED, f"Converged: the {self.measure} {gnorm:.3g} is <= tol={self.tol:g}.")
        return None

    def start(self, x, f, gnorm, **extra):
        """Record iteration 0; stop at once if x0 already satisfies tol (or max_iter is 0)."""
        self._prev_f = f
        stop = self._record(x, f, gnorm, 0.0, extra)
        if stop is None and self.max_iter == 0:
            return (MAX_ITER, f"Stopped: max_iter=0 iterations; x0 is returned (its "
                    f"{self.measure} is {gnorm:.3g}).")
        return stop

    def step(self, x, f, gnorm, step_size, **extra):
        """Record one finished iteration and decide whether to stop."""
        self.nit += 1
        prev_best = self.min_f
        stop = self._record(x, f, gnorm, step_size, extra)
        if stop is not None and stop[0] == NONFINITE:
            return stop
        if self.callback is not None:  # after every finished iteration, the last too (scipy)
            info = OptimizeResult(x=self.objective.unravel(x.copy()), fun=f, grad_norm=gnorm,
                                  nit=self.nit, step_size=step_size, **extra)
            if self.callback(info) is True and stop is None:
                return (CALLBACK, f"Stopped by the callback at iteration {self.nit}.")
        if stop is not None:
            return stop
        if self.ftol > 0 and self._prev_f is not None:
            scale = max(abs(self._prev_f), abs(f), 1.0)
            if 0 <= (self._prev_f - f) / scale <= self.ftol:
                self._prev_f = f
                return (CONVERGED, f"Converged: the relative reduction of f is <= "
                        f"ftol={self.ftol:g}.")
        self._prev_f = f
        if self.n_iter_no_change:
            threshold = max(abs(prev_best), 1.0) * self.ftol
            self._no_change = 0 if f < prev_best - threshold else self._no_change + 1
            if self._no_change >= self.n_iter_no_change:
                return (NO_CHANGE, f"Stopped: f did not improve for {self.n_iter_no_change} "
                        "iterations (n_iter_no_change).")
        if self.nit >= self.max_iter:
            return (MAX_ITER, f"Stopped: max_iter={self.max_iter} iterations reached before "
                    f"the {self.measure} ({gnorm:.3g}) fell to tol={self.tol:g}; raise "
                    "max_iter or tol.")
        return None


def inf_norm(v):
    """max |v_i| as a Python float (0 for an empty vector)."""
    if not v.shape[0]:
        return 0.0
    if type(v) is np.ndarray:  # the reduction itself, without ndarray.max's Python wrapper
        return float(_maximum(abs(v), axis=None))
    return float(abs(v).max())


_maximum = np.maximum.reduce


def _bind(f, args):
    """``x -> f(x, *args)`` (None stays None)."""
    if f is None:
        return None
    return lambda x: f(x, *args)


def minimize(fun, x0, method="lbfgs", *, args=(), grad=None, value_and_grad=None, hvp=None,
             hess=None, tol=1e-6, max_iter=None, callback=None, constraint=None, bounds=None,
             line_search="wolfe", ftol=0.0, n_iter_no_change=None, n_restarts=0,
             random_state=None, restart_scale=1.0, **options):
    r"""Minimize a scalar function written in plain NumPy: :math:`\min_x f(x)`.

    Every derivative the method needs comes from the engine (one ``value_and_grad`` pass
    gives f and the gradient; Hessian-vector products come from ``gk.hvp``) unless given.

    Methods (``method=``): ``"gd"`` (gradient descent, line search or fixed
    ``learning_rate``), ``"newton"`` (modified Newton: H + tau I until Cholesky succeeds),
    ``"newton-cg"`` (truncated Newton on Hessian-vector products), ``"bfgs"``, ``"lbfgs"``
    (memory ``memory=10``, box ``bounds`` by projection), ``"frank-wolfe"`` (conditional
    gradient over ``constraint``, see :mod:`gradkit.optim.frank_wolfe`), ``"natural"``
    (natural gradient with ``model=`` and ``loss=``), ``"proximal"`` / ``"ista"`` /
    ``"fista"`` (``l1=``, ``l2=``: a number, or per-coordinate weights in x0's structure with 0
    for an unpenalized coordinate; ``accelerated=``), ``"subgradient"``, ``"trust-ncg"``
    (Steihaug-Toint CG in a trust region, on Hessian-vector products), ``"trust-exact"``
    (the trust-region subproblem solved exactly from the Hessian, Moré-Sorensen; see
    :mod:`gradkit.optim.trust_region`). Method-specific options are documented on each
    solver (``gradkit.optim.quasi_newton.minimize_lbfgs``, ...).

    Args:
        fun: ``fun(x) -> scalar``, plain NumPy. For ``"natural"`` it may be ``None``
            (then f = loss(model(x))). An object with ``value_and_grad`` / ``hvp`` / ``hess``
            / ``fvp`` (Fisher-vector products, for ``"natural"``) methods (such as
            :func:`gradkit.optim.blockwise_objective`, for data in Dask blocks) supplies
            the derivatives it has.
        x0: starting point: an array of any shape or a pytree of arrays. A list (or tuple)
            of plain numbers is an array, as in scipy (``minimize(f, [1.0, 2.0])``).
        method: one of the names above (default ``"lbfgs"``).
        args: extra positional arguments, as scipy's: ``fun(x, *args)`` (and the same for
            ``grad``, ``value_and_grad``, ``hvp(x, v, *args)`` and ``hess``), e.g. the data.
        grad: ``grad(x) -> g``, a user-supplied gradient in x0's structure.
        value_and_grad: ``value_and_grad(x) -> (f, g)``, f and the gradient in one call
            (the fastest way to give derivatives).
        hvp: ``hvp(x, v) -> H v``, a user-supplied Hessian-vector product.
        hess: ``hess(x) -> H``, the Hessian as a matrix (flat ``x`` only).
        tol: stop when the stopping measure is <= tol: the inf-norm of the gradient
            (``max_i |g_i|``, as scipy's gtol; projected gradient with bounds; gradient
            mapping for proximal; the Frank-Wolfe duality gap for frank-wolfe). By default
            (``ftol=0``) it is the only convergence test: where f's differences sink below
            rounding, the Wolfe search judges steps by their slopes (approximate Wolfe), so
            tol is reached where scipy's L-BFGS-B stops early; status 2 if even that fails.
        max_iter: iteration limit (default depends on the method).
        callback: ``callback(intermediate_result) -> bool`` after each iteration; returning
            True stops the run (status 4). ``intermediate_result`` has x, fun, grad_norm, nit.
        constraint: the constraint set for ``"frank-wolfe"`` (e.g. ``Simplex()``).
        bounds: ``(lower, upper)`` arrays or scalars (None = unbounded) for ``"lbfgs"``.
        line_search: ``"wolfe"`` (strong Wolfe), ``"armijo"`` (backtracking) or ``None``.
        ftol: if > 0, stop when ``(f_prev - f) / max(|f_prev|, |f|, 1) <= ftol`` (scipy
            L-BFGS-B's factr * eps test); also the improvement threshold of n_iter_no_change.
        n_iter_no_change: stop (success) after this many iterations without a lower f.
        n_restarts: also run the method from this many random starts
            :math:`x_0 + \sigma \odot \varepsilon`, :math:`\varepsilon \sim N(0, I)`, with
            :math:`\sigma_j = \mathrm{restart\_scale} \cdot \max(1, |x_{0,j}|)` (x0 itself is
            run first), and keep the run with the lowest f (ties within rounding: the smaller
            stopping measure). Its fields are the winner's, except ``nfev`` / ``ngev`` /
            ``nhev``, summed over every run; ``n_restarts``, ``restart`` (the winner: 0 is x0,
            i the i-th random start), ``restart_x0`` (where it started) and ``restart_fun``
            (every run's f) say what happened. ``callback`` is called in every run.
        random_state: seed or ``np.random.Generator`` of the restarts' starts.
        restart_scale: the spread of the restarts' starts (see n_restarts).
        **options: method-specific options.

    Returns:
        OptimizeResult: the best point seen (never a worse one) and the run's record.

    Raises:
        ValueError: unknown method, an option the method does not take, or bad bounds.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> from gradkit.optim.minimize import minimize
        >>> r = minimize(lambda x: np.sum((x - 3.0) ** 2), np.zeros(2), method="lbfgs")
        >>> r.success, np.round(r.x, 6)
        (True, array([3., 3.]))
    """
    for name in options.keys() & _SCIPY_NAMES.keys():
        raise TypeError(f"minimize: {name}= is scipy's name; gradkit's is {_SCIPY_NAMES[name]}.")
    if isinstance(x0, (list, tuple)) and _all_numbers(x0):
        x0 = np.asarray(x0, dtype=float)
    if n_restarts:
        return _restarted(fun, x0, method, n_restarts, random_state, restart_scale,
                          dict(args=args, grad=grad, value_and_grad=value_and_grad, hvp=hvp,
                               hess=hess, tol=tol, max_iter=max_iter, callback=callback,
                               constraint=constraint, bounds=bounds, line_search=line_search,
                               ftol=ftol, n_iter_no_change=n_iter_no_change, **options))
    name = method.lower() if isinstance(method, str) else method
    if name in _ALIASES:
        name, extra = _ALIASES[name]
        options = {**extra, **options}
    if name not in _SOLVERS:
        raise ValueError(f"Unknown method {method!r}. Valid methods: "
                         f"{', '.join(repr(m) for m in METHODS)}.")
    if not (isinstance(tol, numbers.Real) and not isinstance(tol, bool) and tol >= 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}.")
    module, solver_name, default_iter = _SOLVERS[name]
    if max_iter is None:
        max_iter = default_iter
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 0):
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}.")
    if line_search not in ("wolfe", "armijo", None):
        raise ValueError(f"line_search must be 'wolfe', 'armijo' or None, got {line_search!r}.")
    if constraint is not None and name != "frank-wolfe":
        raise ValueError(f"constraint= is used by method='frank-wolfe' only, not {method!r}; "
                         "for box bounds with lbfgs pass bounds=(lower, upper).")
    if bounds is not None and name != "lbfgs":
        raise ValueError(f"bounds= is supported by method='lbfgs' only, not {method!r}.")
    if name == "natural" and fun is None:
        model, loss = options.get("model"), options.get("loss")
        if model is None or loss is None:
            raise ValueError("method='natural' needs model= and loss= (and fun=None means "
                             "f(x) = loss(model(x))).")
        fun = lambda x: loss(model(x))  # noqa: E731
    if not callable(fun):
        raise TypeError(f"fun must be a callable fun(x) -> scalar, got {type(fun).__name__}.")
    if not isinstance(args, tuple):  # (scipy's: one extra argument, an array say)
        args = () if args is None else (args,)
    if args:
        fun, grad, value_and_grad, hess = (_bind(f, args) for f in (fun, grad, value_and_grad,
                                                                    hess))
        hvp = None if hvp is None else (lambda x, v, _h=hvp: _h(x, v, *args))

    objective = Objective(fun, x0, grad=grad, value_and_grad=value_and_grad, hvp=hvp,
                          hess=hess)
    if objective.x0.dtype.kind == "c":
        raise TypeError("minimize: x0 is complex, and the methods minimize over real "
                        "parameters; write f of z = u + 1j * v as a function of the real pair "
                        "(u, v) (a dict {'u': ..., 'v': ...} works as x0).")
    bad = np.flatnonzero(~np.isfinite(objective.x0))
    if bad.size:
        raise ValueError(f"minimize: x0 has {bad.size} entries that are not finite (NaN or "
                         f"inf), the first at flat index {bad[0]}; start from finite values.")
    measure = {"frank-wolfe": "Frank-Wolfe gap", "proximal": "gradient-mapping inf-norm",
               "subgradient": "subgradient inf-norm"}.get(
        name, "projected-gradient inf-norm" if bounds is not None else "gradient inf-norm")
    monitor = Monitor(objective, tol, max_iter, callback, ftol, n_iter_no_change, measure)
    solver = getattr(importlib.import_module(f".{module}", __package__), solver_name)
    kwargs = dict(options)
    if name in ("gd", "newton", "newton-cg", "bfgs", "lbfgs", "natural"):
        kwargs["line_search"] = line_search
    if name == "lbfgs":
        kwargs["bounds"] = bounds
    if name == "frank-wolfe":
        kwargs["constraint"] = constraint
    params = inspect.signature(solver).parameters
    unknown = sorted(k for k in kwargs if k not in params)
    if unknown:
        valid = [p for p in params if p not in ("objective", "x", "monitor", "line_search",
                                                 "bounds", "constraint")]
        raise ValueError(f"method={method!r} does not take the option(s) {unknown}; its "
                         f"options are {valid} (see help(gradkit.optim.{module}."
                         f"{solver_name})).")
    status, message = solver(objective, objective.x0.copy(), monitor, **kwargs)
    best = monitor.best_x if monitor.best_x is not None else objective.x0
    return OptimizeResult(
        x=objective.unravel(best), fun=monitor.best_f, grad_norm=monitor.best_gnorm,
        nit=monitor.nit, nfev=objective.nfev, ngev=objective.ngev, nhev=objective.nhev,
        success=status in _SUCCESS, status=status, message=message,
        history=monitor.history, method=name)


# scipy.optimize.minimize's names for things gradkit names otherwise: refused with the name
_SCIPY_NAMES = {"maxiter": "max_iter=", "jac": "grad= (or value_and_grad=)", "hessp": "hvp=",
                "gtol": "tol= (on the gradient's inf-norm)",
                "options": "to give the options as keywords (max_iter=100, tol=1e-8)"}


def _all_numbers(seq):
    """Whether a (nested) list or tuple holds only plain numbers: scipy's array-like x0."""
    return bool(seq) and all(_all_numbers(v) if isinstance(v, (list, tuple)) else
                             isinstance(v, (int, float, np.integer, np.floating))
                             and not isinstance(v, bool) for v in seq)


def _restarted(fun, x0, method, n_restarts, random_state, restart_scale, kwargs):
    """:func:`minimize` from x0 and ``n_restarts`` random starts around it; the best run."""
    if not (isinstance(n_restarts, (int, np.integer)) and n_restarts >= 0):
        raise ValueError(f"n_restarts must be an integer >= 0, got {n_restarts!r}.")
    if not (isinstance(restart_scale, (int, float)) and restart_scale > 0):
        raise ValueError(f"restart_scale must be a number > 0, got {restart_scale!r}.")
    rng = random_state if isinstance(random_state, np.random.Generator) else \
        np.random.default_rng(random_state)
    is_tree = not hasattr(x0, "dtype")
    flat, unravel = ravel_pytree(x0) if is_tree else (np.asarray(x0, dtype=float).reshape(-1),
                                                       None)
    flat = np.asarray(flat, dtype=float)
    sigma = restart_scale * np.maximum(1.0, np.abs(flat))
    constraint = kwargs.get("constraint")  # (frank-wolfe: each start projected into the set)
    starts = [x0]
    for _ in range(n_restarts):
        v = flat + sigma * rng.standard_normal(flat.shape)
        if constraint is not None:
            point = constraint.project(unravel(v) if is_tree else v.reshape(np.shape(x0)))
            v = ravel_pytree(point)[0] if is_tree else np.asarray(point, float).reshape(-1)
        starts.append(unravel(v) if is_tree else v.reshape(np.shape(x0)))
    runs = [minimize(fun, s, method, **kwargs) for s in starts]
    funs = [float(r.fun) for r in runs]
    lowest = min((f for f in funs if math.isfinite(f)), default=math.inf)
    # the lowest f wins; within rounding of it, the smaller stopping measure (Monitor's rule)
    ties = [i for i, f in enumerate(funs) if f <= lowest + ROUNDING * abs(lowest)]
    win = min(ties, key=lambda i: (runs[i].grad_norm, funs[i])) if ties else 0
    best = runs[win]
    for k in ("nfev", "ngev", "nhev"):
        best[k] = sum(r[k] for r in runs)
    best.update(n_restarts=n_restarts, restart=win, restart_x0=starts[win], restart_fun=funs)
    return best
