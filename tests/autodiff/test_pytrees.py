"""Arguments may be pytrees (dict / list / tuple / namedtuple / dataclass / registered nodes);
derivatives come back with the same structure."""
import collections

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gradkit as gk
from gradkit.tree import ravel_pytree, tree_leaves, tree_map, tree_structure, tree_unflatten

from ..pytree_examples import Affine, Dense

R = np.random.default_rng(3)

Params = collections.namedtuple("Params", "w b")


def weighted_square_sum(tree):
    """sum_i c_i * sum(leaf_i ** 2) with c_i = 1, 2, 3, ... in leaf order: gradient 2 c_i leaf_i."""
    return sum((i + 1.0) * np.sum(leaf ** 2) for i, leaf in enumerate(tree_leaves(tree)))


def expected_gradient(tree):
    leaves = tree_leaves(tree)
    grads = [2.0 * (i + 1.0) * np.asarray(leaf) for i, leaf in enumerate(leaves)]
    return tree_unflatten(tree_structure(tree), grads)


TREES = [
    ("dict", {"w": R.standard_normal((2, 3)), "b": R.standard_normal(3)}),
    ("list", [R.standard_normal(2), R.standard_normal((2, 2))]),
    ("tuple", (R.standard_normal(3), np.float64(0.5))),
    ("namedtuple", Params(w=R.standard_normal((3, 2)), b=R.standard_normal(2))),
    ("dataclass", Dense(w=R.standard_normal((2, 2)), b=R.standard_normal(2))),
    ("registered", Affine(R.standard_normal(2), R.standard_normal(2), name="layer0")),
    ("nested", {"layers": [Dense(R.standard_normal((2, 2)), R.standard_normal(2)),
                           {"gain": (R.standard_normal(1), R.standard_normal(()))}],
                "out": Params(R.standard_normal(2), 0.3)}),
    ("python-floats", {"a": 1.5, "b": [2.0, -0.5]}),
]


@pytest.mark.parametrize("name, tree", TREES, ids=[t[0] for t in TREES])
def test_gradient_has_the_structure_of_the_argument(name, tree):
    g = gk.grad(weighted_square_sum)(tree)
    assert tree_structure(g) == tree_structure(tree)
    assert type(g) is type(tree)
    for gl, wl, xl in zip(tree_leaves(g), tree_leaves(expected_gradient(tree)), tree_leaves(tree)):
        assert np.shape(gl) == np.shape(xl)
        assert_allclose(gl, wl)


@pytest.mark.parametrize("name, tree", TREES, ids=[t[0] for t in TREES])
def test_jvp_and_vjp_take_and_return_pytrees(name, tree):
    tangent = tree_map(lambda x: np.ones(np.shape(x)), tree)
    out, t_out = gk.jvp(weighted_square_sum, (tree,), (tangent,))
    want = sum(np.sum(w) for w in tree_leaves(expected_gradient(tree)))
    assert_allclose(t_out, want)
    out2, pullback = gk.vjp(lambda t: tree_map(lambda x: 3.0 * x, t), tree)
    (ct,) = pullback(tangent)
    assert tree_structure(ct) == tree_structure(tree)
    assert all(np.allclose(c, 3.0) for c in tree_leaves(ct))


@pytest.mark.parametrize("name, tree", TREES, ids=[t[0] for t in TREES])
def test_hvp_with_a_pytree_argument(name, tree):
    v = tree_map(lambda x: np.full(np.shape(x), 0.5), tree)
    hv = gk.hvp(weighted_square_sum)(tree, v)
    assert tree_structure(hv) == tree_structure(tree)
    for i, leaf in enumerate(tree_leaves(hv)):
        assert_allclose(leaf, 2.0 * (i + 1.0) * 0.5)


def test_registered_node_keeps_its_static_data_in_the_gradient():
    g = gk.grad(lambda a: np.sum(a.scale * a.shift))(Affine(np.ones(2), np.full(2, 3.0), "L1"))
    assert isinstance(g, Affine) and g.name == "L1"
    assert_allclose(g.scale, 3.0)
    assert_allclose(g.shift, 1.0)


def test_none_leaves_stay_none_and_unused_leaves_get_zeros():
    params = {"w": np.ones(3), "frozen": None, "unused": np.ones((2, 2)), "nest": [None, 2.0]}
    g = gk.grad(lambda p: np.sum(p["w"] ** 2) + p["nest"][1] ** 3)(params)
    assert g["frozen"] is None and g["nest"][0] is None
    assert_allclose(g["w"], 2.0)
    assert_allclose(g["unused"], np.zeros((2, 2)))
    assert np.shape(g["unused"]) == (2, 2)
    assert_allclose(g["nest"][1], 12.0)


