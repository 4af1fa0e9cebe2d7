"""How a fit ends and who may end it: stop_reason_, validation curves, callbacks, divergence,
Ctrl-C (issues 15 and 16)."""
import csv
import json
import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import gradkit as gk
from gradkit.models import (LinearRegression, LinearSVM, LogisticRegression, MLPClassifier,
                            MLPRegressor, load)
from gradkit.models.callbacks import (Callback, EarlyStopping, HistoryLogger,
                                      ReduceLROnPlateau, StopTraining)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _scaled(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


CANCER = _scaled(load_breast_cancer)
DIABETES = _scaled(load_diabetes)


def _objective(model, X, y):
    """The fitted model's full training objective J (no dropout)."""
    T = model._prepare_targets(y, fitting=False)
    loss, _ = model._objective(model.params_, model.model_state_, X, T, len(X), None,
                               train=False)
    return float(loss)


# ----------------------------------------------------------------------------- stop_reason_
@pytest.mark.parametrize("model, reason", [
    (LogisticRegression(), "converged"),
    (LogisticRegression(max_iter=3), "max_iter"),
    (LogisticRegression(optimizer="sgd", learning_rate=0.1, max_iter=5), "max_iter"),
    (LogisticRegression(optimizer="adam", learning_rate=0.05, batch_size=64, tol=1e-2,
                        n_iter_no_change=2, max_iter=500, random_state=0), "no_improvement"),
    (MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, n_iter_no_change=2,
                   max_iter=300, random_state=0), "no_improvement"),
    (LinearRegression(optimizer="sgd", learning_rate=100.0), "diverged"),
    (LinearRegression(optimizer="gd", learning_rate=100.0, max_iter=5), "max_iter"),
], ids=lambda v: v if isinstance(v, str) else f"{type(v).__name__}-{v.optimizer}")
def test_every_fit_says_why_it_stopped(model, reason):
    X, y = DIABETES if isinstance(model, LinearRegression) else CANCER
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(X, y)
    assert model.stop_reason_ == reason
    assert model.diverged_ == (reason == "diverged")


def test_a_model_file_keeps_the_stop_reason(tmp_path):
    model = LogisticRegression(max_iter=3).fit(*CANCER)
    model.save(tmp_path / "m.npz")
    assert load(tmp_path / "m.npz").stop_reason_ == "max_iter"


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("model", [
    LogisticRegression(optimizer="adam", learning_rate=0.01, batch_size=32, max_iter=8,
                       random_state=0),
    LogisticRegression(max_iter=15),
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0),
], ids=lambda m: f"{type(m).__name__}-{m.optimizer}")
def test_validation_data_is_scored_every_epoch(model):
    X, y = CANCER
    Xt, yt, Xv, yv = X[:400], y[:400], X[400:], y[400:]
    model.fit(Xt, yt, validation_data=(Xv, yv))
    h = model.history_
    n = model.n_iter_
    assert len(h["val_loss"]) == len(h["val_score"]) == len(h["val_step"]) == n > 1
    # the last epoch's numbers are the fitted model's own on the validation rows
    assert h["val_score"][-1] == pytest.approx(model.score(Xv, yv), abs=1e-12)
    assert h["val_loss"][-1] == pytest.approx(_objective_on(model, Xv, yv, len(Xt)), rel=1e-9)
    assert h["val_step"][-1] == model.t_
    assert not hasattr(model, "validation_scores_")  # scikit-learn's: early stopping only


def _objective_on(model, X, y, n_train):
    T = model._prepare_targets(y, fitting=False)
    loss, _ = model._objective(model.params_, model.model_state_, X, T, n_train, None,
                               train=False)
    return float(loss)


def test_early_stopping_records_its_held_out_loss_and_score_too():
    X, y = CANCER
    model = MLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=20,
                          random_state=0).fit(X, y)
    assert model.history_["val_score"] == model.validation_scores_
    assert len(model.history_["val_loss"]) == model.n_iter_


def test_early_stopping_uses_the_validation_data_given():
    X, y = CANCER
    Xv, yv = X[::5], y[::5]
    model = LogisticRegression(optimizer="adam", learning_rate=0.05, batch_size=32,
                               early_stopping=True, max_iter=30, random_state=0)
    model.fit(X, y, validation_data=(Xv, yv))
    assert max(model.validation_scores_) == model.best_validation_score_
    # the rows it validated on are the ones given, not a split of X
    assert model.best_validation_score_ == pytest.approx(model.score(Xv, yv), abs=1e-12)


