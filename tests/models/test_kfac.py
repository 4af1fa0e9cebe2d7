"""``optimizer="kfac"`` on the MLP estimators: K-FAC's step (gradkit.nn.kfac) in the training
loop, on the estimator's own loss."""
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from gradkit.models import LogisticRegression, MLPClassifier, MLPRegressor
from gradkit.nn.kfac import capture, kfac
from gradkit.optim import GradientTransformation, apply_updates

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_DIGITS, Y_DIGITS = X_DIGITS[:500] / 16.0, Y_DIGITS[:500]
X_CANCER, Y_CANCER = load_breast_cancer(return_X_y=True)
X_CANCER = StandardScaler().fit_transform(X_CANCER)
X_WAVE = np.random.default_rng(0).normal(size=(300, 3))  # a smooth target, no noise
Y_WAVE = np.sin(2 * X_WAVE[:, 0]) + X_WAVE[:, 1] * X_WAVE[:, 2]
KFAC = dict(optimizer="kfac", learning_rate=0.1, batch_size=64, random_state=0)


@pytest.mark.parametrize("model, X, y, chance, wanted", [
    (MLPClassifier((16,), max_iter=10, **KFAC), X_DIGITS, Y_DIGITS, 0.1, 0.95),
    (MLPClassifier((8,), max_iter=10, **KFAC), X_CANCER, Y_CANCER, 0.63, 0.97),
    (MLPRegressor((16,), max_iter=30, **KFAC), X_WAVE, Y_WAVE, 0.0, 0.9),
], ids=["ten classes", "two classes", "regression"])
def test_kfac_fits_beyond_chance_and_the_loss_decreases(model, X, y, chance, wanted):
    # chance: the majority class's share (the R^2 of the mean for the regressor)
    model.fit(X, y)
    assert model.loss_curve_[-1] < 0.5 * model.loss_curve_[0]
    assert model.score(X, y) > max(chance, wanted)
    assert not model.diverged_


def test_kfac_beats_sgd_at_the_same_learning_rate_and_epochs():
    # the preconditioning is there: plain gradient steps of the same size are far behind
    got = {opt: MLPClassifier((16,), max_iter=10, **{**KFAC, "optimizer": opt})
           .fit(X_DIGITS, Y_DIGITS).loss_curve_[-1] for opt in ("kfac", "sgd")}
    assert got["kfac"] < 0.1 * got["sgd"], got


@pytest.mark.parametrize("cls, X, y", [(MLPClassifier, X_DIGITS, Y_DIGITS),
                                       (MLPClassifier, X_CANCER, Y_CANCER),
                                       (MLPRegressor, X_WAVE, Y_WAVE)],
                         ids=["ten classes", "two classes", "regression"])
def test_one_full_batch_step_is_the_kfac_step_of_gradkit_nn_kfac(cls, X, y):
    model = cls((6,), optimizer="kfac", learning_rate=0.3, batch_size=None, max_iter=1,
                alpha=0.0, random_state=0).fit(X, y)
    # the same start, drawn as fit draws it, and one step of capture + kfac on all rows
    T = model._prepare_targets(y, fitting=False)
    params, _ = model._init_params(X.shape[1], np.random.default_rng(0))
    loss = ("mse" if cls is MLPRegressor else
            "binary_cross_entropy" if T.shape[1] == 1 else "cross_entropy")
    _, grads, stats = capture(model._network(), loss)(params, X, T)
    tx = kfac(0.3)
    updates, _ = tx.update(grads, tx.init(params), params, kfac_stats=stats)
    want = apply_updates(params, updates)
    for key in want:
        for leaf in want[key]:
            np.testing.assert_allclose(model.params_[key][leaf], want[key][leaf], rtol=1e-9,
                                       atol=1e-12)


def test_kfac_fits_are_reproducible_with_a_seed():
    a = MLPClassifier((16,), max_iter=5, **KFAC).fit(X_DIGITS, Y_DIGITS)
    b = MLPClassifier((16,), max_iter=5, **KFAC).fit(X_DIGITS, Y_DIGITS)
    assert a.loss_curve_ == b.loss_curve_
    assert all(np.array_equal(p, q) for p, q in zip(a.coefs_ + a.intercepts_,
                                                     b.coefs_ + b.intercepts_))


def test_kfac_with_sample_weights_partial_fit_and_penalty():
    w = np.where(Y_CANCER == 1, 1.0, 2.0)
    clf = MLPClassifier((8,), max_iter=10, alpha=1e-2, **KFAC).fit(X_CANCER, Y_CANCER,
                                                                    sample_weight=w)
    assert clf.score(X_CANCER, Y_CANCER) > 0.95
    inc = MLPClassifier((8,), **KFAC)
    for _ in range(3):
        inc.partial_fit(X_CANCER, Y_CANCER, classes=[0, 1])
    assert inc.loss_curve_[-1] < inc.loss_curve_[0] and inc.n_iter_ == 3


