"""Tables of test cases for the gradient rules, one module per family of rules.

Each module defines ``CASES``: a list of ``(name, function, args)``. ``function`` is plain
NumPy code taking float64 arrays; ``test_rules.py`` checks every case with ``check_grads``
(forward and reverse mode, to second order) and fails if any registered primitive is not
exercised by some case.
"""
import importlib
import pkgutil

CASES = []
for _mod in pkgutil.iter_modules(__path__):
    CASES += importlib.import_module(f"{__name__}.{_mod.name}").CASES
