"""GradientMonitor: per-layer gradient norms, update ratios and NaN / inf catching for any loop."""
from __future__ import annotations

import math

import numpy as np

from ..tree import tree_leaves
from .history import MAX_RECORDS, Thinning

__all__ = ["GradientMonitor", "parameter_groups", "named_leaves", "all_finite", "group_squares"]


def parameter_groups(params) -> list:
    """The names of the parameter groups (layers) of ``params``, in the user's order.

    A group is a top-level key of a dict (in insertion order, so ``{"layer1": .., "layer2": ..}``
    keeps its order), a top-level index of a list or tuple (``"0"``, ``"1"``, ...), and
    ``"params"`` for a bare array.

    Args:
        params: a pytree of parameters.

    Returns:
        A list of the group names (strings).

    Examples:
        >>> import numpy as np
        >>> parameter_groups({"hidden": {"w": np.ones(2)}, "out": np.ones(1)})
        ['hidden', 'out']
        >>> parameter_groups(np.ones(3))
        ['params']
    """
    if isinstance(params, dict):
        return [str(k) for k in params]
    if isinstance(params, (list, tuple)) and not hasattr(params, "_fields"):
        return [str(i) for i in range(len(params))]
    return ["params"]


def _group_items(tree):
    """``[(group name, subtree)]`` matching :func:`parameter_groups`."""
    if isinstance(tree, dict):
        return [(str(k), v) for k, v in tree.items()]
    if isinstance(tree, (list, tuple)) and not hasattr(tree, "_fields"):
        return [(str(i), v) for i, v in enumerate(tree)]
    return [("params", tree)]


def named_leaves(tree, prefix: str = ""):
    """``[(path, leaf)]`` for a pytree, with paths such as ``"00_linear/w"``.

    Args:
        tree: a pytree of parameters (or gradients).
        prefix: a path to put before every name.

    Returns:
        A list of ``(path, leaf)`` pairs, in the tree's order.

    Examples:
        >>> import numpy as np
        >>> [name for name, _ in named_leaves({"a": {"w": np.ones(1), "b": 0.0}, "c": [1.0]})]
        ['a/w', 'a/b', 'c/0']
    """
    join = (lambda k: f"{prefix}/{k}") if prefix else str
    if isinstance(tree, dict):
        return [item for k, v in tree.items() for item in named_leaves(v, join(k))]
    if isinstance(tree, (list, tuple)) and not hasattr(tree, "_fields"):
        return [item for i, v in enumerate(tree) for item in named_leaves(v, join(i))]
    leaves = tree_leaves(tree)
    if len(leaves) == 1 and leaves[0] is tree:
        return [(prefix or "params", tree)]
    return [(join(i), leaf) for i, leaf in enumerate(leaves)]


def _leaf_sum_squares(a) -> float:
    """``sum |a_i|^2`` of one array in one pass (a dot product of its flat view with itself).

    It is finite exactly when every entry is finite and the sum does not overflow: a NaN
    entry makes it NaN and an infinite one makes it inf (squares are >= 0, so no inf - inf),
    while finite entries give a finite sum unless it overflows; so a finite result needs no
    other finiteness check, and only a non-finite one (rare) needs a second look."""
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    kind = a.dtype.kind
    if kind == "c":
        return float(np.vdot(a, a).real)
    if kind != "f":  # integers would wrap around in a dot product; booleans would OR
        a = a.astype(np.float64)
    # vdot (flattening, no copy for a contiguous array) and not dot: dot raises NumPy's
    # floating-point warnings on overflow, which the caller handles here by rescaling
    return float(np.vdot(a, a))


def _leaves(tree):
    """The arrays of a pytree; a bare array and a flat dict of arrays without a tree walk."""
    if type(tree) is np.ndarray:
        return (tree,)
    if type(tree) is dict and all(type(v) is np.ndarray for v in tree.values()):
        return tree.values()
    return tree_leaves(tree)


def _sum_squares(tree) -> float:
    return sum(_leaf_sum_squares(leaf) for leaf in _leaves(tree))


