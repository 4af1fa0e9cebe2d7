"""Losses and penalties: hand formulas, scikit-learn's metrics, gradients, extreme logits."""
import numpy as np
import pytest
from sklearn import metrics

import gradkit as gk
from gradkit.nn import losses as L

RNG = np.random.default_rng(0)
Z = RNG.standard_normal((6, 3))        # multiclass scores
LABELS = np.array([0, 2, 1, 1, 0, 2])
z = RNG.standard_normal(6) * 2.0       # binary scores
y01 = np.array([0, 1, 1, 0, 1, 0])
r = RNG.standard_normal(6)             # regression targets


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# loss(pred, target) and its value by hand or by scikit-learn
VALUE_CASES = [
    ("mse", lambda: L.mse(z, r), lambda: metrics.mean_squared_error(r, z)),
    ("mse (n, 1) vs (n,)", lambda: L.mse(z[:, None], r), lambda: np.mean((z - r) ** 2)),
    ("mse multi-output", lambda: L.mse(Z, Z[::-1]), lambda: metrics.mean_squared_error(Z[::-1], Z)),
    ("mae", lambda: L.mae(z, r), lambda: metrics.mean_absolute_error(r, z)),
    ("huber", lambda: L.huber(z, r, delta=0.7),
     lambda: np.mean(np.where(np.abs(z - r) <= 0.7, 0.5 * (z - r) ** 2,
                              0.7 * (np.abs(z - r) - 0.35)))),
    ("cross_entropy labels", lambda: L.cross_entropy(Z, LABELS),
     lambda: metrics.log_loss(LABELS, _softmax(Z))),
    ("cross_entropy one-hot", lambda: L.cross_entropy(Z, np.eye(3)[LABELS]),
     lambda: metrics.log_loss(LABELS, _softmax(Z))),
    ("cross_entropy soft targets sum", lambda: L.cross_entropy(Z, _softmax(Z[::-1]), "sum"),
     lambda: -np.sum(_softmax(Z[::-1]) * np.log(_softmax(Z)))),
    ("binary_cross_entropy", lambda: L.binary_cross_entropy(z, y01),
     lambda: metrics.log_loss(y01, 1 / (1 + np.exp(-z)))),
    ("hinge {0,1}", lambda: L.hinge(z, y01), lambda: metrics.hinge_loss(y01, z)),
    ("hinge {-1,1}", lambda: L.hinge(z, 2 * y01 - 1), lambda: metrics.hinge_loss(2 * y01 - 1, z)),
    ("hinge multiclass", lambda: L.hinge(Z, LABELS), lambda: metrics.hinge_loss(LABELS, Z)),
    ("squared_hinge", lambda: L.squared_hinge(z, y01),
     lambda: np.mean(np.maximum(0, 1 - (2 * y01 - 1) * z) ** 2)),
    ("log_loss binary", lambda: L.log_loss(1 / (1 + np.exp(-z)), y01),
     lambda: metrics.log_loss(y01, 1 / (1 + np.exp(-z)))),
    ("log_loss multiclass", lambda: L.log_loss(_softmax(Z), LABELS),
     lambda: metrics.log_loss(LABELS, _softmax(Z))),
    ("log_loss clips 0 and 1", lambda: L.log_loss(np.array([0.0, 1.0]), np.array([1, 0])),
     lambda: metrics.log_loss([1, 0], [0.0, 1.0])),
]


