"""Gradient transformations: every optimizer against its update equations written out by hand,
on the same problems; composition, clipping, weight decay, plateaus, dtypes and errors."""
import doctest

import numpy as np
import pytest

from gradkit.optim import aliases as optim_aliases
from gradkit.optim import base as optim_base
from gradkit.optim import clipping as optim_clipping
from gradkit.optim import plateau as optim_plateau
from gradkit.optim import scaling as optim_scaling
from gradkit.optim import schedules, transforms
from gradkit.optim.loop import run as run_full_batch
from gradkit.optim.transforms import (
    EmptyState, GradientTransformation, GradientTransformationExtraArgs, ReduceLROnPlateauState,
    adagrad, adam, adamax, adamw, add_decayed_weights, apply_updates, chain, clip,
    clip_by_global_norm, clip_by_norm, current_learning_rate, global_norm, identity,
    init_empty_state, momentum, nadam, reduce_on_plateau, rmsprop, scale, scale_by_adam,
    scale_by_learning_rate, scale_by_rms, scale_by_schedule, sgd, stateless, trace,
    with_extra_args_support)
from gradkit.tree import tree_leaves, tree_map, tree_structure

RNG = np.random.default_rng(0)
PARAMS = {"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
GRADS = [{k: RNG.normal(size=v.shape) for k, v in PARAMS.items()} for _ in range(3)]


# ---------------------------------------------------------------------------------------------
# reference implementations: one array, a list of gradients in, the parameters after each step


def ref_sgd(p, gs, lr, mom=None, nesterov=False):
    out, buf = [], np.zeros_like(p)
    for g in gs:
        if mom is None:
            d = g
        else:
            buf = mom * buf + g
            d = g + mom * buf if nesterov else buf
        p = p - lr * d
        out.append(p)
    return out


def ref_adagrad(p, gs, lr, init, eps):
    out, s = [], np.full_like(p, init)
    for g in gs:
        s = s + g ** 2
        p = p - lr * g / np.sqrt(s + eps)
        out.append(p)
    return out


def ref_rmsprop(p, gs, lr, decay, eps, initial_scale=0.0, centered=False, mom=None,
                nesterov=False, eps_in_sqrt=True, bias_correction=False):
    out, v, m, buf = [], np.full_like(p, initial_scale), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(gs, 1):
        v = decay * v + (1 - decay) * g ** 2
        m = decay * m + (1 - decay) * g
        c = 1 / (1 - decay ** t) if bias_correction else 1.0
        var = v * c - (m * c) ** 2 if centered else v * c
        d = g / np.sqrt(var + eps) if eps_in_sqrt else g / (np.sqrt(var) + eps)
        step = -lr * d
        if mom is not None:
            buf = step + mom * buf
            step = step + mom * buf if nesterov else buf
        p = p + step
        out.append(p)
    return out


def ref_adam(p, gs, lr, b1, b2, eps, eps_root=0.0, wd=0.0, nesterov=False):
    out, m, v = [], np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(gs, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if nesterov:
            mhat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1 ** t)
        else:
            mhat = m / (1 - b1 ** t)
        vhat = v / (1 - b2 ** t)
        p = p - lr * (mhat / (np.sqrt(vhat + eps_root) + eps) + wd * p)
        out.append(p)
    return out


def ref_adamax(p, gs, lr, b1, b2, eps):
    out, m, u = [], np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(gs, 1):
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr / (1 - b1 ** t) * m / u
        out.append(p)
    return out


# (id, optimizer, reference(p, grads) -> list of params); hyperparameters are far from the
# defaults and eps is large, so that a misplaced eps or a wrong default shows.
CASES = [
    ("sgd", sgd(0.1), lambda p, gs: ref_sgd(p, gs, 0.1)),
    ("sgd-momentum", sgd(0.1, momentum=0.7), lambda p, gs: ref_sgd(p, gs, 0.1, 0.7)),
    ("sgd-nesterov", sgd(0.1, momentum=0.7, nesterov=True),
     lambda p, gs: ref_sgd(p, gs, 0.1, 0.7, True)),
    ("momentum", momentum(0.05, beta=0.6), lambda p, gs: ref_sgd(p, gs, 0.05, 0.6)),
    ("momentum-nesterov", momentum(0.05, beta=0.6, nesterov=True),
     lambda p, gs: ref_sgd(p, gs, 0.05, 0.6, True)),
    ("adagrad", adagrad(0.5, initial_accumulator_value=0.3, eps=0.1),
     lambda p, gs: ref_adagrad(p, gs, 0.5, 0.3, 0.1)),
    ("adagrad-defaults", adagrad(0.5), lambda p, gs: ref_adagrad(p, gs, 0.5, 0.1, 1e-7)),
    ("rmsprop", rmsprop(0.01, decay=0.8, eps=0.1),
     lambda p, gs: ref_rmsprop(p, gs, 0.01, 0.8, 0.1)),
    ("rmsprop-defaults", rmsprop(0.01), lambda p, gs: ref_rmsprop(p, gs, 0.01, 0.9, 1e-8)),
    ("rmsprop-initial-scale", rmsprop(0.01, decay=0.8, eps=0.1, initial_scale=1.0),
     lambda p, gs: ref_rmsprop(p, gs, 0.01, 0.8, 0.1, initial_scale=1.0)),
    ("rmsprop-centered", rmsprop(0.01, decay=0.8, eps=0.1, centered=True),
     lambda p, gs: ref_rmsprop(p, gs, 0.01, 0.8, 0.1, centered=True)),
    ("rmsprop-momentum", rmsprop(0.01, decay=0.8, eps=0.1, momentum=0.5),
     lambda p, gs: ref_rmsprop(p, gs, 0.01, 0.8, 0.1, mom=0.5)),
    ("rmsprop-nesterov", rmsprop(0.01, decay=0.8, eps=0.1, momentum=0.5, nesterov=True),
     lambda p, gs: ref_rmsprop(p, gs, 0.01, 0.8, 0.1, mom=0.5, nesterov=True)),
    ("rmsprop-torch-eps", rmsprop(0.01, decay=0.8, eps=0.1, eps_in_sqrt=False,
                                  bias_correction=True),
     lambda p, gs: ref_rmsprop(p, gs, 0.01, 0.8, 0.1, eps_in_sqrt=False,
                               bias_correction=True)),
    ("adam", adam(0.1, b1=0.8, b2=0.9, eps=0.1),
     lambda p, gs: ref_adam(p, gs, 0.1, 0.8, 0.9, 0.1)),
    ("adam-defaults", adam(0.1), lambda p, gs: ref_adam(p, gs, 0.1, 0.9, 0.999, 1e-8)),
    ("adam-eps-root", adam(0.1, b1=0.8, b2=0.9, eps=0.1, eps_root=0.5),
     lambda p, gs: ref_adam(p, gs, 0.1, 0.8, 0.9, 0.1, eps_root=0.5)),
    ("adamw", adamw(0.1, b1=0.8, b2=0.9, eps=0.1, weight_decay=0.3),
     lambda p, gs: ref_adam(p, gs, 0.1, 0.8, 0.9, 0.1, wd=0.3)),
    ("adamw-defaults", adamw(0.1), lambda p, gs: ref_adam(p, gs, 0.1, 0.9, 0.999, 1e-8, wd=1e-4)),
    ("adamax", adamax(0.1, b1=0.8, b2=0.9, eps=0.1),
     lambda p, gs: ref_adamax(p, gs, 0.1, 0.8, 0.9, 0.1)),
    ("adamax-defaults", adamax(0.1), lambda p, gs: ref_adamax(p, gs, 0.1, 0.9, 0.999, 1e-8)),
    ("nadam", nadam(0.1, b1=0.8, b2=0.9, eps=0.1),
     lambda p, gs: ref_adam(p, gs, 0.1, 0.8, 0.9, 0.1, nesterov=True)),
    ("nadam-defaults", nadam(0.1),
     lambda p, gs: ref_adam(p, gs, 0.1, 0.9, 0.999, 1e-8, nesterov=True)),
]
IDS = [c[0] for c in CASES]


def run(opt, params, grads_seq):
    state = opt.init(params)
    out = []
    for grads in grads_seq:
        updates, state = opt.update(grads, state, params)
        params = apply_updates(params, updates)
        out.append(params)
    return out, state


@pytest.mark.parametrize("name, opt, ref", CASES, ids=IDS)
def test_one_two_and_three_steps_follow_the_update_equations(name, opt, ref):
    got, _ = run(opt, PARAMS, GRADS)
    for key in PARAMS:
        expected = ref(PARAMS[key], [g[key] for g in GRADS])
        for step in range(3):
            np.testing.assert_allclose(got[step][key], expected[step], rtol=1e-12, atol=1e-14,
                                       err_msg=f"{name}, leaf {key}, step {step + 1}")


@pytest.mark.parametrize("name, opt, ref", CASES, ids=IDS)
def test_the_update_is_not_trivial(name, opt, ref):
    # guards the table above: every optimizer actually moves every parameter
    got, _ = run(opt, PARAMS, GRADS[:1])
    for key in PARAMS:
        assert np.all(got[0][key] != PARAMS[key])


# ---------------------------------------------------------------------------------------------
# to the last bit: every named optimizer against its equations written in the implementation's
# order of floating-point operations (m * (1 / (1 - b1**t)), not m / (1 - b1**t)), so that a
# refactoring that changes any result, even by one rounding, fails here. The tolerance tests
# above check the equations; these check that the code computing them did not move.


def bits_sgd(lr, mom=None, nesterov=False):
    def steps(p, gs, values):
        buf, out = np.zeros_like(p), []
        for g in gs:
            if mom is not None:
                buf = g + mom * buf
                g = g + mom * buf if nesterov else buf
            out.append(-lr * g)
        return out
    return steps


def bits_adagrad(lr, init, eps):
    def steps(p, gs, values):
        s, out = np.full_like(p, init), []
        for g in gs:
            s = g * g + s
            out.append(-lr * (g / np.sqrt(s + eps)))
        return out
    return steps


def bits_rmsprop(lr, decay, eps, initial_scale=0.0, centered=False, mom=None, nesterov=False,
                 eps_in_sqrt=True, bias_correction=False):
    def steps(p, gs, values):
        v, m, buf, out = np.full_like(p, initial_scale), np.zeros_like(p), np.zeros_like(p), []
        for t, g in enumerate(gs, 1):
            v = (1 - decay) * (g * g) + decay * v
            m = (1 - decay) * g + decay * m
            c = 1 / (1 - decay ** t) if bias_correction else 1.0
            var = v * c - (m * c) ** 2 if centered else v * c
            d = g / np.sqrt(var + eps) if eps_in_sqrt else g / (np.sqrt(var) + eps)
            u = -lr * d
            if mom is not None:
                buf = u + mom * buf
                u = u + mom * buf if nesterov else buf
            out.append(u)
        return out
    return steps


def bits_adam(lr, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, wd=None, nesterov=False,
              mu_dtype=None):
    def steps(p, gs, values):
        m, v, out = np.zeros_like(p, dtype=mu_dtype), np.zeros_like(p), []
        for t, g in enumerate(gs, 1):
            m = (1 - b1) * g + b1 * m
            v = (1 - b2) * (g * g) + b2 * v
            if nesterov:
                mhat = b1 / (1 - b1 ** (t + 1)) * m + (1 - b1) / (1 - b1 ** t) * g
            else:
                mhat = m * (1 / (1 - b1 ** t))
            d = mhat / (np.sqrt(v * (1 / (1 - b2 ** t)) + eps_root) + eps)
            if wd is not None:
                d = d + wd * p
            if mu_dtype is not None:
                m = m.astype(mu_dtype)
            u = -lr * d
            p = p + u
            out.append(u)
        return out
    return steps


def bits_adamax(lr, b1=0.9, b2=0.999, eps=1e-8):
    def steps(p, gs, values):
        m, v, out = np.zeros_like(p), np.zeros_like(p), []
        for t, g in enumerate(gs, 1):
            m = (1 - b1) * g + b1 * m
            v = np.maximum(b2 * v, np.abs(g) + eps)
            out.append(-lr * (m * (1 / (1 - b1 ** t)) / v))
        return out
    return steps


def bits_plateau(inner, factor, patience):
    # reduce_on_plateau with rtol=1e-4, atol=0, no cooldown, one value per evaluation
    def steps(p, gs, values):
        scale_, best, plateau, out = 1.0, np.inf, 0, []
        for u, value in zip(inner(p, gs, values), values):
            if value < (1 - 1e-4) * best:
                best, plateau = value, 0
            else:
                plateau += 1
            if plateau == patience:
                scale_, plateau = scale_ * factor, 0
            out.append(u * scale_)
        return out
    return steps


BITS = [
    ("sgd", sgd(0.1), bits_sgd(0.1)),
    ("sgd-momentum", sgd(0.1, momentum=0.7), bits_sgd(0.1, 0.7)),
    ("sgd-nesterov", sgd(0.1, momentum=0.7, nesterov=True), bits_sgd(0.1, 0.7, True)),
    ("momentum", momentum(0.05, beta=0.6), bits_sgd(0.05, 0.6)),
    ("momentum-nesterov", momentum(0.05, beta=0.6, nesterov=True), bits_sgd(0.05, 0.6, True)),
    ("adagrad", adagrad(0.5, 0.3, 0.1), bits_adagrad(0.5, 0.3, 0.1)),
    ("adagrad-defaults", adagrad(0.5), bits_adagrad(0.5, 0.1, 1e-7)),
    ("rmsprop", rmsprop(0.01, 0.8, 0.1), bits_rmsprop(0.01, 0.8, 0.1)),
    ("rmsprop-defaults", rmsprop(0.01), bits_rmsprop(0.01, 0.9, 1e-8)),
    ("rmsprop-initial-scale", rmsprop(0.01, 0.8, 0.1, initial_scale=1.0),
     bits_rmsprop(0.01, 0.8, 0.1, initial_scale=1.0)),
    ("rmsprop-centered", rmsprop(0.01, 0.8, 0.1, centered=True),
     bits_rmsprop(0.01, 0.8, 0.1, centered=True)),
    ("rmsprop-momentum", rmsprop(0.01, 0.8, 0.1, momentum=0.5),
     bits_rmsprop(0.01, 0.8, 0.1, mom=0.5)),
    ("rmsprop-nesterov", rmsprop(0.01, 0.8, 0.1, momentum=0.5, nesterov=True),
     bits_rmsprop(0.01, 0.8, 0.1, mom=0.5, nesterov=True)),
    ("rmsprop-torch-eps", rmsprop(0.01, 0.8, 0.1, eps_in_sqrt=False, bias_correction=True),
     bits_rmsprop(0.01, 0.8, 0.1, eps_in_sqrt=False, bias_correction=True)),
    ("adam", adam(0.1, 0.8, 0.9, 0.1), bits_adam(0.1, 0.8, 0.9, 0.1)),
    ("adam-defaults", adam(0.1), bits_adam(0.1)),
    ("adam-eps-root", adam(0.1, 0.8, 0.9, 0.1, 0.5), bits_adam(0.1, 0.8, 0.9, 0.1, 0.5)),
    ("adam-mu-float32", adam(0.1, mu_dtype=np.float32), bits_adam(0.1, mu_dtype=np.float32)),
    ("adamw", adamw(0.1, 0.8, 0.9, 0.1, weight_decay=0.3), bits_adam(0.1, 0.8, 0.9, 0.1, wd=0.3)),
    ("adamw-defaults", adamw(0.1), bits_adam(0.1, wd=1e-4)),
    ("adamax", adamax(0.1, 0.8, 0.9, 0.1), bits_adamax(0.1, 0.8, 0.9, 0.1)),
    ("adamax-defaults", adamax(0.1), bits_adamax(0.1)),
    ("nadam", nadam(0.1, 0.8, 0.9, 0.1), bits_adam(0.1, 0.8, 0.9, 0.1, nesterov=True)),
    ("nadam-defaults", nadam(0.1), bits_adam(0.1, nesterov=True)),
    ("adam-plateau", chain(adam(0.1), reduce_on_plateau(factor=0.5, patience=1)),
     bits_plateau(bits_adam(0.1), 0.5, 1)),
]
LOSSES = [3.0, 2.0, 2.0, 2.0, 1.0, 1.0]   # improves, improves, three plateaus, improves, ...


def bits_problem(dtype):
    rng = np.random.default_rng(42)
    params = {"w": rng.normal(size=(3, 2)).astype(dtype), "b": rng.normal(size=2).astype(dtype)}
    grads = [{k: rng.normal(size=v.shape).astype(dtype) for k, v in params.items()}
             for _ in LOSSES]
    return params, grads


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, opt, steps", BITS, ids=[c[0] for c in BITS])
def test_every_named_optimizer_is_bit_identical_to_its_equations(name, opt, steps, dtype):
    params, grads = bits_problem(dtype)
    expected = {k: steps(params[k], [g[k] for g in grads], LOSSES) for k in params}
    state = opt.init(params)
    for t, (g, loss) in enumerate(zip(grads, LOSSES)):
        updates, state = opt.update(g, state, params, value=loss)
        for k in params:
            assert updates[k].dtype == expected[k][t].dtype == dtype, (name, k, t)
            np.testing.assert_array_equal(updates[k], expected[k][t],
                                          err_msg=f"{name}, leaf {k}, step {t + 1}")
        params = apply_updates(params, updates)


# ---------------------------------------------------------------------------------------------
# every optimizer minimizes the same well-conditioned quadratic

Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))
A = Q @ np.diag([1.0, 1.5, 2.0, 3.0]) @ Q.T
C = np.array([[1.0, 2.0, 1.5], [2.5, 1.0, 3.0]])
X0 = {"x": np.array([1.0, -2.0, 0.5, 3.0]), "M": np.array([[1.0, -1.0, 2.0], [0.5, 1.0, -2.0]])}


