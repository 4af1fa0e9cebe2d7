"""Cases found by probing ordinary code against NumPy and finite differences: each was
answered wrongly without an error, or failed with an error that named neither the function
nor a rewrite. Now each gives NumPy's answer or a gradkit error that says what to write."""
import functools
import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import JitWarning
from gradkit.autodiff.primitive import NoGradientRuleError

X = np.array([1.0, 2.0, 3.0])


# -- arguments
@pytest.mark.parametrize("transform", [gk.grad, gk.value_and_grad, gk.jacobian])
def test_an_argument_named_twice_in_argnums_is_refused(transform):
    with pytest.raises(ValueError, match="names an argument twice"):
        transform(lambda a, b: np.sum(a * b), argnums=(0, 0))(X, 2 * X)


def test_a_cotangent_of_another_shape_than_the_output_is_refused():
    _, pullback = gk.vjp(lambda v: v ** 2, X)
    for wrong in (np.ones((2, 3)), np.array([5.0])):
        with pytest.raises(ValueError, match="a cotangent has shape"):
            pullback(wrong)
    np.testing.assert_array_equal(pullback(np.ones(3))[0], 2 * X)
    with pytest.raises(ValueError, match=r"its output \(\)"):
        gk.vjp(lambda v: np.sum(v ** 2), X)[1](np.ones(3))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (np.matrix itself)
def test_an_np_matrix_argument_is_refused_with_the_rewrite():
    with pytest.raises(TypeError, match="np.asarray"):
        gk.grad(lambda m: np.sum(m))(np.matrix([[1.0, 2.0]]))


# -- aliased arguments: NumPy changes both names of one array; a gradient cannot follow that
def _doubles_a(a, b):
    a *= 2
    return np.sum(a * b)


@pytest.mark.parametrize("args", [lambda: (X, X), lambda: (X, X[:]), lambda: (X[::-1], X)],
                         ids=["same", "view", "reversed view"])
def test_a_write_into_an_argument_that_aliases_another_is_refused(args):
    x, y = args()
    for call in (lambda: gk.grad(_doubles_a)(x, y),
                 lambda: gk.value_and_grad(_doubles_a, argnums=(0, 1))(x, y),
                 lambda: gk.jvp(_doubles_a, (x, y), (np.ones(3), np.ones(3)))):
        with pytest.raises(NoGradientRuleError, match="shares memory with another argument"):
            call()
    np.testing.assert_array_equal(X, [1.0, 2.0, 3.0])  # nothing the caller had changed


def test_aliased_arguments_that_are_only_read_keep_their_partial_derivatives():
    ga, gb = gk.grad(lambda a, b: np.sum(a * b ** 2), argnums=(0, 1))(X, X)
    np.testing.assert_array_equal(ga, X ** 2)
    np.testing.assert_array_equal(gb, 2 * X * X)
    value, g = gk.value_and_grad(_doubles_a)(X, X.copy())  # copies: NumPy's own answer
    assert value == _doubles_a(X.copy(), X.copy())
    np.testing.assert_array_equal(g, 2 * X)


def test_a_dict_holding_one_array_twice_refuses_a_write():
    def f(p):
        p["a"] += 1.0
        return np.sum(p["a"] * p["b"])
    y = np.array([1.0, 2.0])
    with pytest.raises(NoGradientRuleError, match="shares memory"):
        gk.grad(f)({"a": y, "b": y})


# -- setting properties
@pytest.mark.parametrize("name, rewrite", [("shape", "reshape"), ("real", "np.imag"),
                                           ("imag", "np.real")])
def test_setting_a_property_names_the_rewrite(name, rewrite):
    def f(v):
        setattr(v, name, (3, 1) if name == "shape" else v)
        return np.sum(v)
    with pytest.raises(NoGradientRuleError, match=rewrite):
        gk.grad(f)(X)


# -- rules
@pytest.mark.parametrize("make", [lambda v: np.tile(v, (2, 1)), lambda v: np.tile(v, 1),
                                  lambda v: np.repeat(v[None], 2, axis=0)],
                         ids=["tile 2-d", "tile once", "repeat"])
def test_the_result_of_tile_and_repeat_is_an_array_of_its_own(make):
    """NumPy's tile and repeat return new writable arrays: a write into one reaches neither
    the argument nor raises."""
    def f(v):
        y = make(v)
        y[(0,) * y.ndim] = 5.0
        return np.sum(y ** 2) + np.sum(v)

    assert gk.value_and_grad(f)(X)[0] == f(X.copy())
    gk.check_grads(f, (X,), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("reduce, initial", [(np.max, 0.0), (np.min, 3.0)])
def test_max_and_min_of_nothing_with_initial_give_initial(reduce, initial):
    for shape, axis in [((0,), None), ((2, 0), 1)]:
        x = np.zeros(shape)
        value, g = gk.value_and_grad(lambda v: np.sum(reduce(v, axis=axis, initial=initial)))(x)
        assert value == np.sum(reduce(x, axis=axis, initial=initial)) and g.shape == shape


@pytest.mark.parametrize("v", [np.array([1.0, 2.0, 3.0]), np.array(1.5)], ids=["1-d", "0-d"])
def test_piecewise_compiles_under_the_gradient(v):
    def f(u):
        return np.sum(np.piecewise(u, u < 2, [lambda w: w ** 2, np.sin]))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JitWarning)  # (boolean masks: it may run eagerly)
        jitted = gk.jit(gk.grad(f))
        for w in (v, v + 1.0, v):
            np.testing.assert_array_equal(jitted(w), gk.grad(f)(w))


