"""Pytrees: nested dict (any Mapping) / list / tuple / namedtuple / dataclass containers of arrays.

A pytree is any nesting of the containers above; everything else (arrays, numbers, tracers)
is a *leaf*. Dict keys are visited in sorted order, as in JAX, so two dicts with the same
keys always flatten the same way (and have equal structures); a dict rebuilt from its
structure (``tree_unflatten``, ``tree_map``, every gradient) has the key order of the dict
that was flattened, so ``grad`` of a dict returns its keys in the argument's own order.
``None`` is an empty container (it has no leaves). Any other ``Mapping`` (a dict subclass,
``defaultdict``, ``MappingProxyType``) is a container like a dict and is rebuilt as its own
type (a ``defaultdict`` with its factory); an ``OrderedDict`` is visited in its own order,
which is part of its value, as in JAX.

>>> import numpy as np
>>> params = {"w": np.ones(2), "b": 0.5}
>>> leaves, treedef = tree_flatten(params)
>>> [np.shape(leaf) for leaf in leaves]
[(), (2,)]
>>> tree_map(lambda p: p * 2, params)["b"]
1.0
"""
from __future__ import annotations

import dataclasses
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from typing import Any, Callable

__all__ = [
    "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure",
    "register_pytree_node", "TreeDef", "ravel_pytree",
]

# type -> (flatten(obj) -> (children, aux), unflatten(aux, children) -> obj)
_REGISTRY: dict[type, tuple[Callable, Callable]] = {}
# types already seen to be leaves: flattening is on every gradient call's path
_LEAF_TYPES: set = set()


class TreeDef:
    """The shape of a pytree without its leaves; equal treedefs mean equal structures.

    Made by :func:`tree_flatten` / :func:`tree_structure`, not by hand; ``num_leaves`` is the
    number of leaves it holds.

    Args:
        kind: ``None`` for a leaf, else the container type.
        aux: the structure's data: a dict's keys (sorted), field names, or the registered
            ``flatten``'s ``aux``.
        children: a tuple of the children's :class:`TreeDef`.
        order: a dict's own key order when it is not sorted (kept, not compared).

    Examples:
        >>> treedef = tree_structure({"w": [1.0, 2.0], "b": 0.5})
        >>> treedef, treedef.num_leaves
        ({'b': *, 'w': list(*, *)}, 3)
        >>> treedef == tree_structure({"b": 0.0, "w": [0.0, 0.0]})
        True
    """

    __slots__ = ("kind", "aux", "children", "num_leaves", "order")

    def __init__(self, kind, aux, children, order=None):
        self.kind = kind          # None for a leaf, else the container type
        self.aux = aux            # keys (sorted) / field names / registry data
        self.children = children  # tuple of TreeDef
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)
        self.order = order        # a dict's own key order when it is not sorted (not compared)

    def _key(self):
        return (self.kind, self.aux, tuple(c._key() for c in self.children))

    def __eq__(self, other):
        return isinstance(other, TreeDef) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        if self.kind is None:
            return "*"
        inner = ", ".join(map(repr, self.children))
        if self.kind is dict:
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.aux, self.children))
            return "{" + inner + "}"
        return f"{self.kind.__name__}({inner})"


_LEAF = TreeDef(None, None, ())


def register_pytree_node(cls: type, flatten: Callable, unflatten: Callable) -> None:
    """Teach gradkit a new container: ``flatten(obj) -> (children, aux)`` and
    ``unflatten(aux, children) -> obj``.

    Args:
        cls: the container type.
        flatten: returns the children (a sequence of subtrees) and any hashable ``aux``
            data that is part of the structure rather than a leaf.
        unflatten: rebuilds an instance from ``aux`` and the children.

    Examples:
        >>> class Pair:
        ...     def __init__(self, a, b):
        ...         self.a, self.b = a, b
        >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: Pair(*ch))
        >>> tree_leaves(Pair(1.0, [2.0, 3.0]))
        [1.0, 2.0, 3.0]
    """
    _REGISTRY[cls] = (flatten, unflatten)
    _LEAF_TYPES.discard(cls)


def _dataclass_handlers(cls):
    names = tuple(f.name for f in dataclasses.fields(cls))
    return (lambda obj: ([getattr(obj, n) for n in names], names),
            lambda aux, ch: cls(**dict(zip(aux, ch))))


