"""User strings made harmless for the medium they are written to: a terminal, a CSV cell, a
figure label. Column names, file names and labels come from data the user may not have
written; each medium has its own way of turning text into action, and this module is the one
place that knows them (it imports nothing from gradkit, so every layer can use it).

>>> for_terminal("name\\x1b]0;owned\\x07")
'name\\\\x1b]0;owned\\\\x07'
>>> for_csv("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> for_csv("-0.5"), for_csv("bmi")
("'-0.5", 'bmi')
"""
from __future__ import annotations

import re

__all__ = ["for_terminal", "for_csv", "for_label", "PLAIN_TEXT"]

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
    user's part of a line, not to a multi-line message."""
    return _CONTROL.sub(_escape, str(text))


def for_csv(text) -> str:
    """A CSV cell that a spreadsheet shows as text: a cell starting with ``= + - @``, a tab,
    a carriage return or a newline gets a leading ``'``, as OWASP recommends (the ``csv``
    module then quotes whatever needs quoting)."""
    text = str(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def for_label(text) -> str:
    """A figure label: control characters escaped as for the terminal. Draw it with
    :data:`PLAIN_TEXT` so that ``$`` is shown, not parsed as math text."""
    return for_terminal(text)
