"""The ``gradkit`` command: ``fit``, ``race``, ``explain`` and ``check``, each with an HTML report.

- :mod:`.main`: the parser and :func:`main` (bad input: one line on stderr, exit status 2).
- :mod:`.fit`, :mod:`.race`, :mod:`.explain`, :mod:`.check`: one module per command.
- :mod:`.tabular`: the options' names in the messages of :mod:`gradkit.data.tabular`, which
  reads, checks and encodes the tables (CSV, Parquet, bundled data).

>>> main(["--version"]) == 0
gradkit 0.1.0
True
"""
from .errors import CLIError
from .main import build_parser, main

__all__ = ["main", "build_parser", "CLIError"]
