"""Tables: read CSV / Parquet / bundled data, check it, and encode it for a model.

Text columns are one-hot encoded, numeric columns standardised, the target encoded (class
indices, or a standardised number for regression). Every step is recorded in a JSON-ready
*spec* so that a saved model applies exactly the same steps to new data (:func:`transform`).

A table that cannot be encoded as asked raises :class:`TableError`, whose message says which
argument fixes it. Messages and the notes of the summary name those arguments through a
:class:`Spelling`: as Python keywords by default (``dropna=True``), as a caller names them
otherwise (the command line passes its own: ``--dropna``).

>>> import pandas as pd
>>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "colour": ["red", "blue", "red", "red"],
...                       "label": ["a", "b", "a", "b"]})
>>> data = prepare(frame, target="label")
>>> data.feature_names
['size', 'colour=blue', 'colour=red']
>>> data.y.tolist(), data.spec["target"]["classes"]
([0, 1, 0, 1], ['a', 'b'])
"""
from __future__ import annotations

import csv
import dataclasses
import math
import os
import re
import warnings

import numpy as np
import pandas as pd

from .datasets import load_dataset

__all__ = ["BUNDLED", "Table", "Prepared", "TableError", "Spelling", "PYTHON_SPELLING",
           "read_table", "check_file", "prepare", "transform", "check_spec", "check_columns",
           "column_stats", "target_stats", "count_labels", "build_spec", "finish_summary",
           "encode_features", "encode_target", "is_numeric", "describe_bad_cells",
           "missing_cells_error", "quote", "sniff_csv", "CsvDialect", "IdentifierColumnWarning",
           "looks_like_identifier", "IDENTIFIER_MIN_ROWS",
           "SPEC_FORMAT", "SPEC_VERSION"]

#: The data sets shipped with scikit-learn that ``gradkit fit`` accepts by name.
BUNDLED = ("breast_cancer", "digits", "wine", "iris", "diabetes")
# the spec's format name predates this module (it lived in gradkit.cli); saved records carry
# it, so it stays as it was
#: The ``format`` entry of every spec (a saved model's preprocessing record).
SPEC_FORMAT = "gradkit.cli.preprocessing"
#: The ``version`` of the spec this gradkit writes and reads.
SPEC_VERSION = 1
_CLASSIFICATION_MAX_INTEGER_CLASSES = 20


class TableError(ValueError):
    """A table that cannot be read or encoded as asked; the message names the file or column
    and the argument that fixes it.

    Examples:
        >>> check_file("/no/such/file.csv")
        Traceback (most recent call last):
            ...
        gradkit.data.tabular.TableError: no such file: '/no/such/file.csv'.
    """


@dataclasses.dataclass(frozen=True)
class Spelling:
    """How messages and notes name the arguments of :func:`prepare` and :func:`transform`.

    Each field is the text for one argument; ``{}`` in it takes the value (a quoted column
    name for ``drop``). ``record`` names how a spec is made again.

    Attributes:
        dropna: how ``dropna`` is named.
        impute: how ``impute`` is named (``{}``: the value).
        drop: how ``drop`` is named (``{}``: the quoted column).
        target: how ``target`` is named.
        task: how ``task`` is named (``{}``: the value).
        max_categories: how ``max_categories`` is named (``{}``: the value).
        record: how a spec is made again (``"a new prepare()"``, ``"gradkit fit"``).

    Examples:
        >>> frame = pd.DataFrame({"x": [1.0, None], "y": [0, 1]})
        >>> prepare(frame, spelling=Spelling(dropna="--dropna"))
        Traceback (most recent call last):
        ...
        gradkit.data.tabular.TableError: found 1 missing or infinite cells in 1 column(s): 'x'
        (1 missing); pass --dropna to drop those rows or impute='mean' to fill them.
    """

    dropna: str = "dropna=True"
    impute: str = "impute={!r}"
    drop: str = "drop=[{}]"
    target: str = "target"
    task: str = "task={!r}"
    max_categories: str = "max_categories={}"
    record: str = "a new prepare()"


#: The default :class:`Spelling`: arguments as Python keywords.
PYTHON_SPELLING = Spelling()


class IdentifierColumnWarning(UserWarning):
    """A feature column that looks like a row identifier (every value its own): a model
    learns nothing from it that carries over to new rows, so it is usually to be dropped.

    Examples:
        >>> import warnings
        >>> frame = pd.DataFrame({"id": [f"r{i}" for i in range(12)], "y": [0, 1] * 6})
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = prepare(frame, target="y")
        >>> caught[0].category.__name__, str(caught[0].message)[:40]
        ('IdentifierColumnWarning', "column 'id' looks like an identifier (ev")
    """


@dataclasses.dataclass
class Table:
    """A table read by :func:`read_table`: the frame, a display name, the task when known,
    and the separator of a CSV file (None for Parquet and bundled data).

    Attributes:
        frame: the table, column names as strings.
        name: the name reports show (the file's base name, or the bundled data set's).
        task: ``"classification"`` or ``"regression"`` for a bundled data set, else None.
        sep: the field separator of a CSV file.

    Examples:
        >>> table = read_table("wine")
        >>> table.name, table.task, table.frame.shape
        ('wine', 'classification', (178, 14))
    """

    frame: pd.DataFrame
    name: str
    task: str | None = None
    sep: str | None = None