def quadratic(p):
    return 0.5 * p["x"] @ A @ p["x"] + 0.5 * np.sum(C * p["M"] ** 2)


def quadratic_grad(p):
    return {"x": A @ p["x"], "M": C * p["M"]}


QUADRATIC = [
    ("sgd", sgd(0.3)),
    ("momentum", momentum(0.1, beta=0.8)),
    ("nesterov", sgd(0.1, momentum=0.8, nesterov=True)),
    ("adagrad", adagrad(1.0)),
    ("rmsprop", rmsprop(schedules.exponential_decay(0.05, 80, 0.5))),
    ("rmsprop-centered", rmsprop(schedules.exponential_decay(0.05, 80, 0.5), centered=True)),
    ("rmsprop-momentum", rmsprop(0.01, momentum=0.9)),
    ("adam", adam(0.1)),
    ("adamw", adamw(0.1, weight_decay=1e-3)),
    ("adamax", adamax(0.1)),
    ("nadam", nadam(0.1)),
    ("adam-cosine", adam(schedules.cosine_decay_schedule(0.3, 400))),
    ("sgd-clipped", chain(clip_by_global_norm(1.0), sgd(0.3))),
]


@pytest.mark.parametrize("name, opt", QUADRATIC, ids=[c[0] for c in QUADRATIC])
def test_every_optimizer_minimizes_a_quadratic(name, opt):
    params, state = X0, opt.init(X0)
    for _ in range(400):
        updates, state = opt.update(quadratic_grad(params), state, params)
        params = apply_updates(params, updates)
    assert quadratic(params) < 1e-4 * quadratic(X0), name


