"""Ctrl-C during ``fit``: finish the step being taken, then stop with a complete fitted model.

While an estimator trains, :class:`InterruptGuard` replaces Python's SIGINT handler (only in
the main thread, and only when the handler is Python's default, so a program's own handler is
left alone): the first Ctrl-C only sets a flag, which the training loop reads after every
optimizer step (every iteration of a full-batch method) and then ends the fit with the best
parameters seen, ``stop_reason_ = "interrupted"`` and a warning. A second Ctrl-C raises
:class:`KeyboardInterrupt` at once, as usual. The previous handler is back when ``fit``
returns. A :class:`KeyboardInterrupt` that still reaches the loop (raised by a callback, or
with the handler not installed) is caught there and handled the same way.
"""
from __future__ import annotations

import signal
import threading

__all__ = ["InterruptGuard"]


class InterruptGuard:
    """A context manager: inside it, the first SIGINT sets :attr:`interrupted` instead of
    raising.

    Attributes:
        interrupted: whether a SIGINT arrived inside the block.
        forced: whether a second one did (it raises ``KeyboardInterrupt``).

    Examples:
        >>> import os, signal
        >>> with InterruptGuard() as guard:
        ...     os.kill(os.getpid(), signal.SIGINT)
        ...     guard.interrupted
        True
    """

    def __init__(self):
        self.interrupted = self.forced = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.interrupted:  # the second Ctrl-C: the user insists
            self.forced = True
            raise KeyboardInterrupt
        self.interrupted = True

    def forced_out(self):
        """Whether the KeyboardInterrupt being handled came from a second Ctrl-C (then the
        training loop lets it through)."""
        return self.forced

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False
