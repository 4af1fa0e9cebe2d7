"""The landscapes of the optimizer race: two-dimensional test functions (Rosenbrock, Beale, Himmelblau, a saddle, an ill-conditioned quadratic).

Each function takes a point ``x`` of shape ``(2,)`` (or a stack of points of shape ``(2, ...)``
for drawing contours) and is plain NumPy, so ``gk.grad`` differentiates it. :data:`TEST_FUNCTIONS`
maps each name to a :class:`TestFunction` with a usual start, the plotting window, the known
minima and step sizes under which the first-order methods make visible progress.

>>> import numpy as np, gradkit as gk
>>> float(rosenbrock(np.array([1.0, 1.0])))
0.0
>>> gk.grad(rosenbrock)(np.array([1.0, 1.0]))
array([0., 0.])
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = ["rosenbrock", "beale", "himmelblau", "saddle", "ill_conditioned_quadratic",
           "TestFunction", "TEST_FUNCTIONS", "get_test_function"]


def rosenbrock(x):
    r"""Rosenbrock's banana valley ``f = (1 - x)^2 + 100 (y - x^2)^2``; minimum 0 at (1, 1).

    .. math:: f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2,\qquad
       \nabla f = \begin{pmatrix} -2(1 - x) - 400\,x\,(y - x^2) \\ 200\,(y - x^2) \end{pmatrix}.

    Args:
        x: a point, shape ``(2,)``, or a stack of points, shape ``(2, ...)`` (for contours).

    Returns:
        The value (a scalar, or an array of the stack's shape).

    Examples:
        >>> float(rosenbrock(np.array([0.0, 0.0])))
        1.0
    """
    return (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2


def beale(x):
    """Beale's function ``(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2``;
    minimum 0 at (3, 0.5).

    Args:
        x: a point, shape ``(2,)``, or a stack of points, shape ``(2, ...)`` (for contours).

    Returns:
        The value (a scalar, or an array of the stack's shape).

    Examples:
        >>> float(beale(np.array([3.0, 0.5])))
        0.0
    """
    a, b = x[0], x[1]
    return ((1.5 - a + a * b) ** 2 + (2.25 - a + a * b ** 2) ** 2
            + (2.625 - a + a * b ** 3) ** 2)


def himmelblau(x):
    """Himmelblau's function ``(x^2 + y - 11)^2 + (x + y^2 - 7)^2``: four minima of value 0,
    one of them at (3, 2).

    Args:
        x: a point, shape ``(2,)``, or a stack of points, shape ``(2, ...)`` (for contours).

    Returns:
        The value (a scalar, or an array of the stack's shape).

    Examples:
        >>> float(himmelblau(np.array([3.0, 2.0])))
        0.0
    """
    return (x[0] ** 2 + x[1] - 11.0) ** 2 + (x[0] + x[1] ** 2 - 7.0) ** 2


def saddle(x):
    r"""A saddle at the origin between two valleys: ``f = x^2 + y^4 / 4 - y^2 / 2``; minima
    -1/4 at (0, +-1). Started near the saddle's stable direction, a method must escape it.

    Its Hessian at the origin is :math:`\operatorname{diag}(2, -1)`: a minimum along :math:`x`
    and a maximum along :math:`y`.

    Args:
        x: a point, shape ``(2,)``, or a stack of points, shape ``(2, ...)`` (for contours).

    Returns:
        The value (a scalar, or an array of the stack's shape).

    Examples:
        >>> float(saddle(np.array([0.0, 1.0])))
        -0.25
    """
    return x[0] ** 2 + 0.25 * x[1] ** 4 - 0.5 * x[1] ** 2


def ill_conditioned_quadratic(x):
    r"""``f = (x^2 + 50 y^2) / 2``: condition number 50, minimum 0 at the origin; plain gradient
    descent zig-zags across the narrow valley.

    .. math:: f(x) = \tfrac12 x^\top A x,\qquad A = \operatorname{diag}(1, 50),\qquad
       \kappa(A) = 50.

    Gradient descent with step :math:`\eta` converges only for :math:`\eta < 2/50`, and then
    shrinks the :math:`x` error by only :math:`|1 - \eta|` per step.

    Args:
        x: a point, shape ``(2,)``, or a stack of points, shape ``(2, ...)`` (for contours).

    Returns:
        The value (a scalar, or an array of the stack's shape).

    Examples:
        >>> float(ill_conditioned_quadratic(np.array([1.0, 1.0])))
        25.5
    """
    return 0.5 * (x[0] ** 2 + 50.0 * x[1] ** 2)


class TestFunction(NamedTuple):
    """A named 2-D test problem.

    Attributes:
        name: its name in :data:`TEST_FUNCTIONS`.
        f: the function of a point ``x`` of shape ``(2,)`` (or ``(2, ...)``).
        x0: the usual starting point.
        xlim: the window's ``(left, right)`` that shows the start and the minima.
        ylim: the window's ``(bottom, top)``.
        minima: the known minimizers, shape ``(k, 2)``.
        learning_rates: step sizes for the first-order optimizers, by optimizer name.

    Examples:
        >>> problem = TEST_FUNCTIONS["beale"]
        >>> problem.name, problem.x0, float(problem.f(np.array(problem.minima[0])))
        ('beale', (1.0, 1.4), 0.0)
    """

    name: str
    f: Callable
    x0: tuple
    xlim: tuple
    ylim: tuple
    minima: tuple
    learning_rates: dict

    __test__ = False  # not a pytest test class, despite the name


def _rates(plain, adaptive):
    return {"sgd": plain, "momentum": plain, "nesterov": plain,
            "adagrad": adaptive, "rmsprop": adaptive / 5, "adam": adaptive}


#: Every test function by name (the names ``gradkit race`` accepts).
TEST_FUNCTIONS = {
    "rosenbrock": TestFunction("rosenbrock", rosenbrock, (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0),
                               ((1.0, 1.0),), _rates(5e-4, 0.1)),
    "beale": TestFunction("beale", beale, (1.0, 1.4), (-1.0, 4.5), (-1.5, 2.0),
                          ((3.0, 0.5),), _rates(5e-3, 0.05)),
    "himmelblau": TestFunction("himmelblau", himmelblau, (-0.5, -0.5), (-5.0, 5.0), (-5.0, 5.0),
                               ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                                (3.584428, -1.848126)), _rates(5e-3, 0.1)),
    "saddle": TestFunction("saddle", saddle, (1.5, 1e-3), (-2.0, 2.0), (-2.0, 2.0),
                           ((0.0, 1.0), (0.0, -1.0)), _rates(0.05, 0.05)),
    "quadratic": TestFunction("quadratic", ill_conditioned_quadratic, (-4.0, 1.0), (-5.0, 5.0),
                              (-2.0, 2.0), ((0.0, 0.0),), _rates(0.035, 0.1)),
}


def get_test_function(name) -> TestFunction:
    """The :class:`TestFunction` called ``name`` (``ill-conditioned`` / ``ill_conditioned_quadratic``
    also mean ``quadratic``).

    Raises:
        ValueError: for an unknown name, listing the valid ones.

    Args:
        name: a name of :data:`TEST_FUNCTIONS` (case and ``-`` / ``_`` ignored).

    Returns:
        TestFunction.

    Examples:
        >>> get_test_function("Rosenbrock").minima
        ((1.0, 1.0),)
    """
    key = str(name).lower().replace("-", "_")
    key = {"ill_conditioned": "quadratic", "ill_conditioned_quadratic": "quadratic"}.get(key, key)
    if key not in TEST_FUNCTIONS:
        raise ValueError(f"Unknown test function {name!r}. Valid names: "
                         f"{', '.join(TEST_FUNCTIONS)}.")
    return TEST_FUNCTIONS[key]
