"""Natural gradient descent: damped CG solves against Fisher-vector products J^T Lambda J v."""
from __future__ import annotations

import math

from ..autodiff import hvp as _hvp
from ..autodiff import jvp as _jvp
from ..autodiff import vjp as _vjp
from ..autodiff.trace import getval
from .line_search import line_search as _line_search
from .minimize import NO_PROGRESS, inf_norm

__all__ = ["fisher_vector_product", "conjugate_gradient", "minimize_natural",
           "natural_gradient_descent"]


def fisher_vector_product(model, loss, params):
    r"""Return ``fvp(v) = J^T Lambda J v`` at ``params`` (the Fisher / Gauss-Newton matrix).

    J is the Jacobian of ``model`` (params -> outputs) and :math:`\Lambda` the Hessian of
    ``loss`` (outputs -> scalar negative log-likelihood) in the outputs. For an exponential
    family in its natural parameters (softmax / sigmoid cross-entropy from logits, squared
    error) this is exactly the Fisher information. Each product costs one jvp (J v), one
    Hessian-vector product of the loss in output space, and one call of a pullback (J^T u)
    recorded once; no matrix is formed. ``v`` and the result have the structure of params.

    Args:
        model: ``model(params) -> outputs``, plain NumPy.
        loss: ``loss(outputs) -> scalar``, the negative log-likelihood of the outputs.
        params: the point, an array or a pytree.

    Returns:
        ``fvp``, a function of ``v`` (in ``params``' structure) that returns
        :math:`J^T \Lambda J v` in the same structure.

    Examples:
        >>> import numpy as np
        >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
        >>> half_square = lambda z: 0.5 * np.sum(z ** 2)   # Lambda = I, so F = X^T X
        >>> fvp = fisher_vector_product(lambda w: X @ w, half_square, np.zeros(2))
        >>> fvp(np.array([1.0, 1.0]))
        array([1., 4.])
    """
    out, pullback = _vjp(model, params)
    out = getval(out)
    loss_hvp = _hvp(loss)

    def fvp(v):
        Jv = _jvp(model, (params,), (v,))[1]
        return getval(pullback(getval(loss_hvp(out, getval(Jv))))[0])
    return fvp


def conjugate_gradient(matvec, b, tol=1e-10, max_iter=100):
    r"""Solve :math:`A x = b` for symmetric positive definite A given as ``matvec``.

    Stops when :math:`\|r\|_2 \le \mathrm{tol} \|b\|_2` or after ``max_iter`` products.

    Args:
        matvec: ``matvec(v) -> A v`` for a symmetric positive definite A.
        b: the right-hand side, a 1-D array.
        tol: the relative residual to stop at.
        max_iter: the largest number of products with A.

    Returns:
        ``(x, n_products)``.

    Examples:
        >>> import numpy as np
        >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
        >>> np.round(conjugate_gradient(lambda v: A @ v, np.array([1.0, 2.0]))[0], 6)
        array([0.090909, 0.636364])
    """
    x = b * 0.0
    r = b.copy()
    p = r.copy()
    rr = float(r @ r)
    stop = tol * math.sqrt(rr)
    for j in range(max_iter):
        if math.sqrt(rr) <= stop or rr == 0.0:
            return x, j
        Ap = matvec(p)
        pAp = float(p @ Ap)
        if not pAp > 0:
            return x, j + 1
        a = rr / pAp
        x = x + a * p
        r = r - a * Ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, max_iter


