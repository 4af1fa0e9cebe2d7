"""The error the command line turns into one line on stderr and exit status 2."""

__all__ = ["CLIError", "EXIT_INTERRUPTED"]

#: The status after Ctrl-C: 128 + SIGINT, as a shell reports it (``gradkit fit`` first writes
#: the model and the report of what it had trained).
EXIT_INTERRUPTED = 128 + 2


class CLIError(Exception):
    """Bad input or a bad option: the message is printed as one line, and ``gradkit`` exits 2.

    Args:
        *args: the message (one sentence a user can act on), as for ``Exception``.


    Examples:
        >>> str(CLIError("no file at 'x.csv'."))
        "no file at 'x.csv'."
    """
