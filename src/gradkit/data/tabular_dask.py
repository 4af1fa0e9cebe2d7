"""Tables as Dask DataFrames: the checks, spec and encoding of gradkit.data.tabular, per partition.

:func:`read_dask_table` reads a CSV in blocks (integers as floats, so that a missing cell in a
later block does not change a column's type). :func:`prepare_dask` computes the statistics
the spec needs over the partitions where they live (means and sds, text values, the target's
labels), turns them into the same spec as the NumPy path with
:func:`gradkit.data.tabular.build_spec`, and encodes every partition with it, which gives Dask
arrays ``X`` and ``y`` with one block per partition.

What comes to the driver is bounded by the number of partitions and of distinct values the
spec can use, never by the number of rows: each partition sends at most
``max_categories + 1`` values of a text column (more are an error anyway; its exact number of
distinct values is then counted on the workers for the message), and of an integer target at
most one more than the most classes an integer target may have (more make it a regression
target; with ``task="classification"`` every class is sent, as the model needs them all).
"""
from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from .tabular import (_CLASSIFICATION_MAX_INTEGER_CLASSES, PYTHON_SPELLING, Prepared,
                      TableError, build_spec, check_columns, check_file, count_labels,
                      describe_bad_cells, encode_features, encode_target, finish_summary,
                      is_numeric, missing_cells_error, quote, sniff_csv)

__all__ = ["read_dask_table", "prepare_dask"]


def read_dask_table(source, blocksize=None):
    """``(Dask DataFrame, display name)`` for a CSV / TSV file read in ``blocksize``-byte
    partitions (None: Dask's default, 64 MB), its separator and decimal mark found by
    :func:`gradkit.data.tabular.sniff_csv` as on the NumPy path.

    Raises:
        TableError: a missing, empty or unreadable file, or one with a header and no rows,
            naming it.

    Args:
        source: the path of a CSV or TSV file.
        blocksize: bytes per partition (None: Dask's default).

    Returns:
        tuple: ``(frame, name)``, the Dask DataFrame (column names as strings) and the file's
        base name.

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> with open(path, "w") as f:
        ...     _ = f.write("a,b,target\\n1,2,0\\n3,4,1\\n5,6,0\\n7,8,1\\n")
        >>> frame, name = read_dask_table(path)
        >>> type(frame).__name__, name, list(frame.columns)
        ('DataFrame', 't.csv', ['a', 'b', 'target'])
    """
    import dask.dataframe as dd

    source = str(source)
    check_file(source)
    dialect = sniff_csv(source, default="\t" if source.lower().endswith(".tsv") else ",")
    try:
        frame = dd.read_csv(source, sep=dialect.sep, decimal=dialect.decimal, assume_missing=True,
                            blocksize=blocksize if blocksize is not None else "default")
        empty = pd.read_csv(source, sep=dialect.sep, decimal=dialect.decimal, nrows=1).empty
    except UnicodeDecodeError:
        raise TableError(f"{quote(source)} is not UTF-8 text; save it as a UTF-8 CSV file.") \
            from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TableError(f"cannot read {quote(source)} as a CSV file: {first}") from None
    if empty:  # the first data row, read here: the NumPy path's message, before any pass
        raise TableError(f"{quote(source)} has a header but no data rows.")
    frame.columns = [str(c) for c in frame.columns]
    return frame, os.path.basename(source)


def _numeric(col):
    return is_numeric(col) or pd.api.types.is_bool_dtype(col)