# ---------------------------------------------------------------------------------------------
# composition


def test_chain_applies_transformations_left_to_right():
    g = np.array([4.0, 0.5])
    clip_then_scale, _ = chain(clip(1.0), scale(2.0)).update(g, (EmptyState(), EmptyState()))
    scale_then_clip, _ = chain(scale(2.0), clip(1.0)).update(g, (EmptyState(), EmptyState()))
    np.testing.assert_array_equal(clip_then_scale, [2.0, 1.0])
    np.testing.assert_array_equal(scale_then_clip, [1.0, 1.0])


def test_chain_state_is_the_tuple_of_states_and_nests():
    opt = chain(trace(0.5), chain(scale(2.0), scale_by_learning_rate(0.1)))
    state = opt.init(PARAMS)
    assert isinstance(state, tuple) and len(state) == 2 and len(state[1]) == 2
    u, state = opt.update(GRADS[0], state)
    np.testing.assert_allclose(u["w"], -0.2 * GRADS[0]["w"])
    np.testing.assert_allclose(state[0].trace["w"], GRADS[0]["w"])


def test_chain_rejects_a_state_of_the_wrong_length():
    with pytest.raises(ValueError, match="state has 1 entries but the chain has 2"):
        chain(identity(), identity()).update(GRADS[0], (EmptyState(),))


