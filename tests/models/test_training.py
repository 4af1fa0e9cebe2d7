"""The training loop: gradient types, divergence, stopping, warm starts, penalties, history."""
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import gradkit as gk
from gradkit.models import (LinearRegression, LinearSVM, LogisticRegression, MLPClassifier,
                            MLPRegressor)
from gradkit.optim import adam, exponential_decay

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _scaled(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


CANCER = _scaled(load_breast_cancer)
DIABETES = _scaled(load_diabetes)


# ----------------------------------------------------------------------------- gradient types
def test_full_batch_line_search_loss_is_monotone():
    model = LogisticRegression(optimizer="lbfgs", tol=1e-8, max_iter=200).fit(*CANCER)
    curve = np.array(model.loss_curve_)
    assert len(curve) > 5
    assert np.all(np.diff(curve) <= 1e-12)


def _roughness(losses):
    """Variance of the successive differences of the per-step losses over the second half of
    a run (past the initial descent): the noise of the curve."""
    return float(np.var(np.diff(losses[len(losses) // 2:])))


def test_stochastic_and_mini_batch_converge_in_expectation_with_noisier_curves():
    X, y = CANCER
    optimum = LogisticRegression(tol=1e-8, max_iter=500).fit(X, y).loss_curve_[-1]
    runs = {bs: LogisticRegression(optimizer="sgd", learning_rate=0.1, batch_size=bs,
                                   max_iter=10, random_state=0, record_every=1).fit(X, y)
            for bs in (None, 32, 1)}
    for bs, model in runs.items():
        assert model.loss_curve_[-1] < model.loss_curve_[0], bs
    for bs in (32, 1):  # in ten epochs the noisy steps reach the minimum of the full objective
        final, _ = runs[bs]._objective(runs[bs].params_, {}, X, y[:, None].astype(float),
                                       len(X), None, train=False)
        assert final - optimum < 0.03, bs
    noise = {bs: _roughness(m.history_["loss"]) for bs, m in runs.items()}
    # the fewer rows per gradient, the noisier the step-by-step loss
    assert noise[None] < noise[32] < noise[1]
    steps = {bs: len(m.history_["loss"]) for bs, m in runs.items()}
    assert steps == {None: 10, 32: 10 * 18, 1: 10 * 569}


# ----------------------------------------------------------------------------- divergence
def _diverging(**kwargs):
    return LinearRegression(optimizer="sgd", learning_rate=1e3, batch_size=32, max_iter=20,
                            random_state=0, **kwargs)


def test_divergence_stops_training_with_a_warning_and_keeps_the_best_parameters():
    X, y = DIABETES
    with pytest.warns(RuntimeWarning, match="best parameters seen"):
        model = _diverging().fit(X, y)
    assert model.diverged_ and model.stop_reason_ == "diverged"
    assert model.diverged_at_ == len(model.history_["loss"]) + 1
    assert np.all(np.isfinite(model.history_["loss"]))
    assert all(np.all(np.isfinite(leaf)) for leaf in gk.tree.tree_leaves(model.params_))
    assert np.all(np.isfinite(model.predict(X)))  # still usable
    # the run exploded within its first epoch: the kept parameters are those it started
    # from, the lowest loss seen, not the last finite step's (issue 16)
    for group, norms in model.history_["param_norm"].items():
        assert np.linalg.norm(model.params_[group]) == pytest.approx(norms[0])


def test_on_nan_raise():
    with pytest.raises(FloatingPointError, match="learning_rate"):
        _diverging(on_nan="raise").fit(*DIABETES)


def test_clip_norm_bounds_every_step():
    X, y = DIABETES
    model = LinearRegression(optimizer="sgd", learning_rate=1.0, clip_norm=0.01,
                             max_iter=1).fit(X, y)
    step = np.sqrt(np.sum(model.coef_ ** 2) + model.intercept_ ** 2)
    assert 0 < step <= 0.01 + 1e-12
    assert not model.diverged_


# ----------------------------------------------------------------------------- stopping
def test_early_stopping_keeps_the_best_validation_score():
    X, y = _scaled(load_digits)
    model = MLPClassifier(hidden_layer_sizes=(32,), learning_rate=0.01, early_stopping=True,
                          n_iter_no_change=3, max_iter=200, random_state=0).fit(X, y)
    assert model.n_iter_ < 200
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.score(X, y) > 0.95


def test_tol_and_n_iter_no_change_stop_a_converged_run():
    model = LogisticRegression(optimizer="adam", learning_rate=0.05, batch_size=64, tol=1e-2,
                               n_iter_no_change=2, max_iter=500, random_state=0).fit(*CANCER)
    assert model.n_iter_ < 100
    assert model.best_loss_ == min(model.loss_curve_)


# ----------------------------------------------------------------------------- warm starts
def test_warm_start_continues_from_the_last_solution():
    model = LogisticRegression(optimizer="sgd", learning_rate=0.01, max_iter=5,
                               warm_start=True, random_state=0)
    model.fit(*CANCER)
    first = list(model.loss_curve_)
    model.fit(*CANCER)
    assert model.loss_curve_[:5] == first and len(model.loss_curve_) == 10
    assert model.loss_curve_[5] < first[0]
    assert len(model.history_["loss"]) == 10


def test_warm_start_of_a_converged_full_batch_solve_takes_few_iterations():
    model = LogisticRegression(warm_start=True).fit(*CANCER)
    model.fit(*CANCER)
    assert model.n_iter_ <= 2


def test_partial_fit_learns_one_epoch_per_call():
    X, y = _scaled(load_digits)
    model = MLPClassifier(hidden_layer_sizes=(32,), learning_rate=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    for _ in range(5):
        model.partial_fit(X, y, classes=np.arange(10))
    assert model.n_iter_ == 5 and len(model.loss_curve_) == 5
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.score(X, y) > 0.9
    regressor = LinearRegression(optimizer="sgd", learning_rate=0.05, batch_size=16,
                                 random_state=0)
    for _ in range(5):
        regressor.partial_fit(*DIABETES)
    assert regressor.score(*DIABETES) > 0.4


def test_partial_fit_exists_only_for_stochastic_optimizers():
    assert not hasattr(LogisticRegression(), "partial_fit")
    assert hasattr(LogisticRegression(optimizer="sgd"), "partial_fit")
    assert hasattr(MLPRegressor(), "partial_fit")


# ----------------------------------------------------------------------------- penalties
@pytest.mark.parametrize("model", [
    LogisticRegression(penalty="l1", alpha=30.0),
    LogisticRegression(penalty="elasticnet", l1_ratio=0.9, alpha=30.0),
    LinearRegression(penalty="l1", alpha=3000.0),
    LinearSVM(penalty="l1", alpha=30.0),
], ids=lambda m: f"{type(m).__name__}-{m.penalty}")
def test_l1_gives_sparse_coefficients(model):
    X, y = CANCER if is_classifier(model) else DIABETES
    coef = model.fit(X, y).coef_
    dense = np.count_nonzero(type(model)(penalty="l2", alpha=model.alpha).fit(X, y).coef_)
    assert np.sum(coef == 0.0) >= 3
    assert np.count_nonzero(coef) < dense


# ----------------------------------------------------------------------------- what is recorded
@pytest.mark.parametrize("model, groups", [
    (LogisticRegression(optimizer="sgd", max_iter=3), ["coef", "intercept"]),
    (LogisticRegression(), ["coef", "intercept"]),
    (MLPClassifier(hidden_layer_sizes=(8, 8), max_iter=3, batch_norm=True),
     ["00_linear", "01_batchnorm", "03_linear", "04_batchnorm", "06_linear"]),
], ids=["sgd", "lbfgs", "mlp"])
def test_history_records_loss_rate_and_gradient_norm_per_group(model, groups):
    model.fit(*CANCER)
    h = model.history_
    assert sorted(h["grad_norm"]) == sorted(groups)
    n = len(h["step"])
    assert n > 0 and len(h["loss"]) == n
    assert all(len(v) == n for v in h["grad_norm"].values())
    if model.optimizer != "auto":
        assert h["learning_rate"][0] == model.learning_rate


def test_forward_is_differentiable_in_X():
    X, y = DIABETES
    model = LinearRegression().fit(X, y)
    saliency = gk.grad(lambda Z: np.sum(model._forward(Z)))(X[:3])
    np.testing.assert_allclose(saliency, np.tile(model.coef_, (3, 1)))
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(*CANCER)
    np.testing.assert_allclose(clf._forward(CANCER[0][:4])[:, 0],
                               clf.decision_function(CANCER[0][:4]))


def test_any_transformation_and_schedules():
    schedule = exponential_decay(0.1, transition_steps=10, decay_rate=0.5)
    for model in (LogisticRegression(optimizer=adam(0.01), batch_size=64, max_iter=10),
                  LogisticRegression(optimizer="momentum", learning_rate=schedule,
                                     batch_size=64, max_iter=10)):
        assert model.fit(*CANCER).score(*CANCER) > 0.95
    assert model.history_["learning_rate"][-1] < 0.1


@pytest.mark.parametrize("clip_norm", [None, 1.0])
def test_a_plain_user_transformation_trains_although_the_loop_passes_value(clip_norm):
    # a GradientTransformation whose update takes no keywords; the loop calls it with value=
    def update(updates, state, params=None):
        return gk.tree.tree_map(lambda g: -0.1 * g, updates), state

    plain = gk.optim.GradientTransformation(gk.optim.init_empty_state, update)
    model = LogisticRegression(optimizer=plain, batch_size=64, max_iter=10, clip_norm=clip_norm)
    assert model.fit(*CANCER).score(*CANCER) > 0.95


@pytest.mark.parametrize("optimizer, unit", [("sgd", "epoch"), ("lbfgs", "iteration")])
def test_verbose_shows_a_progress_bar_with_epoch_loss_and_gradient_norm(optimizer, unit, capsys):
    model = LogisticRegression(optimizer=optimizer, max_iter=3, verbose=True).fit(*CANCER)
    bar = capsys.readouterr().err
    # the last step's loss and global gradient norm (over every parameter group)
    h = model.history_
    grad_norm = np.sqrt(sum(norms[-1] ** 2 for norms in h["grad_norm"].values()))
    assert f"{unit}=3, loss={h['loss'][-1]:.4g}, grad_norm={grad_norm:.3g}" in bar
    LogisticRegression(optimizer=optimizer, max_iter=3).fit(*CANCER)
    assert capsys.readouterr().err == ""  # no bar unless verbose


def test_estimators_pickle():
    model = MLPClassifier(hidden_layer_sizes=(8,), batch_norm=True, max_iter=3,
                          random_state=0).fit(*CANCER)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(CANCER[0]), model.predict_proba(CANCER[0]))


# ----------------------------------------------------------------------------- bad settings
@pytest.mark.parametrize("model, message", [
    (LogisticRegression(optimizer="newtonian"), "optimizer='newtonian'"),
    (LogisticRegression(batch_size=0), "batch_size=0"),
    (LogisticRegression(penalty="l3"), "penalty='l3'"),
    (LogisticRegression(alpha=-1.0), "alpha=-1.0"),
    (LogisticRegression(l1_ratio=2), "l1_ratio=2"),
    (LogisticRegression(max_iter=0), "max_iter=0"),
    (LogisticRegression(on_nan="ignore"), "on_nan='ignore'"),
    (LogisticRegression(clip_norm=-1), "clip_norm=-1"),
    (LogisticRegression(learning_rate=0), "learning_rate=0"),
    (LogisticRegression(tol=-1), "tol=-1"),
    (LogisticRegression(validation_fraction=1.5), "validation_fraction=1.5"),
    (LinearSVM(loss="log"), "loss='log'"),
    (MLPClassifier(activation="swish"), "activation='swish'"),
    (MLPClassifier(hidden_layer_sizes=(0,)), r"hidden_layer_sizes=\(0,\)"),
    (MLPClassifier(dropout=1.0), "dropout=1.0"),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_bad_settings_name_the_parameter_and_the_value(model, message):
    with pytest.raises(ValueError, match=message):
        model.fit(*CANCER)


def test_single_class_is_refused():
    with pytest.raises(ValueError, match="one class"):
        LogisticRegression().fit(CANCER[0][:10], np.zeros(10))


def test_no_warning_when_converged():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LogisticRegression().fit(*CANCER)


# ----------------------------------------------------------------------------- every optimizer
@pytest.mark.parametrize("optimizer", ["lbfgs", "bfgs", "newton", "newton-cg", "gd", "proximal",
                                       "subgradient", "sgd", "momentum", "nesterov", "adagrad",
                                       "rmsprop", "adam", "adamw", "adamax", "nadam"])
def test_every_optimizer_fits_multinomial_logistic_regression(optimizer):
    X, y = _scaled(load_digits)
    X, y = X[:600], y[:600]
    model = LogisticRegression(optimizer=optimizer, learning_rate=0.01, batch_size=64,
                               max_iter=40, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.95
    assert model.coef_.shape == (10, 64) and not model.diverged_


def test_bad_settings_say_what_the_parameter_must_be():
    with pytest.raises(ValueError, match=r"The 'max_iter' parameter of LogisticRegression must "
                       r"be an int in the range \[1, inf\)\. Got max_iter=0 instead\."):
        LogisticRegression(max_iter=0).fit(*CANCER)


def _every_parameter():
    for model in (LinearRegression(), LogisticRegression(), LinearSVM(),
                  MLPClassifier(hidden_layer_sizes=(4,)), MLPRegressor(hidden_layer_sizes=(4,))):
        assert set(model._parameter_constraints) == set(model.get_params())  # one entry each
        for name in model.get_params():
            yield pytest.param(model, name, id=f"{type(model).__name__}-{name}")


@pytest.mark.parametrize("model, name", list(_every_parameter()))
def test_every_parameter_is_checked_by_fit_and_partial_fit(model, name):
    # as scikit-learn's check_param_validation: a value of no valid type is refused by name
    from sklearn.base import clone
    from sklearn.utils._param_validation import InvalidParameterError

    bad = type("BadType", (), {"__repr__": lambda self: "BadType()"})()
    model = clone(model).set_params(**{name: bad})
    X, y = CANCER[0][:40], CANCER[1][:40]
    methods = [model.fit] + ([model.partial_fit] if hasattr(model, "partial_fit") else [])
    for method in methods:
        kwargs = {"classes": [0, 1]} if method == getattr(model, "partial_fit", None) and \
            is_classifier(model) else {}
        with pytest.raises(InvalidParameterError,
                           match=rf"The '{name}' parameter of {type(model).__name__} must be "
                                 rf".* Got {name}=BadType\(\) instead\."):
            method(X, y, **kwargs)


# ----------------------------------------------------------------------------- optimizer kind
@pytest.mark.parametrize("model, kind, optimizer", [
    (LogisticRegression(), "minimize", "lbfgs"),
    (LogisticRegression(penalty="l1"), "minimize", "proximal"),
    (LinearSVM(loss="hinge"), "minimize", "subgradient"),
    (LogisticRegression(optimizer="newton-cg"), "minimize", "newton-cg"),
    (MLPClassifier(), "transform", None),
    (LogisticRegression(optimizer=adam(0.1)), "transform", None),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_optimizer_kind_says_how_fit_will_minimize(model, kind, optimizer):
    got = model.optimizer_kind()
    assert got.kind == kind
    if kind == "minimize":
        assert got.optimizer == optimizer
    else:
        assert isinstance(got.optimizer, gk.optim.GradientTransformation)


def test_optimizer_kind_chains_clipping_and_checks_its_settings():
    params = {"w": np.array([3.0, 4.0])}
    tx = LogisticRegression(optimizer="sgd", learning_rate=1.0, clip_norm=1.0).optimizer_kind()
    updates, _ = tx.optimizer.update(params, tx.optimizer.init(params), params)
    assert np.isclose(np.linalg.norm(updates["w"]), 1.0)  # clipped to norm 1, then the step
    with pytest.raises(ValueError, match="optimizer='newtonian'"):
        LogisticRegression(optimizer="newtonian").optimizer_kind()


# ----------------------------------------------------------------------------- the loop's parts
def test_prepare_targets_leaves_the_number_of_outputs_to_fit():
    X, y = _scaled(load_digits)
    model = LogisticRegression(max_iter=5).fit(X[:200], y[:200])
    before = model._n_outputs
    T = model._prepare_targets(np.array([0, 1, 0]), fitting=False)
    assert T.shape == (3, 10) and model._n_outputs == before
    T = LogisticRegression()._prepare_targets(np.array([0, 1, 1]), fitting=True)
    assert T.shape == (3, 1)
    reg = LinearRegression()
    reg._prepare_targets(np.zeros((4, 3)), fitting=True)
    assert not hasattr(reg, "_n_outputs")
    assert reg.fit(np.eye(4), np.zeros((4, 3)))._n_outputs == 3


def test_progress_hook_is_ready_before_the_first_step_and_closed_after_an_error(monkeypatch):
    from gradkit.models import base

    bars = []

    class Bar:
        def __init__(self, **kwargs):
            self.unit, self.updates, self.closed = kwargs["unit"], 0, False
            bars.append(self)

        def update(self, k):
            self.updates += k

        def set_postfix(self, values):
            self.postfix = values

        def close(self):
            self.closed = True

    import tqdm.auto
    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    model = LogisticRegression(optimizer="lbfgs", max_iter=4, verbose=True).fit(*CANCER)
    assert bars[-1].updates == model.n_iter_ and bars[-1].closed
    with pytest.raises(FloatingPointError):
        _diverging(on_nan="raise", verbose=True).fit(*DIABETES)
    assert bars[-1].closed  # the bar does not outlive a failed fit
    with base._Progress(LogisticRegression(), 3, "epoch") as quiet:
        quiet.update(1, 0.5, {"w": np.ones(2)})  # verbose=False: does nothing at all
    assert quiet.bar is None


@pytest.mark.parametrize("fit", [
    lambda: LogisticRegression(max_iter=2).fit(*CANCER),
    lambda: LogisticRegression(optimizer="sgd", max_iter=2).fit(*CANCER),
    lambda: _diverging().fit(*DIABETES),
    lambda: LinearRegression(optimizer="sgd", learning_rate=1e3, batch_size=1).partial_fit(
        *DIABETES),
], ids=["full-batch", "stochastic", "diverged", "partial_fit"])
def test_warnings_point_at_the_users_call(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    assert caught and all(w.filename == __file__ for w in caught), \
        [(w.filename, str(w.message)) for w in caught]


@pytest.mark.parametrize("sizes", [([],), (3, [2]), ((4, 4),)])
def test_a_nested_layer_size_list_is_refused_by_name(sizes):
    """Found by the model-file fuzzer: ([],) passed the size check (its ravel is empty)."""
    from sklearn.utils._param_validation import InvalidParameterError
    with pytest.raises(InvalidParameterError, match="hidden_layer_sizes"):
        MLPClassifier(hidden_layer_sizes=sizes, max_iter=2).fit(*CANCER)
