"""Loss functions, differentiable in the prediction, and the L1 / L2 / elastic-net penalties.

Every loss has the signature ``loss(pred, target, reduction="mean")``: ``reduction`` is
``"mean"`` (over every element, or every sample for the classification losses), ``"sum"``
or ``"none"`` (the unreduced array). Targets are constants: no gradient is taken in them.

>>> import numpy as np, gradkit as gk
>>> logits = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
>>> round(float(cross_entropy(logits, np.array([0, 1]))), 4)
0.3606
>>> g = gk.grad(lambda z: cross_entropy(z, np.array([0, 1]), reduction="sum"))(logits)
>>> from gradkit.nn.functional import softmax
>>> np.allclose(g, softmax(logits) - np.eye(3)[[0, 1]])
True
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..autodiff.batching import every_example
from ..autodiff.stable import softmax
from ..autodiff.primitive import Primitive, defjvp, defvjp, differentiable
from ..autodiff.trace import first_order_trace, getval, is_ndarray, shape_of
from ..autodiff.tracer import Tracer
from ..backend import array_namespace
from ..tree import tree_leaves, tree_map
from .functional import log_softmax

__all__ = [
    "mse", "mae", "huber", "cross_entropy", "binary_cross_entropy", "hinge", "squared_hinge",
    "log_loss", "l1", "l2", "elastic_net", "penalized_leaves", "penalty_mask",
    "UNPENALIZED_KEYS", "get_loss",
    "LOSSES",
]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(losses, reduction):
    if reduction == "mean":
        return np.mean(losses)
    if reduction == "sum":
        return np.sum(losses)
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be one of {', '.join(map(repr, _REDUCTIONS))}; got "
                     f"{reduction!r}.")


def _as_array(target):
    """A target's plain value as an array; arrays stay on their device (no np.asarray)."""
    target = getval(target)
    return target if hasattr(target, "dtype") and hasattr(target, "shape") else np.asarray(target)


def _aligned(pred, target, name):
    """``target`` as a float array shaped like ``pred`` ((n,) and (n, 1) are interchangeable)."""
    # the target takes the prediction's float dtype, so float32 training stays float32
    target = _as_array(target).astype(np.result_type(getval(pred), np.float32), copy=False)
    shape = shape_of(pred)
    if target.shape != shape:
        # only axes of length 1 may differ ((n,) and (n, 1)): a (k, n) target of (n, k)
        # predictions has the same size but pairs the wrong entries
        if [d for d in target.shape if d != 1] != [d for d in shape if d != 1]:
            raise ValueError(f"{name}: the prediction has shape {shape} but the target "
                             f"has shape {target.shape}; give one target per prediction, "
                             "in the prediction's shape.")
        target = target.reshape(shape)
    return target


def mse(pred, target, reduction="mean"):
    r"""Mean squared error: ``mean((pred - target)^2)``.

    .. math:: L = \frac{1}{n} \sum_i (\hat y_i - y_i)^2,\qquad
       \frac{\partial L}{\partial \hat y_i} = \frac{2}{n} (\hat y_i - y_i).

    Args:
        pred: the predictions, an array.
        target: the targets, of ``pred``'s shape.
        reduction: ``"mean"`` over every entry, ``"sum"``, or ``"none"`` (elementwise).

    Returns:
        The loss: a scalar, or an array of ``pred``'s shape with ``reduction="none"``.

    Examples:
        >>> float(mse(np.array([1.0, 2.0]), np.array([0.0, 0.0])))   # (1 + 4) / 2
        2.5
    """
    r = pred - _aligned(pred, target, "mse")
    return _reduce(r * r, reduction)