def test_chain_rejects_non_transformations():
    with pytest.raises(TypeError, match="argument 1"):
        chain(identity(), lambda g: g)


def test_chain_passes_extra_arguments_only_to_updates_that_accept_them():
    def strict_update(updates, state, params=None):
        return updates, state

    opt = chain(GradientTransformation(lambda p: EmptyState(), strict_update),
                reduce_on_plateau(patience=0))
    state = opt.init(PARAMS)
    _, state = opt.update(GRADS[0], state, value=1.0)
    _, state = opt.update(GRADS[0], state, value=1.0)
    assert state[1].scale == pytest.approx(0.1)


def test_a_plain_transformation_gets_no_extras_even_if_its_update_takes_keywords():
    # the kind is read from the type, not from the signature: a plain update that happens to
    # take **kwargs is still called as update(updates, state, params)
    seen = []

    def update(updates, state, params=None, **kwargs):
        seen.append(kwargs)
        return updates, state

    opt = chain(GradientTransformation(init_empty_state, update), reduce_on_plateau())
    opt.update(GRADS[0], opt.init(PARAMS), PARAMS, value=1.0)
    assert seen == [{}]


def test_chain_gives_extras_to_every_extra_args_block_and_returns_one():
    seen = []

    def update(updates, state, params=None, **extra_args):
        seen.append(extra_args)
        return updates, state

    listener = GradientTransformationExtraArgs(init_empty_state, update)
    opt = chain(listener, adam(0.1), chain(scale(2.0), listener))
    assert isinstance(opt, GradientTransformationExtraArgs)
    assert isinstance(opt, GradientTransformation)
    state = opt.init(PARAMS)
    opt.update(GRADS[0], state, PARAMS, value=2.0, step=7)
    assert seen == [{"value": 2.0, "step": 7}] * 2
    opt.update(GRADS[0], state, PARAMS)
    assert seen[2:] == [{}, {}]