def test_weighted_validation_data():
    X, y = DIABETES
    wv = np.linspace(0.0, 2.0, 42)
    model = LinearRegression(optimizer="sgd", learning_rate=0.05, max_iter=3)
    model.fit(X[:400], y[:400], validation_data=(X[400:], y[400:], wv))
    assert model.history_["val_score"][-1] == pytest.approx(
        model.score(X[400:], y[400:], sample_weight=wv), abs=1e-12)


@pytest.mark.parametrize("bad, message", [
    ((CANCER[0][:5],), r"validation_data must be a tuple \(X_val, y_val\)"),
    ("rows", r"validation_data must be a tuple"),
    ((CANCER[0][:5, :3], CANCER[1][:5]), r"validation_data: X has 3 features"),
    ((CANCER[0][:5], np.array([0, 1, 2, 0, 1])), r"validation_data: y contains labels \[2\]"),
    ((CANCER[0][:5], CANCER[1][:5], -np.ones(5)),
     r"validation_data: sample_weight must be >= 0"),
])
def test_bad_validation_data_is_named(bad, message):
    with pytest.raises(ValueError, match=message) as err:
        LogisticRegression().fit(*CANCER, validation_data=bad)
    assert "\n" not in str(err.value)


def test_the_report_draws_the_validation_curve():
    from gradkit import plot
    X, y = CANCER
    model = LogisticRegression(optimizer="sgd", learning_rate=0.1, max_iter=5)
    model.fit(X[:400], y[:400], validation_data=(X[400:], y[400:]))
    fig = plot.training(model.history_)
    labels = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
    assert "validation loss" in labels


# ----------------------------------------------------------------------------- callbacks
class _Recorder(Callback):
    def __init__(self, stop_at=None):
        self.infos, self.began, self.ended, self.stop_at = [], 0, None, stop_at

    def on_train_begin(self, info):
        self.began += 1

    def on_epoch_end(self, info):
        self.infos.append(dict(info))
        return self.stop_at is not None and info.epoch >= self.stop_at

    def on_train_end(self, info):
        self.ended = info["stop_reason"]


@pytest.mark.parametrize("model", [
    LinearRegression(optimizer="sgd", learning_rate=0.01, batch_size=32, max_iter=6),
    LinearRegression(max_iter=50),
    MLPRegressor(hidden_layer_sizes=(4,), learning_rate=0.01, max_iter=6, random_state=0),
], ids=lambda m: f"{type(m).__name__}-{m.optimizer}")
def test_callbacks_see_every_epoch_and_may_stop(model):
    X, y = DIABETES
    seen = _Recorder()
    model.set_params(callbacks=[seen]).fit(X, y)
    assert seen.began == 1 and seen.ended == model.stop_reason_
    assert [i["epoch"] for i in seen.infos] == list(range(1, model.n_iter_ + 1))
    assert [i["loss"] for i in seen.infos] == pytest.approx(
        model.loss_curve_[-model.n_iter_:], rel=1e-12)
    assert all(i["estimator"] is model for i in seen.infos)
    stochastic = model.optimizer == "sgd" or isinstance(model, MLPRegressor)
    assert all((i["lr"] is not None) == stochastic for i in seen.infos)
    stopper = _Recorder(stop_at=2)
    model.set_params(callbacks=[stopper]).fit(X, y)
    assert model.stop_reason_ == "callback" and model.n_iter_ == 2
    assert stopper.ended == "callback"


def test_stop_training_raised_by_a_callback_stops_cleanly():
    class Raise(Callback):
        def on_epoch_end(self, info):
            if info.epoch == 3:
                raise StopTraining
    model = LogisticRegression(optimizer="sgd", learning_rate=0.1, max_iter=50,
                               callbacks=[Raise()]).fit(*CANCER)
    assert model.stop_reason_ == "callback" and model.n_iter_ == 3
    assert hasattr(model, "coef_") and model.score(*CANCER) > 0.9