def mae(pred, target, reduction="mean"):
    r"""Mean absolute error: ``mean(|pred - target|)`` (derivative 0 where they are equal).

    .. math:: L = \frac{1}{n} \sum_i |\hat y_i - y_i|.

    Args:
        pred: the predictions, an array.
        target: the targets, of ``pred``'s shape.
        reduction: ``"mean"`` over every entry, ``"sum"``, or ``"none"`` (elementwise).

    Returns:
        The loss: a scalar, or an array of ``pred``'s shape with ``reduction="none"``.

    Examples:
        >>> float(mae(np.array([1.0, -2.0]), np.array([0.0, 0.0])))  # (1 + 2) / 2
        1.5
        >>> import gradkit as gk   # sign(r) / n, and 0 where pred == target
        >>> 3 * gk.grad(lambda p: mae(p, np.zeros(3)))(np.array([-2.0, 0.0, 1.0]))
        array([-1.,  0.,  1.])
    """
    return _reduce(np.abs(pred - _aligned(pred, target, "mae")), reduction)


def huber(pred, target, reduction="mean", delta=1.0):
    r"""Huber loss with residual ``r = pred - target``:
    ``r^2 / 2`` for ``|r| <= delta``, ``delta (|r| - delta / 2)`` beyond.

    .. math:: \ell_\delta(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\
       \delta\,(|r| - \tfrac12 \delta) & |r| > \delta \end{cases}

    Quadratic near zero, linear (robust to outliers) in the tails; PyTorch's ``HuberLoss``.

    Args:
        pred: the predictions, an array.
        target: the targets, of ``pred``'s shape.
        reduction: ``"mean"`` over the samples, ``"sum"``, or ``"none"`` (elementwise).
        delta: the residual size where the loss turns from quadratic to linear, > 0.

    Returns:
        The loss: a scalar, or an array of per-sample losses with ``reduction="none"``.

    Raises:
        ValueError: for a non-positive ``delta``.

    Examples:
        >>> huber(np.array([0.5, 3.0]), np.zeros(2), reduction="none")
        array([0.125, 2.5  ])
    """
    delta = float(delta)
    if not delta > 0.0:
        raise ValueError(f"huber needs delta > 0; got delta={delta}.")
    r = pred - _aligned(pred, target, "huber")
    a = np.abs(r)
    return _reduce(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)), reduction)


def _class_targets(logits, target, name, one_hot=True):
    """Target probabilities of shape ``logits.shape`` from labels (..., ) or from (..., k);
    with ``one_hot=False`` checked integer labels stay labels."""
    shape = shape_of(logits)
    if not one_hot and is_ndarray(target) and target.dtype.kind in "iu" \
            and target.shape == shape[:-1]:  # labels, on every training step: one check
        if target.size and _largest_unsigned(target) >= shape[-1]:
            _class_targets(logits, target.astype(np.int64), name)  # raises, saying which
        return target if target.dtype == np.intp else target.astype(np.intp)
    target = _as_array(target)
    k = shape[-1]
    if target.shape == shape and target.dtype.kind == "f":
        return target.astype(np.result_type(getval(logits), np.float32), copy=False)
    if target.shape == shape[:-1]:
        labels = target
        if labels.dtype.kind == "f":
            if not np.all(labels == np.round(labels)):
                raise ValueError(f"{name}: class labels must be integers 0..{k - 1}; got "
                                 "non-integer values.")
            labels = labels.astype(np.int64)
        if labels.dtype.kind not in "iub":
            raise ValueError(f"{name}: class labels must be integers 0..{k - 1}; got dtype "
                             f"{labels.dtype}.")
        if labels.size and _largest_unsigned(labels) >= k:
            raise ValueError(f"{name}: class labels must lie in 0..{k - 1} for {k} columns of "
                             f"scores; got labels from {every_example(labels).min()} to "
                             f"{every_example(labels).max()}.")
        if not one_hot:
            return labels.astype(np.intp, copy=False)
        return _one_hot(labels, logits)
    raise ValueError(f"{name}: scores of shape {shape} need integer labels of shape "
                     f"{shape[:-1]} or target probabilities of shape {shape}; got target "
                     f"shape {target.shape}.")


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _largest_unsigned(labels):
    """The largest label read as an unsigned integer, where a negative label is huge: one
    reduction checks both ends of ``0 <= labels < k`` (this runs on every training step)."""
    labels = every_example(labels)
    if labels.dtype.kind == "i":
        labels = labels.view(_UNSIGNED[labels.dtype.itemsize])
    if is_ndarray(labels):
        return np.maximum.reduce(labels, axis=None)
    return labels.max()