def _mapping_handlers(cls):
    """Flatten and rebuild a mapping type other than ``dict``: values in sorted key order, as
    for a dict (an ``OrderedDict`` in its own order, which is part of its value); the rebuilt
    mapping has the original's type, key order and, for a ``defaultdict``, its factory."""
    ordered = issubclass(cls, OrderedDict)
    factory_of = (lambda obj: obj.default_factory) if issubclass(cls, defaultdict) \
        else (lambda obj: None)

    def flatten(obj):
        order = tuple(obj)
        keys = order if ordered else tuple(sorted(obj))
        return [obj[k] for k in keys], (keys, None if order == keys else order, factory_of(obj))

    def unflatten(aux, children):
        keys, order, factory = aux
        d = dict(zip(keys, children))
        items = [(k, d[k]) for k in (order or keys)]
        try:
            if issubclass(cls, defaultdict):
                return cls(factory, items)
            try:
                return cls(items)
            except TypeError:  # a constructor that takes a mapping only (mappingproxy)
                return cls(dict(items))
        except Exception as exc:  # noqa: BLE001 (a user's Mapping with its own constructor)
            raise TypeError(f"cannot rebuild a {cls.__name__} from its keys and values "
                            f"({type(exc).__name__}: {exc}); register it with "
                            "gradkit.tree.register_pytree_node(cls, flatten, unflatten).") \
                from None
    return flatten, unflatten


def _flatten(tree, leaves):
    t = type(tree)
    if t in _LEAF_TYPES:
        leaves.append(tree)
        return _LEAF
    if t is dict:
        keys = tuple(sorted(tree))
        children = []
        for k in keys:
            child = tree[k]
            if type(child) in _LEAF_TYPES:  # inline the leaf case: dicts of arrays are hot
                leaves.append(child)
                children.append(_LEAF)
            else:
                children.append(_flatten(child, leaves))
        order = tuple(tree)
        return TreeDef(dict, keys, tuple(children), None if order == keys else order)
    if t is list or t is tuple:
        return TreeDef(t, None, tuple(_flatten(c, leaves) for c in tree))
    if tree is None:
        return TreeDef(type(None), None, ())
    if t in _REGISTRY:
        children, aux = _REGISTRY[t][0](tree)
        return TreeDef(t, aux, tuple(_flatten(c, leaves) for c in children))
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # namedtuple
        return TreeDef(t, None, tuple(_flatten(c, leaves) for c in tree))
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        _REGISTRY[t] = _dataclass_handlers(t)
        return _flatten(tree, leaves)
    if isinstance(tree, Mapping):  # OrderedDict, defaultdict, a dict subclass, any Mapping
        _REGISTRY[t] = _mapping_handlers(t)
        return _flatten(tree, leaves)
    _LEAF_TYPES.add(t)
    leaves.append(tree)
    return _LEAF


def tree_flatten(tree: Any) -> tuple[list, TreeDef]:
    """Return the leaves of ``tree`` (left to right, dict keys sorted) and its structure.

    Args:
        tree: any pytree.

    Returns:
        ``(leaves, treedef)``: a list of the leaves and a :class:`TreeDef`.

    Examples:
        >>> leaves, treedef = tree_flatten({"b": 2.0, "a": (1.0, None)})
        >>> leaves, treedef.num_leaves
        ([1.0, 2.0], 2)
    """
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _unflatten(treedef, it):
    kind = treedef.kind
    if kind is None:
        return next(it)
    children = [next(it) if c is _LEAF else _unflatten(c, it) for c in treedef.children]
    if kind is dict:
        d = dict(zip(treedef.aux, children))
        return d if treedef.order is None else {k: d[k] for k in treedef.order}
    if kind is list:
        return children
    if kind is tuple:
        return tuple(children)
    if kind is type(None):
        return None
    if kind in _REGISTRY:
        return _REGISTRY[kind][1](treedef.aux, children)
    return kind(*children)  # namedtuple


def tree_unflatten(treedef: TreeDef, leaves) -> Any:
    """Rebuild a pytree of structure ``treedef`` from ``leaves``.

    Args:
        treedef: a structure from :func:`tree_flatten` or :func:`tree_structure`.
        leaves: an iterable of exactly ``treedef.num_leaves`` leaves, in flattening order.

    Returns:
        The pytree.

    Raises:
        ValueError: when the number of leaves does not match the structure.

    Examples:
        >>> leaves, treedef = tree_flatten({"w": 1.0, "b": 2.0})
        >>> tree_unflatten(treedef, [10.0, 20.0])
        {'w': 20.0, 'b': 10.0}
    """
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"tree_unflatten: the structure {treedef} has {treedef.num_leaves} "
                         f"leaves but {len(leaves)} were given.")
    return _unflatten(treedef, iter(leaves))