def test_early_stopping_callback_restores_the_best_weights():
    X, y = CANCER
    Xt, yt, Xv, yv = X[:300], y[:300], X[300:], y[300:]
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model = MLPClassifier(hidden_layer_sizes=(64,), learning_rate=0.05, max_iter=300,
                          random_state=0, callbacks=[stop])
    model.fit(Xt, yt, validation_data=(Xv, yv))
    assert model.stop_reason_ == "callback"
    val = model.history_["val_loss"]
    assert stop.stopped_epoch == len(val) and stop.best == min(val)
    assert int(np.argmin(val)) + 1 == stop.best_epoch < stop.stopped_epoch
    # the model holds the best epoch's parameters, and coefs_ agree with them
    assert _objective_on(model, Xv, yv, len(Xt)) == pytest.approx(min(val), rel=1e-9)
    np.testing.assert_array_equal(model.coefs_[0], model.params_["00_linear"]["W"])


def test_reduce_lr_on_plateau_lowers_the_rate_the_optimizer_uses():
    X, y = DIABETES
    rlr = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9)
    model = LinearRegression(optimizer="sgd", learning_rate=0.01, batch_size=None,
                             max_iter=4, callbacks=[rlr]).fit(X, y)
    # after the first epoch every epoch is "no improvement" (min_delta huge): the rate halves
    # after each, and the next step takes the halved rate
    assert rlr.reductions == [(2, pytest.approx(0.005)), (3, pytest.approx(0.0025)),
                              (4, pytest.approx(0.00125))]
    assert model.history_["learning_rate"] == pytest.approx([0.01, 0.01, 0.005, 0.0025])


def test_reduce_lr_on_plateau_scales_a_given_transformation_and_a_schedule():
    X, y = DIABETES
    steps = []

    class Steps(Callback):
        def on_epoch_end(self, info):
            steps.append(info.params["coef"].copy())

    rlr = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9)
    model = LinearRegression(optimizer=gk.optim.sgd(0.01), max_iter=3,
                             callbacks=[rlr, Steps()]).fit(X, y)
    ref = LinearRegression(optimizer="sgd", learning_rate=0.01, max_iter=3,
                           callbacks=[ReduceLROnPlateau(monitor="loss", factor=0.5,
                                                        patience=0, min_delta=1e9)]).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-12)
    assert len(rlr.reductions) == 2


def test_reduce_lr_on_plateau_scales_a_schedule_keeping_its_shape():
    X, y = DIABETES
    schedule = gk.optim.exponential_decay(0.01, decay_rate=0.9, transition_steps=1)
    rlr = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=1e9)
    model = LinearRegression(optimizer="sgd", learning_rate=schedule, max_iter=4,
                             callbacks=[rlr]).fit(X, y)
    plain = [schedule(k) for k in range(4)]
    scale = [1.0, 1.0, 0.5, 0.25]  # halved after epochs 2 and 3
    assert model.history_["learning_rate"] == pytest.approx(
        [r * f for r, f in zip(plain, scale)], rel=1e-12)


def test_warm_start_continues_the_validation_curves():
    X, y = CANCER
    model = LogisticRegression(optimizer="sgd", learning_rate=0.1, max_iter=3,
                               warm_start=True)
    model.fit(X[:400], y[:400], validation_data=(X[400:], y[400:]))
    model.fit(X[:400], y[:400], validation_data=(X[400:], y[400:]))
    h = model.history_
    assert len(h["val_loss"]) == len(h["val_score"]) == 6
    assert h["val_step"] == [1, 2, 3, 4, 5, 6]


def test_reduce_lr_on_plateau_needs_a_learning_rate():
    with pytest.raises(ValueError, match="ReduceLROnPlateau needs a gradient transformation"):
        LogisticRegression(callbacks=[ReduceLROnPlateau()]).fit(*CANCER)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_history_logger_writes_one_line_per_epoch(tmp_path, fmt):
    path = tmp_path / f"log.{fmt}"
    X, y = CANCER
    model = LogisticRegression(optimizer="sgd", learning_rate=0.1, max_iter=4,
                               callbacks=[HistoryLogger(path)])
    model.fit(X[:400], y[:400], validation_data=(X[400:], y[400:]))
    if fmt == "csv":
        rows = list(csv.DictReader(open(path)))
        assert [float(r["loss"]) for r in rows] == model.loss_curve_
        assert [float(r["val_score"]) for r in rows] == model.history_["val_score"]
    else:
        rows = [json.loads(line) for line in open(path)]
        assert [r["val_loss"] for r in rows] == model.history_["val_loss"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]