def prepare_dask(frame, target=None, *, task=None, drop=(), dropna=False, max_categories=50,
                 spelling=PYTHON_SPELLING):
    """:func:`gradkit.data.tabular.prepare` for a Dask DataFrame: the same checks, spec and
    summary, with ``X`` and ``y`` as Dask arrays (one block per partition). Missing cells can
    be dropped (``dropna``) but not imputed.

    Raises:
        TableError: as ``prepare``.

    Args:
        frame: a Dask DataFrame (:func:`read_dask_table`).
        target: the target column (None: no target).
        task: ``"classification"``, ``"regression"`` or None (inferred from the target).
        drop: columns left out.
        dropna: drop the rows with missing cells (else they raise :class:`TableError`).
        max_categories: the most categories a text column may have to be one-hot encoded.
        spelling: how the messages name the options (:data:`gradkit.data.tabular.PYTHON_SPELLING`
            or the command line's).

    Returns:
        Prepared: ``X`` and ``y`` as Dask arrays, the spec (to encode new data the same way) and
        the summary.

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> with open(path, "w") as f:
        ...     _ = f.write("a,b,target\\n1,2,0\\n3,4,1\\n5,6,0\\n7,8,1\\n")
        >>> data = prepare_dask(read_dask_table(path)[0], "target")
        >>> type(data.X).__name__, data.summary["task"], data.X.compute().shape
        ('Array', 'classification', (4, 2))
    """
    import dask

    target = check_columns(list(frame.columns), target, drop, spelling)
    frame = frame.drop(columns=list(drop)) if drop else frame
    columns = list(frame.columns)
    # pass 1: rows and missing / infinite cells
    missing = {c: frame[c].isna().sum() for c in columns}
    infinite = {c: frame[c].isin([np.inf, -np.inf]).sum() for c in columns
                if is_numeric(frame[c])}
    try:  # the first pass reads every partition: a malformed row or a changed type shows
        rows_read, missing, infinite = dask.compute(frame.shape[0], missing, infinite)
    except pd.errors.ParserError as exc:
        first = " ".join(str(exc).split()) or type(exc).__name__
        raise TableError(f"cannot read the file as a CSV table: {first} (the line is counted "
                         "from the start of one of its Dask partitions, not of the file).") \
            from None
    except ValueError as exc:
        changed = _mismatched_columns(str(exc))
        if not changed:
            raise
        one = len(changed) == 1
        raise TableError(f"{'column' if one else 'columns'} "
                         f"{', '.join(quote(c) for c in changed)} {'holds' if one else 'hold'} "
                         "numbers in the first block of the file and text further on (Dask "
                         "takes each column's type "
                         "from the first block); fix those cells, drop the column with "
                         f"{spelling.drop.format(quote(changed[0]))}, or read the file "
                         "without Dask.") from None
    summary = {"rows_read": int(rows_read), "notes": [], "encoded": [], "dropped": list(drop),
               "columns": len(columns) - 1}
    bad = {c: (int(missing[c]), int(infinite.get(c, 0))) for c in columns}
    bad = {c: v for c, v in bad.items() if sum(v)}
    if bad:
        if not dropna:
            raise missing_cells_error(bad, f"pass {spelling.dropna} to drop those rows "
                                      f"({spelling.impute.format('mean')} is not available "
                                      "for Dask data)")
        keep = None
        for c in bad:
            ok = ~frame[c].isna()
            if is_numeric(frame[c]):
                ok = ok & ~frame[c].isin([np.inf, -np.inf])
            keep = ok if keep is None else keep & ok
        frame = frame[keep]
    # pass 2: the statistics the spec needs (column_stats / target_stats of the NumPy path)
    features = [c for c in columns if c != target]
    lazy = {"rows": frame.shape[0], "columns": {}}
    for c in features:
        col = frame[c]
        if _numeric(col):
            v = col.astype(float)
            lazy["columns"][c] = {"kind": "numeric", "mean": v.mean(), "std": v.std(ddof=0),
                                  "min": v.min(), "max": v.max()}
            if is_numeric(col):  # for looks_like_identifier: integral, and distinct values
                # (HyperLogLog: a bounded sketch per partition, not the values on the driver)
                lazy["columns"][c].update(integral=(v == v.round()).all(),
                                          distinct=v.nunique_approx())
        else:
            lazy["columns"][c] = {"kind": "categorical", "values": _per_partition(
                col.astype(str), _value_counts, max_categories + 1)}
    t = frame[target]
    t_numeric = is_numeric(t)
    if t_numeric:
        lazy["target"] = {"mean": t.mean(), "std": t.std(ddof=0),
                          "integral": (t == t.round()).all()}
    else:
        lazy["target"] = {"counts": _per_partition(t.astype(str), _value_counts)}
    (got,) = dask.compute(lazy)
    rows = int(got["rows"])
    if bad:
        summary["notes"].append(f"--dropna dropped {rows_read - rows} of {rows_read} rows with "
                                f"missing or infinite cells ({describe_bad_cells(bad)}).")
    if rows == 0:
        raise TableError("no rows are left after removing the missing or infinite cells; fix "
                       "the data.")
    stats = {}
    for c in features:
        st = got["columns"][c]
        if st["kind"] == "numeric":
            stats[c] = {"kind": "numeric", "mean": float(st["mean"]), "std": float(st["std"]),
                        "constant": bool(st["min"] == st["max"])}
            if st.get("integral"):
                stats[c].update(span=float(st["max"] - st["min"]), distinct=int(st["distinct"]))
        else:
            stats[c] = {"kind": "categorical", "categories": sorted(set(st["values"].index))}
            if len(stats[c]["categories"]) > max_categories:  # too many: count them all
                stats[c]["distinct"] = int(frame[c].astype(str).nunique().compute())
    tstats = {"numeric": t_numeric, "rows": rows}
    if t_numeric:
        tstats.update(mean=float(got["target"]["mean"]), std=float(got["target"]["std"]),
                      integral=bool(got["target"]["integral"]))
        if tstats["integral"] and task != "regression":  # class labels, maybe: count them
            cap = None if task == "classification" else _CLASSIFICATION_MAX_INTEGER_CLASSES + 1
            tstats["counts"] = count_labels(_sum_counts(  # (a third, small pass)
                _per_partition(t, _value_counts, cap).compute()))
    else:
        tstats["counts"] = count_labels(_sum_counts(got["target"]["counts"]))
    spec = build_spec(stats, tstats, target, task=task, max_categories=max_categories,
                      summary=summary, spelling=spelling)
    # encode every partition with the spec; lengths once, so X and y get the same blocks
    encoded = frame.map_partitions(_encode_partition, spec, meta=_meta(spec))
    lengths = tuple(int(n) for n in frame.map_partitions(len).compute())
    names = spec["feature_names"]
    X = encoded[names].to_dask_array(lengths=lengths)
    y = encoded["__target__"].to_dask_array(lengths=lengths)
    finish_summary(summary, spec, rows=rows)
    return Prepared(X.rechunk({1: -1}), y, list(names), spec, summary)


