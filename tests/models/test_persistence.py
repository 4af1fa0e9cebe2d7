"""save / load: one .npz file, read without pickle; round trips predict identically."""
import json

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

from gradkit.models import (LinearRegression, LinearSVM, LogisticRegression, MLPClassifier,
                            MLPRegressor, load)
from gradkit.models.persistence import FORMAT_VERSION
from gradkit.optim import adam
from gradkit.tree import tree_leaves

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)
NAMES = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]
X_DIAB, Y_DIAB = load_diabetes(return_X_y=True)

CASES = [
    (LinearRegression(), X_DIAB, Y_DIAB),
    (LinearRegression(penalty="l1", alpha=100.0), X_DIAB, np.column_stack([Y_DIAB, -Y_DIAB])),
    (LogisticRegression(), X_IRIS, Y_IRIS),
    (LogisticRegression(optimizer="sgd", max_iter=5), X_IRIS, NAMES),
    (LogisticRegression(), X_IRIS, NAMES.astype(object)),
    (LinearSVM(), X_IRIS, NAMES),
    (MLPClassifier(hidden_layer_sizes=(8, 4), batch_norm=True, dropout=0.2, max_iter=5),
     X_IRIS, NAMES),
    (MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=5), X_DIAB, Y_DIAB),
]


def _outputs(model, X):
    out = [model.predict(X)]
    for method in ("predict_proba", "decision_function"):
        if hasattr(model, method):
            out.append(getattr(model, method)(X))
    return out


@pytest.mark.parametrize("model, X, y", CASES, ids=lambda v: type(v).__name__
                         if hasattr(v, "fit") else "")
def test_round_trip_predicts_identically(model, X, y, tmp_path):
    model.set_params(random_state=0).fit(X, y)
    path = tmp_path / "model.npz"
    model.save(path)
    again = load(path)
    assert type(again) is type(model)
    assert again.get_params() == model.get_params()
    for a, b in zip(_outputs(again, X), _outputs(model, X)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.coef_ if hasattr(model, "coef_") else again.coefs_[0],
                                  model.coef_ if hasattr(model, "coef_") else model.coefs_[0])
    assert again.n_iter_ == model.n_iter_ and again.loss_curve_ == model.loss_curve_
    assert again.n_features_in_ == model.n_features_in_
    assert again.history_["loss"] == model.history_["loss"]
    if hasattr(model, "classes_"):
        np.testing.assert_array_equal(again.classes_, model.classes_)
        assert again.classes_.dtype == model.classes_.dtype


def test_loaded_model_keeps_learning(tmp_path):
    model = LogisticRegression(optimizer="sgd", max_iter=3, warm_start=True).fit(X_IRIS, Y_IRIS)
    model.save(tmp_path / "m.npz")
    again = load(tmp_path / "m.npz").fit(X_IRIS, Y_IRIS)
    assert len(again.loss_curve_) == 6
    again.partial_fit(X_IRIS, Y_IRIS)
    assert again.n_iter_ == 7


def test_feature_names_survive(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X_IRIS, columns=["a", "b", "c", "d"])
    model = LogisticRegression().fit(frame, Y_IRIS)
    model.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(load(tmp_path / "m.npz").feature_names_in_, ["a", "b", "c", "d"])


def _saved(tmp_path):
    path = tmp_path / "model.npz"
    LogisticRegression().fit(X_IRIS, Y_IRIS).save(path)
    return path


def _rewrite_meta(path, change):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["__gradkit__"]))
    change(meta, arrays)
    arrays["__gradkit__"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_bytes(path):
    data = bytearray(path.read_bytes())
    for i in range(200, 400):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _garbage(path):
    path.write_bytes(b"not a model at all")


def _other_npz(path):
    with open(path, "wb") as f:
        np.savez(f, weights=np.ones(3))


def _future_version(path):
    _rewrite_meta(path, lambda meta, arrays: meta.update(format_version=FORMAT_VERSION + 1))


def _unknown_estimator(path):
    _rewrite_meta(path, lambda meta, arrays: meta.update(estimator="os.system"))


def _missing_weights(path):
    _rewrite_meta(path, lambda meta, arrays: arrays.pop("params/coef"))


def _pickled_object(path):
    with open(path, "wb") as f:
        np.savez(f, __gradkit__=np.array([{"format": "gradkit.models"}], dtype=object))


@pytest.mark.parametrize("damage, message", [
    (_truncate, "not a readable gradkit model file"),
    (_flip_bytes, "not a readable gradkit model file"),
    (_garbage, "not a readable gradkit model file"),
    (_other_npz, "not a gradkit model file"),
    (_future_version, "format version"),
    (_unknown_estimator, "unknown estimator 'os.system'"),
    (_missing_weights, "incomplete or corrupted"),
    (_pickled_object, "not a readable gradkit model file"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_damaged_files_raise_a_clear_value_error(damage, message, tmp_path):
    path = _saved(tmp_path)
    damage(path)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz")


def test_what_cannot_be_saved_is_named(tmp_path):
    with pytest.raises(NotFittedError):
        LogisticRegression().save(tmp_path / "m.npz")
    model = LogisticRegression(optimizer=adam(0.1), max_iter=3).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="optimizer="):
        model.save(tmp_path / "m.npz")


@pytest.mark.parametrize("model, X, y, first", [
    (LogisticRegression(optimizer="adam", learning_rate=0.05, batch_size=16), X_IRIS, Y_IRIS,
     {"classes": [0, 1, 2]}),
    (MLPRegressor(hidden_layer_sizes=(8,), learning_rate=0.01, batch_norm=True),
     X_IRIS, X_IRIS[:, 0], {}),
], ids=["logistic-adam", "mlp-adam-batchnorm"])
def test_partial_fit_after_load_continues_the_optimizer(model, X, y, first, tmp_path):
    """Adam's moments and step count are saved: the loaded model's next partial_fit step is
    the original's (a restarted Adam would take a bias-corrected first step instead)."""
    model.set_params(random_state=0).partial_fit(X, y, **first)
    model.partial_fit(X, y)
    model.save(tmp_path / "m.npz")
    again = load(tmp_path / "m.npz")
    for m in (model, again):
        m.partial_fit(X, y)
    for a, b in zip(tree_leaves(again.params_), tree_leaves(model.params_)):
        np.testing.assert_array_equal(a, b)
    assert again.t_ == model.t_


def test_a_state_that_does_not_fit_the_optimizer_restarts_it(tmp_path):
    path = tmp_path / "m.npz"
    LogisticRegression(optimizer="adam", max_iter=2).fit(X_IRIS, Y_IRIS).save(path)
    _rewrite_meta(path, lambda meta, arrays: meta["settings"].update(optimizer="sgd"))
    with pytest.warns(RuntimeWarning, match="restart the optimizer"):
        again = load(path)
    again.partial_fit(X_IRIS, Y_IRIS)  # sgd from a fresh state
    assert again.n_iter_ == 3
