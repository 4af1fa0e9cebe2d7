"""Layers: every layer's gradients against finite differences, shapes, Sequential, modes."""
import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

RNG = np.random.default_rng(0)


def _away_from_kinks(shape, rng):
    """Values with |x| >= 0.1 and distinct within a sample (no relu / max-pool kinks)."""
    x = rng.permutation(np.linspace(0.1, 2.0, int(np.prod(shape)))).reshape(shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


# (layer, input shape without batch, order): order 2 where the layer is smooth
GRADIENT_CASES = [
    (nn.Linear(3), (4,), 2),
    (nn.Linear(3, use_bias=False), (4,), 2),
    (nn.Conv2d(2, 3), (2, 5, 5), 2),
    (nn.Conv2d(2, (2, 3), stride=2, padding=1), (3, 5, 6), 2),
    (nn.MaxPool2d(2), (2, 4, 4), 1),
    (nn.MaxPool2d(3, stride=1), (1, 5, 5), 1),
    (nn.AvgPool2d(2, stride=1), (2, 4, 4), 2),
    (nn.BatchNorm(), (3,), 2),
    (nn.BatchNorm(), (2, 3, 3), 2),
    (nn.Flatten(), (2, 3, 2), 2),
    (nn.ReLU(), (5,), 2),
    (nn.LeakyReLU(0.1), (5,), 1),
    (nn.ELU(), (5,), 1),
    (nn.GELU(), (5,), 2),
    (nn.Tanh(), (5,), 2),
    (nn.Sigmoid(), (5,), 2),
    (nn.Softplus(), (5,), 2),
    (nn.Sequential([nn.Conv2d(2, 3, padding=1), nn.BatchNorm(), nn.Tanh(), nn.AvgPool2d(2),
                    nn.Flatten(), nn.Linear(3)]), (1, 4, 4), 2),
    (nn.Sequential([nn.Linear(6), nn.ReLU(), nn.Linear(4), nn.Tanh(), nn.Linear(2)]), (3,), 2),
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("layer,shape,order", GRADIENT_CASES,
                         ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(GRADIENT_CASES)])
def test_layer_gradients_match_finite_differences(layer, shape, order, train):
    rng = np.random.default_rng(1)
    params, state = layer.init(rng, shape)
    # non-trivial BatchNorm scale / shift and running statistics
    params = gk.tree.tree_map(lambda p: p + 0.3 * rng.standard_normal(p.shape), params)
    state = gk.tree.tree_map(lambda s: s + 0.5 * rng.random(s.shape), state)
    x = _away_from_kinks((3,) + shape, rng)

    def f(params, x):
        return layer.apply(params, state, x, train=train)[0]

    gk.check_grads(f, (params, x), order=order, rtol=1e-4, atol=1e-6)


def test_hessian_through_an_mlp_matches_the_same_network_written_with_numpy():
    model = nn.Sequential([nn.Linear(5), nn.ReLU(), nn.Linear(4), nn.Tanh(), nn.Linear(3)])
    params, state = model.init(np.random.default_rng(2), (3,))
    x, y = RNG.standard_normal((6, 3)), np.array([0, 1, 2, 0, 1, 2])

    def loss(p):
        return nn.losses.cross_entropy(model.apply(p, state, x)[0], y)

    def by_hand(p):
        h = np.maximum(x @ p["00_linear"]["W"] + p["00_linear"]["b"], 0.0)
        h = np.tanh(h @ p["02_linear"]["W"] + p["02_linear"]["b"])
        z = h @ p["04_linear"]["W"] + p["04_linear"]["b"]
        return np.mean(np.log(np.sum(np.exp(z), axis=1)) - z[np.arange(6), y])

    flat, unravel = gk.tree.ravel_pytree(params)
    H = gk.hessian(lambda f: loss(unravel(f)))(flat)
    np.testing.assert_allclose(H, gk.hessian(lambda f: by_hand(unravel(f)))(flat),
                               rtol=1e-9, atol=1e-12)
    v = RNG.standard_normal(flat.shape)
    for mode in ("rev-over-fwd", "fwd-over-rev"):
        np.testing.assert_allclose(gk.hvp(lambda f: loss(unravel(f)), mode=mode)(flat, v), H @ v,
                                   rtol=1e-9, atol=1e-12)


def test_dropout_gradient_is_the_mask_it_drew():
    x = RNG.standard_normal((4, 6))
    layer = nn.Dropout(0.5)
    f = lambda x: layer.apply({}, {}, x, train=True, rng=np.random.default_rng(3))[0]
    gk.check_grads(f, (x,), order=2)
    g = gk.grad(lambda x: np.sum(f(x)))(x)
    assert set(np.unique(g)) <= {0.0, 2.0}


SHAPE_CASES = [
    (nn.Linear(7), (3,), (7,)),
    (nn.Linear(7), (5, 3), (5, 7)),
    (nn.Conv2d(4, 3), (2, 8, 8), (4, 6, 6)),
    (nn.Conv2d(4, 3, padding=1), (2, 8, 8), (4, 8, 8)),
    (nn.Conv2d(4, 3, stride=2, padding=1), (2, 8, 8), (4, 4, 4)),
    (nn.Conv2d(4, (1, 3), stride=(1, 2)), (2, 5, 7), (4, 5, 3)),
    (nn.MaxPool2d(2), (3, 8, 8), (3, 4, 4)),
    (nn.MaxPool2d(2), (3, 7, 7), (3, 3, 3)),
    (nn.MaxPool2d(3, stride=1), (3, 5, 5), (3, 3, 3)),
    (nn.AvgPool2d((2, 1)), (1, 4, 4), (1, 2, 4)),
    (nn.BatchNorm(), (5,), (5,)),
    (nn.BatchNorm(), (2, 3, 3), (2, 3, 3)),
    (nn.Dropout(0.5), (4,), (4,)),
    (nn.Flatten(), (2, 3, 4), (24,)),
    (nn.ReLU(), (2, 2), (2, 2)),
    (nn.Sequential([nn.Conv2d(8, 3, padding=1), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(10)]),
     (1, 8, 8), (10,)),
]


@pytest.mark.parametrize("layer,in_shape,out_shape", SHAPE_CASES)
def test_output_shape_matches_apply(layer, in_shape, out_shape):
    assert layer.output_shape(in_shape) == out_shape
    params, state = layer.init(np.random.default_rng(0), in_shape)
    y, _ = layer.apply(params, state, np.ones((2,) + in_shape), train=True,
                       rng=np.random.default_rng(0))
    assert y.shape == (2,) + out_shape


def test_float32_stays_float32_through_forward_and_backward():
    model = nn.Sequential([nn.Conv2d(3, 3, padding=1), nn.BatchNorm(), nn.ReLU(),
                           nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4)])
    params, state = model.init(np.random.default_rng(0), (1, 4, 4), dtype=np.float32)
    x = np.ones((5, 1, 4, 4), np.float32)

    def loss(params):
        logits, new_state = model.apply(params, state, x, train=True, rng=np.random.default_rng(1))
        return nn.losses.cross_entropy(logits, np.arange(5) % 4), new_state

    (value, new_state), grads = gk.value_and_grad(loss, has_aux=True)(params)
    leaves = [value] + gk.tree.tree_leaves(grads) + gk.tree.tree_leaves(new_state)
    assert {np.result_type(leaf) for leaf in leaves} == {np.dtype(np.float32)}


