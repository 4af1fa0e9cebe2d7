"""``gradkit fit --dask``: read a CSV as a Dask DataFrame, encode it with the NumPy path's spec, fit on Dask arrays.

``gradkit fit data.csv --dask`` starts a ``dask.distributed.LocalCluster`` for the run (two
worker processes with one thread each, sized for a 2-core machine; closed when the command
ends); ``gradkit fit data.csv --dask tcp://host:8786`` connects to a running scheduler
instead. Then:

1. the CSV is read with ``dask.dataframe.read_csv`` in blocks of ``--blocksize`` bytes (one
   partition each; integers are read as floats so that a missing cell in a later block does
   not change a column's type);
2. the same statistics as the NumPy path (means and sds, text values, the target's labels) are
   computed over the partitions where they live, and :func:`gradkit.data.tabular.build_spec`
   turns them into the same spec; every partition is encoded with it (one-hot text,
   standardised numbers, encoded target), which gives Dask arrays ``X`` and ``y`` with one
   block per partition;
3. the held-out split picks the same rows as the NumPy path (the encoded ``y``, one number per
   row, is computed on the driver for that); the training rows stay on the workers
   (persisted), the held-out rows are computed (they are the small part);
4. the estimator's ``fit`` takes the Dask arrays (:mod:`gradkit.models.distributed`): a
   full-batch method sums the loss and gradient block by block, a stochastic optimizer draws
   mini-batches from the blocks.

What it does not do (each a one-line error): bundled data sets and Parquet files, ``--impute``
(``--dropna`` works), and a stochastic optimizer with ``--batch-size full``.
"""
from __future__ import annotations

import contextlib
import os
import re
import warnings

import numpy as np
import pandas as pd

from gradkit.data.tabular import (BUNDLED, Prepared, build_spec, check_columns, check_file,
                                  count_labels, describe_bad_cells, encode_features,
                                  encode_target, finish_summary, is_numeric,
                                  missing_cells_error, quote)

from .errors import CLIError
from .tabular import SPELLING

__all__ = ["LOCAL", "check_options", "dask_client", "read_dask_table", "prepare_dask",
           "split_dask", "predict_blocks"]

#: ``--dask`` alone: a local cluster of this shape (2 cores, 24 GB: 2 x 8 GiB leaves room for
#: the driver, which holds the optimizer state and the held-out rows).
LOCAL = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "memory_limit": "8GiB"}

_ADDRESS = re.compile(r"^([a-z][a-z0-9+]*://\S+|[\w.-]+:\d+)$")


def check_options(args):
    """CLIErrors for what the Dask path does not do, before any cluster is started."""
    from gradkit.models import TRANSFORMS

    address = args.dask
    if address != "local" and not _ADDRESS.match(address):
        raise CLIError(f"--dask {address!r} is not a scheduler address such as "
                       "tcp://10.0.0.5:8786; write --dask alone (a local cluster) after the "
                       "data file, as in: gradkit fit data.csv --dask.")
    source = str(args.data)
    if source.lower().replace("-", "_") in BUNDLED and not os.path.exists(source):
        raise CLIError(f"--dask reads a CSV file; the bundled data set {source!r} fits in "
                       "memory, so leave out --dask.")
    if os.path.splitext(source)[1].lower() in (".parquet", ".pq"):
        raise CLIError("--dask reads CSV files only; convert the Parquet file to CSV or leave "
                       "out --dask.")
    if args.impute is not None:
        raise CLIError("--impute is not available with --dask; use --dropna, or fill the "
                       "missing cells before fitting.")
    if args.optimizer in TRANSFORMS and getattr(args, "batch_size", "auto") is None:
        raise CLIError(f"--optimizer {args.optimizer} with --batch-size full has no Dask "
                       "path (its batches come one block at a time); use a full-batch method "
                       "such as --optimizer lbfgs, or a number of rows for --batch-size.")


@contextlib.contextmanager
def dask_client(address):
    """A ``dask.distributed.Client`` for the run: on a new :data:`LOCAL` cluster when
    ``address`` is ``"local"`` (closed on exit), else connected to the scheduler at
    ``address``. The client is the default one inside the ``with`` block.

    Raises:
        CLIError: when the scheduler cannot be reached.
    """
    from dask.distributed import Client, LocalCluster

    cluster = None
    try:
        if address == "local":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cluster = LocalCluster(dashboard_address=None, **LOCAL)
            client = Client(cluster)
        else:
            client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise CLIError(f"cannot connect to the Dask scheduler at {address!r}: "
                       f"{' '.join(str(exc).split()) or type(exc).__name__}. Check the "
                       "address, or write --dask alone for a local cluster.") from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def read_dask_table(source, blocksize=None):
    """``(Dask DataFrame, display name)`` for a CSV / TSV file read in ``blocksize``-byte
    partitions (None: Dask's default, 64 MB).

    Raises:
        CLIError: a missing, empty or unreadable file, naming it.
    """
    import dask.dataframe as dd

    source = str(source)
    check_file(source)
    sep = "\t" if source.lower().endswith(".tsv") else ","
    try:
        frame = dd.read_csv(source, sep=sep, assume_missing=True,
                            blocksize=blocksize if blocksize is not None else "default")
    except UnicodeDecodeError:
        raise CLIError(f"{quote(source)} is not UTF-8 text; save it as a UTF-8 CSV file.") \
            from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CLIError(f"cannot read {quote(source)} as a CSV file: {first}") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame, os.path.basename(source)


