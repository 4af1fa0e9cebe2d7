"""``gk.vmap`` against a Python loop over the examples, and the batched Jacobians and Hessians.

The law: ``vmap(f)(xs)`` equals ``np.stack([f(x) for x in xs])`` (and ``in_axes`` / ``out_axes``
move that axis), for every rule family, composed with every transformation in both orders.
The rule cases of ``rule_cases/`` are the table: each case's function vmapped over a leading
batch of three inputs equals the loop.
"""
import numpy as np
import pytest

import gradkit as gk
from gradkit import TracerConversionError
from gradkit.autodiff import batching
from gradkit.tree import tree_flatten, tree_map

from .mutation_cases import CASES as MUTATION_CASES
from .rule_cases import CASES

B = 3
R = np.random.default_rng(14)


def batch_of(args):
    """Three examples per argument: the case's own inputs scaled slightly differently (they
    stay inside every rule's domain), stacked on a new leading axis."""
    return tuple(np.stack([a * (1.0 + 0.01 * b) for b in range(B)]) if np.ndim(a) or
                 isinstance(a, float) or isinstance(a, np.ndarray) else a for a in args)


def example(args, b):
    return tuple(a[b] for a in args)


def assert_tree_close(got, want, rtol=1e-10, atol=1e-12):
    got_leaves, got_def = tree_flatten(got)
    want_leaves, want_def = tree_flatten(want)
    assert got_def == want_def
    for g, w in zip(got_leaves, want_leaves):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def stacked(results):
    return tree_map(lambda *leaves: np.stack(leaves), *results)


def loss_of(fun):
    """A real scalar of the case's outputs (every leaf summed, the real part)."""
    def loss(*args):
        leaves, _ = tree_flatten(fun(*args))
        return sum(np.sum(np.real(leaf)) for leaf in leaves)
    return loss


REAL_CASES = [c for c in CASES if all(np.asarray(a).dtype.kind == "f" for a in c[2])]


# ----------------------------------------------------------------------------- every rule case
@pytest.mark.parametrize("name, fun, args", CASES, ids=[c[0] for c in CASES])
def test_vmap_of_every_rule_case_equals_the_loop(name, fun, args):
    xs = batch_of(args)
    want = stacked([fun(*example(xs, b)) for b in range(B)])
    assert_tree_close(gk.vmap(fun)(*xs), want)


ELEMENTWISE = [c for c in CASES if c[1].__class__ is np.ufunc]