def test_extra_args_blocks_ignore_extras_they_do_not_know():
    tx = reduce_on_plateau(factor=0.5, patience=0)
    assert isinstance(tx, GradientTransformationExtraArgs)
    u, _ = tx.update(GRADS[0], tx.init(PARAMS), value=1.0, unknown="ignored")
    np.testing.assert_allclose(u["w"], 0.5 * GRADS[0]["w"])


def test_with_extra_args_support_drops_extras_for_a_plain_transformation_only():
    def strict_update(updates, state, params=None):
        return tree_map(lambda g: 3.0 * g, updates), state

    plain = GradientTransformation(init_empty_state, strict_update)
    tx = with_extra_args_support(plain)
    assert isinstance(tx, GradientTransformationExtraArgs) and tx.init is plain.init
    u, state = tx.update(GRADS[0], tx.init(PARAMS), PARAMS, value=1.0)
    np.testing.assert_array_equal(u["b"], 3.0 * GRADS[0]["b"])
    assert state == EmptyState()
    plateau = reduce_on_plateau()
    assert with_extra_args_support(plateau) is plateau


def test_a_plain_user_transformation_runs_in_the_full_batch_loop():
    # run() always passes value=f; a plain update without keywords must not see it
    def update(updates, state, params=None):
        return tree_map(lambda g: -0.25 * g, updates), state

    r = run_full_batch(GradientTransformation(init_empty_state, update),
                       lambda x: np.sum((x - 1.0) ** 2), np.zeros(2), 100, tol=1e-10)
    assert r.success
    np.testing.assert_allclose(r.x, [1.0, 1.0])


def test_init_empty_state_ignores_the_parameters():
    assert init_empty_state(PARAMS) == EmptyState() == init_empty_state(None)


def test_stateless_applies_f_to_updates_and_params_and_keeps_the_state():
    def f(updates, params):
        return tree_map(lambda g, p: g - p, updates, params)

    tx = stateless(f)
    assert type(tx) is GradientTransformation          # a plain block: takes no extras
    state = tx.init(PARAMS)
    assert state == EmptyState()
    u, new_state = tx.update(GRADS[0], state, PARAMS)
    np.testing.assert_array_equal(u["w"], GRADS[0]["w"] - PARAMS["w"])
    assert new_state is state
    got = stateless(lambda updates, params: params).update(GRADS[0], state)[0]
    assert got is None                                  # no params given: f sees None


@pytest.mark.parametrize("tx", [identity(), scale(2.0), clip(1.0), clip_by_norm(1.0),
                                clip_by_global_norm(1.0), add_decayed_weights(0.1)],
                         ids=["identity", "scale", "clip", "clip_by_norm",
                              "clip_by_global_norm", "add_decayed_weights"])
def test_blocks_without_state_are_stateless(tx):
    assert tx.init is init_empty_state
    _, state = tx.update(GRADS[0], tx.init(PARAMS), PARAMS)
    assert state == EmptyState()


def test_identity_and_scale():
    assert identity().update(GRADS[0], EmptyState())[0] is GRADS[0]
    np.testing.assert_array_equal(scale(-3.0).update(GRADS[0], EmptyState())[0]["b"],
                                  -3.0 * GRADS[0]["b"])


def test_trace_equations():
    tx = trace(0.5)
    state = tx.init(np.zeros(2))
    u1, state = tx.update(np.array([1.0, 2.0]), state)
    u2, state = tx.update(np.array([3.0, 0.0]), state)
    np.testing.assert_array_equal(u2, [3.0 + 0.5 * 1.0, 0.0 + 0.5 * 2.0])
    txn = trace(0.5, nesterov=True)
    state = txn.init(np.zeros(2))
    u1, state = txn.update(np.array([1.0, 2.0]), state)
    np.testing.assert_array_equal(u1, [1.5, 3.0])     # g + decay * (g + decay * 0)
    np.testing.assert_array_equal(state.trace, [1.0, 2.0])