def test_history_logger_neutralises_csv_cells(tmp_path):
    path = tmp_path / "log.csv"
    Evil = type("=HYPERLINK(\"http://x\")", (LinearRegression,), {})
    log = HistoryLogger(path)
    from gradkit.models.callbacks import EpochInfo
    log.on_train_begin(EpochInfo(estimator=Evil()))
    log.on_epoch_end(EpochInfo(epoch=1, step=1, loss=-1.5, val_loss=None, val_score=None,
                               lr=0.1))
    log.on_train_end(EpochInfo())
    rows = list(csv.reader(open(path)))
    assert rows[1][0].startswith("'=")  # a formula no spreadsheet runs
    assert rows[1][3] == "'-1.5"


def test_an_estimator_with_callbacks_clones_pickles_and_saves(tmp_path):
    import pickle
    from sklearn.base import clone
    model = LogisticRegression(optimizer="sgd", max_iter=2,
                               callbacks=[EarlyStopping(), HistoryLogger(tmp_path / "l.csv")])
    model.fit(*CANCER)
    assert len(clone(model).callbacks) == 2
    assert pickle.loads(pickle.dumps(model)).n_iter_ == 2
    model.save(tmp_path / "m.npz")
    assert load(tmp_path / "m.npz").callbacks is None


def test_callbacks_must_have_the_protocol():
    with pytest.raises(ValueError, match="The 'callbacks' parameter .* a list of callbacks"):
        LogisticRegression(callbacks=[print]).fit(*CANCER)


# ----------------------------------------------------------------------------- divergence
@pytest.mark.parametrize("model", [
    LinearRegression(optimizer="sgd", learning_rate=100.0),
    LinearRegression(optimizer="sgd", learning_rate=3.0, batch_size=32, random_state=0),
    LinearRegression(optimizer="momentum", learning_rate=1.0, max_iter=200),
    MLPRegressor(hidden_layer_sizes=(8,), optimizer="sgd", learning_rate=0.5, max_iter=50,
                 random_state=0),
], ids=lambda m: f"{type(m).__name__}-{m.optimizer}-{m.learning_rate}-{m.batch_size}")
def test_an_exploding_run_is_caught_before_inf_and_keeps_its_best_parameters(model):
    X, y = DIABETES
    seen = []  # the full objective J at the start and at the end of every epoch

    class Watch(Callback):
        def on_train_begin(self, info):
            seen.append(_objective(info.estimator, X, y))

        def on_epoch_end(self, info):
            est = info.estimator
            kept, est.params_ = est.params_, info.params
            seen.append(_objective(est, X, y))
            est.params_ = kept

    with pytest.warns(RuntimeWarning, match="diverged at step"):
        model.set_params(callbacks=[Watch()]).fit(X, y)
    assert model.diverged_ and model.stop_reason_ == "diverged"
    assert model.diverged_at_ is not None
    kept = _objective(model, X, y)
    # the kept parameters are points the run went through (its start or an epoch's end), and
    # not the explosion: no worse than DIVERGENCE_FACTOR times the best of them
    finite = [v for v in seen if np.isfinite(v)]
    assert any(kept == pytest.approx(v, rel=1e-9) for v in finite), (kept, seen)
    assert kept < 1e3 * min(finite)
    assert np.all(np.isfinite(model.predict(X)))


def test_issue_16_sgd_at_learning_rate_100_keeps_the_best_model():
    X, y = DIABETES
    with pytest.warns(RuntimeWarning, match="best parameters seen"):
        model = LinearRegression(optimizer="sgd", learning_rate=100.0).fit(X, y)
    assert model.diverged_
    # today: R^2 = -4e49 with diverged_=False; the best point seen is the start (zeros)
    assert model.score(X, y) > -5.0
    assert _objective(model, X, y) == pytest.approx(min(model.history_["loss"]))