def minimize_natural(objective, x, monitor, *, model=None, loss=None, line_search="wolfe",
                     damping=1e-4, adaptive_damping=False, learning_rate=1.0,
                     cg_max_iter=None, cg_tol=1e-10):
    r"""Natural gradient descent: :math:`x_{k+1} = x_k - \alpha_k d_k`,
    :math:`(F_k + \lambda I) d_k = \nabla f(x_k)`.

    :math:`F_k = J^T \Lambda J` is the Fisher matrix of the model at :math:`x_k`
    (:func:`fisher_vector_product`), the linear system is solved by
    :func:`conjugate_gradient` (never forming F), and the damping :math:`\lambda`
    (``damping``, default 1e-4) keeps a singular Fisher from breaking the solve. With
    ``adaptive_damping=True`` it follows Levenberg-Marquardt (Martens 2010): with
    :math:`\rho` the actual over the predicted reduction, :math:`\lambda \leftarrow
    \tfrac{2}{3}\lambda` if :math:`\rho > 3/4`, :math:`\tfrac{3}{2}\lambda` if
    :math:`\rho < 1/4`. The step :math:`\alpha_k` starts at ``learning_rate`` (1) and is
    checked by the line search (fixed when ``line_search=None``).

    f may include terms outside the likelihood (e.g. an L2 penalty :math:`\tfrac{c}{2}\|x\|^2`):
    the gradient is that of f, the curvature that of the likelihood, so ``damping=c`` makes
    the step exactly Newton's for a canonical-link GLM.

    Options: ``model`` (params -> outputs), ``loss`` (outputs -> scalar NLL), ``damping``,
    ``adaptive_damping``, ``learning_rate``, ``cg_max_iter`` (default min(n, 100) + 10),
    ``cg_tol``.

    Where the Fisher-vector products come from: when ``fun`` has an ``fvp(w, v)`` method that
    is not None (:func:`gradkit.optim.blockwise_objective` built with ``model=``, for data in
    Dask blocks: each block computes :math:`J_b^T \Lambda_b J_b v` where it lives and the
    driver sums them), the solver uses it and takes no ``model`` / ``loss``; otherwise it
    builds them from ``model`` and ``loss`` with :func:`fisher_vector_product`. The CG solve,
    the line search and the damping run on the driver either way.

    Args:
        objective: the :class:`~gradkit.optim.minimize.Objective` that
            :func:`~gradkit.optim.minimize` built (values, gradients, Hessians, all counted).
        x: the flat starting point (a copy of ``objective.x0``).
        monitor: the :class:`~gradkit.optim.minimize.Monitor` that records each iterate and says
            when to stop (``tol``, ``max_iter``, callbacks).
        model: ``params -> outputs`` (not needed when ``fun`` has an ``fvp`` method).
        loss: ``outputs -> scalar`` negative log-likelihood, whose curvature gives the Fisher.
        line_search: ``"wolfe"`` (strong Wolfe), ``"armijo"`` (backtracking) or None (the unit
            step, or ``learning_rate``).
        damping: :math:`\lambda`, added to the Fisher's diagonal.
        adaptive_damping: adapt :math:`\lambda` by Levenberg-Marquardt's rule.
        learning_rate: the first trial step :math:`\alpha`.
        cg_max_iter: conjugate-gradient iterations per solve (default min(n, 100) + 10).
        cg_tol: the solve's residual tolerance.

    Returns:
        tuple: ``(status, message)``, why the run stopped; the result's point is the best the
        monitor saw.

    Examples:
        >>> import numpy as np
        >>> from gradkit.optim.minimize import minimize
        >>> X, y = np.array([[1.0, 2.0], [3.0, 1.0], [0.5, 0.5]]), np.array([1.0, 2.0, 0.0])
        >>> loss = lambda z: 0.5 * np.sum((z - y) ** 2)
        >>> r = minimize(None, np.zeros(2), method="natural", model=lambda w: X @ w, loss=loss)
        >>> r.success, np.round(r.x, 4)
        (True, array([0.6   , 0.1619]))
    """
    fisher = getattr(objective.fun, "fvp", None)  # an objective that brings its own F v
    if fisher is not None and (model is not None or loss is not None):
        raise ValueError("method='natural' got model=/loss= and an objective with its own "
                         "Fisher-vector products (fvp, e.g. blockwise_objective(..., model=)); "
                         "give the Fisher one way: drop model= and loss=.")
    if fisher is None and getattr(objective.fun, "distributed", False):
        raise ValueError("method='natural' on a Dask blockwise objective needs its "
                         "Fisher-vector products computed block by block: build the objective "
                         "with blockwise_objective(loss, X, y, model=model), where "
                         "model(w, X_block) gives the outputs and loss(outputs, y_block) the "
                         "negative log-likelihood.")
    if fisher is None and (model is None or loss is None):
        raise ValueError("method='natural' needs model= (params -> outputs) and loss= "
                         "(outputs -> scalar negative log-likelihood), or an objective with "
                         "an fvp method (blockwise_objective(..., model=)).")
    n = x.shape[0]
    cg_max_iter = min(n, 100) + 10 if cg_max_iter is None else cg_max_iter
    unravel, ravel = objective.unravel, objective.ravel
    f, g = objective.value_and_grad(x)
    stop = monitor.start(x, f, inf_norm(g))
    lam = float(damping)
    while stop is None:
        w = unravel(x)
        if fisher is None:
            fvp = fisher_vector_product(model, loss, w)
        else:
            def fvp(v, w=w):  # noqa: E306 (one w per iteration: its pullback can be reused)
                return fisher(w, v)

        def matvec(v):
            objective.nhev += 1
            return ravel(fvp(unravel(v))) + lam * v
        d, _ = conjugate_gradient(matvec, g, cg_tol, cg_max_iter)
        gd = float(g @ d)
        if not gd > 0:
            d, gd = g, float(g @ g)
        if line_search is None:
            alpha = learning_rate
            x_new = x - alpha * d
            f_new, g_new = objective.value_and_grad(x_new)
        else:
            ls = _line_search(objective, x, -d, f, g, line_search, learning_rate)
            if not ls.success:
                return (NO_PROGRESS, "Stopped: the line search found no lower f along the "
                        f"natural-gradient direction (gradient inf-norm {inf_norm(g):.3g}); "
                        "rounding error probably limits further progress.")
            alpha, x_new, f_new, g_new = ls.alpha, ls.x, ls.f, ls.g
        if adaptive_damping:
            # F d = g - lam d for the CG solution, so d^T F d = g^T d - lam d^T d
            dFd = gd - lam * float(d @ d)
            predicted = alpha * gd - 0.5 * alpha * alpha * dFd
            rho = (f - f_new) / predicted if predicted > 0 else 0.0
            lam = lam * 2.0 / 3.0 if rho > 0.75 else (lam * 1.5 if rho < 0.25 else lam)
        x, f, g = x_new, f_new, g_new
        stop = monitor.step(x, f, inf_norm(g), alpha, damping=lam)
    return stop