def _one_hot(labels, logits):
    dtype = np.result_type(getval(logits), np.float32)
    k = shape_of(logits)[-1]
    return (labels[..., None] == array_namespace(labels).arange(k)).astype(dtype)


def cross_entropy(logits, target, reduction="mean"):
    r"""Multiclass cross-entropy from logits: ``-sum_k t_k log softmax(z)_k`` per sample.

    .. math:: \ell(z, t) = -\sum_k t_k \log \operatorname{softmax}(z)_k
       = \log \sum_k e^{z_k} - \sum_k t_k z_k,\qquad
       \frac{\partial \ell}{\partial z} = \operatorname{softmax}(z) - t.

    Stable for logits of any size (log-sum-exp with the maximum subtracted). With integer
    labels it is one primitive, :func:`labels_cross_entropy`; in a first-order training step
    (2-D logits traced by ``grad`` / ``value_and_grad``, ``reduction`` "mean" or "sum") the
    reduced loss is recorded as one step whose derivative, ``(softmax(z) - onehot(y)) / n``
    for the mean, reuses the forward's exponentials.

    Args:
        logits: scores ``z`` of shape ``(n, k)`` (any leading axes).
        target: integer labels of shape ``(n,)`` or target probabilities / one-hot rows of
            shape ``(n, k)``.
        reduction: ``"mean"`` over samples, ``"sum"`` or ``"none"`` (shape ``(n,)``).

    Returns:
        The loss: a scalar, or an array of per-sample losses with ``reduction="none"``.

    Raises:
        ValueError: for labels outside ``0..k-1`` or a target of the wrong shape.

    Examples:
        >>> float(cross_entropy(np.array([[1000.0, 0.0]]), np.array([1])))
        1000.0
    """
    t = _class_targets(logits, target, "cross_entropy", one_hot=False)
    if t.ndim < len(shape_of(logits)):
        if type(logits) is Tracer and (reduction == "mean" or reduction == "sum"):
            loss = _record_reduced_labels_ce(logits, t, reduction)
            if loss is not None:
                return loss
        return _reduce(labels_cross_entropy(logits, t), reduction)
    return _reduce(-np.sum(t * log_softmax(logits, axis=-1), axis=-1), reduction)


@differentiable
def labels_cross_entropy(logits, labels):
    r"""Per-sample cross-entropy with integer labels, :math:`\operatorname{logsumexp}(z) -
    z_y`, as one primitive.

    Its derivative is the textbook :math:`\partial L / \partial z = \mathrm{softmax}(z) -
    \mathrm{onehot}(y)`, computed directly (one step on the tape, no one-hot product); labels
    have no derivative. The rule is written with differentiable operations, so second
    derivatives work.

    >>> labels_cross_entropy(np.array([[0.0, 0.0], [0.0, 1000.0]]), np.array([0, 1]))
    array([0.69314718, 0.        ])
    """
    shifted, e, total = _shifted_exp(logits)
    return np.log(total) - _at_labels(shifted, labels)


def _shifted_exp(z):
    """``(z - max z, e = exp(z - max z), sum of e)`` over the last axis: the forward of every
    cross-entropy with labels (the per-sample loss is ``log(sum e) - (z - max z)_y``)."""
    if is_ndarray(z) and z.ndim == 2 and z.shape[0] >= 32 and z.shape[1] <= 32:
        # NumPy reduces a short last axis row by row (about 45 ns a row); in column-major
        # order the same reductions are a few vectorized passes (128 x 10 logits: 2x faster)
        z = z if z.flags.f_contiguous else z.copy(order="F")  # (np.asfortranarray)
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=-1)


def _minus_one_hot(s, rows, labels):
    """``s - onehot(labels)`` in place, for softmax probabilities ``s`` of one's own."""
    s[rows, labels] -= 1.0
    return s


