"""Errors a person can act on: one home for the project's user-facing exception classes.

An :class:`InputError` means the inputs or the request are wrong, not the code: the command
line (``retail_forecasting.cli``) prints its message as one short block, without a traceback,
and keeps the traceback in ``logs/run_errors.log``. Its message says what is wrong, where
(file, line, column), example values and what to do.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input or a refused request: the message is complete and actionable."""


class RawDataError(InputError):
    """A raw input file breaks the Kaggle schema or the project's data contract."""


class LoadRefused(InputError):
    """A warehouse load would lose data by surprise; nothing was written."""


class RunLocked(InputError):
    """Another run holds the project's (or the warehouse's) lock."""