@pytest.mark.parametrize("name, fun, args", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_vmap_of_a_ufunc_is_the_ufunc_on_the_stack_bit_for_bit(name, fun, args):
    """One rule for every ufunc: the same arithmetic on every entry as the loop."""
    xs = batch_of(args)
    np.testing.assert_array_equal(gk.vmap(fun)(*xs),
                                  np.stack([fun(*example(xs, b)) for b in range(B)]))


@pytest.mark.parametrize("name, fun, args", CASES, ids=[c[0] for c in CASES])
def test_vmap_with_only_the_first_argument_mapped(name, fun, args):
    xs = batch_of(args)
    in_axes = (0,) + (None,) * (len(args) - 1)
    want = stacked([fun(xs[0][b], *args[1:]) for b in range(B)])
    assert_tree_close(gk.vmap(fun, in_axes=in_axes)(xs[0], *args[1:]), want)


@pytest.mark.parametrize("name, fun, args", REAL_CASES, ids=[c[0] for c in REAL_CASES])
def test_per_example_gradients_of_every_rule_case(name, fun, args):
    """vmap(grad): the reverse trace runs inside the batch (its rules see batched values)."""
    xs = batch_of(args)
    g = gk.grad(loss_of(fun), argnums=tuple(range(len(args))))
    want = stacked([g(*example(xs, b)) for b in range(B)])
    assert_tree_close(gk.vmap(g)(*xs), want, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name, fun, args", REAL_CASES, ids=[c[0] for c in REAL_CASES])
def test_gradient_of_a_vmapped_sum_of_every_rule_case(name, fun, args):
    """grad(vmap): the batch runs inside the reverse trace (rules batched on its tracers)."""
    xs = batch_of(args)
    loss = loss_of(fun)
    nums = tuple(range(len(args)))
    got = gk.grad(lambda *a: np.sum(gk.vmap(loss)(*a)), argnums=nums)(*xs)
    per_example = [gk.grad(loss, argnums=nums)(*example(xs, b)) for b in range(B)]
    assert_tree_close(got, stacked(per_example), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name, fun, args", REAL_CASES, ids=[c[0] for c in REAL_CASES])
def test_vmap_of_jvp_of_every_rule_case(name, fun, args):
    """vmap over tangents of a forward trace (jacfwd's pass): the tangents are batched."""
    tangents = tuple(np.stack([R.standard_normal(np.shape(a)) for _ in range(B)]) for a in args)
    push = lambda *t: gk.jvp(fun, args, t)[1]  # noqa: E731
    want = stacked([push(*example(tangents, b)) for b in range(B)])
    assert_tree_close(gk.vmap(push)(*tangents), want, rtol=1e-9, atol=1e-11)


# ----------------------------------------------------------------------------- jacobian, hessian
def old_jacobian(fun, x, mode):
    """The Jacobian as gradkit built it before vmap: one jvp / vjp per basis vector."""
    out_shape, xshape = np.shape(fun(x)), np.shape(x)
    n_in, n_out = int(np.prod(xshape)), int(np.prod(out_shape))
    if mode == "fwd":
        eye = np.eye(n_in)
        cols = [gk.jvp(fun, (x,), (np.reshape(eye[i], xshape),))[1] for i in range(n_in)]
        jac = np.stack([np.reshape(c, (n_out,)) for c in cols], axis=-1)
    else:
        _, pullback = gk.vjp(fun, x)
        eye = np.eye(n_out)
        jac = np.stack([np.reshape(pullback(np.reshape(eye[i], out_shape))[0], (n_in,))
                        for i in range(n_out)], axis=0)
    return np.reshape(jac, out_shape + xshape)


ONE_ARRAY = [c for c in REAL_CASES if len(c[2]) == 1 and np.size(c[2][0]) > 0
             and isinstance(c[1](*c[2]), np.ndarray | np.generic)]


@pytest.mark.parametrize("name, fun, args", ONE_ARRAY, ids=[c[0] for c in ONE_ARRAY])
@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_jacobian_in_one_pass_equals_the_old_loop(name, fun, args, mode):
    jac = gk.jacfwd(fun) if mode == "fwd" else gk.jacrev(fun)
    np.testing.assert_allclose(jac(args[0]), old_jacobian(fun, args[0], mode),
                               rtol=1e-12, atol=1e-14)


SCALAR_FUNCTIONS = {
    "logistic-l2": lambda w: np.mean(np.logaddexp(0.0, -YS * (XS @ w))) + 0.1 * np.sum(w * w),
    "tanh-mlp": lambda w: np.sum(np.tanh(np.tanh(XS @ w) * w[0]) ** 2),
    "indexing-and-writes": lambda w: np.sum(_written(w) ** 3),
}
XS = R.standard_normal((20, 5))
YS = np.sign(R.standard_normal(20))


def _written(w):
    buf = np.zeros_like(w)
    buf[1:] = w[:-1] * w[1:]
    buf += np.cumsum(w)
    return buf


@pytest.mark.parametrize("name", SCALAR_FUNCTIONS)
def test_hessian_in_one_pass_equals_the_old_loop(name):
    f = SCALAR_FUNCTIONS[name]
    w = R.standard_normal(5)
    old = old_jacobian(gk.grad(f), w, "fwd")
    np.testing.assert_allclose(gk.hessian(f)(w), old, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gk.hessian(f)(w), gk.hessian(f)(w).T, rtol=1e-10, atol=1e-12)


def test_elementwise_grad_is_the_jacobian_diagonal():
    x = R.uniform(0.2, 0.9, 6)
    np.testing.assert_allclose(gk.elementwise_grad(np.tanh)(x),
                               np.diag(gk.jacobian(np.tanh)(x)), rtol=1e-15)


# ----------------------------------------------------------------------------- per-example
def mlp_loss(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    return np.sum((logits - y) ** 2) + np.sum(params["W1"] ** 2) * 1e-3


def test_per_example_gradients_with_in_axes_none_for_the_parameters():
    params = {"W1": R.standard_normal((4, 6)), "b1": R.standard_normal(6),
              "W2": R.standard_normal((6, 2)), "b2": R.standard_normal(2)}
    X, Y = R.standard_normal((7, 4)), R.standard_normal((7, 2))
    got = gk.vmap(gk.grad(mlp_loss), in_axes=(None, 0, 0))(params, X, Y)
    want = stacked([gk.grad(mlp_loss)(params, X[i], Y[i]) for i in range(7)])
    assert list(got) == list(params)  # the parameters' own key order
    assert_tree_close(got, want)
    # their mean is the gradient of the mean loss
    mean = gk.grad(lambda p: np.mean(gk.vmap(mlp_loss, in_axes=(None, 0, 0))(p, X, Y)))(params)
    assert_tree_close(tree_map(lambda g: np.mean(g, axis=0), got), mean)


# ----------------------------------------------------------------------------- axes and pytrees
def test_in_axes_and_out_axes_move_the_batch_axis():
    x = R.standard_normal((4, 3, 5))
    f = lambda a: np.sin(a) @ np.ones((5, 2))  # noqa: E731
    got = gk.vmap(f, in_axes=1, out_axes=-1)(x)
    want = np.stack([f(x[:, i]) for i in range(3)], axis=-1)
    np.testing.assert_array_equal(got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    got = gk.vmap(f, in_axes=-1, out_axes=1)(np.moveaxis(x, 1, -1))
    np.testing.assert_allclose(got, np.stack([f(x[:, i]) for i in range(3)], axis=1),
                               rtol=1e-14)


def test_pytree_arguments_with_a_pytree_of_in_axes():
    tree = {"a": R.standard_normal((3, 2)), "b": [R.standard_normal(2), R.standard_normal((2, 3))]}
    f = lambda t: {"s": t["a"] * t["b"][0], "m": np.outer(t["b"][1], t["a"])}  # noqa: E731
    got = gk.vmap(f, in_axes=({"a": 0, "b": [None, 1]},), out_axes={"s": 0, "m": 1})(tree)
    want = [f({"a": tree["a"][i], "b": [tree["b"][0], tree["b"][1][:, i]]}) for i in range(3)]
    np.testing.assert_allclose(got["s"], np.stack([w["s"] for w in want]), rtol=1e-15)
    np.testing.assert_allclose(got["m"], np.stack([w["m"] for w in want], axis=1), rtol=1e-15)


def test_an_output_that_does_not_depend_on_the_batch_is_repeated():
    out = gk.vmap(lambda x, c: (x * 2.0, c + 1.0), in_axes=(0, None))(np.ones(3), np.zeros(2))
    np.testing.assert_array_equal(out[1], np.ones((3, 2)))


def test_axis_size_when_no_argument_is_mapped():
    f = lambda c: c * 2.0  # noqa: E731
    np.testing.assert_array_equal(gk.vmap(f, in_axes=None, axis_size=4)(np.ones(2)),
                                  np.full((4, 2), 2.0))
    with pytest.raises(ValueError, match="at least one non-None value in in_axes"):
        gk.vmap(f, in_axes=None)(np.ones(2))


def test_errors_name_what_was_wrong():
    with pytest.raises(ValueError, match="inconsistent sizes.*argument 0 has size 3.*argument 1 "
                                         "has size 4"):
        gk.vmap(np.add)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        gk.vmap(np.add, in_axes=(0,))(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="out_axes=None"):
        gk.vmap(np.sin, out_axes=None)(np.ones(3))
    # a branch every example takes the same way is taken; one they disagree on raises
    np.testing.assert_array_equal(gk.vmap(lambda x: x if x > 0 else -x)(np.ones(3)), np.ones(3))
    with pytest.raises(TracerConversionError, match="np.where.*|disagree"):
        gk.vmap(lambda x: x if x > 0 else -x)(np.array([1.0, -1.0, 2.0]))
    def into_plain(x):
        buf = np.zeros(2)
        buf[:] = x
        return buf
    with pytest.raises(TracerConversionError, match="np.zeros_like"):
        gk.vmap(into_plain)(np.ones((3, 2)))
    with pytest.raises(ValueError) as caught:  # NumPy wraps float()'s error in its own
        gk.vmap(lambda x: np.zeros(2).__setitem__(0, x))(np.arange(3.0))
    assert isinstance(caught.value.__cause__, TracerConversionError)
    W = R.standard_normal((4, 3))
    with pytest.raises(TracerConversionError, match="take_along_axis"):
        gk.vmap(lambda i: W[i])(np.array([0, 2, 3]))
    gather = gk.vmap(lambda i: np.take_along_axis(W, i[None, None], axis=0)[0])
    np.testing.assert_array_equal(gather(np.array([0, 2, 3])), W[[0, 2, 3]])
    with pytest.raises(ValueError, match="cannot be batched"):
        gk.vmap(lambda x: x[x > 0])(np.array([[1.0, -1.0], [1.0, 1.0]]))


# ----------------------------------------------------------------------------- the fallback
def test_a_function_without_a_batching_rule_runs_once_per_example(monkeypatch):
    calls = []
    original = batching.loop_rule

    def counting(trace, fn, args, kwargs):
        calls.append(fn)
        return original(trace, fn, args, kwargs)

    monkeypatch.setattr(batching, "loop_rule", counting)
    assert np.kron not in batching.BATCH_RULES
    x = R.standard_normal((B, 2, 2))
    got = gk.vmap(lambda a: np.kron(a, a[::-1]))(x)
    np.testing.assert_array_equal(got, np.stack([np.kron(a, a[::-1]) for a in x]))
    assert np.kron in calls
    # and it differentiates, in both orders
    g = gk.grad(lambda a: np.sum(np.kron(a, a) ** 2))
    np.testing.assert_allclose(gk.vmap(g)(x), np.stack([g(a) for a in x]), rtol=1e-12)


@pytest.mark.parametrize("fun", [
    lambda a, b: np.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,ij->", a, b),
    lambda a, b: np.einsum("ij,jk", a, b), lambda a, b: np.outer(a, b),
    lambda a, b: np.outer(a[0], b), lambda a, b: a @ b, lambda a, b: a[0] @ b,
    lambda a, b: a @ b[:, 0], lambda a, b: a[0] @ b[:, 0], lambda a, b: np.dot(a, b)])
@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0)])
def test_products_batched_on_either_side_equal_the_loop(fun, in_axes):
    a, b = R.standard_normal((B, 3, 3)), R.standard_normal((B, 3, 3))
    args = [x if ax == 0 else x[0] for x, ax in zip((a, b), in_axes)]
    want = np.stack([fun(*(x[i] if ax == 0 else x for x, ax in zip(args, in_axes)))
                     for i in range(B)])
    np.testing.assert_allclose(gk.vmap(fun, in_axes=in_axes)(*args), want, rtol=1e-13)


def test_an_empty_batch_runs_the_rules_and_names_a_function_without_one():
    np.testing.assert_array_equal(gk.vmap(np.sin)(np.zeros((0, 2))), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="empty batch cannot run kron"):
        gk.vmap(lambda a: np.kron(a, a))(np.zeros((0, 2)))


def test_advanced_indices_apart_are_batched_as_numpy_orders_them():
    x = R.standard_normal((B, 3, 4, 5))
    f = lambda a: a[[0, 2], :, [1, 3]]  # noqa: E731  (NumPy puts the indexed axis first)
    np.testing.assert_array_equal(gk.vmap(f)(x), np.stack([f(a) for a in x]))


# ----------------------------------------------------------------------------- nesting
def test_nested_vmaps_and_transformations():
    x = R.standard_normal((2, 3, 4))
    f = lambda v: np.sum(np.sin(v) * v[::-1]) ** 2  # noqa: E731
    np.testing.assert_allclose(gk.vmap(gk.vmap(f))(x), np.array([[f(v) for v in m] for m in x]),
                               rtol=1e-13)
    h = gk.vmap(gk.vmap(gk.hessian(f)))(x)
    np.testing.assert_allclose(h, np.array([[gk.hessian(f)(v) for v in m] for m in x]),
                               rtol=1e-11, atol=1e-13)
    # an outer value closed over by the inner vmap is a constant to it
    y = R.standard_normal((3, 4))
    got = gk.vmap(lambda a: gk.vmap(lambda b: np.sum(a * b))(y))(x[0])
    np.testing.assert_allclose(got, x[0] @ y.T, rtol=1e-13)
    # the gradient of a vmap of a gradient (grad outside, vmap, grad inside)
    outer = gk.grad(lambda w: np.sum(gk.vmap(gk.grad(lambda v: np.sum(np.tanh(w * v))))(y)))
    w = R.standard_normal(4)
    want = gk.grad(lambda w: sum(np.sum(gk.grad(lambda v: np.sum(np.tanh(w * v)))(r))
                                 for r in y))(w)
    np.testing.assert_allclose(outer(w), want, rtol=1e-12)


def test_a_closure_over_an_outer_tracer_keeps_its_gradient():
    """grad(vmap): a value of the outer reverse trace met inside the batch (operators' fast
    path) must not be taken for a constant."""
    x = R.standard_normal((B, 4))
    w = R.standard_normal(4)
    got = gk.grad(lambda w: np.sum(gk.vmap(lambda r: w * r - r * w + np.sum(r) * w)(x)))(w)
    np.testing.assert_allclose(got, np.full(4, np.sum(x)), rtol=1e-13)


def test_stop_gradient_inside_vmap_stops_it_and_keeps_the_batch():
    x = R.standard_normal((B, 3))
    got = gk.grad(lambda x: np.sum(gk.vmap(lambda r: r * gk.stop_gradient(r))(x)))(x)
    np.testing.assert_allclose(got, x, rtol=1e-15)


# ----------------------------------------------------------------------------- mutation
@pytest.mark.parametrize("case", MUTATION_CASES, ids=[c.name for c in MUTATION_CASES])
def test_mutation_cases_under_vmap_equal_the_loop(case):
    xs = batch_of(case.fresh_args())
    before = tuple(np.copy(a) for a in xs)
    want = stacked([case.fun(*(np.copy(a) for a in example(xs, b))) for b in range(B)])
    got = gk.vmap(case.fun)(*xs)
    assert_tree_close(got, want, rtol=1e-13, atol=1e-15)
    for a, b in zip(xs, before):  # the caller's arrays are left unchanged
        np.testing.assert_array_equal(a, b)


def test_writes_through_views_and_add_at_under_vmap():
    def f(x):
        buf = np.zeros_like(x)
        v = buf[1:]
        v += x[:-1]              # through a view: the base sees it
        np.add.at(buf, [0, 0, 2], x[1:] * 2.0)
        buf[::2] *= 3.0
        return buf
    x = R.standard_normal((B, 4))
    np.testing.assert_array_equal(gk.vmap(f)(x), np.stack([f(r) for r in x]))
    g = gk.grad(lambda x: np.sum(f(x) ** 2))
    np.testing.assert_allclose(gk.vmap(g)(x), np.stack([g(r) for r in x]), rtol=1e-14)
    np.testing.assert_allclose(gk.jacobian(f)(x[0]), old_jacobian(f, x[0], "rev"), rtol=1e-15)
