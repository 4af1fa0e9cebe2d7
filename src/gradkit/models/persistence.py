"""Save fitted estimators to a single ``.npz`` file and load them without executing code.

The file is a NumPy ``.npz`` archive holding only numeric and string arrays:

- ``params/<path>`` and ``state/<path>``: the leaves of ``params_`` and ``model_state_``;
- ``attr/<name>``: fitted array attributes (``classes_``, ``loss_curve_``, ...);
- ``opt/<i>``: the leaves of a gradient transformation's state (Adam's moments and step
  count, ...), when every leaf is a number or a numeric array;
- ``__gradkit__``: one JSON string with the format name and version, the gradkit version, the
  estimator's class name, its settings (``get_params()``), the structure of the pytrees, the
  preprocessing metadata (``n_features_in_``, ``feature_names_in_``, target shape) and the
  training record (``n_iter_``, ``history_``, ...). ``history_`` is kept to at most
  :data:`MAX_SAVED_HISTORY` steps (:func:`thin_history`), so a file's size does not grow with
  the length of training; ``history_steps`` records how many steps there were.

:func:`load` reads it without pickle and rebuilds the estimator from a fixed list of classes,
so a file can never run code; it checks every declared size and shape before decompressing
anything, and raises :class:`ModelFileError` for any file it refuses. A loaded model
predicts identically, and
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
import struct
import tokenize
import warnings
import zipfile
import zlib

import numpy as np

__all__ = ["save", "load", "register", "ModelFileError", "thin_history", "FORMAT", "FORMAT_VERSION",
           "MAX_MODEL_BYTES", "MAX_METADATA_BYTES", "MAX_ENTRIES", "MAX_COMPRESSION_RATIO",
           "MAX_JSON_DEPTH", "MAX_SAVED_HISTORY"]

#: The ``format`` entry of a model file's metadata.
FORMAT = "gradkit.models"
#: The version of the model file this gradkit writes and reads.
FORMAT_VERSION = 1

_META = "__gradkit__"
# fitted attributes that are arrays (saved as arrays) and plain values (saved in the JSON)
_ARRAY_ATTRIBUTES = ("classes_", "feature_names_in_", "loss_curve_", "validation_scores_")
_VALUE_ATTRIBUTES = ("n_features_in_", "n_iter_", "t_", "best_loss_", "best_validation_score_",
                     "diverged_", "diverged_at_", "stop_reason_", "history_", "_n_outputs", "_fitted_n_outputs",
                     "_y_ndim")


#: The estimator classes a model file may name, by class name (:func:`register`).
_REGISTRY: dict = {}


def register(cls):
    """Add an estimator class to those model files may hold (a class decorator): :func:`load`
    rebuilds only registered classes, found by name, so a file never names code to run.

    The estimator modules register their classes as they are defined, so this module imports
    none of them (and ``base.py``, which calls :func:`save`, is not imported back).

    Args:
        cls: the estimator class.

    Returns:
        ``cls`` itself.

    Raises:
        ValueError: when another class already registered that name.

    Examples:
        >>> from gradkit.models import LinearRegression
        >>> register(LinearRegression) is LinearRegression
        True
    """
    known = _REGISTRY.get(cls.__name__)
    if known is not None and known is not cls:
        raise ValueError(f"another estimator class named {cls.__name__!r} is already "
                         f"registered for model files ({known.__module__}).")
    _REGISTRY[cls.__name__] = cls
    return cls


def _estimators():
    return _REGISTRY


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
        if where == "class_weight":  # labels of any type: kept as pairs, not as JSON keys
            return {"__pairs__": [[_plain(k, where), _plain(v, where)]
                                  for k, v in value.items()]}
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise ValueError(f"{where}={value!r} cannot be saved: only numbers, strings, None and "
                     "lists of them can be written to a gradkit model file. Use a named "
                     "optimizer / a number instead, or pickle the estimator.")


def _unplain(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_unplain(v) for v in value["__tuple__"])
        if set(value) == {"__pairs__"} and isinstance(value["__pairs__"], list) and all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], (str, int, float))
                for p in value["__pairs__"]):
            return {p[0]: _unplain(p[1]) for p in value["__pairs__"]}
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


#: The most training steps of ``history_`` a model file keeps (about 650 bytes each).
MAX_SAVED_HISTORY = 10_000


def thin_history(history, limit=None):
    """``(history, n_steps)``: ``history`` with at most ``limit`` (default
    :data:`MAX_SAVED_HISTORY`) of its steps, and how many it had.

    The steps kept are evenly spaced from the first to the last, plus the step of the lowest
    loss; every per-step list (``loss``, ``grad_norm[layer]``, ...) keeps the same steps, so
    ``history["step"]`` says which they are. The validation record (``val_step``,
    ``val_loss``, ``val_score``) is thinned the same way on its own. A shorter history is
    returned as is.

    Args:
        history: a history dict (``estimator.history_``); anything else is returned as is.
        limit: the most steps to keep (None: :data:`MAX_SAVED_HISTORY`).

    Returns:
        ``(thinned history, number of steps it had)`` (``(history, None)`` for a non-dict).

    Examples:
        >>> h = {"step": [1, 2, 3, 4, 5, 6], "loss": [5.0, 4, 3, 1, 2, 2.5],
        ...      "grad_norm": {"w": [1.0] * 6}}
        >>> thin_history(h, limit=3)
        ({'step': [1, 3, 4, 6], 'loss': [5.0, 3, 1, 2.5],
          'grad_norm': {'w': [1.0, 1.0, 1.0, 1.0]}}, 6)
    """
    if limit is None:
        limit = MAX_SAVED_HISTORY
    if not isinstance(history, dict):
        return history, None
    steps = history.get("step")
    n = len(steps) if isinstance(steps, list) else 0
    out = _thin_lists(history, n, "loss", limit)
    m = len(history.get("val_step") or [])
    if m > limit:
        val = _thin_lists({k: history[k] for k in ("val_step", "val_loss", "val_score")
                           if k in history}, m, "val_loss", limit)
        out.update(val)
    return out, n


def _thin_lists(tree, n, loss_key, limit):
    if n <= limit:
        return dict(tree)
    keep = set(np.linspace(0, n - 1, limit).round().astype(int).tolist())
    loss = np.asarray([np.nan if v is None else v for v in tree.get(loss_key, [])], float)
    if loss.size == n and np.isfinite(loss).any():
        keep.add(int(np.nanargmin(np.where(np.isfinite(loss), loss, np.nan))))
    keep = sorted(keep)

    def thin(value):
        if isinstance(value, dict):
            return {k: thin(v) for k, v in value.items()}
        if isinstance(value, list) and len(value) == n:
            return [value[i] for i in keep]
        return value
    return thin(tree)


def save(estimator, path):
    """Write a fitted gradkit estimator to ``path`` as one ``.npz`` archive (module doc).

    ``estimator.save(path)`` calls it. Callbacks are not stored (a loaded model has
    ``callbacks=None``).

    Args:
        estimator: a fitted gradkit estimator (:class:`LinearRegression`, ...).
        path: the file to write (``str`` or path-like); it is replaced if it exists.

    Raises:
        sklearn.exceptions.NotFittedError: when the estimator is not fitted.
        ValueError: when the estimator is not one of gradkit's own, or a setting (e.g. a
            custom optimizer object or a RandomState) cannot be written without pickle.

    Examples:
        >>> import numpy as np, os, tempfile
        >>> from gradkit.models import LogisticRegression
        >>> X, y = np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.array([0, 0, 1, 1])
        >>> path = os.path.join(tempfile.mkdtemp(), "clf.npz")
        >>> save(LogisticRegression().fit(X, y), path)
        >>> load(path).predict(X).tolist()
        [0, 0, 1, 1]
    """
    from sklearn.utils.validation import check_is_fitted

    import gradkit
    check_is_fitted(estimator, "params_")
    name = type(estimator).__name__
    if _estimators().get(name) is not type(estimator):
        raise ValueError(f"save supports gradkit's own estimators only, not {name}.")
    # callbacks and augmentations are objects with behaviour: a model file cannot hold them
    # (it stores None)
    settings = {k: None if k in ("callbacks", "augment") else _plain(v, k)
                for k, v in estimator.get_params(deep=False).items()}
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
            value = getattr(estimator, attr)
            if attr == "history_":
                value, meta["history_steps"] = thin_history(value)
            meta["values"][attr] = _plain(value, attr)
    leaves = _optimizer_leaves(getattr(estimator, "_opt_state", None))
    if leaves is not None:
        meta["optimizer_state"] = len(leaves)
        arrays.update((f"opt/{i}", leaf) for i, leaf in enumerate(leaves))
    arrays[_META] = np.array(json.dumps(meta))
    with open(os.fspath(path), "wb") as f:
        np.savez(f, **arrays)


class ModelFileError(ValueError):
    """A file that :func:`load` refuses: not a gradkit model file, damaged or truncated, larger
    than the limits below, or holding entries that do not fit the estimator it names (a wrong
    shape or dtype, a NaN coefficient). The message names the file and the problem.

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "notes.npz")
        >>> with open(path, "w") as f:
        ...     _ = f.write("not a model")
        >>> try:
        ...     load(path)
        ... except ModelFileError as exc:
        ...     print(type(exc).__mro__[1].__name__, "|", str(exc).split(":")[0])
        ValueError | ... is not a readable gradkit model file
    """


#: Limits on what :func:`load` reads, checked on the zip's central directory and each
#: ``.npy`` header before any entry is decompressed. np.savez stores entries uncompressed, so
#: a real model file never declares more than its own size; the ratio leaves room for a file
#: re-zipped with deflate (float weights compress far less than 20:1, a block of zeros ~1000:1).
MAX_MODEL_BYTES = 2 ** 31
#: The most bytes of a model file's JSON metadata.
MAX_METADATA_BYTES = 2 ** 26
#: The most entries (arrays) in a model file.
MAX_ENTRIES = 10_000
#: The highest ratio of an entry's declared size to its compressed size.
MAX_COMPRESSION_RATIO = 20
#: The deepest nesting of the metadata's JSON.
MAX_JSON_DEPTH = 32

_TOKENS = None  # compiled on first use: the JSON strings and brackets of the metadata


def load(path):
    """Read an estimator written by ``estimator.save(path)``.

    Only arrays and JSON are read (no pickle) and the class comes from a fixed list of gradkit
    estimators, so loading never executes code from the file. Before anything is
    decompressed, the archive's declared sizes, the metadata (its size and nesting depth) and
    the shape and dtype in every ``.npy`` header are checked against the limits above and
    against the estimator the file names (its settings give the shape of every parameter);
    after reading, every coefficient must be finite. Memory use is bounded by the declared
    sizes, which are bounded by the file's own size.

    Args:
        path: the file (``str`` or path-like).

    Returns:
        The estimator, fitted, of the class the file names, with its settings, parameters,
        fitted attributes and optimizer state.

    Raises:
        ModelFileError: (a ``ValueError``) when the file is not a gradkit model file, is
            corrupted or truncated, exceeds a limit, was written in another format version,
            or holds entries that do not fit its estimator.
        FileNotFoundError: when ``path`` does not exist.

    Examples:
        >>> import numpy as np, os, tempfile
        >>> from gradkit.models import LinearRegression
        >>> X = np.array([[0.0], [1.0], [2.0]])
        >>> path = os.path.join(tempfile.mkdtemp(), "reg.npz")
        >>> LinearRegression(random_state=0).fit(X, 2 * X[:, 0]).save(path)
        >>> model = load(path)
        >>> type(model).__name__, model.n_features_in_
        ('LinearRegression', 1)
    """

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No gradkit model file at {path!r}.")
    with open(path, "rb") as f:
        head = f.read(6)
    if head == b"\x93NUMPY":
        raise ModelFileError(f"{path!r} is a single .npy array, not a gradkit model file (a "
                             ".npz archive written by estimator.save(path)).")
    _check_directory_size(path)
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path!r} is not a readable gradkit model file: it is not a "
                             ".npz (zip) archive, so not a gradkit model file (another format, "
                             "or a truncated or corrupted one).")
    try:
        with zipfile.ZipFile(path) as archive:
            return _Reader(path, archive).estimator()
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
            RuntimeError, UnicodeDecodeError, zlib.error, struct.error) as exc:
        # what zipfile raises on a damaged archive (RuntimeError: an encrypted entry)
        raise ModelFileError(f"{path!r} is not a readable gradkit model file (corrupted, "
                             f"truncated or another format): {exc}") from None


def _check_directory_size(path):
    """Refuse an archive whose central directory lists more than MAX_ENTRIES entries, read
    from its end record before ``zipfile`` builds an object per entry (a million tiny
    entries would cost far more memory than the file's size)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(max(0, size - (22 + 65535)))  # the end record and its longest comment
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return  # not a zip: is_zipfile says so next
        count = int.from_bytes(tail[at + 10:at + 12], "little")
        locator = tail[at - 20:at] if at >= 20 else b""
        if locator[:4] == b"PK\x06\x07":  # zip64: the count is in the zip64 end record
            f.seek(int.from_bytes(locator[8:16], "little"))
            record = f.read(56)
            if record[:4] == b"PK\x06\x06":
                count = int.from_bytes(record[32:40], "little")
    if count > MAX_ENTRIES:
        raise ModelFileError(f"{path!r} is not a readable gradkit model file: its directory "
                             f"lists {count} entries, more than the {MAX_ENTRIES} a model file "
                             "can have.")


class _Reader:
    """One :func:`load`: the archive's directory checked, then the metadata, then each entry
    against what the estimator expects."""

    def __init__(self, path, archive):
        self.path, self.archive = path, archive
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            self.fail(f"it has {len(infos)} entries, more than the {MAX_ENTRIES} a model "
                      "file can have")
        self.infos, total = {}, 0
        for info in infos:
            if info.filename in self.infos:
                self.fail(f"the entry {info.filename!r} appears twice")
            if info.flag_bits & 0x1:
                self.fail(f"the entry {info.filename!r} is encrypted")
            if info.file_size > MAX_COMPRESSION_RATIO * info.compress_size + 4096:
                self.fail(f"the entry {info.filename!r} declares {info.file_size} bytes "
                          f"from {info.compress_size} compressed (a ratio above "
                          f"{MAX_COMPRESSION_RATIO}:1, which no model's weights reach)")
            total += info.file_size
            self.infos[info.filename] = info
        if total > MAX_MODEL_BYTES:
            self.fail(f"its entries declare {total} bytes, more than the limit of "
                      f"{MAX_MODEL_BYTES} (gradkit.models.persistence.MAX_MODEL_BYTES)")

    def fail(self, problem):
        raise ModelFileError(f"{self.path!r} is not a readable gradkit model file: {problem}.")

    # ------------------------------------------------------------------ entries
    def read(self, name, shape=None, kinds="biufc", max_bytes=MAX_MODEL_BYTES):
        """The array in entry ``name``; its header is checked (``shape`` when given, dtype
        kind in ``kinds``, size) before its data is read."""
        info = self.infos.get(name + ".npy")
        if info is None:
            self.fail(f"the entry {name!r} is missing (incomplete or corrupted)")
        if info.file_size > max_bytes:
            self.fail(f"the entry {name!r} declares {info.file_size} bytes, more than "
                      f"{max_bytes}")
        with self.archive.open(info) as stream:
            try:
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    header = np.lib.format.read_array_header_1_0(stream)
                elif version == (2, 0):
                    header = np.lib.format.read_array_header_2_0(stream)
                else:
                    self.fail(f"the entry {name!r} has .npy format version {version}")
            except (ValueError, TypeError, SyntaxError, RecursionError,
                    tokenize.TokenError) as exc:
                # what numpy's header parser (a tokenizer and literal_eval) raises on garbage
                self.fail(f"the entry {name!r} has no valid .npy header ({exc})")
            found, fortran, dtype = header
            if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None \
                    or dtype.itemsize == 0:
                self.fail(f"the entry {name!r} has dtype {dtype}, expected one of kinds "
                          f"{kinds!r} (numbers{', strings' if 'U' in kinds else ''})")
            if shape is not None and tuple(found) != tuple(shape):
                self.fail(f"the entry {name!r} has shape {tuple(found)}, but the "
                          f"estimator's settings give {tuple(shape)}")
            count = 1
            for n in found:
                count *= int(n)
            nbytes = count * dtype.itemsize
            if nbytes != info.file_size - stream.tell():
                self.fail(f"the entry {name!r} declares shape {tuple(found)} ({nbytes} bytes) "
                          f"but holds {info.file_size - stream.tell()} bytes")
            data = stream.read(nbytes)
        if len(data) != nbytes:
            self.fail(f"the entry {name!r} is truncated")
        return np.frombuffer(data, dtype=dtype).reshape(found, order="F" if fortran else "C") \
            .copy()

    def finite(self, name, a):
        if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            self.fail(f"the entry {name!r} holds NaN or infinite values; a model with them "
                      "predicts nonsense")
        return a

    # ------------------------------------------------------------------ metadata
    def metadata(self):
        text = str(self.read(_META, shape=(), kinds="U", max_bytes=MAX_METADATA_BYTES)[()])
        global _TOKENS
        if _TOKENS is None:
            import re
            _TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
        depth = 0
        for token in _TOKENS.finditer(text):
            c = token.group()
            if c in "[{":
                depth += 1
                if depth > MAX_JSON_DEPTH:
                    self.fail(f"its metadata is nested deeper than {MAX_JSON_DEPTH} levels")
            elif c in "]}":
                depth -= 1
        try:
            meta = json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.fail(f"its metadata is not valid JSON ({exc})")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            self.fail(f"it is not a gradkit model file (format "
                      f"{meta.get('format') if isinstance(meta, dict) else None!r})")
        if meta.get("format_version") != FORMAT_VERSION:
            self.fail(f"it was written in gradkit model format version "
                      f"{meta.get('format_version')!r} (gradkit {meta.get('gradkit_version')}); "
                      f"this gradkit reads version {FORMAT_VERSION}. Refit the model or load "
                      "it with that version")
        for key, kind in (("settings", dict), ("params", dict), ("state", dict),
                          ("arrays", dict), ("values", dict)):
            if not isinstance(meta.get(key), kind):
                self.fail(f"its metadata has no valid {key!r} entry (incomplete or corrupted)")
        return meta

    # ------------------------------------------------------------------ the estimator
    def estimator(self):
        if _META + ".npy" not in self.infos:
            self.fail(f"it is a .npz file but not a gradkit model file (it has no {_META!r} "
                      "entry); write models with estimator.save(path)")
        meta = self.metadata()
        cls = _estimators().get(meta.get("estimator")) if isinstance(meta.get("estimator"),
                                                                     str) else None
        if cls is None:
            self.fail(f"it holds an unknown estimator {meta.get('estimator')!r}")
        from .parameters import check_parameters
        try:
            estimator = cls(**{k: _unplain(v) for k, v in meta["settings"].items()})
            check_parameters(estimator)
        except (TypeError, ValueError) as exc:
            self.fail(f"its settings are invalid for {cls.__name__}: {exc}")
        values = self.values(meta["values"], estimator)
        for attr, value in values.items():
            setattr(estimator, attr, value)
        try:
            # settings that pass the estimator's constraint table can still fail to build its
            # network or optimizer (a layer size of the wrong type, a flag as a number)
            params, state = self.parameters(meta, estimator, values["n_features_in_"])
            estimator.params_, estimator.model_state_ = params, state
            for attr, value in self.attributes(meta["arrays"], estimator, values).items():
                setattr(estimator, attr, value)
            opt_state = self.optimizer_state(meta, estimator)
        except ModelFileError:
            raise
        except (TypeError, ValueError) as exc:
            self.fail(f"its settings are invalid for {cls.__name__}: {exc}")
        expected = {e + ".npy" for e in self.entries}
        extra = sorted(set(self.infos) - expected - {_META + ".npy"})
        if extra:
            self.fail(f"it has entries no gradkit model has: {extra[:5]}")
        estimator._opt_state = opt_state
        estimator._set_public_attributes()
        return estimator

    def values(self, values, estimator):
        """The plain fitted values, each checked for its type and range."""
        from .parameters import STOP_REASONS

        def count(v, low):
            return isinstance(v, int) and not isinstance(v, bool) and low <= v <= 2 ** 40

        def number(v):
            return v is None or isinstance(v, (int, float)) and not isinstance(v, bool)

        checks = {"n_features_in_": lambda v: count(v, 1), "n_iter_": lambda v: count(v, 0),
                  "t_": lambda v: count(v, 0), "best_loss_": number,
                  "best_validation_score_": number, "diverged_": lambda v: isinstance(v, bool),
                  "diverged_at_": lambda v: v is None or count(v, 0),
                  "stop_reason_": lambda v: v is None or v in STOP_REASONS,
                  "history_": _is_history, "_n_outputs": lambda v: count(v, 1),
                  "_fitted_n_outputs": lambda v: count(v, 1), "_y_ndim": lambda v: v in (1, 2)}
        out = {}
        for attr, value in values.items():
            value = _unplain(value)
            if attr not in checks or not checks[attr](value):
                self.fail(f"its fitted value {attr}={value!r:.80} is not valid")
            out[attr] = value
        for attr in ("n_features_in_", "_n_outputs"):
            if attr not in out:
                self.fail(f"its metadata has no {attr!r} (incomplete or corrupted)")
        if not estimator._is_classifier() and "_y_ndim" not in out:
            self.fail("its metadata has no '_y_ndim' (incomplete or corrupted)")
        if out.get("_y_ndim") == 1 and out["_n_outputs"] != 1:
            # predict would return the first of several outputs as if it were the only one
            self.fail(f"it declares one-dimensional targets but {out['_n_outputs']} outputs")
        return out

    def parameters(self, meta, estimator, n_features):
        """``params_`` and ``model_state_``, read entry by entry against the shapes that
        ``_init_params`` gives for the saved settings (the estimator's own description)."""
        self.entries = set()
        declared = sum(self.infos[e].file_size for e in self.infos
                       if e.startswith(("params/", "state/")))
        # the settings may declare a huge network: count its weights before building one
        if 4 * _weight_count(estimator, n_features) > declared:
            self.fail(f"its settings describe {_weight_count(estimator, n_features)} weights "
                      f"but its parameter entries hold only {declared} bytes")
        template = estimator._init_params(n_features, np.random.default_rng(0))
        trees = []
        for key, tree in zip(("params", "state"), template):
            arrays = {}
            spec = _encode_tree(tree, key, arrays)
            if meta[key] != spec:
                self.fail(f"its {key!r} structure does not match {type(estimator).__name__} "
                          "with the saved settings (incomplete or corrupted)")
            loaded = {}
            for name, a in arrays.items():
                self.entries.add(name)
                loaded[name] = self.finite(name, self.read(name, a.shape, kinds="f"))
            trees.append(_decode_tree(spec, loaded))
        return trees

    def attributes(self, kinds, estimator, values):
        out = {}
        for attr, kind in kinds.items():
            if attr not in _ARRAY_ATTRIBUTES or kind not in (None, "object"):
                self.fail(f"its metadata lists an unknown array attribute {attr!r}")
            name = f"attr/{attr}"
            self.entries.add(name)
            shape = (values["n_features_in_"],) if attr == "feature_names_in_" else None
            a = self.read(name, shape, kinds="U" if attr == "feature_names_in_" else
                          "fi" if attr.endswith("_") and attr != "classes_" else "biufU")
            if a.ndim != 1:
                self.fail(f"the entry {name!r} has shape {a.shape}, expected one dimension")
            if attr in ("loss_curve_", "validation_scores_"):
                a = [float(v) for v in a]
            elif attr == "classes_":
                outputs = values["_n_outputs"]
                if len(a) < 2 or (outputs != 1 if len(a) == 2 else outputs != len(a)) \
                        or np.any(a[1:] <= a[:-1]) \
                        or (a.dtype.kind == "f" and not np.all(np.isfinite(a))):
                    self.fail(f"its classes_ ({len(a)} labels) are not sorted distinct labels "
                              f"matching the model's {outputs} output(s)")
                if kind == "object":
                    a = a.astype(object)
            out[attr] = a
        if estimator._is_classifier() and "classes_" not in out:
            self.fail("it holds a classifier without classes_ (incomplete or corrupted)")
        return out

    def optimizer_state(self, meta, estimator):
        count = meta.get("optimizer_state")
        if count is None:
            return None
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_ENTRIES:
            self.fail(f"its optimizer_state count {count!r} is not valid")
        arrays = {}
        for i in range(count):
            name = f"opt/{i}"
            self.entries.add(name)
            if name + ".npy" in self.infos:
                arrays[name] = self.finite(name, self.read(name))
        return _restore_optimizer_state(estimator, meta, arrays, self.path)


def _is_history(value):
    """A ``history_``: names to lists of numbers (or of records of plain values, the NaN
    findings) or to groups of such lists, as :class:`GradientMonitor` writes."""
    def number(v):
        return v is None or isinstance(v, (int, float))

    def entry(v):
        return number(v) or isinstance(v, dict) and all(
            number(x) or isinstance(x, str) for x in v.values())

    def series(v):
        return isinstance(v, list) and all(entry(x) for x in v)
    return isinstance(value, dict) and all(
        series(v) or isinstance(v, dict) and all(series(x) for x in v.values())
        for v in value.values())


def _weight_count(estimator, n_features):
    """The number of weights (matrix entries, biases left out) the settings describe, counted
    without building them."""
    sizes = getattr(estimator, "hidden_layer_sizes", ())
    widths = [n_features] + ([int(sizes)] if isinstance(sizes, numbers.Integral) else
                             [int(h) for h in sizes]) + [estimator._n_outputs]
    return sum(a * b for a, b in zip(widths, widths[1:]))


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