# -- gk.jit
def norm(w):  # a function with the name of a NumPy function its program calls
    return np.linalg.norm(w)


@pytest.mark.parametrize("fn", [np.tanh, gk.grad(norm)], ids=["np.tanh", "grad(norm)"])
def test_a_program_named_as_a_numpy_function_it_calls_replays(fn):
    jitted = gk.jit(fn)
    for _ in range(3):
        np.testing.assert_array_equal(jitted(X), fn(X))


@pytest.mark.parametrize("f, want", [
    (lambda a, n: a * (n in {1, 2}), X),
    (lambda a, n: a * {1: 2.0}.get(n, 7.0), 2 * X),
    (lambda a, n: a * {1: 2.0}[n], 2 * X),
    (lambda a, n: a * len(str(n)), X),
    (lambda a, n: a * round(n), X),
], ids=["in a set", "dict.get", "dict[]", "str", "round"])
def test_python_lookups_of_a_number_argument_give_its_answer_and_run_eagerly(f, want):
    jitted = gk.jit(f)
    with pytest.warns(JitWarning, match="runs eagerly"):
        np.testing.assert_array_equal(jitted(X, 1), want)
    np.testing.assert_array_equal(jitted(X, 1), want)


def test_functools_wraps_keeps_a_jitted_program_its_own():
    @functools.wraps(np.tanh)
    def wrapped(x):
        return np.tanh(x) + 1.0
    jitted = gk.jit(wrapped)
    for _ in range(2):
        np.testing.assert_array_equal(jitted(X), np.tanh(X) + 1.0)


# -- vmap, hvp
@pytest.mark.parametrize("fn", [lambda x: np.argmax(x, keepdims=True),
                                lambda x: x.argmin(keepdims=True),
                                lambda x: np.nanargmax(x, keepdims=True)],
                         ids=["argmax", "argmin method", "nanargmax"])
def test_vmap_of_a_flat_arg_reduction_keeps_every_axis(fn):
    batch = np.arange(24.0).reshape(4, 2, 3)[:, ::-1]
    got, want = gk.vmap(fn)(batch), np.stack([fn(x) for x in batch])
    assert got.shape == want.shape == (4, 1, 1) and np.array_equal(got, want)


def test_vmap_out_axes_out_of_bounds_is_refused():
    with pytest.raises(ValueError, match="out_axes=1 is out of bounds"):
        gk.vmap(lambda x: x.sum(), out_axes=1)(np.ones((4, 2)))
    assert gk.vmap(lambda x: 2 * x, out_axes=-1)(np.ones((4, 2))).shape == (2, 4)


def test_a_batched_value_answers_the_ndarray_attributes_as_a_traced_one():
    batch = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(gk.vmap(lambda x: x * x.nbytes)(batch), batch * 24)
    with pytest.raises(AttributeError, match="x.ravel"):
        gk.vmap(lambda x: x.flat[0])(batch)


def test_hvp_with_several_argnums_says_to_pass_one_argument():
    with pytest.raises(TypeError, match="position of one argument"):
        gk.hvp(lambda a, b: np.sum(a * b), argnums=(0, 1))(X, X, (X, X))


def _add_at_rows(x, i):
    y = x.copy()
    y[i] += 1.0
    return np.sum(y ** 2)


def _write_rows(x, i):
    y = np.zeros_like(x)
    y[i] = x[:3] * 2.0
    return np.sum(y ** 3)


@pytest.mark.parametrize("f", [_add_at_rows, _write_rows])
def test_per_example_gradients_through_a_write_at_batched_repeated_indices(f):
    x = np.random.default_rng(0).standard_normal((4, 6))
    index = np.array([[0, 0, 1], [1, 1, 2], [2, 2, 2], [5, 4, 5]])  # repeats: the last wins
    loop = np.stack([gk.grad(f)(x[k], index[k]) for k in range(4)])
    np.testing.assert_allclose(gk.vmap(gk.grad(f))(x, index), loop, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("f", [lambda p, i: np.sum(p["W"][i] ** 2),
                               lambda p, i: np.sum(np.tanh(p["W"][i, 1:]))],
                         ids=["W[i]", "W[i, 1:]"])
def test_per_example_gradients_of_a_shared_table_at_batched_rows(f):
    params = {"W": np.random.default_rng(1).standard_normal((6, 3))}
    index = np.array([0, 2, 5, 2])
    per_example = gk.vmap(gk.grad(f), in_axes=(None, 0))(params, index)["W"]
    loop = np.stack([gk.grad(f)(params, i)["W"] for i in index])
    np.testing.assert_allclose(per_example, loop, rtol=1e-13, atol=1e-15)
