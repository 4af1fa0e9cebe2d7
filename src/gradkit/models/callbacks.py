"""Callbacks that watch and steer an estimator's training: early stopping, rate plateaus, logs.

An estimator's ``callbacks=[...]`` are called at the end of every epoch of a gradient
transformation (every iteration of a full-batch method) with one :class:`EpochInfo`. The
protocol is small, and every method is optional:

- ``on_train_begin(info)``: before the first epoch (``info`` holds ``estimator``);
- ``on_epoch_end(info)``: after each epoch; returning ``True`` (or raising
  :class:`StopTraining`) stops training with ``stop_reason_ = "callback"``;
- ``on_train_end(info)``: once training ended, for whatever reason (``info["stop_reason"]``),
  before the fitted attributes (``coef_``, ...) are derived from ``params_``: a callback that
  sets ``estimator.params_`` there (``EarlyStopping(restore_best_weights=True)``) is kept.

The names are Keras's (``EarlyStopping(monitor, min_delta, patience, mode,
restore_best_weights)``, ``ReduceLROnPlateau(monitor, factor, patience, min_delta, cooldown,
min_lr)``), with ``HistoryLogger`` for Keras's ``CSVLogger`` (CSV or JSON lines).

>>> import numpy as np
>>> from gradkit.models import LinearRegression
>>> X = np.linspace(-1, 1, 40)[:, None]; y = 2 * X[:, 0]
>>> stop = EarlyStopping(monitor="loss", min_delta=1e-3, patience=2)
>>> model = LinearRegression(optimizer="sgd", learning_rate=0.1, max_iter=500, tol=0.0,
...                          callbacks=[stop]).fit(X, y)
>>> model.stop_reason_, model.n_iter_ == stop.stopped_epoch < 500
('callback', True)
"""
from __future__ import annotations

import copy
import csv
import json
import math
import os

from gradkit.safety import for_csv

__all__ = ["Callback", "EpochInfo", "StopTraining", "EarlyStopping", "ReduceLROnPlateau",
           "HistoryLogger", "call_callbacks"]


class StopTraining(Exception):
    """Raised by a callback's ``on_epoch_end`` to stop training (``stop_reason_ = "callback"``);
    the fit ends normally and the estimator is fitted.

    Examples:
        >>> raise StopTraining("enough")
        Traceback (most recent call last):
        ...
        gradkit.models.callbacks.StopTraining: enough
    """


