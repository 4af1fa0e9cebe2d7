"""Linear models fit by gradients: linear regression, logistic regression, linear SVM."""
from __future__ import annotations

import operator

import numpy as np
from scipy.special import expit, softmax
from sklearn.utils._param_validation import StrOptions

from gradkit.autodiff.trace import is_ndarray
from gradkit.data.distributed import is_dask_collection
from gradkit.nn import losses

from .base import (CLASS_WEIGHT, GradientClassifier, GradientEstimator, GradientRegressor,
                   ProbabilisticClassifier, _weighted_mean, store_parameters)
from .persistence import register

__all__ = ["LinearRegression", "LogisticRegression", "LinearSVM"]


class _LinearModel(GradientEstimator):
    """``f(X) = X @ coef + intercept``: params ``{"coef": (n_features, n_outputs),
    "intercept": (n_outputs,)}``, started at zero; the penalty applies to ``coef`` (``"intercept"``
    is one of :data:`gradkit.nn.losses.UNPENALIZED_KEYS`)."""

    _parameter_constraints: dict = {**GradientEstimator._parameter_constraints,
                                    "fit_intercept": ["boolean"]}

    def _init_params(self, n_features, rng):
        k = self._n_outputs
        return {"coef": np.zeros((n_features, k)), "intercept": np.zeros(k)}, {}

    def _apply(self, params, model_state, X, train=False, rng=None):
        out = X @ params["coef"]
        if self.fit_intercept:
            out = out + params["intercept"]
        return out, model_state

    def _set_public_attributes(self):
        self.coef_ = np.array(self.params_["coef"]).T
        self.intercept_ = np.array(self.params_["intercept"]) if self.fit_intercept \
            else np.zeros(self.coef_.shape[0])

    def _default_method(self):
        if self.penalty in ("l1", "elasticnet") and self.alpha > 0:
            return "proximal"
        return "lbfgs"

    def _solver_options(self, method, X, w=None):
        """The subgradient method's base steps: ``1 / s^2`` for the coefficients, ``s^2`` the
        mean square of the features (rows weighted by ``w``, so that a weight of 2 is the row
        twice), and 1 for the intercepts (their column is 1). A linear model's subgradient
        grows with the features' scale and its solution shrinks with it, so one step for all
        overshoots on features of scale 100 by 10^4 (the run then keeps its starting point,
        the best it saw), and leaves the intercept creeping. For standardized features every
        step is the method's default ``a = 1``. (One step per feature, ``1 / s_j^2``, would
        suit each feature's scale but makes the L2 penalty's steps on a feature of scale
        1e-3 overshoot: the mean keeps them in range.)"""
        if method != "subgradient":
            return {}
        rows = np.sum(np.square(X), axis=1) / X.shape[1]
        s2 = float(np.mean(rows) if w is None else (w @ rows) / np.sum(w))
        if not (np.isfinite(s2) and s2 > 0):
            return {}
        step = 1.0 / s2
        if self.penalty in ("l2", "elasticnet") and self.alpha > 0:
            # the penalty (alpha / 2n) ||coef||^2 is a quadratic of curvature alpha / n: a
            # step beyond n / alpha overshoots it (features of scale 0.01)
            step = min(step, X.shape[0] / float(self.alpha))
        k = self._n_outputs
        return {"learning_rate": {"coef": np.full((X.shape[1], k), step),
                                  "intercept": np.ones(k)}}

    def _loss_curvature(self, out):
        """The Hessian of the data loss with respect to the outputs, for the losses whose
        structure :meth:`_hessian_function` knows: a function ``w(j, l)`` giving
        ``n * d^2 loss / d out_ij d out_il`` for every row ``i`` (an ``(n,)`` array, or one
        number for all rows). The base class knows none (None)."""
        return None

    def _loss_residual(self, out, T, w=None):
        """``(mean data loss, d loss / d out * n_rows)`` for the losses whose structure
        :meth:`_value_and_grad_function` knows, or None (``w``: the rows' weights of mean 1,
        or None). The base class knows none."""
        return None

    def _value_and_grad_function(self, n):
        """``J`` and its gradient written out from the linear structure, one pass over the
        batch each way, instead of the engine's trace (the fast path of every solver and
        of every mini-batch step)::

            out = X coef + intercept,   r = n_b * d loss / d out   (n_b rows in the batch)
            J = loss(out, T) + (alpha / n) ||coef||^2 / 2
            dJ/dcoef = X^T r / n_b + (alpha / n) coef,   dJ/dintercept = sum_i r_i / n_b

        with ``r = out - T`` for least squares and ``r = p - T`` for the cross-entropies
        (``p`` the sigmoid or softmax of ``out``): :meth:`_loss_residual`. Equal to the
        engine's gradient of ``_objective`` to rounding (tested); only without a penalty or
        with ``penalty="l2"``, else None.
        """
        if (type(self)._loss_residual is _LinearModel._loss_residual
                or (self.penalty in ("l1", "elasticnet") and self.alpha != 0)):
            return None
        fit_intercept = self.fit_intercept

        def value_and_grad(params, X, T, w=None):
            plan = self._penalty_plan(params, n, False)  # None or l2 (checked above)
            coef = params["coef"]
            # np.dot where X is a NumPy array (or gk.jit's value of one): the matrix product
            # of @, in BLAS without matmul's ufunc machinery (a batch of 32 rows of 50
            # features: 0.8 against 1.0 us each way, and 0.45 us compiled)
            product = np.dot if type(X) is np.ndarray or is_ndarray(X) else operator.matmul
            out = product(X, coef)
            if fit_intercept:
                b = params["intercept"]
                # one output's intercept as a 0-d view: NumPy's scalar loop (the same sums);
                # broadcasting a (1,) array costs about 300 ns more on a small batch
                out += b.reshape(()) if b.shape == (1,) else b
            loss, r = self._loss_residual(out, T) if w is None else \
                self._loss_residual(out, T, w)
            r /= X.shape[0]
            g_coef = product(X.T, r)
            g_int = r.sum(axis=0) if fit_intercept else np.zeros_like(params["intercept"])
            if plan is not None:
                ridge = plan[2] * plan[3]
                loss = loss + ridge * (0.5 * np.vdot(coef, coef))
                g_coef += ridge * coef
            # (NumPy scalars, not float(): a compiled step replays them; the values are
            # the same doubles)
            return loss, {"coef": g_coef, "intercept": g_int}

        return value_and_grad

    #: whether :meth:`_loss_curvature` ignores ``out`` (least squares): the Hessian is then
    #: the same at every point and is built once per fit
    _constant_curvature = False

    def _hessian_function(self, X, T, n, w=None, n_penalty=None):
        """The Hessian of ``J`` built in one pass from the loss's structure, for
        ``optimizer="newton"`` (passed as ``minimize``'s ``hess=``), or None where this model
        does not know it (then the engine builds it).

        With ``Z = [X, 1]`` (the column of ones is zeros without ``fit_intercept``: the
        intercept then does not change J) and the parameters laid out as ``minimize`` flattens
        them, ``theta = [coef; intercept]`` raveled row by row (index ``a * k + j`` for input
        ``a``, output ``j``)::

            H[(a, j), (b, l)] = (1/n) sum_i Z_ia W_ijl Z_ib  +  (alpha / n) [a = b < d] [j = l]

        i.e. ``Z^T diag(W_jl) Z / n`` per pair of outputs, with ``W`` from
        :meth:`_loss_curvature` (least squares: ``[j = l]``; binary cross-entropy:
        ``p (1 - p)``; softmax cross-entropy: ``p_j [j = l] - p_j p_l``), times the row's
        weight ``w_i`` (mean 1) with sample weights, and the L2 penalty on ``coef`` only
        (``alpha / n_penalty``, the sum of the weights). It equals the engine's
        ``gk.hessian`` of J to rounding (tested); only without a penalty or with
        ``penalty="l2"``, on NumPy data (and on Dask data for least squares). Where ``W`` is
        constant (least squares, :attr:`_constant_curvature`) the Hessian is the same at
        every point: it is built once per fit from ``X``'s blocks (:func:`_gram`: ``X^T X``
        and the column sums, summed block by block for Dask data, ``Z`` never built);
        otherwise ``Z`` is built once and each call forms ``(Z * W_jl)^T Z``, as
        ``(sqrt(W_jj) Z)^T (sqrt(W_jj) Z)`` for the blocks ``j = l`` (``W_jj >= 0``: a
        symmetric product, BLAS's syrk, half the flops).
        """
        plan = self._penalty_plan(self.params_, n if n_penalty is None else n_penalty, False)
        constant = self._constant_curvature
        if ((is_dask_collection(X) and not (constant and w is None))
                or (plan is not None and plan[1] != 0.0)
                or type(self)._loss_curvature is _LinearModel._loss_curvature):
            return None
        d, k = X.shape[1], T.shape[1]
        ridge = 0.0 if plan is None else plan[2] * plan[3]
        fit_intercept, weights = self.fit_intercept, w
        unit = []  # Z^T Z, for the constant weights of least squares, once per fit
        built = []  # the whole Hessian where it does not depend on the point
        Z = []  # [X, 1], built once for the Grams of a curvature that changes every step

        def gram(wjm, diagonal):
            if constant:  # one Gram per fit: from X's blocks, without copying X into Z
                return _gram(X, wjm, fit_intercept)
            if not Z:
                Z.append(np.empty((X.shape[0], d + 1)))
                Z[0][:, :d] = X
                Z[0][:, d] = 1.0 if fit_intercept else 0.0
            if wjm is None:
                return Z[0].T @ Z[0]
            if diagonal:  # weights >= 0: (sqrt(w) Z)^T (sqrt(w) Z), a symmetric product
                Zs = Z[0] * np.sqrt(wjm)[:, None]  # (BLAS syrk: half the flops of Z^T W Z)
                return Zs.T @ Zs
            return (Z[0] * wjm[:, None]).T @ Z[0]

        def hess(params):
            if built:
                return built[0]
            out = None if constant else self._apply(params, self.model_state_, X)[0]
            curvature = self._loss_curvature(out)
            H = np.zeros((d + 1, k, d + 1, k))
            for j in range(k):
                for m in range(j, k):
                    wjm = curvature(j, m)
                    if weights is not None:
                        wjm = wjm * weights
                    if isinstance(wjm, float):
                        if wjm == 0.0:
                            continue
                        if not unit:
                            unit.append(gram(None, True))
                        G = wjm * unit[0]
                    else:
                        G = gram(wjm, j == m)
                    H[:, j, :, m] = G
                    H[:, m, :, j] = G.T
            H = H.reshape((d + 1) * k, (d + 1) * k)
            H /= n
            if ridge:
                H[np.arange(d * k), np.arange(d * k)] += ridge
            if constant:
                built.append(H)
            return H

        return hess

    def _hvp_function(self, X, T, n, w=None, n_penalty=None):
        """The Hessian-vector product of ``J`` from the loss's structure, for
        ``optimizer="newton-cg"`` and ``"trust-ncg"`` (``minimize``'s ``hvp=``), or None where
        :meth:`_hessian_function` would be None (then the engine's forward-over-reverse
        product is used)::

            u = X v_coef + v_intercept                       (n, k)
            (W u)_ij = sum_l W_ijl u_il                      (the curvature of the loss)
            H v = ( X^T (w * W u) / n + (alpha / n) v_coef,  sum_i (w * W u)_i / n )

        two passes over X per product; the curvature ``W`` at a point is computed once and
        kept for every product at that point (a CG solve makes many). Equal to the engine's
        product to rounding (tested).
        """
        plan = self._penalty_plan(self.params_, n if n_penalty is None else n_penalty, False)
        if (is_dask_collection(X) or (plan is not None and plan[1] != 0.0)
                or type(self)._loss_curvature is _LinearModel._loss_curvature):
            return None
        k = T.shape[1]
        ridge = 0.0 if plan is None else plan[2] * plan[3]
        fit_intercept, weights = self.fit_intercept, w
        at = {}  # the point of the last product and the curvature there

        def hvp(params, v):
            coef, intercept = params["coef"], params["intercept"]
            if not (at and np.array_equal(at["coef"], coef)
                    and np.array_equal(at["intercept"], intercept)):
                at.clear()
                at.update(coef=np.array(coef), intercept=np.array(intercept),
                          curvature=self._loss_curvature(
                              None if self._constant_curvature
                              else self._apply(params, self.model_state_, X)[0]))
            curvature = at["curvature"]
            u = X @ v["coef"]
            if fit_intercept:
                u = u + v["intercept"]
            Wu = np.empty_like(u)
            for j in range(k):
                Wu[:, j] = sum(curvature(j, m) * u[:, m] for m in range(k))
            if weights is not None:
                Wu *= weights[:, None]
            Wu /= n
            hv_coef = X.T @ Wu
            if ridge:
                hv_coef += ridge * v["coef"]
            hv_int = Wu.sum(axis=0) if fit_intercept else np.zeros_like(v["intercept"])
            return {"coef": hv_coef, "intercept": hv_int}

        return hvp