def test_dict_insertion_order_does_not_mix_up_keys():
    p = {"z": np.array([1.0]), "a": np.array([10.0])}
    g = gk.grad(lambda q: np.sum(q["z"] * 2.0 + q["a"] ** 2))(p)
    assert_allclose(g["z"], 2.0)
    assert_allclose(g["a"], 20.0)


def test_argnums_tuple_of_pytrees():
    def loss(params, batch, scale):
        pred = np.tanh(batch["x"] @ params["w"] + params["b"])
        return scale * np.mean((pred - batch["y"]) ** 2)

    params = {"w": R.standard_normal((3, 1)), "b": np.zeros(1)}
    batch = {"x": R.standard_normal((5, 3)), "y": R.standard_normal((5, 1))}
    gp, gb = gk.grad(loss, argnums=(0, 1))(params, batch, 2.0)
    assert tree_structure(gp) == tree_structure(params)
    assert tree_structure(gb) == tree_structure(batch)

    flat, unravel = ravel_pytree(params)
    g_flat = gk.grad(lambda f: loss(unravel(f), batch, 2.0))(flat)
    assert_allclose(ravel_pytree(gp)[0], g_flat, rtol=1e-12)


def test_ravel_pytree_gives_the_same_gradient_and_hessian():
    params = {"w": R.standard_normal((2, 2)), "b": R.standard_normal(2)}

    def loss(p):
        return np.sum(np.sin(p["w"] @ p["b"])) + np.sum(p["b"] ** 4)

    flat, unravel = ravel_pytree(params)
    assert_allclose(unravel(flat)["w"], params["w"])
    g = gk.grad(loss)(params)
    assert_allclose(gk.grad(lambda f: loss(unravel(f)))(flat), ravel_pytree(g)[0], rtol=1e-12)
    H = gk.hessian(lambda f: loss(unravel(f)))(flat)
    v = R.standard_normal(flat.size)
    hv = gk.hvp(loss)(params, unravel(v))
    assert_allclose(ravel_pytree(hv)[0], H @ v, rtol=1e-10, atol=1e-12)


def test_value_and_grad_of_an_mlp_with_dict_params():
    x = R.standard_normal((4, 3))
    y = R.standard_normal((4, 1))
    params = {"l1": {"w": R.standard_normal((3, 5)), "b": np.zeros(5)},
              "l2": {"w": R.standard_normal((5, 1)), "b": np.zeros(1)}}

    def mse(p):
        h = np.tanh(x @ p["l1"]["w"] + p["l1"]["b"])
        return np.mean((h @ p["l2"]["w"] + p["l2"]["b"] - y) ** 2)

    value, g = gk.value_and_grad(mse)(params)
    assert_allclose(value, mse(params))
    # backpropagation by hand
    h = np.tanh(x @ params["l1"]["w"] + params["l1"]["b"])
    d_out = 2 * (h @ params["l2"]["w"] + params["l2"]["b"] - y) / y.size
    d_h = d_out @ params["l2"]["w"].T * (1 - h ** 2)
    assert_allclose(g["l2"]["w"], h.T @ d_out)
    assert_allclose(g["l2"]["b"], d_out.sum(0))
    assert_allclose(g["l1"]["w"], x.T @ d_h)
    assert_allclose(g["l1"]["b"], d_h.sum(0))


def test_gradients_of_two_inputs_are_never_one_array():
    # x + y hands the same cotangent to both inputs; each gradient leaf must be its own array,
    # or an in-place update of one would silently change the other
    g = gk.grad(lambda p: np.sum(p["a"] + p["b"]))({"a": np.ones(2), "b": np.ones(2)})
    assert g["a"] is not g["b"]
    g["a"] *= 3.0
    np.testing.assert_array_equal(g["b"], np.ones(2))
    ga, gb = gk.grad(lambda a, b: np.sum(a + b), argnums=(0, 1))(np.ones(2), np.ones(2))
    assert ga is not gb
    _, pullback = gk.vjp(lambda a, b: a + b, np.ones(2), np.ones(2))
    ca, cb = pullback(np.ones(2))
    assert ca is not cb


@pytest.mark.parametrize("n", [3, 10_000])  # small: a filled array; large: a broadcast view
def test_gradients_are_writable_arrays_of_their_own(n):
    for f in (np.sum, np.mean):
        g = gk.grad(lambda x: f(x))(np.ones(n))
        assert g.flags.writeable and g.flags.owndata
        g[0] = 5.0
        assert g[1] == (1.0 if f is np.sum else 1.0 / n)