@pytest.mark.parametrize("name,ours,reference", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_losses_match_hand_formulas_and_sklearn(name, ours, reference):
    np.testing.assert_allclose(ours(), reference(), rtol=1e-10)


GRADIENT_CASES = [  # (loss of pred, pred, order); preds away from the kinks
    (lambda p: L.mse(p, r), z, 2),
    (lambda p: L.mae(p, r), z, 1),
    (lambda p: L.huber(p, r, delta=0.5), z, 2),
    (lambda p: L.cross_entropy(p, LABELS), Z, 2),
    (lambda p: L.cross_entropy(p, _softmax(Z[::-1])), Z, 2),
    (lambda p: L.binary_cross_entropy(p, y01), z, 2),
    (lambda p: L.hinge(p, y01), z, 1),
    (lambda p: L.hinge(p, LABELS), Z, 1),
    (lambda p: L.squared_hinge(p, y01), z, 2),
    (lambda p: L.log_loss(p, y01), 1 / (1 + np.exp(-z)), 2),
    (lambda p: L.log_loss(p, LABELS), _softmax(Z), 2),
]


@pytest.mark.parametrize("loss,pred,order", GRADIENT_CASES)
def test_loss_gradients_match_finite_differences(loss, pred, order):
    gk.check_grads(loss, (pred,), order=order, rtol=1e-4)


@pytest.mark.parametrize("reduction,expected", [("mean", 2.5), ("sum", 5.0),
                                                ("none", [1.0, 4.0])])
def test_reductions(reduction, expected):
    np.testing.assert_allclose(L.mse(np.array([1.0, 2.0]), np.zeros(2), reduction), expected)


def test_cross_entropy_and_bce_are_stable_at_extreme_logits():
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]])
    assert L.cross_entropy(logits, np.array([0, 1])) == 0.0
    assert L.cross_entropy(logits, np.array([2, 0]), "none").tolist() == [2e4, 2e4]
    g = gk.grad(lambda z: L.cross_entropy(z, np.array([2, 0])))(logits)
    np.testing.assert_allclose(g, [[0.5, 0, -0.5], [-0.5, 0.5, 0]])
    big = np.array([-1e4, 1e4, 1e4, -1e4])
    y = np.array([1, 0, 1, 0])
    np.testing.assert_allclose(L.binary_cross_entropy(big, y, "none"), [1e4, 1e4, 0, 0])
    np.testing.assert_allclose(gk.grad(lambda z: L.binary_cross_entropy(z, y, "sum"))(big),
                               [-1, 1, 0, 0])


def test_float32_losses_stay_float32():
    z32, Z32 = z.astype(np.float32), Z.astype(np.float32)
    for value in (L.mse(z32, r), L.cross_entropy(Z32, LABELS), L.binary_cross_entropy(z32, y01),
                  L.hinge(z32, y01), L.log_loss(1 / (1 + np.exp(-z32)), y01)):
        assert np.result_type(value) == np.float32


PARAMS = {"00_linear": {"W": np.array([[1.0, -2.0]]), "b": np.array([10.0])},
          "01_batchnorm": {"gamma": np.array([3.0]), "beta": np.array([4.0])},
          "02_linear": {"W": np.array([0.5])}}


@pytest.mark.parametrize("penalty,expected", [
    (L.l1, 3.5),
    (L.l2, 0.5 * (1 + 4 + 0.25)),
    (lambda p: L.elastic_net(p, alpha=0.1, l1_ratio=0.3), 0.1 * (0.3 * 3.5 + 0.7 * 0.5 * 5.25)),
    (lambda p: L.elastic_net(p, alpha=2.0, l1_ratio=1.0), 7.0),
])
def test_penalties_cover_weights_not_biases_or_batchnorm(penalty, expected):
    assert penalty(PARAMS) == pytest.approx(expected)
    grads = gk.grad(penalty)(PARAMS)
    assert grads["00_linear"]["b"].tolist() == [0.0]
    assert grads["01_batchnorm"]["gamma"].tolist() == [0.0]


def test_l2_gradient_is_the_weight():
    g = gk.grad(L.l2)(PARAMS)
    np.testing.assert_array_equal(g["00_linear"]["W"], PARAMS["00_linear"]["W"])


@pytest.mark.parametrize("call,match", [
    (lambda: L.mse(np.ones(3), np.ones(4)), "one target per prediction"),
    (lambda: L.cross_entropy(Z, np.array([0, 1, 2, 3, 0, 1])), r"0\.\.2"),
    (lambda: L.cross_entropy(Z, np.array([0, 1, -1, 2, 0, 1])), r"from -1 to 2"),
    (lambda: L.cross_entropy(Z, np.array([0, 1, -7, 9, 0, 1], dtype=np.int8)), "from -7 to 9"),
    (lambda: L.cross_entropy(Z, np.array([0, 1, 2, 5, 0, 1], dtype=np.uint16)), "from 0 to 5"),
    (lambda: L.cross_entropy(Z, np.array([0.0, 1.0, -1.0, 2.0, 0.0, 1.0])), "from -1 to 2"),
    (lambda: L.cross_entropy(Z, np.full(6, 0.5)), "non-integer"),
    (lambda: L.cross_entropy(Z, np.array(list("abcdef"))), "dtype <U1"),
    (lambda: L.cross_entropy(Z, np.ones((6, 2))), "labels of shape"),
    (lambda: L.hinge(z, np.array([0, 1, 2, 0, 1, 2])), r"\{-1, \+1\}"),
    (lambda: L.mse(z, r, reduction="avg"), "reduction"),
    (lambda: L.huber(z, r, delta=0.0), "delta"),
    (lambda: L.elastic_net(PARAMS, 1.0, 1.5), "l1_ratio"),
    (lambda: L.get_loss("cross-entropy"), "Valid names"),
])
def test_mistakes_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_wrong_reduction_raises_in_a_training_step_too():
    with pytest.raises(ValueError, match="reduction"):
        gk.grad(lambda z: L.cross_entropy(z, LABELS, reduction="avg"))(Z)


