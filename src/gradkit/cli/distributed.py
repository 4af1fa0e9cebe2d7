"""``gradkit fit --dask``: read a CSV as a Dask DataFrame, encode it with the NumPy path's spec, fit on Dask arrays.

``gradkit fit data.csv --dask`` starts a ``dask.distributed.LocalCluster`` for the run (two
worker processes with one thread each, sized for a 2-core machine; closed when the command
ends); ``gradkit fit data.csv --dask tcp://host:8786`` connects to a running scheduler
instead. Then:

1. :func:`gradkit.data.tabular_dask.read_dask_table` reads the CSV in blocks of
   ``--blocksize`` bytes (one partition each);
2. :func:`gradkit.data.tabular_dask.prepare_dask` encodes it with the NumPy path's spec
   (statistics computed over the partitions where they live), which gives Dask arrays ``X``
   and ``y`` with one block per partition;
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

from gradkit.data.tabular import BUNDLED

from .errors import CLIError

__all__ = ["LOCAL", "check_options", "dask_client", "split_dask", "predict_blocks"]

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
