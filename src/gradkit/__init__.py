"""gradkit: the gradient toolkit for machine learning in plain NumPy.

>>> import numpy as np, gradkit as gk
>>> gk.grad(lambda x: np.sum(np.sin(x) ** 2))(np.array([0.0, np.pi / 4]))
array([0., 1.])
"""
from . import tree
from .autodiff import (LeakedTracerError, NoGradientRuleError, TracerConversionError,
                       check_grads, custom_vjp, elementwise_grad, grad, hessian, hvp, jacfwd,
                       jacobian, jacrev, jit, JitWarning, jvp, stop_gradient, value_and_grad, vjp,
                       vmap)

from .autodiff.stable import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax, softplus
from . import optim  # noqa: E402  (optim builds on the engine above)
from .optim import minimize  # noqa: E402

__version__ = "0.1.0"
__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "jacfwd", "jacrev", "hessian",
           "hvp", "vmap", "jit", "JitWarning", "elementwise_grad", "stop_gradient", "custom_vjp", "check_grads", "tree",
           "TracerConversionError", "NoGradientRuleError", "LeakedTracerError", "logsumexp",
           "softmax",
           "log_softmax", "sigmoid", "log_sigmoid", "softplus", "optim", "minimize"]
