"""Ctrl-C during a fit on Dask arrays: it stops at the next step with a complete fitted model
holding the best parameters seen, as on NumPy arrays."""
import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

from gradkit.models import LinearSVM, LogisticRegression, MLPClassifier  # noqa: E402
from gradkit.models.callbacks import Callback  # noqa: E402

MODELS = [
    LogisticRegression(max_iter=200, tol=1e-14),
    LogisticRegression(optimizer="sgd", learning_rate=0.1, batch_size=32, max_iter=100),
    LinearSVM(max_iter=300, tol=1e-14),
    MLPClassifier(hidden_layer_sizes=(6,), optimizer="lbfgs", max_iter=300, tol=1e-14,
                  random_state=0),
]
IDS = ["logistic-lbfgs", "logistic-sgd", "svm", "mlp-lbfgs"]


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                           dashboard_address=None, memory_limit="1GiB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _data(n=1600, d=5):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y, da.from_array(X, chunks=(n // 4, d)).persist(), \
        da.from_array(y, chunks=n // 4).persist()


def _objective(model, X, y):
    T = model._prepare_targets(y, fitting=False)
    loss, _ = model._objective(model.params_, model.model_state_, X, T, len(X), None,
                               train=False)
    return float(loss)


def _complete(model, X):
    for attr in ("classes_", "n_iter_", "loss_curve_", "history_", "best_loss_",
                 "n_features_in_"):
        assert hasattr(model, attr), attr
    assert model.stop_reason_ == "interrupted"
    assert np.all(np.isfinite(model.decision_function(X)))
    assert model.feature_importances_.shape == (X.shape[1],)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


class _CtrlC(Callback):
    """SIGINT to this process at the end of epoch ``at``, as a terminal's Ctrl-C."""

    def __init__(self, at):
        self.at, self.losses = at, []

    def on_epoch_end(self, info):
        self.losses.append(info.loss)
        if info.epoch == self.at:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_ctrl_c_stops_a_dask_fit_at_the_next_step_with_the_best_parameters(client, model):
    X, y, Xd, yd = _data()
    ctrl_c = _CtrlC(at=3)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model.set_params(callbacks=[ctrl_c]).fit(Xd, yd)
    model.set_params(callbacks=None)
    _complete(model, X)
    assert model.n_iter_ == 3
    assert _objective(model, X, y) <= min(ctrl_c.losses) * (1 + 1e-6) + 1e-12


@pytest.mark.parametrize("model", [MODELS[0].set_params(max_iter=100000, tol=0.0), MODELS[1]],
                         ids=IDS[:2])
def test_ctrl_c_from_another_thread_while_the_cluster_computes(client, model):
    """The signal comes while the driver waits on the cluster (mid line search, mid batch)."""
    X, y, Xd, yd = _data()
    started = threading.Event()

    class Started(Callback):
        def on_epoch_end(self, info):
            started.set()

    def press():
        started.wait(60)
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=press)
    thread.start()
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model.set_params(callbacks=[Started()]).fit(Xd, yd)
    thread.join()
    model.set_params(callbacks=None)
    _complete(model, X)
    assert 1 <= model.n_iter_ < model.max_iter
    assert model.score(X, y) > 0.8
