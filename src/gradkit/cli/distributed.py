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
3. :func:`split_dask` holds out rows block by block, by the rule of :func:`held_out`: row
   ``i`` (counted from 0 over the encoded rows) is held out when a hash of ``(--seed, i)``,
   read as a number in [0, 1), is below ``--test-size``. The rule needs nothing but the row
   number, so every block decides for its own rows where it lives, and the same rows are
   held out whatever ``--blocksize`` or cluster; the number held out is about
   ``--test-size`` of the rows, not exactly, and it is not stratified by class. (The NumPy
   path holds out exactly ``ceil(test_size * n)`` rows, stratified, with scikit-learn's
   ``train_test_split``: the two paths hold out different rows, and their scores differ by
   that.) Both parts stay on the workers (persisted);
4. the estimator's ``fit`` takes the Dask arrays (:mod:`gradkit.models.distributed`): a
   full-batch method sums the loss and gradient block by block, a stochastic optimizer draws
   mini-batches from the blocks;
5. :func:`score_dask` scores the model where the blocks live: each block predicts its rows
   and reduces them to a confusion matrix (classification) or to sums of residuals
   (regression), and only those come to the driver, with a sample of at most
   :data:`SHOWN` held-out rows for the predicted-against-true figure.

The driver holds the spec, the parameters and the optimizer state, a few numbers per block
and the bounded samples (the 200 rows of the importance figure, the 256 rows an estimator
keeps for ``feature_importances_``): nothing that grows with the number of rows.

What it does not do (each a one-line error): bundled data sets and Parquet files, ``--impute``
(``--dropna`` works), and a stochastic optimizer with ``--batch-size full``.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import warnings

import numpy as np

from gradkit.data.tabular import BUNDLED

from .errors import CLIError

__all__ = ["LOCAL", "SHOWN", "check_options", "dask_client", "held_out", "split_dask",
           "predictions", "score_dask"]

#: ``--dask`` alone: a local cluster of this shape (2 cores, 24 GB: 2 x 8 GiB leaves room for
#: the driver, which holds the optimizer state and the held-out rows).
LOCAL = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "memory_limit": "8GiB"}

_ADDRESS = re.compile(r"^([a-z][a-z0-9+]*://\S+|[\w.-]+:\d+)$")