def _at_labels(a, labels):
    """``a[..., labels]`` row by row (fancy indexing: take_along_axis costs more on 2-D)."""
    if a.ndim == 2:
        xp = np if is_ndarray(labels) else array_namespace(labels)
        return a[xp.arange(a.shape[0]), labels]
    return np.take_along_axis(a, labels[..., None], axis=-1)[..., 0]


def _softmax_minus_one_hot(z, labels):
    return softmax(z, axis=-1) - _one_hot(labels, z)


def _labels_ce_vjp(g, ans, z, labels):
    if is_ndarray(g) and is_ndarray(z) and z.ndim == 2:
        # first order: softmax from the forward's answer, logsumexp(z) = ans + z_y (no new
        # max / sum over the classes), then the one-hot subtracted in place
        rows = np.arange(z.shape[0])
        s = _minus_one_hot(np.exp(z - (ans + z[rows, labels])[:, None]), rows, labels)
        s *= g[:, None]
        return s
    return np.expand_dims(g, -1) * _softmax_minus_one_hot(z, labels)


defvjp(labels_cross_entropy.primitive, _labels_ce_vjp, None)
defjvp(labels_cross_entropy.primitive,
       lambda t, ans, z, labels: np.sum(_softmax_minus_one_hot(z, labels) * t, axis=-1), None)


def _record_reduced_labels_ce(logits, labels, reduction):
    r"""The mean (or sum) of :func:`labels_cross_entropy` recorded on a reverse trace as one
    step that keeps the forward's work for its rule, as a hand-written training step does.

    Forward: with :math:`e = \exp(z - \max_k z)` and :math:`S = \sum_k e`, the per-sample
    losses are :math:`\log S - (z - \max_k z)_y`, reduced. Backward: :math:`\bar z = \bar L\,
    c\,(e / S - \mathrm{onehot}(y))` with :math:`c = 1/n` for the mean, 1 for the sum; ``e`` and
    ``S`` are kept from the forward. The value is the one ``_reduce(labels_cross_entropy(...))``
    computes. Taken for plain 2-D logits on a reverse trace (a training step; None otherwise):
    higher derivatives go through the general path, whose rules are differentiable.
    """
    trace = first_order_trace(logits)
    if trace is None or not is_ndarray(labels):
        return None
    z, parent = trace.unbox(logits)
    if not (z.ndim == 2 and z.shape[0]):
        return None
    n = z.shape[0]
    shifted, e, total = _shifted_exp(z)
    rows = np.arange(n)
    losses = np.log(total) - shifted[rows, labels]
    loss = np.add.reduce(losses)
    if reduction == "mean":
        loss = loss / n
    scale = 1.0 / n if reduction == "mean" else 1.0
    return trace.record(_P_REDUCED_LABELS_CE, ((e, total, rows, labels, scale),), loss,
                        (parent,))


def _reduced_labels_ce_vjp(g, ans, kept):
    e, total, rows, labels, scale = kept
    # row-major whatever the forward's layout: the next rule's G @ W.T is twice as fast so
    s = _minus_one_hot(np.divide(e, total[:, None], order="C"), rows, labels)
    if type(g) is Tracer:  # a cotangent being differentiated (the rule is linear in it)
        return s * (g * scale)
    s *= g * scale
    return s


def _reduced_labels_ce_from_kept(kept):
    """The loss from what the forward kept (the primitive's function; the recording computes
    it itself, from the shifted logits, so this is never on the hot path)."""
    e, total, rows, labels, scale = kept
    return np.add.reduce(np.log(total) - np.log(e[rows, labels])) * scale


# recorded only by _record_reduced_labels_ce: its argument is what the forward kept for the
# rule (e = exp(z - max z), its row sums, the labels and the scale), not the logits
_P_REDUCED_LABELS_CE = Primitive("cross_entropy", _reduced_labels_ce_from_kept)
_P_REDUCED_LABELS_CE.set_vjps((_reduced_labels_ce_vjp,))