def _numeric(col):
    return is_numeric(col) or pd.api.types.is_bool_dtype(col)


def prepare_dask(frame, target=None, *, task=None, drop=(), dropna=False, max_categories=50):
    """:func:`gradkit.data.tabular.prepare` for a Dask DataFrame: the same checks, spec and
    summary, with ``X`` and ``y`` as Dask arrays (one block per partition).

    Raises:
        CLIError: as ``prepare``.
    """
    import dask
    import dask.array as da

    target = check_columns(list(frame.columns), target, drop, SPELLING)
    frame = frame.drop(columns=list(drop)) if drop else frame
    columns = list(frame.columns)
    # pass 1: rows and missing / infinite cells
    missing = {c: frame[c].isna().sum() for c in columns}
    infinite = {c: frame[c].isin([np.inf, -np.inf]).sum() for c in columns
                if is_numeric(frame[c])}
    rows_read, missing, infinite = dask.compute(frame.shape[0], missing, infinite)
    summary = {"rows_read": int(rows_read), "notes": [], "encoded": [], "dropped": list(drop),
               "columns": len(columns) - 1}
    bad = {c: (int(missing[c]), int(infinite.get(c, 0))) for c in columns}
    bad = {c: v for c, v in bad.items() if sum(v)}
    if bad:
        if not dropna:
            raise missing_cells_error(bad, "pass --dropna to drop those rows (--impute is not "
                                      "available with --dask)")
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
        else:
            lazy["columns"][c] = {"kind": "categorical", "values": _per_partition(
                col.astype(str), _value_counts)}
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
        raise CLIError("no rows are left after removing the missing or infinite cells; fix "
                       "the data.")
    stats = {}
    for c in features:
        st = got["columns"][c]
        if st["kind"] == "numeric":
            stats[c] = {"kind": "numeric", "mean": float(st["mean"]), "std": float(st["std"]),
                        "constant": bool(st["min"] == st["max"])}
        else:
            stats[c] = {"kind": "categorical", "categories": sorted(set(st["values"].index))}
    tstats = {"numeric": t_numeric, "rows": rows}
    if t_numeric:
        tstats.update(mean=float(got["target"]["mean"]), std=float(got["target"]["std"]),
                      integral=bool(got["target"]["integral"]))
        if tstats["integral"]:  # class labels, maybe: count them (a third, small pass)
            tstats["counts"] = count_labels(_sum_counts(
                _per_partition(t, _value_counts).compute()))
    else:
        tstats["counts"] = count_labels(_sum_counts(got["target"]["counts"]))
    spec = build_spec(stats, tstats, target, task=task, max_categories=max_categories,
                      summary=summary, spelling=SPELLING)
    # encode every partition with the spec; lengths once, so X and y get the same blocks
    encoded = frame.map_partitions(_encode_partition, spec, meta=_meta(spec))
    lengths = tuple(int(n) for n in frame.map_partitions(len).compute())
    names = spec["feature_names"]
    X = encoded[names].to_dask_array(lengths=lengths)
    y = encoded["__target__"].to_dask_array(lengths=lengths)
    finish_summary(summary, spec, rows=rows)
    return Prepared(X.rechunk({1: -1}), y, list(names), spec, summary)


def _value_counts(part):
    return part.value_counts()


def _per_partition(col, fn):
    """``fn`` of every partition, concatenated: a reduction without a shuffle (value counts
    are small next to the data)."""
    return col.map_partitions(fn, meta=pd.Series([], dtype=np.int64, name="count"))


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


def split_dask(data, split_indices):
    """``(X_train, X_test, y_train, y_test, y_train_numpy)`` for Dask ``data``.

    ``split_indices(y, task) -> (train, test)`` is the NumPy path's split of the row indices: the
    encoded ``y`` is computed for it (one number per row), so the same rows are held out. The
    training rows stay Dask arrays, persisted on the workers, in their original order; the
    held-out rows are computed to NumPy.
    """
    import dask

    y = data.y.compute()
    train, test = (np.sort(i) for i in split_indices(y, data.summary["task"]))
    X_train, y_train = dask.persist(data.X[train], data.y[train])
    X_test = data.X[test].compute()
    return X_train, X_test, y_train, y[test], y[train]


def predict_blocks(estimator, X):
    """``estimator.predict`` of a Dask array, block by block where the blocks live."""
    dtype = getattr(estimator, "classes_", np.zeros(0)).dtype
    return X.map_blocks(estimator.predict, drop_axis=1, dtype=dtype).compute()