def test_dict_gradients_keep_the_dicts_key_order_at_every_depth():
    params = {"z": {"w": np.ones(2), "a": np.ones(1)}, "b": np.ones(1),
              "deep": {"x": {"q": np.ones(1), "c": np.ones(1)}}}
    g = gk.grad(lambda p: p["z"]["w"].sum() + 2 * p["z"]["a"].sum() + 3 * p["b"].sum()
                + 4 * p["deep"]["x"]["q"].sum() + 5 * p["deep"]["x"]["c"].sum())(params)
    assert list(g) == ["z", "b", "deep"] and list(g["z"]) == ["w", "a"]
    assert list(g["deep"]["x"]) == ["q", "c"]
    assert_allclose(g["z"]["w"], [1.0, 1.0])
    assert [float(g["z"]["a"][0]), float(g["b"][0])] == [2.0, 3.0]
    assert [float(g["deep"]["x"]["q"][0]), float(g["deep"]["x"]["c"][0])] == [4.0, 5.0]
    assert tree_structure(g) == tree_structure(params)


def test_one_array_under_two_keys_gets_two_gradients():
    w = np.array([1.0, 2.0])
    g = gk.grad(lambda p: np.sum(p["a"] * 3.0) + np.sum(p["b"]["c"] ** 2))({"a": w, "b": {"c": w}})
    assert_allclose(g["a"], [3.0, 3.0])
    assert_allclose(g["b"]["c"], [2.0, 4.0])


@pytest.mark.parametrize("change", ["add", "remove", "replace"])
def test_a_dict_changed_while_differentiated_raises_instead_of_misplacing_gradients(change):
    params = {"layer": {"W": np.ones(2), "b": np.ones(1)}}

    def loss(p):
        value = np.sum(p["layer"]["W"]) + np.sum(p["layer"]["b"])
        if change == "add":
            params["layer"]["extra"] = np.ones(3)
        elif change == "remove":
            del params["layer"]["b"]
        else:
            params["layer"]["W"] = np.zeros(2)
        return value

    with pytest.raises(RuntimeError, match="changed while the function ran"):
        gk.value_and_grad(loss)(params)


# One documented key order for every transformation: a derivative dict has the key order of
# the dict it belongs to (tree_flatten still visits keys sorted, so structures compare equal).
_UNSORTED = {"z": np.array([1.0, 2.0]), "a": {"y": np.array([3.0]), "b": [np.array([4.0])]}}


def _unsorted_loss(p):
    return np.sum(p["z"] ** 2) * np.sum(p["a"]["y"] ** 3) + np.sum(p["a"]["b"][0] ** 2)


def _key_orders(tree):
    if isinstance(tree, dict):
        return [list(tree)] + [o for v in tree.values() for o in _key_orders(v)]
    if isinstance(tree, (list, tuple)):
        return [o for v in tree for o in _key_orders(v)]
    return []


@pytest.mark.parametrize("transformation", ["grad", "value_and_grad", "vjp", "jvp", "hvp",
                                            "grad-of-grad", "tree_map"])
def test_every_transformation_returns_dicts_in_the_arguments_key_order(transformation):
    p = _UNSORTED
    ones = tree_map(np.ones_like, p)
    if transformation == "grad":
        out = gk.grad(_unsorted_loss)(p)
    elif transformation == "value_and_grad":
        out = gk.value_and_grad(_unsorted_loss)(p)[1]
    elif transformation == "vjp":
        out = gk.vjp(lambda q: {"s": q["z"] * 2.0, "c": q["a"]["y"]}, p)[1](
            {"s": np.ones(2), "c": np.ones(1)})[0]
    elif transformation == "jvp":
        out = gk.jvp(lambda q: {"s": q["z"] * 2.0, "c": q["a"]}, (p,), (ones,))[1]
        assert list(out) == ["s", "c"]
        out = out["c"]
        p = p["a"]
    elif transformation == "hvp":
        out = gk.hvp(_unsorted_loss)(p, ones)
    elif transformation == "grad-of-grad":
        out = gk.grad(lambda q: np.sum(gk.grad(_unsorted_loss)(q)["z"]))(p)
    else:
        out = tree_map(lambda x: x * 2.0, p)
    assert _key_orders(out) == _key_orders(p)
    assert tree_structure(out) == tree_structure(p)