def test_kfac_is_a_transformation_kind():
    kind = MLPRegressor(optimizer="kfac").optimizer_kind()
    assert kind.kind == "transform" and isinstance(kind.optimizer, GradientTransformation)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("settings, named", [
    (dict(batch_norm=True), "batch_norm=True"),
    (dict(dropout=0.2), "dropout=0.2"),
    (dict(batch_norm=True, dropout=0.5), "batch_norm=True and dropout=0.5"),
], ids=["batch norm", "dropout", "both"])
def test_kfac_refuses_the_layers_it_does_not_cover(cls, settings, named):
    with pytest.raises(ValueError) as info:
        cls((4,), optimizer="kfac", **settings).fit(X_WAVE[:50], Y_WAVE[:50] > 0)
    message = str(info.value)
    assert message == (f"{cls.__name__}: optimizer='kfac' covers Linear layers and "
                       f"activations, not the layers {named} adds (BatchNorm's statistics, "
                       "Dropout's random masks); turn them off or choose another optimizer.")


def test_kfac_is_an_mlp_optimizer_only():
    with pytest.raises(InvalidParameterError, match="The 'optimizer' parameter of "
                       "LogisticRegression must be"):
        LogisticRegression(optimizer="kfac").fit(X_CANCER, Y_CANCER)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_kfac_is_documented_with_the_optimizer_argument(cls):
    args = cls.__doc__.split("Args:")[1].split("Attributes:")[0]
    optimizer = args.split("optimizer:")[1].split("learning_rate:")[0]
    assert '``"kfac"``' in optimizer and "gradkit.nn.kfac" in optimizer
    assert "augment:" in args