class EpochInfo(dict):
    """What a callback is told at the end of an epoch: a dict whose keys are also attributes.

    Keys: ``epoch`` (1, 2, ... in this fit), ``step`` (optimizer steps so far), ``loss`` (the
    epoch's training objective), ``val_loss`` and ``val_score`` (on the validation data, or
    None), ``params`` (the current parameter pytree: read it, copy it to keep it),
    ``model_state`` (batch norm's running statistics, ``{}`` without batch norm), ``lr``
    (the learning rate of the last step, None for a full-batch method), ``estimator``, and
    ``set_learning_rate`` (a function ``lr -> None`` changing the rate of the next steps, or
    None where the optimizer has no learning rate).

    Examples:
        >>> EpochInfo(epoch=3, loss=0.5).loss
        0.5
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"EpochInfo has no key {name!r}; it has {sorted(self)}.") \
                from None


class Callback:
    """Base class of the callbacks (optional: any object with the methods will do).

    Each method receives an :class:`EpochInfo`; ``on_epoch_end`` may return True to stop.

    Examples:
        >>> class Print(Callback):
        ...     def on_epoch_end(self, info):
        ...         print(info.epoch, round(info.loss, 3))
        >>> Print().on_epoch_end(EpochInfo(epoch=1, loss=0.25))
        1 0.25
    """

    def on_train_begin(self, info):
        """Before the first epoch."""

    def on_epoch_end(self, info):
        """After each epoch; return True to stop training."""
        return None

    def on_train_end(self, info):
        """Once training ended (``info["stop_reason"]`` says why)."""


def call_callbacks(callbacks, method, info):
    """Call ``method`` of every callback that has it with ``info``; returns True when one of
    them asked to stop (returned True, or raised :class:`StopTraining`).

    Every callback is called even when an earlier one asked to stop, so that each sees
    every epoch (a logger still writes the last line).

    Args:
        callbacks: the estimator's ``callbacks`` (objects with any of the callback methods).
        method: the method's name (``"on_epoch_end"``, ...).
        info: the :class:`EpochInfo` passed to each.

    Returns:
        bool: whether training should stop.

    Examples:
        >>> class Stop:
        ...     def on_epoch_end(self, info):
        ...         return True
        >>> call_callbacks([Stop(), object()], "on_epoch_end", EpochInfo(epoch=1))
        True
    """
    stop = False
    for cb in callbacks or ():
        fn = getattr(cb, method, None)
        if fn is None:
            continue
        try:
            stop = (fn(info) is True) or stop
        except StopTraining:
            stop = True
    return stop


def _monitored(info, monitor, who):
    """The value of ``monitor`` in ``info``; ``"val_loss"`` / ``"val_score"`` fall back to
    the training loss when there is no validation data (Keras warns and skips instead)."""
    value = info.get(monitor)
    if value is None and monitor in ("val_loss", "val_score"):
        if monitor == "val_score":
            raise ValueError(f"{who}(monitor='val_score') needs validation data: pass "
                             "validation_data= to fit or set early_stopping=True.")
        value = info.get("loss")
    if value is None:
        raise ValueError(f"{who}: monitor={monitor!r} is not in the epoch information (keys: "
                         f"{sorted(k for k, v in info.items() if isinstance(v, float))}).")
    return float(value)


def _check_mode(mode, monitor, who):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max'; got mode={mode!r}.")
    if mode == "auto":
        return "max" if "score" in monitor or "acc" in monitor else "min"
    return mode


class EarlyStopping(Callback):
    """Stop when a monitored quantity has stopped improving (Keras's ``EarlyStopping``).

    An epoch improves when the value beats the best so far by more than ``min_delta`` (lower
    for ``mode="min"``, higher for ``"max"``); training stops after ``patience`` epochs in a
    row without an improvement.

    Args:
        monitor: ``"val_loss"`` (default; the training loss when there is no validation data),
            ``"loss"`` or ``"val_score"``.
        min_delta: the smallest change that counts as an improvement, >= 0.
        patience: epochs without improvement before stopping, >= 0.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``"max"`` for a score, else ``"min"``).
        restore_best_weights: at the end, put back the parameters of the best epoch.
        start_from_epoch: epochs to wait before counting.

    Attributes:
        best: the best value so far.
        best_epoch: its epoch.
        stopped_epoch: the epoch training was stopped at (0 when it was not).
        wait: the current count of epochs without improvement.

        best_params: ``(params, model_state)`` of the best epoch (with
            ``restore_best_weights``; else None).

    Raises:
        ValueError: for a bad setting, or (when training) a monitor that is not there.

    Examples:
        >>> stop = EarlyStopping(monitor="loss", patience=1)
        >>> [stop.on_epoch_end(EpochInfo(epoch=e, loss=v, params={}))
        ...  for e, v in enumerate([3.0, 2.0, 2.5, 2.4], start=1)]
        [False, False, False, True]
        >>> stop.best, stop.best_epoch
        (2.0, 2)
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                 restore_best_weights=False, start_from_epoch=0):
        if not (isinstance(patience, int) and patience >= 0):
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0; got "
                             f"patience={patience!r}.")
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0):
            raise ValueError(f"EarlyStopping: min_delta must be a number >= 0; got "
                             f"min_delta={min_delta!r}.")
        self.monitor, self.min_delta, self.patience = monitor, float(min_delta), patience
        self.mode = _check_mode(mode, monitor, "EarlyStopping")
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.stopped_epoch, self.wait = 0, 0, 0
        self.best_params = None

    def on_train_begin(self, info):
        """Forget the previous fit."""
        self._reset()

    def on_epoch_end(self, info):
        """Count this epoch; True once ``patience`` epochs in a row did not improve."""
        if info["epoch"] <= self.start_from_epoch:
            return False
        value = _monitored(info, self.monitor, "EarlyStopping")
        sign = 1.0 if self.mode == "min" else -1.0
        if sign * value < sign * self.best - self.min_delta or self.best_epoch == 0:
            self.best, self.best_epoch, self.wait = value, info["epoch"], 0
            if self.restore_best_weights:
                self.best_params = copy.deepcopy((info.get("params"), info.get("model_state")))
            return False
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = info["epoch"]
            return True
        return False

    def on_train_end(self, info):
        """With ``restore_best_weights``, give the estimator the best epoch's parameters (and
        batch norm's statistics)."""
        est = info.get("estimator")
        if self.restore_best_weights and self.best_params is not None and est is not None:
            params, state = copy.deepcopy(self.best_params)
            est.params_ = params
            if state is not None:
                est.model_state_ = state


