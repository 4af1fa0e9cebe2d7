"""Issue 16, the engine: leaked tracers raise, det at singular matrices, Mapping pytrees,
lstsq."""
from collections import OrderedDict, defaultdict
from types import MappingProxyType

import numpy as np
import pytest

import gradkit as gk


# ----------------------------------------------------------------------------- leaked tracers
def _leak(transform):
    kept = []

    def f(x):
        kept.append(x)
        return np.sum(x ** 2)
    transform(f)
    return kept[0]


LEAKS = {
    "grad": lambda f: gk.grad(f)(np.ones(3)),
    "vjp": lambda f: gk.vjp(f, np.ones(3)),
    "jvp": lambda f: gk.jvp(f, (np.ones(3),), (np.ones(3),)),
}
USES = {
    "times-a-traced-value": lambda old, y: np.sum(old * y),
    "traced-value-times": lambda old, y: np.sum(y * old),
    "ufunc": lambda old, y: np.sum(np.tanh(old) + y),
    "matmul": lambda old, y: old @ y,
    "indexing": lambda old, y: old[0] * y[0],
    "function": lambda old, y: np.sum(np.concatenate([old, y])),
}


@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("use", USES)
def test_a_tracer_leaked_out_of_one_transformation_raises_in_another(leak, use):
    old = _leak(LEAKS[leak])
    with pytest.raises(gk.LeakedTracerError, match="after the grad / vjp / jvp call"):
        gk.grad(lambda y: USES[use](old, y))(np.ones(3))


OUTSIDE = {
    "arithmetic": lambda old: old * 2.0,
    "a-traced-buffer": np.zeros_like,
    "a-copy": lambda old: old.copy(),
    "a-write": lambda old: old.__setitem__(0, 1.0),
    "a-reduction": lambda old: old.sum(),
}


@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("use", OUTSIDE)
def test_a_leaked_tracer_used_outside_any_transformation_raises(leak, use):
    old = _leak(LEAKS[leak])
    with pytest.raises(gk.LeakedTracerError):
        OUTSIDE[use](old)


def test_a_pullback_still_works_after_its_function_returned():
    out, pullback = gk.vjp(lambda x: np.sin(x) * x, np.ones(3))
    np.testing.assert_allclose(pullback(np.ones(3))[0], np.cos(1.0) + np.sin(1.0))
    np.testing.assert_allclose(pullback(2 * np.ones(3))[0], 2 * (np.cos(1.0) + np.sin(1.0)))


def test_nested_transformations_are_not_leaks():
    f = lambda x: np.sum(np.sin(x) * x ** 2)  # noqa: E731
    x = np.array([0.3, -0.7])
    h = gk.hessian(f)(x)
    np.testing.assert_allclose(h, gk.jacobian(gk.grad(f))(x), rtol=1e-12)
    gk.check_grads(f, (x,), order=2, modes=["fwd", "rev"])


# ----------------------------------------------------------------------------- det
def _cofactors(a):
    n = a.shape[-1]
    c = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, -2), j, -1)
            c[..., i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return c


@pytest.mark.parametrize("a", [
    np.array([[1.0, 2.0], [2.0, 4.0]]),
    np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),  # singular, det ~ 1e-16
    np.diag([2.0, 0.0, 0.0]),
    np.zeros((3, 3)),
    np.random.default_rng(0).normal(size=(2, 4, 4)),
    np.array([[[1.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, 3.0]]]),
], ids=["rank-1-2x2", "rank-2-3x3", "rank-1-diag", "zero", "stack", "stack-with-singular"])
def test_det_gradient_is_the_cofactor_matrix_also_at_singular_matrices(a):
    g = gk.grad(lambda m: np.sum(np.linalg.det(m)))(a)
    np.testing.assert_allclose(g, _cofactors(a), atol=1e-12)
    _, t = gk.jvp(np.linalg.det, (a,), (np.ones_like(a),))
    np.testing.assert_allclose(t, np.sum(_cofactors(a), axis=(-2, -1)), atol=1e-12)


def test_det_second_derivatives_still_work_where_invertible():
    a = np.random.default_rng(1).normal(size=(3, 3))
    gk.check_grads(np.linalg.det, (a,), order=2, modes=["fwd", "rev"])


# ----------------------------------------------------------------------------- Mapping pytrees
class Params(dict):
    pass


@pytest.mark.parametrize("params", [
    OrderedDict(b=np.ones(2), a=np.full(3, 2.0)),
    defaultdict(list, {"w": np.ones(2), "a": np.full(3, 2.0)}),
    Params(w=np.ones(2), a=np.full(3, 2.0)),
    {"layer": OrderedDict(w=np.ones(2), a=np.full(3, 2.0))},
    MappingProxyType({"w": np.ones(2), "a": np.full(3, 2.0)}),
], ids=["OrderedDict", "defaultdict", "dict-subclass", "nested", "mappingproxy"])
def test_mapping_subclasses_are_pytrees(params):
    def leaves(p):
        return [v for m in p.values() for v in (m.values() if hasattr(m, "values") else [m])]

    g = gk.grad(lambda p: sum(np.sum(v ** 2) for v in leaves(p)))(params)
    assert type(g) is type(params) and list(g) == list(params)
    for got, v in zip(leaves(g), leaves(params)):
        np.testing.assert_array_equal(got, 2 * v)
    if isinstance(params, defaultdict):
        assert g.default_factory is list
    restored = gk.tree.tree_map(lambda v: v + 1, params)
    assert type(restored) is type(params) and list(restored) == list(params)


# ----------------------------------------------------------------------------- lstsq
@pytest.mark.parametrize("b_shape", [(6,), (6, 2)], ids=["vector", "matrix"])
def test_lstsq_has_numpy_values_and_correct_derivatives(b_shape):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(6, 3)), rng.normal(size=b_shape)

    def f(a, b):
        x, res, rank, s = np.linalg.lstsq(a, b, rcond=None)
        return np.sum(np.sin(x)) + np.sum(res) + np.sum(s ** 2)
    gk.check_grads(f, (a, b), order=2, modes=["fwd", "rev"])

    def values(a, b):
        x, res, rank, s = np.linalg.lstsq(a, b, rcond=None)
        expected = np.linalg.lstsq(gk.autodiff.trace.getval(a), b, rcond=None)
        assert rank == expected[2]
        for got, want in zip((x, res, s), (expected[0], expected[1], expected[3])):
            np.testing.assert_array_equal(gk.autodiff.trace.getval(got), want)
        return np.sum(x)
    gk.grad(values)(a, b)
