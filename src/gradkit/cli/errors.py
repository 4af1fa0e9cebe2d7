"""The error the command line turns into one line on stderr and exit status 2."""

__all__ = ["CLIError"]


class CLIError(Exception):
    """Bad input or a bad option: the message is printed as one line, and ``gradkit`` exits 2.

    >>> str(CLIError("no file at 'x.csv'."))
    "no file at 'x.csv'."
    """
