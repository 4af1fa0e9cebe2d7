"""``gradkit fit``: encode a table, fit a model by gradients, score it, and write the report."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
import warnings

import numpy as np

from gradkit.data.tabular import prepare, read_table
from gradkit.safety import for_terminal

from .errors import EXIT_INTERRUPTED, CLIError
from .tabular import SPELLING

__all__ = ["run", "build_estimator", "save_model", "load_model", "EXAMPLES", "MODELS"]

#: The examples ``gradkit fit --help`` ends with.
EXAMPLES = """examples:
  gradkit fit                                    # breast_cancer, logistic regression (lbfgs)
  gradkit fit iris --model mlp --hidden 16 --optimizer adam --lr 0.01 --epochs 200
  gradkit fit diabetes --model linear --optimizer sgd --batch-size 32 --epochs 50
  gradkit fit houses.csv --target price --impute mean --save houses.npz
  gradkit fit data.csv --target label --drop id --max-categories 100 --report out.html
  gradkit fit big.csv --target label --dask                # a local Dask cluster for the run
  gradkit fit big.csv --dask tcp://10.0.0.5:8786 --blocksize 128MB   # a running scheduler

--dask [ADDRESS] reads the CSV with Dask in --blocksize partitions, encodes it as the
NumPy path does (statistics computed once over all partitions) and fits on Dask arrays:
full-batch methods (lbfgs, newton-cg, ...) sum loss and gradient block by block where the
data lives, stochastic optimizers draw mini-batches from the blocks, and the scores are
computed block by block: no step brings the rows to this machine. --dask alone starts a
local cluster (2 worker processes) and closes it at the end; put it after the data file.

