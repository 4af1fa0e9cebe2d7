"""Pytrees: flatten / unflatten / map / structure, dict key order, registered nodes, errors."""
import collections

import numpy as np
import pytest

from gradkit.tree import (TreeDef, ravel_pytree, tree_flatten, tree_leaves, tree_map,
                          tree_structure, tree_unflatten)

from .pytree_examples import Affine, Dense

Point = collections.namedtuple("Point", "x y")


def same(a, b):
    """Two pytrees with the same structure and equal leaves."""
    la, da = tree_flatten(a)
    lb, db = tree_flatten(b)
    return da == db and len(la) == len(lb) and all(np.array_equal(x, y) for x, y in zip(la, lb))


# (name, tree, its leaves in flattening order)
TREES = [
    ("leaf-array", np.arange(3.0), [np.arange(3.0)]),
    ("leaf-float", 2.5, [2.5]),
    ("leaf-string", "a", ["a"]),
    ("list", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
    ("tuple", (1.0, (2.0, 3.0)), [1.0, 2.0, 3.0]),
    ("dict-sorted-keys", {"b": 2.0, "a": 1.0, "c": 3.0}, [1.0, 2.0, 3.0]),
    ("nested", {"layers": [{"w": 1.0, "b": 2.0}, {"w": 3.0, "b": 4.0}], "scale": 5.0},
     [2.0, 1.0, 4.0, 3.0, 5.0]),
    ("namedtuple", Point(1.0, (2.0, 3.0)), [1.0, 2.0, 3.0]),
    ("dataclass", Dense(w=1.0, b=2.0), [1.0, 2.0]),
    ("registered", Affine(1.0, [2.0, 3.0]), [1.0, 2.0, 3.0]),
    ("none", None, []),
    ("none-inside", {"a": None, "b": 1.0, "c": [None, 2.0]}, [1.0, 2.0]),
    ("empty-containers", {"a": [], "b": (), "c": {}}, []),
]


@pytest.mark.parametrize("name, tree, leaves", TREES, ids=[t[0] for t in TREES])
def test_flatten_gives_leaves_left_to_right_with_dict_keys_sorted(name, tree, leaves):
    got, treedef = tree_flatten(tree)
    assert len(got) == len(leaves) == treedef.num_leaves
    assert all(np.array_equal(g, w) for g, w in zip(got, leaves))
    assert len(tree_leaves(tree)) == len(leaves)


@pytest.mark.parametrize("name, tree, leaves", TREES, ids=[t[0] for t in TREES])
def test_unflatten_inverts_flatten(name, tree, leaves):
    got, treedef = tree_flatten(tree)
    rebuilt = tree_unflatten(treedef, got)
    assert type(rebuilt) is type(tree)
    assert tree_structure(rebuilt) == treedef
    assert same(rebuilt, tree)


@pytest.mark.parametrize("name, tree, leaves", TREES, ids=[t[0] for t in TREES])
def test_tree_map_keeps_the_structure_and_maps_every_leaf(name, tree, leaves):
    doubled = tree_map(lambda x: x * 2, tree)
    assert type(doubled) is type(tree)
    assert tree_structure(doubled) == tree_structure(tree)
    assert all(np.array_equal(d, 2 * x) for d, x in zip(tree_leaves(doubled), leaves))


def test_tree_map_over_several_trees_pairs_leaves_by_position_and_key():
    a = {"w": 1.0, "b": [2.0, 3.0]}
    b = {"b": [20.0, 30.0], "w": 10.0}  # other insertion order, same structure
    assert tree_map(lambda x, y: x + y, a, b) == {"w": 11.0, "b": [22.0, 33.0]}
    assert tree_map(lambda x, y, z: x * y * z, (1.0, 2.0), (3.0, 4.0), (5.0, 6.0)) == (15.0, 48.0)


@pytest.mark.parametrize("name, tree, leaves", TREES, ids=[t[0] for t in TREES])
def test_tree_map_visits_leaves_in_flattening_order(name, tree, leaves):
    # a stateful f (a counter, a random generator) must see the leaves as tree_flatten lists them
    seen = []
    tree_map(seen.append, tree)
    assert len(seen) == len(leaves) and all(np.array_equal(s, x) for s, x in zip(seen, leaves))
    counter = iter(range(100))
    numbered = tree_map(lambda _: next(counter), tree)
    assert tree_leaves(numbered) == list(range(len(leaves)))


def test_dict_key_order_does_not_change_the_structure():
    assert tree_structure({"a": 1, "b": 2}) == tree_structure({"b": 2, "a": 1})
    assert hash(tree_structure({"a": 1, "b": 2})) == hash(tree_structure({"b": 2, "a": 1}))
    leaves, treedef = tree_flatten({"z": 1.0, "a": 2.0})
    assert leaves == [2.0, 1.0]
    assert tree_unflatten(treedef, [5.0, 6.0]) == {"a": 5.0, "z": 6.0}


@pytest.mark.parametrize("a, b", [
    ({"a": 1.0}, {"b": 1.0}),               # different keys
    ([1.0, 2.0], (1.0, 2.0)),               # list is not tuple
    ([1.0, 2.0], [1.0, 2.0, 3.0]),          # different length
    ({"a": 1.0}, {"a": [1.0]}),             # leaf is not a list
    (Point(1.0, 2.0), (1.0, 2.0)),          # namedtuple is not tuple
    (None, 1.0),                            # None is an empty node, not a leaf
    (Affine(1.0, 2.0, "x"), Affine(1.0, 2.0, "y")),  # registry aux data differ
], ids=["keys", "list-tuple", "length", "depth", "namedtuple-tuple", "none-leaf", "aux"])
def test_different_structures_are_unequal_and_tree_map_says_so(a, b):
    assert tree_structure(a) != tree_structure(b)
    with pytest.raises(ValueError, match="structures differ") as info:
        tree_map(lambda x, y: x, a, b)
    assert "same containers and keys" in str(info.value)


def test_tree_map_error_names_both_structures():
    with pytest.raises(ValueError) as info:
        tree_map(lambda x, y: x, [1.0, (2.0, 3.0)], [1.0, [2.0, 3.0]])
    assert "tuple(*, *)" in str(info.value) and "list(*, *)" in str(info.value)


def test_unflatten_with_the_wrong_number_of_leaves_says_how_many():
    treedef = tree_structure({"a": 1.0, "b": [2.0, 3.0]})
    with pytest.raises(ValueError, match="3 leaves but 2"):
        tree_unflatten(treedef, [1.0, 2.0])


def test_treedef_repr_shows_containers_and_keys():
    assert isinstance(tree_structure([1]), TreeDef)
    assert repr(tree_structure({"b": [1, (2, 3)], "a": 4})) == "{'a': *, 'b': list(*, tuple(*, *))}"
    assert repr(tree_structure(5.0)) == "*"


def test_registered_node_keeps_its_aux_data_through_map():
    p = tree_map(lambda x: x + 1, Affine(1.0, 2.0, name="kept"))
    assert isinstance(p, Affine) and (p.scale, p.shift, p.name) == (2.0, 3.0, "kept")


def test_dataclass_and_namedtuple_rebuild_as_themselves():
    layer = tree_map(np.negative, Dense(w=np.ones(2), b=np.zeros(1)))
    assert isinstance(layer, Dense) and np.array_equal(layer.w, -np.ones(2))
    point = tree_map(lambda v: v * 10, Point(1, 2))
    assert point == Point(10, 20) and point.y == 20


@pytest.mark.parametrize("tree", [
    {"a": np.arange(4.0).reshape(2, 2), "b": np.ones(3)},
    [np.array(1.5), (np.arange(2.0), {"c": np.full((1, 2, 1), 7.0)})],
    Dense(w=np.eye(2), b=np.zeros(2)),
], ids=["dict", "nested", "dataclass"])
def test_ravel_pytree_round_trips(tree):
    flat, unravel = ravel_pytree(tree)
    leaves = tree_leaves(tree)
    assert flat.ndim == 1 and flat.size == sum(np.size(x) for x in leaves)
    assert np.array_equal(flat, np.concatenate([np.ravel(x) for x in leaves]))
    assert same(unravel(flat), tree)
    moved = unravel(flat + 1.0)
    assert all(np.array_equal(m, x + 1.0) for m, x in zip(tree_leaves(moved), leaves))


def test_ravel_pytree_of_an_empty_tree():
    flat, unravel = ravel_pytree({"a": None, "b": []})
    assert flat.shape == (0,)
    assert unravel(flat) == {"a": None, "b": []}