def test_scale_by_schedule_uses_the_step_count_from_zero():
    tx = scale_by_schedule(lambda t: 10.0 ** -t)
    state = tx.init(None)
    out = []
    for _ in range(3):
        u, state = tx.update(np.ones(1), state)
        out.append(float(u[0]))
    assert out == [1.0, 0.1, 0.01]
    assert state.count == 3


def test_apply_updates_works_on_lists_tuples_and_nested_trees():
    params = [np.ones(2), (np.zeros(1), {"a": np.ones(3)})]
    updates = [np.ones(2), (np.ones(1), {"a": np.ones(3)})]
    out = apply_updates(params, updates)
    np.testing.assert_array_equal(out[1][1]["a"], 2 * np.ones(3))
    assert isinstance(out[1], tuple)


def test_sgd_on_layer_dicts_at_any_depth_keeps_dtypes_and_checks_structure():
    # a Sequential's {layer: {name: array}} and deeper or mixed trees: every leaf updated
    params = {"00_linear": {"W": np.ones((2, 2), np.float32), "b": np.zeros(2, np.float32)},
              "01_block": {"inner": {"W": np.ones(3)}, "scale": np.full(1, 2.0),
                           "pair": (np.ones(1), np.ones(1))}}
    grads = tree_map(lambda p: np.full(p.shape, 4.0), params)
    opt = sgd(0.5)
    updates, _ = opt.update(grads, opt.init(params))
    out = apply_updates(params, updates)
    assert tree_structure(out) == tree_structure(params)
    assert out["00_linear"]["W"].dtype == np.float32 and out["00_linear"]["b"].tolist() == [-2, -2]
    np.testing.assert_array_equal(out["01_block"]["inner"]["W"], -np.ones(3))
    assert out["01_block"]["pair"][1].tolist() == [-1.0] and out["01_block"]["scale"] == [0.0]
    with pytest.raises(ValueError, match="structures differ"):
        apply_updates(params, {**updates, "00_linear": {"W": updates["00_linear"]["W"]}})


def test_optimizers_work_on_non_dict_pytrees():
    params = [PARAMS["w"], (PARAMS["b"],)]
    grads = [[g["w"], (g["b"],)] for g in GRADS]
    got, _ = run(adam(0.1, b1=0.8, b2=0.9, eps=0.1), params, grads)
    expected = ref_adam(PARAMS["b"], [g["b"] for g in GRADS], 0.1, 0.8, 0.9, 0.1)
    np.testing.assert_allclose(got[2][1][0], expected[2], rtol=1e-12)


def test_mismatched_structures_raise():
    opt = adam(0.1)
    state = opt.init(PARAMS)
    with pytest.raises(ValueError, match="structures differ"):
        opt.update({"w": GRADS[0]["w"]}, state)
    with pytest.raises(ValueError, match="structures differ"):
        apply_updates(PARAMS, {"w": GRADS[0]["w"], "c": GRADS[0]["b"]})


# ---------------------------------------------------------------------------------------------
# clipping and weight decay


def test_clip_by_value():
    u, _ = clip(0.5).update({"a": np.array([-2.0, 0.1, 0.7])}, EmptyState())
    np.testing.assert_array_equal(u["a"], [-0.5, 0.1, 0.5])


def test_clip_by_norm_rescales_each_leaf_on_its_own():
    g = {"big": np.array([6.0, 8.0]), "small": np.array([0.3, 0.4])}
    u, _ = clip_by_norm(1.0).update(g, EmptyState())
    np.testing.assert_allclose(u["big"], [0.6, 0.8])
    np.testing.assert_array_equal(u["small"], g["small"])


@pytest.mark.parametrize("max_norm, factor", [(20.0, 1.0), (10.0, 1.0), (5.0, 0.5), (1.0, 0.1)])
def test_clip_by_global_norm(max_norm, factor):
    g = {"a": np.array([6.0]), "b": np.array([[8.0, 0.0]])}   # global norm 10
    assert global_norm(g) == 10.0
    u, _ = clip_by_global_norm(max_norm).update(g, EmptyState())
    np.testing.assert_allclose(u["a"], factor * g["a"])
    np.testing.assert_allclose(u["b"], factor * g["b"])
    assert global_norm(u) == pytest.approx(min(10.0, max_norm))


def test_clipping_leaves_zero_gradients_finite():
    g = {"a": np.zeros(3)}
    for tx in (clip_by_norm(1.0), clip_by_global_norm(1.0)):
        u, _ = tx.update(g, EmptyState())
        np.testing.assert_array_equal(u["a"], 0.0)


def test_add_decayed_weights():
    u, _ = add_decayed_weights(0.1).update(GRADS[0], EmptyState(), PARAMS)
    np.testing.assert_allclose(u["w"], GRADS[0]["w"] + 0.1 * PARAMS["w"])


@pytest.mark.parametrize("mask", [{"w": True, "b": False},
                                  lambda p: {k: v.ndim > 1 for k, v in p.items()}],
                         ids=["tree", "callable"])
def test_add_decayed_weights_mask_skips_leaves(mask):
    u, _ = add_decayed_weights(0.1, mask).update(GRADS[0], EmptyState(), PARAMS)
    np.testing.assert_allclose(u["w"], GRADS[0]["w"] + 0.1 * PARAMS["w"])
    np.testing.assert_array_equal(u["b"], GRADS[0]["b"])


