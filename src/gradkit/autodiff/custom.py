"""User-defined primitives with their own derivative: :func:`custom_vjp`."""
from __future__ import annotations

import functools

from .primitive import Primitive
from .trace import ReverseTrace, apply
from .tracer import Tracer

__all__ = ["custom_vjp"]


class custom_vjp:
    """Give a function its own reverse-mode rule (JAX's ``custom_vjp``).

    ``fwd(*args) -> (out, residuals)`` computes the output and what the backward rule needs;
    ``bwd(residuals, g) -> tuple`` returns one cotangent per positional argument (``None`` for
    an argument with no derivative). In forward mode, and for the derivatives of the rule
    itself, gradkit differentiates the function's own body.

    ``defvjp(fwd, bwd)`` on the wrapped function sets the rule (and returns the function).

    Args:
        fun: the function; its positional arguments are what ``bwd`` returns cotangents for.

    Examples:
        >>> import numpy as np, gradkit as gk
        >>> @gk.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> _ = clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (np.clip(g, -1.0, 1.0),))
        >>> float(gk.grad(lambda x: 3.0 * clip_gradient(x))(1.0))  # the incoming 3.0 is clipped
        1.0
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd
        return self

    def __call__(self, *args):
        if self.fwd is None:
            raise TypeError(f"custom_vjp {self.fun.__name__}: call .defvjp(fwd, bwd) first.")
        top = None
        for a in args:
            if isinstance(a, Tracer) and (top is None or a._trace.level > top.level):
                top = a._trace
        if not isinstance(top, ReverseTrace):
            return self.fun(*args)
        # One primitive per call: its rule closes over this call's residuals.
        out_holder = {}
        name = self.fun.__name__

        def fn(*vals):
            out, res = self.fwd(*vals)
            out_holder["res"] = res
            return out

        def rule(i):
            def vjp(g, ans, *vals):
                cts = self.bwd(out_holder["res"], g)
                if not isinstance(cts, tuple) or len(cts) != len(args):
                    raise TypeError(f"custom_vjp {name}: bwd must return a tuple with one "
                                    f"cotangent per argument ({len(args)}).")
                ct = cts[i]
                if ct is None:
                    ct = 0.0 * vals[i]
                return ct
            return vjp

        prim = Primitive(name, fn)
        prim.set_vjps(rule(i) for i in range(len(args)))
        prim.jvps = ()
        return apply(prim, *args)