def test_sequential_names_one_group_per_layer_with_parameters():
    model = nn.Sequential([nn.Conv2d(4, 3, padding=1), nn.BatchNorm(), nn.ReLU(),
                           nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.1), nn.Linear(8),
                           nn.Tanh(), nn.Linear(2)])
    params, state = model.init(np.random.default_rng(0), (1, 6, 6))
    assert list(params) == ["00_conv2d", "01_batchnorm", "06_linear", "08_linear"]
    assert list(state) == ["01_batchnorm"]
    assert sorted(params["00_conv2d"]) == ["W", "b"]
    assert params["06_linear"]["W"].shape == (36, 8)
    assert sorted(state["01_batchnorm"]) == ["mean", "var"]


def test_sequential_gives_dropout_fresh_randomness_each_call():
    model = nn.Sequential([nn.Dropout(0.5), nn.Linear(1, init="ones")])
    params, state = model.init(np.random.default_rng(0), (100,))
    rng = np.random.default_rng(0)
    x = np.ones((1, 100))
    a = model.apply(params, state, x, train=True, rng=rng)[0]
    b = model.apply(params, state, x, train=True, rng=rng)[0]
    assert a.item() != b.item()
    assert model.apply(params, state, x)[0].item() == 100.0  # eval: identity
    with pytest.raises(ValueError, match="rng"):
        model.apply(params, state, x, train=True)