def tree_leaves(tree: Any) -> list:
    """The leaves of ``tree``, in flattening order (the first part of :func:`tree_flatten`).

    Args:
        tree: a pytree.

    Returns:
        A list of the leaves.

    Examples:
        >>> tree_leaves([1.0, {"y": 3.0, "x": 2.0}])
        [1.0, 2.0, 3.0]
    """
    return tree_flatten(tree)[0]


def tree_structure(tree: Any) -> TreeDef:
    """The structure of ``tree`` (a :class:`TreeDef`): equal for trees that differ only in
    their leaves.

    Args:
        tree: a pytree.

    Returns:
        Its :class:`TreeDef`.

    Examples:
        >>> tree_structure({"a": 1.0, "b": [2.0]}) == tree_structure({"b": [0.0], "a": 5.0})
        True
    """
    return tree_flatten(tree)[1]


def tree_map(f: Callable, tree: Any, *rest: Any) -> Any:
    """Apply ``f`` leaf by leaf: ``f(leaf, *corresponding leaves of rest)``.

    Args:
        f: a function of ``1 + len(rest)`` leaves.
        tree: the pytree whose structure the result has.
        *rest: pytrees with the same structure as ``tree``.

    Returns:
        A pytree of ``tree``'s structure (a dict keeps its key order) holding ``f``'s results.

    Raises:
        ValueError: naming both structures when ``rest`` do not match ``tree``.

    Examples:
        >>> import numpy as np
        >>> params = {"w": np.array([1.0, 2.0]), "b": 0.5}
        >>> grads = {"w": np.array([0.1, 0.1]), "b": 1.0}
        >>> tree_map(lambda p, g: p - 0.1 * g, params, grads)
        {'w': array([0.99, 1.99]), 'b': 0.4}
    """
    t = type(tree)
    if t in _LEAF_TYPES and all(type(r) in _LEAF_TYPES for r in rest):
        return f(tree, *rest)
    if t is dict:
        # The common parameter dict, visited without a TreeDef (an optimizer step on a small
        # model is mostly this bookkeeping). Keys in sorted order, so f sees the leaves in
        # flattening order (a stateful f, e.g. a random initializer, must not depend on
        # insertion order); the result keeps the dict's own key order, as tree_unflatten does.
        leaf = _LEAF_TYPES
        out = dict.fromkeys(tree)
        if not rest:
            for k in sorted(tree):
                v = tree[k]
                out[k] = f(v) if type(v) in leaf else tree_map(f, v)
            return out
        if len(rest) == 1 and type(rest[0]) is dict and rest[0].keys() == tree.keys():
            other = rest[0]
            for k in sorted(tree):
                v, w = tree[k], other[k]
                out[k] = f(v, w) if type(v) in leaf and type(w) in leaf else tree_map(f, v, w)
            return out
        if all(type(r) is dict and r.keys() == tree.keys() for r in rest):
            for k in sorted(tree):
                out[k] = tree_map(f, tree[k], *(r[k] for r in rest))
            return out
    leaves, treedef = tree_flatten(tree)
    if not rest:
        return tree_unflatten(treedef, [f(x) for x in leaves])
    others = []
    for r in rest:
        r_leaves, r_def = tree_flatten(r)
        if r_def != treedef:
            raise ValueError(f"tree_map: pytree structures differ: {treedef} vs {r_def}. "
                             "Pass trees with the same containers and keys.")
        others.append(r_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def ravel_pytree(tree: Any):
    """Flatten a pytree of arrays into one 1-D float array, and return the inverse.

    Args:
        tree: a pytree of arrays or numbers.

    Returns:
        ``(flat, unravel)``: the concatenated 1-D array, and a function that turns an array of
        that length back into a pytree of ``tree``'s structure and shapes.

    Examples:
        >>> import numpy as np
        >>> flat, unravel = ravel_pytree({"a": np.zeros((2, 2)), "b": np.ones(3)})
        >>> flat.shape
        (7,)
        >>> unravel(flat)["b"]
        array([1., 1., 1.])
    """
    import numpy as np

    leaves, treedef = tree_flatten(tree)
    shapes = [np.shape(x) for x in leaves]
    sizes = [int(np.prod(s)) for s in shapes]
    if not leaves:
        return np.zeros(0), lambda flat: tree_unflatten(treedef, [])
    flat = np.concatenate([np.ravel(x) for x in leaves])
    splits = np.cumsum(sizes)[:-1].tolist()  # ints, not a host array: CuPy flats split too

    def unravel(flat):
        parts = np.split(flat, splits)
        return tree_unflatten(treedef, [np.reshape(p, s) for p, s in zip(parts, shapes)])

    return flat, unravel