def _gram(X, w, fit_intercept):
    """``Z^T diag(w) Z`` for ``Z = [X, 1]`` (``w`` None: all ones; the last row and column
    zero without ``fit_intercept``), from ``X`` without building ``Z``; Dask ``X`` (``w``
    None) is summed block by block, in one pass."""
    d = X.shape[1]
    Xw = X if w is None else X * w[:, None]
    XtX, colsum = Xw.T @ X, Xw.sum(axis=0)
    if is_dask_collection(X):
        import dask
        XtX, colsum = dask.compute(XtX, colsum)
    G = np.zeros((d + 1, d + 1))
    G[:d, :d] = XtX
    if fit_intercept:
        G[:d, d] = G[d, :d] = colsum
        G[d, d] = X.shape[0] if w is None else w.sum()
    return G


_ATTRIBUTES_DOC = """
    Attributes:
        coef_: the coefficients, shaped as scikit-learn's: ``(n_features,)`` for one
            target and ``(n_targets, n_features)`` for more (regression); ``(1, n_features)``
            for two classes and ``(n_classes, n_features)`` for more (classifiers).
        intercept_: the intercepts (zeros without ``fit_intercept``).
        n_features_in_: the number of features seen by ``fit``.
        n_iter_: the iterations (full batch) or epochs (transformations) run.
        loss_curve_: the objective per iteration or epoch.
        best_loss_: the lowest of them.
        validation_scores_: the validation score per epoch (with ``early_stopping``).
            ``history_["val_loss"]`` / ``["val_score"]`` / ``["val_step"]`` hold the
            objective and the score on the validation rows at the end of each epoch
            (iteration) whenever there are some (``validation_data`` or ``early_stopping``).
        params_: the parameter pytree ``{"coef": (n_features, n_outputs), "intercept": ...}``.
        history_: per step ``loss``, ``learning_rate``, ``grad_norm`` / ``update_ratio`` per
            parameter group (``gradkit.diagnostics.GradientMonitor``).
        diverged_: whether training diverged (a NaN / inf, or a loss or parameter norm 1e3
            times its best; the best parameters are kept).
        diverged_at_: the step at which it diverged (None when it did not).
        stop_reason_: why training stopped: ``"converged"``, ``"no_improvement"``,
            ``"max_iter"``, ``"diverged"``, ``"callback"`` or ``"interrupted"`` (Ctrl-C).
        feature_importances_: mean absolute integrated gradients of the output (the predicted
            class for classifiers) from the mean training row, over up to 256 evenly spaced
            training rows (``gradkit.explain.feature_importances``), computed on first
            access and cached, so that ``fit`` does not pay for it.
"""