def check_options(args):
    """Refuse what the Dask path does not do, before any cluster is started.

    Args:
        args: the parsed ``argparse.Namespace`` of ``gradkit fit`` with ``--dask``.

    Returns:
        None, when the options have a Dask path.

    Raises:
        CLIError: a malformed scheduler address, a bundled data set or a Parquet file,
            ``--impute``, or a stochastic optimizer with ``--batch-size full``.

    Examples:
        >>> from gradkit.cli.main import build_parser
        >>> args = build_parser().parse_args(["fit", "data.csv", "--dask", "--impute", "mean"])
        >>> try:
        ...     check_options(args)
        ... except CLIError as exc:
        ...     print(str(exc).split(";")[0])
        --impute is not available with --dask
    """
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

    Args:
        address: ``"local"`` (``--dask`` alone), or a scheduler address such as
            ``"tcp://10.0.0.5:8786"``.

    Yields:
        dask.distributed.Client: the client, closed (with its local cluster) on exit.

    Raises:
        CLIError: when the scheduler cannot be reached.

    Examples:
        >>> from dask.distributed import LocalCluster
        >>> with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        ...     with dask_client(cluster.scheduler_address) as client:
        ...         print(len(client.scheduler_info()["workers"]), "worker")
        1 worker
    """
    # the cluster's own log (workers starting, and killed on the way out after a Ctrl-C)
    # would land on the user's terminal after gradkit's last line: errors only
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with _connected(address) as client:
            yield client
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _connected(address):
    """The client of :func:`dask_client`, with its cluster when it starts one."""
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


def held_out(rows, test_size, seed):
    """Whether each row is held out for scoring: the split rule of ``gradkit fit --dask``.

    Row ``i`` is held out when ``u(seed, i) < test_size``, where ``u`` is SplitMix64's output
    mixing function (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
    OOPSLA 2014) applied to ``i * phi + mix(seed + phi)`` (``phi`` the 64-bit golden ratio),
    its top 53 bits read as a number in [0, 1). Each row is held out with probability
    ``test_size``, independently of the others, and the decision needs only the row's number:
    a block decides for its own rows, the same way however the rows are split into blocks.

    Args:
        rows: the row numbers (non-negative integers, counted from 0 over the whole table).
        test_size: the fraction of rows to hold out, in [0, 1].
        seed: a non-negative integer below ``2**64`` (``--seed``).

    Returns:
        numpy.ndarray: booleans, True for a held-out row.

    Examples:
        >>> mask = held_out(np.arange(100_000), 0.25, seed=0)
        >>> round(float(mask.mean()), 2)
        0.25
        >>> bool((held_out(np.arange(50_000, 100_000), 0.25, seed=0) == mask[50_000:]).all())
        True
        >>> bool((held_out(np.arange(100_000), 0.25, seed=1) == mask).all())
        False
    """
    with np.errstate(over="ignore"):  # the arithmetic is modulo 2**64 on purpose
        key = _mix64(np.array([seed], dtype=np.uint64) + _PHI)
        u = _mix64(np.asarray(rows, dtype=np.uint64) * _PHI + key) >> np.uint64(11)
    return u.astype(np.float64) * 2.0 ** -53 < test_size


_PHI = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z):
    """SplitMix64's finalizer: a bijection of uint64 in which every output bit depends on
    every input bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _part(block, test_size, seed, held, block_info=None):
    """The rows of one block that :func:`held_out` holds out (``held``) or keeps for training
    (``not held``); ``block_info`` gives the block's first row number."""
    start = block_info[0]["array-location"][0][0]
    mask = held_out(np.arange(start, start + len(block)), test_size, seed)
    return block[mask == held]


def _count_held_out(rows, test_size, seed):
    return np.array([np.count_nonzero(held_out(rows, test_size, seed))])


def split_dask(data, test_size, seed):
    """``(X_train, X_test, y_train, y_test, y_train)`` for Dask ``data``, split by
    :func:`held_out` block by block where the blocks live (the module doc gives the rule).

    The rows held out per block are counted first (from the row numbers alone, one number per
    block, without reading the data), so every part has known chunks; then the four parts
    are persisted on the workers together, in one pass over the source. ``y_train`` is
    returned twice, for the ``(..., y_train to fit, y_test, y_train to score)`` tuple
    :mod:`gradkit.cli.fit` takes.

    Args:
        data: a :class:`gradkit.data.tabular.Prepared` with Dask arrays ``X`` (chunked by rows
            only) and ``y`` (the same row chunks), as
            :func:`gradkit.data.tabular_dask.prepare_dask` gives it.
        test_size: the fraction of rows to hold out (``--test-size``).
        seed: ``--seed``.

    Returns:
        A tuple of Dask arrays with known chunks: the training and the held-out rows of ``X``
        and ``y``, in their original order.

    Raises:
        CLIError: when fewer than one row would be held out, or fewer than two kept.

    Examples:
        >>> import dask.array as da
        >>> from gradkit.data.tabular import Prepared
        >>> X = da.from_array(np.arange(40.0).reshape(20, 2), chunks=(5, 2))
        >>> data = Prepared(X, da.arange(20, chunks=5), ["a", "b"], {}, {})
        >>> X_train, X_test, y_train, y_test, _ = split_dask(data, 0.25, seed=0)
        >>> y_test.compute()
        array([ 6, 12, 13])
        >>> bool((y_test.compute() == np.flatnonzero(held_out(np.arange(20), 0.25, 0))).all())
        True
        >>> X_train.shape, X_test.shape
        ((17, 2), (3, 2))
    """
    import dask
    import dask.array as da

    X, y = data.X, data.y
    sizes = np.asarray(y.chunks[0], dtype=np.int64)
    rows = da.arange(int(sizes.sum()), chunks=y.chunks[0], dtype=np.int64)
    counts = rows.map_blocks(_count_held_out, test_size, seed, dtype=np.int64,
                             chunks=((1,) * len(sizes),)).compute()
    n, n_test = int(sizes.sum()), int(counts.sum())
    if n_test < 1 or n - n_test < 2:
        raise CLIError(f"{n} rows are too few to hold out --test-size {test_size:g} for scoring "
                       f"(the split held out {n_test} and kept {n - n_test}); give more rows "
                       "or change --test-size.")
    parts = []
    for held, per_block in ((False, sizes - counts), (True, counts)):
        chunks = tuple(int(c) for c in per_block)
        for a in (X, y):
            parts.append(a.map_blocks(_part, test_size, seed, held, dtype=a.dtype,
                                      chunks=(chunks,) + a.chunks[1:],
                                      meta=np.empty((0,) * a.ndim, dtype=a.dtype)))
    X_train, y_train, X_test, y_test = dask.persist(*parts)
    return X_train, X_test, y_train, y_test, y_train


