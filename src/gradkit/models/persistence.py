"""Save fitted estimators to a single ``.npz`` file and load them without executing code.

The file is a NumPy ``.npz`` archive holding only numeric and string arrays:

- ``params/<path>`` and ``state/<path>``: the leaves of ``params_`` and ``model_state_``;
- ``attr/<name>``: fitted array attributes (``classes_``, ``loss_curve_``, ...);
- ``opt/<i>``: the leaves of a gradient transformation's state (Adam's moments and step
  count, ...), when every leaf is a number or a numeric array;
- ``__gradkit__``: one JSON string with the format name and version, the gradkit version, the
  estimator's class name, its settings (``get_params()``), the structure of the pytrees, the
  preprocessing metadata (``n_features_in_``, ``feature_names_in_``, target shape) and the
  training record (``n_iter_``, ``history_``, ...).

:func:`load` reads it with ``np.load(..., allow_pickle=False)`` and rebuilds the estimator from a
fixed list of classes, so a file can never run code. A loaded model predicts identically, and
``warm_start`` / ``partial_fit`` continue with the saved optimizer state: the loaded model's
next step is the one the original would have taken. The state's structure is not stored: it
is rebuilt as ``tx.init(params_)`` for the saved settings and filled with the saved leaves.

>>> import numpy as np, os, tempfile
>>> from gradkit.models import LinearRegression, load
>>> X = np.array([[0.0], [1.0], [2.0]]); model = LinearRegression().fit(X, 2 * X[:, 0])
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> model.save(path)
>>> np.allclose(load(path).predict(X), model.predict(X))
True
"""
from __future__ import annotations

import json
import numbers
import os
import warnings
import zipfile

import numpy as np

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION"]

FORMAT = "gradkit.models"
FORMAT_VERSION = 1

_META = "__gradkit__"
# fitted attributes that are arrays (saved as arrays) and plain values (saved in the JSON)
_ARRAY_ATTRIBUTES = ("classes_", "feature_names_in_", "loss_curve_", "validation_scores_")
_VALUE_ATTRIBUTES = ("n_features_in_", "n_iter_", "t_", "best_loss_", "best_validation_score_",
                     "diverged_", "diverged_at_", "history_", "_n_outputs", "_fitted_n_outputs",
                     "_y_ndim")


def _estimators():
    from .linear import LinearRegression, LinearSVM, LogisticRegression
    from .neural_network import MLPClassifier, MLPRegressor
    return {cls.__name__: cls for cls in (LinearRegression, LogisticRegression, LinearSVM,
                                          MLPClassifier, MLPRegressor)}