@dataclasses.dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is written: the field separator and the decimal mark.

    Attributes:
        sep: the field separator.
        decimal: the decimal mark (``"."`` or ``","``).

    Examples:
        >>> CsvDialect()
        CsvDialect(sep=',', decimal='.')
    """

    sep: str = ","
    decimal: str = "."


#: The separators :func:`sniff_csv` tells apart, in order of preference on a tie.
_SEPARATORS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 50
_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?:;|$)")


def sniff_csv(source, default=",") -> CsvDialect:
    """The separator (``,``, ``;``, tab or ``|``) and decimal mark of a CSV file, from its
    first lines.

    A separator is a candidate when it splits every sampled line (quotes respected, the last
    line left out when it may be cut) into the same number of fields, more than one; the
    candidate with the most fields wins, ties going to the order above. With none (a
    one-column file, ragged lines), ``default``. A ``;``-separated file whose numbers are
    written ``1,5`` (the European convention that ``;`` exists for) gets the decimal comma.

    Args:
        source: the path of the file.
        default: the separator when no candidate fits every line.

    Returns:
        CsvDialect: ``sep`` and ``decimal``, for :func:`pandas.read_csv`.

    Examples:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "eu.csv"
        >>> _ = path.write_text("size;price\\n1,5;10\\n2,25;12\\n")
        >>> sniff_csv(path)
        CsvDialect(sep=';', decimal=',')
    """
    with open(source, "rb") as f:
        sample = f.read(_SNIFF_BYTES)
    text = sample.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(sample) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # maybe cut in the middle
    lines = [line for line in lines[:_SNIFF_LINES] if line.strip()]
    best, best_fields = default, 1
    for sep in _SEPARATORS:
        try:
            counts = {len(row) for row in csv.reader(lines, delimiter=sep)}
        except csv.Error:
            continue
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = sep, fields
    decimal = "."
    if best == ";" and any(_DECIMAL_COMMA.search(line) for line in lines[1:]):
        decimal = ","
    return CsvDialect(best, decimal)


@dataclasses.dataclass
class Prepared:
    """Encoded data: ``X`` (float64), ``y`` (class indices or standardised values), the
    encoded feature names, the spec that reproduces the encoding, and a summary for the report.

    Attributes:
        X: the encoded features, float64, one column per feature name.
        y: the encoded target, or None.
        feature_names: the encoded features' names (``colour=red`` for a one-hot column).
        spec: the JSON-ready record of every step (:func:`transform` applies it to new rows).
        summary: rows read and kept, notes, encodings and the task, for the report.

    Examples:
        >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0],
        ...                       "colour": ["red", "blue", "red", "red"],
        ...                       "label": ["a", "b", "a", "b"]})
        >>> data = prepare(frame, target="label")
        >>> data.X.shape, data.y, data.summary["task"]
        ((4, 3), array([0, 1, 0, 1]), 'classification')
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list
    spec: dict
    summary: dict


def quote(name) -> str:
    """A column or file name as messages show it: quoted, so spaces and odd names stand out.

    Args:
        name: the name.

    Returns:
        str.

    Examples:
        >>> print(quote("my column"))
        'my column'

    """
    return repr(str(name))


def _load_bundled(name) -> Table:
    data = load_dataset(name)
    frame = pd.DataFrame(data.X, columns=list(data.feature_names))
    if data.task == "classification" and data.target_names is not None:
        frame["target"] = np.asarray(data.target_names, dtype=object)[data.y]
    else:
        frame["target"] = data.y
    return Table(frame, name, data.task)


def read_table(source) -> Table:
    """Read ``source``: a CSV / TSV path, a Parquet path (needs pyarrow) or a bundled data set
    name (:data:`BUNDLED`).

    Raises:
        TableError: for a missing, unreadable, empty or header-only file, naming the file.

    Args:
        source: a file path or a bundled data set's name.

    Returns:
        Table.

    Examples:
        >>> read_table("iris").frame.shape
        (150, 5)

    """
    source = str(source)
    key = source.lower().replace("-", "_")
    if key in BUNDLED and not os.path.exists(source):
        return _load_bundled(key)
    check_file(source)
    ext = os.path.splitext(source)[1].lower()
    try:
        dialect = None
        if ext in (".parquet", ".pq"):
            frame = pd.read_parquet(source)
        else:
            dialect = sniff_csv(source, default="\t" if ext == ".tsv" else ",")
            frame = pd.read_csv(source, sep=dialect.sep, decimal=dialect.decimal)
    except ImportError:
        raise TableError(f"reading Parquet ({quote(source)}) needs pyarrow: pip install "
                         "pyarrow, or convert the file to CSV.") from None
    except PermissionError:
        raise TableError(f"cannot read {quote(source)}: permission denied.") from None
    except pd.errors.EmptyDataError:
        raise TableError(f"{quote(source)} has no columns; give a CSV file with a header row "
                         "and data.") from None
    except UnicodeDecodeError:
        raise TableError(f"{quote(source)} is not UTF-8 text; save it as a UTF-8 CSV file.") \
            from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        kind = "Parquet" if ext in (".parquet", ".pq") else "CSV"
        raise TableError(f"cannot read {quote(source)} as a {kind} file: {first}") from None
    frame.columns = [str(c) for c in frame.columns]
    if frame.shape[0] == 0:
        raise TableError(f"{quote(source)} has a header but no data rows.")
    return Table(frame, os.path.basename(source), sep=dialect.sep if dialect else None)


