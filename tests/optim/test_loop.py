"""Every stochastic optimizer, run full batch by gk.optim.run, on the problem table of the
full-batch methods; and the loop's own contract (stopping vocabulary, pytrees, errors)."""
import numpy as np
import pytest

from gradkit.optim import (adagrad, adam, adamax, adamw, chain, clip_by_global_norm, momentum,
                           nadam, reduce_on_plateau, rmsprop, run, schedules, sgd)

from .problems import assert_best_point_returned, problem

OPTIMIZERS = {
    "sgd": sgd,
    "momentum": lambda lr: momentum(lr, beta=0.9),
    "nesterov": lambda lr: momentum(lr, beta=0.9, nesterov=True),
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "rmsprop-centered": lambda lr: rmsprop(lr, centered=True),
    "adam": adam,
    "adamw": adamw,
    "adamax": adamax,
    "nadam": nadam,
}
STEPS = 2000

# (optimizer, problem, learning rate, outcome): after STEPS full-batch steps from the table's
# x0, (f - f*) / (f(x0) - f*) must be <= outcome. The learning rates are the best of a grid
# 3, 1, 0.3, ..., 1e-5 with defaults for every other hyperparameter; the outcomes are what
# the run reaches with a margin of about 10x (2x where it only crawls). They record the
# textbook picture: plain SGD crawls on the condition-1e4 quadratic ((1 - 1/kappa)^k) and in
# Rosenbrock's valleys, momentum fixes much of that, Adam-type steps go down the valleys.
CASES = [
    ("sgd", "beale", 0.03, 1e-12),  # reaches 2.3e-19
    ("momentum", "beale", 0.01, 1e-12),  # reaches 1.0e-31
    ("nesterov", "beale", 0.01, 1e-12),  # reaches 8.9e-33
    ("adagrad", "beale", 1, 1e-12),  # reaches 7.5e-16
    ("rmsprop", "beale", 1, 1e-04),  # reaches 1.4e-06
    ("rmsprop-centered", "beale", 0.0001, 1e-07),  # reaches 6.3e-09
    ("adam", "beale", 0.3, 1e-12),  # reaches 0.0e+00
    ("adamw", "beale", 1, 1e-08),  # reaches 2.6e-10
    ("adamax", "beale", 1, 1e-12),  # reaches 0.0e+00
    ("nadam", "beale", 0.1, 1e-12),  # reaches 2.0e-33
    ("sgd", "himmelblau", 0.01, 1e-12),  # reaches 3.7e-32
    ("momentum", "himmelblau", 0.001, 1e-12),  # reaches 0.0e+00
    ("nesterov", "himmelblau", 0.001, 1e-12),  # reaches 0.0e+00
    ("adagrad", "himmelblau", 1, 1e-12),  # reaches 0.0e+00
    ("rmsprop", "himmelblau", 0.1, 1e-12),  # reaches 1.5e-31
    ("rmsprop-centered", "himmelblau", 0.01, 1e-12),  # reaches 0.0e+00
    ("adam", "himmelblau", 0.03, 1e-12),  # reaches 0.0e+00
    ("adamw", "himmelblau", 3, 1e-12),  # reaches 7.3e-14
    ("adamax", "himmelblau", 0.1, 1e-12),  # reaches 0.0e+00
    ("nadam", "himmelblau", 0.1, 1e-12),  # reaches 0.0e+00
    ("sgd", "logistic-breast-cancer", 0.01, 1e-12),  # reaches -4.0e-17
    ("momentum", "logistic-breast-cancer", 0.001, 1e-12),  # reaches -4.0e-17
    ("nesterov", "logistic-breast-cancer", 0.001, 1e-12),  # reaches -4.0e-17
    ("adagrad", "logistic-breast-cancer", 1, 1e-11),  # reaches 1.8e-13
    ("rmsprop", "logistic-breast-cancer", 0.001, 1e-05),  # reaches 4.8e-07
    ("rmsprop-centered", "logistic-breast-cancer", 0.0001, 1e-07),  # reaches 4.8e-09
    ("adam", "logistic-breast-cancer", 0.1, 1e-12),  # reaches -4.0e-17
    ("adamw", "logistic-breast-cancer", 0.3, 1e-08),  # reaches 2.5e-10
    ("adamax", "logistic-breast-cancer", 1, 1e-12),  # reaches -4.0e-17
    ("nadam", "logistic-breast-cancer", 0.3, 1e-12),  # reaches -4.0e-17
    ("sgd", "quadratic-ill", 0.0001, 9e-01),  # reaches 4.1e-01
    ("momentum", "quadratic-ill", 0.0003, 1e-04),  # reaches 1.2e-06
    ("nesterov", "quadratic-ill", 0.0001, 1e-02),  # reaches 4.6e-03
    ("adagrad", "quadratic-ill", 0.3, 2e-01),  # reaches 9.5e-02
    ("rmsprop", "quadratic-ill", 0.001, 2e-01),  # reaches 6.6e-02
    ("rmsprop-centered", "quadratic-ill", 0.0003, 2e-01),  # reaches 5.1e-02
    ("adam", "quadratic-ill", 3, 1e-08),  # reaches 2.3e-09 (5.7e-11 before NumPy 2.4.6)
    ("adamw", "quadratic-ill", 0.003, 1e-07),  # reaches 1.3e-09
    ("adamax", "quadratic-ill", 0.03, 6e-03),  # reaches 2.8e-03
    ("nadam", "quadratic-ill", 0.001, 1e-03),  # reaches 7.2e-05
    ("sgd", "quadratic-well", 0.1, 1e-12),  # reaches -1.4e-16
    ("momentum", "quadratic-well", 0.03, 1e-12),  # reaches -4.3e-16
    ("nesterov", "quadratic-well", 0.03, 1e-12),  # reaches -2.9e-16
    ("adagrad", "quadratic-well", 0.3, 1e-12),  # reaches -1.4e-16
    ("rmsprop", "quadratic-well", 0.003, 1e-03),  # reaches 2.5e-05
    ("rmsprop-centered", "quadratic-well", 0.001, 1e-04),  # reaches 2.0e-06
    ("adam", "quadratic-well", 0.1, 1e-12),  # reaches -1.4e-16
    ("adamw", "quadratic-well", 0.1, 1e-10),  # reaches 1.6e-12
    ("adamax", "quadratic-well", 0.1, 1e-12),  # reaches -1.4e-16
    ("nadam", "quadratic-well", 0.1, 1e-12),  # reaches 0.0e+00
    ("sgd", "rosenbrock-100", 0.001, 8e-03),  # reaches 3.6e-03
    ("momentum", "rosenbrock-100", 0.001, 1e-05),  # reaches 6.6e-07
    ("nesterov", "rosenbrock-100", 0.0003, 6e-03),  # reaches 2.5e-03
    ("adagrad", "rosenbrock-100", 1, 7e-03),  # reaches 3.3e-03
    ("rmsprop", "rosenbrock-100", 0.01, 6e-03),  # reaches 2.9e-03
    ("rmsprop-centered", "rosenbrock-100", 0.01, 6e-03),  # reaches 2.9e-03
    ("adam", "rosenbrock-100", 0.3, 1e-07),  # reaches 3.1e-09
    ("adamw", "rosenbrock-100", 0.3, 1e-07),  # reaches 4.4e-09
    ("adamax", "rosenbrock-100", 1, 4e-03),  # reaches 1.8e-03
    ("nadam", "rosenbrock-100", 1, 1e-03),  # reaches 3.2e-05
    ("sgd", "rosenbrock-2", 0.003, 3e-03),  # reaches 1.1e-03
    ("momentum", "rosenbrock-2", 0.003, 1e-12),  # reaches 1.1e-26
    ("nesterov", "rosenbrock-2", 0.001, 1e-08),  # reaches 3.5e-10
    ("adagrad", "rosenbrock-2", 1, 1e-02),  # reaches 2.4e-04
    ("rmsprop", "rosenbrock-2", 1, 1e-03),  # reaches 1.5e-05
    ("rmsprop-centered", "rosenbrock-2", 0.001, 1e-03),  # reaches 5.7e-05
    ("adam", "rosenbrock-2", 0.3, 1e-12),  # reaches 5.5e-20
    ("adamw", "rosenbrock-2", 0.1, 1e-07),  # reaches 8.7e-09
    ("adamax", "rosenbrock-2", 1, 1e-08),  # reaches 8.5e-10
    ("nadam", "rosenbrock-2", 3, 1e-07),  # reaches 3.2e-09
]