def test_get_loss_by_name():
    assert L.get_loss("HINGE") is L.hinge and L.get_loss(L.mse) is L.mse


def _general_ce(z, labels, reduction):
    # the composition the fused training-step path of cross_entropy stands in for
    per_sample = L.labels_cross_entropy(z, labels)
    return np.mean(per_sample) if reduction == "mean" else np.sum(per_sample)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("n,k", [(6, 3), (64, 10), (40, 50)])  # (64, 10): column-major reductions
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_training_step_path_matches_the_general_one(reduction, n, k, dtype,
                                                                  monkeypatch):
    taken = []
    fused = L._record_reduced_labels_ce
    monkeypatch.setattr(L, "_record_reduced_labels_ce", lambda *a: taken.append(1) or fused(*a))
    rng = np.random.default_rng(n + k)
    z = (rng.standard_normal((n, k)) * 3).astype(dtype)
    labels = rng.integers(0, k, n).astype(np.int32)
    v, g = gk.value_and_grad(lambda z: L.cross_entropy(z, labels, reduction))(z)
    assert taken  # (the fused path was the one measured)
    v_ref, g_ref = gk.value_and_grad(lambda z: _general_ce(z, labels, reduction))(z)
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-15)  # (rounding only)
    np.testing.assert_allclose(v, v_ref, rtol=rtol)
    np.testing.assert_allclose(g, g_ref, rtol=rtol, atol=atol)
    assert g.dtype == dtype and np.result_type(v) == dtype
    assert g.flags.c_contiguous  # the next rule's G @ W.T is fastest row-major
    # and the textbook form: (softmax(z) - onehot(y)) / n for the mean
    want = _softmax(z.astype(np.float64)) - np.eye(k)[labels]
    np.testing.assert_allclose(g, want / (n if reduction == "mean" else 1), rtol=rtol * 10,
                               atol=atol * 10)


def test_cross_entropy_cotangent_can_itself_be_differentiated():
    # a pullback called with a traced cotangent (the rule is linear in it)
    out, pullback = gk.vjp(lambda z: L.cross_entropy(z, LABELS), Z)
    (g1,) = pullback(np.float64(1.0))
    (g2,) = pullback(np.float64(2.5))
    np.testing.assert_allclose(g2, 2.5 * g1, rtol=1e-14)
    W = RNG.standard_normal(Z.shape)
    d = gk.grad(lambda c: np.sum(pullback(c)[0] * W))(np.float64(1.0))
    np.testing.assert_allclose(d, np.sum(g1 * W), rtol=1e-12)
    assert out == pytest.approx(metrics.log_loss(LABELS, _softmax(Z)))


def test_cross_entropy_second_derivatives_still_exact():
    # the hessian goes through the general path: diag(p) - p p^T per sample, over n
    z = Z[:2]
    H = gk.hessian(lambda z: L.cross_entropy(z, LABELS[:2]))(z)
    p = _softmax(z)
    for i in range(2):
        np.testing.assert_allclose(H[i, :, i, :], (np.diag(p[i]) - np.outer(p[i], p[i])) / 2,
                                   atol=1e-14)
    np.testing.assert_allclose(H[0, :, 1, :], 0.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, np.int64])
def test_labels_of_any_integer_dtype_are_checked_on_the_training_step_path(dtype):
    labels = LABELS.astype(dtype)
    g = gk.grad(lambda z: L.cross_entropy(z, labels))(Z)
    np.testing.assert_allclose(g, gk.grad(lambda z: L.cross_entropy(z, LABELS))(Z))
    bad = labels.copy()
    bad[3] = 3
    with pytest.raises(ValueError, match=r"0\.\.2.*from 0 to 3"):
        gk.grad(lambda z: L.cross_entropy(z, bad))(Z)