def check_file(source):
    """A TableError naming ``source`` if it is missing, a directory or empty.

    Args:
        source: the path.

    Raises:
        TableError: as above.

    Examples:
        >>> check_file("/no/such/file.csv")
        Traceback (most recent call last):
            ...
        gradkit.data.tabular.TableError: no such file: '/no/such/file.csv'.
    """
    if not os.path.exists(source):
        hint = "" if os.sep in source or "." in os.path.basename(source) else \
            f" or bundled data set (bundled: {', '.join(BUNDLED)})"
        raise TableError(f"no such file{hint}: {quote(source)}.")
    if os.path.isdir(source):
        raise TableError(f"{quote(source)} is a directory; give a CSV or Parquet file.")
    if os.path.getsize(source) == 0:
        raise TableError(f"{quote(source)} is empty; give a CSV file with a header row and data.")


# ----------------------------------------------------------------------------- checking
def is_numeric(series) -> bool:
    """Whether a column holds numbers (booleans are not: they are encoded as text).

    Args:
        series: a pandas column.

    Returns:
        bool.

    Examples:
        >>> [is_numeric(pd.Series(v)) for v in ([1.5, 2.0], ["a"], [True])]
        [True, False, False]
    """
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _bad_cells(series):
    """(number of missing, number of infinite) cells of a column."""
    if is_numeric(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        return int(np.isnan(values).sum()), int(np.isinf(values).sum())
    return int(series.isna().sum()), 0


def describe_bad_cells(bad) -> str:
    """``bad`` (column -> (missing, infinite)) in words, at most eight columns named.

    Args:
        bad: ``{column: (missing, infinite)}``.

    Returns:
        str.

    Examples:
        >>> describe_bad_cells({"x": (2, 1)})
        "3 missing or infinite cells in 1 column(s): 'x' (2 missing, 1 infinite)"
    """
    parts = []
    for name, (nan, inf) in bad.items():
        what = ", ".join(p for p in (f"{nan} missing" if nan else "",
                                     f"{inf} infinite" if inf else "") if p)
        parts.append(f"{quote(name)} ({what})")
    total = sum(a + b for a, b in bad.values())
    shown = parts[:8] + ([f"and {len(parts) - 8} more"] if len(parts) > 8 else [])
    return f"{total} missing or infinite cells in {len(bad)} column(s): {', '.join(shown)}"


def missing_cells_error(bad, fixes) -> TableError:
    """The TableError for missing / infinite cells: ``bad`` maps a column to (missing, inf),
    ``fixes`` says what to pass instead.

    Args:
        bad: ``{column: (missing, infinite)}``.
        fixes: the sentence that says what to pass instead.

    Returns:
        TableError: the error to raise.

    Examples:
        >>> print(missing_cells_error({"x": (2, 0)}, "pass dropna=True"))
        found 2 missing or infinite cells in 1 column(s): 'x' (2 missing); pass dropna=True.
    """
    return TableError(f"found {describe_bad_cells(bad)}; {fixes}.")


def _finite_mask(series):
    if is_numeric(series):
        return np.isfinite(series.to_numpy(dtype=float, na_value=np.nan))
    return ~series.isna().to_numpy()


def _clean(frame, target, dropna, impute, summary, spell):
    """Handle missing / infinite cells: an error, or drop rows (``dropna``), or fill
    (``impute``: rows with a missing target are dropped, features filled)."""
    bad = {c: _bad_cells(frame[c]) for c in frame.columns}
    bad = {c: v for c, v in bad.items() if sum(v)}
    if not bad:
        return frame, {}
    if not dropna and impute is None:
        if target is not None and target in bad:  # a target cannot be filled, only dropped
            fix = (f"pass {spell.dropna} to drop those rows (or "
                   f"{spell.impute.format('mean')}, which fills the features' cells and drops "
                   f"the rows whose target {quote(target)} is missing)")
        else:
            fix = (f"pass {spell.dropna} to drop those rows or "
                   f"{spell.impute.format('mean')} to fill them")
        raise missing_cells_error(bad, fix)
    n = len(frame)
    if dropna:
        keep = np.ones(n, bool)
        for c in bad:
            keep &= _finite_mask(frame[c])
        frame = frame[keep]
        summary["notes"].append(f"{spell.dropna} dropped {n - len(frame)} of {n} rows with "
                                "missing or infinite cells.")
        fills = {}
    else:
        if target is not None and target in bad:
            frame = frame[_finite_mask(frame[target])]
            summary["notes"].append(f"dropped {n - len(frame)} rows whose target is missing "
                                    "(a target cannot be imputed).")
        fills = {}
        frame = frame.copy()
        for c in bad:
            if c == target:
                continue
            fills[c] = _fill_value(frame[c], impute, c, spell)
            frame[c] = _filled(frame[c], fills[c])
            summary["notes"].append(f"{spell.impute.format(impute)} filled {sum(bad[c])} cells "
                                    f"of column {c} with {fills[c]!r}.")
    if len(frame) == 0:
        raise TableError("no rows are left after removing the missing or infinite cells; use "
                         f"{spell.impute.format('mean')} instead of {spell.dropna}, or fix the "
                         "data.")
    return frame, fills


def _fill_value(series, impute, name, spell):
    if is_numeric(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise TableError(f"column {quote(name)} has no finite value to impute from; drop "
                             f"it with {spell.drop.format(quote(name))}.")
        return float(np.median(finite) if impute == "median" else np.mean(finite))
    counts = series.dropna().astype(str).value_counts()
    if counts.empty:
        raise TableError(f"column {quote(name)} is empty; drop it with "
                         f"{spell.drop.format(quote(name))}.")
    return str(counts.index[0])  # text columns: the most frequent value


def _filled(series, value):
    if is_numeric(series):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isfinite(values), values, value)
    return series.astype(object).where(series.notna(), value)


# ----------------------------------------------------------------------------- encoding
# The encoding is built in two steps that the NumPy path (:func:`prepare`) and the Dask path
# (:func:`gradkit.data.tabular_dask.prepare_dask`) share: each computes a few *statistics* of
# every column (:func:`column_stats` / :func:`target_stats` on a pandas frame; Dask computes
# the same dicts over its partitions), and :func:`build_spec` turns them into the spec, the
# one record of the encoding. Rows are then encoded with the spec by :func:`encode_features`
# and :func:`encode_target`, on the whole frame or partition by partition.
def _label(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def column_stats(col) -> dict:
    """What the spec needs of a feature column (pandas): mean, sd and constancy of a numeric
    (or boolean) column, with the span and distinct count of an integer one (to spot a row
    number: :func:`looks_like_identifier`), or the sorted text values of a text column.

    Args:
        col: a pandas column.

    Returns:
        dict: ``kind`` (``"numeric"`` or ``"categorical"``) and the statistics above.

    Examples:
        >>> column_stats(pd.Series(["red", "blue", "red"]))
        {'kind': 'categorical', 'categories': ['blue', 'red']}
        >>> stats = column_stats(pd.Series([1.0, 2.0, 3.0, 4.0]))
        >>> stats["mean"], stats["span"], stats["distinct"]
        (2.5, 3.0, 4)
    """
    if is_numeric(col) or pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype=float)
        distinct = int(col.nunique())
        stats = {"kind": "numeric", "mean": float(values.mean()), "std": float(values.std()),
                 "constant": distinct <= 1}
        if is_numeric(col) and values.size and bool(np.all(values == np.round(values))):
            stats.update(span=float(values.max() - values.min()), distinct=distinct)
        return stats
    return {"kind": "categorical", "categories": sorted(set(col.astype(str)))}


#: The fewest rows on which a column of distinct values is taken for an identifier.
IDENTIFIER_MIN_ROWS = 10


def looks_like_identifier(stats, rows) -> bool:
    """Whether a feature column, from its :func:`column_stats`, looks like a row identifier:
    a text column whose every value is its own, or integers that are (nearly all) distinct
    and fill a run from ``min`` to ``min + rows - 1`` (row numbers, an exported index). Such a column
    says which row it is, nothing that carries over to new rows; one-hot encoded or
    standardised, it lets a model memorise the training rows.

    ``distinct`` may be an estimate (the Dask path counts approximately), so 98% distinct is
    enough; tables of fewer than :data:`IDENTIFIER_MIN_ROWS` rows are never judged.

    Args:
        stats: the column's :func:`column_stats`.
        rows: the table's number of rows.

    Returns:
        bool.

    Examples:
        >>> looks_like_identifier({"kind": "categorical", "categories": list("abcdefghij")}, 10)
        True
        >>> looks_like_identifier({"kind": "numeric", "span": 99.0, "distinct": 100}, 100)
        True
        >>> looks_like_identifier({"kind": "numeric", "span": 990.0, "distinct": 100}, 100)
        False

    """
    if rows < IDENTIFIER_MIN_ROWS:
        return False
    if stats["kind"] == "categorical":
        return len(stats["categories"]) >= rows
    return "span" in stats and stats["distinct"] >= 0.98 * rows and \
        stats["span"] == rows - 1


def target_stats(series) -> dict:
    """What the spec needs of the target (pandas): whether it is numeric, its mean and sd,
    whether every value is an integer, and the count of each label (``_label`` of a value)
    when it may be a class label (text, or integers).

    Args:
        series: the target column.

    Returns:
        dict: ``numeric``, ``rows``, and ``mean``, ``std``, ``integral`` and ``counts`` where
        they apply.

    Examples:
        >>> target_stats(pd.Series(["a", "b", "a"]))
        {'numeric': False, 'rows': 3, 'counts': {'a': 2, 'b': 1}}
    """
    numeric = is_numeric(series)
    stats = {"numeric": numeric, "rows": int(len(series))}
    if numeric:
        values = series.to_numpy(dtype=float)
        stats.update(mean=float(values.mean()), std=float(values.std()),
                     integral=bool(np.all(values == np.round(values))))
    if not numeric or stats["integral"]:
        stats["counts"] = count_labels(series.value_counts().items())
    return stats


def count_labels(value_counts) -> dict:
    """``{label: rows}`` from ``(value, rows)`` pairs (values that print alike are merged).

    Args:
        value_counts: ``(value, rows)`` pairs (``Series.value_counts().items()``).

    Returns:
        dict: ``{label: rows}``.

    Examples:
        >>> count_labels([(1.0, 2), (1, 3), ("a", 1)])   # 1.0 and 1 print alike: one label
        {'1': 5, 'a': 1}
    """
    counts = {}
    for value, rows in value_counts:
        label = _label(value)
        counts[label] = counts.get(label, 0) + int(rows)
    return counts


def _task(stats, task):
    if task is not None:
        return task
    if not stats["numeric"]:
        return "classification"
    if stats["integral"] and len(stats["counts"]) <= _CLASSIFICATION_MAX_INTEGER_CLASSES:
        return "classification"
    return "regression"


def _target_spec(stats, task, name, spell):
    if task == "classification":
        classes = sorted(stats["counts"], key=_class_order)
        if len(classes) < 2:
            raise TableError(f"the target column {quote(name)} has only one class "
                             f"({classes[0]!r} in all {stats['rows']} rows); a classifier needs "
                             f"two or more, so choose another {spell.target}.")
        if len(classes) > max(_CLASSIFICATION_MAX_INTEGER_CLASSES, stats["rows"] // 2):
            raise TableError(f"the target column {quote(name)} has {len(classes)} distinct "
                             f"values in {stats['rows']} rows: as classes, most would have a "
                             "single row to learn from (an identifier?), so choose another "
                             f"{spell.target}" + (f", or {spell.task.format('regression')} for "
                                                  "a numeric one" if stats["numeric"] else "")
                             + ".")
        return {"name": name, "task": task, "classes": classes}
    if not stats["numeric"]:
        raise TableError(f"the target column {quote(name)} holds text, so it cannot be a "
                         f"regression target; use {spell.task.format('classification')} or "
                         f"another {spell.target}.")
    _check_standardisable(name, stats, "the target column")
    scale = stats["std"] if stats["std"] > 0 else 1.0
    return {"name": name, "task": task, "mean": stats["mean"], "scale": scale}


def _check_standardisable(name, stats, what):
    """Values near the float range overflow in the mean or the sd: every encoded value would
    be NaN or 0, and the model would be told its input holds missing values."""
    if not (math.isfinite(stats["mean"]) and math.isfinite(stats["std"])):
        raise TableError(f"{what} {quote(name)} has values too large to standardise (its mean "
                         f"or sd overflows: mean {stats['mean']:g}, sd {stats['std']:g}); "
                         "rescale it (e.g. to other units) or drop it.")


def encode_target(series, target):
    """The target column encoded with the spec's ``target``: class indices (-1 for a class
    not in the spec) or standardised values.

    Args:
        series: the target column.
        target: the spec's ``target`` entry.

    Returns:
        numpy.ndarray: int64 class indices, or float64 standardised values.

    Examples:
        >>> target = {"task": "classification", "classes": ["a", "b"]}
        >>> encode_target(pd.Series(["b", "a", "c"]), target)
        array([ 1,  0, -1])
    """
    if target["task"] == "classification":
        index = {c: i for i, c in enumerate(target["classes"])}
        return np.array([index.get(_label(v), -1) for v in series], dtype=np.int64)
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return (values - target["mean"]) / target["scale"]


def _class_order(label):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def prepare(frame, target=None, *, task=None, drop=(), dropna=False, impute=None,
            max_categories=50, spelling=PYTHON_SPELLING) -> Prepared:
    """Check and encode a table for a model.

    Args:
        frame: the table; every column but the target is a feature.
        target: the target column (default: the last column).
        task: ``"classification"``, ``"regression"`` or None (guess: text, or at most 20
            integer values, is classification).
        drop: columns to leave out.
        dropna: drop the rows with missing / infinite cells.
        impute: fill them instead: ``"mean"`` or ``"median"`` (text columns get their most
            frequent value).
        max_categories: the most distinct values a text column may have.
        spelling: how messages and notes name these arguments (:class:`Spelling`).

    Returns:
        Prepared: the encoded data, its spec and a summary.

    Raises:
        TableError: unknown target or dropped column (listing the columns), missing / infinite
            cells without ``dropna`` / ``impute``, a one-class target, a text column with too
            many categories, or no feature left.

    Examples:
        >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0],
        ...                       "colour": ["red", "blue", "red", "red"],
        ...                       "label": ["a", "b", "a", "b"]})
        >>> data = prepare(frame, target="label")
        >>> data.feature_names, data.y.tolist()
        (['size', 'colour=blue', 'colour=red'], [0, 1, 0, 1])
    """
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    target = check_columns(list(frame.columns), target, drop, spelling)
    frame = frame.drop(columns=list(drop))
    summary = {"rows_read": int(len(frame)), "notes": [], "encoded": [], "dropped": list(drop),
               "columns": len(frame.columns) - 1}
    frame, fills = _clean(frame, target, dropna, impute, summary, spelling)
    features = frame.drop(columns=[target])
    spec = build_spec({name: column_stats(features[name]) for name in features.columns},
                      target_stats(frame[target]), target, task=task,
                      max_categories=max_categories, fills=fills, summary=summary,
                      spelling=spelling)
    X, names, _ = encode_features(features, spec)
    y = encode_target(frame[target], spec["target"])
    finish_summary(summary, spec, rows=X.shape[0])
    return Prepared(X, y, names, spec, summary)


def check_columns(columns, target, drop, spelling=PYTHON_SPELLING):
    """The target's name (default: the last column); a TableError for an unknown target or
    dropped column (listing the columns), or for dropping the target.

    Args:
        columns: the table's column names.
        target: the target's name, or None for the last column.
        drop: the columns to leave out.
        spelling: how messages name the arguments (:class:`Spelling`).

    Returns:
        str: the target's name.

    Raises:
        TableError: as above.

    Examples:
        >>> check_columns(["a", "b", "y"], None, ())
        'y'
        >>> check_columns(["a", "b", "y"], "z", ())
        Traceback (most recent call last):
            ...
        gradkit.data.tabular.TableError: target 'z' is not a column; the columns are: 'a', 'b', 'y'.
    """
    spell = spelling
    target = columns[-1] if target is None else str(target)
    named = [(target, f"{spell.target} {quote(target)}")] + \
        [(d, spell.drop.format(quote(d))) for d in drop]
    for name, what in named:
        if name not in columns:
            shown = ", ".join(quote(c) for c in columns[:40])
            more = f" and {len(columns) - 40} more" if len(columns) > 40 else ""
            raise TableError(f"{what} is not a column; the columns are: {shown}{more}.")
    if target in drop:
        raise TableError(f"{spell.drop.format(quote(target))} removes the target; choose "
                         f"another {spell.target}.")
    return target


def build_spec(stats, tstats, target, *, task=None, max_categories=50, fills=None,
               summary=None, spelling=PYTHON_SPELLING) -> dict:
    """The encoding spec from column statistics (:func:`column_stats` of every feature, in
    order, and :func:`target_stats`), shared by the NumPy and the Dask path.

    Numeric columns are standardised with their mean and sd, text columns one-hot encoded
    over their sorted values, constant columns dropped (noted in ``summary``), the target
    encoded as class indices (classification) or standardised (regression).

    Raises:
        TableError: a text column with more than ``max_categories`` values, a one-class target,
            a text regression target, or no feature left.

    Args:
        stats: ``{column: column_stats(column)}`` of every feature, in order.
        tstats: the target's :func:`target_stats`.
        target: the target's name.
        task: ``"classification"``, ``"regression"`` or None (guessed from ``tstats``).
        max_categories: the most distinct values a text column may have.
        fills: ``{column: value}`` that imputation used, recorded in the spec.
        summary: the data summary to add notes to (None: a new one).
        spelling: how messages name the arguments (:class:`Spelling`).

    Returns:
        dict: the spec (``format``, ``version``, ``columns``, ``target``, ``feature_names``).

    Examples:
        >>> stats = {"size": column_stats(pd.Series([1.0, 2.0, 3.0, 4.0]))}
        >>> spec = build_spec(stats, target_stats(pd.Series(["a", "b", "a", "b"])), "label")
        >>> spec["feature_names"], spec["target"]
        (['size'], {'name': 'label', 'task': 'classification', 'classes': ['a', 'b']})
    """
    spell = spelling
    summary = {"notes": [], "encoded": [], "dropped": []} if summary is None else summary
    fills = fills or {}
    target_spec = _target_spec(tstats, _task(tstats, task), target, spell)
    summary["classes_counts"] = tstats.get("counts")
    spec_columns = []
    for name, st in stats.items():
        if st["kind"] == "numeric":
            _check_standardisable(name, st, "numeric column")
            entry = {"name": name, "kind": "numeric", "mean": st["mean"],
                     "scale": st["std"] if st["std"] > 0 else 1.0}
            constant = st["constant"]
        else:
            categories = st["categories"]
            distinct = st.get("distinct", len(categories))  # Dask: counted, not all listed
            if distinct > max_categories:
                raise TableError(f"text column {quote(name)} has {distinct} distinct "
                                 "values, more than "
                                 f"{spell.max_categories.format(max_categories)}; drop it "
                                 f"with {spell.drop.format(quote(name))} or raise it.")
            entry = {"name": name, "kind": "categorical", "categories": categories}
            summary["encoded"].append(f"{name}: one-hot, {len(categories)} categories")
            constant = len(categories) <= 1
        if looks_like_identifier(st, tstats["rows"]):
            what = ("every row has its own value" if st["kind"] == "categorical" else
                    "its integers number the rows")
            note = (f"column {quote(name)} looks like an identifier ({what}): a model learns "
                    "nothing from it that holds for new rows; drop it with "
                    f"{spell.drop.format(quote(name))}.")
            summary["notes"].append(note)
            warnings.warn(note, IdentifierColumnWarning, stacklevel=2)
        if constant:
            summary["dropped"].append(name)
            summary["notes"].append(f"dropped the constant column {name}.")
            continue
        if name in fills:
            entry["fill"] = fills[name]
        spec_columns.append(entry)
    if not spec_columns:
        raise TableError("no feature columns are left (all were dropped or constant); check "
                         f"{spell.target} and {spell.drop.format('...')}.")
    names = []
    for entry in spec_columns:
        names.extend([entry["name"]] if entry["kind"] == "numeric" else
                     [f"{entry['name']}={c}" for c in entry["categories"]])
    return {"format": SPEC_FORMAT, "version": SPEC_VERSION, "columns": spec_columns,
            "target": target_spec, "feature_names": names}


def finish_summary(summary, spec, rows):
    """Complete the report's data summary once the spec is built (shared by both paths).

    Args:
        summary: the summary :func:`build_spec` added to (its ``classes_counts`` is consumed).
        spec: the spec.
        rows: the number of encoded rows.

    Examples:
        >>> stats = {"size": column_stats(pd.Series([1.0, 2.0, 3.0, 4.0]))}
        >>> summary = {"notes": [], "encoded": [], "dropped": []}
        >>> spec = build_spec(stats, target_stats(pd.Series(["a", "b", "a", "b"])), "label",
        ...                   summary=summary)
        >>> finish_summary(summary, spec, rows=4)
        >>> summary["classes"], summary["features"], summary["task"]
        ({'a': 2, 'b': 2}, 1, 'classification')
    """
    target_spec = spec["target"]
    counts = summary.pop("classes_counts", None)
    numeric = sum(c["kind"] == "numeric" for c in spec["columns"])
    if numeric:
        summary["encoded"].insert(0, f"{numeric} numeric column(s): standardised (mean 0, sd 1)")
    target = target_spec["name"]
    if target_spec["task"] == "classification":
        summary["classes"] = {c: int(counts.get(c, 0)) for c in target_spec["classes"]}
        summary["encoded"].append(f"target {target}: {len(target_spec['classes'])} classes "
                                  "as indices")
    else:
        summary["encoded"].append(f"target {target}: standardised (scores in original units)")
    summary.update(rows=int(rows), features=len(spec["feature_names"]), target=target,
                   task=target_spec["task"])


def encode_features(features, spec):
    """(X, feature names, number of unknown category cells) for ``features`` under ``spec``.

    Args:
        features: the feature columns (a pandas DataFrame; extra columns are ignored).
        spec: the spec.

    Returns:
        tuple: ``(X, feature_names, unknown)``; a category not seen in training is encoded as
        all zeros and counted in ``unknown``.

    Raises:
        TableError: a column numeric in training holds text.

    Examples:
        >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0],
        ...                       "colour": ["red", "blue", "red", "red"],
        ...                       "label": ["a", "b", "a", "b"]})
        >>> spec = prepare(frame, target="label").spec
        >>> X, names, unknown = encode_features(pd.DataFrame({"size": [2.5], "colour": ["green"]}),
        ...                                     spec)
        >>> X, unknown     # the mean size; an unseen colour: all zeros
        (array([[0., 0., 0.]]), 1)
    """
    blocks, unknown = [], 0
    for entry in spec["columns"]:
        col = features[entry["name"]]
        if entry["kind"] == "numeric":
            try:
                values = col.to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):
                raise TableError(f"column {quote(entry['name'])} was numeric when the model was "
                                 "trained but holds text here.") from None
            blocks.append(((values - entry["mean"]) / entry["scale"])[:, None])
        else:
            values = col.astype(str).to_numpy()
            cats = entry["categories"]
            onehot = (values[:, None] == np.asarray(cats, dtype=object)[None, :]).astype(float)
            unknown += int((onehot.sum(axis=1) == 0).sum())
            blocks.append(onehot)
    return np.hstack(blocks), list(spec["feature_names"]), unknown


def transform(frame, spec, *, dropna=False, impute=None, spelling=PYTHON_SPELLING):
    """Encode new rows with a saved ``spec`` (from :func:`prepare`).

    The target column, if present, is encoded too (class indices; rows with an unknown class
    get -1). Missing cells are an error unless ``dropna`` (drop the rows) or ``impute`` (fill
    with the training values recorded in the spec: the mean, or the most frequent text).
    ``spelling`` is how messages and notes name those arguments (:class:`Spelling`).

    Returns:
        Prepared: ``y`` is None when the frame has no target column.

    Raises:
        TableError: when a column the model needs is absent, or for missing cells.

    Args:
        frame: the new rows (the target column may be absent).
        spec: the spec of :func:`prepare` (or of a saved model).
        dropna: drop rows with missing / infinite cells.
        impute: fill them with the training values instead (any value but None).
        spelling: how messages name the arguments.

    Examples:
        >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0],
        ...                       "colour": ["red", "blue", "red", "red"],
        ...                       "label": ["a", "b", "a", "b"]})
        >>> spec = prepare(frame, target="label").spec
        >>> new = pd.DataFrame({"size": [1.0, None], "colour": ["blue", "red"]})
        >>> data = transform(new, spec, impute="mean")
        >>> data.X, data.y
        (array([[-1.34164079,  1.        ,  0.        ],
               [ 0.        ,  0.        ,  1.        ]]), None)
    """
    spell = spelling
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    needed = [c["name"] for c in spec["columns"]]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise TableError(f"the data lacks column(s) the model was trained on: "
                         f"{', '.join(quote(c) for c in missing[:20])}.")
    target = spec["target"]["name"]
    has_target = target in frame.columns
    keep = needed + ([target] if has_target else [])
    frame = frame[keep]
    summary = {"rows_read": int(len(frame)), "notes": [], "encoded": [], "dropped": []}
    bad = {c: _bad_cells(frame[c]) for c in needed}
    bad = {c: v for c, v in bad.items() if sum(v)}
    if bad:
        if not dropna and impute is None:
            raise missing_cells_error(bad, f"pass {spell.dropna} to drop those rows or "
                                      f"{spell.impute.format('mean')} to fill them with the "
                                      "training means")
        if dropna:
            ok = np.ones(len(frame), bool)
            for c in bad:
                ok &= _finite_mask(frame[c])
            frame = frame[ok]
            summary["notes"].append(f"{spell.dropna} dropped {int((~ok).sum())} rows.")
        else:
            for entry in spec["columns"]:
                if entry["name"] in bad:
                    fill = entry.get("fill", entry.get("mean") if entry["kind"] == "numeric"
                                     else entry["categories"][0])
                    frame[entry["name"]] = _filled(frame[entry["name"]], fill)
                    summary["notes"].append(f"filled {sum(bad[entry['name']])} cells of "
                                            f"{entry['name']} with the training value {fill!r}.")
        if len(frame) == 0:
            raise TableError(f"no rows are left after {spell.dropna}.")
    X, names, unknown = encode_features(frame, spec)
    if unknown:
        summary["notes"].append(f"{unknown} rows hold a category not seen in training "
                                "(encoded as all zeros).")
    y = encode_target(frame[target], spec["target"]) if has_target else None
    summary.update(rows=int(X.shape[0]), features=int(X.shape[1]), target=target,
                   task=spec["target"]["task"])
    return Prepared(X, y, names, spec, summary)


def check_spec(spec, where, spelling=PYTHON_SPELLING) -> dict:
    """Validate a spec read from a file; returns it.

    Raises:
        TableError: when it is not a spec of this version or is malformed, naming ``where``.

    Args:
        spec: the record read.
        where: the file's name, for the message.
        spelling: how the message names the way to make a new record.

    Returns:
        dict: ``spec`` itself.

    Examples:
        >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0],
        ...                       "colour": ["red", "blue", "red", "red"],
        ...                       "label": ["a", "b", "a", "b"]})
        >>> spec = prepare(frame, target="label").spec
        >>> check_spec(spec, "model.json") is spec
        True
        >>> check_spec({"format": "other"}, "model.json")
        Traceback (most recent call last):
            ...
        gradkit.data.tabular.TableError: model.json is not a valid gradkit preprocessing record ...
    """
    def bad(why):
        return TableError(f"{where} is not a valid gradkit preprocessing record ({why}); "
                          f"re-create it with {spelling.record}.")

    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise bad("unknown format")
    if spec.get("version") != SPEC_VERSION:
        raise TableError(f"{where} was written by another gradkit version (preprocessing format "
                         f"{spec.get('version')!r}, this gradkit reads {SPEC_VERSION}); refit "
                         f"the model with {spelling.record}.")
    try:
        cols, target = spec["columns"], spec["target"]
        ok = isinstance(cols, list) and cols and all(
            isinstance(c, dict) and isinstance(c["name"], str) and (
                (c["kind"] == "numeric" and all(isinstance(c[k], (int, float)) and
                                                math.isfinite(c[k]) for k in ("mean", "scale"))
                 and c["scale"] != 0) or
                (c["kind"] == "categorical" and isinstance(c["categories"], list) and
                 all(isinstance(v, str) for v in c["categories"])))
            for c in cols)
        ok = ok and isinstance(target, dict) and isinstance(target["name"], str) and (
            (target["task"] == "classification" and isinstance(target["classes"], list)) or
            (target["task"] == "regression" and isinstance(target["mean"], (int, float))
             and isinstance(target["scale"], (int, float)) and target["scale"] != 0))
        ok = ok and isinstance(spec["feature_names"], list)
    except (KeyError, TypeError):
        ok = False
    if not ok:
        raise bad("missing or invalid entries")
    return spec
