"""Gradient checking: compare both modes against central finite differences."""
from __future__ import annotations

import numpy as np

from ..backend import is_gpu_array, to_device_of
from ..tree import tree_flatten, tree_map
from .api import jvp, vjp
from .trace import getval

__all__ = ["check_grads", "numerical_directional_derivative"]


def _host(x):
    """A float (or complex) host copy to compare (CuPy arrays are copied; a tracer still
    raises)."""
    x = x.get() if is_gpu_array(x) and hasattr(x, "get") else x
    return np.asarray(x, complex if np.iscomplexobj(x) else float)


def _vdot(a, b):
    """The pairing of cotangents and tangents: Re sum(a * b), no conjugation (the complex
    convention of gradkit.autodiff.complex; the plain dot product for real values)."""
    la, lb = tree_flatten(a)[0], tree_flatten(b)[0]
    return float(np.real(sum(np.sum(_host(x) * _host(y)) for x, y in zip(la, lb))))


def _axpy(alpha, t, x):
    return tree_map(lambda xi, ti: xi + alpha * ti, x, t)


def numerical_directional_derivative(fun, args, tangents, eps=1e-5):
    """``(f(x + eps t) - f(x - eps t)) / (2 eps)``, leaf by leaf of the output.

    The central difference approximates the directional derivative :math:`J(x)\\,t` with an
    error of order :math:`\\epsilon^2`.

    Args:
        fun: the function, of ``*args``.
        args: the point (a tuple of arguments, each a pytree).
        tangents: the direction, a tuple with the structure of ``args``.
        eps: the step.

    Returns:
        The finite difference, with the structure of ``fun``'s output (host float arrays).

    Examples:
        >>> import numpy as np
        >>> d = numerical_directional_derivative(lambda x: np.sum(x ** 2), (np.ones(2),),
        ...                                      (np.array([1.0, 0.0]),))
        >>> round(float(d), 6)  # d/dx0 of x0**2 + x1**2 at (1, 1)
        2.0
    """
    plus = fun(*_axpy(eps, tangents, args))
    minus = fun(*_axpy(-eps, tangents, args))
    return tree_map(lambda p, m: (_host(p) - _host(m)) / (2 * eps),
                    plus, minus)


def _close(name, got, want, rtol, atol):
    g, w = tree_flatten(got)[0], tree_flatten(want)[0]
    for a, b in zip(g, w):
        a, b = _host(getval(a)), _host(getval(b))
        if a.shape != b.shape and a.size != b.size:
            raise AssertionError(f"{name}: shape {a.shape} where {b.shape} was expected.")
        err = np.max(np.abs(a - np.reshape(b, a.shape)), initial=0.0)
        scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0))
        if not err <= atol + rtol * scale:
            raise AssertionError(f"{name}: max error {err:.3g} exceeds tolerance "
                                 f"(atol={atol}, rtol={rtol}, scale {scale:.3g}).\n"
                                 f"  computed: {a.ravel()[:6]}\n  expected: {np.ravel(b)[:6]}")


def check_grads(fun, args, order=2, modes=("fwd", "rev"), eps=1e-5, rtol=1e-5, atol=1e-6,
                seed=0):
    """Check ``fun``'s derivatives against central finite differences along random directions.

    For each mode in ``modes``: forward mode compares ``jvp(fun, args, t)`` with
    ``(f(x + eps t) - f(x - eps t)) / 2 eps``; reverse mode compares ``<u, J t>`` computed by
    ``vjp`` with ``<u, finite difference>`` for a random output direction ``u``
    (``<a, b> = Re sum(a * b)``: complex arguments get complex directions, in the convention
    of :mod:`gradkit.autodiff.complex`). With
    ``order > 1`` the derivative functions themselves are checked, recursively (JAX's
    ``check_grads``). Use float64 arguments.

    Args:
        fun: the function to check; it takes ``*args`` and returns an array or a pytree.
        args: a tuple of the positional arguments (float64 arrays or pytrees of them).
        order: the highest derivative order to check (2: the derivatives of the derivatives).
        modes: which modes to check, ``"fwd"`` (``jvp``) and/or ``"rev"`` (``vjp``).
        eps: the finite-difference step.
        rtol: the relative tolerance of each comparison.
        atol: the absolute tolerance of each comparison.
        seed: the seed of the random directions (the check is deterministic).

    Raises:
        AssertionError: naming the mode, the order and the error, when a check fails.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> gk.check_grads(lambda x: np.sum(np.tanh(x) ** 2), (np.array([0.3, -1.2]),), order=2)
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"check_grads: args must be a tuple of the function's arguments, got "
                        f"a {type(args).__name__}; write check_grads(f, (x,)).")
    args = tuple(args)
    rng = np.random.default_rng(seed)

    def rand_like(x):
        x = getval(x)
        t = rng.standard_normal(np.shape(x)).astype(np.result_type(x, np.float32))
        if np.iscomplexobj(x):  # complex: a direction in the real and the imaginary parts
            t = t + 1j * rng.standard_normal(np.shape(x))
        return to_device_of(t, x)  # drawn on the host, used on x's device

    tangents = tree_map(rand_like, args)
    numeric = numerical_directional_derivative(fun, args, tangents, eps)
    name = getattr(fun, "__name__", "function")
    if "fwd" in modes:
        _, t_out = jvp(fun, args, tangents)
        _close(f"check_grads({name}): forward mode, order {order}", t_out, numeric, rtol, atol)
    if "rev" in modes:
        out, pullback = vjp(fun, *args)
        u = tree_map(rand_like, out)
        cts = pullback(u)
        for i, (ct, t) in enumerate(zip(tree_flatten(cts)[0], tree_flatten(tangents)[0])):
            if np.shape(getval(ct)) != np.shape(getval(t)):
                raise AssertionError(
                    f"check_grads({name}): reverse mode, order {order}: a cotangent of argument "
                    f"leaf {i} has shape {np.shape(getval(ct))}, the argument "
                    f"{np.shape(getval(t))}.")
        got, want = _vdot(cts, tangents), _vdot(u, numeric)
        if not abs(got - want) <= atol + rtol * max(abs(got), abs(want), 1.0):
            raise AssertionError(f"check_grads({name}): reverse mode, order {order}: <vjp(u), t> "
                                 f"= {got:.10g} but the finite difference gives {want:.10g}.")
    if order > 1:
        if "fwd" in modes:
            def fwd_derivative(*a):
                return jvp(fun, a, tangents)[1]
            fwd_derivative.__name__ = f"jvp({name})"
            check_grads(fwd_derivative, args, order - 1, modes, eps, rtol, atol, seed + 1)
        if "rev" in modes:
            out = fun(*args)
            u = tree_map(rand_like, out)

            def rev_derivative(*a):
                return vjp(fun, *a)[1](u)
            rev_derivative.__name__ = f"vjp({name})"
            check_grads(rev_derivative, args, order - 1, modes, eps, rtol, atol, seed + 1)
