"""optim.step: the fused in-place step equals the functional update + apply_updates, bit for bit."""
import copy

import numpy as np
import pytest

from gradkit.optim import base as optim_base
from gradkit.optim import transforms as T
from gradkit.tree import tree_leaves, tree_map

FUSED = [  # every optimizer that has a fused kernel
    ("sgd", lambda: T.sgd(0.1)),
    ("sgd-momentum", lambda: T.sgd(0.1, momentum=0.7)),
    ("sgd-nesterov", lambda: T.sgd(0.1, momentum=0.7, nesterov=True)),
    ("momentum", lambda: T.momentum(0.05, beta=0.6)),
    ("rmsprop", lambda: T.rmsprop(0.01, 0.8, 0.1)),
    ("rmsprop-defaults", lambda: T.rmsprop(0.01)),
    ("rmsprop-torch-eps", lambda: T.rmsprop(0.01, 0.8, 0.1, eps_in_sqrt=False,
                                            bias_correction=True)),
    ("rmsprop-initial-scale", lambda: T.rmsprop(0.01, 0.8, 0.1, initial_scale=1.0)),
    ("adam", lambda: T.adam(0.1, 0.8, 0.9, 0.1)),
    ("adam-defaults", lambda: T.adam(0.1)),
    ("adam-eps-root", lambda: T.adam(0.1, 0.8, 0.9, 0.1, 0.5)),
    ("adam-schedule", lambda: T.adam(lambda t: 0.1 / (1.0 + t))),
    ("adamw", lambda: T.adamw(0.1, 0.8, 0.9, 0.1, weight_decay=0.3)),
    ("adamw-no-decay", lambda: T.adamw(0.1, weight_decay=0.0)),
]
FUNCTIONAL = [  # no kernel: step takes update + apply_updates(inplace=True)
    ("nadam", lambda: T.nadam(0.1)),
    ("rmsprop-centered", lambda: T.rmsprop(0.01, centered=True)),
    ("rmsprop-momentum", lambda: T.rmsprop(0.01, momentum=0.5)),
    ("adam-mu-float32", lambda: T.adam(0.1, mu_dtype=np.float32)),
    ("adamw-masked", lambda: T.adamw(0.1, mask={"w": True, "b": False})),
    ("adagrad", lambda: T.adagrad(0.5)),
    ("clipped-adam", lambda: T.chain(T.clip_by_global_norm(1.0), T.adam(0.1))),
    ("plateau", lambda: T.chain(T.adam(0.1), T.reduce_on_plateau(factor=0.5, patience=1))),
]
LOSSES = [3.0, 2.0, 2.0, 2.0, 1.0, 1.0]


def _problem(dtype, nested):
    # b and out (one element: a model's intercept) take a kernel's one_step in float64
    rng = np.random.default_rng(7)
    params = {"w": rng.normal(size=(3, 2)).astype(dtype), "b": rng.normal(size=1).astype(dtype)}
    if nested:
        params = {"layer": params, "out": rng.normal(size=(1, 1)).astype(dtype),
                  "v": rng.normal(size=4).astype(dtype)}
    grads = [tree_map(lambda p: np.asarray(rng.normal(size=p.shape), dtype), params)
             for _ in LOSSES]
    return params, grads


def _leaves(tree):
    return tree_leaves(tree)


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("name, make", FUSED + FUNCTIONAL, ids=[n for n, _ in FUSED + FUNCTIONAL])
def test_step_is_bit_identical_to_update_and_apply_updates(name, make, dtype, nested):
    opt = make()
    params, grads = _problem(dtype, nested)
    if name == "adamw-masked" and nested:
        pytest.skip("the mask has the flat structure")
    if name == "adam-mu-float32" and dtype == np.float16:
        pytest.skip("float32 updates of float16 parameters are summed functionally")
    functional, f_state = params, opt.init(params)
    inplace = copy.deepcopy(params)
    i_state = opt.init(inplace)
    arrays = [id(a) for a in _leaves(inplace)]
    for g, loss in zip(grads, LOSSES):
        g_before = copy.deepcopy(g)
        f_params_before = copy.deepcopy(functional)
        u, f_state = opt.update(g, f_state, functional, value=loss)
        functional_new = T.apply_updates(functional, u)
        # the functional path modifies none of its inputs
        for a, b in zip(_leaves(functional), _leaves(f_params_before)):
            np.testing.assert_array_equal(a, b)
        functional = functional_new
        inplace, i_state, ui = T.step(opt, inplace, g, i_state, value=loss)
        for a, b in zip(_leaves(g), _leaves(g_before)):  # gradients are never written
            np.testing.assert_array_equal(a, b)
        for a, b in zip(_leaves(inplace), _leaves(functional)):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_array_equal(a, b, err_msg=name)
        for a, b in zip(_leaves(ui), _leaves(u)):
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert [id(a) for a in _leaves(inplace)] == arrays  # written in place
    assert T.current_learning_rate(i_state) == T.current_learning_rate(f_state)


