"""``jacobian`` / ``jacfwd`` / ``jacrev`` / ``hessian`` of pytree arguments and outputs (issue 15).

The law, JAX's: the result is the output's tree of the argument's tree, block ``[o][a]`` of
shape ``o.shape + a.shape``, and it equals the Jacobian of the flattened function (every tree
ravelled into one vector) cut into those blocks; that flat Jacobian is itself checked against
central finite differences. A tuple ``argnums`` differentiates the tuple of those arguments.
"""
import collections
import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gradkit as gk
from gradkit.tree import ravel_pytree, tree_leaves, tree_structure

from ..pytree_examples import Dense

R = np.random.default_rng(15)
Params = collections.namedtuple("Params", "w b")

TREES = [
    ("dict", {"w": R.standard_normal((2, 3)), "b": R.standard_normal(3)}),
    ("tuple", (R.standard_normal(3), R.standard_normal((2, 1)))),
    ("list", [R.standard_normal(2), R.standard_normal((2, 2))]),
    ("namedtuple", Params(w=R.standard_normal((3, 2)), b=R.standard_normal(2))),
    ("dataclass", Dense(w=R.standard_normal((2, 2)), b=R.standard_normal(2))),
    ("nested", {"layers": [{"w": R.standard_normal((2, 2)), "b": R.standard_normal(2)},
                           (R.standard_normal(1), R.standard_normal(()))],
                "out": Params(R.standard_normal(2), 0.3)}),
    ("scalar-leaves", {"a": 1.5, "b": np.float64(-0.5), "c": np.array(0.25)}),
    ("one-leaf-dict", {"only": R.standard_normal(4)}),
]
IDS = [t[0] for t in TREES]


def mixed(tree):
    """A smooth function of every leaf that mixes them: one output of shape (3,)."""
    flat = ravel_pytree(tree)[0]
    k = np.arange(1.0, flat.size + 1)
    s = np.sum(np.sin(k * flat)) + np.sum(flat ** 2) * flat[0]
    return np.stack([s, np.sum(np.tanh(flat) * k), np.prod(1.0 + 0.1 * flat)])


def tree_output(tree):
    """A pytree output: a dict holding a matrix, a scalar and a tuple."""
    flat = ravel_pytree(tree)[0]
    return {"m": np.outer(np.sin(flat[:2]), flat[-2:]), "s": np.sum(flat ** 3),
            "t": (np.exp(flat[0] * flat[-1]), np.cos(flat))}


def scalar(tree):
    flat = ravel_pytree(tree)[0]
    k = np.arange(1.0, flat.size + 1)
    return np.sum(np.exp(0.3 * k * flat)) + np.sum(flat ** 2) ** 2 + flat[0] * np.sum(flat)


