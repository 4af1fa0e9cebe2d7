"""User input made harmless where it goes: strings for the medium they are written to (a
terminal, a CSV cell, a figure label), and booleans kept out of numeric parameters. Column
names, file names and labels come from data the user may not have written; each medium has
its own way of turning text into action, and this module is the one place that knows them
(it imports nothing from gradkit, so every layer can use it).

>>> for_terminal("name\\x1b]0;owned\\x07")
'name\\\\x1b]0;owned\\\\x07'
>>> for_csv("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> for_csv("-0.5"), for_csv("bmi")
("'-0.5", 'bmi')
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["for_terminal", "for_csv", "for_label", "PLAIN_TEXT", "bool_as_number"]

# C0 and C1 control characters, DEL, the line and paragraph separators, and the
# bidirectional marks, overrides and isolates that make a terminal (or an editor) show text
# in another order than it is ("Trojan Source")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                      "\u2066-\u2069]")

# what a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"): = + - @, and a
# tab or carriage return in front of one; the full-width forms are read the same by some
_FORMULA_START = tuple("=+-@\t\r\n") + tuple("\uff1d\uff0b\uff0d\uff20")

#: Text properties for a matplotlib label holding a user string: no math text (a ``$`` in a
#: column name would otherwise be parsed, and an unbalanced one breaks the drawing) and no
#: TeX even when the user's rcParams ask for it.
PLAIN_TEXT = {"parse_math": False, "usetex": False}


def _escape(match):
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text) -> str:
    """``text`` with every control character written as a visible escape (``\\x1b``,
    ``\\u202e``), so printing it cannot move the cursor, retitle the window, change colours
    or reorder what the terminal shows. Newlines and tabs are escaped too: apply it to the
    user's part of a line, not to a multi-line message.

    Args:
        text: the user's string (anything: it is passed to ``str``).

    Returns:
        str: the text with its control characters escaped.

    Examples:
        >>> for_terminal("col\\u202eumn"), for_terminal("plain")
        ('col\\\\u202eumn', 'plain')
    """
    return _CONTROL.sub(_escape, str(text))


def for_csv(text) -> str:
    """A CSV cell that a spreadsheet shows as text: a cell starting with ``= + - @``, a tab,
    a carriage return or a newline gets a leading ``'``, as OWASP recommends (the ``csv``
    module then quotes whatever needs quoting).

    Args:
        text: the cell's text (anything: it is passed to ``str``).

    Returns:
        str: the text, with a leading ``'`` when it could start a formula.

    Examples:
        >>> for_csv("=1+1"), for_csv("@SUM(A1)"), for_csv("bmi")
        ("'=1+1", "'@SUM(A1)", 'bmi')
    """
    text = str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def for_label(text) -> str:
    """A figure label: control characters escaped as for the terminal. Draw it with
    :data:`PLAIN_TEXT` so that ``$`` is shown, not parsed as math text.

    Args:
        text: the user's string.

    Returns:
        str: the label's text.

    Examples:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots()
        >>> ax.set_title(for_label("cost in $ (2024)"), **PLAIN_TEXT).get_text()
        'cost in $ (2024)'
        >>> plt.close(fig)
    """
    return for_terminal(text)


def bool_as_number(value, constraints) -> bool:
    """Whether ``value`` is a boolean that ``constraints`` would accept only as the number it
    also is (``True == 1``): then it is a mistake (``learning_rate=True``), not a setting.

    scikit-learn's ``Interval(Real, 0, None)`` and ``isinstance(value, Real)`` both accept
    ``True``, since ``bool`` is a subclass of ``int``. A constraint accepts a boolean *as a
    boolean* when it takes the boolean but not the integer of the same value (``"boolean"``,
    an instance of ``bool``); when some constraint accepts it and none does so as a boolean,
    this returns True (a value no constraint accepts is the table's own check to refuse).

    Args:
        value: the parameter's value.
        constraints: objects with ``is_satisfied_by(value) -> bool`` (scikit-learn's
            constraint types), the list one parameter is checked against.

    Returns:
        bool: True for a ``bool`` / ``numpy.bool_`` that only a numeric constraint accepts.

    Examples:
        >>> from numbers import Real
        >>> from sklearn.utils._param_validation import Interval, make_constraint
        >>> rate = [Interval(Real, 0, None, closed="neither")]
        >>> bool_as_number(True, rate), bool_as_number(0.1, rate)
        (True, False)
        >>> bool_as_number(True, rate + [make_constraint("boolean")])
        False
    """
    if not isinstance(value, (bool, np.bool_)):
        return False
    accepting = [c for c in constraints if c.is_satisfied_by(value)]
    return bool(accepting) and all(c.is_satisfied_by(int(value)) for c in accepting)