@pytest.mark.parametrize("name, make", FUSED, ids=[n for n, _ in FUSED])
def test_the_named_optimizers_take_their_fused_kernel(name, make):
    # guards the table: the bit-identity above would also hold for the fallback
    opt = make()
    assert getattr(opt.update, optim_base.FUSED_STEP, None) is not None
    params, grads = _problem(np.float64, False)
    state = opt.init(params)
    moments = [id(a) for a in _leaves(state) if isinstance(a, np.ndarray)]
    _, state, _ = T.step(opt, params, grads[0], state)
    assert [id(a) for a in _leaves(state) if isinstance(a, np.ndarray)] == moments


@pytest.mark.parametrize("name, make", FUNCTIONAL, ids=[n for n, _ in FUNCTIONAL])
def test_the_others_have_no_kernel(name, make):
    assert getattr(make().update, optim_base.FUSED_STEP, None) is None


def test_a_wrapped_update_is_not_the_fused_kernel():
    """functools.wraps copies the function's attributes: a wrapper of a fused optimizer's
    update (here one that halves the updates) must run as written, not as the kernel."""
    import functools
    opt = T.adam(0.1)

    @functools.wraps(opt.update)
    def halved(grads, state, params=None):
        updates, state = opt.update(grads, state, params)
        return {k: 0.5 * u for k, u in updates.items()}, state

    wrapped = T.GradientTransformation(opt.init, halved)
    params, grads = {"w": np.ones(3)}, {"w": np.array([1.0, -2.0, 3.0])}
    want = T.apply_updates(params, halved(grads, opt.init(params), params)[0])
    got, _, _ = T.step(wrapped, {"w": np.ones(3)}, grads, wrapped.init(params))
    np.testing.assert_array_equal(got["w"], want["w"])


def test_read_only_or_python_number_parameters_fall_back_to_the_functional_sum():
    opt = T.adam(0.1)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    for params in ({"w": frozen}, {"w": 1.0}):
        state = opt.init(params)
        new, state, u = T.step(opt, params, {"w": np.full(3, 2.0) if params["w"] is frozen
                                             else 2.0}, state)
        expected = T.apply_updates(params, opt.update(
            {"w": np.full(3, 2.0) if params["w"] is frozen else 2.0}, opt.init(params),
            params)[0])
        np.testing.assert_array_equal(new["w"], expected["w"])
    np.testing.assert_array_equal(frozen, np.ones(3))


def test_apply_updates_in_place_writes_the_parameters_and_keeps_their_dtype():
    p = {"w": np.ones(2, np.float32), "b": np.zeros(1, np.float32)}
    w = p["w"]
    out = T.apply_updates(p, {"w": np.full(2, -0.25, np.float32), "b": np.ones(1, np.float32)},
                          inplace=True)
    assert out is p and out["w"] is w and w.dtype == np.float32
    np.testing.assert_array_equal(w, [0.75, 0.75])
    # updates of another dtype: the functional sum (cast back), the parameters untouched
    q = {"w": np.ones(2, np.float32)}
    r = T.apply_updates(q, {"w": np.full(2, -0.5)}, inplace=True)
    assert r["w"].dtype == np.float32 and np.array_equal(q["w"], [1.0, 1.0])


def test_trees_of_another_structure_are_never_paired_leaf_by_leaf():
    # same number of leaves, different keys: the functional path's error, not a wrong sum
    opt = T.sgd(0.1)
    params = {"layer": {"x": np.zeros(2), "y": np.zeros(2)}}
    grads = {"layer": {"x": np.ones(2), "z": np.ones(2)}}
    with pytest.raises(ValueError):
        T.step(opt, params, grads, opt.init(params))
    np.testing.assert_array_equal(params["layer"]["y"], np.zeros(2))


# ---------------------------------------------------------------- the kernel's plan
# a kernel remembers the last parameter dict it checked (its arrays, compared by identity)
# and then checks only the gradients: every change to what it remembered must be seen