The held-out rows: without --dask, exactly ceil(test-size x rows) of them, stratified by
class (scikit-learn's train_test_split with --seed). With --dask each row is held out on
its own, where it lives: row i (counted from 0) when a hash of (--seed, i) falls below
--test-size; so about test-size of the rows, the same ones for any --blocksize or cluster,
not stratified, and not the rows the in-memory path holds out."""

#: ``--model`` name -> estimator class name, per task.
MODELS = {
    "linear": {"regression": "LinearRegression"},
    "logistic": {"classification": "LogisticRegression"},
    "svm": {"classification": "LinearSVM"},
    "mlp": {"classification": "MLPClassifier", "regression": "MLPRegressor"},
}
SIDECAR = ".preprocess.json"


def build_estimator(model, task, args):
    """The gradkit estimator for ``--model`` on a ``task``, with the command's options.

    Args:
        model: a key of :data:`MODELS` (``"linear"``, ``"logistic"``, ``"svm"``, ``"mlp"``).
        task: ``"classification"`` or ``"regression"``.
        args: the parsed ``argparse.Namespace`` of ``gradkit fit`` (``--seed``,
            ``--optimizer``, ``--lr``, ``--epochs``, ``--alpha``, ``--penalty``, ...).

    Returns:
        The unfitted estimator.

    Raises:
        CLIError: when the model does not fit the task, or ``--hidden`` is given to a linear
            model.

    Examples:
        >>> from gradkit.cli.main import build_parser
        >>> args = build_parser().parse_args(["fit", "--model", "mlp", "--hidden", "4",
        ...                                   "--epochs", "5", "--seed", "0"])
        >>> est = build_estimator("mlp", "classification", args)
        >>> type(est).__name__, est.hidden_layer_sizes, est.max_iter, est.random_state
        ('MLPClassifier', (4,), 5, 0)
        >>> try:
        ...     build_estimator("linear", "classification", args)
        ... except CLIError as exc:
        ...     print(str(exc).split(";")[0])
        --model linear does not do classification
    """
    import gradkit.models as models

    names = MODELS[model]
    if task not in names:
        valid = [m for m, tasks in MODELS.items() if task in tasks]
        raise CLIError(f"--model {model} does not do {task}; for this target use --model "
                       f"{' or '.join(valid)} (or --task to change the task).")
    cls = getattr(models, names[task])
    params = {"random_state": args.seed, "verbose": _progress_wanted(), "on_nan": "stop"}
    options = {"optimizer": args.optimizer, "learning_rate": args.lr, "max_iter": args.epochs,
               "alpha": args.alpha, "clip_norm": args.clip_norm}
    params.update({k: v for k, v in options.items() if v is not None})
    if args.penalty is not None:
        params["penalty"] = None if args.penalty == "none" else args.penalty
    if hasattr(args, "batch_size"):
        params["batch_size"] = args.batch_size
    if args.hidden is not None:
        if model != "mlp":
            raise CLIError(f"--hidden sets the hidden layers of --model mlp, not --model {model}.")
        params["hidden_layer_sizes"] = args.hidden
    accepted = cls().get_params()
    estimator = cls(**{k: v for k, v in params.items() if k in accepted})
    _check_full_batch_options(args, estimator)
    return estimator


def _check_full_batch_options(args, estimator):
    """A full-batch method takes no learning rate, batch size or clipping: refuse those
    options rather than ignore them."""
    try:
        kind, method = estimator.optimizer_kind()
    except ValueError:  # a bad value: fit names it
        return
    if kind != "minimize":
        return
    given = [name for name, value in (("--lr", args.lr), ("--clip-norm", args.clip_norm),
                                      ("--batch-size", getattr(args, "batch_size", None)))
             if value is not None]
    if given:
        raise CLIError(f"{' and '.join(given)} {'sets' if len(given) == 1 else 'set'} the "
                       f"steps of a stochastic optimizer, but {method} is a full-batch method "
                       "that ignores them; add --optimizer sgd (or adam, momentum, ...) or "
                       f"leave out {' and '.join(given)}.")


def _progress_wanted() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def _split(y, task, test_size, seed):
    """``(train, test)`` row indices: ``train_test_split`` of the rows, stratified by class
    when every class has two rows (the NumPy and the Dask path hold out the same rows)."""
    from sklearn.model_selection import train_test_split

    n = len(y)
    n_test = int(np.ceil(test_size * n))
    if n_test < 1 or n - n_test < 2:
        raise CLIError(f"{n} rows are too few to hold out --test-size {test_size:g} for scoring; "
                       "give more rows or change --test-size.")
    stratify = None
    if task == "classification":
        counts = np.bincount(y)
        if counts[counts > 0].min() >= 2 and n_test >= len(counts[counts > 0]):
            stratify = y
    return train_test_split(np.arange(n), test_size=test_size, random_state=seed,
                            stratify=stratify)


def _scores(data, pred_train, pred_test, y_train, y_test):
    """Held-out (and training) scores, in the target's own units."""
    from sklearn import metrics

    target = data.spec["target"]
    if target["task"] == "classification":
        majority = np.bincount(y_train).argmax()
        return {
            "accuracy": float(metrics.accuracy_score(y_test, pred_test)),
            "balanced accuracy": float(metrics.balanced_accuracy_score(y_test, pred_test)),
            "macro F1": float(metrics.f1_score(y_test, pred_test, average="macro")),
            "train accuracy": float(metrics.accuracy_score(y_train, pred_train)),
            "majority-class baseline": float(np.mean(y_test == majority)),
        }
    scale, mean = target["scale"], target["mean"]
    true, pred = y_test * scale + mean, pred_test * scale + mean
    return {
        "R2": float(metrics.r2_score(true, pred)),
        "RMSE": float(np.sqrt(metrics.mean_squared_error(true, pred))),
        "MAE": float(metrics.mean_absolute_error(true, pred)),
        "train R2": float(metrics.r2_score(y_train, pred_train)),
    }


INTERRUPTED = "interrupted"


def _fit(estimator, X, y):
    """Fit with warnings collected (they go in the report and the summary); returns
    ``(notes, interrupted)``.

    Ctrl-C is an ending of the fit, not of the command: ``fit`` either stops by itself and
    says so (``stop_reason_ == "interrupted"``) or lets KeyboardInterrupt out, and either way
    the command goes on to write what was trained (:func:`_run`).
    """
    interrupted = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            try:
                estimator.fit(X, y)
            except KeyboardInterrupt:
                interrupted = True
            except ValueError as exc:
                raise CLIError(f"the model rejected the settings: {exc}") from None
    interrupted = interrupted or getattr(estimator, "stop_reason_", None) == INTERRUPTED
    notes = []
    for w in caught:
        text = " ".join(str(w.message).split())
        if text not in notes:
            notes.append(text)
    return notes, interrupted


def _usable(estimator, X) -> bool:
    """Whether an interrupted fit left a model that predicts (a fit stopped before its first
    parameters has nothing to save)."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(estimator)
        with np.errstate(all="ignore"):
            estimator.predict(np.asarray(X[:1]))
    except (NotFittedError, AttributeError, ValueError, TypeError, KeyError):
        return False
    return True


def _importances(estimator, X, feature_names, rows=200, seed=0):
    from gradkit.explain import feature_importances

    if len(X) > rows:
        X = X[np.random.default_rng(seed).choice(len(X), rows, replace=False)]
    with np.errstate(all="ignore"):
        values = np.asarray(feature_importances(estimator, X), dtype=float)
    return values


def save_model(estimator, spec, path):
    """Save ``estimator`` to ``path`` and its preprocessing ``spec`` next to it
    (``path + ".preprocess.json"``, tied to the model file by its SHA-256).

    Args:
        estimator: a fitted gradkit estimator.
        spec: the preprocessing record (:func:`gradkit.data.tabular.build_spec`), a dict.
        path: the model file to write.

    Returns:
        str: the absolute path of the model file.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from gradkit.models import LinearRegression
        >>> folder = tempfile.mkdtemp()
        >>> spec = {"format": "gradkit.preprocess", "feature_names": ["x"]}
        >>> model = LinearRegression().fit(np.array([[0.0], [1.0], [2.0]]), np.arange(3.0))
        >>> path = os.path.join(folder, "m.npz")
        >>> save_model(model, spec, path) == path
        True
        >>> sorted(os.listdir(folder))
        ['m.npz', 'm.npz.preprocess.json']
    """
    import gradkit
    try:
        estimator.save(path)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        record = dict(spec, gradkit_version=gradkit.__version__, model_sha256=digest)
        with open(path + SIDECAR, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
    except OSError as exc:
        raise CLIError(f"cannot save the model to {path!r}: {exc.strerror or exc}.") from None
    return os.path.abspath(path)


def load_model(path):
    """``(estimator, spec)`` saved by :func:`save_model`; only arrays and JSON are read.

    Args:
        path: the model file (its ``.preprocess.json`` record lies next to it).

    Returns:
        ``(estimator, spec)``: the fitted estimator and the preprocessing record (a dict).

    Raises:
        CLIError: a missing, corrupted or foreign file, a model from another format version,
            or a preprocessing record that does not belong to the model.

    Examples:
        >>> import contextlib, io, os, tempfile
        >>> from gradkit.cli.main import build_parser
        >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
        >>> args = build_parser().parse_args(["fit", "iris", "--model", "logistic",
        ...                                   "--report", path + ".html", "--save", path])
        >>> with contextlib.redirect_stdout(io.StringIO()):   # the summary of the fit
        ...     status = run(args)
        >>> estimator, spec = load_model(path)
        >>> type(estimator).__name__, spec["feature_names"][:2]
        ('LogisticRegression', ['sepal length (cm)', 'sepal width (cm)'])

    """
    from gradkit.data.tabular import check_spec
    from gradkit.models import load

    if not os.path.exists(path):
        raise CLIError(f"no such model file: {path!r}.")
    try:
        estimator = load(path)
    except (ValueError, KeyError, TypeError, AttributeError, OSError, IndexError) as exc:
        detail = " ".join(str(exc).split())
        if "pickle" in detail:  # never suggest loading a foreign file unsafely
            detail = "it is not a gradkit model file (it is another format or corrupted)."
        raise CLIError(f"cannot load the model {path!r}: {detail}") from None
    sidecar = path + SIDECAR
    if not os.path.exists(sidecar):
        raise CLIError(f"the model {path!r} has no preprocessing record {sidecar!r}; save "
                       "models with gradkit fit --save, which writes both.")
    try:
        with open(sidecar, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read the preprocessing record {sidecar!r}: "
                       f"{' '.join(str(exc).split())}") from None
    spec = check_spec(spec, repr(sidecar), SPELLING)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if spec.get("model_sha256") != digest:
        raise CLIError(f"the preprocessing record {sidecar!r} belongs to another model file; "
                       "save model and record together with gradkit fit --save.")
    if getattr(estimator, "n_features_in_", None) != len(spec["feature_names"]):
        raise CLIError(f"the model {path!r} takes {estimator.n_features_in_} features but its "
                       f"preprocessing makes {len(spec['feature_names'])}; refit it.")
    return estimator, spec


# ----------------------------------------------------------------------------- the report
def figure_block(section, make, caption, debug=False):
    """Add the figure ``make()`` to ``section``; if drawing fails, say so in the section
    instead of losing the whole report."""
    try:
        section.figure(make(), caption=caption)
    except Exception as exc:  # noqa: BLE001
        if debug:
            raise
        section.finding("figure missing", f"this figure could not be drawn: "
                        f"{type(exc).__name__}: {exc}", level="error")


def data_section(report, table_name, data, extra_rows=()):
    """The data summary: rows, features, task, classes, what was encoded or dropped."""
    s = data.summary
    section = report.section("Data")
    rows = [("source", table_name), ("rows read", s["rows_read"]), ("rows used", s["rows"]),
            ("feature columns", s.get("columns", len(data.spec["columns"]))),
            ("encoded features", s["features"]), ("target", s["target"]), ("task", s["task"])]
    rows += list(extra_rows)
    section.table(rows)
    if s.get("classes"):
        section.text("Classes (rows per class):")
        section.table(list(s["classes"].items()), header=("class", "rows"))
    section.text("Encoding:")
    section.bullets(s["encoded"])
    # each column once: those a note already explains are not listed again
    unexplained = [c for c in s["dropped"] if not any(f" {c}." in n for n in s["notes"])]
    if unexplained:
        section.text("Dropped columns: " + ", ".join(unexplained))
    section.bullets(s["notes"])
    return section


#: The remedy of a divergence, in the command's option names.
DIVERGED_REMEDY = ("Lower --lr, set --clip-norm (for example 1.0), or use a full-batch method "
                   "such as --optimizer lbfgs.")


def _optimizer_name(estimator):
    """What the report calls the optimizer: the full-batch method ``"auto"`` resolved to, or
    the ``optimizer`` setting of a gradient transformation."""
    kind, how = estimator.optimizer_kind()
    return how if kind == "minimize" else estimator.get_params().get("optimizer")


def run(args) -> int:
    """Run ``gradkit fit`` with parsed ``args``; returns the exit status.

    With ``args.dask`` (``--dask [ADDRESS]``) the table is read, encoded and fit as Dask
    collections on a local cluster or the scheduler at ADDRESS (see
    :mod:`gradkit.cli.distributed`); the report and the summary are the same.

    Args:
        args: the parsed ``argparse.Namespace`` of ``gradkit fit`` (see
            :func:`gradkit.cli.main.build_parser`).

    Returns:
        int: the exit status (0; 130 after Ctrl-C, once the model and report are written).

    Raises:
        CLIError: for bad data or options (one line, exit status 2).

    Examples:
        >>> import os, tempfile
        >>> from gradkit.cli.main import build_parser
        >>> folder = tempfile.mkdtemp()
        >>> args = build_parser().parse_args(
        ...     ["fit", "iris", "--model", "logistic", "--report", os.path.join(folder, "r.html"),
        ...      "--save", os.path.join(folder, "m.npz")])
        >>> status = run(args)
        gradkit fit: LogisticRegression (lbfgs) on iris: 150 rows, 4 features, 3 classes
        ...
        >>> status, sorted(os.listdir(folder))
        (0, ['m.npz', 'm.npz.preprocess.json', 'r.html'])
    """

    dask_address = getattr(args, "dask", None)
    if dask_address is None:
        if getattr(args, "blocksize", None) is not None:
            raise CLIError("--blocksize sets the partition size of --dask; add --dask or "
                           "leave out --blocksize.")
        return _run(args, _numpy_data)
    from .distributed import check_options, dask_client
    check_options(args)  # before a cluster is started
    with dask_client(dask_address):
        return _run(args, _dask_data)


@dataclasses.dataclass
class _Loaded:
    """The encoded table and its held-out split: NumPy arrays, or on the Dask path Dask arrays
    that stay on the workers. ``y_train_fit`` is what ``fit`` takes, ``y_train`` the same
    rows for the scores."""

    table_name: str
    data: object  # gradkit.data.tabular.Prepared
    X_train: object
    X_test: object
    y_train_fit: object
    y_test: object
    y_train: object

    @property
    def task(self):
        return self.data.summary["task"]


@dataclasses.dataclass
class _Trained:
    """A fitted estimator, what its fit said (warnings, in words), how long it took, its
    gradient history and the diagnostics' findings on it."""

    estimator: object
    notes: list
    seconds: float
    history: dict
    findings: list
    interrupted: bool = False

    @property
    def diverged(self):
        return bool(getattr(self.estimator, "diverged_", False))


def _numpy_data(args, split):
    """(table name, Prepared, X_train, X_test, y_train, y_test, y_train) in memory."""
    table = read_table(args.data)
    target = args.target or ("target" if table.task else None)
    data = prepare(table.frame, target, task=args.task or table.task, drop=args.drop,
                   dropna=args.dropna, impute=args.impute, max_categories=args.max_categories,
                   spelling=SPELLING)
    train, test = split(data.y, data.summary["task"])
    return (table.name, data, data.X[train], data.X[test], data.y[train], data.y[test],
            data.y[train])


def _dask_data(args, split):
    """As :func:`_numpy_data`, with Dask arrays on the cluster, split by their own rule
    (:func:`gradkit.cli.distributed.split_dask`, not ``split``)."""
    from gradkit.data.tabular_dask import prepare_dask, read_dask_table

    from .distributed import split_dask

    frame, name = read_dask_table(args.data, args.blocksize)
    data = prepare_dask(frame, args.target, task=args.task, drop=args.drop,
                        dropna=args.dropna, max_categories=args.max_categories,
                        spelling=SPELLING)
    return (name, data) + split_dask(data, args.test_size, args.seed)


def _run(args, load) -> int:
    """The command in four steps: load and split, fit, score, report (and summarize)."""
    started = time.perf_counter()
    loaded = _load(args, load)
    trained = _train(args, loaded)
    if trained.interrupted and not _usable(trained.estimator, loaded.X_test):
        print(f"gradkit: interrupted before the first {_unit(trained.estimator)} ended: there "
              "is no model to save.", file=sys.stderr)
        return EXIT_INTERRUPTED
    scores, shown = _score(trained.estimator, loaded, args.seed)
    # the model first: a report that cannot be written must not cost the trained model
    saved = save_model(trained.estimator, loaded.data.spec, args.save) if args.save else None
    report_path = _write_report(args, loaded, trained, scores, shown)
    print("\n".join(for_terminal(line) for line in _summary(
        loaded, trained, scores, report_path, saved, time.perf_counter() - started)))
    if trained.interrupted:
        kept = " and ".join(what for what, path in (("the model", saved), ("the report",
                                                                             report_path)) if path)
        print(f"gradkit: interrupted after {_epochs_run(trained.estimator)}"
              f"{'; ' + kept + ' hold the parameters so far' if kept else ''}.", file=sys.stderr)
        return EXIT_INTERRUPTED
    if trained.diverged:
        raise CLIError(f"training diverged: the loss became NaN or infinite at step "
                       f"{trained.estimator.diverged_at_}; the report"
                       f"{' ' + report_path if report_path else ''} shows the last good model. "
                       "Lower --lr or set --clip-norm.")
    return 0


def _load(args, load) -> _Loaded:
    """Read and encode the table (``load``: :func:`_numpy_data` or :func:`_dask_data`) and
    hold out ``--test-size`` of its rows."""
    def split(y, task):
        return _split(y, task, args.test_size, args.seed)

    return _Loaded(*load(args, split))


def _train(args, loaded) -> _Trained:
    """Build the estimator for ``--model``, fit it, and diagnose its gradient history."""
    from gradkit.diagnostics import diagnose

    model = args.model or ("logistic" if loaded.task == "classification" else "linear")
    estimator = build_estimator(model, loaded.task, args)
    started = time.perf_counter()
    notes, interrupted = _fit(estimator, loaded.X_train, loaded.y_train_fit)
    seconds = time.perf_counter() - started
    if interrupted:
        notes.insert(0, f"Interrupted (Ctrl-C) after {_epochs_run(estimator)}: the model and "
                     "this report hold the parameters trained so far.")
    history = getattr(estimator, "history_", {}) or {}
    try:
        # the estimator, not its history: then the findings are judged per epoch
        findings = diagnose(estimator) if history.get("loss") else []
    except Exception as exc:  # noqa: BLE001 (a report without findings beats none)
        if getattr(args, "debug", False):
            raise
        findings = []
        notes.append(f"the diagnostics failed: {type(exc).__name__}: {exc}")
    return _Trained(estimator, notes, seconds, history, findings, interrupted)


def _unit(estimator) -> str:
    """What one pass of the fit is called: an iteration of a full-batch method, or an epoch."""
    kind, _ = estimator.optimizer_kind()
    return "iteration" if kind == "minimize" else "epoch"


def _epochs_run(estimator) -> str:
    """``"3 epochs"``, ``"1 iteration"``: how far the fit got."""
    n, unit = getattr(estimator, "n_iter_", None), _unit(estimator)
    return f"{n} {unit}{'' if n == 1 else 's'}" if isinstance(n, int) else f"less than one {unit}"


def _score(estimator, loaded, seed=0):
    """``(scores, shown)``: the held-out and training scores, and what the report shows of the
    held-out rows: their confusion matrix (classification) or their ``(true, predicted)``
    values in the target's units (regression; on the Dask path a sample of them, computed
    block by block with the scores by :func:`gradkit.cli.distributed.score_dask`)."""
    from gradkit.data.distributed import is_dask_collection

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a diverged model's scores overflow; they say so
        if is_dask_collection(loaded.X_train):
            from .distributed import score_dask
            return score_dask(estimator, loaded.data, loaded.X_train, loaded.y_train,
                              loaded.X_test, loaded.y_test, seed)
        pred_train = estimator.predict(loaded.X_train)
        pred_test = estimator.predict(loaded.X_test)
        scores = _scores(loaded.data, pred_train, pred_test, loaded.y_train, loaded.y_test)
    target = loaded.data.spec["target"]
    if loaded.task == "classification":
        from sklearn.metrics import confusion_matrix
        return scores, confusion_matrix(loaded.y_test, pred_test,
                                        labels=np.arange(len(target["classes"])))
    return scores, (loaded.y_test * target["scale"] + target["mean"],
                    pred_test * target["scale"] + target["mean"])


def _write_report(args, loaded, trained, scores, shown):
    """The HTML report at ``--report`` (its path), or None without ``--report``."""
    from gradkit.report import Report

    if not args.report:
        return None
    debug = getattr(args, "debug", False)
    data = loaded.data
    report = Report(f"gradkit fit: {type(trained.estimator).__name__} on {loaded.table_name}",
                    f"{_optimizer_name(trained.estimator)} · {data.summary['rows']} rows · "
                    f"{data.summary['features']} features")
    data_section(report, loaded.table_name, data,
                 [("training rows", len(loaded.y_train)), ("held-out rows", len(loaded.y_test))])
    _model_section(report, trained)
    _scores_section(report, loaded, scores, shown, debug)
    _training_sections(report, trained, debug)
    _importance_section(report, trained.estimator, loaded, args.seed, debug)
    return report.write(args.report)


def _model_section(report, trained):
    """Why it stopped, the model, the optimizer, the kind of gradient, the counts and the
    settings given (:func:`gradkit.report.model_section`), with the fit's notes."""
    from gradkit.report import model_section

    estimator = trained.estimator
    why = INTERRUPTED if trained.interrupted and \
        getattr(estimator, "stop_reason_", None) != INTERRUPTED else None
    section = model_section(report, estimator, why,
                            [("training time", f"{trained.seconds:.2f} s")])
    section.bullets(trained.notes)


def _scores_section(report, loaded, scores, shown, debug):
    """The held-out scores, with the confusion matrix or the predicted-against-true plot
    (``shown``, from :func:`_score`)."""
    from gradkit.report import confusion_matrix_figure, predicted_vs_true_figure

    section = report.section("Held-out scores")
    section.table(list(scores.items()), header=("score", "value"))
    if loaded.task == "classification":
        classes = loaded.data.spec["target"]["classes"]
        figure_block(section, lambda: confusion_matrix_figure(shown, classes),
                     "Rows of each true class (down) by predicted class (across).", debug)
    else:
        true, pred = shown
        rows = ("Each held-out row" if len(true) == len(loaded.y_test) else
                f"{len(true)} of the {len(loaded.y_test)} held-out rows, drawn at random")
        figure_block(section, lambda: predicted_vs_true_figure(true, pred),
                     f"{rows}: predicted against true value; on the red line they agree.",
                     debug)


def _training_sections(report, trained, debug):
    """The training loss, what the learning rate did, and the gradient norm of each layer,
    each figure with its findings (:func:`gradkit.report.training_sections`)."""
    from gradkit.diagnostics.findings import epoch_length
    from gradkit.report import training_sections

    estimator = trained.estimator
    training_sections(report, trained.history, trained.findings,
                      steps_per_epoch=epoch_length(estimator), estimator=estimator,
                      learning_rate_section=True, diverged_remedy=DIVERGED_REMEDY, debug=debug)


def _importance_section(report, estimator, loaded, seed, debug):
    """Integrated-gradients importance of each encoded feature over held-out rows."""
    from gradkit import plot
    from gradkit.report import importance_caption

    names = loaded.data.feature_names
    section = report.section("Feature importance")
    try:
        importances = _importances(estimator, loaded.X_test, names, seed=seed)
        section.text("Mean absolute integrated-gradients attribution over held-out rows "
                     "(from the mean row): how much each encoded feature moves the model's "
                     "output.")
        caption = importance_caption(len(importances))
        figure_block(section, lambda: plot.attributions(importances, names, top=20), caption,
                     debug)
        order = np.argsort(-importances)[:20]
        section.table([(names[i], float(importances[i])) for i in order],
                      header=("feature", "importance"))
    except Exception as exc:  # noqa: BLE001
        if debug:
            raise
        section.finding("not available", f"importances could not be computed: {exc}",
                        level="error")


#: Scores in the target's units (printed to 4 significant digits); the others are ratios
#: (accuracy, F1, R2: three decimals, so a perfect score reads 1.000, not 1).
_IN_TARGET_UNITS = ("RMSE", "MAE")


def _score_text(name, value):
    return f"{value:.4g}" if name in _IN_TARGET_UNITS else f"{value:.3f}"


def _stop_detail(estimator, stop):
    """`` (why, in words)`` for the summary's stop line (the report's sentence), or ""."""
    from gradkit.report.stopping import stop_reason
    if stop == INTERRUPTED:
        return ""
    text = stop_reason(estimator).text
    head, sep, rest = text.partition(": ")
    return f" ({(rest if sep and head.isalpha() else text).rstrip('.')})" if text else ""


def _summary(loaded, trained, scores, report_path, saved, seconds):
    """The lines printed at the end: the data, the main score, the run, the findings, and
    where the report and the model went."""
    estimator, data = trained.estimator, loaded.data
    kind, _ = estimator.optimizer_kind()
    main_score = "accuracy" if loaded.task == "classification" else "R2"
    classes = (f", {len(data.spec['target']['classes'])} classes"
               if loaded.task == "classification" else "")
    others = ", ".join(f"{k} {_score_text(k, v)}" for k, v in scores.items()
                       if k != main_score)
    out = [f"gradkit fit: {type(estimator).__name__} ({_optimizer_name(estimator)}) on "
           f"{loaded.table_name}: {data.summary['rows']} rows, {data.summary['features']} "
           f"features{classes}",
           f"  held-out {main_score} {_score_text(main_score, scores[main_score])} on "
           f"{len(loaded.y_test)} rows "
           f"({others})",
           f"  trained {getattr(estimator, 'n_iter_', '?')} "
           f"{'iterations' if kind == 'minimize' else 'epochs'} in {trained.seconds:.2f} s "
           f"({seconds:.2f} s in all)"]
    stop = INTERRUPTED if trained.interrupted else getattr(estimator, "stop_reason_", None)
    if stop:
        out.append(f"  stopped: {stop}{_stop_detail(estimator, stop)}")
    if trained.findings or trained.diverged:
        out.append("  findings: " + "; ".join(
            ([f"diverged at step {estimator.diverged_at_}"] if trained.diverged else [])
            + [f"{f.kind}{f' in {f.layer}' if f.layer else ''}" for f in trained.findings]))
    else:
        out.append("  findings: none (no vanishing / exploding gradients, NaN or plateau)")
    if report_path:
        out.append(f"  report: {report_path}")
    if saved:
        out.append(f"  model:  {saved} (+ {os.path.basename(saved)}{SIDECAR})")
    return out