#: The most held-out rows :func:`score_dask` brings to the driver for the predicted-against-
#: true figure of a regression (a sample, drawn with ``--seed``).
SHOWN = 1000


def _predict(block, estimator):
    """``estimator.predict`` of one block (an empty block predicts nothing: scikit-learn's
    checks refuse zero rows)."""
    if len(block) == 0:
        return np.zeros(0, dtype=_label_dtype(estimator))
    return estimator.predict(block)


def _label_dtype(estimator):
    return getattr(estimator, "classes_", np.zeros(0)).dtype


def predictions(estimator, X):
    """``estimator.predict`` of a Dask array, lazily: one task per block, where it lives.

    Args:
        estimator: a fitted gradkit estimator (it is sent to each block's task).
        X: a 2-D Dask array chunked by rows only.

    Returns:
        dask.array.Array: the predictions, with the row chunks of ``X``; nothing is computed.

    Examples:
        >>> import dask.array as da
        >>> from gradkit.models import LinearRegression
        >>> model = LinearRegression().fit(np.arange(8.0)[:, None], 2 * np.arange(8.0))
        >>> pred = predictions(model, da.arange(8.0, chunks=4)[:, None])
        >>> pred.chunks, np.round(pred.compute()[:3], 6)
        (((4, 4),), array([0., 2., 4.]))
    """
    from gradkit.models.distributed import for_tasks

    return X.map_blocks(_predict, for_tasks(estimator), drop_axis=1, dtype=_label_dtype(estimator),
                        meta=np.zeros(0, dtype=_label_dtype(estimator)))