def _steps_agree(opt, params, grads_list, mutate):
    """Run step and the functional update side by side, calling ``mutate(inplace,
    functional, i)`` before step i; every result must be bit-identical."""
    functional, f_state = copy.deepcopy(params), opt.init(params)
    inplace, i_state = params, opt.init(params)
    for i, g in enumerate(grads_list):
        mutate(inplace, functional, i)
        u, f_state = opt.update(g, f_state, functional)
        functional = T.apply_updates(functional, u)
        inplace, i_state, _ = T.step(opt, inplace, g, i_state)
        for a, b in zip(_leaves(inplace), _leaves(functional)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    return inplace


@pytest.mark.parametrize("name, make", FUSED, ids=[n for n, _ in FUSED])
def test_a_replaced_parameter_array_is_seen_by_the_next_step(name, make):
    params, grads = _problem(np.float64, False)

    def replace(inplace, functional, i):
        if i == 2:  # a new array under the same key (a user resetting a layer)
            inplace["w"] = np.full_like(inplace["w"], 0.5)
            functional["w"] = np.full_like(functional["w"], 0.5)
    out = _steps_agree(make(), params, grads, replace)
    assert not np.array_equal(out["w"], grads[0]["w"])


def test_a_parameter_made_read_only_after_some_steps_falls_back_to_the_functional_sum():
    params, grads = _problem(np.float64, False)
    frozen = {}

    def freeze(inplace, functional, i):
        if i == 2:
            frozen["b"] = inplace["b"].copy()
            inplace["b"].flags.writeable = False
    out = _steps_agree(T.adam(0.1), params, grads, freeze)
    np.testing.assert_array_equal(params["b"], frozen["b"])  # the read-only array untouched
    assert out["b"] is not params["b"]


def test_gradients_that_change_shape_dtype_or_keys_after_some_steps_are_refused():
    bad = [{"w": np.ones((2, 3)), "b": np.ones(2)},                 # another shape
           {"w": np.ones((3, 2), np.float32), "b": np.ones(2)},     # another dtype
           {"w": np.ones((3, 2)), "c": np.ones(2)},                 # another key
           {"w": np.ones((3, 2))}]                                  # a key missing
    for g in bad:
        opt = T.adam(0.1)
        params, grads = _problem(np.float64, False)
        state = opt.init(params)
        for good in grads[:2]:  # the kernel now knows these arrays
            params, state, _ = T.step(opt, params, good, state)
        p_copy, s_copy = copy.deepcopy(params), copy.deepcopy(state)
        try:
            expected = T.apply_updates(p_copy, opt.update(g, s_copy, p_copy)[0])
        except (ValueError, KeyError, TypeError) as e:
            with pytest.raises(type(e)):
                T.step(opt, params, g, state)
            continue
        new, _, _ = T.step(opt, params, g, state)  # the functional path's answer
        for a, b in zip(_leaves(new), _leaves(expected)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, make", FUSED, ids=[n for n, _ in FUSED])
def test_one_element_leaves_equal_update_at_zeros_infs_and_nans(name, make):
    """A one-element float64 leaf (and a 0-d one) is stepped in Python floats (IEEE double,
    the same roundings): infs, NaNs, subnormals and overflow give NumPy's bits."""
    special = {"zero": [0.0, 0.0, 1.0], "inf": [np.inf, 1.0, 2.0], "nan": [np.nan, 1.0, 1.0],
               "tiny": [1e-300, -1e-300, 5e-324], "huge": [1e200, -1e200, 1e308]}
    makers = [make]
    if name.startswith("adam"):  # eps = 0 and a subnormal eps_root
        makers.append(lambda: T.adam(0.1, 0.8, 0.9, 0.0, 1e-320))
    for maker in makers:
        opt = maker()
        for values in special.values():
            functional = {"w": np.ones(2), "b": np.array([0.5]), "s": np.array(0.5)}
            inplace = copy.deepcopy(functional)
            f_state, i_state = opt.init(functional), opt.init(inplace)
            with np.errstate(all="ignore"):
                for v in values:
                    g = {"w": np.array([v, 1.0]), "b": np.array([v]), "s": np.array(-v)}
                    u, f_state = opt.update(g, f_state, functional)
                    functional = T.apply_updates(functional, u)
                    inplace, i_state, ui = T.step(opt, inplace, g, i_state)
                    for key in ("w", "b", "s"):
                        np.testing.assert_array_equal(inplace[key], functional[key])
                        np.testing.assert_array_equal(ui[key], u[key])


def test_a_negative_second_moment_of_one_element_takes_the_array_step():
    """math.sqrt(-1.0) raises where np.sqrt gives NaN: the one-element step leaves the leaf
    to the array step, from its start (nothing written before)."""
    opt = T.adam(0.1)
    params = {"b": np.array([1.0])}
    state = opt.init(params)
    state[0].nu["b"][...] = -4.0  # an impossible state that a user could still pass
    want_u, _ = opt.update({"b": np.array([0.5])}, copy.deepcopy(state), params)
    with np.errstate(invalid="ignore"):
        got, state, u = T.step(opt, {"b": np.array([1.0])}, {"b": np.array([0.5])}, state)
    np.testing.assert_array_equal(u["b"], want_u["b"])
    assert np.isnan(got["b"][0])


def test_one_element_steps_keep_numpys_nan_bits_warnings_and_errstate():
    """A NaN or an overflow in a one-element step is the array step's: NumPy's NaN (sign
    included), its RuntimeWarning, and FloatingPointError under errstate(all="raise")."""
    nan = np.copysign(np.nan, -1.0)
    for make in (lambda: T.adam(0.1), lambda: T.adamw(0.1, weight_decay=0.0),
                 lambda: T.sgd(0.1, momentum=0.9), lambda: T.rmsprop(0.1)):
        opt = make()
        for p0, g0 in ((nan, 1.0), (1.0, nan), (np.inf, 0.0), (0.0, 1e200), (1e308, -1e308)):
            functional = {"b": np.array([p0])}
            inplace = copy.deepcopy(functional)
            with np.errstate(all="ignore"):
                u, _ = opt.update({"b": np.array([g0])}, opt.init(functional), functional)
                want = T.apply_updates(functional, u)
                got, _, ui = T.step(opt, inplace, {"b": np.array([g0])}, opt.init(inplace))
            assert got["b"].tobytes() == want["b"].tobytes(), (p0, g0)
            assert ui["b"].tobytes() == u["b"].tobytes(), (p0, g0)
    opt = T.adam(0.1)
    params = {"b": np.array([1.0])}
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            T.step(opt, params, {"b": np.array([1e200])}, opt.init(params))
    with pytest.warns(RuntimeWarning, match="overflow"):
        T.step(opt, {"b": np.array([1.0])}, {"b": np.array([1e200])}, opt.init(params))


def test_adamw_without_decay_adds_its_zero_times_p_as_update_does():
    opt = T.adamw(0.1, weight_decay=0.0)
    for shape in ((1,), (3,)):
        params = {"w": np.full(shape, np.inf)}
        with np.errstate(invalid="ignore"):
            want = T.apply_updates(params, opt.update({"w": np.ones(shape)}, opt.init(params),
                                                      params)[0])
            got, _, _ = T.step(opt, copy.deepcopy(params), {"w": np.ones(shape)},
                               opt.init(params))
        assert np.isnan(want["w"]).all() and got["w"].tobytes() == want["w"].tobytes()


def test_a_gradient_that_is_the_last_update_buffer_is_read_as_update_reads_it():
    for opt in (T.adam(0.01), T.sgd(0.1, momentum=0.9, nesterov=True), T.rmsprop(0.01)):
        p, f = {"b": np.full(3, 0.5)}, {"b": np.full(3, 0.5)}
        s, fs = opt.init(p), opt.init(f)
        g = {"b": np.full(3, 0.7)}
        p, s, u = T.step(opt, p, g, s)
        fu, fs = opt.update(g, fs, f)
        f = T.apply_updates(f, fu)
        p, s, u = T.step(opt, p, u, s)  # the update buffer itself as the next gradient
        fu, fs = opt.update(fu, fs, f)
        f = T.apply_updates(f, fu)
        assert p["b"].tobytes() == f["b"].tobytes()


def test_rmsprop_with_a_numpy_float32_decay_steps_as_update_does():
    opt = T.rmsprop(0.01, decay=np.float32(0.9), bias_correction=True)
    p, f = {"w": np.full(4, 0.5)}, {"w": np.full(4, 0.5)}
    s, fs = opt.init(p), opt.init(f)
    for k in range(4):
        g = {"w": np.linspace(-1.0, 1.0, 4) + k}
        p, s, _ = T.step(opt, p, g, s)
        u, fs = opt.update(g, fs, f)
        f = T.apply_updates(f, u)
        assert p["w"].tobytes() == f["w"].tobytes()


@pytest.mark.parametrize("name, make", FUSED, ids=[n for n, _ in FUSED])
def test_a_one_element_float64_leaf_takes_the_kernels_one_element_step(name, make, monkeypatch):
    """The bit tests hold for the array step too: this one sees the one-element step run
    (and write) for an intercept-like leaf, and not for a float32 one."""
    from gradkit.optim import aliases
    written = []
    real = aliases._written

    def counting(*args):
        written.append(real(*args))
        return written[-1]

    monkeypatch.setattr(aliases, "_written", counting)
    opt = make()
    for dtype, want in ((np.float64, [True, True]), (np.float32, [])):
        written.clear()
        params = {"w": np.ones(3, dtype), "b": np.zeros(1, dtype)}
        state = opt.init(params)
        for _ in range(2):
            params, state, _ = T.step(opt, params, {"w": np.full(3, 0.5, dtype),
                                                    "b": np.full(1, 0.25, dtype)}, state)
        assert written == want, (name, dtype)
