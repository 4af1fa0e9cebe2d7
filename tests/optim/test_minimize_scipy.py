"""gk.minimize agrees with scipy.optimize.minimize (the oracle): minima, evaluation counts, bounds."""
import numpy as np
import pytest
from scipy.optimize import minimize as sp_minimize

import gradkit as gk
from gradkit.optim.minimize import minimize

from .problems import problem

# (gradkit method, scipy method, problem); nfev (and for newton-cg the Hessian-vector
# products) must be within a factor 1.5 of scipy's
CASES = [("lbfgs", "L-BFGS-B", p) for p in ["rosenbrock-2", "rosenbrock-100", "beale",
                                             "himmelblau", "logistic-breast-cancer"]] + \
        [("bfgs", "BFGS", p) for p in ["rosenbrock-2", "rosenbrock-100", "beale", "himmelblau",
                                       "quadratic-ill"]] + \
        [("newton-cg", "Newton-CG", p) for p in ["quadratic-ill", "rosenbrock-2", "rosenbrock-100",
                                                 "beale", "himmelblau", "logistic-breast-cancer"]]


def _scipy(f, x0, method, **kw):
    vg = gk.value_and_grad(f)

    def fg(x):
        v, g = vg(x)
        return float(gk.stop_gradient(v)), g
    opts = {"L-BFGS-B": dict(gtol=1e-6, ftol=0.0), "BFGS": dict(gtol=1e-6, norm=np.inf),
            "Newton-CG": dict(xtol=1e-9)}[method]  # scipy's Newton-CG has no gradient test
    if method == "Newton-CG":
        kw["hessp"] = gk.hvp(f)
    return sp_minimize(fg, x0, jac=True, method=method, options=opts, **kw)


@pytest.mark.parametrize("method,sp_method,name", CASES)
def test_agrees_with_scipy(method, sp_method, name):
    f, x0, fstar = problem(name)
    ours, theirs = minimize(f, x0, method=method), _scipy(f, x0, sp_method)
    assert abs(ours.fun - theirs.fun) <= 1e-6 * max(1.0, abs(fstar))
    np.testing.assert_allclose(ours.x, theirs.x, atol=1e-4)
    assert ours.nfev <= 1.5 * theirs.nfev + 5, (ours.nfev, theirs.nfev)
    if method == "newton-cg":
        assert ours.nhev <= 1.5 * theirs.nhev + 5, (ours.nhev, theirs.nhev)


BOUNDED = [  # (problem, lower, upper)
    ("rosenbrock-2", [-2.0, -2.0], [0.5, 2.0]),
    ("quadratic-well", -0.2, np.linspace(-0.1, 0.5, 10)),
    ("quadratic-ill", -0.1, 0.1),
    ("logistic-breast-cancer", -0.5, 0.5),
    ("rosenbrock-100", np.full(100, -np.inf), np.r_[np.full(50, 0.8), np.full(50, np.inf)]),
]


@pytest.mark.parametrize("name,lower,upper", BOUNDED, ids=[b[0] for b in BOUNDED])
def test_lbfgs_with_bounds_stays_in_the_box_and_matches_lbfgsb(name, lower, upper):
    f, x0, _ = problem(name)
    lo = np.broadcast_to(lower, x0.shape)
    up = np.broadcast_to(upper, x0.shape)
    x0 = np.clip(x0, lo, up)
    inside = []
    r = minimize(f, x0, method="lbfgs", bounds=(lower, upper), max_iter=5000,
                 callback=lambda info: inside.append(bool(np.all((info.x >= lo) & (info.x <= up)))))
    assert inside and all(inside)
    theirs = _scipy(f, x0, "L-BFGS-B", bounds=list(zip(lo, up)))
    assert r.success, r.message
    assert abs(r.fun - theirs.fun) <= 1e-6 * max(1.0, abs(theirs.fun))
    np.testing.assert_allclose(r.x, theirs.x, atol=1e-3)


def test_bounds_are_checked():
    f = lambda x: np.sum(x ** 2)  # noqa: E731
    with pytest.raises(ValueError, match="lower bound exceeds"):
        minimize(f, np.ones(2), bounds=(1.0, 0.0))
    with pytest.raises(ValueError, match="only"):
        minimize(f, np.ones(2), method="bfgs", bounds=(0.0, 1.0))