def score_dask(estimator, data, X_train, y_train, X_test, y_test, seed=0):
    """``(scores, shown)``: the scores of :func:`gradkit.cli.fit.run`, computed where the
    blocks live, and what the report shows of the held-out rows.

    Each block predicts its rows; a classifier's blocks reduce them to a confusion matrix
    (``bincount`` of ``true * k + predicted``, summed over the blocks), and every score
    follows from it (scikit-learn's metrics of the matrix's cells, weighted by their counts:
    the same numbers as over the rows). A regressor's blocks reduce them to the sums that
    ``R^2 = 1 - sum (y - p)^2 / sum (y - mean y)^2``, the RMSE and the MAE need (Dask's
    mean and variance, combined over the blocks). Only those reach the driver, with, for a
    regression, a sample of at most :data:`SHOWN` held-out rows for the figure.

    Args:
        estimator: the fitted estimator.
        data: the :class:`gradkit.data.tabular.Prepared` table (its spec gives the classes,
            or the target's mean and scale).
        X_train: the training rows, a Dask array with known row chunks (:func:`split_dask`).
        y_train: their targets, encoded as the spec says, with ``X_train``'s row chunks.
        X_test: the held-out rows, as ``X_train``.
        y_test: their targets, as ``y_train``.
        seed: seeds the sample of held-out rows.

    Returns:
        ``(scores, shown)``: ``scores`` a dict as on the NumPy path (``accuracy``,
        ``balanced accuracy``, ``macro F1``, ``train accuracy``, ``majority-class
        baseline``; or ``R2``, ``RMSE``, ``MAE``, ``train R2``, in the target's units), and
        ``shown`` the held-out confusion matrix (true class down, predicted across) or the
        ``(true, predicted)`` values of the sampled held-out rows in the target's units.

    Examples:
        >>> import dask.array as da
        >>> from gradkit.data.tabular import Prepared
        >>> from gradkit.models import LinearRegression
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(400, 2))
        >>> y = X @ [1.0, -1.0] + 0.1 * rng.normal(size=400)
        >>> Xd, yd = da.from_array(X, chunks=(100, 2)), da.from_array(y, chunks=100)
        >>> spec = {"target": {"task": "regression", "mean": 0.0, "scale": 1.0}}
        >>> data = Prepared(Xd, yd, ["a", "b"], spec, {})
        >>> X_train, X_test, y_train, y_test, _ = split_dask(data, 0.25, seed=0)
        >>> model = LinearRegression().fit(X_train, y_train)
        >>> scores, (true, pred) = score_dask(model, data, X_train, y_train, X_test, y_test)
        >>> sorted(scores), scores["R2"] > 0.99, len(true) == len(y_test)
        (['MAE', 'R2', 'RMSE', 'train R2'], True, True)
    """
    import dask
    import dask.array as da

    target = data.spec["target"]
    p_train, p_test = predictions(estimator, X_train), predictions(estimator, X_test)
    if target["task"] == "classification":
        k = len(target["classes"])
        cells = [da.bincount((t.astype(np.int64) * k + p.astype(np.int64)), minlength=k * k)
                 for t, p in ((y_train, p_train), (y_test, p_test))]
        train, test = (c.reshape(k, k) for c in dask.compute(*cells))
        return _classification_scores(train, test), test
    n = len(y_test)
    idx = np.sort(np.random.default_rng(seed).choice(n, size=min(SHOWN, n), replace=False))
    lazy = [(da.sum((t - p) ** 2), da.sum(abs(t - p)), t.var() * len(t))
            for t, p in ((y_train, p_train), (y_test, p_test))]
    train, test, (true, pred) = dask.compute(*lazy, (y_test[idx], p_test[idx]))
    scale, mean = target["scale"], target["mean"]
    (res_train, _, tot_train), (res, absolute, tot) = train, test
    scores = {"R2": _r2(res, tot), "RMSE": float(scale * np.sqrt(res / n)),
              "MAE": float(scale * absolute / n), "train R2": _r2(res_train, tot_train)}
    return scores, (true * scale + mean, pred * scale + mean)


def _r2(residual, total):
    """``1 - residual / total``, with scikit-learn's convention for a constant target (1 for
    a perfect fit, else 0)."""
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return float(1.0 - residual / total)


def _classification_scores(train, test):
    """The classification scores of the NumPy path from the confusion matrices of the
    training and held-out rows: scikit-learn's metrics over the matrix's nonzero cells, each
    weighted by its count, are its metrics over the rows."""
    from sklearn import metrics

    def score(metric, matrix, **options):
        true, pred = np.nonzero(matrix)
        return float(metric(true, pred, sample_weight=matrix[true, pred], **options))

    majority = int(np.argmax(train.sum(axis=1)))  # the first most frequent training class
    return {
        "accuracy": score(metrics.accuracy_score, test),
        "balanced accuracy": score(metrics.balanced_accuracy_score, test),
        "macro F1": score(metrics.f1_score, test, average="macro"),
        "train accuracy": score(metrics.accuracy_score, train),
        "majority-class baseline": float(test[majority].sum() / test.sum()),
    }
