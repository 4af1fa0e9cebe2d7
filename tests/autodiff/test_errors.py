"""Never a silently wrong gradient: every way of losing the trace raises an error that says what
happened and what to do instead (DESIGN.md, "The engine")."""
import numpy as np
import pytest

import gradkit as gk
from gradkit import NoGradientRuleError, TracerConversionError
from gradkit.tree import tree_map

X = np.array([1.0, 2.0, 3.0])


def through(mode, f, x=X):
    """Differentiate ``f`` at ``x`` in reverse (grad of a sum) or forward (jvp) mode."""
    if mode == "rev":
        return gk.grad(lambda t: np.sum(f(t)))(x)
    return gk.jvp(f, (x,), (np.ones_like(x),))


def write_into_plain_array(x):
    a = np.zeros(3)
    a[0] = x[0]
    return a


def write_slice_into_plain_array(x):
    a = np.zeros(3)
    a[:2] = x[:2]
    return a


def add_with_out(x):
    buf = np.zeros(3)
    np.add(x, 1.0, out=buf)
    return buf


CONVERSION = ["drop its gradient", "gradkit.stop_gradient"]

# (name, function of x, the error, words its message must contain)
LOST_TRACE = [
    ("np.asarray", lambda x: np.asarray(x) * x, TracerConversionError, ["np.asarray"] + CONVERSION),
    ("np.array", lambda x: np.array(x) * x, TracerConversionError, ["np.array"] + CONVERSION),
    ("np.array-of-list", lambda x: np.array([x[0], x[1]]), TracerConversionError,
     ["np.stack"] + CONVERSION),
    ("float", lambda x: float(x[0]) * x, TracerConversionError, ["float()"] + CONVERSION),
    ("int", lambda x: int(x[0]) * x, TracerConversionError, ["int()"] + CONVERSION),
    ("complex", lambda x: complex(x[0]) * x, TracerConversionError, ["complex()"] + CONVERSION),
    (".item", lambda x: x[0].item() * x, TracerConversionError, [".item()"] + CONVERSION),
    (".tolist", lambda x: np.sum(x.tolist()) * x, TracerConversionError, [".tolist()"]),
    ("math.exp", lambda x: __import__("math").exp(x[0]) * x, TracerConversionError, CONVERSION),
    # writes into a traced buffer work (tests/autodiff/test_mutation.py); into a plain array
    # NumPy gives no hook, so the error names the traced buffer to use instead
    ("write-slice", write_slice_into_plain_array, TracerConversionError,
     ["writing into a plain NumPy array", "np.zeros_like(x, shape="] + CONVERSION),
    ("out=", add_with_out, TracerConversionError, ["out=", "plain NumPy array"] + CONVERSION),
    ("np.histogram", lambda x: np.histogram(x, weights=x)[0], NoGradientRuleError,
     ["np.histogram", "custom_vjp"]),
    ("np.unique", lambda x: np.unique(x), NoGradientRuleError, ["np.unique", "custom_vjp"]),
    ("np.unwrap", lambda x: np.unwrap(x), NoGradientRuleError, ["np.unwrap"]),
    ("ufunc-keyword", lambda x: np.add(x, 1.0, where=x > 1), NoGradientRuleError,
     ["np.add", "where", "np.where"]),
]


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("name, f, error, words", LOST_TRACE, ids=[c[0] for c in LOST_TRACE])
def test_losing_the_trace_raises_and_says_what_to_do(name, f, error, words, mode):
    with pytest.raises(error) as info:
        through(mode, f, X.copy())
    msg = str(info.value)
    missing = [w for w in words if w not in msg]
    assert not missing, f"message lacks {missing}: {msg}"


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_writing_a_traced_element_into_a_plain_array_raises_a_clear_error(mode):
    # NumPy's element assignment calls float(), which raises gradkit's error; because a
    # Tracer supports indexing NumPy then raises its own ValueError *from* that error, so the
    # traceback shows gradkit's message first ("The above exception was the direct cause").
    with pytest.raises((TracerConversionError, ValueError)) as info:
        through(mode, write_into_plain_array)
    error = info.value
    if not isinstance(error, TracerConversionError):
        error = error.__cause__
    assert isinstance(error, TracerConversionError)
    assert "drop its gradient" in str(error) and "np.stack" in str(error)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_writing_a_traced_element_into_a_plain_array_never_succeeds(mode):
    with pytest.raises((TracerConversionError, ValueError)):
        through(mode, write_into_plain_array)


def test_conversion_errors_are_type_errors_and_missing_rules_not_implemented():
    # so that code catching the built-in families still works
    assert issubclass(TracerConversionError, TypeError)
    assert issubclass(NoGradientRuleError, NotImplementedError)


def test_plain_values_still_convert_inside_the_function():
    # converting something that is not traced is fine and does not raise
    g = gk.grad(lambda x: np.sum(x * float(np.asarray(2.0))))(X)
    np.testing.assert_allclose(g, 2.0)


# ----------------------------------------------------------------------------- grad's contract
@pytest.mark.parametrize("f, shown", [
    (lambda x: x ** 2, "shape (3,)"),
    (lambda x: x[:2] * 1.0, "shape (2,)"),
    (lambda x: (np.sum(x), np.sum(x)), "tuple"),
    (lambda x: [np.sum(x)], "list"),
    (lambda x: np.ones(3), "shape (3,)"),
], ids=["vector", "slice", "tuple", "list", "constant-vector"])
def test_grad_of_a_non_scalar_output_says_how_to_reduce(f, shown):
    with pytest.raises(TypeError) as info:
        gk.grad(f)(X)
    msg = str(info.value)
    for word in ["scalar", shown, "np.sum", "jacobian"]:
        assert word in msg, msg