def binary_cross_entropy(logits, target, reduction="mean"):
    r"""Binary cross-entropy from logits: ``log(1 + exp(z)) - y z``, as ``logaddexp(0, z) - y z``.

    .. math:: \ell(z, y) = \log(1 + e^{z}) - y z,\qquad
       \frac{\partial \ell}{\partial z} = \sigma(z) - y.

    Equal to ``-(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z)))`` and stable for logits of
    any size. ``target`` holds labels in {0, 1} or probabilities.

    Args:
        logits: the scores ``z``, of shape ``(n,)`` (any shape).
        target: labels in {0, 1} or probabilities, of ``logits``' shape.
        reduction: ``"mean"`` over the samples, ``"sum"``, or ``"none"`` (one loss per sample).

    Returns:
        The loss: a scalar, or an array of per-sample losses with ``reduction="none"``.

    Examples:
        >>> losses = binary_cross_entropy(np.array([-1000.0, 0.0]), np.array([1.0, 0.0]),
        ...                               reduction="none")
        >>> [round(float(v), 6) for v in losses]   # 1000 (no overflow) and log 2
        [1000.0, 0.693147]
    """
    y = _aligned(logits, target, "binary_cross_entropy")
    return _reduce(np.logaddexp(0.0, logits) - y * logits, reduction)


def _signed_labels(target, name):
    t = _as_array(target)
    values = np.unique(t)
    if np.all((values == 0) | (values == 1)):
        return 2.0 * t - 1.0
    if np.all((values == -1) | (values == 1)):
        return t.astype(np.float64)
    raise ValueError(f"{name}: binary labels must be in {{-1, +1}} or in {{0, 1}}; got values "
                     f"{values[:5].tolist()}.")


def _margins(pred, target, name):
    """Per-sample margins ``y f(x)`` (binary) or ``f_y - max_{j != y} f_j`` (multiclass)."""
    shape = shape_of(pred)
    if len(shape) == 2 and shape[1] > 1:
        t = _class_targets(pred, target, name)
        others = np.max(np.where(t > 0, -np.inf, pred), axis=-1)
        return np.sum(t * pred, axis=-1) - others
    return pred * _aligned(pred, _signed_labels(target, name), name)


def hinge(pred, target, reduction="mean"):
    r"""Hinge loss ``max(0, 1 - m)`` of the margin ``m`` (the linear SVM's loss).

    .. math:: \ell(m) = \max(0, 1 - m).

    Binary: ``pred`` of shape ``(n,)`` (or ``(n, 1)``), labels in {-1, +1} or in {0, 1}
    (0 is read as -1), ``m = y pred``. Multiclass (Crammer-Singer, as scikit-learn's
    ``hinge_loss``): ``pred`` of shape ``(n, k)`` and labels ``0..k-1``,
    ``m = pred_y - max_{j != y} pred_j``. Derivative 0 at the kink ``m = 1``.

    Args:
        pred: the scores, of shape ``(n,)`` (binary) or ``(n, k)`` (multiclass).
        target: the labels: {-1, +1} or {0, 1} (binary), ``0..k-1`` (multiclass).
        reduction: ``"mean"`` over the samples, ``"sum"``, or ``"none"`` (one loss per sample).

    Returns:
        The loss: a scalar, or an array of per-sample losses with ``reduction="none"``.

    Examples:
        >>> hinge(np.array([2.0, 0.5, -1.0]), np.array([1, 1, 1]), reduction="none")
        array([0. , 0.5, 2. ])
        >>> import gradkit as gk   # d/dm: 0 beyond the margin and at the kink m = 1, else -1
        >>> total = lambda m: hinge(m, np.ones(3), reduction="sum")
        >>> gk.grad(total)(np.array([2.0, 1.0, -1.0])) + 0.0   # (+ 0.0: no -0.)
        array([ 0.,  0., -1.])
    """
    return _reduce(np.maximum(1.0 - _margins(pred, target, "hinge"), 0.0), reduction)