def test_a_full_batch_solver_that_explodes_stops_with_its_best_point():
    # gd with a fixed huge step explodes (the line search is off)
    X, y = DIABETES
    watched = _Recorder()
    model = LinearRegression(optimizer="subgradient", max_iter=200, penalty="l2", alpha=0.0,
                             callbacks=[watched])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(X * 1e3, y)
    losses = [i["loss"] for i in watched.infos]
    if model.diverged_:
        assert model.stop_reason_ == "diverged"
        assert _objective(model, X * 1e3, y) <= min(losses) * (1 + 1e-9)
    else:  # the solver kept its loss within bounds: nothing to catch
        assert max(losses) < 1e3 * min(losses)


def test_the_parameter_norm_explosion_is_caught_too():
    from gradkit.models.base import _exploded
    # loss still fine, parameters 1e4 times their norm at the best loss
    assert _exploded(1.0, 2.0, 0.9, 1e4, 1.0)
    assert not _exploded(1.0, 2.0, 0.9, 10.0, 1.0)
    assert _exploded(1e4, 2.0, 1.0, None, None)  # loss 1e4 x its best, above its first
    assert not _exploded(1e-3, 2.0, 1e-7, None, None)  # below the first loss: converging


def test_on_nan_raise_still_raises():
    with pytest.raises(FloatingPointError, match="diverged"):
        LinearRegression(optimizer="sgd", learning_rate=100.0, on_nan="raise").fit(*DIABETES)


# ----------------------------------------------------------------------------- Ctrl-C
class _CtrlC(Callback):
    """Sends SIGINT to this process at the end of epoch ``at`` (as a terminal's Ctrl-C)."""

    def __init__(self, at):
        self.at, self.losses = at, []

    def on_epoch_end(self, info):
        self.losses.append(info.loss)
        if info.epoch == self.at:
            os.kill(os.getpid(), signal.SIGINT)


PUBLIC = {LinearRegression: ("coef_", "intercept_"), LogisticRegression: ("coef_", "classes_"),
          LinearSVM: ("coef_", "classes_"),
          MLPClassifier: ("coefs_", "intercepts_", "n_layers_", "classes_"),
          MLPRegressor: ("coefs_", "intercepts_", "n_layers_")}


def _complete(model, X, y):
    for attr in PUBLIC[type(model)] + ("n_iter_", "loss_curve_", "history_", "t_",
                                       "best_loss_", "n_features_in_"):
        assert hasattr(model, attr), attr
    assert model.stop_reason_ == "interrupted"
    assert np.all(np.isfinite(model.predict(X)))
    assert model.feature_importances_.shape == (X.shape[1],)
    assert model.history_["loss"]


@pytest.mark.parametrize("model", [
    LogisticRegression(optimizer="sgd", learning_rate=0.1, batch_size=32, max_iter=100),
    LogisticRegression(max_iter=200, tol=1e-12),
    LinearSVM(max_iter=500, tol=1e-12),
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=100, random_state=0),
    MLPClassifier(hidden_layer_sizes=(8,), optimizer="lbfgs", max_iter=300, tol=1e-12,
                  random_state=0),
    MLPRegressor(hidden_layer_sizes=(8,), learning_rate=0.01, max_iter=100, random_state=0),
], ids=lambda m: f"{type(m).__name__}-{m.optimizer}")
def test_ctrl_c_stops_at_the_next_step_with_a_complete_fitted_model(model):
    X, y = DIABETES if isinstance(model, MLPRegressor) else CANCER
    ctrl_c = _CtrlC(at=4)
    model.set_params(callbacks=[ctrl_c])
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model.fit(X, y)
    _complete(model, X, y)
    assert model.n_iter_ == 4  # stopped right after the epoch (iteration) of the Ctrl-C
    # the best parameters so far: no worse than the best epoch seen
    assert _objective(model, X, y) <= min(ctrl_c.losses) * (1 + 1e-6) + 1e-12
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


@pytest.mark.parametrize("model", [
    LogisticRegression(optimizer="sgd", learning_rate=0.01, batch_size=1, max_iter=1000),
    LogisticRegression(optimizer="lbfgs", max_iter=100000, tol=0.0),
    MLPClassifier(hidden_layer_sizes=(32,), batch_size=4, max_iter=1000, random_state=0),
], ids=lambda m: f"{type(m).__name__}-{m.optimizer}-{m.batch_size}")
def test_ctrl_c_from_another_thread_during_a_running_fit(model):
    # the signal arrives at any moment, mid-epoch or mid-line-search, as a real Ctrl-C does;
    # a slow callback (10 ms an epoch) keeps the fit running until it comes
    X, y = CANCER
    started = threading.Event()

    class Slow(Callback):
        def on_epoch_end(self, info):
            started.set()
            time.sleep(0.01)

    def press():
        started.wait(30)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=press)
    thread.start()
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model.set_params(callbacks=[Slow()]).fit(X, y)
    thread.join()
    _complete(model, X, y)
    assert 1 <= model.n_iter_ < model.max_iter
    assert model.score(X, y) > 0.8  # it trained until the Ctrl-C, and kept it


