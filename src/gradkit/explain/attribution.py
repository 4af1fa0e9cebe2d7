"""Feature attribution by gradients: saliency, gradient x input, integrated gradients, SmoothGrad.

Every function takes the *model* first: either a differentiable function written in plain NumPy
or a fitted gradkit estimator.

- A function ``f`` maps one row ``x`` of shape ``(d,)`` to a number. If it is written rowwise
  (``f(X)`` of shape ``(n, d)`` returns ``(n,)``, or ``(n, k)`` class scores), a whole batch
  costs one reverse pass; otherwise it is called row by row. Rows must not interact (no
  batch statistics inside ``f``).
- A fitted estimator is explained through its raw output ``estimator._forward(X)``: the
  prediction of a regressor, the decision value (logit) of a classifier.

For class scores (an ``(n, k)`` output, or a classifier) ``target`` picks the class: an index
into the columns (``classes_``), one index per row, or None for each row's predicted class
(the argmax, or for a binary classifier with one logit ``z``, class 1 when ``z > 0``; the
score of class 0 is then ``-z``, its log-odds).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..autodiff import value_and_grad, vjp
from ..autodiff.trace import getval

__all__ = ["saliency", "gradient_x_input", "integrated_gradients", "smoothgrad",
           "feature_importances", "IntegratedGradients"]

_MAX_ROWS = 16384  # rows per reverse pass: bounds memory on long integration paths


class IntegratedGradients(NamedTuple):
    """Attributions and their completeness residual; unpacks as ``attr, residual``.

    Examples:
        For ``F(x) = sum x^2`` from the zero baseline the attributions are ``x_j^2``, which
        add up to ``F(x) - F(0)`` (completeness):

        >>> import numpy as np
        >>> attr, residual = integrated_gradients(lambda x: np.sum(x ** 2), np.array([1.0, 2.0]),
        ...                                       baseline="zeros")
        >>> attr, bool(abs(residual) < 1e-12)
        (array([1., 4.]), True)
    """

    attributions: np.ndarray  #: shaped like ``x``
    residual: np.ndarray      #: ``sum(attributions) - (F(x) - F(baseline))``, one per row


# ----------------------------------------------------------------------------- the model
class _Model:
    """A function or fitted estimator, seen as rows ``(m, d) -> selected score (m,)``."""

    def __init__(self, model, X):
        if hasattr(model, "_forward"):
            if not hasattr(model, "params_"):
                raise ValueError(f"This {type(model).__name__} is not fitted yet; call fit(X, y) "
                                 "before asking for attributions.")
            self.fun, self.batched = model._forward, True
            self.classes = getattr(model, "classes_", None)
        elif callable(model):
            self.fun, self.classes = model, None
            # a rowwise function maps m rows to m outputs; m differs from the row's length
            # d, so that a one-row function (x[0] * x[1]) does not pass for one by chance
            m = 3 if X.shape[-1] == 2 else 2
            try:
                out = np.asarray(getval(model(np.resize(X, (m,) + X.shape[1:]))))
                self.batched = out.ndim >= 1 and out.shape[0] == m
            except Exception:  # noqa: BLE001 (row by row, where a real error will show)
                self.batched = False
        else:
            raise TypeError(f"Expected a differentiable function or a fitted gradkit estimator, "
                            f"got {type(model).__name__}.")

    def outputs(self, Z):
        """Plain (undifferentiated) outputs, ``(m,)`` or ``(m, k)``."""
        if self.batched:
            out = np.asarray(getval(self.fun(Z)), dtype=float)
            if out.ndim not in (1, 2) or out.shape[0] != Z.shape[0]:
                raise ValueError(f"The model returned shape {out.shape} for {Z.shape[0]} rows; "
                                 "a rowwise model must return (n,) or (n, k).")
            return out
        return np.asarray([np.asarray(getval(self.fun(z)), dtype=float) for z in Z])

    def selection(self, X, target):
        """The cotangent per row that selects the explained score: ``(n,)`` or ``(n, k)``."""
        out = self.outputs(X)
        n = X.shape[0]
        if out.ndim == 1 or out.shape[1] == 1:  # one score per row, (n,) or (n, 1)
            if self.classes is not None and len(self.classes) == 2:
                if target is None:
                    sign = np.where(out.reshape(n) > 0, 1.0, -1.0)
                else:
                    t = np.broadcast_to(np.asarray(target), (n,))
                    if not np.all(np.isin(t, (0, 1))):
                        raise ValueError(f"target={target!r}: a binary classifier has class "
                                         "indices 0 and 1 (positions in classes_).")
                    sign = np.where(t == 1, 1.0, -1.0)
            elif target in (None, 0):
                sign = np.ones(n)
            else:
                raise ValueError(f"target={target!r} given, but the model has one output per "
                                 "row; leave target=None.")
            return sign if out.ndim == 1 else sign[:, None]
        k = out.shape[1]
        t = np.argmax(out, axis=1) if target is None else np.broadcast_to(np.asarray(target), (n,))
        if not (np.issubdtype(t.dtype, np.integer) and np.all((t >= 0) & (t < k))):
            raise ValueError(f"target={target!r} must be a class index from 0 to {k - 1} (a "
                             "position in classes_), one per row, or None for the predicted "
                             "class.")
        return np.eye(k)[t]

    def scores(self, Z, C):
        out = self.outputs(Z)
        return out * C if out.ndim == 1 else np.sum(out * C, axis=1)

    def scores_and_grads(self, Z, C):
        """The selected score of each row of ``Z`` and its gradient with respect to the row."""
        if not self.batched:
            vals, grads = [], []
            for z, c in zip(Z, C):
                v, g = value_and_grad(lambda z_, c=c: np.sum(self.fun(z_) * c))(z)
                vals.append(float(v))
                grads.append(g)
            return np.asarray(vals), np.asarray(grads, dtype=float).reshape(Z.shape)
        vals, grads = [], []
        for start in range(0, Z.shape[0], _MAX_ROWS):
            z, c = Z[start:start + _MAX_ROWS], C[start:start + _MAX_ROWS]
            out, pullback = vjp(self.fun, z)
            o = np.asarray(getval(out), dtype=float)
            if o.shape != c.shape:
                raise ValueError(f"The model returned shape {o.shape} for {z.shape[0]} rows; a "
                                 "rowwise model must return (n,) or (n, k).")
            vals.append(o * c if o.ndim == 1 else np.sum(o * c, axis=1))
            grads.append(np.asarray(pullback(c.astype(o.dtype))[0], dtype=float))
        return np.concatenate(vals), np.concatenate(grads)


def _rows(x, name="x"):
    x = np.asarray(x, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(f"{name} must be one row (d,) or a batch (n, d); got shape {x.shape}.")
    return x, x.ndim == 1, np.atleast_2d(x)


def _prepare(model, x, target):
    x, single, X = _rows(x)
    m = _Model(model, X)
    return m, single, X, m.selection(X, target)


# ----------------------------------------------------------------------------- methods
def saliency(model, x, *, target=None, absolute=True):
    """Saliency: the gradient of the model's score with respect to the input,
    ``S(x) = |dF/dx|`` (Simonyan, Vedaldi & Zisserman 2014).

    Args:
        model: a differentiable function or a fitted gradkit estimator (see the module).
        x: one row ``(d,)`` or a batch ``(n, d)``.
        target: the class to explain (see the module); None for the predicted class.
        absolute: False returns the signed gradient.

    Returns:
        An array shaped like ``x``.

    Raises:
        ValueError: for a bad ``target`` or an input that is not 1-D or 2-D.

    Examples:
        >>> import numpy as np
        >>> saliency(lambda x: x @ np.array([2.0, -3.0]), np.array([[1.0, 1.0]]))
        array([[2., 3.]])
    """
    m, single, X, C = _prepare(model, x, target)
    g = m.scores_and_grads(X, C)[1]
    g = np.abs(g) if absolute else g
    return g[0] if single else g


def gradient_x_input(model, x, *, target=None):
    """Gradient times input, ``A(x) = x * dF/dx`` elementwise (Shrikumar et al. 2016).

    For a linear model ``F(x) = w.x + b`` this is ``w * x``: integrated gradients from a zero
    baseline. Arguments and errors as in :func:`saliency`.

    Args:
        model: a differentiable function or a fitted gradkit estimator, as in :func:`saliency`.
        x: one row ``(d,)`` or a batch ``(n, d)``.
        target: the class to explain, as in :func:`saliency`.

    Returns:
        ``x * dF/dx``, an array shaped like ``x``.

    Examples:
        >>> import numpy as np
        >>> gradient_x_input(lambda x: x @ np.array([2.0, -3.0]), np.array([1.0, 2.0]))
        array([ 2., -6.])
    """
    m, single, X, C = _prepare(model, x, target)
    a = X * m.scores_and_grads(X, C)[1]
    return a[0] if single else a


def _nodes(steps, method):
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps={steps!r} must be a positive integer.")
    if method == "gauss-legendre":
        t, w = np.polynomial.legendre.leggauss(int(steps))
        return (t + 1.0) / 2.0, w / 2.0
    if method == "riemann":
        return (np.arange(steps) + 0.5) / steps, np.full(steps, 1.0 / steps)
    raise ValueError(f"method={method!r}: use 'gauss-legendre' or 'riemann'.")


def _baselines(baseline, X, background):
    """A list of baseline arrays broadcastable to X, or raise."""
    if isinstance(baseline, str):
        if baseline == "zeros":
            return [np.zeros_like(X)]
        if baseline == "mean":
            source = X if background is None else _rows(background, "background")[2]
            return [np.broadcast_to(source.mean(axis=0), X.shape)]
        if baseline == "background":
            if background is None:
                raise ValueError("baseline='background' needs background=<array (m, d)> of "
                                 "reference rows.")
            B = _rows(background, "background")[2]
            if B.shape[1] != X.shape[1]:
                raise ValueError(f"background has {B.shape[1]} features but x has "
                                 f"{X.shape[1]}.")
            return [np.broadcast_to(b, X.shape) for b in B]
        raise ValueError(f"baseline={baseline!r}: use 'zeros', 'mean', 'background' or an "
                         "array.")
    b = np.asarray(baseline, dtype=float)
    try:
        return [np.broadcast_to(b, X.shape)]
    except ValueError:
        raise ValueError(f"baseline of shape {b.shape} does not fit x of shape {X.shape}: give "
                         "one row (d,) or one baseline per row; for a sample of reference rows "
                         "use baseline='background', background=sample.") from None


def integrated_gradients(model, x, baseline="zeros", *, background=None, steps: int = 50,
                         method: str = "gauss-legendre", target=None) -> IntegratedGradients:
    r"""Integrated gradients (Sundararajan, Taly & Yan 2017) with their completeness residual.

    .. math:: \mathrm{IG}_j(x) = (x_j - b_j) \int_0^1
       \frac{\partial F}{\partial x_j}\big(b + \alpha (x - b)\big)\, d\alpha
       \approx (x_j - b_j) \sum_s w_s\,
       \frac{\partial F}{\partial x_j}\big(b + \alpha_s (x - b)\big)

    Completeness says ``sum_j IG_j(x) = F(x) - F(b)``; the residual
    ``sum_j IG_j - (F(x) - F(b))`` measures the quadrature error and is returned with the
    attributions. Gauss-Legendre nodes make it tiny for smooth models (exact for polynomials
    of degree < 2 * steps along the path); ``"riemann"`` is the midpoint rule of the paper.
    On a linear model both are exact: ``IG = w * (x - b)``.

    Args:
        model: a differentiable function or a fitted gradkit estimator (see the module).
        x: one row ``(d,)`` or a batch ``(n, d)``; all rows and path points go through one
            reverse pass (chunked for long paths).
        baseline: ``"zeros"``; ``"mean"`` (the mean row of ``background``, or of ``x``);
            ``"background"`` (the average of the attributions over every row of
            ``background`` as baseline, "expected gradients"; completeness then holds
            against the mean of ``F`` over the background); or an array, one row ``(d,)``
            or one per row of ``x``.
        background: reference rows ``(m, d)``, e.g. a sample of the training data.
        steps: the number of points on the path.
        method: ``"gauss-legendre"`` (default) or ``"riemann"``.
        target: the class to explain (see the module); None for the predicted class at x.

    Returns:
        :class:`IntegratedGradients` ``(attributions, residual)``: attributions shaped like
        ``x``, the residual a number for one row and ``(n,)`` for a batch.

    Raises:
        ValueError: for an unknown ``baseline`` or ``method``, shapes that do not fit, or a
            bad ``target``.

    Examples:
        >>> import numpy as np
        >>> f = lambda X: np.tanh(X @ np.array([1.0, -2.0]))
        >>> attr, residual = integrated_gradients(f, np.array([0.5, 0.3]), steps=20)
        >>> np.round(attr, 4), bool(abs(residual) < 1e-10)
        (array([ 0.4983, -0.598 ]), True)
    """
    m, single, X, C = _prepare(model, x, target)
    alphas, weights = _nodes(steps, method)
    n, d = X.shape
    rows_per_chunk = max(1, _MAX_ROWS // len(alphas))
    attr = np.zeros_like(X)
    residual = np.zeros(n)
    bases = _baselines(baseline, X, background)
    for b in bases:
        for s in range(0, n, rows_per_chunk):
            xs, bs, cs = X[s:s + rows_per_chunk], b[s:s + rows_per_chunk], C[s:s + rows_per_chunk]
            k = xs.shape[0]
            path = bs[None] + alphas[:, None, None] * (xs - bs)[None]  # (steps, k, d)
            cpath = np.broadcast_to(cs[None], (len(alphas),) + cs.shape).reshape(
                (len(alphas) * k,) + cs.shape[1:])
            _, g = m.scores_and_grads(path.reshape(-1, d), cpath)
            avg = np.tensordot(weights, g.reshape(len(alphas), k, d), axes=1)
            a = (xs - bs) * avg
            delta = m.scores(xs, cs) - m.scores(np.ascontiguousarray(bs), cs)
            attr[s:s + k] += a
            residual[s:s + k] += a.sum(axis=1) - delta
    attr /= len(bases)
    residual /= len(bases)
    if single:
        return IntegratedGradients(attr[0], residual[0])
    return IntegratedGradients(attr, residual)


def smoothgrad(model, x, n_samples: int = 50, noise: float = 0.15, rng=None, *, target=None):
    r"""SmoothGrad: the gradient averaged over noisy copies of the input (Smilkov et al. 2017),

    .. math:: \mathrm{SG}(x) = \frac{1}{N} \sum_{i=1}^{N} \frac{\partial F}{\partial x}
       (x + \varepsilon_i),\qquad \varepsilon_i \sim N(0, \sigma^2 I),

    with ``sigma = noise * (max(x) - min(x))`` per row as in the paper (``sigma = noise``
    for a constant row). The target class is fixed at ``x``. All noisy copies go through one
    reverse pass.

    Args:
        model: a differentiable function or a fitted gradkit estimator, as in
            :func:`saliency`.
        x: one row ``(d,)`` or a batch ``(n, d)``.
        n_samples: ``N``, the number of noisy copies.
        noise: the noise level, a fraction of the row's range.
        rng: a ``numpy.random.Generator`` or seed.
        target: the class to explain, as in :func:`saliency`.

    Returns:
        The averaged (signed) gradient, shaped like ``x``.

    Raises:
        ValueError: if ``n_samples < 1`` or ``noise < 0``.

    Examples:
        >>> import numpy as np
        >>> smoothgrad(lambda X: X @ np.array([1.0, 2.0]), np.array([3.0, 4.0]), rng=0)
        array([1., 2.])
    """
    if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 1):
        raise ValueError(f"n_samples={n_samples!r} must be a positive integer.")
    if not noise >= 0:
        raise ValueError(f"noise={noise!r} must be >= 0 (a fraction of the input's range).")
    m, single, X, C = _prepare(model, x, target)
    rng = np.random.default_rng(rng)
    span = X.max(axis=1) - X.min(axis=1)
    sigma = noise * np.where(span > 0, span, 1.0)
    noisy = X[None] + sigma[None, :, None] * rng.standard_normal((n_samples,) + X.shape)
    cs = np.broadcast_to(C[None], (n_samples,) + C.shape).reshape((-1,) + C.shape[1:])
    g = m.scores_and_grads(noisy.reshape(-1, X.shape[1]), cs)[1]
    g = g.reshape((n_samples,) + X.shape).mean(axis=0)
    return g[0] if single else g


_METHODS = ("integrated_gradients", "gradient_x_input", "saliency", "smoothgrad")


def feature_importances(model, X, method: str = "integrated_gradients", *, target=None,
                        baseline="mean", steps: int = 50):
    r"""Global feature importance: the mean absolute attribution over the rows of ``X``:

    .. math:: I_j = \frac{1}{n} \sum_{i=1}^{n} |A_j(x_i)|,

    where ``A`` is ``method``: ``"integrated_gradients"`` (default, from ``baseline``, by
    default the mean row of ``X``, so that for a linear model ``I_j = |w_j| * mean_i
    |x_ij - mean_j|`` and shifting a feature changes nothing), ``"gradient_x_input"``,
    ``"saliency"`` or ``"smoothgrad"`` (defaults of :func:`smoothgrad`). Classifiers are
    explained for ``target`` (None: each row's predicted class).

    Args:
        model: a differentiable function or a fitted gradkit estimator.
        X: the rows to average over ``(n, d)``, typically the training data.
        method: ``"integrated_gradients"``, ``"gradient_x_input"``, ``"saliency"`` or
            ``"smoothgrad"``.
        target: the class to explain (see the module); None for each row's predicted class.
        baseline: the baseline of integrated gradients, as in :func:`integrated_gradients`.
        steps: the path points of integrated gradients, as in :func:`integrated_gradients`.

    Returns:
        An array ``(d,)`` of non-negative importances.

    Raises:
        ValueError: for an unknown ``method`` or an ``X`` that is not 2-D.

    Examples:
        >>> import numpy as np
        >>> X = np.array([[0.0, 1.0], [2.0, 1.0]])
        >>> feature_importances(lambda X: X @ np.array([3.0, 5.0]), X)
        array([3., 0.])
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (n_samples, n_features); got shape {X.shape}.")
    if method == "integrated_gradients":
        A = integrated_gradients(model, X, baseline, steps=steps, target=target).attributions
    elif method == "gradient_x_input":
        A = gradient_x_input(model, X, target=target)
    elif method == "saliency":
        A = saliency(model, X, target=target)
    elif method == "smoothgrad":
        A = smoothgrad(model, X, target=target, rng=0)
    else:
        raise ValueError(f"method={method!r}: use one of {', '.join(map(repr, _METHODS))}.")
    return np.mean(np.abs(A), axis=0)