def test_batchnorm_train_mode_normalizes_and_updates_running_stats_like_pytorch():
    x = RNG.standard_normal((6, 3, 2, 2)) * 3.0 + 1.0
    bn = nn.BatchNorm(momentum=0.2)
    params, state = bn.init(RNG, (3, 2, 2))
    y, new = bn.apply(params, state, x, train=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-4)
    np.testing.assert_allclose(new["mean"], 0.2 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(new["var"], 0.8 + 0.2 * x.var(axis=(0, 2, 3), ddof=1))
    # eval mode uses the running statistics and leaves them alone
    y_eval, same = bn.apply(params, new, x, train=False)
    want = (x - new["mean"][None, :, None, None]) / np.sqrt(new["var"][None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y_eval, want)
    assert same["mean"] is new["mean"]


def test_batchnorm_train_gradient_flows_through_batch_statistics():
    # the batch-normalized output is invariant to shifting a feature, so its gradient
    # summed over the batch is zero for every feature
    x = RNG.standard_normal((5, 3))
    bn = nn.BatchNorm()
    params, state = bn.init(RNG, (3,))
    w = RNG.standard_normal((5, 3))
    g = gk.grad(lambda x: np.sum(w * bn.apply(params, state, x, train=True)[0]))(x)
    np.testing.assert_allclose(g.sum(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_expectation(rate):
    x = np.full((200, 500), 3.0)
    y, _ = nn.Dropout(rate).apply({}, {}, x, train=True, rng=np.random.default_rng(0))
    assert abs(y.mean() - 3.0) < 0.05 * 3.0 * np.sqrt(rate / (1 - rate))
    assert abs((y == 0).mean() - rate) < 0.01
    assert nn.Dropout(rate).apply({}, {}, x)[0] is x


@pytest.mark.parametrize("make,match", [
    (lambda: nn.Dropout(1.0), "rate"),
    (lambda: nn.Linear(0), "out_features"),
    (lambda: nn.Linear(3, init="nope"), "Valid names"),
    (lambda: nn.Conv2d(2, 3).init(RNG, (8, 8)), r"\(C, H, W\)"),
    (lambda: nn.Conv2d(2, 5).output_shape((1, 3, 3)), "does not fit"),
    (lambda: nn.BatchNorm().init(RNG, (2, 3)), "Flatten"),
    (lambda: nn.BatchNorm().apply(*nn.BatchNorm().init(RNG, (2,)), np.ones((1, 2)),
                                  train=True), "more than one value"),
    (lambda: nn.functional.conv2d(np.ones((1, 2, 4, 4)), np.ones((3, 1, 2, 2))), "kernel"),
    (lambda: nn.Sequential(nn.Linear(2)), "list of layers"),
    (lambda: nn.Sequential([nn.Linear(2), "relu"]), "item 1"),
])
def test_mistakes_raise_errors_that_say_what_to_do(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