def natural_gradient_descent(model, loss, x0, *, fun=None, **kwargs):
    r"""Natural gradient descent on :math:`f(x) = \mathrm{loss}(\mathrm{model}(x))` (or ``fun``).

    Shorthand for ``minimize(fun, x0, method="natural", model=model, loss=loss, **kwargs)``;
    see :func:`minimize_natural` for the update and its options.

    Args:
        model: ``model(x) -> outputs``, plain NumPy.
        loss: ``loss(outputs) -> scalar``, the negative log-likelihood of the outputs.
        x0: the start, an array or a pytree.
        fun: the objective, when it is not ``loss(model(x))`` (e.g. with a penalty).
        **kwargs: passed to :func:`minimize` (``learning_rate``, ``damping``, ``tol``, ...).

    Returns:
        OptimizeResult: as :func:`minimize`.

    Examples:
        >>> import numpy as np
        >>> X, y = np.array([[1.0, 2.0], [3.0, 1.0]]), np.array([1.0, 2.0])
        >>> r = natural_gradient_descent(lambda w: X @ w, lambda z: 0.5 * np.sum((z - y) ** 2),
        ...                              np.zeros(2))
        >>> np.round(r.x, 4)
        array([0.6, 0.2])
    """
    from .minimize import minimize
    return minimize(fun, x0, method="natural", model=model, loss=loss, **kwargs)