def all_finite(tree) -> bool:
    """Whether every entry of every leaf of ``tree`` is finite (no NaN, no inf), in one pass
    per array: the sum of squares of :class:`GradientMonitor` (finite implies every entry is
    finite), with an entrywise look only when that sum is not finite (a NaN or inf entry,
    or finite entries whose squares overflow, such as 1e200).

    Args:
        tree: a pytree of arrays (or numbers).

    Returns:
        bool.

    Examples:
        >>> import numpy as np
        >>> all_finite({"w": np.array([1e200, -3.0])}), all_finite([np.array([1.0, np.nan])])
        (True, False)
    """
    for leaf in _leaves(tree):
        if not math.isfinite(_leaf_sum_squares(leaf)):
            a = np.asarray(leaf)
            if a.dtype.kind in "fc" and not np.isfinite(a).all():
                return False
    return True


def _norm(tree) -> float:
    """Euclidean norm of all leaves; rescaled when the sum of squares overflows."""
    if type(tree) is np.ndarray and tree.dtype.kind == "f":  # the common case, no walk
        total = float(np.vdot(tree, tree))
    else:
        total = _sum_squares(tree)
    if math.isfinite(total):
        return math.sqrt(total)
    leaves = [np.asarray(x, dtype=float) for x in tree_leaves(tree)]
    if not all(np.all(np.isfinite(x)) for x in leaves):
        return math.nan if any(np.any(np.isnan(x)) for x in leaves) else math.inf
    big = max(float(np.max(np.abs(x), initial=0.0)) for x in leaves)
    return big * math.sqrt(sum(float(np.sum((x / big) ** 2)) for x in leaves))


def group_squares(tree):
    """``{group: sum of squared entries}`` of a pytree's parameter groups (those of
    :meth:`GradientMonitor.record`), one ``np.vdot`` per array, as the monitor computes them;
    written with NumPy calls only, so a compiled step (``gk.jit``) computes them with the
    step. Values are NumPy scalars.

    Args:
        tree: parameters, gradients or updates (a pytree).

    Returns:
        A dict from group name to the sum of ``|a_i|^2`` over the group's arrays.

    Examples:
        >>> import numpy as np
        >>> {k: float(v) for k, v in group_squares({"w": np.array([3.0, 4.0]),
        ...                                         "b": np.array([1.0])}).items()}
        {'w': 25.0, 'b': 1.0}
    """
    out = {}
    for group, sub in _group_items(tree):
        total = None
        for leaf in tree_leaves(sub):
            kind = leaf.dtype.kind
            if kind == "c":
                ss = np.vdot(leaf, leaf).real
            else:
                ss = np.vdot(leaf, leaf) if kind == "f" else np.vdot(
                    leaf.astype(np.float64), leaf.astype(np.float64))
            total = ss if total is None else total + ss
        out[group] = 0.0 if total is None else total
    return out


def _first_nonfinite(tree, group):
    """``(parameter path, "nan" | "inf")`` of the first non-finite leaf of one group, or None."""
    for name, leaf in named_leaves(tree, group):
        a = np.asarray(leaf)
        if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            return name, "nan" if np.any(np.isnan(a)) else "inf"
    return None