@pytest.mark.parametrize("name,problem_name,lr,outcome", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_optimizer_reaches_its_outcome_on_the_problem_table(name, problem_name, lr,
                                                                  outcome):
    f, x0, fstar = problem(problem_name)
    r = run(OPTIMIZERS[name](lr), f, x0, STEPS)
    gap = (r.fun - fstar) / (f(x0) - fstar)
    assert gap <= outcome, f"{name} on {problem_name}: relative gap {gap:.3g} > {outcome:g}"
    assert r.success and r.nfev == r.nit + 1
    assert r.nit == STEPS or r.grad_norm == 0.0  # tol=0: only an exact minimum stops it early
    assert_best_point_returned(r)


def test_every_optimizer_and_problem_is_in_the_table():
    from .problems import PROBLEMS
    assert {(c[0], c[1]) for c in CASES} == {(o, p) for o in OPTIMIZERS for p in PROBLEMS}


def test_a_schedule_gets_adam_down_the_rosenbrock_valley():
    f, x0, _ = problem("rosenbrock-2")
    r = run(adam(schedules.cosine_decay_schedule(0.3, STEPS)), f, x0, STEPS)
    assert r.fun < 1e-10
    assert r.history["step_size"][-1] < 1e-5 < r.history["step_size"][1]


def test_run_stops_at_tol_and_reports_success():
    f, x0, _ = problem("quadratic-well")
    r = run(sgd(0.1), f, x0, 10_000, tol=1e-8)
    assert r.success and r.status == 0 and r.grad_norm <= 1e-8 < r.history["grad_norm"][-2]
    assert r.nit < 1000


def test_run_follows_the_update_equations_on_a_pytree():
    # one step of sgd by hand: x1 = x0 - lr * grad f(x0), in the structure of x0
    x0 = {"a": np.array([1.0, 2.0]), "b": np.array([[3.0]])}
    r = run(sgd(0.25), lambda p: np.sum(p["a"] ** 2) + np.sum(p["b"] ** 2), x0, 1,
            record_path=True)
    path = r.history["path"]
    np.testing.assert_allclose(path[1]["a"], [0.5, 1.0])
    np.testing.assert_allclose(path[1]["b"], [[1.5]])
    assert r.x["b"].shape == (1, 1) and len(path) == 2


def test_run_passes_the_loss_to_reduce_on_plateau():
    f = lambda x: np.sum(np.abs(x))  # noqa: E731  sgd oscillates around the kink
    r = run(chain(sgd(0.3), reduce_on_plateau(factor=0.5, patience=2)), f, np.array([1.0]),
            60)
    assert r.history["step_size"][-1] < 0.3 * 0.5 ** 3
    assert r.fun < 1e-3


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_run_stops_on_callback_nan_and_no_change():
    f, x0, _ = problem("rosenbrock-2")
    r = run(adam(0.1), f, x0, 100, callback=lambda info: info.nit == 7)
    assert r.status == 4 and r.nit == 7 and not r.success
    r = run(sgd(1.0), f, x0, 100)  # diverges: the best finite point is returned
    assert r.status == 3 and not r.success and np.isfinite(r.fun) and r.fun <= f(x0)
    r = run(chain(clip_by_global_norm(1e-12), sgd(1e-12)), f, x0, 100, n_iter_no_change=5)
    assert r.status == 5 and r.nit == 5


def test_run_rejects_a_method_name_and_bad_arguments():
    with pytest.raises(TypeError, match="minimize"):
        run("adam", lambda x: np.sum(x ** 2), np.ones(2))
    with pytest.raises(ValueError, match="max_iter"):
        run(adam(0.1), lambda x: np.sum(x ** 2), np.ones(2), -1)