def test_add_decayed_weights_needs_params():
    with pytest.raises(ValueError, match="needs the parameters"):
        add_decayed_weights(0.1).update(GRADS[0], EmptyState())


def test_adamw_decay_is_decoupled_from_the_adaptive_scaling():
    # with zero gradients Adam's direction is 0, so the step is exactly -lr * wd * p
    zero = {k: np.zeros_like(v) for k, v in PARAMS.items()}
    opt = adamw(0.1, weight_decay=0.5)
    u, _ = opt.update(zero, opt.init(PARAMS), PARAMS)
    np.testing.assert_allclose(u["w"], -0.1 * 0.5 * PARAMS["w"])


# ---------------------------------------------------------------------------------------------
# reduce on plateau and the current learning rate


def plateau_scales(tx, losses):
    state = tx.init(PARAMS)
    scales = []
    for loss in losses:
        _, state = tx.update(GRADS[0], state, PARAMS, value=loss)
        scales.append(state.scale)
    return scales, state


def test_reduce_on_plateau_waits_patience_non_improving_values():
    tx = reduce_on_plateau(factor=0.5, patience=3)
    scales, state = plateau_scales(tx, [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0])
    assert scales == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert state.best_value == 3.0 and state.plateau_count == 0


def test_reduce_on_plateau_tolerances():
    # an improvement smaller than rtol * best does not count
    scales, _ = plateau_scales(reduce_on_plateau(factor=0.5, patience=1, rtol=0.1),
                               [1.0, 0.95, 0.8])
    assert scales == [1, 0.5, 0.5]
    scales, _ = plateau_scales(reduce_on_plateau(factor=0.5, patience=1, rtol=0.0, atol=0.2),
                               [1.0, 0.85, 0.7])
    assert scales == [1, 0.5, 0.5]


def test_reduce_on_plateau_cooldown_and_min_scale():
    tx = reduce_on_plateau(factor=0.1, patience=1, cooldown=2, min_scale=0.005)
    scales, _ = plateau_scales(tx, [1.0] * 8)
    assert scales == pytest.approx([1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.005])


def test_reduce_on_plateau_averages_accumulation_size_values():
    tx = reduce_on_plateau(factor=0.5, patience=1, accumulation_size=2)
    # evaluations: mean(3, 1) = 2, then mean(1, 3) = 2 -> no improvement -> reduce
    scales, _ = plateau_scales(tx, [3.0, 1.0, 1.0, 3.0])
    assert scales == [1, 1, 1, 0.5]


def test_reduce_on_plateau_scales_updates_and_needs_the_loss():
    tx = reduce_on_plateau(factor=0.5, patience=0)
    state = tx.init(PARAMS)
    u, state = tx.update(GRADS[0], state, value=1.0)     # improves, but patience 0: reduce
    np.testing.assert_allclose(u["w"], 0.5 * GRADS[0]["w"])
    with pytest.raises(ValueError, match="value=loss"):
        tx.update(GRADS[0], state)


def test_current_learning_rate_follows_a_schedule_through_a_chain():
    lr = schedules.exponential_decay(1.0, 1, 0.5)
    opt = chain(clip_by_global_norm(1.0), adam(lr))
    state = opt.init(PARAMS)
    assert current_learning_rate(state) == 1.0          # the rate the first step will use
    seen = []
    for grads in GRADS:
        _, state = opt.update(grads, state, PARAMS)
        seen.append(current_learning_rate(state))
    assert seen == [1.0, 0.5, 0.25]


def test_current_learning_rate_includes_the_plateau_scale():
    opt = chain(sgd(0.2), reduce_on_plateau(factor=0.5, patience=0))
    state = opt.init(PARAMS)
    assert current_learning_rate(state) == 0.2
    _, state = opt.update(GRADS[0], state, PARAMS, value=1.0)
    assert current_learning_rate(state) == pytest.approx(0.1)
    assert isinstance(state[1], ReduceLROnPlateauState)


def test_current_learning_rate_is_none_without_a_learning_rate():
    assert current_learning_rate(chain(scale(-0.1)).init(PARAMS)) is None
    assert current_learning_rate(scale_by_schedule(lambda t: 0.3).init(None)) == 0.3


# ---------------------------------------------------------------------------------------------
# dtypes

ALL = CASES + [("sgd-schedule", sgd(schedules.cosine_decay_schedule(0.1, 10)), None),
               ("sgd-numpy-schedule", sgd(lambda t: np.float64(0.1) * 0.9 ** t), None),
               ("clipped", chain(clip(1.0), clip_by_norm(1.0), clip_by_global_norm(1.0),
                                 add_decayed_weights(0.1), sgd(0.1)), None),
               ("plateau", chain(adam(0.1), reduce_on_plateau(patience=0)), None)]


@pytest.mark.parametrize("name, opt, ref", ALL, ids=[c[0] for c in ALL])
def test_float32_parameters_stay_float32(name, opt, ref):
    params = {k: v.astype(np.float32) for k, v in PARAMS.items()}
    state = opt.init(params)
    for g in GRADS:
        grads = {k: v.astype(np.float32) for k, v in g.items()}
        updates, state = opt.update(grads, state, params, value=1.0)
        assert all(u.dtype == np.float32 for u in tree_leaves(updates)), name
        params = apply_updates(params, updates)
    assert all(p.dtype == np.float32 for p in tree_leaves(params))
    arrays = [x for x in tree_leaves(state) if isinstance(x, np.ndarray)]
    assert all(x.dtype == np.float32 for x in arrays), name


