"""Estimator parameters: scikit-learn's constraint table, checked with gradkit's messages.

The estimators (:mod:`gradkit.models.base`) and model files
(:mod:`gradkit.models.persistence`) both check parameters, so the table's vocabulary lives
here, imported by both (neither imports the other for it).
"""
from __future__ import annotations

from sklearn.utils._param_validation import (InvalidParameterError, StrOptions, _Constraint,
                                             make_constraint)

from gradkit.safety import bool_as_number

__all__ = ["CLASS_WEIGHT", "STOP_REASONS", "store_parameters", "check_parameters"]

#: The constraint of the classifiers' ``class_weight``.
CLASS_WEIGHT = [StrOptions({"balanced"}), dict, None]

#: The values of ``stop_reason_`` (module doc).
STOP_REASONS = ("converged", "no_improvement", "max_iter", "diverged", "callback",
                "interrupted")


def store_parameters(estimator, arguments):
    """Store an ``__init__``'s arguments as attributes of the same names, unchanged (the
    scikit-learn contract: ``__init__`` only stores; validation happens in ``fit``).

    Every estimator's ``__init__`` lists its parameters explicitly, as ``get_params`` reads
    them from the signature, then calls ``store_parameters(self, locals())``.

    Args:
        estimator: the estimator (``self``).
        arguments: ``locals()`` of its ``__init__`` (``self`` is skipped).

    Examples:
        >>> class Ridge:
        ...     def __init__(self, alpha=1.0, fit_intercept=True):
        ...         store_parameters(self, locals())
        >>> vars(Ridge(alpha=0.5))
        {'alpha': 0.5, 'fit_intercept': True}
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class _Satisfies(_Constraint):
    """A parameter constraint given by a predicate and the words that describe it, for the
    few values that scikit-learn's constraint types do not express (a layer-size list, an
    initializer name)."""

    def __init__(self, predicate, description):
        super().__init__()
        self.predicate, self.description = predicate, description

    def is_satisfied_by(self, val):
        return bool(self.predicate(val))

    def __str__(self):
        return self.description


#: id of a constraint table -> (the table, {name: its constraint objects}): scikit-learn's
#: ``make_constraint`` of a table's entries gives objects that hold no state of a call
_MADE: dict = {}


def check_parameters(estimator, names=None):
    """Check ``estimator``'s parameters against its ``_parameter_constraints`` (all of them, or
    those in ``names``).

    The table has scikit-learn's form and scikit-learn's constraint types
    (``sklearn.utils._param_validation``: ``Interval``, ``StrOptions``, ``"boolean"``, a type,
    ``None``, ...), as every scikit-learn estimator declares it; a value is valid when one
    constraint of its list accepts it; :class:`_Satisfies` covers the two values those types
    do not express. We use that module although it is private because its constraint types
    are the vocabulary every scikit-learn estimator is read in, and the tests run every
    constraint of every estimator, so a change there shows at once. We loop over the table
    ourselves (instead of ``validate_parameter_constraints``) to accept ``_Satisfies`` and to
    name the bad value as ``name=value``, which gradkit's messages have always done.

    Raises:
        sklearn.utils._param_validation.InvalidParameterError: (a ValueError and a TypeError)
            naming the parameter, what it must be and the value it got.

    Args:
        estimator: the estimator.
        names: the parameters to check (None: all of them).

    Examples:
        >>> from gradkit.models import LogisticRegression
        >>> check_parameters(LogisticRegression(tol=-1))
        Traceback (most recent call last):
        ...
        sklearn.utils._param_validation.InvalidParameterError: The 'tol' parameter of
        LogisticRegression must be a float in the range [0.0, inf). Got tol=-1 instead.
    """
    table = estimator._parameter_constraints
    made = _MADE.get(id(table))
    if made is None or made[0] is not table:  # (the table's constraint objects, made once)
        made = _MADE[id(table)] = (table, {
            name: [c if isinstance(c, _Constraint) else make_constraint(c) for c in spec]
            for name, spec in table.items()})
    for name in table if names is None else names:
        value = getattr(estimator, name)
        constraints = made[1][name]
        # (a bool where only a number belongs is refused: True is 1 to scikit-learn's
        # Interval; "verbose" takes both on purpose)
        if any(c.is_satisfied_by(value) for c in constraints) and \
                (name == "verbose" or not bool_as_number(value, constraints)):
            continue
        shown = [str(c) for c in constraints if not c.hidden]
        expected = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
        raise InvalidParameterError(f"The {name!r} parameter of {type(estimator).__name__} "
                                    f"must be {expected}. Got {name}={value!r} instead.")