def numerical_jacobian(f, x, eps=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        cols.append((f(x + e) - f(x - e)) / (2 * eps))
    return np.stack(cols, axis=-1)


def flat_function(fun, tree):
    """``fun`` as a function of the ravelled tree, returning its ravelled output."""
    flat, unravel = ravel_pytree(tree)
    return flat, lambda f: ravel_pytree(fun(unravel(f)))[0]


def expected_blocks(J, out_tree, in_tree):
    """The flat Jacobian ``J`` cut into ``[output leaf][argument leaf]`` blocks."""
    outs, ins = tree_leaves(out_tree), tree_leaves(in_tree)
    o_sizes = [int(np.size(o)) for o in outs]
    i_sizes = [int(np.size(a)) for a in ins]
    o_start, i_start = np.cumsum([0] + o_sizes), np.cumsum([0] + i_sizes)
    return [[np.reshape(J[o_start[j]:o_start[j + 1], i_start[i]:i_start[i + 1]],
                        np.shape(o) + np.shape(a)) for i, a in enumerate(ins)]
            for j, o in enumerate(outs)]


def assert_nested(got, out_tree, in_tree, blocks, rtol=1e-10, atol=1e-12):
    """``got`` is the output's tree of the argument's tree and holds ``blocks``."""
    inner = tree_structure(in_tree)
    rows = _outer_leaves(got, out_tree)  # at each output leaf's place, an argument's tree
    assert len(rows) == tree_structure(out_tree).num_leaves
    for row, want_row in zip(rows, blocks):
        assert tree_structure(row) == inner
        assert type(row) is type(in_tree)
        for g, w in zip(tree_leaves(row), want_row):
            assert np.shape(g) == np.shape(w)
            assert_allclose(g, w, rtol=rtol, atol=atol)


def _outer_leaves(got, out_tree):
    """The subtrees of ``got`` at the places of ``out_tree``'s leaves."""
    if type(out_tree) is dict:
        assert type(got) is dict and list(got) == list(out_tree)
        return [r for k in sorted(out_tree) for r in _outer_leaves(got[k], out_tree[k])]
    if isinstance(out_tree, (list, tuple)):
        assert type(got) is type(out_tree) and len(got) == len(out_tree)
        return [r for g, o in zip(got, out_tree) for r in _outer_leaves(g, o)]
    if dataclasses.is_dataclass(out_tree):
        assert type(got) is type(out_tree)
        return [r for f in dataclasses.fields(out_tree)
                for r in _outer_leaves(getattr(got, f.name), getattr(out_tree, f.name))]
    return [got]


# ----------------------------------------------------------------------------- jacobian
@pytest.mark.parametrize("name, tree", TREES, ids=IDS)
@pytest.mark.parametrize("mode", ["fwd", "rev"])
@pytest.mark.parametrize("fun", [mixed, tree_output], ids=["array-out", "tree-out"])
def test_jacobian_of_a_pytree_equals_the_flattened_jacobian(name, tree, mode, fun):
    flat, f = flat_function(fun, tree)
    J = gk.jacobian(f, mode=mode)(flat)
    assert_allclose(J, numerical_jacobian(f, flat), rtol=1e-6, atol=1e-7)
    got = gk.jacobian(fun, mode=mode)(tree)
    assert_nested(got, fun(tree), tree, expected_blocks(J, fun(tree), tree))


@pytest.mark.parametrize("mode", ["fwd", "rev", "auto"])
def test_jacobian_modes_agree_on_a_dict(mode):
    tree = TREES[0][1]
    want = gk.jacobian(tree_output, mode="fwd")(tree)
    got = gk.jacobian(tree_output, mode=mode)(tree)
    for g, w in zip(tree_leaves(got), tree_leaves(want)):
        assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_a_dict_argument_with_an_array_output_gives_a_dict_of_blocks():
    params = {"w": R.standard_normal((3, 4)), "b": R.standard_normal(3)}
    x = R.standard_normal(4)
    for jac in (gk.jacfwd, gk.jacrev):
        J = jac(lambda p: np.tanh(p["w"] @ x + p["b"]))(params)
        d = 1.0 - np.tanh(params["w"] @ x + params["b"]) ** 2
        assert list(J) == ["w", "b"]  # the argument's own key order
        assert_allclose(J["b"], np.diag(d), rtol=1e-12)
        assert_allclose(J["w"], np.einsum("i,ij,k->ijk", d, np.eye(3), x), rtol=1e-12)


@pytest.mark.parametrize("jac", [gk.jacfwd, gk.jacrev], ids=["fwd", "rev"])
def test_argnums_tuple_gives_one_tree_per_argument(jac):
    a, c = {"u": R.standard_normal(2)}, R.standard_normal(3)
    y = R.standard_normal(2)

    def f(a, y, c):
        return np.concatenate([np.sin(a["u"] * y), c[:1] * a["u"] ** 2, np.cumsum(c)])

    Ja, Jc = jac(f, argnums=(0, 2))(a, y, c)
    flat, unravel = ravel_pytree((a, c))
    J = gk.jacobian(lambda v: f(unravel(v)[0], y, unravel(v)[1]))(flat)
    assert_allclose(J, numerical_jacobian(lambda v: f(unravel(v)[0], y, unravel(v)[1]), flat),
                    rtol=1e-6, atol=1e-7)
    assert list(Ja) == ["u"] and Ja["u"].shape == (7, 2) and Jc.shape == (7, 3)
    assert_allclose(Ja["u"], J[:, :2], rtol=1e-12)
    assert_allclose(Jc, J[:, 2:], rtol=1e-12)
    # a one-element tuple still gives a tuple, as in JAX
    (Jy,) = jac(f, argnums=(1,))(a, y, c)
    assert_allclose(Jy, jac(f, argnums=1)(a, y, c), rtol=1e-15)


def test_an_output_leaf_that_does_not_depend_on_the_argument_gets_zero_blocks():
    tree = {"w": R.standard_normal(3)}
    for mode in ("fwd", "rev"):
        J = gk.jacobian(lambda p: (p["w"] * 2.0, np.ones(2)), mode=mode)(tree)
        assert_allclose(J[0]["w"], 2.0 * np.eye(3))
        assert J[1]["w"].shape == (2, 3) and not np.any(J[1]["w"])


def test_an_empty_leaf_gives_empty_blocks():
    tree = {"w": R.standard_normal(2), "e": np.zeros((0, 3))}
    for mode in ("fwd", "rev"):
        J = gk.jacobian(lambda p: p["w"] ** 2 + np.sum(p["e"]), mode=mode)(tree)
        assert_allclose(J["w"], np.diag(2.0 * tree["w"]))
        assert J["e"].shape == (2, 0, 3)


def test_jacobian_of_a_pytree_does_not_modify_the_argument():
    tree = {"w": R.standard_normal(3), "b": [R.standard_normal(2)]}
    before = [leaf.copy() for leaf in tree_leaves(tree)]
    gk.jacfwd(tree_output)(tree)
    gk.jacrev(tree_output)(tree)
    gk.hessian(scalar)(tree)
    for leaf, old in zip(tree_leaves(tree), before):
        np.testing.assert_array_equal(leaf, old)


def test_an_output_leaf_that_is_not_numeric_is_refused():
    with pytest.raises(TypeError, match=r"the output leaf \[1\] is a str, not an array"):
        gk.jacobian(lambda p: (p["w"] * 2.0, "label"))({"w": R.standard_normal(2)})


def test_jacobian_of_a_jacobian_of_a_pytree():
    """Nested: jacfwd(jacrev(f)) of a dict equals the Hessian, block for block."""
    tree = TREES[0][1]
    H1 = gk.jacfwd(gk.jacrev(scalar))(tree)
    H2 = gk.hessian(scalar)(tree)
    for a in tree:
        for b in tree:
            assert_allclose(H1[a][b], H2[a][b], rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- hessian
@pytest.mark.parametrize("name, tree", TREES, ids=IDS)
def test_hessian_of_a_pytree_equals_the_flattened_hessian(name, tree):
    flat, unravel = ravel_pytree(tree)
    f = lambda v: scalar(unravel(v))  # noqa: E731
    H = gk.hessian(f)(flat)
    assert_allclose(H, numerical_jacobian(gk.grad(f), flat), rtol=1e-6, atol=1e-6)
    got = gk.hessian(scalar)(tree)
    assert_nested(got, tree, tree, expected_blocks(H, tree, tree))


def test_hessian_blocks_are_transposes_of_each_other():
    tree = {"w": R.standard_normal((2, 2)), "b": R.standard_normal(3)}
    H = gk.hessian(scalar)(tree)
    assert H["w"]["b"].shape == (2, 2, 3) and H["b"]["w"].shape == (3, 2, 2)
    assert_allclose(H["w"]["b"], np.moveaxis(H["b"]["w"], 0, -1), rtol=1e-10)


def test_hessian_with_an_argnums_tuple():
    def f(x, y, z):
        return np.sum(x ** 2 * y[0]) + np.sum(np.sin(x) * z["c"]) + y[1] ** 3

    x, y, z = R.standard_normal(2), (1.5, 0.7), {"c": R.standard_normal(2)}
    H = gk.hessian(f, argnums=(0, 2))(x, y, z)
    # the tuple (x, z) of the tuple (x, z): H[1] is z's tree, each leaf holding an (x, z)
    assert type(H) is tuple and type(H[0]) is tuple and type(H[1]) is dict
    assert_allclose(H[0][0], np.diag(2.0 * y[0] - np.sin(x) * z["c"]), rtol=1e-12)
    assert_allclose(H[0][1]["c"], np.diag(np.cos(x)), rtol=1e-12)
    assert_allclose(H[1]["c"][0], np.diag(np.cos(x)), rtol=1e-12)
    assert_allclose(H[1]["c"][1]["c"], np.zeros((2, 2)), atol=0)
    # a float leaf of a tuple argument
    Hy = gk.hessian(f, argnums=1)(x, y, z)
    assert_allclose(Hy[1][1], 6.0 * y[1], rtol=1e-12)
    assert_allclose(Hy[0][0], 0.0, atol=0)
    assert_allclose(Hy[0][1], 0.0, atol=0)


def test_hessian_of_a_pytree_matches_hvp():
    tree = TREES[5][1]
    H = gk.hessian(scalar)(tree)
    flat, unravel = ravel_pytree(tree)
    v = R.standard_normal(flat.size)
    hv = ravel_pytree(gk.hvp(scalar)(tree, unravel(v)))[0]
    Hflat = gk.hessian(lambda f: scalar(unravel(f)))(flat)
    assert_allclose(Hflat @ v, hv, rtol=1e-10, atol=1e-12)
    assert_nested(H, tree, tree, expected_blocks(Hflat, tree, tree))