def test_a_saved_kfac_model_continues_with_its_factors(tmp_path):
    import warnings

    from gradkit.models import load
    clf = MLPClassifier((8,), max_iter=3, **KFAC).fit(X_CANCER, Y_CANCER)
    clf.save(tmp_path / "model.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the optimizer state fits: no restart warning
        back = load(tmp_path / "model.npz")
    clf.partial_fit(X_CANCER, Y_CANCER)
    back.partial_fit(X_CANCER, Y_CANCER)
    assert all(np.array_equal(p, q) for p, q in zip(clf.coefs_ + clf.intercepts_,
                                                     back.coefs_ + back.intercepts_))


# --------------------------------------------------------------------- the kfac_* settings
SETTINGS = dict(kfac_damping=1e-2, kfac_decay=0.5, kfac_factor_every=2, kfac_inverse_every=3,
                kfac_momentum=0.5)


@pytest.mark.parametrize("cls, X, y", [(MLPClassifier, X_DIGITS, Y_DIGITS),
                                       (MLPRegressor, X_WAVE, Y_WAVE)],
                         ids=["ten classes", "regression"])
def test_the_kfac_settings_are_those_of_gradkit_nn_kfac(cls, X, y):
    # five full-batch steps of the estimator = five steps of capture + kfac(same settings)
    model = cls((6,), optimizer="kfac", learning_rate=0.3, batch_size=None, max_iter=5,
                alpha=0.0, random_state=0, **SETTINGS).fit(X, y)
    T = model._prepare_targets(y, fitting=False)
    params, _ = model._init_params(X.shape[1], np.random.default_rng(0))
    step = capture(model._network(), model._kfac_loss())
    tx = kfac(0.3, damping=1e-2, decay=0.5, factor_every=2, inverse_every=3, momentum=0.5)
    state = tx.init(params)
    for _ in range(5):
        _, grads, stats = step(params, X, T)
        updates, state = tx.update(grads, state, params, kfac_stats=stats)
        params = apply_updates(params, updates)
    for key in params:
        for leaf in params[key]:
            np.testing.assert_allclose(model.params_[key][leaf], params[key][leaf], rtol=1e-9,
                                       atol=1e-12)
    # and the settings matter: the defaults give other weights
    other = cls((6,), optimizer="kfac", learning_rate=0.3, batch_size=None, max_iter=5,
                alpha=0.0, random_state=0).fit(X, y)
    assert not np.allclose(other.coefs_[0], model.coefs_[0])


def test_the_kfac_settings_are_estimator_parameters():
    from sklearn.base import clone
    model = MLPClassifier(optimizer="kfac", **SETTINGS, kfac_fisher="sampled")
    assert {k: v for k, v in model.get_params().items() if k.startswith("kfac_")} == \
        {**SETTINGS, "kfac_fisher": "sampled"}
    copy = clone(model).set_params(kfac_damping=0.5)
    assert copy.kfac_damping == 0.5 and copy.kfac_momentum == 0.5 and model.kfac_damping == 1e-2
    defaults = MLPRegressor().get_params()
    assert (defaults["kfac_damping"], defaults["kfac_decay"], defaults["kfac_factor_every"],
            defaults["kfac_inverse_every"], defaults["kfac_momentum"],
            defaults["kfac_fisher"]) == (1e-3, 0.95, 1, 1, 0.0, "expected")


@pytest.mark.parametrize("name, value, must", [
    ("kfac_damping", 0.0, r"a float in the range \(0.0, inf\)"),
    ("kfac_decay", 1.0, r"a float in the range \[0.0, 1.0\)"),
    ("kfac_factor_every", 0, r"an int in the range \[1, inf\)"),
    ("kfac_inverse_every", 2.5, r"an int in the range \[1, inf\)"),
    ("kfac_momentum", -0.1, r"a float in the range \[0.0, 1.0\)"),
    ("kfac_fisher", "fisher", r"a str among \{.*'sampled'.*\}"),
])
def test_bad_kfac_settings_are_refused_in_one_line(name, value, must):
    with pytest.raises(InvalidParameterError) as info:
        MLPClassifier((4,), optimizer="kfac", **{name: value}).fit(X_CANCER, Y_CANCER)
    message = str(info.value)
    assert "\n" not in message
    import re
    assert re.fullmatch(rf"The '{name}' parameter of MLPClassifier must be {must}\. "
                        rf"Got {name}={value!r} instead\.", message), message


def test_factor_every_skips_the_statistics_between_updates(monkeypatch):
    import gradkit.nn.kfac as kfac_module
    calls = []
    real = kfac_module.capture

    def counting(*args, **kwargs):
        step = real(*args, **kwargs)

        original = step.statistics

        def counted(*a, **k):
            calls.append(1)
            return original(*a, **k)
        step.statistics = counted
        return step
    monkeypatch.setattr(kfac_module, "capture", counting)
    model = MLPClassifier((8,), max_iter=2, kfac_factor_every=4, **KFAC).fit(X_DIGITS,
                                                                          Y_DIGITS)
    steps = model.t_
    assert steps == 2 * 8  # 500 rows in batches of 64
    assert len(calls) == len(range(0, steps, 4))


@pytest.mark.parametrize("fisher", ["sampled", "empirical"])
def test_every_fisher_trains(fisher):
    a = MLPClassifier((16,), max_iter=10, kfac_fisher=fisher, **KFAC).fit(X_DIGITS, Y_DIGITS)
    b = MLPClassifier((16,), max_iter=10, kfac_fisher=fisher, **KFAC).fit(X_DIGITS, Y_DIGITS)
    assert a.score(X_DIGITS, Y_DIGITS) > 0.9 and a.loss_curve_ == b.loss_curve_  # seeded


# ------------------------------------------------------------------ a K-FAC object as optimizer
def test_a_kfac_object_as_optimizer_is_the_named_kfac():
    named = MLPClassifier((16,), max_iter=3, **{**KFAC, "learning_rate": 0.2},
                          kfac_damping=1e-2, kfac_momentum=0.5).fit(X_DIGITS, Y_DIGITS)
    given = MLPClassifier((16,), max_iter=3, **{**KFAC, "learning_rate": 1e-3,
                                                "optimizer": kfac(0.2, damping=1e-2,
                                                                  momentum=0.5)})
    given.fit(X_DIGITS, Y_DIGITS)
    assert given.loss_curve_ == named.loss_curve_
    assert all(np.array_equal(p, q) for p, q in zip(given.coefs_, named.coefs_))


def test_a_kfac_object_in_a_chain_and_with_clipping():
    from gradkit.optim import chain, clip_by_global_norm
    opt = chain(clip_by_global_norm(10.0), kfac(0.1, damping=1e-2))
    model = MLPClassifier((16,), max_iter=10, **{**KFAC, "optimizer": opt})
    model.fit(X_DIGITS, Y_DIGITS)
    assert model.score(X_DIGITS, Y_DIGITS) > 0.95
    clipped = MLPClassifier((16,), max_iter=3, clip_norm=1.0,
                            **{**KFAC, "optimizer": kfac(0.1)}).fit(X_DIGITS, Y_DIGITS)
    assert clipped.loss_curve_[-1] < clipped.loss_curve_[0]


def test_a_kfac_object_refuses_the_layers_it_does_not_cover():
    with pytest.raises(ValueError, match=r"^MLPRegressor: a K-FAC optimizer \(gradkit.nn.kfac\) "
                       r"covers Linear layers and activations, not the layers dropout=0.2 adds"):
        MLPRegressor((4,), optimizer=kfac(0.1), dropout=0.2).fit(X_WAVE[:50], Y_WAVE[:50])


# ------------------------------------------------------------ scikit-learn's estimator contract
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks([
    MLPClassifier((8,), optimizer="kfac", learning_rate=0.1, max_iter=30, kfac_damping=1e-2),
    MLPRegressor((8,), optimizer="kfac", learning_rate=0.1, max_iter=30, kfac_damping=1e-2,
                 kfac_fisher="sampled", kfac_factor_every=2),
], expected_failed_checks=lambda est: {
    "check_sample_weight_equivalence_on_dense_data":
        "K-FAC's factors are the unweighted batch's (the training loop does not pass the "
        "batch's weights to the optimizer's statistics), so a repeated row changes the "
        "curvature and a weight of 2 does not"})
@pytest.mark.filterwarnings("ignore:.*training diverged:RuntimeWarning")  # unscaled check data
def test_kfac_estimators_meet_the_sklearn_contract(estimator, check):
    check(estimator)