def test_a_keyboard_interrupt_raised_inside_fit_is_handled_too():
    class Raise(Callback):
        def on_epoch_end(self, info):
            if info.epoch == 3:
                raise KeyboardInterrupt

    for model in (LogisticRegression(optimizer="adam", learning_rate=0.05, max_iter=50),
                  LogisticRegression(max_iter=50, tol=1e-12)):
        with pytest.warns(RuntimeWarning, match="interrupted"):
            model.set_params(callbacks=[Raise()]).fit(*CANCER)
        _complete(model, *CANCER)
        assert model.n_iter_ in (2, 3)


def test_a_ctrl_c_after_the_last_step_goes_on_once_the_estimator_is_complete():
    class Late(Callback):
        def on_train_end(self, info):
            os.kill(os.getpid(), signal.SIGINT)

    model = LogisticRegression(optimizer="sgd", max_iter=3, callbacks=[Late()])
    with pytest.raises(KeyboardInterrupt):
        model.fit(*CANCER)
    assert model.stop_reason_ == "max_iter"  # training itself had ended
    assert model.coef_.shape == (1, 30) and model.feature_importances_.shape == (30,)


def test_early_stopping_restores_batch_norm_statistics_with_the_weights():
    X, y = CANCER
    stop = EarlyStopping(monitor="loss", patience=0, min_delta=1e9, restore_best_weights=True)
    model = MLPClassifier(hidden_layer_sizes=(4,), batch_norm=True, max_iter=20,
                          random_state=0, callbacks=[stop]).fit(X, y)
    assert stop.best_epoch == 1 and model.n_iter_ == 2
    params, state = stop.best_params
    np.testing.assert_array_equal(model.params_["00_linear"]["W"], params["00_linear"]["W"])
    np.testing.assert_array_equal(model.model_state_["01_batchnorm"]["mean"],
                                  state["01_batchnorm"]["mean"])


def test_a_second_ctrl_c_interrupts_at_once():
    class Twice(Callback):
        def on_epoch_end(self, info):
            if info.epoch == 2:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        LogisticRegression(optimizer="sgd", max_iter=50, callbacks=[Twice()]).fit(*CANCER)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_programs_own_sigint_handler_is_left_alone():
    calls = []
    previous = signal.signal(signal.SIGINT, lambda *a: calls.append(a))
    try:
        LogisticRegression(optimizer="sgd", max_iter=3, callbacks=[_CtrlC(at=1)]).fit(*CANCER)
        assert calls and signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_sent_to_a_python_process_running_fit(tmp_path):
    # as a terminal does: SIGINT from outside, to a process in the middle of a long fit
    import subprocess
    import sys
    script = tmp_path / "fit.py"
    script.write_text(
        "import sys, warnings\n"
        "from sklearn.datasets import load_breast_cancer\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "from gradkit.models import LogisticRegression, Callback\n"
        "X, y = load_breast_cancer(return_X_y=True); X = StandardScaler().fit_transform(X)\n"
        "class Started(Callback):\n"
        "    def on_epoch_end(self, info):\n"
        "        if info.epoch == 1:\n"
        "            print('started', flush=True)\n"
        "m = LogisticRegression(optimizer='sgd', learning_rate=0.001, batch_size=1,\n"
        "                       max_iter=100000, n_iter_no_change=1000, tol=0.0,\n"
        "                       callbacks=[Started()])\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    m.fit(X, y)\n"
        "print(m.stop_reason_, m.n_iter_, round(m.score(X, y), 3),\n"
        "      any('interrupted' in str(w.message) for w in caught), flush=True)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "started"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    reason, epochs, score, warned = out.split()
    assert reason == "interrupted" and 1 <= int(epochs) < 100000
    assert float(score) > 0.9 and warned == "True"