_CLASS_WEIGHT_DOC = """        class_weight: None, ``"balanced"`` (class ``k`` weighs ``n_samples / (n_classes *
            n_k)``, the rows counted with their ``sample_weight``, as scikit-learn's) or a
            dict ``{label: weight}`` (1 for the labels it leaves out); it multiplies
            ``fit``'s ``sample_weight``.
"""


def _linear_doc(summary, example, *, auto=('``"lbfgs"``; ``"proximal"`` with an L1 part in '
                                           'the penalty'), extra_args=""):
    """The docstring of a linear estimator: its ``summary``, the arguments and attributes the
    three share (``auto`` says what ``optimizer="auto"`` picks, ``extra_args`` documents the
    estimator's own arguments), then its doctest ``example``."""
    return f"""{summary}
    Args:
        optimizer: ``"auto"`` ({auto}), a full-batch method of
            :func:`gradkit.optim.minimize` (``"lbfgs"``, ``"newton"``, ``"newton-cg"``,
            ``"bfgs"``, ``"gd"``, ``"proximal"``, ``"subgradient"``), the name
            of a gradient transformation (``"sgd"``, ``"momentum"``, ``"nesterov"``,
            ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``, ``"adamax"``, ``"nadam"``) or
            any :class:`gradkit.optim.GradientTransformation` (such an estimator pickles only
            if the transformation does, and ``save`` refuses it).
        learning_rate: step size of a named transformation: a number or a schedule
            ``step -> rate`` (unused by the full-batch methods, which search a step).
        batch_size: rows per step of a transformation: ``None`` full batch, ``1`` stochastic,
            ``k`` mini-batch (shuffled every epoch from ``random_state``), ``"auto"``
            ``min(200, n)``.
        max_iter: iterations of a full-batch method, epochs of a transformation.
        tol: stop when the gradient inf-norm is <= ``tol`` (full batch), or after
            ``n_iter_no_change`` epochs without an improvement of ``tol``.
        n_iter_no_change: epochs without an improvement of ``tol`` before stopping.
        early_stopping: hold out ``validation_fraction`` of the rows (stratified for
            classifiers; or use ``fit``'s ``validation_data``) and stop on its score
            (transformations only).
        validation_fraction: the share of rows held out, in (0, 1).
        penalty: ``"l2"``, ``"l1"``, ``"elasticnet"`` or None (see :mod:`gradkit.models.base`).
        alpha: the penalty's strength, >= 0.
        l1_ratio: the L1 share of the elastic net, in [0, 1].
        fit_intercept: learn ``intercept_`` (never penalized, by the proximal L1 step neither).
        clip_norm: clip each step's gradient to this global norm (None: no clipping).
        random_state: seeds shuffling, validation split and initialization.
        verbose: show a tqdm progress bar on stderr with the epoch (iteration of a full-batch
            method), the loss and the global gradient norm.
        warm_start: ``fit`` continues from the last solution.
        on_nan: ``"stop"`` (warn and keep the last finite parameters) or ``"raise"``.
        record_every: put every k-th step (iteration) in ``history_``, from the first: 1
            records them all; a larger k saves the monitor's per-step cost in long
            stochastic runs. ``"auto"`` (default) records every iteration of a full-batch
            method and every step of a stochastic run of up to 1,000 steps; a longer run
            records every ``ceil(steps / 1000)``-th step, about 1,000 records (PyTorch
            Lightning logs every 50th step by default). Divergence (a NaN / inf loss,
            gradient or parameter) is still checked at every step.
        callbacks: a list of callbacks (:mod:`gradkit.models.callbacks`: ``EarlyStopping``,
            ``ReduceLROnPlateau``, ``HistoryLogger`` or any object with
            ``on_epoch_end(info)``), called after every epoch (every iteration of a
            full-batch method); one returning True stops training. A model file stores
            ``callbacks=None``.
        jit: compile each mini-batch step (gradient, optimizer update and the monitor's
            norms) with :func:`gradkit.jit`: traced on the first batch, then replayed as
            plain NumPy calls, with the same results to the bit. ``False`` runs the engine
            on every step. Ignored by the full-batch methods, with Dask data and where a step
            cannot be replayed (a learning rate a callback changes).
{extra_args}{_ATTRIBUTES_DOC}
    Examples:{_indent(example)}"""