def _mismatched_columns(message):
    """The columns named in Dask's "Mismatched dtypes found in pd.read_csv" table (a column
    whose type in a later partition differs from the first partition's), or [] for another
    error."""
    if "Mismatched dtypes" not in message:
        return []
    return re.findall(r"^\|\s*(.+?)\s*\|\s*\S+\s*\|\s*\S+\s*\|$", message, re.M)[1:]


def _value_counts(part):
    return part.value_counts()


def _per_partition(col, fn, cap=None):
    """``fn`` of every partition, concatenated: a reduction without a shuffle. With ``cap``,
    at most ``cap`` entries of each partition's result (value counts are then small next to
    the data whatever the number of rows)."""
    return col.map_partitions(lambda part: fn(part).iloc[:cap],
                              meta=pd.Series([], dtype=np.int64, name="count"))


def _sum_counts(counts):
    """``(value, rows)`` pairs from per-partition value counts."""
    return counts.groupby(level=0).sum().items()


def _meta(spec):
    columns = {n: pd.Series([], dtype=float) for n in spec["feature_names"]}
    dtype = np.int64 if spec["target"]["task"] == "classification" else float
    columns["__target__"] = pd.Series([], dtype=dtype)
    return pd.DataFrame(columns)


def _encode_partition(part, spec):
    """One partition encoded with ``spec``: the feature columns and ``__target__``."""
    X, names, _ = encode_features(part, spec)
    out = pd.DataFrame(X, columns=names, index=part.index)
    out["__target__"] = encode_target(part[spec["target"]["name"]], spec["target"])
    return out
