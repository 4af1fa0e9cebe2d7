"""The command line's names for the table options: how gradkit.data.tabular's messages say them.

Reading and encoding tables is :mod:`gradkit.data.tabular`; its errors and notes name the
argument that fixes a problem through a :class:`~gradkit.data.tabular.Spelling`, and the
commands pass :data:`SPELLING`, so a message says ``--dropna`` where Python would say
``dropna=True``. A :class:`~gradkit.data.tabular.TableError` becomes one line on stderr and
exit status 2, as a :class:`~gradkit.cli.CLIError` does (:func:`gradkit.cli.main`).

>>> SPELLING.impute.format("mean"), SPELLING.drop.format("'id'")
('--impute mean', "--drop 'id'")
"""
from __future__ import annotations

from gradkit.data.tabular import Spelling

__all__ = ["SPELLING"]

#: The options of ``gradkit fit`` / ``explain`` / ``race`` as the messages name them.
SPELLING = Spelling(dropna="--dropna", impute="--impute {}", drop="--drop {}",
                    target="--target", task="--task {}", max_categories="--max-categories {}",
                    record="gradkit fit --save")