def squared_hinge(pred, target, reduction="mean"):
    r"""Squared hinge ``max(0, 1 - m)^2`` (differentiable; LinearSVC's default loss).

    .. math:: \ell(m) = \max(0, 1 - m)^2,\qquad \ell'(m) = -2 \max(0, 1 - m).

    Labels and margins as in :func:`hinge`.

    Args:
        pred: the scores, as for :func:`hinge`.
        target: the labels, as for :func:`hinge`.
        reduction: ``"mean"`` over the samples, ``"sum"``, or ``"none"`` (one loss per sample).

    Returns:
        The loss: a scalar, or an array of per-sample losses with ``reduction="none"``.

    Examples:
        >>> squared_hinge(np.array([2.0, 0.5, -1.0]), np.array([1, 0, 1]), reduction="none")
        array([0.  , 2.25, 4.  ])
    """
    h = np.maximum(1.0 - _margins(pred, target, "squared_hinge"), 0.0)
    return _reduce(h * h, reduction)


def log_loss(proba, target, reduction="mean", eps=None):
    """Log loss (cross-entropy) from probabilities, clipped to ``[eps, 1 - eps]``.

    Binary: ``proba`` of shape ``(n,)`` is P(y = 1) and ``target`` in {0, 1}:
    ``-(y log p + (1 - y) log(1 - p))``. Multiclass: ``proba`` of shape ``(n, k)`` and integer
    labels (or one-hot rows): ``-log p_y``. ``eps`` defaults to the machine epsilon of the
    dtype, as in scikit-learn's ``log_loss``. Prefer the ``*cross_entropy`` losses on
    logits, which never need clipping.

    Args:
        proba: the probabilities: P(y = 1) of shape ``(n,)``, or rows of shape ``(n, k)``.
        target: labels in {0, 1} (binary), ``0..k-1`` or one-hot rows (multiclass).
        reduction: ``"mean"`` over the samples, ``"sum"``, or ``"none"`` (one loss per sample).
        eps: the clipping of the probabilities (default: the dtype's machine epsilon).

    Returns:
        The loss: a scalar, or an array of per-sample losses with ``reduction="none"``.

    Examples:
        >>> round(float(log_loss(np.array([0.9, 0.2]), np.array([1, 0]))), 6)
        0.164252
    """
    p = proba
    eps = float(np.finfo(np.result_type(getval(p), np.float32)).eps) if eps is None else eps
    p = np.clip(p, eps, 1.0 - eps)
    shape = shape_of(p)
    if len(shape) == 2 and shape[1] > 1:
        t = _class_targets(p, target, "log_loss")
        return _reduce(-np.sum(t * np.log(p), axis=-1), reduction)
    y = _aligned(p, target, "log_loss")
    return _reduce(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)), reduction)


# ----------------------------------------------------------------------------- penalties
#: The pytree keys whose leaves regularization leaves alone (biases, intercepts, BatchNorm's
#: scale and shift).
UNPENALIZED_KEYS = frozenset({"b", "bias", "intercept", "beta", "gamma"})


def penalty_mask(params):
    """``params``' structure with ``True`` at every leaf that regularization penalizes (the
    weights) and ``False`` under a key in :data:`UNPENALIZED_KEYS` (biases ``"b"`` /
    ``"bias"``, intercepts ``"intercept"`` and the BatchNorm ``"gamma"`` / ``"beta"``),
    which regularization conventionally leaves alone. The one rule behind
    :func:`penalized_leaves`, :func:`l1`, :func:`l2` and the estimators' proximal weights.

    Args:
        params: a pytree of parameters.

    Returns:
        A pytree of ``params``' structure with a bool at each leaf.

    Examples:
        >>> penalty_mask({"coef": np.ones(2), "intercept": np.zeros(1)})
        {'coef': True, 'intercept': False}
    """
    if isinstance(params, dict):
        return {key: (tree_map(lambda _: False, value) if key in UNPENALIZED_KEYS
                      else penalty_mask(value)) for key, value in params.items()}
    if isinstance(params, (list, tuple)) and not hasattr(params, "_fields"):
        return type(params)(penalty_mask(item) for item in params)
    return tree_map(lambda _: True, params)


