"""``augment=`` on the MLP estimators: each training mini-batch, and nothing else, goes
through the augmentation, drawn from the estimator's generator."""
import os
import tempfile

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from gradkit.data.augment import Compose, GaussianNoise, Mixup
from gradkit.models import MLPClassifier, MLPRegressor, load
from gradkit.models.base import _StochasticRun

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)
Y_REG = X[:, 0] - 2 * X[:, 1]
SETTINGS = dict(hidden_layer_sizes=(8,), learning_rate=0.01, batch_size=32, max_iter=15,
                random_state=0)
ESTIMATORS = [(MLPClassifier, Y), (MLPRegressor, Y_REG)]
IDS = ["classifier", "regressor"]


def identity(X, y, rng):
    return X, y


class Spy:
    """An identity augmentation that keeps every batch it is given."""

    def __init__(self):
        self.batches = []

    def __call__(self, X, y, rng):
        self.batches.append((X.copy(), y.copy()))
        return X, y


def _fitted(estimator):
    return [*estimator.coefs_, *estimator.intercepts_]


@pytest.mark.parametrize("cls, y", ESTIMATORS, ids=IDS)
def test_a_seeded_fit_with_augmentation_is_reproducible(cls, y):
    aug = Compose(GaussianNoise(0.3))
    a = cls(augment=aug, **SETTINGS).fit(X, y)
    b = cls(augment=aug, **SETTINGS).fit(X, y)
    plain = cls(**SETTINGS).fit(X, y)
    assert all(np.array_equal(p, q) for p, q in zip(_fitted(a), _fitted(b)))
    assert a.loss_curve_ == b.loss_curve_
    # and the noise is there: the same seed without it trains to other weights
    assert not np.array_equal(a.coefs_[0], plain.coefs_[0])


@pytest.mark.parametrize("cls, y", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_the_identity_augmentation_gives_the_fit_without_one(cls, y, weighted):
    w = np.linspace(0.5, 2.0, len(X)) if weighted else None
    a = cls(augment=identity, **SETTINGS).fit(X, y, sample_weight=w)
    b = cls(**SETTINGS).fit(X, y, sample_weight=w)
    assert all(np.array_equal(p, q) for p, q in zip(_fitted(a), _fitted(b)))
    assert a.loss_curve_ == b.loss_curve_ and a.t_ == b.t_


def test_augmentation_runs_outside_the_compiled_step(monkeypatch):
    compiled = []
    original = _StochasticRun._compiled_step

    def keep(run):
        step = original(run)
        compiled.append(step)
        return step
    monkeypatch.setattr(_StochasticRun, "_compiled_step", keep)
    MLPClassifier(augment=GaussianNoise(0.3), **SETTINGS).fit(X, Y)
    (steps,) = compiled  # (the step the history records, the others)
    assert steps is not None and steps[0].source is not None
    assert all(step.eager == [] for step in steps)


def test_only_training_batches_are_augmented_never_validation_predict_or_score():
    spy = Spy()
    # (iris repeats a few rows: the validation rows are moved to be told apart)
    X_train, y_train, X_val, y_val = X[::2], Y[::2], X[1::2] + 10.0, Y[1::2]
    clf = MLPClassifier(augment=spy, **SETTINGS).fit(X_train, y_train,
                                                      validation_data=(X_val, y_val))
    assert len(spy.batches) == clf.t_  # one call per step
    assert all(len(b) <= 32 for b, _ in spy.batches)
    seen = np.concatenate([b for b, _ in spy.batches])
    assert len(seen) == clf.n_iter_ * len(X_train)
    assert not (seen[:, None, :] == X_val[None, :, :]).all(axis=2).any()
    # the targets given are the loss's: one-hot rows of the three classes
    assert all(t.shape == (len(b), 3) and set(np.unique(t)) <= {0.0, 1.0}
               for b, t in spy.batches)
    calls = len(spy.batches)
    clf.predict(X_val), clf.predict_proba(X_val), clf.score(X_val, y_val)
    clf.decision_function(X_val)
    assert len(spy.batches) == calls


def test_the_rows_early_stopping_holds_out_are_not_augmented():
    spy = Spy()
    clf = MLPClassifier(augment=spy, early_stopping=True, validation_fraction=0.2,
                        **SETTINGS).fit(X, Y)
    rows_per_epoch = sum(len(b) for b, _ in spy.batches) / clf.n_iter_
    assert rows_per_epoch == len(X) - 30  # 20% of 150 held out


def test_mixup_mixes_the_encoded_targets_and_trains():
    clf = MLPClassifier(augment=Mixup(0.4), **{**SETTINGS, "max_iter": 60,
                                               "learning_rate": 0.02}).fit(X, Y)
    assert clf.score(X, Y) > 0.9
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("bad", [5, "noise", [GaussianNoise(0.1)]], ids=["int", "str", "list"])
def test_a_bad_augment_is_refused_in_one_line(cls, bad):
    with pytest.raises(InvalidParameterError) as info:
        cls(augment=bad, **SETTINGS).fit(X, Y)
    message = str(info.value)
    assert message == (f"The 'augment' parameter of {cls.__name__} must be a callable or "
                       f"None. Got augment={bad!r} instead.")
    assert "\n" not in message


@pytest.mark.parametrize("returned, got", [
    (lambda X, y: X[:-1], "got ndarray"),
    (lambda X, y: (X[:, :2], y), "got shapes ((32, 2), (32, 3))"),
    (lambda X, y: (X, y[:, 0]), "got shapes ((32, 4), (32,))"),
], ids=["not a pair", "fewer features", "other targets"])
def test_an_augmentation_that_changes_the_shapes_is_refused_in_one_line(returned, got):
    with pytest.raises(ValueError) as info:
        MLPClassifier(augment=lambda X, y, rng: returned(X, y), **SETTINGS).fit(X, Y)
    message = str(info.value)
    assert message.startswith("MLPClassifier: augment(X, y, rng) must return a pair (X, y) of "
                              "the shapes it was given, ((32, 4), (32, 3)); ")
    assert message.endswith(got + ".") and "\n" not in message


def test_augmentation_with_a_full_batch_method_is_refused():
    with pytest.raises(ValueError, match=r"^MLPClassifier: augment= changes each mini-batch of "
                       r"a gradient transformation, and optimizer='lbfgs' is a full-batch "
                       r"method"):
        MLPClassifier(augment=identity, optimizer="lbfgs", **SETTINGS).fit(X, Y)


def test_a_model_file_stores_no_augmentation():
    clf = MLPClassifier(augment=GaussianNoise(0.1), **SETTINGS).fit(X, Y)
    path = os.path.join(tempfile.mkdtemp(), "model.npz")
    clf.save(path)
    back = load(path)
    assert back.augment is None
    assert np.array_equal(back.predict(X), clf.predict(X))