def test_apply_updates_keeps_the_parameter_dtype():
    out = apply_updates({"a": np.ones(2, np.float32)}, {"a": np.full(2, 0.5)})
    assert out["a"].dtype == np.float32


def test_apply_updates_does_not_modify_its_inputs():
    params = {k: v.copy() for k, v in PARAMS.items()}
    apply_updates(params, GRADS[0])
    np.testing.assert_array_equal(params["w"], PARAMS["w"])


# ---------------------------------------------------------------------------------------------
# errors

BAD = [
    (lambda: sgd(-0.1), "learning_rate", "-0.1"),
    (lambda: sgd(float("nan")), "learning_rate", "nan"),
    (lambda: sgd("fast"), "learning_rate", "'fast'"),
    (lambda: sgd(0.1, momentum=-0.5), "decay", "-0.5"),
    (lambda: momentum(0.1, beta=1.5), "decay", "1.5"),
    (lambda: adam(0.1, b1=1.0), "b1", "1.0"),
    (lambda: adam(0.1, b1=-0.1), "b1", "-0.1"),
    (lambda: adam(0.1, b2=1.2), "b2", "1.2"),
    (lambda: adam(0.1, eps=0.0), "eps", "0.0"),
    (lambda: adam(0.1, eps=-1e-8), "eps", "-1e-08"),
    (lambda: adam(0.1, eps_root=-1.0), "eps_root", "-1.0"),
    (lambda: adamw(0.1, weight_decay=-1e-4), "weight_decay", "-0.0001"),
    (lambda: adamax(0.1, b2=1.0), "b2", "1.0"),
    (lambda: nadam(0.1, b1=2), "b1", "2"),
    (lambda: adagrad(0.1, initial_accumulator_value=-1), "initial_accumulator_value", "-1"),
    (lambda: adagrad(0.1, eps=-1), "eps", "-1"),
    (lambda: rmsprop(0.1, decay=1.0), "decay", "1.0"),
    (lambda: rmsprop(0.1, eps=0), "eps", "0"),
    (lambda: rmsprop(0.1, initial_scale=-1), "initial_scale", "-1"),
    (lambda: clip(-1.0), "max_delta", "-1.0"),
    (lambda: clip_by_norm(0.0), "max_norm", "0.0"),
    (lambda: clip_by_global_norm(-2.0), "max_norm", "-2.0"),
    (lambda: scale(float("inf")), "step_size", "inf"),
    (lambda: reduce_on_plateau(factor=1.0), "factor", "1.0"),
    (lambda: reduce_on_plateau(patience=-1), "patience", "-1"),
    (lambda: reduce_on_plateau(patience=1.5), "patience", "1.5"),
    (lambda: reduce_on_plateau(cooldown=-1), "cooldown", "-1"),
    (lambda: reduce_on_plateau(rtol=-1e-4), "rtol", "-0.0001"),
    (lambda: reduce_on_plateau(rtol=0.0, atol=0.0), "rtol and atol", ""),
    (lambda: reduce_on_plateau(min_scale=-1), "min_scale", "-1"),
    (lambda: reduce_on_plateau(accumulation_size=0), "accumulation_size", "0"),
]


@pytest.mark.parametrize("make, name, value", BAD, ids=[f"{b[1]}={b[2]}" for b in BAD])
def test_bad_hyperparameters_raise_naming_the_parameter_and_value(make, name, value):
    with pytest.raises(ValueError) as err:
        make()
    message = str(err.value)
    assert message.startswith(name)
    assert value in message


def test_adam_allows_zero_eps_when_eps_root_guards_the_division():
    tx = scale_by_adam(eps=0.0, eps_root=1e-8)
    u, _ = tx.update(np.zeros(2), tx.init(np.zeros(2)))
    np.testing.assert_array_equal(u, 0.0)


def test_zero_learning_rate_is_allowed_and_does_nothing():
    got, _ = run(sgd(0.0), PARAMS, GRADS[:1])
    np.testing.assert_array_equal(got[0]["w"], PARAMS["w"])


def test_scale_by_rms_eps_in_sqrt_is_the_default():
    tx = scale_by_rms(decay=0.0, eps=3.0)
    u, _ = tx.update(np.array([1.0]), tx.init(np.zeros(1)))
    np.testing.assert_allclose(u, [1.0 / 2.0])    # 1 / sqrt(1 + 3), not 1 / (1 + 3)


# ---------------------------------------------------------------------------------------------
# the examples in the docstrings


FAMILY = [optim_aliases, optim_base, optim_clipping, optim_plateau, optim_scaling]


@pytest.mark.parametrize("module", [transforms, *FAMILY, schedules],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > (0 if module is transforms else 4)
    assert result.failed == 0


def test_the_split_family_keeps_one_public_api():
    """``gradkit.optim.transforms`` and ``gradkit.optim`` offer every name of the family's
    modules (the same objects), and the modules share no public name."""
    import gradkit.optim as optim

    names = [n for m in FAMILY for n in m.__all__ if n != "Schedule"]
    assert len(names) == len(set(names))
    assert sorted(transforms.__all__) == sorted(names)
    for module in FAMILY:
        for name in module.__all__:
            assert getattr(transforms, name) is getattr(module, name)
            if name != "Schedule":
                assert getattr(optim, name) is getattr(module, name)
