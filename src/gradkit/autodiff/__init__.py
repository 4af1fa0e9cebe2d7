"""The autodiff engine: gradients of plain NumPy code, in reverse and forward mode, to any order.

- :mod:`.primitive`: primitives and the rule table (``defvjp``, ``defjvp``, ...).
- :mod:`.trace`: the traces: the reverse-mode tape and its backward pass, forward mode.
- :mod:`.tracer`: the traced value, with every operator, array method and NumPy protocol.
- :mod:`.batching`: ``vmap``: batched values and the table of batching rules.
- :mod:`.mutation`: writes (``x += y``, ``x[i] = v``, ``out=``) and views of traced values.
- :mod:`.rules`: the gradient rules, one module per family of NumPy functions.
- :mod:`.conventions`: derivatives at kinks (minimum-norm subgradient).
- :mod:`.jit`: ``jit``: record a function's NumPy calls once, replay them (the recording
  itself, :class:`~.staging.JitValue` and :class:`~.staging.Recording`, is :mod:`.staging`).
- :mod:`.api`: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``.
- :mod:`.stable`: numerically stable primitives (``logsumexp``, ``softmax``, ``sigmoid``, ...).
- :mod:`.custom` and :mod:`.check`: user-defined rules and gradient checking.
"""
from . import primitive  # noqa: F401  (first: the engine's modules load in a chain from it)
from . import rules  # noqa: F401  (registers every rule)
from . import namespace  # noqa: F401  (the ndarray attributes a Tracer lacks: clear errors)
from .api import grad, jvp, stop_gradient, value_and_grad, vjp, vmap
from .jacobians import elementwise_grad, hessian, hvp, jacfwd, jacobian, jacrev
from .check import check_grads
from .jit import JitWarning, jit
from .custom import custom_vjp
from .primitive import LeakedTracerError, NoGradientRuleError, TracerConversionError
from .trace import first_order_trace
from .tracer import Tracer

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "jacfwd", "jacrev", "hessian",
           "hvp", "vmap", "jit", "JitWarning",
           "elementwise_grad", "stop_gradient", "custom_vjp", "check_grads", "Tracer",
           "TracerConversionError", "NoGradientRuleError", "LeakedTracerError",
           "first_order_trace"]