def _plain(value, where):
    """A JSON-ready copy of ``value`` (tuples tagged so they come back as tuples)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_plain(v, where) for v in value]}
    if isinstance(value, list):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise ValueError(f"{where}={value!r} cannot be saved: only numbers, strings, None and "
                     "lists of them can be written to a gradkit model file. Use a named "
                     "optimizer / a number instead, or pickle the estimator.")


def _unplain(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_unplain(v) for v in value["__tuple__"])
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    return value


def _encode_tree(tree, prefix, arrays):
    """The JSON structure of a pytree of dicts / lists; its leaves go into ``arrays``."""
    if isinstance(tree, dict):
        return {"dict": {str(k): _encode_tree(v, f"{prefix}/{k}", arrays)
                         for k, v in tree.items()}}
    if isinstance(tree, (list, tuple)):
        return {"list" if isinstance(tree, list) else "tuple":
                [_encode_tree(v, f"{prefix}/{i}", arrays) for i, v in enumerate(tree)]}
    arrays[prefix] = np.asarray(tree)
    return {"array": prefix}


def _decode_tree(spec, arrays):
    if "dict" in spec:
        return {k: _decode_tree(v, arrays) for k, v in spec["dict"].items()}
    if "list" in spec:
        return [_decode_tree(v, arrays) for v in spec["list"]]
    if "tuple" in spec:
        return tuple(_decode_tree(v, arrays) for v in spec["tuple"])
    return arrays[spec["array"]]


def _array_attribute(name, value):
    """``(array, kind)``: object arrays (strings, mixed labels) become typed arrays."""
    a = np.asarray(value)
    if a.dtype.kind != "O":
        return a, None
    typed = np.array(a.tolist())
    if typed.dtype.kind not in "biufU" or typed.shape != a.shape:
        raise ValueError(f"{name} holds values of types "
                         f"{sorted({type(v).__name__ for v in a.ravel()})} that cannot be "
                         "written without pickle; use numeric or string labels.")
    return typed, "object"


def save(estimator, path):
    """Write a fitted gradkit estimator to ``path`` as one ``.npz`` archive (module doc).

    Raises:
        sklearn.exceptions.NotFittedError: when the estimator is not fitted.
        ValueError: when a setting (e.g. a custom optimizer object or a RandomState) cannot
            be written without pickle.
    """
    from sklearn.utils.validation import check_is_fitted

    import gradkit
    check_is_fitted(estimator, "params_")
    name = type(estimator).__name__
    if _estimators().get(name) is not type(estimator):
        raise ValueError(f"save supports gradkit's own estimators only, not {name}.")
    settings = {k: _plain(v, k) for k, v in estimator.get_params(deep=False).items()}
    arrays = {}
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "gradkit_version": gradkit.__version__, "estimator": name, "settings": settings,
        "params": _encode_tree(estimator.params_, "params", arrays),
        "state": _encode_tree(estimator.model_state_, "state", arrays),
        "arrays": {}, "values": {},
    }
    for attr in _ARRAY_ATTRIBUTES:
        if hasattr(estimator, attr):
            arrays[f"attr/{attr}"], kind = _array_attribute(attr, getattr(estimator, attr))
            meta["arrays"][attr] = kind
    for attr in _VALUE_ATTRIBUTES:
        if hasattr(estimator, attr):
            meta["values"][attr] = _plain(getattr(estimator, attr), attr)
    leaves = _optimizer_leaves(getattr(estimator, "_opt_state", None))
    if leaves is not None:
        meta["optimizer_state"] = len(leaves)
        arrays.update((f"opt/{i}", leaf) for i, leaf in enumerate(leaves))
    arrays[_META] = np.array(json.dumps(meta))
    with open(os.fspath(path), "wb") as f:
        np.savez(f, **arrays)


def load(path):
    """Read an estimator written by ``estimator.save(path)``.

    Only arrays and JSON are read (``allow_pickle=False``) and the class comes from a fixed
    list of gradkit estimators, so loading never executes code from the file.

    Raises:
        ValueError: when the file is not a gradkit model file, is corrupted or truncated, or
            was written in another format version.
        FileNotFoundError: when ``path`` does not exist.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No gradkit model file at {path!r}.")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop(_META)))
    except KeyError:
        raise ValueError(f"{path!r} is a .npz file but not a gradkit model file (it has no "
                         f"{_META!r} entry); write models with estimator.save(path).") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path!r} is not a readable gradkit model file (corrupted, "
                         f"truncated or another format): {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a gradkit model file (format "
                         f"{meta.get('format') if isinstance(meta, dict) else None!r}).")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path!r} was written in gradkit model format version "
                         f"{meta.get('format_version')!r} (gradkit "
                         f"{meta.get('gradkit_version')}); this gradkit reads version "
                         f"{FORMAT_VERSION}. Refit the model or load it with that version.")
    cls = _estimators().get(meta.get("estimator"))
    if cls is None:
        raise ValueError(f"{path!r} holds an unknown estimator {meta.get('estimator')!r}.")
    try:
        estimator = cls(**{k: _unplain(v) for k, v in meta["settings"].items()})
        estimator.params_ = _decode_tree(meta["params"], arrays)
        estimator.model_state_ = _decode_tree(meta["state"], arrays)
        for attr, kind in meta["arrays"].items():
            a = arrays[f"attr/{attr}"]
            setattr(estimator, attr, a.astype(object) if kind == "object" else a)
        for attr, value in meta["values"].items():
            setattr(estimator, attr, _unplain(value))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path!r} is an incomplete or corrupted gradkit model file: "
                         f"missing or invalid entry {exc}.") from None
    for attr in ("loss_curve_", "validation_scores_"):
        if hasattr(estimator, attr):
            setattr(estimator, attr, [float(v) for v in getattr(estimator, attr)])
    estimator._opt_state = _restore_optimizer_state(estimator, meta, arrays, path)
    estimator._set_public_attributes()
    return estimator


def _optimizer_leaves(opt_state):
    """The leaves of an optimizer state as arrays, or None when there is no state or a leaf
    is not a number or a numeric array (then the state is not saved)."""
    from gradkit.tree import tree_leaves

    if opt_state is None:
        return None
    leaves = []
    for leaf in tree_leaves(opt_state):
        if isinstance(leaf, bool) or not isinstance(leaf, (numbers.Number, np.ndarray,
                                                           np.generic)):
            return None
        a = np.asarray(leaf)
        if a.dtype.kind not in "biufc":
            return None
        leaves.append(a)
    return leaves


def _restore_optimizer_state(estimator, meta, arrays, path):
    """The saved optimizer state in the structure ``tx.init(params_)`` gives, or None (the
    optimizer restarts) when none was saved or it does not fit the estimator's optimizer."""
    from gradkit.tree import tree_flatten, tree_unflatten

    count = meta.get("optimizer_state")
    if count is None:
        return None
    kind, tx = estimator.optimizer_kind()
    template, treedef = tree_flatten(tx.init(estimator.params_)) if kind == "transform" \
        else ([], None)
    saved = [arrays.get(f"opt/{i}") for i in range(int(count))]
    if (treedef is None or len(saved) != len(template)
            or any(a is None or a.shape != np.shape(t) for a, t in zip(saved, template))):
        warnings.warn(f"{path!r}: the saved optimizer state does not fit optimizer="
                      f"{estimator.optimizer!r}; warm_start / partial_fit restart the "
                      "optimizer.", RuntimeWarning, stacklevel=3)
        return None
    # numbers come back as the type init gives them (a Python int step count stays an int)
    leaves = [a.astype(t.dtype, copy=False) if isinstance(t, np.ndarray) else type(t)(a.item())
              for a, t in zip(saved, template)]
    return tree_unflatten(treedef, leaves)
