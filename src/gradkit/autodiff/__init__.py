"""The autodiff engine: gradients of plain NumPy code, in reverse and forward mode, to any order.

- :mod:`.tracer`: traced values, the reverse and forward traces, the primitive table.
- :mod:`.rules`: the gradient rules, one module per family of NumPy functions.
- :mod:`.conventions`: derivatives at kinks (minimum-norm subgradient).
- :mod:`.api`: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``.
- :mod:`.stable`: numerically stable primitives (``logsumexp``, ``softmax``, ``sigmoid``, ...).
- :mod:`.custom` and :mod:`.check`: user-defined rules and gradient checking.
"""
from . import rules  # noqa: F401  (registers every rule)
from .api import (elementwise_grad, grad, hessian, hvp, jacobian, jvp, stop_gradient,
                  value_and_grad, vjp)
from .check import check_grads
from .custom import custom_vjp
from .tracer import NoGradientRuleError, Tracer, TracerConversionError

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp",
           "elementwise_grad", "stop_gradient", "custom_vjp", "check_grads", "Tracer",
           "TracerConversionError", "NoGradientRuleError"]