@pytest.mark.parametrize("x, kind", [
    (np.array([1, 2, 3]), "integer"),
    (np.array([1, 2], dtype=np.uint8), "integer"),
    (np.array([True, False]), "boolean"),
    ({"w": np.arange(3)}, "integer"),
    ([np.ones(2), np.array([1, 2])], "integer"),
], ids=["int64", "uint8", "bool", "dict-of-int", "list-with-int"])
@pytest.mark.parametrize("transform", ["grad", "jvp", "vjp"])
def test_integer_and_boolean_inputs_are_refused(x, kind, transform):
    f = lambda t: sum(np.sum(leaf * 1.0) for leaf in gk.tree.tree_leaves(t))  # noqa: E731
    with pytest.raises(TypeError) as info:
        if transform == "grad":
            gk.grad(f)(x)
        elif transform == "jvp":
            gk.jvp(f, (x,), (tree_map(lambda a: np.zeros(np.shape(a)), x),))
        else:
            gk.vjp(f, x)
    msg = str(info.value)
    assert kind in msg and "floating-point" in msg and "astype(float)" in msg, msg


@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_argnums_out_of_range(argnums):
    with pytest.raises(ValueError) as info:
        gk.grad(lambda x, y: np.sum(x * y), argnums=argnums)(X, X)
    msg = str(info.value)
    assert f"argnums={argnums!r}" in msg and "2 positional" in msg


@pytest.mark.parametrize("returned", [
    lambda x: np.sum(x),
    lambda x: (np.sum(x),),
    lambda x: (np.sum(x), 1, 2),
    lambda x: [np.sum(x), 1],
], ids=["scalar", "1-tuple", "3-tuple", "list"])
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "vjp", "jvp"])
def test_has_aux_needs_a_pair(returned, transform):
    with pytest.raises(TypeError, match=r"has_aux=True needs the function to return a pair"):
        if transform == "grad":
            gk.grad(returned, has_aux=True)(X)
        elif transform == "value_and_grad":
            gk.value_and_grad(returned, has_aux=True)(X)
        elif transform == "vjp":
            gk.vjp(returned, X, has_aux=True)
        else:
            gk.jvp(returned, (X,), (X,), has_aux=True)


def test_jvp_has_aux_does_not_unpack_a_length_two_array():
    with pytest.raises(TypeError, match="pair"):
        gk.jvp(lambda x: x * 2.0, (X[:2],), (X[:2],), has_aux=True)


# ----------------------------------------------------------------------------- pytree structures
def test_tree_map_with_mismatched_structures():
    with pytest.raises(ValueError, match="structures differ"):
        tree_map(lambda a, b: a + b, {"w": 1.0, "b": 2.0}, {"w": 1.0, "c": 2.0})


@pytest.mark.parametrize("cotangent", [
    {"a": X, "c": 1.0},
    [X, 1.0],
    {"a": X},
], ids=["wrong-key", "list-for-dict", "missing-key"])
def test_vjp_cotangent_with_the_wrong_structure(cotangent):
    _, pullback = gk.vjp(lambda x: {"a": x * 2.0, "b": np.sum(x)}, X)
    with pytest.raises(ValueError) as info:
        pullback(cotangent)
    assert "cotangent" in str(info.value) and "structure" in str(info.value)


@pytest.mark.parametrize("tangent, words", [
    ({"w": X, "c": 1.0}, ["tangent 0", "structure"]),
    ([X, 1.0], ["tangent 0", "structure"]),
    ({"w": X, "b": np.ones(2)}, ["shape (2,)", "(3,)"]),
], ids=["wrong-key", "list-for-dict", "wrong-shape"])
def test_jvp_tangent_with_the_wrong_structure_or_shape(tangent, words):
    with pytest.raises(ValueError) as info:
        gk.jvp(lambda p: p["w"] * p["b"], ({"w": X, "b": X},), (tangent,))
    msg = str(info.value)
    assert all(w in msg for w in words), msg


def test_jvp_with_a_different_number_of_primals_and_tangents():
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        gk.jvp(lambda x, y: x * y, (X, X), (X,))


@pytest.mark.parametrize("transform", [gk.jacfwd, gk.jacrev, gk.hessian])
def test_a_pytree_leaf_that_is_not_a_float_array_is_named(transform):
    """(Pytree arguments are differentiated leaf by leaf since issue 15; before, any pytree
    was refused with a pointer to ravel_pytree.)"""
    with pytest.raises(TypeError, match=r"argument 0, leaf \['n'\]\[1\] has dtype <U1"):
        transform(lambda p: np.sum(p["w"] * 2.0))({"w": X, "n": [1.0, "a"]})


@pytest.mark.parametrize("f, name", [
    (lambda x: np.mean([x[0], x[1]]), "np.mean"),
    (lambda x: __import__("scipy.optimize").optimize.rosen(x), "scipy.optimize.rosen"),
], ids=["np.mean-of-list", "scipy-asarray"])
def test_a_library_function_that_converts_its_input_is_named(f, name):
    with pytest.raises(TracerConversionError) as info:
        gk.grad(f)(X.copy())
    assert str(info.value).startswith(f"{name} converts its input with np.asarray")
    assert "np.stack" in str(info.value) and "np.zeros_like" in str(info.value)


def test_jvp_and_check_grads_say_that_they_take_tuples():
    with pytest.raises(TypeError, match=r"primals must be a tuple.*gk.jvp\(f, \(x,\), \(v,\)\)"):
        gk.jvp(np.sin, X, X)
    with pytest.raises(TypeError, match=r"check_grads\(f, \(x,\)\)"):
        gk.check_grads(np.sin, X)