def penalized_leaves(params):
    """The weight arrays of a parameter pytree: the leaves that :func:`penalty_mask` marks.

    Args:
        params: a pytree of parameters.

    Returns:
        A list of the penalized leaves, in flattening order.

    Examples:
        >>> params = {"00_linear": {"W": np.ones((2, 3)), "b": np.ones(3)}}
        >>> [w.shape for w in penalized_leaves(params)]
        [(2, 3)]
    """
    return [leaf for leaf, keep in zip(tree_leaves(params), tree_leaves(penalty_mask(params)))
            if keep]


def l1(params):
    """The L1 penalty ``sum |w|`` over the weights (see :func:`penalized_leaves`).

    Args:
        params: a pytree of parameters; the leaves under the keys in :data:`UNPENALIZED_KEYS`
            (biases) are left out.

    Returns:
        The penalty, a scalar.

    Examples:
        >>> float(l1({"W": np.array([1.0, -2.0]), "b": np.array([5.0])}))
        3.0
    """
    return sum((np.sum(np.abs(w)) for w in penalized_leaves(params)), 0.0)


def l2(params):
    """The L2 penalty ``0.5 * sum w^2`` over the weights (gradient ``w``; biases excluded).

    The factor 1/2 makes ``alpha * l2`` match scikit-learn's ``alpha / 2 ||w||^2``.

    Args:
        params: a pytree of parameters; the leaves under the keys in :data:`UNPENALIZED_KEYS`
            (biases) are left out.

    Returns:
        The penalty, a scalar.

    Examples:
        >>> float(l2({"W": np.array([1.0, -2.0]), "b": np.array([5.0])}))
        2.5
    """
    return sum((0.5 * np.sum(w * w) for w in penalized_leaves(params)), 0.0)


def elastic_net(params, alpha, l1_ratio):
    """Elastic net ``alpha * (l1_ratio * sum |w| + (1 - l1_ratio) * 0.5 * sum w^2)``.

    scikit-learn's ``ElasticNet`` penalty; ``l1_ratio = 1`` is the lasso, ``0`` ridge.

    Args:
        params: a pytree of parameters; biases are left out (see :func:`penalty_mask`).
        alpha: the strength of the penalty, >= 0.
        l1_ratio: the share of the L1 part, in [0, 1].

    Returns:
        The penalty, a scalar.

    Raises:
        ValueError: for ``l1_ratio`` outside [0, 1] or a negative ``alpha``.

    Examples:
        >>> float(elastic_net({"W": np.array([1.0, -2.0])}, alpha=2.0, l1_ratio=0.5))
        5.5
    """
    alpha, l1_ratio = float(alpha), float(l1_ratio)
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"elastic_net needs 0 <= l1_ratio <= 1; got l1_ratio={l1_ratio}.")
    if not alpha >= 0.0:
        raise ValueError(f"elastic_net needs alpha >= 0; got alpha={alpha}.")
    return alpha * (l1_ratio * l1(params) + (1.0 - l1_ratio) * l2(params))


#: Every loss by name (the names estimators and :func:`get_loss` accept).
LOSSES: dict[str, Callable] = {
    "mse": mse, "mae": mae, "huber": huber, "cross_entropy": cross_entropy,
    "binary_cross_entropy": binary_cross_entropy, "hinge": hinge,
    "squared_hinge": squared_hinge, "log_loss": log_loss,
}


def get_loss(name) -> Callable:
    """The loss called ``name`` (see :data:`LOSSES`), or the callable itself.

    Args:
        name: a name in :data:`LOSSES`, or a callable ``loss(pred, target)``.

    Returns:
        The loss function.

    Raises:
        ValueError: for an unknown name, listing the valid ones.

    Examples:
        >>> get_loss("mse") is mse
        True
    """
    if callable(name):
        return name
    if isinstance(name, str) and name.lower() in LOSSES:
        return LOSSES[name.lower()]
    raise ValueError(f"Unknown loss {name!r}. Valid names: {', '.join(sorted(LOSSES))}; or pass "
                     "a function loss(pred, target, reduction).")


# complex input: these rules are written for real numbers and refuse it
from ..autodiff.complex import guard_unverified as _guard, register_unlisted as _unlisted  # noqa: E402

_unlisted(_P_REDUCED_LABELS_CE)
_guard()