def _indent(example):
    """The doctest ``example`` indented under an ``Examples:`` header."""
    return "\n".join("    " + line if line.strip() else line for line in example.split("\n"))


@register
class LinearRegression(GradientRegressor, _LinearModel):
    __doc__ = _linear_doc(
        r"""Least squares, optionally penalized (ridge, lasso, elastic net), fit by gradients.

    Minimizes ``(1/n) * [ sum_i ||y_i - (x_i @ coef + intercept)||^2 / 2 + alpha * R(coef) ]``
    (``R`` as in :mod:`gradkit.models.base`). With ``penalty=None`` (the default) this is
    scikit-learn's ``LinearRegression``; with ``penalty="l2"`` it is ``Ridge(alpha=alpha)``
    (same ``alpha``), with ``"l1"`` ``Lasso(alpha=alpha / n)``.
    """, """
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = 2 * X[:, 0] + 1
    >>> model = LinearRegression().fit(X, y)
    >>> np.round(model.coef_, 4), round(float(model.intercept_), 4)
    (array([2.]), 1.0)
    >>> ridge = LinearRegression(penalty="l2", alpha=0.1).fit(X, y)   # auto: one Newton step
    >>> ridge.optimizer_kind().optimizer, ridge.n_iter_
    ('newton', 1)

    """, auto=(
        '``"newton"`` for ``penalty="l2"`` with ``alpha > 0``, ``fit_intercept=True`` and at '
        'most ``NEWTON_MAX_PARAMETERS = 1000`` parameters ``p = (n_features + 1) * '
        'n_targets``: J is then the quadratic ``J(theta_0) + g^T s + s^T H s / 2`` in ``s = '
        'theta - theta_0``, whose Hessian ``H = Z^T Z / n + (alpha / n) I_coef`` (``Z = [X, '
        '1]``, the ridge on ``coef`` only) is the same at every point, is built once in one '
        'pass over X, and is positive definite for every X (its Schur complement on ``coef`` '
        'is the centered ``X^T X / n + (alpha / n) I``); so the first Newton step ``s = '
        '-H^{-1} g`` (a Cholesky solve) lands on the minimizer: it solves the normal '
        'equations ``(Z^T Z + alpha I_coef) theta = Z^T y``, as scikit-learn\'s '
        '``Ridge(solver="cholesky")`` does, and the fit ends after one iteration. '
        '``"lbfgs"`` otherwise: without a penalty or an intercept ``H`` may be singular '
        '(collinear columns, fewer rows than features, the unused intercept), and beyond 1000 '
        'parameters building ``H`` costs ``O(n p^2 + p^3)`` against ``O(n p)`` per L-BFGS '
        'iteration; ``"proximal"`` with an L1 part in the penalty'))

    #: the most parameters, ``(n_features + 1) * n_targets``, for which ``optimizer="auto"``
    #: solves by Newton's method (its Hessian, p x p, is built and factorized once)
    NEWTON_MAX_PARAMETERS = 1000

    def __init__(self, *, optimizer="auto", learning_rate=0.01, batch_size=None, max_iter=1000,
                 tol=1e-6, n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 penalty=None, alpha=1.0, l1_ratio=0.15, fit_intercept=True, clip_norm=None,
                 random_state=None, verbose=False, warm_start=False, on_nan="stop",
                 record_every="auto", callbacks=None, jit=True):
        store_parameters(self, locals())

    def _data_loss(self, out, T, w=None):
        if w is None:
            return 0.5 * T.shape[1] * losses.mse(out, T)
        return 0.5 * T.shape[1] * _weighted_mean(losses.mse(out, T, reduction="none"), w)

    def _loss_residual(self, out, T, w=None):
        # (1 / n_b) sum_i ||out_i - T_i||^2 / 2, whose gradient in out_i is (out_i - T_i) / n_b
        r = out - T
        if w is None:
            return 0.5 * np.vdot(r, r) / out.shape[0], r
        wr = w[:, None] * r
        return 0.5 * np.vdot(wr, r) / out.shape[0], wr

    _constant_curvature = True

    def _default_method(self):
        d = getattr(self, "n_features_in_", None)  # set by fit before it trains
        if (self.penalty == "l2" and self.alpha > 0 and self.fit_intercept
                and (d is None or (d + 1) * getattr(self, "_n_outputs", 1)
                     <= self.NEWTON_MAX_PARAMETERS)):
            return "newton"
        return super()._default_method()  # "proximal" with an L1 part, else "lbfgs"

    def _loss_curvature(self, out):
        # half the squared error summed over the targets: the identity, for every row
        return lambda j, m: 1.0 if j == m else 0.0

    def _set_public_attributes(self):
        super()._set_public_attributes()
        if self._y_ndim == 1:
            self.coef_, self.intercept_ = self.coef_[0], self.intercept_[0]


