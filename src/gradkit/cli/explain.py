"""``gradkit explain``: per-feature attributions of a saved model's predictions on new rows."""
from __future__ import annotations

import csv
import os

import numpy as np

from gradkit.safety import for_csv, for_terminal

from .errors import CLIError

__all__ = ["run", "EXAMPLES"]

#: The examples ``gradkit explain --help`` ends with.
EXAMPLES = """examples:
  gradkit fit breast_cancer --save model.npz && gradkit explain model.npz breast_cancer
  gradkit explain model.npz new_rows.csv --method gradient_x_input --rows 50
  gradkit explain model.npz new_rows.csv --impute mean --csv importances.csv"""


def _write_csv(path, names, importances):
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["feature", "importance"])
            for i in np.argsort(-importances):
                writer.writerow([for_csv(names[i]), f"{importances[i]:.6g}"])
    except OSError as exc:
        raise CLIError(f"cannot write {path!r}: {exc.strerror or exc}.") from None
    return os.path.abspath(path)


def run(args) -> int:
    """Run ``gradkit explain`` with parsed ``args``; returns the exit status.

    The model saved by ``gradkit fit --save`` explains ``args.rows`` rows of ``args.data``
    (encoded with the preprocessing saved beside it): each feature's mean absolute attribution
    by ``args.method`` (:func:`gradkit.explain.feature_importances`), printed, written to the
    CSV file ``args.csv`` and drawn in the report ``args.report``.

    Args:
        args: the parsed ``argparse.Namespace`` of ``gradkit explain`` (see
            :func:`gradkit.cli.main.build_parser`).

    Returns:
        int: the exit status (0).

    Raises:
        CLIError: for a model, data file or output path that cannot be used (one line, exit
            status 2).

    Examples:
        >>> import os, tempfile
        >>> from gradkit.cli.main import build_parser
        >>> from gradkit.cli import fit
        >>> folder = tempfile.mkdtemp()
        >>> model = os.path.join(folder, "m.npz")
        >>> args = build_parser().parse_args(
        ...     ["fit", "iris", "--model", "logistic", "--save", model,
        ...      "--report", os.path.join(folder, "fit.html")])
        >>> fit.run(args)
        gradkit fit: ...
        0
        >>> args = build_parser().parse_args(
        ...     ["explain", model, "iris", "--csv", os.path.join(folder, "imp.csv"),
        ...      "--report", os.path.join(folder, "explain.html")])
        >>> run(args)
        gradkit explain: LogisticRegression on iris: 150 rows, 4 features
          petal width (cm) ...
        0
        >>> sorted(os.listdir(folder))
        ['explain.html', 'fit.html', 'imp.csv', 'm.npz', 'm.npz.preprocess.json']
    """
    from gradkit import plot
    from gradkit.explain import feature_importances
    from gradkit.report import Report

    from gradkit.data.tabular import read_table, transform

    from .fit import data_section, figure_block, load_model
    from .tabular import SPELLING

    debug = getattr(args, "debug", False)
    estimator, spec = load_model(args.model)
    table = read_table(args.data)
    data = transform(table.frame, spec, dropna=args.dropna, impute=args.impute,
                     spelling=SPELLING)
    X = data.X
    if len(X) > args.rows:
        X = X[np.random.default_rng(0).choice(len(X), args.rows, replace=False)]
        data.summary["notes"].append(f"explained {args.rows} of {len(data.X)} rows, drawn at "
                                     "random (--rows).")
    with np.errstate(all="ignore"):
        importances = np.asarray(feature_importances(estimator, X, method=args.method), float)
    names = spec["feature_names"]
    csv_path = _write_csv(args.csv, names, importances)

    name = type(estimator).__name__
    report = Report(f"gradkit explain: {name} on {table.name}",
                    f"{args.method.replace('_', ' ')} over {len(X)} rows")
    extra = [("model file", os.path.basename(args.model))]
    if data.y is not None:
        known = data.y >= 0 if spec["target"]["task"] == "classification" else np.isfinite(data.y)
        if known.any():
            score = estimator.score(data.X[known], data.y[known])
            extra.append(("accuracy" if spec["target"]["task"] == "classification" else "R2",
                          float(score)))
    data_section(report, table.name, data, extra)
    section = report.section("Feature importance")
    section.text(f"Mean absolute {args.method.replace('_', ' ')} attribution of the model's "
                 "output to each encoded feature over the explained rows (for a classifier, "
                 "each row's predicted class).")
    figure_block(section, lambda: plot.attributions(importances, names, top=20),
                 "The 20 most important features.", debug)
    order = np.argsort(-importances)
    section.table([(names[i], float(importances[i])) for i in order[:50]],
                  header=("feature", "importance"))
    path = report.write(args.report)
    # column and file names come from the data: escaped before they reach the terminal
    print(for_terminal(f"{report.title}: {len(X)} rows, {len(names)} features"))
    for i in order[:5]:
        print(f"  {for_terminal(names[i]):<30} {importances[i]:.4g}")
    print(for_terminal(f"  importances: {csv_path}"))
    print(for_terminal(f"  report: {path}"))
    return 0