class ReduceLROnPlateau(Callback):
    """Lower the learning rate when a monitored quantity stops improving (Keras's
    ``ReduceLROnPlateau``).

    After ``patience`` epochs without an improvement of more than ``min_delta``, the learning
    rate of the estimator's gradient transformation becomes ``max(lr * factor, min_lr)``,
    then ``cooldown`` epochs pass before counting again. The rate is changed through
    ``info["set_learning_rate"]``: the estimator multiplies its ``learning_rate`` (number or
    schedule) by a factor from then on, so a schedule keeps its shape, scaled down.

    Args:
        monitor: ``"val_loss"`` (default; the training loss without validation data),
            ``"loss"`` or ``"val_score"``.
        factor: in (0, 1), the multiplier of the rate.
        patience: epochs without improvement before a reduction, >= 0.
        min_delta: the smallest change that counts as an improvement, >= 0.
        cooldown: epochs to wait after a reduction, >= 0.
        min_lr: the lowest rate, >= 0.
        mode: ``"min"``, ``"max"`` or ``"auto"``.

    Attributes:
        reductions: ``[(epoch, new learning rate), ...]`` of this fit.

    Raises:
        ValueError: for a bad setting, or when the estimator's optimizer has no learning rate
            (a full-batch method searches its own step).

    Examples:
        >>> rlr = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0)
        >>> rates = []
        >>> for e, v in enumerate([1.0, 1.0, 0.5], start=1):
        ...     _ = rlr.on_epoch_end(EpochInfo(epoch=e, loss=v, lr=0.1,
        ...                                    set_learning_rate=rates.append))
        >>> rates
        [0.05]
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_delta=1e-4,
                 cooldown=0, min_lr=0.0, mode="auto"):
        if not (isinstance(factor, (int, float)) and 0.0 < factor < 1.0):
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1); got "
                             f"factor={factor!r}.")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if not (isinstance(value, int) and value >= 0):
                raise ValueError(f"ReduceLROnPlateau: {name} must be an integer >= 0; got "
                                 f"{name}={value!r}.")
        for name, value in (("min_delta", min_delta), ("min_lr", min_lr)):
            if not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f"ReduceLROnPlateau: {name} must be a number >= 0; got "
                                 f"{name}={value!r}.")
        self.monitor, self.factor, self.patience = monitor, float(factor), patience
        self.min_delta, self.cooldown, self.min_lr = float(min_delta), cooldown, float(min_lr)
        self.mode = _check_mode(mode, monitor, "ReduceLROnPlateau")
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait, self._cooling, self.reductions = 0, 0, []

    def on_train_begin(self, info):
        """Refuse an optimizer without a learning rate; forget the previous fit."""
        self._reset()
        if info.get("set_learning_rate", False) is None:
            raise ValueError("ReduceLROnPlateau needs a gradient transformation with a "
                             "learning rate (optimizer='sgd', 'adam', ...); the full-batch "
                             "method of this estimator searches its own step.")

    def on_epoch_end(self, info):
        """Count this epoch; lower the rate after ``patience`` epochs without improvement."""
        value = _monitored(info, self.monitor, "ReduceLROnPlateau")
        sign = 1.0 if self.mode == "min" else -1.0
        if self._cooling:
            self._cooling -= 1
        if sign * value < sign * self.best - self.min_delta:
            self.best, self.wait = value, 0
            return False
        if self._cooling:
            return False
        self.wait += 1
        if self.wait > self.patience and info.get("lr") is not None:
            new = max(float(info["lr"]) * self.factor, self.min_lr)
            if new < float(info["lr"]):
                info["set_learning_rate"](new)
                self.reductions.append((int(info["epoch"]), new))
            self.wait, self._cooling = 0, self.cooldown
        return False


_COLUMNS = ("epoch", "step", "loss", "val_loss", "val_score", "lr")


class HistoryLogger(Callback):
    """Write one line per epoch to a file: CSV (Keras's ``CSVLogger``) or JSON lines.

    The columns are ``epoch, step, loss, val_loss, val_score, lr`` (empty / null where there
    is none), plus ``estimator`` (the class name) in the first column. Every CSV cell goes
    through :func:`gradkit.safety.for_csv`, so nothing in the file runs as a spreadsheet
    formula. The file is opened at the start of training and flushed every line, so an
    interrupted run keeps what was logged.

    Args:
        path: the file (``str`` or path-like).
        format: ``"csv"``, ``"json"`` (one JSON object per line), or None: from the suffix
            (``.json`` / ``.jsonl`` JSON, else CSV).
        append: add to an existing file instead of replacing it (a CSV header is written
            only into an empty file).

    Raises:
        ValueError: for an unknown ``format``.
        OSError: when the file cannot be opened (at the start of ``fit``).

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> log = HistoryLogger(path)
        >>> log.on_train_begin(EpochInfo(estimator=None))
        >>> log.on_epoch_end(EpochInfo(epoch=1, step=3, loss=0.5, val_loss=None, val_score=None,
        ...                            lr=0.1))
        False
        >>> log.on_train_end(EpochInfo())
        >>> print(open(path).read().strip())
        estimator,epoch,step,loss,val_loss,val_score,lr
        NoneType,1,3,0.5,,,0.1
    """

    def __init__(self, path, format=None, append=False):
        self.path = os.fspath(path)
        if format is None:
            format = "json" if self.path.lower().endswith((".json", ".jsonl")) else "csv"
        if format not in ("csv", "json"):
            raise ValueError(f"HistoryLogger: format must be 'csv' or 'json'; got "
                             f"format={format!r}.")
        self.format, self.append = format, append
        self._file, self._name = None, ""

    def on_train_begin(self, info):
        """Open the file (and write the CSV header)."""
        self.on_train_end(info)
        self._name = type(info.get("estimator")).__name__
        self._file = open(self.path, "a" if self.append else "w", newline="", encoding="utf-8")
        if self.format == "csv" and self._file.tell() == 0:
            csv.writer(self._file).writerow(("estimator",) + _COLUMNS)
            self._file.flush()

    def on_epoch_end(self, info):
        """Write this epoch's line."""
        if self._file is None:
            self.on_train_begin(info)
        values = [info.get(k) for k in _COLUMNS]
        if self.format == "csv":
            cells = [self._name] + ["" if v is None else repr(v) if isinstance(v, float)
                                    else str(v) for v in values]
            csv.writer(self._file).writerow([for_csv(c) for c in cells])
        else:
            record = {"estimator": self._name}
            record.update((k, None if isinstance(v, float) and not math.isfinite(v) else v)
                          for k, v in zip(_COLUMNS, values))
            self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        return False

    def on_train_end(self, info):
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __getstate__(self):  # an estimator holding a logger still pickles (no open file)
        state = dict(self.__dict__)
        state["_file"] = None
        return state