@register
class LogisticRegression(ProbabilisticClassifier, _LinearModel):
    _parameter_constraints: dict = {**_LinearModel._parameter_constraints,
                                    "class_weight": CLASS_WEIGHT}

    __doc__ = _linear_doc(
        r"""Logistic regression (binary and multinomial) fit by gradients.

    Two classes: ``p(y = classes_[1] | x) = sigmoid(x @ coef + intercept)``; more:
    ``p(y = k | x) = softmax(x @ coef + intercept)_k`` (one coefficient row per class, as
    scikit-learn's multinomial model). Minimizes the mean cross-entropy plus
    ``alpha * R(coef) / n``: with ``alpha = 1 / C`` this is exactly scikit-learn's objective
    ``C * sum_i loss_i + R(coef)`` divided by ``C * n``, so the default ``alpha=1.0`` is
    scikit-learn's ``C=1.0`` and both reach the same coefficients.
    """, """
    >>> import numpy as np
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
    >>> model = LogisticRegression().fit(X, y)
    >>> model.predict(np.array([[-3.0], [3.0]]))
    array([0, 1])
    """, extra_args=_CLASS_WEIGHT_DOC)

    def __init__(self, *, optimizer="auto", learning_rate=0.01, batch_size=None, max_iter=100,
                 tol=1e-4, n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 penalty="l2", alpha=1.0, l1_ratio=0.15, fit_intercept=True, clip_norm=None,
                 random_state=None, verbose=False, warm_start=False, on_nan="stop",
                 record_every="auto", class_weight=None, callbacks=None, jit=True):
        store_parameters(self, locals())

    def _loss_residual(self, out, T, w=None):
        if out.shape[1] == 1:  # mean of log(1 + e^z) - y z; gradient sigmoid(z) - y
            z = out[:, 0]
            if z.shape[0] < _FEW_ROWS:  # a mini-batch: the fewest NumPy calls
                per_row = np.logaddexp(0.0, z) - T[:, 0] * z
                r = expit(out) - T
            else:  # one exp for both: log(1 + e^z) = max(z, 0) + log1p(e)
                e = np.exp(-np.abs(z))
                per_row = np.maximum(z, 0.0) + np.log1p(e) - T[:, 0] * z
                r = _sigmoid(z, e)[:, None] - T
        else:  # mean of logsumexp(z) - sum_k t_k z_k; gradient softmax(z) - t
            top = out.max(axis=1, keepdims=True)
            shifted = out - top
            e = np.exp(shifted)
            total = e.sum(axis=1, keepdims=True)
            per_row = np.log(total[:, 0]) - np.sum(T * shifted, axis=1)
            r = e / total - T  # softmax(out) - T, as scipy.special.softmax computes it
        if w is None:
            return np.mean(per_row), r
        return np.mean(w * per_row), w[:, None] * r

    def _loss_curvature(self, out):
        if out.shape[1] == 1:  # binary cross-entropy of the logit: p (1 - p)
            p = _sigmoid(out[:, 0])
            w = p * (1.0 - p)
            return lambda j, m: w
        P = softmax(out, axis=1)  # softmax cross-entropy: diag(p) - p p^T
        return lambda j, m: P[:, j] * ((1.0 if j == m else 0.0) - P[:, m])