class GradientMonitor:
    """Record the loss and, per parameter group (layer), the gradient norm and the
    update-to-weight ratio at every step of any training loop; then name what went wrong.

    For each group ``l`` (a top-level key of the parameter dict, see :func:`parameter_groups`)
    and step ``t`` it stores

    - ``grad_norm[l][t] = ||g_l||_2``, the Euclidean norm of all the gradient entries of ``l``;
    - ``update_ratio[l][t] = ||u_l||_2 / ||w_l||_2``, the size of the step relative to the
      weights (a healthy value is around 1e-3; Karpathy, CS231n). ``u`` is the ``updates``
      passed in (what ``apply_updates`` adds); without them, ``learning_rate * ||g_l||`` (the
      plain SGD step) is used, and NaN is stored when neither is given;
    - ``param_norm[l][t] = ||w_l||_2``.

    The cost is one sum of squares per array per step, which also tells finiteness (see
    :func:`all_finite`); estimators can record every k-th step (``record_every``). The history
    holds at most ``max_records`` steps (:data:`~gradkit.diagnostics.history.MAX_RECORDS` by
    default, None for no cap): past it, every 2nd, 4th, ... record is kept, evenly spaced over
    the run with the first and the latest (:class:`~gradkit.diagnostics.history.Thinning`);
    ``nonfinite`` and the validation records are never thinned. A NaN or inf in the loss, the
    gradients or the parameters is caught on the step where it first appears and recorded in
    ``history["nonfinite"]`` with the parameter's path (``"00_linear/w"``);
    :attr:`last_good_params` keeps the last parameters at which everything was finite.
    Parameters are kept by reference, not copied: update them functionally
    (``params = apply_updates(params, updates)``), as every gradkit optimizer does.

    ``history`` is a plain dict of lists (JSON-serialisable), so :func:`diagnose` works on a
    saved one too::

        {"step": [...], "loss": [...], "learning_rate": [...],
         "grad_norm": {group: [...]}, "update_ratio": {group: [...]},
         "param_norm": {group: [...]}, "nonfinite": [{"step", "what", "parameter", "value"}],
         "val_step": [...], "val_loss": [...]}

    Args:
        max_records: the most steps the history keeps (thinned past it, see above); None
            keeps every step.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> mon = GradientMonitor()
        >>> params = {"w": np.array([1.0, 2.0])}
        >>> loss, grads = gk.value_and_grad(lambda p: np.sum(p["w"] ** 2))(params)
        >>> mon.record(0, loss, grads, params, learning_rate=0.1)
        True
        >>> mon.history["grad_norm"]["w"], mon.history["update_ratio"]["w"]
        ([4.47213595499958], [0.2])
    """

    def __init__(self, max_records=MAX_RECORDS):
        self._thinning = None if max_records is None else Thinning(max_records)
        self.history = {"step": [], "loss": [], "learning_rate": [], "grad_norm": {},
                        "update_ratio": {}, "param_norm": {}, "nonfinite": [],
                        "val_step": [], "val_loss": []}
        self.last_good_params = None
        self.last_good_step = None
        self._seen_nonfinite = set()

    def _series(self, key, group):
        series = self.history[key]
        if group not in series:  # a group that appears late is padded with NaN
            series[group] = [math.nan] * (len(self.history["step"]) - 1)
        return series[group]

    def _nonfinite(self, step, what, parameter, value):
        if what not in self._seen_nonfinite:  # the first appearance is the one to report
            self._seen_nonfinite.add(what)
            self.history["nonfinite"].append(
                {"step": step, "what": what, "parameter": parameter, "value": value})

    def record(self, step, loss, grads, params, updates=None, learning_rate=None) -> bool:
        """Record one step; return False when the loss, a gradient or a parameter is NaN/inf.

        Args:
            step: the step (iteration) number.
            loss: the loss at ``params`` (a number).
            grads: the gradient, a pytree with the structure of ``params``.
            params: the parameters the gradient was taken at (before the update).
            updates: optional, what the optimizer adds to ``params`` at this step.
            learning_rate: optional, the learning rate used at this step.

        Raises:
            TypeError: if ``grads`` does not have the top-level groups of ``params``.
        """
        h = self.history
        h["step"].append(int(step))
        loss = float(loss)
        h["loss"].append(loss)
        h["learning_rate"].append(None if learning_rate is None else float(learning_rate))
        ok = math.isfinite(loss)
        if not ok:
            self._nonfinite(int(step), "loss", None, "nan" if math.isnan(loss) else "inf")
        # a parameter dict's groups are its keys: no group lists to build (the hot case)
        plain = type(params) is dict and all(type(k) is str for k in params)
        grad_groups = grads if plain and type(grads) is dict else dict(_group_items(grads))
        update_groups = None if updates is None else (
            updates if plain and type(updates) is dict else dict(_group_items(updates)))
        grad_series, param_series, ratio_series = (h["grad_norm"], h["param_norm"],
                                                   h["update_ratio"])
        n_steps = len(h["step"])
        for group, p in (params.items() if plain else _group_items(params)):
            if group not in grad_groups:
                raise TypeError(f"GradientMonitor.record: the gradient has no group {group!r}, "
                                f"which the parameters have; pass grads with the structure of "
                                f"params (groups {list(grad_groups)}).")
            g = grad_groups[group]
            g_norm, p_norm = _norm(g), _norm(p)
            (grad_series[group] if group in grad_series
             else self._series("grad_norm", group)).append(g_norm)
            (param_series[group] if group in param_series
             else self._series("param_norm", group)).append(p_norm)
            if update_groups is not None:
                step_norm = _norm(update_groups.get(group, 0.0))
            elif learning_rate is not None:
                step_norm = abs(float(learning_rate)) * g_norm
            else:
                step_norm = math.nan
            (ratio_series[group] if group in ratio_series
             else self._series("update_ratio", group)).append(
                step_norm / p_norm if p_norm > 0 else math.nan)
            if not (math.isfinite(g_norm) and math.isfinite(p_norm)):
                for what, tree, value in (("gradient", g, g_norm), ("parameter", p, p_norm)):
                    bad = None if math.isfinite(value) else _first_nonfinite(tree, group)
                    if bad is not None:  # (an overflowing norm of finite entries is not one)
                        self._nonfinite(int(step), what, *bad)
                        ok = False
        for series in (grad_series, ratio_series, param_series):
            if len(series) > (len(params) if plain else 0) or not plain:
                for values in series.values():  # groups missing at this step
                    if len(values) < n_steps:
                        values.append(math.nan)
        if self._thinning is not None:
            self._thinning.recorded(h)
        if ok:
            self.last_good_params, self.last_good_step = params, int(step)
        return ok

    def record_squares(self, step, loss, squares, learning_rate=None, params=None) -> bool:
        """Record one step from sums of squares computed elsewhere (a compiled training step
        computes them with the step: :func:`group_squares`); the history is the one
        :meth:`record` keeps from the arrays (the same norms, bit for bit).

        Args:
            step: the step number.
            loss: the loss at the parameters (a number).
            squares: ``{group: (gradient, parameters, update)}``: each group's sum of
                squared entries (``update`` may be None: then the step's norm is
                ``learning_rate`` times the gradient's, as in :meth:`record`).
            learning_rate: optional, the learning rate used at this step.
            params: optional, the parameters (kept as the last good ones, as by
                :meth:`record`).

        Returns:
            True when everything was finite and the step is recorded; False records nothing
            (a non-finite sum: call :meth:`record` with the arrays, which says which entry).

        Examples:
            >>> import numpy as np
            >>> m = GradientMonitor()
            >>> m.record_squares(1, 0.5, {"w": (4.0, 9.0, 0.01)})
            True
            >>> m.history["grad_norm"]["w"], m.history["update_ratio"]["w"]
            ([2.0], [0.03333333333333333])
        """
        loss = float(loss)
        if not math.isfinite(loss):
            return False
        rows = []
        for group, (g_ss, p_ss, u_ss) in squares.items():
            g_ss, p_ss = float(g_ss), float(p_ss)
            if not (math.isfinite(g_ss) and math.isfinite(p_ss)):
                return False
            g_norm, p_norm = math.sqrt(g_ss), math.sqrt(p_ss)
            if u_ss is not None:
                u_ss = float(u_ss)
                if not math.isfinite(u_ss):
                    return False
                step_norm = math.sqrt(u_ss)
            elif learning_rate is not None:
                step_norm = abs(float(learning_rate)) * g_norm
            else:
                step_norm = math.nan
            rows.append((group, g_norm, p_norm, step_norm / p_norm if p_norm > 0 else math.nan))
        h = self.history
        h["step"].append(int(step))
        h["loss"].append(loss)
        h["learning_rate"].append(None if learning_rate is None else float(learning_rate))
        n_steps = len(h["step"])
        for group, g_norm, p_norm, ratio in rows:
            for key, value in (("grad_norm", g_norm), ("param_norm", p_norm),
                               ("update_ratio", ratio)):
                series = h[key]
                (series[group] if group in series else self._series(key, group)).append(value)
        for key in ("grad_norm", "param_norm", "update_ratio"):
            for values in h[key].values():  # groups missing at this step
                if len(values) < n_steps:
                    values.append(math.nan)
        if self._thinning is not None:
            self._thinning.recorded(h)
        if params is not None:
            self.last_good_params = params
        self.last_good_step = int(step)
        return True

    def record_validation(self, step, loss) -> None:
        """Record a validation loss (shown by :func:`gradkit.plot.training`)."""
        self.history["val_step"].append(int(step))
        self.history["val_loss"].append(float(loss))

    def findings(self, **thresholds) -> list:
        """What went wrong so far: :func:`gradkit.diagnostics.diagnose` of :attr:`history`."""
        from .findings import diagnose
        return diagnose(self.history, **thresholds)

    def __repr__(self):
        groups = list(self.history["grad_norm"])
        return f"GradientMonitor({len(self.history['step'])} steps, groups={groups})"
