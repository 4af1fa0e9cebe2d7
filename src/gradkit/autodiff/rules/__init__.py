"""The rule table, one module per family of NumPy functions.

Importing this package registers every rule. To add a rule, add one line to the family's
module: ``def_elementwise(np.tanh, lambda g, ans, x: g * (1 - ans ** 2))`` for an element-wise
function, or ``defvjp`` + ``defjvp`` / ``def_linear`` for the rest (see
``gradkit.autodiff.primitive``).
"""
from . import flat, elementwise, reductions, shape, indexing, contractions  # noqa: F401
from . import linalg, special, nan_reductions, writes, fft, numerical  # noqa: F401
from . import complexnum  # noqa: F401  (real, imag, angle; marks the complex-verified rules)
from ..complex import guard_unverified  # complex input: every rule not verified refuses it

elementwise.register_outer()  # ufunc.outer for every binary ufunc registered above

guard_unverified()

from ..batching import register_rule_functions  # noqa: E402
register_rule_functions()  # vmap's rules for the primitive bodies defined above