#: Below this many rows the binary logistic loss and residual use ``np.logaddexp`` and
#: scipy's ``expit`` (2 calls: a mini-batch step pays per call, 2.8 us against 6.2 us at 32
#: rows); from it, :func:`_sigmoid`'s vectorized ``exp`` (12 us against 22 us at 1,024
#: rows, a half at 1e5). The two agree to an ulp.
_FEW_ROWS = 512


def _sigmoid(z, e=None):
    """``sigmoid(z) = 1 / (1 + exp(-z))`` from ``e = exp(-|z|)`` (computed when not given):
    ``1 / (1 + e)`` for ``z >= 0``, ``e / (1 + e)`` below, so nothing overflows. NumPy's
    ``exp`` is vectorized (SIMD) where scipy's ``expit`` is not: at 1e4 rows this and the
    loss's ``log1p(e)`` take a quarter of the time of ``expit`` and ``logaddexp``, with the
    same values to an ulp."""
    if e is None:
        e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


@register
class LinearSVM(GradientClassifier, _LinearModel):
    __doc__ = _linear_doc(
        r"""Linear support vector machine (one-vs-rest for many classes) fit by gradients.

    Each output column ``k`` scores ``s_k = x @ coef_k + intercept_k`` against the target
    ``t_k = +1`` for class ``k`` (``classes_[1]`` with two classes) and ``-1`` otherwise, with

    - ``loss="squared_hinge"`` (default, as ``LinearSVC``): ``max(0, 1 - t_k s_k)^2``,
      smooth enough for ``"lbfgs"`` (the ``"auto"`` choice);
    - ``loss="hinge"``: ``max(0, 1 - t_k s_k)``, not differentiable at the margin:
      ``"auto"`` uses ``"subgradient"`` steps (a minimum-norm subgradient at the kink), of
      base size ``1 / s^2`` for the coefficients (``s^2`` the mean square of the features)
      and 1 for the intercept, so that they suit the features' scale.

    Minimizes ``(1/n) * [ sum_i sum_k loss_ik + alpha * R(coef) ]``, i.e. ``LinearSVC``'s
    ``C * sum loss + R`` with ``alpha = 1 / C`` (the intercept is not penalized here, while
    liblinear penalizes it). ``"auto"`` uses ``"proximal"`` steps for an L1 penalty.
    """, """
    >>> import numpy as np
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
    >>> LinearSVM().fit(X, y).predict(np.array([[-3.0], [3.0]]))
    array([0, 1])
    """, auto="see above", extra_args='        loss: ``"squared_hinge"`` or ``"hinge"``.\n' + _CLASS_WEIGHT_DOC)

    _parameter_constraints: dict = {**_LinearModel._parameter_constraints,
                                    "loss": [StrOptions({"squared_hinge", "hinge"})],
                                    "class_weight": CLASS_WEIGHT}

    def __init__(self, *, loss="squared_hinge", optimizer="auto", learning_rate=0.01,
                 batch_size=None, max_iter=1000, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, penalty="l2", alpha=1.0,
                 l1_ratio=0.15, fit_intercept=True, clip_norm=None, random_state=None,
                 verbose=False, warm_start=False, on_nan="stop",
                 record_every="auto", class_weight=None, callbacks=None, jit=True):
        store_parameters(self, locals())

    def _default_method(self):
        if self.loss == "hinge":
            return "subgradient"
        return super()._default_method()

    def _binary_targets(self, idx):
        return np.where(idx == 1, 1.0, -1.0)[:, None]

    def _prepare_targets(self, y, fitting, classes=None):
        T = super()._prepare_targets(y, fitting, classes)
        return T if T.shape[1] == 1 else 2.0 * T - 1.0

    def _data_loss(self, out, T, w=None):
        # one binary SVM per column (one-vs-rest), not the Crammer-Singer multiclass hinge
        per_element = losses.squared_hinge if self.loss == "squared_hinge" else losses.hinge
        if w is None:
            return T.shape[1] * per_element(np.reshape(out, (-1,)), T.reshape(-1))
        each = per_element(np.reshape(out, (-1,)), T.reshape(-1), reduction="none")
        return T.shape[1] * _weighted_mean(each, np.repeat(w, T.shape[1]))
